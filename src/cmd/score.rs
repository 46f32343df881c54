//! `callqa score`: saved transcripts → calls, hits and scorecards tables + report
//! (the scoring stage is `crate::scoring`). Holds the output folder alone:
//! it waits for no shard worker, and none starts while it writes.

use crate::cli::ScoreArgs;
use crate::cmd::{load_lexicons_showing, BatchSummary, Console, Outcome};
use crate::files::{lock_folder, LockMode};
use crate::i18n::Lang;
use crate::scoring::{score_archive_indexing, SearchIndexing};
use crate::store::{OutDir, TranscriptArchive};

pub fn run(args: ScoreArgs, lang: Option<Lang>) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let pack = load_lexicons_showing(args.lexicons.lexicons.as_deref(), lang, args.show_pii)?;
    let console = Console::new(&args.output, pack.language);
    let out = OutDir::new(&args.out);
    if !out.root().is_dir() {
        anyhow::bail!(
            "{}: no such output folder (run `callqa run` first)",
            out.root().display()
        );
    }
    let _lock = lock_folder(out.root(), LockMode::Exclusive, "callqa score")?;
    let indexing = if args.no_index {
        SearchIndexing::Skip
    } else {
        SearchIndexing::Keep
    };
    let scored = score_archive_indexing(&out, &TranscriptArchive::open(&out)?, &pack, indexing)?;
    console.summary(&BatchSummary::new("score", &out, started.elapsed().as_secs_f64()).with_scores(&scored));
    Ok(if scored.failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

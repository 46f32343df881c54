//! `callqa score`: saved transcripts → calls, hits and scorecards tables + report
//! (the scoring stage is `crate::scoring`).

use crate::cli::ScoreArgs;
use crate::cmd::{load_lexicons, Outcome};
use crate::scoring::{score_folder, ScoreSummary};
use crate::store::OutDir;

pub fn run(args: ScoreArgs) -> anyhow::Result<Outcome> {
    let pack = load_lexicons(args.lexicons.lexicons.as_deref())?;
    let out = OutDir::new(&args.out);
    let summary = score_folder(&out, &pack)?;
    print_summary(&out, &summary);
    Ok(if summary.failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

pub fn print_summary(out: &OutDir, s: &ScoreSummary) {
    eprintln!(
        "scored {} calls: {} passed, {} below the pass mark, {} failed; {} phrase hits.\n\
         tables: {}, {}, {}; report: {}",
        s.calls,
        s.passed,
        s.calls - s.passed - s.failed,
        s.failed,
        s.hits,
        out.calls_table().display(),
        out.hits_table().display(),
        out.scorecards_table().display(),
        out.report().display()
    );
}

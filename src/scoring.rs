//! The scoring stage: an output folder's saved transcripts and open
//! failures → verdicts → the three tables, the scorecards and the report.
//! Never touches audio or the model, so a new lexicon pack re-scores a night
//! in seconds.
//!
//! The archive is streamed: transcripts are read, matched and judged a batch
//! at a time, each batch is written out as one Parquet row group, and only
//! running totals stay (per agent-day, plus the report's bounded lists). Peak
//! memory does not grow with the number of calls, apart from the list of
//! transcript file names.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use crate::input::FailedItem;
use crate::lexicon::{Hit, Matcher, Pack};
use crate::privacy::Redactor;
use crate::report::{NightReport, Report};
use crate::rules::{judge, CallResult, ScorecardBook};
use crate::store::{open_failures, write_atomic, write_failure_list, HitRow, OutDir, TableWriter, TranscriptArchive};
use crate::transcript::Transcript;

/// Calls read, judged and written together: one row group of the tables.
const BATCH: usize = 4096;
/// Threads reading transcript files ahead of the judging.
const READERS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    pub calls: usize,
    pub failed: usize,
    pub passed: usize,
    pub hits: usize,
    /// The report of the folder, as written.
    pub report: Report,
}

/// Scores every transcript of the archive under `<out>/transcripts` (calls of
/// earlier runs stay in it) plus the calls whose latest attempt failed, and
/// writes the tables, scorecards.json, failures.json and the report. Each
/// file appears complete or not at all.
pub fn score_folder(out: &OutDir, pack: &Pack) -> anyhow::Result<ScoreSummary> {
    score_archive(out, &TranscriptArchive::open(out)?, pack)
}

/// [`score_folder`] with the archive already listed (by a caller that looked at it first).
pub fn score_archive(out: &OutDir, archive: &TranscriptArchive, pack: &Pack) -> anyhow::Result<ScoreSummary> {
    // failures/ holds the calls whose latest attempt failed (a success takes
    // a call off it): a transcript of such a call is from older audio or an
    // older model, and is not scored.
    let failures = open_failures(out)?;
    // (an input problem is not a call's attempt: a duplicate row leaves the call's transcript be)
    let failed_ids: HashSet<&str> = failures.iter().filter(|f| !f.input).map(FailedItem::key).collect();
    let mut paths = archive.paths();
    // Files are read ahead by a pool of their own: on a large archive that
    // does not fit the page cache, two CPU threads waiting on one read each
    // would leave the disk idle most of the time.
    let io_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(READERS)
        .build()
        .context("starting reader threads")?;
    let mut read_batch = || -> anyhow::Result<Vec<ReadFile>> {
        let batch: Vec<PathBuf> = paths.by_ref().take(BATCH).collect::<anyhow::Result<_>>()?;
        Ok(io_pool.install(|| {
            batch
                .into_par_iter()
                .map(|path| {
                    let bytes = std::fs::read(&path);
                    (path, bytes)
                })
                .collect()
        }))
    };
    let matcher = Matcher::new(pack);
    let redactor = pack.privacy.redact.then(|| Redactor::new(&pack.privacy));
    let mut tables = TableWriter::create(out)?;
    let mut cards = ScorecardBook::by_agent_and_day();
    let mut report = NightReport::new(pack.rubric.pass_mark).showing_personal_data(!pack.privacy.redact);
    let mut hit_count = 0;
    let mut absorb =
        |(calls, hits): (Vec<CallResult>, Vec<Vec<Hit>>), tables: &mut TableWriter| -> anyhow::Result<()> {
            let rows: Vec<HitRow> = calls
                .iter()
                .zip(&hits)
                .flat_map(|(call, hits)| {
                    hits.iter().map(move |hit| HitRow {
                        call_id: &call.call_id,
                        agent_id: call.agent_id.as_deref().unwrap_or_default(),
                        call_date: call.call_date(),
                        hit,
                    })
                })
                .collect();
            hit_count += rows.len();
            tables.write_batch(&calls, &rows)?;
            for (call, hits) in calls.iter().zip(&hits) {
                cards.add(call);
                report.add(call, hits);
            }
            Ok(())
        };
    let score_batch = |batch: Vec<ReadFile>| -> (Vec<CallResult>, Vec<Vec<Hit>>) {
        batch
            .into_par_iter()
            .map(|(path, bytes)| score_transcript(&path, bytes, &matcher, pack, redactor.as_ref()))
            .filter(|(call, _)| !failed_ids.contains(call.call_id.as_str()))
            .unzip()
    };
    // one batch is written while the next is read and judged
    // three batches in flight: one read, one judged, one written
    let mut pending = score_batch(read_batch()?);
    let mut next = read_batch()?;
    loop {
        let last = next.is_empty();
        let ((written, scored), read) = std::thread::scope(|scope| {
            let reader = scope.spawn(|| if last { Ok(Vec::new()) } else { read_batch() });
            let cpu = rayon::join(|| absorb(pending, &mut tables), || score_batch(next));
            (cpu, reader.join().expect("the reader does not panic"))
        });
        written?;
        if last {
            break;
        }
        pending = scored;
        next = read?;
    }
    let unprocessed = failures
        .iter()
        .map(|f| {
            let call = CallResult {
                call_id: f.key().to_string(),
                agent_id: f.agent_id.clone(),
                started_at: f.started_at.clone(),
                audio_path: f.audio_path.clone(),
                duration_s: None,
                extra: f.extra.clone(),
                evaluation: Err(format!("{}: {}", f.location, f.reason)),
                personal_data_s: None,
            };
            (call, Vec::new())
        })
        .unzip();
    absorb(unprocessed, &mut tables)?;

    let cards = cards.finish();
    tables.finish(&cards)?;
    let report = report.finish();
    let write =
        |path: PathBuf, bytes: &[u8]| write_atomic(&path, bytes).with_context(|| format!("writing {}", path.display()));
    write(out.report(), report.markdown().as_bytes())?;
    write(
        out.report_data(),
        &serde_json::to_vec(&report).expect("the report serialises"),
    )?;
    write(
        out.report_html(),
        crate::report::page_of_folder(&report, out.root())?.as_bytes(),
    )?;
    write(
        out.scorecards_json(),
        &serde_json::to_vec_pretty(&cards).expect("scorecards serialise"),
    )?;
    write_failure_list(out, &failures).with_context(|| format!("writing {}", out.failures().display()))?;
    Ok(ScoreSummary {
        calls: report.totals.calls,
        failed: report.totals.unprocessed,
        passed: report.totals.passed,
        hits: hit_count,
        report,
    })
}

/// A transcript file's path and its bytes (or why they could not be read).
type ReadFile = (PathBuf, std::io::Result<Vec<u8>>);

fn score_transcript(
    path: &Path,
    bytes: std::io::Result<Vec<u8>>,
    matcher: &Matcher,
    pack: &Pack,
    redactor: Option<&Redactor>,
) -> (CallResult, Vec<Hit>) {
    match Transcript::from_file_bytes(path, bytes) {
        Ok(t) => {
            // matched and judged on the raw text; only what people read is redacted
            let (evaluation, mut hits) = judge(&t, matcher, pack);
            if let Some(redactor) = redactor {
                for hit in &mut hits {
                    if let std::borrow::Cow::Owned(redacted) = redactor.redact(&hit.context) {
                        hit.context = redacted;
                    }
                }
            }
            let personal_data_s = redactor.map(|r| r.times(&t.segments));
            let call = CallResult {
                call_id: t.call_id,
                agent_id: Some(t.agent_id),
                started_at: t.started_at,
                audio_path: Some(t.audio_path),
                duration_s: Some(t.duration_s),
                extra: t.extra,
                evaluation: Ok(evaluation),
                personal_data_s,
            };
            (call, hits)
        }
        // a corrupt transcript is a failed row naming the file, never a lost call
        Err(e) => (
            CallResult {
                call_id: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                agent_id: None,
                started_at: None,
                audio_path: None,
                duration_s: None,
                extra: Default::default(),
                evaluation: Err(e.to_string()),
                personal_data_s: None,
            },
            Vec::new(),
        ),
    }
}

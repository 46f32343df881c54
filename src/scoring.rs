//! The scoring stage: an output folder's saved transcripts and open
//! failures → verdicts → the three tables, the scorecards and the report.
//! Never touches audio or the model, so a new lexicon pack re-scores a night
//! in seconds.

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;

use crate::input::FailedItem;
use crate::lexicon::{Hit, Matcher, Pack};
use crate::report::text_report;
use crate::rules::{evaluate, scorecards, CallResult};
use crate::store::{write_atomic, write_tables, HitRow, OutDir};
use crate::transcript::Transcript;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreSummary {
    pub calls: usize,
    pub failed: usize,
    pub passed: usize,
    pub hits: usize,
}

/// Scores every transcript under `<out>/transcripts` (the folder is an
/// archive: calls of earlier runs stay in it) plus the calls whose latest
/// attempt failed, and writes the tables and the report.
pub fn score_folder(out: &OutDir, pack: &Pack) -> anyhow::Result<ScoreSummary> {
    let transcript_dir = out.transcripts_dir();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&transcript_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("listing {}", transcript_dir.display())),
    };
    paths.sort();
    let matcher = Matcher::new(pack);
    // failures.json holds the calls whose latest attempt failed (a success
    // takes a call off it): a transcript of such a call is from older audio
    // or an older model, and is not scored.
    let failures = read_failures(out)?;
    let failed_ids: std::collections::HashSet<&str> = failures.iter().map(FailedItem::key).collect();
    let scored: Vec<(CallResult, Vec<Hit>)> = paths
        .par_iter()
        .map(|p| score_transcript(p, &matcher, pack))
        .filter(|(call, _)| !failed_ids.contains(call.call_id.as_str()))
        .collect();
    let (mut calls, mut hits): (Vec<CallResult>, Vec<Vec<Hit>>) = scored.into_iter().unzip();
    for f in failures {
        calls.push(CallResult {
            call_id: f.key().to_string(),
            agent_id: f.agent_id,
            started_at: f.started_at,
            audio_path: f.audio_path,
            duration_s: None,
            extra: f.extra,
            evaluation: Err(format!("{}: {}", f.location, f.reason)),
        });
        hits.push(Vec::new());
    }
    let hit_rows: Vec<HitRow> = calls
        .iter()
        .zip(&hits)
        .flat_map(|(call, call_hits)| {
            call_hits.iter().map(move |hit| HitRow {
                call_id: &call.call_id,
                agent_id: call.agent_id.as_deref().unwrap_or_default(),
                call_date: call.call_date(),
                hit,
            })
        })
        .collect();
    let cards = scorecards(&calls);
    write_tables(out, &calls, &hit_rows, &cards)?;
    let report = text_report(&calls, &hit_rows, &cards);
    write_atomic(&out.report(), report.as_bytes()).with_context(|| format!("writing {}", out.report().display()))?;
    let json = serde_json::to_vec_pretty(&cards).expect("scorecards serialise");
    write_atomic(&out.scorecards_json(), &json)
        .with_context(|| format!("writing {}", out.scorecards_json().display()))?;
    Ok(ScoreSummary {
        calls: calls.len(),
        failed: calls.iter().filter(|c| c.evaluation.is_err()).count(),
        passed: calls
            .iter()
            .filter(|c| c.evaluation.as_ref().is_ok_and(|e| e.passed))
            .count(),
        hits: hit_rows.len(),
    })
}

fn score_transcript(path: &std::path::Path, matcher: &Matcher, pack: &Pack) -> (CallResult, Vec<Hit>) {
    match Transcript::read(path) {
        Ok(t) => {
            let hits = matcher.find(&t);
            let evaluation = evaluate(&t, &hits, pack);
            let call = CallResult {
                call_id: t.call_id,
                agent_id: Some(t.agent_id),
                started_at: t.started_at,
                audio_path: Some(t.audio_path),
                duration_s: Some(t.duration_s),
                extra: t.extra,
                evaluation: Ok(evaluation),
            };
            (call, hits)
        }
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
            },
            Vec::new(),
        ),
    }
}

/// The failures of earlier runs that are still open (see [`score_folder`]).
pub fn read_failures(out: &OutDir) -> anyhow::Result<Vec<FailedItem>> {
    let path = out.failures();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

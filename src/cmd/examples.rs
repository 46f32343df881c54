//! `callqa examples`: audio clips of the bad moments found by the last scoring,
//! with an index a trainer can open in a spreadsheet.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use polars::prelude::*;

use crate::cli::ExamplesArgs;
use crate::cmd::Outcome;
use crate::lexicon::{Hit, MatchKind, Role};
use crate::report::cut_clips;
use crate::transcript::Speaker;

pub fn run(args: ExamplesArgs) -> anyhow::Result<Outcome> {
    let hits_path = args.out.join("hits.parquet");
    let calls_path = args.out.join("calls.parquet");
    let read = |path: &PathBuf| -> anyhow::Result<DataFrame> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("opening {} (run `callqa run` first)", path.display()))?;
        ParquetReader::new(file)
            .finish()
            .map_err(anyhow::Error::from)
            .with_context(|| format!("reading {}", path.display()))
    };
    let hits = read(&hits_path)?;
    let calls = read(&calls_path)?;
    let audio_of: BTreeMap<String, PathBuf> = {
        let ids = calls.column("call_id")?.str()?;
        let paths = calls.column("audio_path")?.str()?;
        (0..ids.len())
            .filter_map(|i| Some((ids.get(i)?.to_string(), PathBuf::from(paths.get(i)?))))
            .collect()
    };
    let text = |name: &str| -> anyhow::Result<Vec<String>> {
        let column = hits.column(name)?.str()?;
        Ok((0..column.len())
            .map(|i| column.get(i).unwrap_or_default().to_string())
            .collect())
    };
    let float = |name: &str| -> anyhow::Result<Vec<f64>> {
        let column = hits.column(name)?.f64()?;
        Ok((0..column.len()).map(|i| column.get(i).unwrap_or(0.0)).collect())
    };
    let (call_ids, agent_ids, categories, phrase_ids) = (
        text("call_id")?,
        text("agent_id")?,
        text("category")?,
        text("phrase_id")?,
    );
    let (phrases, matched, speakers, kinds, contexts) = (
        text("phrase")?,
        text("matched_text")?,
        text("speaker")?,
        text("match")?,
        text("context")?,
    );
    let (starts, ends) = (float("start_s")?, float("end_s")?);

    let mut by_call: BTreeMap<String, Vec<(usize, Hit)>> = BTreeMap::new();
    for i in 0..call_ids.len() {
        if !args.categories.contains(&categories[i]) || speakers[i] == "customer" {
            continue;
        }
        let hit = Hit {
            category: categories[i].clone(),
            role: Role::parse(&categories[i]).unwrap_or(Role::Watch),
            phrase_id: phrase_ids[i].clone(),
            phrase: phrases[i].clone(),
            matched_text: matched[i].clone(),
            speaker: if speakers[i] == "agent" {
                Speaker::Agent
            } else {
                Speaker::Unknown
            },
            start_s: starts[i],
            end_s: ends[i],
            kind: if kinds[i] == "tolerant" {
                MatchKind::Tolerant
            } else {
                MatchKind::Exact
            },
            context: contexts[i].clone(),
        };
        by_call.entry(call_ids[i].clone()).or_default().push((i, hit));
    }
    let dir = args.out.join("examples");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut index = csv::Writer::from_writer(Vec::new());
    index.write_record([
        "call_id",
        "agent_id",
        "category",
        "phrase_id",
        "matched_text",
        "start_s",
        "end_s",
        "context",
        "clip",
    ])?;
    let mut failed = 0;
    let mut clips = 0;
    for (call_id, call_hits) in &by_call {
        let Some(audio) = audio_of.get(call_id) else { continue };
        let refs: Vec<&Hit> = call_hits.iter().map(|(_, h)| h).collect();
        match cut_clips(audio, call_id, &refs, args.context_s, &dir) {
            Ok(paths) => {
                for ((i, hit), path) in call_hits.iter().zip(paths) {
                    clips += 1;
                    index.write_record([
                        call_id.as_str(),
                        agent_ids[*i].as_str(),
                        hit.category.as_str(),
                        hit.phrase_id.as_str(),
                        hit.matched_text.as_str(),
                        &format!("{:.2}", hit.start_s),
                        &format!("{:.2}", hit.end_s),
                        hit.context.as_str(),
                        &path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ])?;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{call_id}: no clips: {e}");
            }
        }
    }
    let bytes = index.into_inner().context("writing the clip index")?;
    crate::store::write_atomic(&dir.join("index.csv"), &bytes)?;
    eprintln!("{clips} clips in {} (index: index.csv)", dir.display());
    Ok(if failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

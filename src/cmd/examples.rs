//! `callqa examples`: audio clips of the bad moments found by the last scoring,
//! with an index a trainer can open in a spreadsheet.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::cli::ExamplesArgs;
use crate::cmd::Outcome;
use crate::report::{cut_clips, Moment};
use crate::store::{read_audio_paths, read_hits, HitRecord, OutDir};
use crate::transcript::Speaker;

pub fn run(args: ExamplesArgs) -> anyhow::Result<Outcome> {
    let out = OutDir::new(&args.out);
    let audio_of = read_audio_paths(&out)?;
    let mut by_call: BTreeMap<String, Vec<HitRecord>> = BTreeMap::new();
    for hit in read_hits(&out)? {
        // the customer's words are never an agent's bad moment
        if args.categories.contains(&hit.category) && hit.speaker != Speaker::Customer {
            by_call.entry(hit.call_id.clone()).or_default().push(hit);
        }
    }
    let dir = out.root().join("examples");
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
        let moments: Vec<Moment> = call_hits
            .iter()
            .map(|h| Moment {
                start_s: h.start_s,
                end_s: h.end_s,
                label: &h.phrase_id,
            })
            .collect();
        match cut_clips(audio, call_id, &moments, args.context_s, &dir) {
            Ok(paths) => {
                for (hit, path) in call_hits.iter().zip(paths) {
                    clips += 1;
                    index.write_record([
                        call_id.as_str(),
                        hit.agent_id.as_str(),
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

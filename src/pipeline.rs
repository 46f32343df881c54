//! A batch of calls → transcripts on disk, in parallel, resumable.
//!
//! Each call's transcript is written atomically as soon as it is done, so a
//! killed run loses at most the calls in flight. A rerun hashes each audio
//! file and reuses the saved transcript when audio, model and decoding
//! settings are unchanged (identity fields from the manifest are refreshed
//! without re-transcribing). A bad call becomes a [`FailedItem`] with its
//! reason; the batch goes on.

use std::time::Instant;

use rayon::prelude::*;

use crate::asr::Engine;
use crate::audio::{decode_file_bytes, speaker_tracks};
use crate::input::{CallSpec, FailedItem};
use crate::store::OutDir;
use crate::transcript::{Fingerprint, Transcript};

/// How one call went.
#[derive(Debug)]
pub struct CallOutcome {
    pub call_id: String,
    pub result: Result<Transcribed, FailedItem>,
}

#[derive(Debug)]
pub struct Transcribed {
    pub transcript: Transcript,
    /// The saved transcript was reused.
    pub reused: bool,
    pub elapsed_s: f64,
}

/// Transcribes `calls` into the output folder's transcripts on the current rayon pool,
/// calling `on_done` as each call finishes (for progress).
pub fn transcribe_batch(
    engine: &Engine,
    model_blake3: &str,
    calls: &[CallSpec],
    out: &OutDir,
    force: bool,
    on_done: &(dyn Fn(&CallOutcome) + Sync),
) -> Vec<CallOutcome> {
    calls
        .par_iter()
        .map(|spec| {
            let started = Instant::now();
            let result = transcribe_call(engine, model_blake3, spec, out, force)
                .map(|(transcript, reused)| Transcribed {
                    transcript,
                    reused,
                    elapsed_s: started.elapsed().as_secs_f64(),
                })
                .map_err(|reason| FailedItem::of_call(spec, spec.audio_path.display().to_string(), reason));
            let outcome = CallOutcome {
                call_id: spec.call_id.clone(),
                result,
            };
            on_done(&outcome);
            outcome
        })
        .collect()
}

fn transcribe_call(
    engine: &Engine,
    model_blake3: &str,
    spec: &CallSpec,
    out: &OutDir,
    force: bool,
) -> Result<(Transcript, bool), String> {
    let bytes =
        std::fs::read(&spec.audio_path).map_err(|e| format!("{}: cannot read: {e}", spec.audio_path.display()))?;
    let fingerprint = Fingerprint {
        audio_blake3: blake3::hash(&bytes).to_hex().to_string(),
        model_blake3: model_blake3.to_string(),
        settings: format!("{}:{:?}", engine.fingerprint(), spec.agent_channel),
    };
    let path = out.transcript(&spec.call_id);
    if !force {
        if let Ok(mut saved) = Transcript::read(&path) {
            if saved.fingerprint == fingerprint {
                let before = saved.clone();
                saved.agent_id.clone_from(&spec.agent_id);
                saved.audio_path.clone_from(&spec.audio_path);
                saved.started_at.clone_from(&spec.started_at);
                saved.extra.clone_from(&spec.extra);
                if saved != before {
                    saved.write(&path).map_err(|e| e.to_string())?;
                }
                return Ok((saved, true));
            }
        }
    }
    let audio = decode_file_bytes(bytes, &spec.audio_path).map_err(|e| e.to_string())?;
    let tracks = speaker_tracks(&audio, spec.agent_channel).map_err(|e| e.to_string())?;
    let per_track: Vec<Vec<crate::transcript::Segment>> = tracks
        .par_iter()
        .map(|track| engine.transcribe(track))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", spec.audio_path.display()))?;
    let mut segments: Vec<_> = per_track.into_iter().flatten().collect();
    segments.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.speaker.cmp(&b.speaker)));
    let transcript = Transcript {
        call_id: spec.call_id.clone(),
        agent_id: spec.agent_id.clone(),
        audio_path: spec.audio_path.clone(),
        started_at: spec.started_at.clone(),
        duration_s: audio.duration_s(),
        agent_channel: spec.agent_channel,
        channels: audio.channels.len() as u16,
        segments,
        extra: spec.extra.clone(),
        fingerprint,
    };
    transcript.write(&path).map_err(|e| e.to_string())?;
    Ok((transcript, false))
}

//! A batch of calls → transcripts on disk, in parallel, resumable.
//!
//! Each call's transcript is written atomically as soon as it is done, so a
//! killed run loses at most the calls in flight. A rerun hashes each audio
//! file and reuses the saved transcript when audio, model and decoding
//! settings are unchanged (identity fields from the manifest are refreshed
//! without re-transcribing). A bad call becomes a [`FailedItem`] with its
//! reason, noted in the folder's `failures/`; the batch goes on. Only an
//! output folder that cannot take more (a full disk) stops the batch: every
//! call after would fail the same way.

use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::asr::{Engine, PhraseProposer};
use crate::audio::{decode_file_bytes, print_voices, speaker_tracks, DecodedAudio, SpeakerTrack, VOICE_PRINTS};
use crate::input::{CallSpec, FailedItem};
use crate::lexicon::Matcher;
use crate::store::{clear_failure, record_failure, OutDir};
use crate::transcript::{Fingerprint, Proposal, Speaker, Transcript};

/// How one call went.
#[derive(Debug)]
pub struct CallOutcome {
    /// The call.
    pub call_id: String,
    /// Its transcript, or why there is none.
    pub result: Result<Transcribed, FailedItem>,
}

/// Why a call went wrong: its own input, or the output folder.
#[derive(Debug)]
enum CallError {
    /// The call's audio (or the engine on it): the call fails, the batch goes on.
    Call(String),
    /// Writing to the output folder: the batch stops.
    Output(std::io::Error, std::path::PathBuf),
}

impl CallError {
    fn output(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> CallError + '_ {
        move |e| CallError::Output(e, path.to_path_buf())
    }
}

/// Whether an output error is the folder's own (full, over quota, read-only,
/// not ours to write): every later write would fail too, so the batch stops.
/// Any other (a name the file system refuses, say) is about one call.
fn stops_the_batch(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        StorageFull | QuotaExceeded | FileTooLarge | ReadOnlyFilesystem | PermissionDenied
    )
}

/// What to do about an output folder that stopped the batch.
fn output_advice(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.kind() {
        StorageFull | QuotaExceeded | FileTooLarge => "Free space (or raise the file size limit)",
        ReadOnlyFilesystem => "Mount the folder writable",
        _ => "Give this user write access to the folder",
    }
}

/// The batch stopped because the output folder could not take a file.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path}: {source}: the batch stopped ({done} calls finished are kept and reused by the next run; \
         {not_attempted} not attempted). {}, then run again",
    output_advice(source)
)]
pub struct OutputFull {
    /// Where writing failed.
    pub path: std::path::PathBuf,
    /// What the system said.
    pub source: std::io::Error,
    /// Calls finished before it, kept.
    pub done: usize,
    /// Calls not attempted.
    pub not_attempted: usize,
}

/// A call's transcript, heard or reused.
#[derive(Debug)]
pub struct Transcribed {
    /// The transcript, as saved.
    pub transcript: Transcript,
    /// The saved transcript was reused.
    pub reused: bool,
    /// Seconds it took (0 for a reused one).
    pub elapsed_s: f64,
}

/// The lexicon's near-candidate search, as the engine asks for it.
struct LexiconProposer<'a>(&'a Matcher);

impl PhraseProposer for LexiconProposer<'_> {
    fn propose(&self, speaker: Speaker, clauses: &[&str]) -> Vec<Proposal> {
        self.0.near_candidates(speaker, clauses)
    }
}

/// Transcribes `calls` into the output folder's transcripts on the current rayon pool,
/// calling `on_done` as each call finishes (for progress). Each call's
/// failure is noted in `failures/`, and a success clears an older note.
/// With `verify`, the phrases its pack nearly finds in a chunk are checked
/// against the chunk's audio (`asr::verify`), and the transcript carries the checks.
pub fn transcribe_batch(
    engine: &Engine,
    model_blake3: &str,
    calls: &[CallSpec],
    out: &OutDir,
    force: bool,
    verify: Option<&Matcher>,
    on_done: &(dyn Fn(&CallOutcome) + Sync),
) -> Result<Vec<CallOutcome>, OutputFull> {
    // where a call whose day was corrected since its transcript was written finds it
    let day_folders = out.day_folders().map_err(|source| OutputFull {
        path: out.transcripts_dir(),
        source,
        done: 0,
        not_attempted: calls.len(),
    })?;
    // The first file the folder could not take; once set, no call starts.
    let full: Mutex<Option<(std::io::Error, std::path::PathBuf)>> = Default::default();
    let full_now = || full.lock().unwrap_or_else(|p| p.into_inner());
    let stop_batch = |e, path| {
        full_now().get_or_insert((e, path));
    };
    let outcomes: Vec<CallOutcome> = calls
        .par_iter()
        .filter_map(|spec| {
            if full_now().is_some() {
                return None;
            }
            let started = Instant::now();
            let result = transcribe_call(engine, model_blake3, spec, out, &day_folders, force, verify).and_then(
                |(transcript, reused)| {
                    clear_failure(out, &spec.call_id).map_err(CallError::output(&out.failure(&spec.call_id)))?;
                    Ok(Transcribed {
                        transcript,
                        reused,
                        elapsed_s: started.elapsed().as_secs_f64(),
                    })
                },
            );
            let result = match result {
                Ok(done) => Ok(done),
                Err(CallError::Call(reason)) => {
                    let failed = FailedItem::of_call(spec, spec.audio_path.display().to_string(), reason);
                    if let Err(e) = record_failure(out, &failed) {
                        stop_batch(e, out.failure(failed.key()));
                    }
                    Err(failed)
                }
                Err(CallError::Output(e, path)) if stops_the_batch(&e) => {
                    stop_batch(e, path);
                    return None;
                }
                Err(CallError::Output(e, path)) => {
                    // about this call's file only: the call fails, the night goes on
                    let reason = format!("{}: {e}", path.display());
                    let failed = FailedItem::of_call(spec, spec.audio_path.display().to_string(), reason);
                    if let Err(e) = record_failure(out, &failed) {
                        if stops_the_batch(&e) {
                            stop_batch(e, out.failure(failed.key()));
                        }
                    }
                    Err(failed)
                }
            };
            let outcome = CallOutcome {
                call_id: spec.call_id.clone(),
                result,
            };
            on_done(&outcome);
            Some(outcome)
        })
        .collect();
    match full.into_inner().unwrap_or_else(|p| p.into_inner()) {
        None => Ok(outcomes),
        Some((source, path)) => Err(OutputFull {
            path,
            source,
            done: outcomes.iter().filter(|o| o.result.is_ok()).count(),
            not_attempted: calls.len() - outcomes.len(),
        }),
    }
}

fn transcribe_call(
    engine: &Engine,
    model_blake3: &str,
    spec: &CallSpec,
    out: &OutDir,
    day_folders: &[std::path::PathBuf],
    force: bool,
    verify: Option<&Matcher>,
) -> Result<(Transcript, bool), CallError> {
    let bytes = std::fs::read(&spec.audio_path)
        .map_err(|e| CallError::Call(format!("{}: cannot read: {e}", spec.audio_path.display())))?;
    let fingerprint = Fingerprint {
        audio_blake3: blake3::hash(&bytes).to_hex().to_string(),
        model_blake3: model_blake3.to_string(),
        // the checks depend on the phrases listened for: another pack's phrases, another transcript
        settings: format!(
            "{}:{:?}:{}",
            engine.fingerprint(),
            spec.agent_channel,
            verify.map_or_else(|| "unverified".to_string(), Matcher::near_fingerprint)
        ),
    };
    let path = out.transcript(&spec.call_id, spec.started_at.as_deref());
    // Elsewhere in the archive: under another day when the call's date was
    // corrected since, or in the flat folder of older versions. Found there,
    // the transcript is moved (reused when it still fits), never left behind.
    let elsewhere: Vec<std::path::PathBuf> = if path.is_file() {
        Vec::new()
    } else {
        let name = Transcript::file_name(&spec.call_id);
        std::iter::once(out.flat_transcript(&spec.call_id))
            .chain(day_folders.iter().map(|day| day.join(&name)))
            .filter(|p| *p != path && p.is_file())
            .collect()
    };
    let save = |transcript: &Transcript| -> Result<(), CallError> {
        transcript.write(&path).map_err(|e| match e {
            crate::transcript::TranscriptError::Io { path, source } => CallError::Output(source, path),
            other => CallError::Call(other.to_string()),
        })?;
        for old in &elsewhere {
            match std::fs::remove_file(old) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(CallError::Output(e, old.clone())),
                _ => {}
            }
        }
        Ok(())
    };
    if !force {
        for found in std::iter::once(&path).chain(&elsewhere) {
            let Ok(mut saved) = Transcript::read(found) else {
                continue;
            };
            if saved.fingerprint != fingerprint {
                continue;
            }
            let before = saved.clone();
            saved.agent_id.clone_from(&spec.agent_id);
            saved.audio_path.clone_from(&spec.audio_path);
            saved.started_at.clone_from(&spec.started_at);
            saved.extra.clone_from(&spec.extra);
            if saved.voice_prints.as_deref() != Some(VOICE_PRINTS) {
                // printed by an older method, or never: print from the audio, not transcribed again
                let (_, tracks) = decode(bytes, spec)?;
                for track in &tracks {
                    print_voices(track, &mut saved.segments);
                }
                saved.voice_prints = Some(VOICE_PRINTS.to_string());
            }
            if saved != before || found != &path {
                save(&saved)?;
            }
            return Ok((saved, true));
        }
    }
    let (audio, tracks) = decode(bytes, spec)?;
    let proposer = verify.map(LexiconProposer);
    let per_track: Vec<Vec<crate::transcript::Segment>> = tracks
        .par_iter()
        .map(|track| {
            let mut segments = engine.transcribe(track, proposer.as_ref().map(|p| p as &dyn PhraseProposer))?;
            print_voices(track, &mut segments);
            Ok(segments)
        })
        .collect::<Result<_, crate::asr::AsrError>>()
        .map_err(|e| CallError::Call(format!("{}: {e}", spec.audio_path.display())))?;
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
        voice_prints: Some(VOICE_PRINTS.to_string()),
    };
    save(&transcript)?;
    Ok((transcript, false))
}

/// The call's audio, and its speakers' tracks at 16 kHz.
fn decode(bytes: Vec<u8>, spec: &CallSpec) -> Result<(DecodedAudio, Vec<SpeakerTrack>), CallError> {
    let audio = decode_file_bytes(bytes, &spec.audio_path).map_err(|e| CallError::Call(e.to_string()))?;
    let tracks = speaker_tracks(&audio, spec.agent_channel).map_err(|e| CallError::Call(e.to_string()))?;
    Ok((audio, tracks))
}

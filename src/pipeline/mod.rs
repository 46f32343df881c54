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

mod prompts;

use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::asr::{Engine, PhraseProposer};
use crate::audio::landmarks::PromptLibrary;
use crate::audio::plan::{plan_track, TrackPlan};
use crate::audio::voice_vector::{print_track_voices, VoiceEncoder};
use crate::audio::{decode_file_within, speaker_tracks, voice_prints_stamp, AudioError, SpeakerTrack};
use crate::input::{CallSpec, FailedItem};
use crate::isolate::{in_stage, isolated, CallTag, Panicked, Stage};
use crate::lexicon::Matcher;
use crate::store::{clear_failure, read_failure, record_failure, OutDir};
use crate::transcript::{Fingerprint, Proposal, SoundSpan, Speaker, Transcript, WordlessVoice};
pub use prompts::{fill_prompt_texts, learn_prompts, MIN_CALLS as PROMPT_MIN_CALLS};

/// How one call went.
#[derive(Debug)]
pub struct CallOutcome {
    /// The call.
    pub call_id: String,
    /// Its transcript, or why there is none.
    pub result: Result<Transcribed, FailedItem>,
    /// The failure is an earlier run's, kept: the same audio, model and
    /// settings failed then (`--retry-failed` tries again).
    pub failed_before: bool,
}

/// Why a call went wrong: its own input, or the output folder.
#[derive(Debug)]
enum CallError {
    /// The call's audio (or the engine on it), at a stage: the call fails, the batch goes on.
    Call(Stage, String),
    /// The same audio failed before, with the same model and settings: the
    /// earlier failure stands (`--retry-failed` tries again).
    FailedBefore(Box<FailedItem>),
    /// Writing to the output folder: the batch stops.
    Output(std::io::Error, std::path::PathBuf),
}

impl CallError {
    fn output(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> CallError + '_ {
        move |e| CallError::Output(e, path.to_path_buf())
    }

    /// The stage an audio error stopped at.
    fn audio(e: AudioError) -> CallError {
        let stage = match e {
            AudioError::Open { .. } | AudioError::EmptyFile { .. } | AudioError::Unsupported { .. } => Stage::Probe,
            AudioError::Resample { .. } => Stage::Resample,
            _ => Stage::Decode,
        };
        CallError::Call(stage, e.to_string())
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

/// How a batch treats its calls.
#[derive(Clone, Copy, Default)]
pub struct BatchOptions<'a> {
    /// Transcribe again even where a saved transcript fits.
    pub force: bool,
    /// Try again the calls whose unchanged audio failed before.
    pub retry_failed: bool,
    /// Check the phrases this pack nearly finds against the audio (`asr::verify`).
    pub verify: Option<&'a Matcher>,
    /// Refuse a recording longer than this (seconds): `[audio] max_call_minutes`.
    pub max_call_s: Option<f64>,
    /// The center's recorded prompts: a call's stretches that play one are
    /// transcribed as the system's (`audio::plan`).
    pub prompts: Option<&'a PromptLibrary>,
    /// The voice encoder, when installed: voice vectors for mono calls'
    /// speech and the agents' enrolment (`audio::voice_vector`).
    pub voices: Option<&'a VoiceEncoder>,
}

/// Transcribes `calls` into the output folder's transcripts on the current rayon pool,
/// calling `on_done` as each call finishes (for progress). Each call's
/// failure is noted in `failures/`, and a success clears an older note.
/// A call runs isolated (`isolate`): a panic in any of its stages fails that
/// call, naming the stage, and the batch goes on. A failure of the call's own
/// audio is kept with what the attempt was made of (audio, model, settings):
/// while they stay the same the next run does not try again, unless
/// `retry_failed` (or `force`) says to.
pub fn transcribe_batch(
    engine: &Engine,
    model_blake3: &str,
    calls: &[CallSpec],
    out: &OutDir,
    options: BatchOptions,
    workers: Workers,
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
    let process = |spec: &CallSpec| -> Option<CallOutcome> {
        if full_now().is_some() {
            return None;
        }
        let started = Instant::now();
        let panicked = |p: Panicked| CallError::Call(p.stage, p.to_string());
        let fingerprint = isolated(&spec.call_id, Stage::Probe, || {
            fingerprint_of(engine, model_blake3, spec, options)
        })
        .unwrap_or_else(|p| Err(panicked(p)));
        let (fingerprint, result) = match fingerprint {
            Ok(fingerprint) => {
                let call = Call {
                    spec,
                    fingerprint: &fingerprint,
                    out,
                    day_folders: &day_folders,
                    options,
                };
                let result = isolated(&spec.call_id, Stage::Probe, || transcribe_call(engine, &call))
                    .unwrap_or_else(|p| Err(panicked(p)));
                (Some(fingerprint), result)
            }
            Err(e) => (None, Err(e)),
        };
        let result = result.and_then(|(transcript, reused)| {
            clear_failure(out, &spec.call_id).map_err(CallError::output(&out.failure(&spec.call_id)))?;
            Ok(Transcribed {
                transcript,
                reused,
                elapsed_s: started.elapsed().as_secs_f64(),
            })
        });
        let location = || spec.audio_path.display().to_string();
        let failed_before = matches!(result, Err(CallError::FailedBefore(_)));
        let result = match result {
            Ok(done) => Ok(done),
            Err(CallError::FailedBefore(failed)) => Err(*failed),
            Err(CallError::Call(stage, reason)) => {
                let mut failed = FailedItem::of_call(spec, location(), reason).at_stage(stage.as_str());
                // what this attempt was made of, so an unchanged file is not retried every night
                failed.fingerprint = fingerprint;
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
                let failed = FailedItem::of_call(spec, location(), reason);
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
            failed_before,
        };
        on_done(&outcome);
        Some(outcome)
    };
    let outcomes = run_calls(calls, workers, &process);
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

/// Who does a batch's work: `calls_at_once` calls in flight, each run whole
/// on `pool` (its decoding, its chunks, its tracks), so the pool's threads are
/// all the batch computes on, whatever the number of calls in flight.
#[derive(Clone, Copy)]
pub struct Workers<'a> {
    /// The threads that compute (the thread budget's).
    pub pool: &'a rayon::ThreadPool,
    /// Calls in flight at once (each holds its audio in memory).
    pub calls_at_once: usize,
}

/// Runs `process` on each call, `calls_at_once` at a time, in the pool; the
/// outcomes in the calls' order (a call `process` skips has none).
fn run_calls<T: Send>(
    calls: &[CallSpec],
    workers: Workers,
    process: &(dyn Fn(&CallSpec) -> Option<T> + Sync),
) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(calls.len()));
    // Plain threads take the calls and wait while the pool works on each: a
    // pool thread waiting on another pool would steal more calls meanwhile.
    std::thread::scope(|scope| {
        for _ in 0..workers.calls_at_once.clamp(1, calls.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(spec) = calls.get(i) else { break };
                if let Some(outcome) = workers.pool.install(|| process(spec)) {
                    done.lock().unwrap_or_else(|p| p.into_inner()).push((i, outcome));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, outcome)| outcome).collect()
}

/// One call of the batch, and where its transcript goes.
struct Call<'a> {
    spec: &'a CallSpec,
    /// What its transcript would be made of.
    fingerprint: &'a Fingerprint,
    out: &'a OutDir,
    /// Where a call whose day was corrected since finds its old transcript.
    day_folders: &'a [std::path::PathBuf],
    options: BatchOptions<'a>,
}

/// What a transcript of the call would be made of: the audio's bytes (hashed
/// as a stream: a recording is never read whole into memory), the model, and
/// the settings that shape the text.
fn fingerprint_of(
    engine: &Engine,
    model_blake3: &str,
    spec: &CallSpec,
    options: BatchOptions,
) -> Result<Fingerprint, CallError> {
    let cannot_read =
        |e: std::io::Error| CallError::Call(Stage::Probe, format!("{}: cannot read: {e}", spec.audio_path.display()));
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::fs::File::open(&spec.audio_path).map_err(cannot_read)?)
        .map_err(cannot_read)?;
    Ok(Fingerprint {
        audio_blake3: hasher.finalize().to_hex().to_string(),
        model_blake3: model_blake3.to_string(),
        // the checks depend on the phrases listened for: another pack's phrases, another transcript
        settings: format!(
            "{}:{:?}:{}",
            engine.fingerprint(),
            spec.agent_channel,
            options
                .verify
                .map_or_else(|| "unverified".to_string(), Matcher::near_fingerprint)
        ),
    })
}

fn transcribe_call(engine: &Engine, call: &Call) -> Result<(Transcript, bool), CallError> {
    let Call {
        spec,
        fingerprint,
        out,
        day_folders,
        options,
    } = *call;
    let no_prompts = PromptLibrary::default();
    let library = options.prompts.unwrap_or(&no_prompts);
    if !options.force && !options.retry_failed {
        if let Some(failed) = read_failure(out, &spec.call_id) {
            if failed.fingerprint.as_ref() == Some(fingerprint) {
                return Err(CallError::FailedBefore(Box::new(failed)));
            }
        }
    }
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
            other => CallError::Call(Stage::Transcribe, other.to_string()),
        })?;
        for old in &elsewhere {
            match std::fs::remove_file(old) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(CallError::Output(e, old.clone())),
                _ => {}
            }
        }
        Ok(())
    };
    if !options.force {
        for found in std::iter::once(&path).chain(&elsewhere) {
            let Ok(mut saved) = Transcript::read(found) else {
                continue;
            };
            if saved.fingerprint != *fingerprint {
                continue;
            }
            let before = saved.clone();
            saved.agent_id.clone_from(&spec.agent_id);
            saved.audio_path.clone_from(&spec.audio_path);
            saved.started_at.clone_from(&spec.started_at);
            saved.extra.clone_from(&spec.extra);
            hear_again_if_stale(engine, spec, &options, library, &mut saved)?;
            if saved != before || found != &path {
                save(&saved)?;
            }
            return Ok((saved, true));
        }
    }
    let Decoded {
        duration_s,
        channels,
        tracks,
    } = decode(spec, options.max_call_s)?;
    let proposer = options.verify.map(LexiconProposer);
    let tag = CallTag::current();
    type Heard = (Vec<crate::transcript::Segment>, Vec<SoundSpan>, Vec<WordlessVoice>);
    let per_track: Vec<Heard> = tracks
        .par_iter()
        .map(|track| {
            tag.enter(|| {
                let chunks = engine.find_speech(track);
                let plan = in_stage(Stage::Vad, || plan_track(track, chunks, library));
                let proposer = proposer.as_ref().map(|p| p as &dyn PhraseProposer);
                let mut segments = engine.transcribe(track, &plan.chunks, proposer)?;
                print_track_voices(track, &mut segments, options.voices);
                let wordless = plan.wordless_voice(track.speaker, &segments);
                Ok((segments, plan.sounds, wordless))
            })
        })
        .collect::<Result<_, crate::asr::AsrError>>()
        .map_err(|e| CallError::Call(Stage::Transcribe, format!("{}: {e}", spec.audio_path.display())))?;
    let (mut segments, mut sounds, mut wordless) = (Vec::new(), Vec::new(), Vec::new());
    for (track_segments, track_sounds, track_wordless) in per_track {
        segments.extend(track_segments);
        sounds.extend(track_sounds);
        wordless.extend(track_wordless);
    }
    segments.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.speaker.cmp(&b.speaker)));
    sounds.sort_by(|a, b| a.start.total_cmp(&b.start));
    wordless.sort_by(|a, b| a.start.total_cmp(&b.start));
    let transcript = Transcript {
        call_id: spec.call_id.clone(),
        agent_id: spec.agent_id.clone(),
        audio_path: spec.audio_path.clone(),
        started_at: spec.started_at.clone(),
        duration_s,
        agent_channel: spec.agent_channel,
        channels,
        segments,
        sounds,
        wordless_voice: wordless,
        extra: spec.extra.clone(),
        fingerprint: fingerprint.clone(),
        voice_prints: Some(voice_prints_stamp(options.voices.is_some())),
        prompts_checked: Some(library.stamp()),
        enrolled_voice: None,
    };
    save(&transcript)?;
    Ok((transcript, false))
}

/// A saved transcript whose voices were printed by an older method, or
/// whose audio was checked against other prompts, is heard again from the
/// audio (voices, sounds, prompts), not transcribed again.
fn hear_again_if_stale(
    engine: &Engine,
    spec: &CallSpec,
    options: &BatchOptions,
    library: &PromptLibrary,
    saved: &mut Transcript,
) -> Result<(), CallError> {
    let stamp = library.stamp();
    let voice_stamp = voice_prints_stamp(options.voices.is_some());
    if saved.voice_prints.as_deref() == Some(voice_stamp.as_str()) && saved.prompts_checked.as_deref() == Some(&stamp) {
        return Ok(());
    }
    let tracks = decode(spec, options.max_call_s)?.tracks;
    saved.sounds.clear();
    saved.wordless_voice.clear();
    for track in &tracks {
        print_track_voices(track, &mut saved.segments, options.voices);
        let plan = in_stage(Stage::Vad, || plan_track(track, engine.find_speech(track), library));
        relabel_prompts(&mut saved.segments, track.speaker, &plan);
        saved
            .wordless_voice
            .extend(plan.wordless_voice(track.speaker, &saved.segments));
        saved.sounds.extend(plan.sounds);
    }
    saved.sounds.sort_by(|a, b| a.start.total_cmp(&b.start));
    saved.wordless_voice.sort_by(|a, b| a.start.total_cmp(&b.start));
    saved.voice_prints = Some(voice_stamp);
    saved.prompts_checked = Some(stamp);
    Ok(())
}

/// Gives the segments of a track that lie in a prompt of its plan (most of
/// their time) that prompt, and takes it from the others: a transcript
/// heard again against a library that changed since it was transcribed.
fn relabel_prompts(segments: &mut [crate::transcript::Segment], speaker: crate::transcript::Speaker, plan: &TrackPlan) {
    let rate = crate::audio::WHISPER_RATE_HZ as f64;
    for segment in segments.iter_mut().filter(|s| s.speaker == speaker) {
        let length = (segment.end - segment.start).max(1e-3);
        segment.prompt = plan
            .chunks
            .iter()
            .filter_map(|c| {
                Some((
                    c.prompt.as_ref()?,
                    c.chunk.start as f64 / rate,
                    c.chunk.end as f64 / rate,
                ))
            })
            .find(|&(_, a, b)| (segment.end.min(b) - segment.start.max(a)).max(0.0) >= 0.5 * length)
            .map(|(id, _, _)| id.clone());
    }
}

/// A call's recording, ready for whisper.
struct Decoded {
    duration_s: f64,
    /// Channels in the file.
    channels: u16,
    /// Its speakers' tracks at 16 kHz.
    tracks: Vec<SpeakerTrack>,
}

/// Decodes a call's recording, each step its own stage; a recording over
/// `max_s` seconds is refused.
fn decode(spec: &CallSpec, max_s: Option<f64>) -> Result<Decoded, CallError> {
    let audio = in_stage(Stage::Decode, || decode_file_within(&spec.audio_path, max_s)).map_err(CallError::audio)?;
    let duration_s = audio.duration_s();
    let channels = u16::try_from(audio.channels.len()).unwrap_or(u16::MAX);
    let tracks = in_stage(Stage::Resample, || speaker_tracks(audio, spec.agent_channel)).map_err(CallError::audio)?;
    Ok(Decoded {
        duration_s,
        channels,
        tracks,
    })
}

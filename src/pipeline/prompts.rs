//! The center's recorded prompts, learned from the night's own calls before
//! they are transcribed, so that every call of the night, the first one too,
//! has its prompts told from its people.
//!
//! A sample of the night's calls is decoded and fingerprinted (no whisper:
//! the speech detector and the spectrum only); a stretch of audio that
//! recurs in at least [`MIN_CALLS`] calls is a prompt, when its voice is not
//! the voice of the rest of its track. (A line an agent says in every call is
//! never the same waveform; but a sample set made by one text-to-speech voice
//! can be, and there the "prompt" is the agent's own voice: it stays theirs.)
//! Learned prompts join the folder's library (`prompts/`), whose text is
//! filled in once a call with the prompt is transcribed.

use rayon::prelude::*;

use crate::asr::Engine;
use crate::audio::landmarks::{
    landmarks, prompt_id, recurring, HeardTrack, Landmark, Prompt, PromptLibrary, Recurring, FRAME_S,
};
use crate::audio::plan::{sounds_of, speech_only};
use crate::audio::{decode_file_within, speaker_tracks, VoicePrinter, CONTOUR_FRAME_S};
use crate::input::CallSpec;
use crate::isolate::{isolated, Stage};
use crate::transcript::{Speaker, Transcript};

/// A stretch is a prompt when it recurs in at least this many calls.
pub const MIN_CALLS: usize = 3;
/// Calls of a night fingerprinted to learn its prompts: a prompt every call
/// plays is in all of them; one in a twentieth of the calls, in six.
pub const SAMPLE_CALLS: usize = 120;
/// Two median pitches this close (0.15 octave, under two semitones) may be one voice.
const SAME_VOICE_OCTAVES: f32 = 0.15;

/// One sampled track: where it came from, its landmarks, its pitch.
struct Sampled {
    call: usize,
    landmarks: Vec<Landmark>,
    /// Pitch per 10 ms frame (NaN: not voiced speech).
    contour: Vec<f32>,
}

/// Prompts the sample of `calls` holds that `known` does not: each recurs in
/// [`MIN_CALLS`] calls in a voice its tracks' people do not have. Calls that
/// cannot be read are skipped (the batch reports them).
pub fn learn_prompts(
    engine: &Engine,
    calls: &[CallSpec],
    known: &PromptLibrary,
    max_call_s: Option<f64>,
) -> Vec<Prompt> {
    if calls.len() < MIN_CALLS {
        return Vec::new();
    }
    let step = calls.len().div_ceil(SAMPLE_CALLS);
    let sampled: Vec<Sampled> = calls
        .par_iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .flat_map_iter(|(i, spec)| {
            isolated(&spec.call_id, Stage::Decode, || {
                sample_call(engine, i, spec, known, max_call_s)
            })
            .ok()
            .flatten()
            .unwrap_or_default()
        })
        .collect();
    let tracks: Vec<HeardTrack> = sampled
        .iter()
        .map(|s| HeardTrack {
            call: s.call,
            landmarks: &s.landmarks,
        })
        .collect();
    let found = recurring(&tracks, MIN_CALLS);
    let mut groups: Vec<usize> = found.iter().map(|r| r.group).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut prompts = Vec::new();
    for group in groups {
        let members: Vec<_> = found.iter().filter(|r| r.group == group).collect();
        if !played_by_the_system(&members, &found, &sampled) {
            continue; // the track's own speaker, said alike: not the system's
        }
        let mut calls_heard: Vec<usize> = members.iter().map(|r| sampled[r.track].call).collect();
        calls_heard.sort_unstable();
        calls_heard.dedup();
        if calls_heard.len() < MIN_CALLS {
            continue; // its other hearings fell to other groups or were too short
        }
        // the whole prompt: the longest hearing that recurs as often as a
        // prompt must (a hearing cut short by a bad line is a piece of it)
        let Some(best) = members
            .iter()
            .filter(|r| r.other_calls + 1 >= MIN_CALLS)
            .max_by_key(|r| (r.last - r.first, r.other_calls))
        else {
            continue;
        };
        let marks: Vec<Landmark> = sampled[best.track]
            .landmarks
            .iter()
            .filter(|m| m.frame >= best.first && m.frame <= best.last)
            .map(|m| Landmark {
                hash: m.hash,
                frame: m.frame - best.first,
            })
            .collect();
        prompts.push(Prompt {
            id: prompt_id(&marks),
            duration_s: f64::from(best.last - best.first) * FRAME_S,
            landmarks: marks,
            text: String::new(),
            calls: calls_heard.len() as u32,
        });
    }
    prompts
}

/// One call's tracks as discovery needs them, its known prompts silenced.
fn sample_call(
    engine: &Engine,
    index: usize,
    spec: &CallSpec,
    known: &PromptLibrary,
    max_call_s: Option<f64>,
) -> Option<Vec<Sampled>> {
    let audio = decode_file_within(&spec.audio_path, max_call_s).ok()?;
    let tracks = speaker_tracks(audio, spec.agent_channel).ok()?;
    Some(
        tracks
            .iter()
            // the center's side: a recorder keeps the IVR and the hold's
            // announcements on the channel the caller hears (the agent's, or
            // the one mixed channel); the caller's own channel plays none
            .filter(|track| track.speaker != Speaker::Customer)
            .map(|track| {
                let chunks = engine.find_speech(&track.samples);
                let sounds = sounds_of(track, &chunks);
                let mut quiet = speech_only(&track.samples, &chunks, &sounds);
                let marks = landmarks(&quiet);
                // a prompt already known is not learned again
                let matches = known.find(&marks);
                let marks = if matches.is_empty() {
                    marks
                } else {
                    for m in &matches {
                        let (a, b) = (
                            (m.start_s * 16_000.0) as usize,
                            ((m.end_s * 16_000.0) as usize).min(quiet.len()),
                        );
                        quiet[a.min(b)..b].fill(0.0);
                    }
                    landmarks(&quiet)
                };
                // the voice of the track's words only: a hold's music has a
                // pitch too, and would pull the track's voice to its tune
                let mut contour = VoicePrinter::of(&track.samples).pitch_contour();
                for sound in &sounds {
                    let frame = |s: f64, len: usize| ((s / CONTOUR_FRAME_S) as usize).min(len);
                    let len = contour.len();
                    contour[frame(sound.start, len)..frame(sound.end, len)].fill(f32::NAN);
                }
                Sampled {
                    call: index,
                    landmarks: marks,
                    contour,
                }
            })
            .collect(),
    )
}

/// Whether a group of hearings alike is the system's: most of them in
/// another voice than the rest of their track. (A recording played again is
/// what landmarks find; but a sample set's text-to-speech agent can say a
/// line alike in several calls, and there the line is the agent's own.)
fn played_by_the_system(members: &[&Recurring], found: &[Recurring], sampled: &[Sampled]) -> bool {
    let others_voice = members
        .iter()
        .filter(|r| {
            // every hearing's stretch in its track, to leave out of "the rest"
            let own: Vec<(u32, u32)> = found
                .iter()
                .filter(|o| o.track == r.track)
                .map(|o| (o.first, o.last))
                .collect();
            let track = &sampled[r.track];
            !voice_heard_elsewhere(&track.contour, (r.first, r.last), &own)
        })
        .count();
    others_voice * 2 > members.len()
}

/// The median pitch of a stretch (landmark frames) of a track's contour,
/// when enough of it is voiced.
fn stretch_pitch(contour: &[f32], stretch: (u32, u32)) -> Option<f32> {
    let to_contour = |frame: u32| ((f64::from(frame) * FRAME_S / CONTOUR_FRAME_S) as usize).min(contour.len());
    let own: Vec<f32> = contour[to_contour(stretch.0)..to_contour(stretch.1)]
        .iter()
        .copied()
        .filter(|p| !p.is_nan())
        .collect();
    if own.len() < 20 {
        return None;
    }
    median(own)
}

/// The median of some pitches (None of none).
fn median(mut pitches: Vec<f32>) -> Option<f32> {
    pitches.sort_by(f32::total_cmp);
    pitches.get(pitches.len() / 2).copied()
}

/// Whether the voice of `stretch` (landmark frames) is the voice of the rest
/// of its track (outside `recurring`): their median pitches are within
/// [`SAME_VOICE_OCTAVES`]. (On the sample sets, a text-to-speech line said
/// alike in several calls is 0.02–0.11 octave from the rest of its track; the
/// IVR voices 0.21 and more.)
fn voice_heard_elsewhere(contour: &[f32], stretch: (u32, u32), recurring: &[(u32, u32)]) -> bool {
    let to_contour = |frame: u32| ((f64::from(frame) * FRAME_S / CONTOUR_FRAME_S) as usize).min(contour.len());
    let inside = |i: usize| recurring.iter().any(|&(a, b)| i >= to_contour(a) && i < to_contour(b));
    let rest: Vec<f32> = contour
        .iter()
        .enumerate()
        .filter(|&(i, p)| !p.is_nan() && !inside(i))
        .map(|(_, &p)| p)
        .collect();
    if rest.len() < 50 {
        return false;
    }
    let Some(own) = stretch_pitch(contour, stretch) else {
        return false;
    };
    // the track's median: on a mixed track too (two pitch clusters by
    // two-means put the IVR's voice in one of them on the sample mixdowns:
    // a median pitch cannot carry three voices; issue 39's voice prints can)
    median(rest).is_some_and(|voice| (own - voice).abs() < SAME_VOICE_OCTAVES)
}

/// Fills in the text of `prompts` that have none from transcripts of calls
/// that played them (their segments' words, in order). Whether any changed.
pub fn fill_prompt_texts(prompts: &mut [Prompt], transcripts: &[&Transcript]) -> bool {
    let mut changed = false;
    for prompt in prompts.iter_mut().filter(|p| p.text.is_empty()) {
        let text = transcripts.iter().find_map(|t| {
            let words: Vec<&str> = t
                .segments
                .iter()
                .filter(|s| s.prompt.as_deref() == Some(prompt.id.as_str()))
                .map(|s| s.text.as_str())
                .collect();
            (!words.is_empty()).then(|| words.concat())
        });
        if let Some(text) = text {
            prompt.text = text;
            changed = true;
        }
    }
    changed
}

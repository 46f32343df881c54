//! The center's recorded prompts, learned from the night's own calls before
//! they are transcribed, so that every call of the night, the first one too,
//! has its prompts told from its people.
//!
//! A sample of the night's calls is decoded and fingerprinted (no whisper:
//! the speech detector and the spectrum only); a stretch of audio that
//! recurs in at least [`MIN_CALLS`] calls is a prompt, when its voice is not
//! the voice of the rest of its track (by voice vectors when the encoder is
//! installed, else by median pitch). (A line an agent says in every call is
//! never the same waveform; but a sample set made by one text-to-speech voice
//! can be, and there the "prompt" is the agent's own voice: it stays theirs.)
//! Learned prompts join the folder's library (`prompts/`), whose text is
//! filled in once a call with the prompt is transcribed.

use rayon::prelude::*;

use crate::asr::Engine;
use crate::audio::landmarks::{
    landmarks, prompt_id, recurring, HeardTrack, Landmark, Prompt, PromptLibrary, Recurring, FRAME_S,
};
use crate::audio::plan::{sounds_of, speech_only, to_sample, voiced_of};
use crate::audio::voice_vector::{similarity, Partials, VoiceEncoder, MIN_VECTOR_S};
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
/// A group of hearings is the track's own voice when, in the median, each
/// comes this near (cosine of voice vectors) to other speech of its track.
/// Asked only where the pitch heard the track's own voice. Measured on the
/// sample sets, whose voices are all one synthesizer's shifted (far nearer to
/// each other than people's: two real people are 0.38–0.59 apart): a
/// text-to-speech agent's line said alike in several calls, 0.82–0.90 in each
/// of 28 groups over eleven sets; the IVR's prompts 0.73–0.86, and of the two
/// the pitch took for an agent's, 0.77 (center A's second announcement,
/// learned) and 0.83 (center B's queue announcement, left to the pack's words).
const SAME_VOICE_SIMILARITY: f32 = 0.8;

/// One sampled track: where it came from, its landmarks, its pitch, its speech.
struct Sampled {
    /// Index into the night's calls.
    call: usize,
    /// Which of the call's speaker tracks.
    track: usize,
    landmarks: Vec<Landmark>,
    /// Pitch per 10 ms frame (NaN: not voiced speech).
    contour: Vec<f32>,
    /// Voiced sample ranges, the track's sounds and known prompts left out:
    /// where the voices of its people are.
    speech: Vec<(usize, usize)>,
}

/// Prompts the sample of `calls` holds that `known` does not: each recurs in
/// [`MIN_CALLS`] calls in a voice its tracks' people do not have. Calls that
/// cannot be read are skipped (the batch reports them).
pub fn learn_prompts(
    engine: &Engine,
    voices: Option<&VoiceEncoder>,
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
    let candidates: Vec<Vec<&Recurring>> = groups
        .iter()
        .map(|&g| found.iter().filter(|r| r.group == g).collect::<Vec<_>>())
        // its other hearings may have fallen to other groups or been too short
        .filter(|members| calls_heard(members, &sampled).len() >= MIN_CALLS)
        .collect();
    // the pitch first (free); the voice vectors where the pitch heard the
    // track's own voice (a decode and the encoder again, for a few hearings)
    let by_pitch: Vec<bool> = candidates
        .iter()
        .map(|members| another_voice_by_pitch(members, &found, &sampled))
        .collect();
    let doubtful: Vec<&Recurring> = candidates
        .iter()
        .zip(&by_pitch)
        .filter(|(_, &other)| !other)
        .flat_map(|(members, _)| voice_checked(members))
        .collect();
    let heard_voices = voices
        .filter(|_| !doubtful.is_empty())
        .map(|encoder| track_voices(encoder, calls, &sampled, &found, &doubtful, max_call_s));
    candidates
        .iter()
        .zip(by_pitch)
        .filter(|(members, other)| {
            // else the track's own speaker, said alike: not the system's
            *other
                || heard_voices
                    .as_deref()
                    .is_some_and(|v| another_voice_by_vector(members, v))
        })
        .filter_map(|(members, _)| prompt_of(members, &sampled))
        .collect()
}

/// The calls a group of hearings was heard in.
fn calls_heard(members: &[&Recurring], sampled: &[Sampled]) -> Vec<usize> {
    let mut calls: Vec<usize> = members.iter().map(|r| sampled[r.track].call).collect();
    calls.sort_unstable();
    calls.dedup();
    calls
}

/// A group of hearings as a prompt: the whole prompt is its longest hearing
/// that recurs as often as a prompt must (a hearing cut short by a bad line
/// is a piece of it).
fn prompt_of(members: &[&Recurring], sampled: &[Sampled]) -> Option<Prompt> {
    let best = members
        .iter()
        .filter(|r| r.other_calls + 1 >= MIN_CALLS)
        .max_by_key(|r| (r.last - r.first, r.other_calls))?;
    let marks: Vec<Landmark> = sampled[best.track]
        .landmarks
        .iter()
        .filter(|m| m.frame >= best.first && m.frame <= best.last)
        .map(|m| Landmark {
            hash: m.hash,
            frame: m.frame - best.first,
        })
        .collect();
    Some(Prompt {
        id: prompt_id(&marks),
        duration_s: f64::from(best.last - best.first) * FRAME_S,
        landmarks: marks,
        text: String::new(),
        calls: calls_heard(members, sampled).len() as u32,
    })
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
            .enumerate()
            // the center's side: a recorder keeps the IVR and the hold's
            // announcements on the channel the caller hears (the agent's, or
            // the one mixed channel); the caller's own channel plays none
            .filter(|(_, track)| track.speaker != Speaker::Customer)
            .map(|(position, track)| {
                let chunks = engine.find_speech(track);
                let voiced = voiced_of(&chunks);
                let sounds = sounds_of(track, &voiced);
                let mut quiet = speech_only(&track.samples, &chunks, &sounds);
                let marks = landmarks(&quiet);
                // a prompt already known is not learned again
                let matches = known.find(&marks);
                let silenced: Vec<(usize, usize)> = matches
                    .iter()
                    .map(|m| (to_sample(m.start_s), to_sample(m.end_s).min(quiet.len())))
                    .collect();
                let marks = if silenced.is_empty() {
                    marks
                } else {
                    for &(a, b) in &silenced {
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
                let mut cut = silenced;
                cut.extend(sounds.iter().map(|s| (to_sample(s.start), to_sample(s.end))));
                Sampled {
                    call: index,
                    track: position,
                    landmarks: marks,
                    contour,
                    speech: without(&voiced, &cut),
                }
            })
            .collect(),
    )
}

/// A stretch of landmark frames (the last inclusive) as sample indices.
fn frames_to_samples((first, last): (u32, u32)) -> (usize, usize) {
    (
        to_sample(f64::from(first) * FRAME_S),
        to_sample(f64::from(last + 1) * FRAME_S),
    )
}

/// `ranges` with every range of `cuts` taken out of them.
fn without(ranges: &[(usize, usize)], cuts: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut left = Vec::new();
    for &(start, end) in ranges {
        let mut pieces = vec![(start, end)];
        for &(a, b) in cuts {
            pieces = pieces
                .into_iter()
                .flat_map(|(s, e)| {
                    if b <= s || a >= e {
                        vec![(s, e)]
                    } else {
                        [(s, a.max(s)), (b.min(e), e)]
                            .into_iter()
                            .filter(|(x, y)| y > x)
                            .collect()
                    }
                })
                .collect();
        }
        left.extend(pieces);
    }
    left
}

/// Hearings of a group whose voices are compared with their tracks': a few,
/// spread over the group (the verdict is the majority's).
const VOICE_CHECKS_PER_GROUP: usize = 8;
/// Stretches of a track's other speech whose voices are compared with a
/// hearing's: its longest (a turn of a few seconds tells a voice best).
const REST_PIECES: usize = 8;

/// What the voice encoder heard on one sampled track: each hearing's vector
/// (by its landmark frames), and the vectors of the track's other speech.
#[derive(Default)]
struct TrackVoices {
    hearings: Vec<((u32, u32), Vec<f32>)>,
    rest: Vec<Vec<f32>>,
}

impl TrackVoices {
    /// How near the hearing's voice comes to any of the track's other speech
    /// (cosine of voice vectors), when both were heard.
    fn nearest_elsewhere(&self, stretch: (u32, u32)) -> Option<f32> {
        let (_, own) = self.hearings.iter().find(|(s, _)| *s == stretch)?;
        self.rest.iter().map(|v| similarity(own, v)).max_by(f32::total_cmp)
    }
}

/// The members of a group whose voices are checked.
fn voice_checked<'a>(members: &[&'a Recurring]) -> Vec<&'a Recurring> {
    let step = members.len().div_ceil(VOICE_CHECKS_PER_GROUP).max(1);
    members.iter().step_by(step).copied().collect()
}

/// Voice vectors of the hearings in `checked` and of the rest of their
/// tracks' speech, per sampled track (the calls read again: discovery keeps
/// no audio).
fn track_voices(
    encoder: &VoiceEncoder,
    calls: &[CallSpec],
    sampled: &[Sampled],
    found: &[Recurring],
    checked: &[&Recurring],
    max_call_s: Option<f64>,
) -> Vec<TrackVoices> {
    let mut wanted: Vec<usize> = checked.iter().map(|r| r.track).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut by_call: Vec<(usize, Vec<usize>)> = Vec::new();
    for t in wanted {
        match by_call.last_mut() {
            Some((call, tracks)) if *call == sampled[t].call => tracks.push(t),
            _ => by_call.push((sampled[t].call, vec![t])),
        }
    }
    let heard: Vec<Vec<(usize, TrackVoices)>> = by_call
        .par_iter()
        .map(|(call, tracks)| {
            let spec = &calls[*call];
            isolated(&spec.call_id, Stage::Decode, || {
                let audio = decode_file_within(&spec.audio_path, max_call_s).ok()?;
                let audio_tracks = speaker_tracks(audio, spec.agent_channel).ok()?;
                Some(
                    tracks
                        .iter()
                        .filter_map(|&t| {
                            let samples = &audio_tracks.get(sampled[t].track)?.samples;
                            Some((t, voices_of_track(encoder, samples, t, &sampled[t], found, checked)))
                        })
                        .collect(),
                )
            })
            .ok()
            .flatten()
            .unwrap_or_default()
        })
        .collect();
    let mut voices: Vec<TrackVoices> = sampled.iter().map(|_| TrackVoices::default()).collect();
    for (t, v) in heard.into_iter().flatten() {
        voices[t] = v;
    }
    voices
}

/// One track's [`TrackVoices`]: its checked hearings, and its longest
/// stretches of speech outside every recurring stretch.
fn voices_of_track(
    encoder: &VoiceEncoder,
    samples: &[f32],
    t: usize,
    track: &Sampled,
    found: &[Recurring],
    checked: &[&Recurring],
) -> TrackVoices {
    let clip = |(a, b): (usize, usize)| (a.min(samples.len()), b.min(samples.len()));
    let hearings: Vec<(u32, u32)> = checked
        .iter()
        .filter(|r| r.track == t)
        .map(|r| (r.first, r.last))
        .collect();
    let recurring: Vec<(usize, usize)> = found
        .iter()
        .filter(|r| r.track == t)
        .map(|r| frames_to_samples((r.first, r.last)))
        .collect();
    let min_len = to_sample(MIN_VECTOR_S);
    let mut rest: Vec<(usize, usize)> = without(&track.speech, &recurring)
        .into_iter()
        .filter(|(a, b)| b - a >= min_len)
        .collect();
    rest.sort_by_key(|(a, b)| std::cmp::Reverse(b - a));
    rest.truncate(REST_PIECES);
    let stretches: Vec<&[f32]> = hearings
        .iter()
        .map(|&h| frames_to_samples(h))
        .chain(rest.iter().copied())
        .map(|r| {
            let (a, b) = clip(r);
            &samples[a..b]
        })
        .collect();
    let mut vectors = encoder.embed_many(&stretches, Partials::SEGMENTS).into_iter();
    let hearings = hearings
        .into_iter()
        .zip(vectors.by_ref())
        .filter_map(|(h, v)| Some((h, v?)))
        .collect();
    TrackVoices {
        hearings,
        rest: vectors.flatten().collect(),
    }
}

/// Whether most hearings of a group alike are in another voice than the
/// rest of their tracks, by median pitch. (A recording played again is what
/// landmarks find; but a sample set's text-to-speech agent can say a line
/// alike in several calls, and there the line is the agent's own.)
fn another_voice_by_pitch(members: &[&Recurring], found: &[Recurring], sampled: &[Sampled]) -> bool {
    let others_voice = members
        .iter()
        .filter(|r| {
            // every hearing's stretch in its track, to leave out of "the rest"
            let own: Vec<(u32, u32)> = found
                .iter()
                .filter(|o| o.track == r.track)
                .map(|o| (o.first, o.last))
                .collect();
            !voice_heard_elsewhere(&sampled[r.track].contour, (r.first, r.last), &own)
        })
        .count();
    others_voice * 2 > members.len()
}

/// Whether a group's hearings are in another voice than the rest of their
/// tracks, by voice vectors: the median over the checked hearings of how
/// near each comes to any other speech of its track is below
/// [`SAME_VOICE_SIMILARITY`]. (The median, as one hearing's nearest can be
/// another prompt the track played once.)
fn another_voice_by_vector(members: &[&Recurring], voices: &[TrackVoices]) -> bool {
    let mut nearest: Vec<f32> = voice_checked(members)
        .iter()
        .filter_map(|r| voices[r.track].nearest_elsewhere((r.first, r.last)))
        .collect();
    nearest.sort_by(f32::total_cmp);
    nearest
        .get(nearest.len() / 2)
        .is_some_and(|&median| median < SAME_VOICE_SIMILARITY)
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
    // a median pitch cannot carry three voices: the voice vectors are asked
    // where it hears the track's own voice)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hearing(track: usize, first: u32, group: usize) -> Recurring {
        Recurring {
            track,
            first,
            last: first + 100,
            other_calls: 2,
            group,
        }
    }

    /// A unit vector at `degrees` in a plane: the cosine of two is the
    /// cosine of their angle apart.
    fn voice(degrees: f32) -> Vec<f32> {
        let r = degrees.to_radians();
        vec![r.cos(), r.sin()]
    }

    #[test]
    fn cut_ranges_leave_what_lies_outside_them() {
        let left = without(&[(0, 100), (200, 300)], &[(50, 60), (90, 250), (400, 500)]);
        assert_eq!(left, vec![(0, 50), (60, 90), (250, 300)]);
        assert_eq!(without(&[(10, 20)], &[(0, 30)]), vec![]);
        assert_eq!(without(&[(10, 20)], &[]), vec![(10, 20)]);
    }

    #[test]
    fn a_group_is_another_voice_when_its_hearings_in_the_median_are_far_from_their_tracks() {
        // three tracks: each hearing's nearest other speech at a cosine of
        // cos(45°) = 0.71, cos(20°) = 0.94 and cos(50°) = 0.64
        let members: Vec<Recurring> = (0..3).map(|t| hearing(t, 10, 0)).collect();
        let refs: Vec<&Recurring> = members.iter().collect();
        let tracks = |angles: [f32; 3]| -> Vec<TrackVoices> {
            angles
                .iter()
                .map(|&a| TrackVoices {
                    hearings: vec![((10, 110), voice(0.0))],
                    rest: vec![voice(a), voice(a + 60.0)],
                })
                .collect()
        };
        assert!(another_voice_by_vector(&refs, &tracks([45.0, 20.0, 50.0])));
        // one far hearing (a track that played another prompt once) is not the median
        assert!(!another_voice_by_vector(&refs, &tracks([15.0, 20.0, 50.0])));
        // a hearing without a vector says nothing; none at all says no
        let unheard: Vec<TrackVoices> = (0..3).map(|_| TrackVoices::default()).collect();
        assert!(!another_voice_by_vector(&refs, &unheard));
    }

    #[test]
    fn a_large_group_is_asked_at_a_spread_few_of_its_hearings() {
        let members: Vec<Recurring> = (0..20).map(|t| hearing(t, 10, 0)).collect();
        let refs: Vec<&Recurring> = members.iter().collect();
        let asked = voice_checked(&refs);
        assert!(asked.len() <= VOICE_CHECKS_PER_GROUP, "{}", asked.len());
        assert_eq!(asked.first().map(|r| r.track), Some(0));
        assert!(asked.last().is_some_and(|r| r.track >= 15), "spread to the end");
        assert_eq!(voice_checked(&refs[..3]).len(), 3);
    }
}

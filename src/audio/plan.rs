//! What whisper is given of a track, and what it is not: the speech
//! detector's chunks, less the network's tones and the hold music (whisper
//! never hears them; they become the transcript's sounds), cut where a
//! recorded prompt of the center's library begins and ends, so a prompt is a
//! chunk of its own and its words are the system's, never run into the
//! agent's.

use super::landmarks::{landmarks, PromptLibrary};
use super::sounds::{find_music, find_tones};
use super::vad::SpeechChunk;
use super::{SpeakerTrack, WHISPER_RATE_HZ};
use crate::transcript::{Segment, SoundSpan, Speaker, WordlessVoice};

/// A chunk for whisper, and the prompt it is, if one.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChunk {
    /// The stretch of speech (sample indices of the track).
    pub chunk: SpeechChunk,
    /// The library prompt the chunk plays (its words are the system's).
    pub prompt: Option<String>,
}

/// A track's sounds and the chunks whisper hears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackPlan {
    /// Tones and music, in time order.
    pub sounds: Vec<SoundSpan>,
    /// The chunks, in time order.
    pub chunks: Vec<PlannedChunk>,
    /// Each of the speech detector's chunks' voice, its first voiced moment
    /// to its last (sample indices), as heard before any chunk was cut or a
    /// sliver too short for whisper dropped.
    pub heard: Vec<(usize, usize)>,
}

impl TrackPlan {
    /// The voice on a person's track (`speaker`'s) that whisper wrote no
    /// words for: each chunk's voice that none of the track's `segments`
    /// overlaps and that is no sound nor a prompt. A mixed track's is
    /// nobody's yet, and none is given.
    pub fn wordless_voice(&self, speaker: Speaker, segments: &[Segment]) -> Vec<WordlessVoice> {
        if !matches!(speaker, Speaker::Agent | Speaker::Customer) {
            return Vec::new();
        }
        let to_s = |sample: usize| sample as f64 / f64::from(WHISPER_RATE_HZ);
        let prompts = self
            .chunks
            .iter()
            .filter(|p| p.prompt.is_some())
            .map(|p| (to_s(p.chunk.start), to_s(p.chunk.end)));
        let words = segments
            .iter()
            .filter(|s| s.speaker == speaker)
            .map(|s| (s.start, s.end));
        let taken: Vec<(f64, f64)> = self
            .sounds
            .iter()
            .map(|s| (s.start, s.end))
            .chain(prompts)
            .chain(words)
            .collect();
        self.heard
            .iter()
            .map(|&(a, b)| (to_s(a), to_s(b)))
            .filter(|&(start, end)| !taken.iter().any(|&(a, b)| a < end && b > start))
            .map(|(start, end)| WordlessVoice { speaker, start, end })
            .collect()
    }
}

/// A chunk piece with less voice than this is dropped (a cut's sliver).
const MIN_PIECE_VOICED_S: f64 = 0.25;
/// A prompt found by its landmarks begins at its first spectral peaks, a
/// little after its voice does; it is taken from where the voice begins when
/// that is this near. (Else a cut leaves the onset of the prompt's first
/// syllable on the agent's piece before it, and whisper writes a syllable
/// more there: iv-04's 请您稍候 became 请您收后患 before 感谢您的耐心等待.)
const PROMPT_ONSET_S: f64 = 0.3;

/// Where the voice is in `chunks`: sample ranges of the track, in order.
pub fn voiced_of(chunks: &[SpeechChunk]) -> Vec<(usize, usize)> {
    chunks
        .iter()
        .flat_map(|c| c.voiced.iter().map(move |&(a, b)| (c.start + a, c.start + b)))
        .collect()
}

/// The sounds of a track: its tones, and music where the speech detector
/// heard no voice (`voiced`: where it did, as [`voiced_of`] gives).
pub fn sounds_of(track: &SpeakerTrack, voiced: &[(usize, usize)]) -> Vec<SoundSpan> {
    let mut sounds = find_tones(&track.samples, track.speaker);
    sounds.extend(find_music(&track.samples, voiced, track.speaker));
    sounds.sort_by(|a, b| a.start.total_cmp(&b.start));
    sounds
}

/// The track's voiced speech alone, the rest silenced: what is fingerprinted
/// for prompts. A prompt is speech; the center's music recurs in every call
/// too and is no prompt, and a codec's comfort noise (AMR-NB's, between a
/// caller's words) is the same noise in every call that went through it.
pub fn speech_only(samples: &[f32], chunks: &[SpeechChunk], sounds: &[SoundSpan]) -> Vec<f32> {
    let mut only = vec![0.0; samples.len()];
    // whole chunks, their padding too: a prompt's first syllable after music
    // is often under the detector's threshold, and its landmarks tell
    for c in chunks {
        let (a, b) = (c.start.min(samples.len()), c.end.min(samples.len()));
        only[a..b].copy_from_slice(&samples[a..b]);
    }
    for s in sounds {
        let (a, b) = (to_sample(s.start).min(only.len()), to_sample(s.end).min(only.len()));
        only[a..b].fill(0.0);
    }
    only
}

/// A time in seconds as a sample index of a 16 kHz track.
pub fn to_sample(seconds: f64) -> usize {
    (seconds.max(0.0) * WHISPER_RATE_HZ as f64) as usize
}

/// Plans a track: its sounds, and its speech chunks carved around them and
/// around the library's prompts found in it.
pub fn plan_track(track: &SpeakerTrack, chunks: Vec<SpeechChunk>, library: &PromptLibrary) -> TrackPlan {
    let voiced = voiced_of(&chunks);
    let sounds = sounds_of(track, &voiced);
    let prompts = if library.is_empty() {
        Vec::new()
    } else {
        library.find(&landmarks(&speech_only(&track.samples, &chunks, &sounds)))
    };
    // labelled stretches: None = a sound (cut out), Some(id) = a prompt
    let mut marks: Vec<(usize, usize, Option<&str>)> = sounds
        .iter()
        .map(|s| (to_sample(s.start), to_sample(s.end), None))
        .collect();
    marks.extend(prompts.iter().map(|p| {
        let start = voice_onset(to_sample(p.start_s), &voiced);
        (start, to_sample(p.end_s), Some(p.id.as_str()))
    }));
    let heard = chunks
        .iter()
        .filter_map(|c| Some((c.start + c.voiced.first()?.0, c.start + c.voiced.last()?.1)))
        .collect();
    let chunks = chunks.into_iter().flat_map(|c| carve(c, &marks)).collect();
    TrackPlan { sounds, chunks, heard }
}

/// Where the voice that `at` lies in begins, when that is at most
/// [`PROMPT_ONSET_S`] before it (`voiced`: sample ranges, in order).
fn voice_onset(at: usize, voiced: &[(usize, usize)]) -> usize {
    let near = to_sample(PROMPT_ONSET_S);
    voiced
        .iter()
        .find(|&&(a, b)| a <= at && at < b)
        .filter(|&&(a, _)| at - a <= near)
        .map_or(at, |&(a, _)| a)
}

/// A chunk cut at the edges of `marks`: pieces inside a sound are dropped,
/// pieces inside a prompt labelled with it, the rest kept as speech.
fn carve(chunk: SpeechChunk, marks: &[(usize, usize, Option<&str>)]) -> Vec<PlannedChunk> {
    let mut edges = vec![chunk.start, chunk.end];
    for &(a, b, _) in marks {
        for edge in [a, b] {
            if edge > chunk.start && edge < chunk.end {
                edges.push(edge);
            }
        }
    }
    edges.sort_unstable();
    edges.dedup();
    let mut pieces = Vec::new();
    for w in edges.windows(2) {
        let (a, b) = (w[0], w[1]);
        let middle = (a + b) / 2;
        let label = marks.iter().find(|&&(s, e, _)| middle >= s && middle < e);
        let prompt = match label {
            Some((_, _, None)) => continue,
            Some((_, _, Some(id))) => Some(id.to_string()),
            None => None,
        };
        let voiced: Vec<(usize, usize)> = chunk
            .voiced
            .iter()
            .map(|&(s, e)| ((chunk.start + s).max(a), (chunk.start + e).min(b)))
            .filter(|(s, e)| e > s)
            .map(|(s, e)| (s - a, e - a))
            .collect();
        let voiced_s = voiced.iter().map(|(s, e)| e - s).sum::<usize>() as f64 / WHISPER_RATE_HZ as f64;
        if voiced_s < MIN_PIECE_VOICED_S {
            continue;
        }
        pieces.push(PlannedChunk {
            chunk: SpeechChunk {
                start: a,
                end: b,
                voiced,
            },
            prompt,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(start_s: f64, end_s: f64) -> SpeechChunk {
        let (a, b) = (to_sample(start_s), to_sample(end_s));
        SpeechChunk {
            start: a,
            end: b,
            voiced: vec![(0, b - a)],
        }
    }

    #[test]
    fn chunks_are_cut_around_sounds_and_at_prompts() {
        let marks = [
            (to_sample(2.0), to_sample(3.0), None),
            (to_sample(5.0), to_sample(8.0), Some("prompt-1")),
        ];
        let pieces = carve(chunk(0.0, 10.0), &marks);
        let spans: Vec<(f64, f64, Option<&str>)> = pieces
            .iter()
            .map(|p| {
                (
                    p.chunk.start as f64 / 16_000.0,
                    p.chunk.end as f64 / 16_000.0,
                    p.prompt.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                (0.0, 2.0, None),
                (3.0, 5.0, None),
                (5.0, 8.0, Some("prompt-1")),
                (8.0, 10.0, None)
            ]
        );
        // a sliver at a cut is dropped; a chunk with no mark is kept whole
        let sliver = carve(chunk(4.9, 8.0), &marks);
        assert_eq!(sliver.len(), 1);
        assert_eq!(sliver[0].prompt.as_deref(), Some("prompt-1"));
        assert_eq!(carve(chunk(10.0, 12.0), &marks).len(), 1);
    }
}

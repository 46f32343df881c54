//! Voice-activity detection: where in a channel someone is speaking.
//!
//! Whisper fed long silences (the customer's turns, on the agent's channel)
//! loses sentences and invents text, and spends most of its time on nothing.
//! We cut each channel into speech chunks at pauses and send only those.
//!
//! Two detectors give a speech score per short frame; one chunker turns the
//! scores into chunks (so both cut, pad and split the same way):
//!
//! - **Silero VAD** (the default when its model is installed): a small neural
//!   network, on whisper.cpp's converted weights and run by `audio::silero`,
//!   that tells speech from noise and music.
//!   On phone lines with noise it keeps whisper from decoding the noise
//!   floor. Background babble it takes for speech; inside a chunk, where the
//!   voice is (for timing words) also asks that a frame be within
//!   `PAUSE_BELOW_LOUD_DB` of the chunk's loud speech. After long music or
//!   tones its memory holds the next voice down, so there it also hears the
//!   audio afresh (`LONG_SOUND_FRAMES`). One model is loaded per run and
//!   shared by all workers.
//! - **Energy** (the fallback when no VAD model is present): frames louder
//!   than the channel's own noise floor. Good on clean recordings; on noisy
//!   lines it lets the noise through as speech.
//!
//! Chunks are at most `max_chunk_s` long; a longer stretch of speech is split
//! at its least speech-like moment, so whisper's 30 s window is never exceeded.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::silero::{SileroNet, WINDOW as SILERO_FRAME};
use super::WHISPER_RATE_HZ;

/// Tuning of the detectors and the chunker. Defaults suit telephone speech.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VadSettings {
    /// Frame length of the energy detector (Silero's frame is fixed at 32 ms).
    pub frame_ms: u32,
    /// Speech must be this much louder than the channel's noise floor.
    pub threshold_above_floor_db: f32,
    /// Speech frames are within this much of the channel's loud frames. Caps the
    /// threshold where the channel is all speech and the "floor" is speech too.
    pub threshold_below_peak_db: f32,
    /// Never call anything quieter than this speech, whatever the floor.
    pub min_threshold_dbfs: f32,
    /// Silero: a frame whose speech probability reaches this is speech.
    pub speech_probability: f32,
    /// A pause at least this long ends a chunk.
    pub min_pause_ms: u32,
    /// Bursts shorter than this (clicks, breaths) are not speech.
    pub min_speech_ms: u32,
    /// Audio kept on each side of a chunk, so word onsets are not clipped.
    pub pad_ms: u32,
    /// Longer speech is split at its least speech-like moment, so whisper's 30 s window is never exceeded.
    pub max_chunk_s: f32,
    /// On a channel of one voice: a stretch that Silero calls speech but that
    /// stays this much under the voice's loud speech nearby (see
    /// `QuietStretches`) is not that voice...
    pub quiet_below_loud_db: f32,
    /// ...when it lasts at least this long (background babble between turns
    /// does; a short soft 嗯 does not, and is kept).
    pub quiet_stretch_ms: u32,
}

impl Default for VadSettings {
    fn default() -> Self {
        Self {
            frame_ms: 30,
            threshold_above_floor_db: 12.0,
            threshold_below_peak_db: 25.0,
            min_threshold_dbfs: -50.0,
            speech_probability: 0.5,
            min_pause_ms: 1000,
            min_speech_ms: 150,
            // Silero's speech probability rises a little after a word begins;
            // 300 ms keeps onsets whole (real-speech CER 0.28 against 0.33 at 200 ms)
            pad_ms: 300,
            max_chunk_s: 15.0,
            // measured on the phone-line sets (README, "How fast, how well"):
            // babble 12-18 dB under the voice, which Silero hears as speech
            quiet_below_loud_db: 8.0,
            quiet_stretch_ms: 2000,
        }
    }
}

impl VadSettings {
    /// How loud a frame of the channel whose frames are `loudness_db` must be
    /// to stand out of its noise floor (the quietest tenth): speech to the
    /// energy detector, a sound to Silero's (see `LONG_SOUND_FRAMES`).
    fn above_floor_db(&self, loudness_db: &[f32]) -> f32 {
        percentile(loudness_db, 0.10) + self.threshold_above_floor_db
    }
}

/// A stretch of speech, as sample indices into the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechChunk {
    /// First sample of the chunk (padding included).
    pub start: usize,
    /// One past its last sample.
    pub end: usize,
    /// Where inside the chunk the voice is (sample ranges from `start`, in
    /// order): the chunk minus its pauses and padding. Words are spread over
    /// these when they are timed without alignment.
    pub voiced: Vec<(usize, usize)>,
}

/// Dips in speech shorter than this are between syllables, not pauses.
const VOICED_GAP_MS: u32 = 200;
/// Inside a chunk, a frame this much quieter than the chunk's loud speech is
/// a pause, even when Silero calls it speech: it hears background babble as
/// speech (0.9 and more between the turns of noisy-002), and clause times
/// then find no pause to move onto, so on a mono call one speaker's words
/// are timed over the other's voice. At 12 dB, turn starts on the phone-line
/// calls are a median 0.17 s off (0.22 s without), on the mono ones 0.09 s
/// (0.17 s), and clean calls are unchanged (`scripts/turn_start_error.py`);
/// 10–13 dB measure alike, 6 and 20 dB like none.
const PAUSE_BELOW_LOUD_DB: f32 = 12.0;

/// Why the Silero VAD could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    /// No VAD model where one was asked for.
    #[error("{path}: VAD model not found (install it with scripts/setup.sh, or convert silero_vad_16k.safetensors with `callqa model import`)")]
    Missing {
        /// The VAD model file.
        path: PathBuf,
    },
    /// The reason is in the message, not a source, so it is printed once.
    #[error("cannot load the VAD model: {0}")]
    Load(crate::model::silero::VadConvertError),
}

/// Which detector finds speech.
pub enum SpeechDetector {
    /// Silero VAD: whisper.cpp's speech detector, better on noisy lines.
    Silero(SileroVad),
    /// Frames louder than the channel's own noise floor: no model needed; fine on clean lines, lets noise through on noisy ones.
    Energy,
}

impl SpeechDetector {
    /// Short name for logs and transcript fingerprints.
    pub fn name(&self) -> &'static str {
        match self {
            SpeechDetector::Silero(_) => "silero",
            SpeechDetector::Energy => "energy",
        }
    }

    /// Speech chunks of one 16 kHz channel; `one_voice` when the channel
    /// carries one speaker (a stereo call's), so that a long stretch far
    /// quieter than that voice is not taken for it.
    pub fn speech_chunks(&self, samples: &[f32], settings: &VadSettings, one_voice: bool) -> Vec<SpeechChunk> {
        match self {
            SpeechDetector::Silero(silero) => silero.speech_chunks(samples, settings, one_voice),
            SpeechDetector::Energy => speech_chunks(samples, WHISPER_RATE_HZ, settings),
        }
    }
}

/// The Silero VAD on whisper.cpp's converted weights (`ggml-silero-vad.bin`),
/// run by `audio::silero`: one model, shared by every worker.
pub struct SileroVad {
    /// Boxed: its weights' handles would make every `SpeechDetector` large.
    net: Box<SileroNet>,
    path: PathBuf,
}

/// The VAD model's file name; `scripts/setup.sh` installs it beside the whisper model.
pub const DEFAULT_VAD_MODEL_FILE: &str = "ggml-silero-vad.bin";

/// Where the VAD model is looked for when none is named: beside the whisper model.
pub fn default_vad_model_path(whisper_model: &Path) -> PathBuf {
    whisper_model
        .parent()
        .unwrap_or(Path::new("."))
        .join(DEFAULT_VAD_MODEL_FILE)
}

impl SileroVad {
    /// Loads a ggml Silero VAD model (`callqa model import` makes one).
    pub fn load(path: &Path) -> Result<Self, VadError> {
        if !path.is_file() {
            return Err(VadError::Missing {
                path: path.to_path_buf(),
            });
        }
        let weights = crate::model::silero::read_silero_ggml(path).map_err(VadError::Load)?;
        Ok(Self {
            net: Box::new(SileroNet::new(weights)),
            path: path.to_path_buf(),
        })
    }

    /// The model file, for the transcript's fingerprint and messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `scores` raised where the frames of `afresh` (ranges, by their
    /// starts), each heard afresh, are more like speech; each stretch of
    /// overlapping ranges is run through the network once.
    fn hear_again(&self, samples: &[f32], afresh: &[std::ops::Range<usize>], scores: &mut [f32]) {
        let mut from = 0;
        while from < afresh.len() {
            let start = afresh[from].start;
            let (mut end, mut to) = (afresh[from].end, from + 1);
            while to < afresh.len() && afresh[to].start < end {
                end = end.max(afresh[to].end);
                to += 1;
            }
            let within: Vec<std::ops::Range<usize>> = afresh[from..to]
                .iter()
                .map(|r| r.start - start..r.end - start)
                .collect();
            let stretch = &samples[start * SILERO_FRAME..(end * SILERO_FRAME).min(samples.len())];
            let heard = self.net.probabilities_afresh(stretch, &within);
            for (score, fresh) in scores[start..end].iter_mut().zip(heard) {
                *score = score.max(fresh);
            }
            from = to;
        }
    }

    /// Speech probability per 32 ms frame of a 16 kHz channel.
    pub fn probabilities(&self, samples: &[f32]) -> Vec<f32> {
        self.net.probabilities(samples)
    }

    /// Where a 16 kHz channel holds speech, by Silero's probabilities and
    /// the settings' pauses and padding; on a channel of `one_voice`,
    /// without long stretches far quieter than the voice (see `QuietStretches`).
    pub fn speech_chunks(&self, samples: &[f32], settings: &VadSettings, one_voice: bool) -> Vec<SpeechChunk> {
        let loudness_db = frame_loudness_db(samples, SILERO_FRAME);
        let mut scores = self.probabilities(samples);
        let loud_db = settings.above_floor_db(&loudness_db).max(settings.min_threshold_dbfs);
        let afresh = after_long_sound(&scores, &loudness_db, settings.speech_probability, loud_db);
        self.hear_again(samples, &afresh, &mut scores);
        let activity = FrameActivity {
            frame_samples: SILERO_FRAME,
            frame_ms: (SILERO_FRAME * 1000 / WHISPER_RATE_HZ as usize) as u32,
            threshold: settings.speech_probability,
            scores,
            loudness_db: Some(loudness_db),
            one_voice,
        };
        chunk_frames(&activity, samples.len(), settings)
    }
}

/// A detector's verdict: a score per frame (higher = more like speech) and the
/// score from which a frame counts as speech.
struct FrameActivity {
    frame_samples: usize,
    frame_ms: u32,
    scores: Vec<f32>,
    threshold: f32,
    /// Loudness per frame (dB), for a detector whose scores are not loudness.
    loudness_db: Option<Vec<f32>>,
    /// The channel carries one voice: long quiet stretches are not it.
    one_voice: bool,
}

impl FrameActivity {
    /// Inside the chunk of frames [start, end): the loudness under which a
    /// frame is a pause whatever its score, `PAUSE_BELOW_LOUD_DB` under the
    /// chunk's loud speech (its 90th percentile).
    fn pause_below_db(&self, start: usize, end: usize) -> f32 {
        let Some(loudness) = &self.loudness_db else {
            return f32::MIN;
        };
        let speech: Vec<f32> = (start..end)
            .filter(|&i| self.scores[i] >= self.threshold)
            .filter_map(|i| loudness.get(i).copied())
            .collect();
        if speech.is_empty() {
            return f32::MIN;
        }
        percentile(&speech, 0.9) - PAUSE_BELOW_LOUD_DB
    }

    /// How many of its frames last `ms` (at least one).
    fn frames_for(&self, ms: u32) -> usize {
        (ms / self.frame_ms.max(1)).max(1) as usize
    }

    fn is_voiced(&self, frame: usize, pause_below_db: f32) -> bool {
        let loud_enough = self
            .loudness_db
            .as_ref()
            .and_then(|loudness| loudness.get(frame))
            .is_none_or(|&db| db >= pause_below_db);
        self.scores[frame] >= self.threshold && loud_enough
    }
}

/// Loud sound Silero does not take for speech (hold music, ringback, an
/// IVR's tones) for this long (2 s; rests under `SOUND_ENDS_FRAMES` not
/// counted) leaves it deaf for a while to the voice that follows: after 14 s
/// of hold music and a second of silence the agent's first syllables scored
/// under 0.1 (让您 of 让您久等了, `ivr-mono` ib-06, so whisper heard
/// 请久等了), heard afresh from the silence 0.9 and more; an announcement
/// straight after the music lost its first 1.5 s (坐席正忙, `ivr-b` ib-03),
/// heard afresh from inside the music 0.6 to 1.0. So from such a sound on,
/// it hears the audio a second time with its memory reset, as at a
/// channel's start, again every `AFRESH_EVERY_FRAMES` while the sound lasts
/// and from the quiet after it, and the higher hearing counts. Heard afresh,
/// the music itself stays mostly under 0.3; a note of it now and then is
/// taken for a voice (about 7 % of the hold music's seconds on the IVR sample
/// sets), and whisper writes nothing there. Not everywhere: across the
/// silences of ordinary turn-taking its memory of the voice helps (heard
/// afresh from each pause, a phone line's words scored lower, and
/// `lines-b`'s recall fell from 0.93 to 0.86).
const LONG_SOUND_FRAMES: usize = 62;
/// The quiet that ends such a sound: 0.3 s (a rest in the music is shorter).
const SOUND_ENDS_FRAMES: usize = 10;
/// How often a fresh hearing starts while the sound lasts: each second.
const AFRESH_EVERY_FRAMES: usize = 31;
/// How long a fresh hearing goes on (2 s), after the quiet for the one
/// that starts in it.
const HEARD_AFRESH_FRAMES: usize = 64;

/// The frames to hear afresh (see `LONG_SOUND_FRAMES`), in order of their
/// starts: in a long loud sound without speech, a hearing every
/// `AFRESH_EVERY_FRAMES` from its `LONG_SOUND_FRAMES`th frame; and one
/// over the quiet after it and `HEARD_AFRESH_FRAMES` more. A frame is
/// speech at `threshold` of `scores`, loud at `loud_db` of `loudness_db`.
fn after_long_sound(scores: &[f32], loudness_db: &[f32], threshold: f32, loud_db: f32) -> Vec<std::ops::Range<usize>> {
    let n = scores.len().min(loudness_db.len());
    let quiet = |i: usize| scores[i] < threshold && loudness_db[i] < loud_db;
    let mut ranges = Vec::new();
    let mut sound = 0;
    let mut i = 0;
    while i < n {
        if scores[i] >= threshold {
            sound = 0;
        } else if !quiet(i) {
            sound += 1;
            if sound >= LONG_SOUND_FRAMES && (sound - LONG_SOUND_FRAMES).is_multiple_of(AFRESH_EVERY_FRAMES) {
                ranges.push(i..(i + HEARD_AFRESH_FRAMES).min(n));
            }
        } else {
            let gap_end = (i..n).find(|&j| !quiet(j)).unwrap_or(n);
            if gap_end - i >= SOUND_ENDS_FRAMES {
                if sound >= LONG_SOUND_FRAMES {
                    ranges.push(i..(gap_end + HEARD_AFRESH_FRAMES).min(n));
                }
                sound = 0;
            }
            i = gap_end;
            continue;
        }
        i += 1;
    }
    ranges
}

/// Mean power per frame of `frame` samples, in dB of full scale (digital
/// silence at -100 dB, far under any threshold either detector uses).
fn frame_loudness_db(samples: &[f32], frame: usize) -> Vec<f32> {
    samples
        .chunks(frame)
        .map(|c| 10.0 * (c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32 + 1e-10).log10())
        .collect()
}

/// Finds the speech chunks of one channel sampled at `rate_hz` by energy alone.
pub fn speech_chunks(samples: &[f32], rate_hz: u32, settings: &VadSettings) -> Vec<SpeechChunk> {
    let frame = (rate_hz as usize * settings.frame_ms as usize / 1000).max(1);
    let energies = frame_loudness_db(samples, frame);
    if energies.is_empty() {
        return Vec::new();
    }
    let from_floor = settings.above_floor_db(&energies);
    let from_peak = percentile(&energies, 0.95) - settings.threshold_below_peak_db;
    let activity = FrameActivity {
        frame_samples: frame,
        frame_ms: settings.frame_ms,
        threshold: from_floor.min(from_peak).max(settings.min_threshold_dbfs),
        scores: energies,
        // the scores are loudness, against a threshold from the channel's own floor
        loudness_db: None,
        one_voice: false,
    };
    chunk_frames(&activity, samples.len(), settings)
}

/// Speech frames → chunks: runs bridged across short pauses, bursts dropped,
/// padded, long runs split, overlaps merged.
fn chunk_frames(activity: &FrameActivity, n_samples: usize, settings: &VadSettings) -> Vec<SpeechChunk> {
    let scores = &activity.scores;

    // runs of speech frames, bridged across pauses shorter than min_pause
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, &score) in scores.iter().enumerate() {
        if score < activity.threshold {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if i - *end < activity.frames_for(settings.min_pause_ms) => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs.retain(|(s, e)| e - s >= activity.frames_for(settings.min_speech_ms));
    let babble = without_babble(activity, &mut runs, settings);

    let pad = activity.frames_for(settings.pad_ms);
    let max_frames = ((settings.max_chunk_s * 1000.0) as u32 / activity.frame_ms.max(1)) as usize;
    let mut chunks = Vec::new();
    for (s, e) in runs {
        let (s, e) = (s.saturating_sub(pad), (e + pad).min(scores.len()));
        split_long(scores, s, e, max_frames, &mut chunks);
    }
    // padding may make neighbours overlap: merge them rather than transcribe twice
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in chunks {
        match merged.last().copied() {
            Some((ms, me)) if s <= me && e - ms <= max_frames => merged.last_mut().expect("non-empty").1 = e,
            Some((_, me)) if s < me => merged.push((me, e)),
            _ => merged.push((s, e)),
        }
    }
    let frame = activity.frame_samples;
    let bridge = activity.frames_for(VOICED_GAP_MS);
    merged
        .into_iter()
        .map(|(s, e)| {
            let start = (s * frame).min(n_samples);
            let end = (e * frame).min(n_samples);
            let pause_below = activity.pause_below_db(s, e);
            let mut voiced: Vec<(usize, usize)> = Vec::new();
            let heard = |i: usize| activity.is_voiced(i, pause_below) && !babble.as_ref().is_some_and(|b| b[i]);
            for i in (s..e).filter(|&i| heard(i)) {
                match voiced.last_mut() {
                    Some((_, run_end)) if i - *run_end <= bridge => *run_end = i + 1,
                    _ => voiced.push((i, i + 1)),
                }
            }
            let voiced = voiced
                .into_iter()
                .map(|(a, b)| {
                    (
                        (a * frame).clamp(start, end) - start,
                        (b * frame).clamp(start, end) - start,
                    )
                })
                .filter(|(a, b)| b > a)
                .collect::<Vec<_>>();
            SpeechChunk {
                start,
                end,
                voiced: if voiced.is_empty() {
                    vec![(0, end - start)]
                } else {
                    voiced
                },
            }
        })
        .filter(|c| c.end > c.start)
        .collect()
}

/// Around a cut quiet stretch, this much of it is kept beside the voice: a
/// turn's first syllable and its breathy onset are often under the gate,
/// and the padding alone is 0.3 s. (Measured on lines-a against no margin,
/// with a channel-wide reference: the same phrases found, precision
/// 0.976 → 0.988, decoding no slower within the machine's noise.)
const QUIET_EDGE_KEPT_MS: u32 = 500;
/// The voice's loud speech is taken over this many seconds either side of a
/// frame: a call's level moves (an AGC, a recorded prompt louder than the
/// agent), and babble is judged against the voice near it.
const LOUD_REFERENCE_WINDOW_S: usize = 20;

/// Per frame: Silero calls it speech and it is within
/// `quiet_below_loud_db` of the loud speech (95th percentile of the speech
/// frames' loudness) in the `LOUD_REFERENCE_WINDOW_S` around it.
fn loud_speech_frames(
    scores: &[f32],
    threshold: f32,
    loudness: &[f32],
    settings: &VadSettings,
    frame_ms: u32,
) -> Vec<bool> {
    let per_s = (1000 / frame_ms.max(1)) as usize;
    let block = per_s.max(1);
    let window = LOUD_REFERENCE_WINDOW_S * per_s;
    let n = scores.len().min(loudness.len());
    let mut is_loud = vec![false; scores.len()];
    for block_start in (0..n).step_by(block) {
        let from = block_start.saturating_sub(window);
        let to = (block_start + block + window).min(n);
        let speech: Vec<f32> = (from..to)
            .filter(|&i| scores[i] >= threshold)
            .map(|i| loudness[i])
            .collect();
        if speech.is_empty() {
            continue;
        }
        let gate = percentile(&speech, 0.95) - settings.quiet_below_loud_db;
        for i in block_start..(block_start + block).min(n) {
            is_loud[i] = scores[i] >= threshold && loudness[i] >= gate;
        }
    }
    is_loud
}

/// Stretches that Silero calls speech but that are not the channel's voice:
/// at least `min_frames` with no loud speech frame (`loud_speech_frames`).
/// Silero hears call-center babble as speech (0.9 and more); on the AMR-NB
/// lines with babble 12-18 dB under the voice, that doubled what whisper
/// decoded, and whisper wrote the babble as the agent's or the customer's
/// words (81 segments, 179 s of speech nobody on the call said, on lines-a).
/// Only long stretches go: a short soft word is kept whatever its level.
struct QuietStretches {
    is_loud: Vec<bool>,
    min_frames: usize,
    kept_frames: usize,
    min_speech_frames: usize,
}

impl QuietStretches {
    /// The run of speech frames [s, e) without its long quiet stretches:
    /// the pieces kept, each with whether a stretch was cut before and after it.
    fn cut(&self, s: usize, e: usize) -> Vec<(usize, usize, bool, bool)> {
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for i in (s..e).filter(|&i| self.is_loud[i]) {
            match groups.last_mut() {
                Some((_, end)) if i - *end < self.min_frames => *end = i + 1,
                _ => groups.push((i, i + 1)),
            }
        }
        groups.retain(|(a, b)| b - a >= self.min_speech_frames);
        if groups.is_empty() {
            // quiet throughout: babble if long, a soft word if not
            return if e - s < self.min_frames {
                vec![(s, e, false, false)]
            } else {
                Vec::new()
            };
        }
        let last = groups.len() - 1;
        groups
            .into_iter()
            .enumerate()
            .map(|(k, (a, b))| {
                let cut_before = !(k == 0 && a - s < self.min_frames);
                let cut_after = !(k == last && e - b < self.min_frames);
                let a = if cut_before {
                    a.saturating_sub(self.kept_frames).max(s)
                } else {
                    s
                };
                let b = if cut_after { (b + self.kept_frames).min(e) } else { e };
                (a, b, cut_before, cut_after)
            })
            .collect()
    }
}

/// On a channel of one voice, `runs` without their long quiet stretches
/// (`QuietStretches`), and per frame whether it is babble kept beside a
/// cut (with the padding beyond it), which is not voiced: words spread
/// over it were timed early (noisy-002's 冷静一点 1.5 s early, over the
/// customer). Elsewhere inside a chunk the 12 dB rule of `pause_below_db`
/// stands: taking only the voice's own frames as voiced everywhere on a
/// channel with babble put lines-a's turn starts a median 0.13 s off, but
/// moved the agents' enrolled prints, made from those turns, away from
/// their voices on the mono sample calls, whose babble stays (agent's
/// lines on respoken-1 0.949 → 0.897); at the cuts alone, 0.16 s and 0.949.
fn without_babble(
    activity: &FrameActivity,
    runs: &mut Vec<(usize, usize)>,
    settings: &VadSettings,
) -> Option<Vec<bool>> {
    let loudness = activity.loudness_db.as_ref().filter(|_| activity.one_voice)?;
    let quiet = QuietStretches {
        is_loud: loud_speech_frames(
            &activity.scores,
            activity.threshold,
            loudness,
            settings,
            activity.frame_ms,
        ),
        min_frames: activity.frames_for(settings.quiet_stretch_ms),
        kept_frames: activity.frames_for(QUIET_EDGE_KEPT_MS),
        min_speech_frames: activity.frames_for(settings.min_speech_ms),
    };
    let pieces: Vec<(usize, usize, bool, bool)> = runs.iter().flat_map(|&(s, e)| quiet.cut(s, e)).collect();
    *runs = pieces.iter().map(|&(a, b, _, _)| (a, b)).collect();
    // the babble kept beside a cut, and the padding beyond it, is not voice
    let margin = quiet.kept_frames + activity.frames_for(settings.pad_ms);
    let n = activity.scores.len();
    let mut babble = vec![false; n];
    for &(a, b, before, after) in &pieces {
        let edges = [
            (before, a.saturating_sub(margin)..(a + quiet.kept_frames).min(n)),
            (after, b.saturating_sub(quiet.kept_frames)..(b + margin).min(n)),
        ];
        for (cut, range) in edges {
            if cut {
                range.filter(|&i| !quiet.is_loud[i]).for_each(|i| babble[i] = true);
            }
        }
    }
    Some(babble)
}

/// Splits [start, end) at its least speech-like frame (away from the edges)
/// until every part fits in `max_frames`.
fn split_long(scores: &[f32], start: usize, end: usize, max_frames: usize, out: &mut Vec<(usize, usize)>) {
    if end - start <= max_frames {
        out.push((start, end));
        return;
    }
    let margin = (end - start) / 4;
    let cut = (start + margin..end - margin)
        .min_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .unwrap_or((start + end) / 2);
    split_long(scores, start, cut, max_frames, out);
    split_long(scores, cut, end, max_frames, out);
}

fn percentile(values: &[f32], q: f32) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[((sorted.len() - 1) as f32 * q) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 16_000;

    /// Silence with faint hiss, and loud tone bursts at the given (start, end) seconds.
    fn channel(seconds: f32, bursts: &[(f32, f32)]) -> Vec<f32> {
        let n = (seconds * RATE as f32) as usize;
        let mut seed = 1u32;
        (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let hiss = (seed >> 16) as f32 / 65_536.0 * 0.002 - 0.001;
                let t = i as f32 / RATE as f32;
                let tone = if bursts.iter().any(|(s, e)| t >= *s && t < *e) {
                    0.3 * (t * 2.0 * std::f32::consts::PI * 220.0).sin()
                } else {
                    0.0
                };
                hiss + tone
            })
            .collect()
    }

    fn seconds(chunks: &[SpeechChunk]) -> Vec<(f32, f32)> {
        chunks
            .iter()
            .map(|c| (c.start as f32 / RATE as f32, c.end as f32 / RATE as f32))
            .collect()
    }

    #[test]
    fn a_long_sound_without_speech_and_the_quiet_after_it_are_heard_afresh() {
        let (quiet, loud, speech) = ((0.0, -70.0), (0.0, -30.0), (0.9, -30.0));
        let mut frames = vec![loud; 31];
        frames.extend([quiet; SOUND_ENDS_FRAMES - 1]); // a rest in the music
        frames.extend(vec![loud; 32]);
        // the music's LONG_SOUND_FRAMESth loud frame, past the rest
        let long_from = LONG_SOUND_FRAMES + SOUND_ENDS_FRAMES - 2;
        let after_music = frames.len();
        frames.extend([quiet; 20]);
        frames.extend(vec![speech; 100]);
        frames.extend(vec![loud; LONG_SOUND_FRAMES - 1]); // too short
        frames.extend([quiet; 20]);
        frames.extend(vec![loud; LONG_SOUND_FRAMES]); // at the end: nothing follows
        let n = frames.len();
        let (scores, loudness): (Vec<f32>, Vec<f32>) = frames.into_iter().unzip();
        assert_eq!(
            after_long_sound(&scores, &loudness, 0.5, -50.0),
            vec![
                long_from..long_from + HEARD_AFRESH_FRAMES,
                after_music..after_music + 20 + HEARD_AFRESH_FRAMES,
                n - 1..n,
            ]
        );
    }

    #[test]
    fn finds_bursts_and_skips_silence() {
        let audio = channel(20.0, &[(1.0, 3.0), (10.0, 12.5)]);
        let settings = VadSettings::default();
        let pad_s = settings.pad_ms as f32 / 1000.0;
        let chunks = speech_chunks(&audio, RATE, &settings);
        let found = seconds(&chunks);
        assert_eq!(found.len(), 2, "{found:?}");
        for (got, (start, end)) in found.iter().zip([(1.0, 3.0), (10.0, 12.5)]) {
            assert!(
                (got.0 - (start - pad_s)).abs() < 0.1 && (got.1 - (end + pad_s)).abs() < 0.1,
                "{found:?}"
            );
        }
        // the voice inside each chunk is the burst, without the padding
        for (chunk, burst_s) in chunks.iter().zip([2.0, 2.5]) {
            assert_eq!(chunk.voiced.len(), 1, "{chunk:?}");
            let (a, b) = chunk.voiced[0];
            assert!((a as f32 / RATE as f32 - pad_s).abs() < 0.05, "{chunk:?}");
            assert!(((b - a) as f32 / RATE as f32 - burst_s).abs() < 0.05, "{chunk:?}");
        }
    }

    #[test]
    fn babble_that_silero_calls_speech_is_a_pause_when_much_quieter() {
        // 32 ms frames: speech at -20 dB, then 0.6 s of babble at -35 dB that
        // the detector scores as speech, then speech again
        let frames = |n: usize, db: f32| std::iter::repeat_n(db, n);
        let loudness: Vec<f32> = frames(10, -70.0)
            .chain(frames(40, -20.0))
            .chain(frames(19, -35.0))
            .chain(frames(40, -21.0))
            .chain(frames(10, -70.0))
            .collect();
        let scores: Vec<f32> = loudness
            .iter()
            .map(|&db| if db > -50.0 { 0.95 } else { 0.05 })
            .collect();
        let voiced_s = |loudness_db: Option<Vec<f32>>| {
            let activity = FrameActivity {
                frame_samples: 512,
                frame_ms: 32,
                scores: scores.clone(),
                threshold: 0.5,
                loudness_db,
                one_voice: false,
            };
            let chunks = chunk_frames(&activity, scores.len() * 512, &VadSettings::default());
            assert_eq!(chunks.len(), 1, "{chunks:?}");
            let start = chunks[0].start;
            chunks[0]
                .voiced
                .iter()
                .map(|&(a, b)| ((start + a) as f32 / RATE as f32, (start + b) as f32 / RATE as f32))
                .collect::<Vec<_>>()
        };
        let voiced = voiced_s(Some(loudness.clone()));
        assert_eq!(voiced.len(), 2, "{voiced:?}");
        assert!((voiced[0].1 - 50.0 * 0.032).abs() < 0.01, "{voiced:?}");
        assert!((voiced[1].0 - 69.0 * 0.032).abs() < 0.01, "{voiced:?}");
        // a few dB quieter is still speech (a softer word, not a pause)
        let softer: Vec<f32> = loudness
            .iter()
            .map(|&db| if db == -35.0 { -26.0 } else { db })
            .collect();
        assert_eq!(voiced_s(Some(softer)).len(), 1);
        // without loudness, the scores alone decide
        assert_eq!(voiced_s(None).len(), 1);
    }

    /// Chunks (in seconds) of 32 ms frames at the given loudness, every
    /// frame above -50 dB scored as speech (as Silero scores babble).
    fn chunks_of_one_voice(loudness: &[f32], one_voice: bool) -> Vec<(f32, f32)> {
        chunk_frames(
            &activity_of(loudness, one_voice),
            loudness.len() * 512,
            &VadSettings::default(),
        )
        .iter()
        .map(|c| (c.start as f32 / RATE as f32, c.end as f32 / RATE as f32))
        .collect()
    }

    fn activity_of(loudness: &[f32], one_voice: bool) -> FrameActivity {
        FrameActivity {
            frame_samples: 512,
            frame_ms: 32,
            scores: loudness
                .iter()
                .map(|&db| if db > -50.0 { 0.95 } else { 0.05 })
                .collect(),
            threshold: 0.5,
            loudness_db: Some(loudness.to_vec()),
            one_voice,
        }
    }

    /// 32 ms frames' loudness over stretches of (seconds, dB).
    fn timeline(stretches: &[(f32, f32)]) -> Vec<f32> {
        stretches
            .iter()
            .flat_map(|&(seconds, db)| std::iter::repeat_n(db, (seconds / 0.032).round() as usize))
            .collect()
    }

    #[test]
    fn long_babble_far_under_the_voice_is_not_the_voice() {
        // a turn, 8 s of babble 10 dB under the voice (within the 12 dB that
        // counts as voice inside a chunk), another turn
        let loudness = timeline(&[(1.0, -70.0), (3.0, -20.0), (8.0, -30.0), (3.0, -21.0), (1.0, -70.0)]);
        // a mixed channel: both voices' levels may differ that much, all kept
        let mixed = chunks_of_one_voice(&loudness, false);
        assert!(mixed.iter().map(|(a, b)| b - a).sum::<f32>() > 14.0, "{mixed:?}");
        // one voice: the babble goes, half a second of it kept beside each
        // turn (and the padding), so a soft first syllable is not cut
        let chunks = chunks_of_one_voice(&loudness, true);
        assert_eq!(chunks.len(), 2, "{chunks:?}");
        // ...but that babble is not voiced: words are timed on the voice
        let activity = activity_of(&loudness, true);
        let second = &chunk_frames(&activity, loudness.len() * 512, &VadSettings::default())[1];
        let voiced_from = (second.start + second.voiced[0].0) as f32 / RATE as f32;
        assert!((voiced_from - 12.0).abs() < 0.05, "{second:?}");
        assert!((chunks[0].0 - 0.7).abs() < 0.05, "{chunks:?}");
        assert!((chunks[0].1 - 4.8).abs() < 0.1, "{chunks:?}");
        assert!((chunks[1].0 - 11.2).abs() < 0.1, "{chunks:?}");
        assert!((chunks[1].1 - 15.3).abs() < 0.05, "{chunks:?}");
    }

    #[test]
    fn a_short_soft_word_and_a_softer_turn_are_kept() {
        // a turn, a pause, a soft 嗯 (0.5 s, 15 dB under), a pause, a turn 6 dB softer
        let loudness = timeline(&[
            (1.0, -70.0),
            (3.0, -20.0),
            (1.5, -70.0),
            (0.5, -35.0),
            (1.5, -70.0),
            (3.0, -26.0),
            (1.0, -70.0),
        ]);
        let kept = chunks_of_one_voice(&loudness, true);
        assert_eq!(kept, chunks_of_one_voice(&loudness, false));
        assert_eq!(kept.len(), 3, "{kept:?}");
    }

    #[test]
    fn the_voice_is_judged_against_its_own_level_nearby() {
        // a loud recorded prompt, then long after it an agent 12 dB softer:
        // the agent's speech is measured against the agent, not the prompt
        let loudness = timeline(&[(1.0, -70.0), (8.0, -12.0), (50.0, -70.0), (6.0, -24.0), (1.0, -70.0)]);
        let chunks = chunks_of_one_voice(&loudness, true);
        let agent: f32 = chunks.iter().filter(|(a, _)| *a > 50.0).map(|(a, b)| b - a).sum();
        assert!(agent > 6.0, "{chunks:?}");
    }

    #[test]
    fn a_pause_inside_a_chunk_is_not_voiced() {
        // 0.6 s pause: shorter than a chunk-ending pause, longer than a syllable gap
        let audio = channel(6.0, &[(1.0, 2.0), (2.6, 3.5)]);
        let chunks = speech_chunks(&audio, RATE, &VadSettings::default());
        assert_eq!(chunks.len(), 1, "{chunks:?}");
        let voiced: Vec<(f32, f32)> = chunks[0]
            .voiced
            .iter()
            .map(|&(a, b)| {
                (
                    (chunks[0].start + a) as f32 / RATE as f32,
                    (chunks[0].start + b) as f32 / RATE as f32,
                )
            })
            .collect();
        assert_eq!(voiced.len(), 2, "{voiced:?}");
        assert!(
            (voiced[0].0 - 1.0).abs() < 0.05 && (voiced[0].1 - 2.0).abs() < 0.05,
            "{voiced:?}"
        );
        assert!(
            (voiced[1].0 - 2.6).abs() < 0.05 && (voiced[1].1 - 3.5).abs() < 0.05,
            "{voiced:?}"
        );
    }

    #[test]
    fn short_pauses_stay_inside_one_chunk_long_ones_split() {
        let audio = channel(10.0, &[(1.0, 2.0), (2.2, 3.0), (5.0, 6.0)]);
        let found = seconds(&speech_chunks(&audio, RATE, &VadSettings::default()));
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn silence_and_clicks_give_nothing() {
        assert!(speech_chunks(&channel(5.0, &[]), RATE, &VadSettings::default()).is_empty());
        assert!(speech_chunks(&channel(5.0, &[(2.0, 2.05)]), RATE, &VadSettings::default()).is_empty());
        assert!(speech_chunks(&[], RATE, &VadSettings::default()).is_empty());
    }

    #[test]
    fn a_channel_that_is_all_speech_is_all_kept() {
        let audio = channel(3.0, &[(0.0, 3.0)]);
        let found = seconds(&speech_chunks(&audio, RATE, &VadSettings::default()));
        assert_eq!(found, vec![(0.0, 3.0)]);
    }

    #[test]
    fn long_speech_is_cut_below_the_limit() {
        let audio = channel(70.0, &[(0.5, 69.5)]);
        let settings = VadSettings::default();
        let chunks = speech_chunks(&audio, RATE, &settings);
        assert!(chunks.len() >= 5, "{:?}", seconds(&chunks));
        for c in &chunks {
            assert!((c.end - c.start) as f32 / RATE as f32 <= settings.max_chunk_s + 0.01);
        }
        // contiguous: nothing lost between parts
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }
}

//! What a stretch of speech sounds like: the numbers per segment that tell
//! two voices on one mixed line apart.
//!
//! On a mono recording the transcript cannot say who spoke. Two people on one
//! line differ most reliably in pitch: the print is a segment's median pitch
//! over its voiced frames, and how much of it was voiced. (Mean mel cepstra,
//! the spectral envelope, were measured too and dropped: on the mixed-down
//! sample calls they separated the voices worse than chance where pitch alone
//! got 82 % of segments right, and adding them to pitch made it worse.)
//!
//! The print also holds the segment's loudness: a customer whose voice rises
//! in pitch and level against their own start of the call is a risk signal
//! (`rules::risk`). Every segment gets a print, on every channel.
//!
//! Prints are made here, from the audio, while it is at hand; the rules stage
//! (`rules::speakers`) groups them into two voices and decides which one is
//! the agent's, with the lexicon, at scoring time, so a new lexicon
//! re-attributes calls without the audio.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::{SpeakerTrack, WHISPER_RATE_HZ};
use crate::transcript::{Segment, VoicePrint};

/// Names the voice-print method: transcripts printed by another need printing again.
pub const VOICE_PRINTS: &str = "pitch+level/3";

/// The voice-print method's name with the voice vectors (`voice_vector`) or
/// without them (no encoder installed).
pub fn voice_prints_stamp(vectors: bool) -> String {
    if vectors {
        format!("{VOICE_PRINTS}+ge2e/3")
    } else {
        VOICE_PRINTS.to_string()
    }
}

/// Frames step 10 ms.
const HOP: usize = 160;
/// Seconds per frame of [`VoicePrinter::pitch_contour`].
pub const CONTOUR_FRAME_S: f64 = HOP as f64 / WHISPER_RATE_HZ as f64;
/// Energy frames are 25 ms.
const FRAME: usize = 400;
/// Pitch frames are 40 ms: two periods of the lowest pitch searched.
const PITCH_FRAME: usize = 640;
const PITCH_FFT: usize = 2048;
/// Pitch searched between these (Hz): low male voices to high female ones.
const PITCH_MIN_HZ: f32 = 70.0;
const PITCH_MAX_HZ: f32 = 400.0;
/// A frame is voiced when its normalised autocorrelation peak reaches this.
const VOICED_CLARITY: f32 = 0.45;
/// Frames within this many dB of a segment's loudest frames are its voice;
/// quieter ones are pauses and line noise.
const SPEECH_WITHIN_DB: f32 = 25.0;
/// A shorter lag within this share of the best autocorrelation peak is the
/// period, not a multiple of it.
const OCTAVE_TOLERANCE: f32 = 0.9;
/// Quieter than this (dB of full scale) is never speech, however quiet the rest.
const MIN_SPEECH_DB: f32 = -60.0;
/// Fewer voiced speech frames than this (0.1 s) make no print.
const MIN_VOICED_FRAMES: usize = 10;

/// Gives each of `segments` spoken on `track` (those of the track's speaker:
/// the mixed track's unknown speech, or one side's channel) its voice print.
pub fn print_voices(track: &SpeakerTrack, segments: &mut [Segment]) {
    let printer = VoicePrinter::of(&track.samples);
    for segment in segments.iter_mut().filter(|s| s.speaker == track.speaker) {
        segment.voice = printer.voice_print(segment.start, segment.end);
    }
}

/// Prints the voice of stretches of one 16 kHz track. Only the frames of the
/// stretches asked for are measured: pauses between segments never are.
pub struct VoicePrinter<'a> {
    samples: &'a [f32],
    pitch: Pitch,
}

impl<'a> VoicePrinter<'a> {
    /// A printer for one 16 kHz channel (its FFT planned once, for all its segments).
    pub fn of(samples: &'a [f32]) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let pitch = Pitch::new(planner.plan_fft_forward(PITCH_FFT), planner.plan_fft_inverse(PITCH_FFT));
        Self { samples, pitch }
    }

    /// The voice print of the speech between `start_s` and `end_s`, or `None`
    /// when the stretch holds too little voiced speech to tell.
    pub fn voice_print(&self, start_s: f64, end_s: f64) -> Option<VoicePrint> {
        let (mut pitch, mut level) = self.voiced_frames(start_s, end_s);
        if pitch.len() < MIN_VOICED_FRAMES {
            return None;
        }
        pitch.sort_by(f32::total_cmp);
        level.sort_by(f32::total_cmp);
        // two decimals (a 70th of an octave) are finer than voices differ, and keep transcripts small
        let round = |v: f32| (v * 100.0).round() / 100.0;
        Some(VoicePrint {
            pitch: round(pitch[pitch.len() / 2]),
            voiced_s: round(pitch.len() as f32 * HOP as f32 / WHISPER_RATE_HZ as f32),
            level_db: Some((level[level.len() / 2] * 10.0).round() / 10.0),
        })
    }

    /// The pitch (octaves above 100 Hz) of every 10 ms frame of the track, NaN
    /// where it is not voiced speech (unvoiced, or 25 dB below the track's
    /// loudest): whose voice each moment is, for telling a recorded prompt's
    /// voice from the people's.
    pub fn pitch_contour(&self) -> Vec<f32> {
        let frames = self.samples.len() / HOP;
        let (energy_db, gate) = self.levels_db(0..frames);
        let mut scratch = self.pitch.scratch();
        (0..frames)
            .map(|f| {
                if energy_db[f] < gate {
                    f32::NAN
                } else {
                    self.pitch
                        .frame(window_at(self.samples, f * HOP, PITCH_FRAME), &mut scratch)
                }
            })
            .collect()
    }

    /// The level (dB) of each 10 ms frame of `frames`, and the gate below
    /// which a frame is a pause or line noise, not speech (25 dB under the
    /// loudest, never under −60 dB).
    fn levels_db(&self, frames: std::ops::Range<usize>) -> (Vec<f32>, f32) {
        let energy_db: Vec<f32> = frames
            .map(|f| {
                let energy: f32 = window_at(self.samples, f * HOP, FRAME).map(|x| x * x).sum();
                10.0 * (energy / FRAME as f32 + 1e-10).log10()
            })
            .collect();
        let loudest = energy_db.iter().copied().fold(f32::MIN, f32::max);
        (energy_db, (loudest - SPEECH_WITHIN_DB).max(MIN_SPEECH_DB))
    }

    /// (pitch, level dB) of the voiced speech frames of a stretch.
    fn voiced_frames(&self, start_s: f64, end_s: f64) -> (Vec<f32>, Vec<f32>) {
        let frames = self.samples.len() / HOP;
        let frame_of = |s: f64| ((s.max(0.0) * WHISPER_RATE_HZ as f64) as usize / HOP).min(frames);
        let (first, last) = (frame_of(start_s), frame_of(end_s));
        if last <= first {
            return (Vec::new(), Vec::new());
        }
        let (energy_db, gate) = self.levels_db(first..last);
        let mut scratch = self.pitch.scratch();
        // (pitch, level) of each voiced speech frame
        (first..last)
            .zip(&energy_db)
            .filter(|&(_, &db)| db >= gate)
            .map(|(f, &db)| {
                let pitch = self
                    .pitch
                    .frame(window_at(self.samples, f * HOP, PITCH_FRAME), &mut scratch);
                (pitch, db)
            })
            .filter(|(p, _)| !p.is_nan())
            .unzip()
    }
}

/// `len` samples from `at`, zero-padded past the end.
fn window_at(samples: &[f32], at: usize, len: usize) -> impl Iterator<Item = f32> + '_ {
    samples[at.min(samples.len())..]
        .iter()
        .copied()
        .chain(std::iter::repeat(0.0))
        .take(len)
}

fn hann(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / len as f32).cos())
        .collect()
}

/// Buffers reused from frame to frame.
struct Scratch {
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    output: Vec<f32>,
}

/// Pitch by autocorrelation (through the FFT), normalised by the window's own.
struct Pitch {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    window: Vec<f32>,
    /// The window's autocorrelation, per lag: divides out the taper.
    window_acf: Vec<f32>,
}

impl Pitch {
    fn new(forward: Arc<dyn RealToComplex<f32>>, inverse: Arc<dyn ComplexToReal<f32>>) -> Self {
        let window = hann(PITCH_FRAME);
        let max_lag = Self::max_lag();
        let window_acf = (0..=max_lag)
            .map(|lag| (0..PITCH_FRAME - lag).map(|i| window[i] * window[i + lag]).sum())
            .collect();
        Self {
            forward,
            inverse,
            window,
            window_acf,
        }
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            input: self.forward.make_input_vec(),
            spectrum: self.forward.make_output_vec(),
            output: self.inverse.make_output_vec(),
        }
    }

    fn min_lag() -> usize {
        (WHISPER_RATE_HZ as f32 / PITCH_MAX_HZ) as usize
    }

    fn max_lag() -> usize {
        (WHISPER_RATE_HZ as f32 / PITCH_MIN_HZ).ceil() as usize
    }

    /// The frame's pitch in octaves above 100 Hz, or `NaN` when unvoiced.
    fn frame(&self, samples: impl Iterator<Item = f32>, scratch: &mut Scratch) -> f32 {
        let input = &mut scratch.input;
        input.fill(0.0);
        let mut sum = 0f32;
        let mut n = 0;
        for ((slot, x), w) in input.iter_mut().zip(samples).zip(&self.window) {
            *slot = x * w;
            sum += x;
            n += 1;
        }
        if n < PITCH_FRAME {
            return f32::NAN;
        }
        let mean = sum / n as f32;
        for (slot, w) in input.iter_mut().zip(&self.window) {
            *slot -= mean * w;
        }
        let spectrum = &mut scratch.spectrum;
        self.forward
            .process(input, spectrum)
            .expect("buffers are the planned size");
        for c in spectrum.iter_mut() {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        let acf = &mut scratch.output;
        self.inverse
            .process(spectrum, acf)
            .expect("buffers are the planned size");
        if acf[0] <= 1e-9 {
            return f32::NAN;
        }
        let norm = |lag: usize| acf[lag] / acf[0] * self.window_acf[0] / self.window_acf[lag];
        let lags = Self::min_lag()..=Self::max_lag();
        let clarity = lags.clone().map(norm).fold(f32::MIN, f32::max);
        if clarity < VOICED_CLARITY {
            return f32::NAN;
        }
        // a periodic voice correlates as well at two and three periods: the
        // shortest lag that nearly reaches the best peak is the period
        let Some(lag) = lags.clone().find(|&lag| {
            let r = norm(lag);
            r >= OCTAVE_TOLERANCE * clarity && r >= norm(lag - 1) && (lag == *lags.end() || r >= norm(lag + 1))
        }) else {
            return f32::NAN;
        };
        (WHISPER_RATE_HZ as f32 / lag as f32 / 100.0).log2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Speaker;

    /// A buzzy vowel-like tone: harmonics of `f0` under one formant.
    fn voice(f0: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * WHISPER_RATE_HZ as f32) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / WHISPER_RATE_HZ as f32;
                (1..=30)
                    .map(|h| {
                        let f = f0 * h as f32;
                        let gain = (-((f - 900.0) / 600.0).powi(2)).exp();
                        0.05 * gain * (2.0 * std::f32::consts::PI * f * t).sin()
                    })
                    .sum()
            })
            .collect()
    }

    fn pitch_hz(print: &VoicePrint) -> f32 {
        100.0 * 2f32.powf(print.pitch)
    }

    #[test]
    fn pitch_is_found_for_low_and_high_voices() {
        for f0 in [95.0, 140.0, 220.0, 310.0] {
            let samples = voice(f0, 1.0);
            let frames = VoicePrinter::of(&samples);
            let print = frames.voice_print(0.0, 1.0).unwrap();
            let found = pitch_hz(&print);
            // the print is rounded to a 70th of an octave: 1 %
            assert!((found / f0 - 1.0).abs() < 0.03, "{f0} Hz heard as {found}");
            assert!(print.voiced_s > 0.9, "{print:?}");
        }
    }

    #[test]
    fn each_segment_gets_the_pitch_of_its_own_stretch() {
        let mut line = voice(120.0, 1.0);
        line.extend(vec![0.0; 8000]);
        line.extend(voice(230.0, 1.0));
        let mut segments = vec![
            Segment::new(Speaker::Unknown, 0.0, 1.0, "您好"),
            Segment::new(Speaker::Unknown, 1.5, 2.5, "你好"),
        ];
        let track = SpeakerTrack {
            speaker: Speaker::Unknown,
            samples: line.clone(),
        };
        print_voices(&track, &mut segments);
        let hz: Vec<f32> = segments.iter().map(|s| pitch_hz(s.voice.as_ref().unwrap())).collect();
        assert!(
            (hz[0] / 120.0 - 1.0).abs() < 0.03 && (hz[1] / 230.0 - 1.0).abs() < 0.03,
            "{hz:?}"
        );
        // a side's channel prints its own speaker's segments, not the other side's
        let mut both = vec![
            Segment::new(Speaker::Agent, 0.0, 1.0, "您好"),
            Segment::new(Speaker::Customer, 1.5, 2.5, "你好"),
        ];
        print_voices(
            &SpeakerTrack {
                speaker: Speaker::Agent,
                samples: line,
            },
            &mut both,
        );
        assert!(both[0].voice.is_some() && both[1].voice.is_none(), "{both:?}");
    }

    #[test]
    fn the_level_is_the_voiced_speech_in_db_of_full_scale() {
        let calm = voice(150.0, 1.0);
        let peak = calm.iter().fold(0f32, |m, x| m.max(x.abs()));
        let mut line: Vec<f32> = calm.iter().map(|x| x / peak * 0.05).collect();
        line.extend(vec![0.0; 8000]);
        // the same voice, twice as loud: 6 dB up
        line.extend(calm.iter().map(|x| x / peak * 0.1));
        let printer = VoicePrinter::of(&line);
        let level = |from: f64, to: f64| printer.voice_print(from, to).unwrap().level_db.unwrap();
        let (quiet, loud) = (level(0.0, 1.0), level(1.5, 2.5));
        assert!((-45.0..-20.0).contains(&quiet), "{quiet}");
        assert!((loud - quiet - 6.0).abs() < 0.3, "{quiet} → {loud}");
    }

    #[test]
    fn silence_noise_and_empty_spans_make_no_print() {
        let silence = vec![0f32; 16_000];
        assert_eq!(
            VoicePrinter::of(&silence).voice_print(0.0, 1.0),
            None,
            "silence is no voice"
        );
        let samples = voice(150.0, 1.0);
        let frames = VoicePrinter::of(&samples);
        assert_eq!(frames.voice_print(0.5, 0.5), None, "empty span");
        assert_eq!(frames.voice_print(0.6, 0.5), None, "backwards span");
        assert_eq!(frames.voice_print(0.5, 0.55), None, "50 ms is too little");
        assert_eq!(frames.voice_print(5.0, 9.0), None, "past the end");
        let mut seed = 12345u32;
        let noise: Vec<f32> = (0..16_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        assert_eq!(
            VoicePrinter::of(&noise).voice_print(0.0, 1.0),
            None,
            "noise has no pitch"
        );
        assert!(VoicePrinter::of(&[]).voice_print(0.0, 1.0).is_none());
    }
}

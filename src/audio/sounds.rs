//! Sounds that are not a person: the network's tones and the center's hold
//! music. Found in the audio, never decoded by whisper, and carried in the
//! transcript as spans with their kind, so the rules can tell a hold with
//! music from dead air and ringing before pick-up from a slow answer.
//!
//! - **Tones**: Goertzel filters on 20 ms frames, at the frequencies of the
//!   Chinese network's call-progress tone (450 Hz: ringback 1 s on, 4 s off;
//!   busy 0.35 s on, 0.35 s off) and of the DTMF keys (697–941 Hz rows ×
//!   1209–1633 Hz columns). A frame is a tone when those frequencies hold
//!   nearly all its energy (speech spreads its energy over many); runs are
//!   told apart by their cadence.
//! - **Music**: stretches where Silero hears no speech but the line is loud,
//!   and the spectrum's peaks hold still (a note holds its frequency for
//!   tenths of a second; a voice's harmonics glide with its pitch), for at
//!   least `MIN_MUSIC_S`.

use realfft::RealFftPlanner;

use super::WHISPER_RATE_HZ;
use crate::transcript::{SoundKind, SoundSpan, Speaker};

/// Tone frames: 20 ms, hop 10 ms.
const TONE_FRAME: usize = 320;
const TONE_HOP: usize = 160;
/// The share of a frame's energy its tone frequencies must hold.
const TONE_PURITY: f32 = 0.7;
/// Frames quieter than this (dBFS) are silence, never a tone.
const TONE_FLOOR_DBFS: f32 = -50.0;
const PROGRESS_HZ: f32 = 450.0;
const DTMF_ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const DTMF_COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const DTMF_KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The energy of `frame` at `hz` (Goertzel), in the same units as the
/// frame's energy, so a pure tone at `hz` holds about all of it.
fn goertzel(frame: &[f32], hz: f32) -> f32 {
    let w = 2.0 * std::f32::consts::PI * hz / WHISPER_RATE_HZ as f32;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for (i, &x) in frame.iter().enumerate() {
        // a Hann window keeps a neighbouring frequency from leaking in
        let hann = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / frame.len() as f32).cos();
        let s = x * hann + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    // a sine of amplitude A through the Hann window gives |X|² = A²N²/16
    // against a frame energy of A²N/2: scaled by 8/N, a pure tone holds all of it
    power * 8.0 / frame.len() as f32
}

/// What one 20 ms frame is, tone-wise.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ToneFrame {
    Other,
    Progress,
    Key(char),
}

fn tone_frame(frame: &[f32]) -> ToneFrame {
    let energy: f32 = frame.iter().map(|x| x * x).sum::<f32>();
    let mean = energy / frame.len() as f32;
    if 10.0 * mean.max(1e-12).log10() < TONE_FLOOR_DBFS {
        return ToneFrame::Other;
    }
    let share = |power: f32| power / energy.max(1e-12);
    if share(goertzel(frame, PROGRESS_HZ)) > TONE_PURITY {
        return ToneFrame::Progress;
    }
    let strongest = |freqs: &[f32; 4]| {
        freqs
            .iter()
            .map(|&hz| goertzel(frame, hz))
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("four frequencies")
    };
    let (row, row_power) = strongest(&DTMF_ROWS);
    let (column, column_power) = strongest(&DTMF_COLUMNS);
    // both tones present, neither swamping the other (twist under 8 dB), together nearly all
    let twist = (row_power / column_power.max(1e-12)).log10().abs() * 10.0;
    if share(row_power + column_power) > TONE_PURITY && twist < 8.0 {
        return ToneFrame::Key(DTMF_KEYS[row][column]);
    }
    ToneFrame::Other
}

/// Runs of equal tone frames: (kind, first frame, frames).
fn tone_runs(frames: &[ToneFrame]) -> Vec<(ToneFrame, usize, usize)> {
    let mut runs: Vec<(ToneFrame, usize, usize)> = Vec::new();
    for (i, &f) in frames.iter().enumerate() {
        match runs.last_mut() {
            Some((kind, start, len)) if *kind == f && *start + *len == i => *len += 1,
            _ => runs.push((f, i, 1)),
        }
    }
    runs.retain(|(kind, _, _)| *kind != ToneFrame::Other);
    runs
}

/// The network's tones and the keys pressed on a 16 kHz track.
pub fn find_tones(samples: &[f32], speaker: Speaker) -> Vec<SoundSpan> {
    if samples.len() < TONE_FRAME {
        return Vec::new();
    }
    let frames: Vec<ToneFrame> = (0..=(samples.len() - TONE_FRAME) / TONE_HOP)
        .map(|i| tone_frame(&samples[i * TONE_HOP..i * TONE_HOP + TONE_FRAME]))
        .collect();
    let to_s = |frame: usize| (frame * TONE_HOP) as f64 / WHISPER_RATE_HZ as f64;
    let frame_s = TONE_HOP as f64 / WHISPER_RATE_HZ as f64;
    let mut spans = Vec::new();
    let runs = tone_runs(&frames);
    for (i, &(kind, start, len)) in runs.iter().enumerate() {
        let on_s = len as f64 * frame_s;
        let span = |kind, key| SoundSpan {
            speaker,
            kind,
            start: to_s(start),
            end: to_s(start + len) + (TONE_FRAME - TONE_HOP) as f64 / WHISPER_RATE_HZ as f64,
            key,
        };
        match kind {
            // a key press lasts 40 ms and more
            ToneFrame::Key(key) if on_s >= 0.04 => spans.push(span(SoundKind::Dtmf, Some(key))),
            ToneFrame::Progress if (0.7..=1.4).contains(&on_s) => spans.push(span(SoundKind::Ringback, None)),
            ToneFrame::Progress if (0.2..=0.55).contains(&on_s) => {
                // busy: a burst among bursts of its like, 0.35 s apart
                let near = |j: usize| {
                    runs.get(j).is_some_and(|&(k, s, l)| {
                        let gap_s = if s > start {
                            to_s(s) - to_s(start + len)
                        } else {
                            to_s(start) - to_s(s + l)
                        };
                        k == ToneFrame::Progress && (0.2..=0.6).contains(&gap_s)
                    })
                };
                if (i > 0 && near(i - 1)) || near(i + 1) {
                    spans.push(span(SoundKind::Busy, None));
                }
            }
            _ => {}
        }
    }
    spans
}

/// Music frames: 64 ms windows, hop 32 ms.
const MUSIC_FFT: usize = 1024;
const MUSIC_HOP: usize = 512;
/// A stretch of music is at least this long (shorter sounds are a jingle in the
/// background, a door, a cough).
pub const MIN_MUSIC_S: f64 = 2.5;
/// Frames of a peak's life that make it a held note (6 × 32 ms ≈ 0.2 s).
const HELD_FRAMES: usize = 6;
/// The share of a window's peak energy in held notes that makes it music.
const HELD_SHARE: f32 = 0.5;
/// Music is at least this loud (dBFS).
const MUSIC_FLOOR_DBFS: f32 = -45.0;

/// Stretches of music on a 16 kHz track. `speech` says, per sample range,
/// where the speech detector heard a voice: music is only looked for
/// elsewhere (a voice over music is the voice's).
pub fn find_music(samples: &[f32], speech: &[(usize, usize)], speaker: Speaker) -> Vec<SoundSpan> {
    if samples.len() < MUSIC_FFT {
        return Vec::new();
    }
    let n_frames = (samples.len() - MUSIC_FFT) / MUSIC_HOP + 1;
    let spectra = peak_spectra(samples, n_frames);
    // a peak is "held" when the same bin (±1) is a peak for HELD_FRAMES frames around it
    let held = |t: usize, bin: usize| {
        let lo = t.saturating_sub(HELD_FRAMES / 2);
        let hi = (lo + HELD_FRAMES).min(n_frames);
        (lo..hi).all(|u| spectra[u].1.iter().any(|&(b, _)| b.abs_diff(bin) <= 1))
    };
    let mut is_music = vec![false; n_frames];
    for (t, (loudness_db, peaks)) in spectra.iter().enumerate() {
        let center = t * MUSIC_HOP + MUSIC_FFT / 2;
        let voiced = speech.iter().any(|&(a, b)| center >= a && center < b);
        if voiced || *loudness_db < MUSIC_FLOOR_DBFS || peaks.is_empty() {
            continue;
        }
        let total: f32 = peaks.iter().map(|&(_, p)| p).sum();
        let held_energy: f32 = peaks.iter().filter(|&&(b, _)| held(t, b)).map(|&(_, p)| p).sum();
        is_music[t] = held_energy > HELD_SHARE * total;
    }
    // runs of music frames, with gaps of up to half a second bridged (a rest between phrases)
    let to_s = |frame: usize| (frame * MUSIC_HOP) as f64 / WHISPER_RATE_HZ as f64;
    let bridge = (0.5 * WHISPER_RATE_HZ as f64 / MUSIC_HOP as f64) as usize;
    let mut spans: Vec<SoundSpan> = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for (t, &m) in is_music.iter().enumerate() {
        if !m {
            continue;
        }
        run = match run {
            Some((start, last)) if t - last <= bridge => Some((start, t)),
            Some((start, last)) => {
                push_music(
                    &mut spans,
                    speaker,
                    to_s(start),
                    to_s(last + 1) + MUSIC_FFT as f64 / 2.0 / WHISPER_RATE_HZ as f64,
                );
                Some((t, t))
            }
            None => Some((t, t)),
        };
    }
    if let Some((start, last)) = run {
        push_music(
            &mut spans,
            speaker,
            to_s(start),
            to_s(last + 1) + MUSIC_FFT as f64 / 2.0 / WHISPER_RATE_HZ as f64,
        );
    }
    spans
}

fn push_music(spans: &mut Vec<SoundSpan>, speaker: Speaker, start: f64, end: f64) {
    if end - start >= MIN_MUSIC_S {
        spans.push(SoundSpan {
            speaker,
            kind: SoundKind::Music,
            start,
            end,
            key: None,
        });
    }
}

/// Each frame's loudness (dBFS) and its spectral peaks (bin, power) between
/// 100 Hz and 3.6 kHz (the telephone band), the strongest few.
fn peak_spectra(samples: &[f32], n_frames: usize) -> Vec<(f32, Vec<(usize, f32)>)> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(MUSIC_FFT);
    let window: Vec<f32> = (0..MUSIC_FFT)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / MUSIC_FFT as f32).cos())
        .collect();
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let bin_hz = WHISPER_RATE_HZ as f32 / MUSIC_FFT as f32;
    let (lo, hi) = ((100.0 / bin_hz) as usize, (3600.0 / bin_hz) as usize);
    (0..n_frames)
        .map(|t| {
            let frame = &samples[t * MUSIC_HOP..t * MUSIC_HOP + MUSIC_FFT];
            let mean = frame.iter().map(|x| x * x).sum::<f32>() / MUSIC_FFT as f32;
            let loudness_db = 10.0 * mean.max(1e-12).log10();
            for (i, (&x, w)) in frame.iter().zip(&window).enumerate() {
                input[i] = x * w;
            }
            fft.process(&mut input, &mut output).expect("the FFT's own buffers");
            let power: Vec<f32> = output.iter().map(|c| c.norm_sqr()).collect();
            let strongest = power[lo..hi].iter().copied().fold(0.0f32, f32::max);
            let mut peaks: Vec<(usize, f32)> = (lo.max(1)..hi)
                .filter(|&b| power[b] > power[b - 1] && power[b] >= power[b + 1] && power[b] > strongest * 0.01)
                .map(|b| (b, power[b]))
                .collect();
            peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
            peaks.truncate(8);
            (loudness_db, peaks)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = WHISPER_RATE_HZ as f32;

    fn tone(hz: &[f32], seconds: f32, level: f32) -> Vec<f32> {
        (0..(seconds * SR) as usize)
            .map(|i| {
                let t = i as f32 / SR;
                hz.iter()
                    .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
                    .sum::<f32>()
                    * level
                    / hz.len() as f32
            })
            .collect()
    }

    fn silence(seconds: f32) -> Vec<f32> {
        vec![0.0; (seconds * SR) as usize]
    }

    /// A voice-like buzz: a glottal pulse train whose pitch glides, through formant-ish filtering.
    fn buzz(seconds: f32) -> Vec<f32> {
        let mut phase = 0.0f32;
        (0..(seconds * SR) as usize)
            .map(|i| {
                let t = i as f32 / SR;
                let f0 = 160.0 + 40.0 * (2.0 * std::f32::consts::PI * 3.0 * t).sin();
                phase += f0 / SR;
                let harmonics: f32 = (1..20)
                    .map(|h| (2.0 * std::f32::consts::PI * phase * h as f32).sin() / h as f32)
                    .sum();
                harmonics * 0.1 * (0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t).sin().abs())
            })
            .collect()
    }

    #[test]
    fn ringback_busy_and_keys_are_told_by_frequency_and_cadence() {
        let mut track = silence(0.5);
        // ringback: 1 s on, 4 s off, twice
        for _ in 0..2 {
            track.extend(tone(&[450.0], 1.0, 0.3));
            track.extend(silence(4.0));
        }
        // the key 5 (770 + 1336 Hz) for 80 ms
        track.extend(tone(&[770.0, 1336.0], 0.08, 0.3));
        track.extend(silence(0.5));
        // busy: 0.35 s on and off, three times
        for _ in 0..3 {
            track.extend(tone(&[450.0], 0.35, 0.3));
            track.extend(silence(0.35));
        }
        let spans = find_tones(&track, Speaker::Agent);
        let kinds: Vec<(SoundKind, Option<char>)> = spans.iter().map(|s| (s.kind, s.key)).collect();
        assert_eq!(
            kinds,
            [
                (SoundKind::Ringback, None),
                (SoundKind::Ringback, None),
                (SoundKind::Dtmf, Some('5')),
                (SoundKind::Busy, None),
                (SoundKind::Busy, None),
                (SoundKind::Busy, None),
            ],
            "{spans:#?}"
        );
        assert!(
            (spans[0].start - 0.5).abs() < 0.05 && (spans[0].end - 1.5).abs() < 0.05,
            "{:?}",
            spans[0]
        );
    }

    #[test]
    fn a_voice_is_not_a_tone_and_not_music() {
        let voice = buzz(4.0);
        assert!(find_tones(&voice, Speaker::Agent).is_empty());
        assert!(find_music(&voice, &[], Speaker::Agent).is_empty());
    }

    #[test]
    fn held_notes_are_music_unless_someone_speaks() {
        // a melody of held notes with harmonics, a quarter second each
        let notes = [262.0, 330.0, 392.0, 523.0, 440.0, 349.0, 294.0, 392.0];
        let mut melody = Vec::new();
        for round in 0..3 {
            for (i, &f) in notes.iter().enumerate() {
                let f = f * if round % 2 == 0 { 1.0 } else { 1.5 };
                let note = tone(&[f, 2.0 * f, 3.0 * f], if i % 3 == 0 { 0.5 } else { 0.25 }, 0.2);
                melody.extend(note);
            }
        }
        let seconds = melody.len() as f64 / SR as f64;
        let music = find_music(&melody, &[], Speaker::Agent);
        assert_eq!(music.len(), 1, "{music:?}");
        assert!(
            music[0].end - music[0].start > seconds * 0.8,
            "{music:?} of {seconds} s"
        );
        // the same stretch heard as speech by the VAD: not music
        assert!(find_music(&melody, &[(0, melody.len())], Speaker::Agent).is_empty());
    }
}

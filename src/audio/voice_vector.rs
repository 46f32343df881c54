//! Who a voice is: a 256-number voice vector per stretch of speech, from the
//! GE2E speaker encoder (Wan et al. 2018; the weights of the `resemblyzer`
//! wheel, converted at set-up by `callqa model import`).
//!
//! Pitch tells two voices apart only while they differ in pitch more than a
//! voice varies from line to line; two voices of one sex, or one person
//! speaking with feeling, defeat it. The encoder was trained to put the
//! same speaker's lines close together and different speakers' apart
//! whatever was said, so its vectors carry who spoke.
//!
//! The network, as resemblyzer runs it: 40-channel mel power frames (25 ms
//! windows every 10 ms, Slaney mel, no log) → three LSTM layers of 256 → the
//! last layer's final state → linear 256 → ReLU → unit length. An utterance is
//! cut into partials of 160 frames (1.6 s) at `PARTIALS_PER_S` with the last
//! kept if it is at least three-quarters covered; its vector is the mean of
//! the partials', made unit length again. Checked against resemblyzer's own
//! output on real clips (the test `matches_the_reference_implementation`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
use safetensors::{Dtype, SafeTensors};

use crate::model::ge2e::{expected_shapes, EMBEDDING, HIDDEN, LAYERS, MEL_CHANNELS};
use crate::model::mel::slaney_mel_filterbank;
use crate::transcript::{Segment, Speaker, VoiceVector};

/// The converted encoder's file name (`scripts/setup.sh` makes it).
pub const DEFAULT_VOICE_MODEL_FILE: &str = "ge2e-voice.safetensors";

const N_FFT: usize = 400;
const HOP: usize = 160;
const PARTIAL_FRAMES: usize = 160;
/// How an utterance is cut into partials: how many a second of speech, and
/// at most how many (evenly spread) per utterance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Partials {
    /// Partials per second of speech.
    pub per_s: f64,
    /// At most this many per utterance (`usize::MAX`: all).
    pub max: usize,
}

impl Partials {
    /// resemblyzer's: 1.3 a second (each overlapping the next by half), all
    /// of them. The reference the network is checked against.
    pub const RESEMBLYZER: Self = Self {
        per_s: 1.3,
        max: usize::MAX,
    };
    /// What callqa prints segments with: resemblyzer's rate, at most four
    /// partials (spread over a long turn). Side by side partials (0.625 a
    /// second) cost half as much and got 0.05–0.09 fewer of the agent's
    /// lines right on the re-spoken mono sets: short turns lost their second
    /// partial.
    pub const SEGMENTS: Self = Self { per_s: 1.3, max: 4 };
}
const MIN_COVERAGE: f64 = 0.75;
/// Quieter speech is raised to this level first (dB of full scale), as the
/// encoder was trained on normalised audio.
const TARGET_DBFS: f64 = -30.0;

/// Why the voice encoder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VoiceModelError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The model file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not the converted encoder.
    #[error("{path}: not the converted voice encoder: {reason} (convert resemblyzer's pretrained.pt with `callqa model import`)")]
    Format {
        /// The model file.
        path: PathBuf,
        /// What did not fit.
        reason: String,
    },
}

/// One LSTM layer: input and recurrent weights as stored (rows are the four
/// gates i, f, g, o of 256 each), biases summed.
struct LstmLayer {
    input: usize,
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    bias: Vec<f32>,
}

/// The speaker encoder, loaded once and shared by every worker.
pub struct VoiceEncoder {
    layers: Vec<LstmLayer>,
    linear_w: Vec<f32>,
    linear_b: Vec<f32>,
    mel_filters: Vec<f32>,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for VoiceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceEncoder")
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl VoiceEncoder {
    /// The encoder's file beside the whisper model, where set-up puts it.
    pub fn default_path(whisper_model: &Path) -> PathBuf {
        whisper_model
            .parent()
            .unwrap_or(Path::new("."))
            .join(DEFAULT_VOICE_MODEL_FILE)
    }

    /// Loads the converted encoder (safetensors).
    pub fn load(path: &Path) -> Result<Self, VoiceModelError> {
        let bytes = std::fs::read(path).map_err(|source| VoiceModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let format = |reason: String| VoiceModelError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let file = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, VoiceModelError> {
            let view = file.tensor(name).map_err(|_| format(format!("no tensor {name}")))?;
            if view.dtype() != Dtype::F32 || view.shape() != shape {
                return Err(format(format!(
                    "{name} is {:?} {:?}, expected F32 {shape:?}",
                    view.dtype(),
                    view.shape()
                )));
            }
            Ok(view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let shapes = expected_shapes();
        let shape_of = |name: &str| {
            shapes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .expect("known tensor")
        };
        let mut layers = Vec::new();
        for layer in 0..LAYERS {
            let name = |part: &str| format!("lstm.{part}_l{layer}");
            let w_ih = read(&name("weight_ih"), &shape_of(&name("weight_ih")))?;
            let w_hh = read(&name("weight_hh"), &shape_of(&name("weight_hh")))?;
            let b_ih = read(&name("bias_ih"), &[4 * HIDDEN])?;
            let b_hh = read(&name("bias_hh"), &[4 * HIDDEN])?;
            layers.push(LstmLayer {
                input: w_ih.len() / (4 * HIDDEN),
                w_ih,
                w_hh,
                bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
            });
        }
        let linear_w = read("linear.weight", &[EMBEDDING, HIDDEN])?;
        let linear_b = read("linear.bias", &[EMBEDDING])?;
        // resemblyzer's librosa window: periodic Hann of the FFT's length
        let window = (0..N_FFT)
            .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()) as f32)
            .collect();
        Ok(Self {
            layers,
            linear_w,
            linear_b,
            mel_filters: slaney_mel_filterbank(MEL_CHANNELS, N_FFT, 16000.0),
            window,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT),
        })
    }

    /// The voice vector of 16 kHz speech (unit length), or `None` when it is
    /// silent. Short speech is padded with silence to one partial.
    pub fn embed(&self, samples: &[f32]) -> Option<Vec<f32>> {
        self.embed_many(&[samples], Partials::RESEMBLYZER).pop().flatten()
    }

    /// The voice vectors of several stretches, their partials run through the
    /// network as one batch (the recurrent products become matrix products).
    pub fn embed_many(&self, stretches: &[&[f32]], cut: Partials) -> Vec<Option<Vec<f32>>> {
        let mut partials: Vec<Vec<f32>> = Vec::new();
        let mut owner: Vec<usize> = Vec::new();
        for (k, samples) in stretches.iter().enumerate() {
            let Some(wav) = normalized(samples) else { continue };
            let (starts, padded_len) = partial_starts(wav.len(), cut);
            let mut wav = wav;
            wav.resize(wav.len().max(padded_len), 0.0);
            let mel = self.mel_frames(&wav);
            for start in starts {
                let frames = &mel[start * MEL_CHANNELS..(start + PARTIAL_FRAMES) * MEL_CHANNELS];
                partials.push(frames.to_vec());
                owner.push(k);
            }
        }
        let vectors = self.forward(&partials);
        let mut sums: Vec<Option<Vec<f32>>> = vec![None; stretches.len()];
        for (vector, k) in vectors.chunks_exact(EMBEDDING).zip(owner) {
            let sum = sums[k].get_or_insert_with(|| vec![0.0; EMBEDDING]);
            sum.iter_mut().zip(vector).for_each(|(s, v)| *s += v);
        }
        sums.into_iter().map(|s| s.and_then(unit)).collect()
    }

    /// Mel power frames, row-major [frame][channel], as librosa's
    /// melspectrogram with `center=True` (zero padding of half a window).
    fn mel_frames(&self, wav: &[f32]) -> Vec<f32> {
        let frames = 1 + wav.len() / HOP;
        let half = N_FFT / 2;
        let bins = N_FFT / 2 + 1;
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut power = vec![0f32; bins];
        let mut out = vec![0f32; frames * MEL_CHANNELS];
        for f in 0..frames {
            for (i, x) in input.iter_mut().enumerate() {
                let at = (f * HOP + i).checked_sub(half);
                *x = at.and_then(|a| wav.get(a)).copied().unwrap_or(0.0) * self.window[i];
            }
            self.fft.process(&mut input, &mut spectrum).expect("FFT sizes fixed");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, row) in self.mel_filters.chunks_exact(bins).enumerate() {
                out[f * MEL_CHANNELS + m] = row.iter().zip(&power).map(|(w, p)| w * p).sum();
            }
        }
        out
    }

    /// Runs a batch of partials (each `PARTIAL_FRAMES` × 40) through the
    /// network; returns their vectors, `EMBEDDING` numbers each.
    fn forward(&self, partials: &[Vec<f32>]) -> Vec<f32> {
        let batch = partials.len();
        if batch == 0 {
            return Vec::new();
        }
        // sequence laid out [time][batch][feature]
        let mut sequence = vec![0f32; PARTIAL_FRAMES * batch * MEL_CHANNELS];
        for (b, partial) in partials.iter().enumerate() {
            for t in 0..PARTIAL_FRAMES {
                let to = (t * batch + b) * MEL_CHANNELS;
                sequence[to..to + MEL_CHANNELS].copy_from_slice(&partial[t * MEL_CHANNELS..(t + 1) * MEL_CHANNELS]);
            }
        }
        let mut last = Vec::new();
        for layer in &self.layers {
            (sequence, last) = layer.run(&sequence, batch);
        }
        let mut out = vec![0f32; batch * EMBEDDING];
        for b in 0..batch {
            out[b * EMBEDDING..(b + 1) * EMBEDDING].copy_from_slice(&self.linear_b);
        }
        // out[b][e] += Σ_h last[b][h] · W[e][h]
        gemm_bt(&last, &self.linear_w, &mut out, batch, HIDDEN, EMBEDDING);
        for vector in out.chunks_exact_mut(EMBEDDING) {
            vector.iter_mut().for_each(|v| *v = v.max(0.0));
            let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                vector.iter_mut().for_each(|v| *v /= norm);
            }
        }
        out
    }
}

impl LstmLayer {
    /// The layer over a [time][batch][input] sequence: its [time][batch][256]
    /// outputs and the final state [batch][256].
    fn run(&self, sequence: &[f32], batch: usize) -> (Vec<f32>, Vec<f32>) {
        let steps = sequence.len() / (batch * self.input);
        let gates_n = 4 * HIDDEN;
        // every step's input products at once
        let mut gates_in = vec![0f32; steps * batch * gates_n];
        for row in gates_in.chunks_exact_mut(gates_n) {
            row.copy_from_slice(&self.bias);
        }
        gemm_bt(sequence, &self.w_ih, &mut gates_in, steps * batch, self.input, gates_n);
        let mut h = vec![0f32; batch * HIDDEN];
        let mut c = vec![0f32; batch * HIDDEN];
        let mut outputs = vec![0f32; steps * batch * HIDDEN];
        for t in 0..steps {
            let gates = &mut gates_in[t * batch * gates_n..(t + 1) * batch * gates_n];
            gemm_bt(&h, &self.w_hh, gates, batch, HIDDEN, gates_n);
            for b in 0..batch {
                let g = &mut gates[b * gates_n..(b + 1) * gates_n];
                // i, f, o through the sigmoid, g through tanh, as slices (vectorised)
                let (ifg, o) = g.split_at_mut(3 * HIDDEN);
                let (i_f, cell) = ifg.split_at_mut(2 * HIDDEN);
                i_f.iter_mut().chain(o.iter_mut()).for_each(|x| *x = sigmoid(*x));
                cell.iter_mut().for_each(|x| *x = tanh(*x));
                let c = &mut c[b * HIDDEN..(b + 1) * HIDDEN];
                let h = &mut h[b * HIDDEN..(b + 1) * HIDDEN];
                for j in 0..HIDDEN {
                    c[j] = i_f[HIDDEN + j] * c[j] + i_f[j] * cell[j];
                    h[j] = o[j] * tanh(c[j]);
                }
            }
            outputs[t * batch * HIDDEN..(t + 1) * batch * HIDDEN].copy_from_slice(&h);
        }
        (outputs, h)
    }
}

/// c[m][n] += Σ_k a[m][k] · b[n][k] (b as stored: one row per output).
/// OpenBLAS when callqa is built with it (the recurrent products are
/// short, which matrixmultiply packs at a loss: 2–3× slower here).
fn gemm_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    assert!(a.len() >= m * k && b.len() >= n * k && c.len() >= m * n);
    #[cfg(feature = "openblas")]
    {
        const ROW_MAJOR: i32 = 101;
        const NO_TRANS: i32 = 111;
        const TRANS: i32 = 112;
        extern "C" {
            fn cblas_sgemm(
                order: i32,
                trans_a: i32,
                trans_b: i32,
                m: i32,
                n: i32,
                k: i32,
                alpha: f32,
                a: *const f32,
                lda: i32,
                b: *const f32,
                ldb: i32,
                beta: f32,
                c: *mut f32,
                ldc: i32,
            );
        }
        let dim = |x: usize| i32::try_from(x).expect("matrix dimensions fit an i32");
        // SAFETY: row-major a (m × k, lda k), b (n × k, read transposed,
        // ldb k) and c (m × n, ldc n) lie within the slices (asserted above).
        unsafe {
            cblas_sgemm(
                ROW_MAJOR,
                NO_TRANS,
                TRANS,
                dim(m),
                dim(n),
                dim(k),
                1.0,
                a.as_ptr(),
                dim(k),
                b.as_ptr(),
                dim(k),
                1.0,
                c.as_mut_ptr(),
                dim(n),
            );
        }
    }
    #[cfg(not(feature = "openblas"))]
    // SAFETY: the strides describe row-major a (m × k), b read as its
    // transpose (k × n), and c (m × n), all within the slices (asserted above).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            1,
            k as isize,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn sigmoid(x: f32) -> f32 {
    0.5 + 0.5 * tanh(0.5 * x)
}

/// tanh as a rational function of odd degree 13 over even degree 6 (the
/// minimax fit Eigen uses for floats), within a few ulp of the true value
/// and, unlike the library's, open to vectorisation: a quarter of a voice
/// vector's time went to `exp` before.
fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const ALPHA: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const BETA: [f32; 4] = [4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = ALPHA[6];
    for a in ALPHA[..6].iter().rev() {
        p = p * x2 + a;
    }
    let mut q = BETA[3];
    for b in BETA[..3].iter().rev() {
        q = q * x2 + b;
    }
    x * p / q
}

fn unit(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm <= 0.0 || !norm.is_finite() {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(v)
}

/// The samples raised to `TARGET_DBFS` when quieter (never lowered), as
/// resemblyzer's `normalize_volume(increase_only=True)`; `None` when silent.
fn normalized(samples: &[f32]) -> Option<Vec<f32>> {
    if samples.is_empty() {
        return None;
    }
    let mean_square = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / samples.len() as f64;
    if mean_square <= 0.0 {
        return None;
    }
    let dbfs = 10.0 * mean_square.log10();
    let gain = if dbfs < TARGET_DBFS {
        10f64.powf((TARGET_DBFS - dbfs) / 20.0) as f32
    } else {
        1.0
    };
    Some(samples.iter().map(|&s| s * gain).collect())
}

/// Where each partial starts (in frames), and the length the samples are
/// padded to so that the last partial is whole: resemblyzer's
/// `compute_partial_slices`.
fn partial_starts(n_samples: usize, cut: Partials) -> (Vec<usize>, usize) {
    let n_frames = (n_samples + 1).div_ceil(HOP);
    let frame_step = ((16000.0 / cut.per_s) / HOP as f64).round() as usize;
    let steps = (n_frames + frame_step + 1).saturating_sub(PARTIAL_FRAMES).max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(frame_step).collect();
    let last = *starts.last().expect("at least one");
    let coverage = (n_samples as f64 - (last * HOP) as f64) / (PARTIAL_FRAMES * HOP) as f64;
    if coverage < MIN_COVERAGE && starts.len() > 1 {
        starts.pop();
    }
    if starts.len() > cut.max {
        // evenly spread over the utterance, first and last kept
        let n = starts.len() - 1;
        let k = cut.max.max(1);
        starts = (0..k)
            .map(|i| starts[if k == 1 { n / 2 } else { i * n / (k - 1) }])
            .collect();
    }
    let padded = (starts.last().expect("at least one") + PARTIAL_FRAMES) * HOP;
    (starts, padded)
}

/// Stretches shorter than this get no vector: under a second of speech the
/// encoder's vectors of one voice scatter as far as two voices'.
pub const MIN_VECTOR_S: f64 = 0.8;
/// The agent's segments of a stereo call that are printed, to enrol the
/// agent's voice: the longest few (a print rests on seconds, not on lines).
/// Measured on the re-spoken mono sets: prints from three turns a call got
/// 0.05–0.06 fewer of the agent's lines right than from six; ten no better.
pub const ENROL_SEGMENTS: usize = 6;
/// Segments run through the network at once (a few partials each): the
/// batch's working memory (about 0.7 MB a partial) stays a few tens of MB.
const BATCH_SEGMENTS: usize = 12;

/// Gives the segments spoken on `track` both voice prints: the pitch print
/// (`print_voices`) and, with an encoder, the voice vector.
pub fn print_track_voices(track: &super::SpeakerTrack, segments: &mut [Segment], encoder: Option<&VoiceEncoder>) {
    super::print_voices(track, segments);
    if let Some(encoder) = encoder {
        print_voice_vectors(encoder, track, segments);
    }
}

/// Gives the segments of `track` their voice vectors: every segment of a
/// mixed track (who spoke is to be told), the longest `ENROL_SEGMENTS` of an
/// agent's channel (whose voice it is, for enrolment), none of a customer's
/// channel nor of the system's prompts.
pub fn print_voice_vectors(encoder: &VoiceEncoder, track: &super::SpeakerTrack, segments: &mut [Segment]) {
    let rate = super::WHISPER_RATE_HZ as f64;
    let mut chosen: Vec<usize> = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.speaker == track.speaker && s.prompt.is_none() && s.end - s.start >= MIN_VECTOR_S)
        .map(|(i, _)| i)
        .collect();
    match track.speaker {
        Speaker::Unknown => {}
        Speaker::Agent => {
            chosen.sort_by(|&a, &b| {
                let length = |i: usize| segments[i].end - segments[i].start;
                length(b).total_cmp(&length(a))
            });
            chosen.truncate(ENROL_SEGMENTS);
        }
        _ => chosen.clear(),
    }
    for segment in segments.iter_mut().filter(|s| s.speaker == track.speaker) {
        segment.voice_vector = None;
    }
    for group in chosen.chunks(BATCH_SEGMENTS) {
        let stretches: Vec<&[f32]> = group
            .iter()
            .map(|&i| {
                let at = |s: f64| ((s.max(0.0) * rate) as usize).min(track.samples.len());
                &track.samples[at(segments[i].start)..at(segments[i].end)]
            })
            .collect();
        for (&i, vector) in group.iter().zip(encoder.embed_many(&stretches, Partials::SEGMENTS)) {
            segments[i].voice_vector = vector.map(VoiceVector);
        }
    }
}

/// Cosine similarity of two unit vectors.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_are_cut_as_resemblyzer_cuts_them() {
        // 4.2 s: 421 frames, step 77 → starts 0, 77, 154, 231 (308 covers too little)
        let (starts, padded) = partial_starts(67263, Partials::RESEMBLYZER);
        assert_eq!(starts, vec![0, 77, 154, 231]);
        assert_eq!(padded, (231 + 160) * 160);
        // shorter than a partial: one, padded
        assert_eq!(partial_starts(16000, Partials::RESEMBLYZER).0, vec![0]);
        // callqa's segments: at most four, spread out
        assert_eq!(partial_starts(67263, Partials::SEGMENTS).0, vec![0, 77, 154, 231]);
        let long = partial_starts(16000 * 12, Partials::SEGMENTS).0;
        assert_eq!((long.len(), long[0]), (4, 0));
    }

    #[test]
    fn the_fast_tanh_is_tanh() {
        let mut worst = 0f32;
        for i in -2000..=2000 {
            let x = i as f32 / 100.0;
            worst = worst.max((tanh(x) - x.tanh()).abs());
            assert!((sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6, "{x}");
        }
        assert!(worst < 1e-6, "{worst}");
    }

    #[test]
    fn quiet_speech_is_raised_and_loud_left_alone() {
        let quiet = vec![0.001f32; 100];
        let raised = normalized(&quiet).unwrap();
        let db = 20.0 * f64::from(raised[0]).log10();
        assert!((db - TARGET_DBFS).abs() < 0.01, "{db}");
        assert_eq!(normalized(&[0.5f32; 10]).unwrap()[0], 0.5);
        assert!(normalized(&[0.0; 10]).is_none());
    }
}

//! Silero VAD's network, run here on whisper.cpp's converted weights.
//!
//! whisper.cpp runs the network one 32 ms window at a time, each through its
//! whole graph: 79 µs a window, 7 % of a run's CPU on the sample calls. Only
//! the LSTM carries anything from one window to the next; the STFT and the
//! four convolutions see one window each. So here they run as matrix products
//! over many windows at once, and only the LSTM's own step goes window by
//! window. The arithmetic is whisper.cpp's: reflective padding of each window
//! (not Silero's 64 samples of context), conv inputs rounded to f16 as its
//! im2col does, LSTM state kept across a channel and reset between channels.
//! `audio::vad`'s tests hold the two to the same probabilities.

use std::collections::HashMap;
use std::ops::Range;

/// Samples per window at 16 kHz (32 ms), the reflective padding on each side,
/// and the STFT's frame and hop: four frames a window.
pub(crate) const WINDOW: usize = 512;
const PAD: usize = 64;
const STFT_FRAME: usize = 256;
const STFT_HOP: usize = 128;
const STFT_FRAMES: usize = (WINDOW + 2 * PAD - STFT_FRAME) / STFT_HOP + 1;
const STFT_BINS: usize = 129;
const HIDDEN: usize = 128;
const GATES: usize = 4 * HIDDEN;
/// Windows whose convolutions are computed together (about 8 s of audio).
const BLOCK_WINDOWS: usize = 256;

/// One 1-D convolution layer: kernel 3, padding 1, ReLU after.
struct Conv {
    /// Row-major [out][in × 3], rounded to f16 as stored.
    weight: Vec<f32>,
    bias: Vec<f32>,
    channels_in: usize,
    stride: usize,
}

pub(crate) struct SileroNet {
    /// [258][256]: real parts of 129 bins, then imaginary parts.
    stft_basis: Vec<f32>,
    convs: [Conv; 4],
    /// [512][128] each; gates in PyTorch's order: input, forget, cell, output.
    lstm_ih: Vec<f32>,
    lstm_hh: Vec<f32>,
    /// bias_ih + bias_hh.
    lstm_bias: Vec<f32>,
    final_weight: Vec<f32>,
    final_bias: f32,
}

impl SileroNet {
    /// Takes the weights by their names in the wheel (`conv1.weight`, ...),
    /// shapes already checked by the reader.
    pub(crate) fn new(mut weights: HashMap<String, Vec<f32>>) -> Self {
        let mut take = |name: &str| weights.remove(name).unwrap_or_default();
        let mut conv = |i: usize, channels_in: usize, stride: usize| Conv {
            weight: take(&format!("conv{i}.weight")),
            bias: take(&format!("conv{i}.bias")),
            channels_in,
            stride,
        };
        let convs = [
            conv(1, STFT_BINS, 1),
            conv(2, HIDDEN, 2),
            conv(3, 64, 2),
            conv(4, 64, 1),
        ];
        let bias_ih = take("lstm_cell.bias_ih");
        let bias_hh = take("lstm_cell.bias_hh");
        Self {
            stft_basis: take("stft_conv.weight"),
            convs,
            lstm_ih: take("lstm_cell.weight_ih"),
            lstm_hh: take("lstm_cell.weight_hh"),
            lstm_bias: bias_ih.iter().zip(&bias_hh).map(|(a, b)| a + b).collect(),
            final_weight: take("final_conv.weight"),
            final_bias: take("final_conv.bias").first().copied().unwrap_or(0.0),
        }
    }

    /// Speech probability per 32 ms window of a 16 kHz channel (the last
    /// window padded with silence).
    pub(crate) fn probabilities(&self, samples: &[f32]) -> Vec<f32> {
        self.hear(samples, true, &[])
    }

    /// The windows of `samples` heard afresh: each of `afresh` (ranges of
    /// windows, by their starts) by an LSTM whose state starts at zero there,
    /// as at a channel's start; a window's probability is the highest of its
    /// fresh hearings (0 where none heard it).
    pub(crate) fn probabilities_afresh(&self, samples: &[f32], afresh: &[Range<usize>]) -> Vec<f32> {
        self.hear(samples, false, afresh)
    }

    /// The hearing from the channel's start (`whole`) and the fresh ones;
    /// the convolutions, which see one window each, computed once for all.
    fn hear(&self, samples: &[f32], whole: bool, afresh: &[Range<usize>]) -> Vec<f32> {
        let windows = samples.len().div_ceil(WINDOW);
        let mut probabilities = Vec::with_capacity(windows);
        let mut state = LstmState::default();
        let mut pending = afresh.iter().peekable();
        let mut hearing: Vec<(usize, LstmState)> = Vec::new();
        for first in (0..windows).step_by(BLOCK_WINDOWS) {
            let count = BLOCK_WINDOWS.min(windows - first);
            let features = self.lstm_inputs(&samples[first * WINDOW..], count);
            for w in 0..count {
                let window = first + w;
                while let Some(range) = pending.next_if(|r| r.start <= window) {
                    hearing.push((range.end, LstmState::default()));
                }
                hearing.retain(|(end, _)| *end > window);
                let gates = &features[w * GATES..(w + 1) * GATES];
                let mut probability = if whole { self.step(&mut state, gates) } else { 0.0 };
                for (_, fresh) in &mut hearing {
                    probability = probability.max(self.step(fresh, gates));
                }
                probabilities.push(probability);
            }
        }
        probabilities
    }

    /// The LSTM's input-side gate values for `count` windows from the start of
    /// `samples`: [count][512], biases included.
    fn lstm_inputs(&self, samples: &[f32], count: usize) -> Vec<f32> {
        // STFT frames of the reflect-padded windows, as rows
        let mut frames = vec![0f32; count * STFT_FRAMES * STFT_FRAME];
        let mut padded = [0f32; WINDOW + 2 * PAD];
        for w in 0..count {
            let window = &samples[w * WINDOW..samples.len().min((w + 1) * WINDOW)];
            padded[PAD..PAD + window.len()].copy_from_slice(window);
            padded[PAD + window.len()..PAD + WINDOW].fill(0.0);
            for i in 1..=PAD {
                padded[PAD - i] = padded[PAD + i];
                padded[PAD + WINDOW - 1 + i] = padded[PAD + WINDOW - 1 - i];
            }
            for x in &mut padded {
                *x = to_f16(*x); // once per sample, though the frames overlap
            }
            for t in 0..STFT_FRAMES {
                let row = &mut frames[(w * STFT_FRAMES + t) * STFT_FRAME..][..STFT_FRAME];
                row.copy_from_slice(&padded[t * STFT_HOP..][..STFT_FRAME]);
            }
        }
        let spectrum = matmul_transposed(&frames, STFT_FRAME, &self.stft_basis, 2 * STFT_BINS);
        let mut magnitude = vec![0f32; count * STFT_FRAMES * STFT_BINS];
        for (row, out) in spectrum
            .chunks_exact(2 * STFT_BINS)
            .zip(magnitude.chunks_exact_mut(STFT_BINS))
        {
            for (bin, m) in out.iter_mut().enumerate() {
                *m = (row[bin] * row[bin] + row[STFT_BINS + bin] * row[STFT_BINS + bin]).sqrt();
            }
        }

        let mut x = magnitude;
        let mut frames_in = STFT_FRAMES;
        for conv in &self.convs {
            let (y, frames_out) = conv.forward(&x, count, frames_in);
            x = y;
            frames_in = frames_out;
        }
        // the encoder ends with one frame of 128 channels a window
        let mut gates = matmul_transposed(&x, HIDDEN, &self.lstm_ih, GATES);
        for row in gates.chunks_exact_mut(GATES) {
            for (g, b) in row.iter_mut().zip(&self.lstm_bias) {
                *g += b;
            }
        }
        gates
    }

    /// One LSTM step from the input-side gates; returns the window's probability.
    fn step(&self, state: &mut LstmState, input_gates: &[f32]) -> f32 {
        let mut gates = [0f32; GATES];
        for (r, g) in gates.iter_mut().enumerate() {
            let weights = &self.lstm_hh[r * HIDDEN..(r + 1) * HIDDEN];
            *g = input_gates[r] + dot(weights, &state.h);
        }
        let mut logit = self.final_bias;
        for j in 0..HIDDEN {
            let input = sigmoid(gates[j]);
            let forget = sigmoid(gates[HIDDEN + j]);
            let cell = tanh(gates[2 * HIDDEN + j]);
            let output = sigmoid(gates[3 * HIDDEN + j]);
            state.c[j] = forget * state.c[j] + input * cell;
            state.h[j] = output * tanh(state.c[j]);
            logit += to_f16(state.h[j].max(0.0)) * self.final_weight[j];
        }
        sigmoid(logit)
    }
}

struct LstmState {
    h: [f32; HIDDEN],
    c: [f32; HIDDEN],
}

impl Default for LstmState {
    fn default() -> Self {
        Self {
            h: [0.0; HIDDEN],
            c: [0.0; HIDDEN],
        }
    }
}

impl Conv {
    /// `x`: [windows × frames_in][channels_in] → [windows × frames_out][out],
    /// each window padded on its own.
    fn forward(&self, x: &[f32], windows: usize, frames_in: usize) -> (Vec<f32>, usize) {
        const KERNEL: usize = 3;
        let frames_out = (frames_in + 2 - KERNEL) / self.stride + 1;
        let width = self.channels_in * KERNEL;
        // rounded once here, though each value goes into up to three columns
        let x: Vec<f32> = x.iter().map(|&v| to_f16(v)).collect();
        let mut columns = vec![0f32; windows * frames_out * width];
        for w in 0..windows {
            for t in 0..frames_out {
                let row = &mut columns[(w * frames_out + t) * width..][..width];
                for k in 0..KERNEL {
                    let Some(at) = (t * self.stride + k).checked_sub(1).filter(|&at| at < frames_in) else {
                        continue;
                    };
                    let input = &x[(w * frames_in + at) * self.channels_in..][..self.channels_in];
                    for (c, &v) in input.iter().enumerate() {
                        row[c * KERNEL + k] = v;
                    }
                }
            }
        }
        let mut y = matmul_transposed(&columns, width, &self.weight, self.bias.len());
        for row in y.chunks_exact_mut(self.bias.len()) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v = (*v + b).max(0.0);
            }
        }
        (y, frames_out)
    }
}

/// `a` [rows][k] times the transpose of `b` [n][k]: [rows][n].
fn matmul_transposed(a: &[f32], k: usize, b: &[f32], n: usize) -> Vec<f32> {
    let rows = a.len() / k;
    let mut c = vec![0f32; rows * n];
    // SAFETY: the strides describe a, b and c as the row-major matrices
    // above, and each slice holds exactly that many elements.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            1,
            k as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    c
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // eight partial sums, so the compiler keeps them in vector registers
    let mut sums = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            sums[i] += x[i] * y[i];
        }
    }
    sums.iter().sum()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// tanh through exp, which is several times cheaper than libm's tanhf; the
/// difference (a few units in the last place) is far below what the
/// probabilities are compared at.
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / ((2.0 * x).exp() + 1.0)
}

/// `x` rounded to the nearest f16 value (ties to even), as ggml's im2col
/// stores conv inputs. Done on the bits because a call into `half` per value
/// took a third of the network's time; values beyond f16's range (65504) do
/// not occur here and are not turned into infinities.
fn to_f16(x: f32) -> f32 {
    const MIN_NORMAL: f32 = 6.103_515_6e-5; // 2^-14
    if x.abs() < MIN_NORMAL {
        // f16's subnormals are multiples of 2^-24, the spacing of f32 in
        // [0.5, 1): adding 0.75 rounds there (ties to even), without a call
        // to rintf
        const SHIFT: f32 = 0.75;
        return (x + SHIFT) - SHIFT;
    }
    // f32 keeps 23 mantissa bits, f16 10: round away the other 13
    let bits = x.to_bits();
    f32::from_bits(bits.wrapping_add(0x0FFF + ((bits >> 13) & 1)) & !0x1FFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    #[test]
    fn rounds_to_f16_as_the_half_crate_does() {
        let mut x = 1.0e-9f32;
        let mut checked = 0;
        while x < 60000.0 {
            for v in [x, -x, x * 1.000_37, x * 0.999_71] {
                assert_eq!(to_f16(v), f16::from_f32(v).to_f32(), "{v:e}");
                checked += 1;
            }
            x *= 1.013;
        }
        // halfway between two f16 values goes to the even one
        for (v, want) in [
            (1.0 + 1.0 / 2048.0, 1.0),
            (1.0 + 3.0 / 2048.0, 1.0 + 4.0 / 2048.0),
            (0.0, 0.0),
        ] {
            assert_eq!(to_f16(v), want, "{v}");
        }
        assert!(checked > 4000);
    }
}

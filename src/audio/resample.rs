//! Band-limited resampling (rubato's FFT resampler): no aliasing from naive
//! interpolation, and exact output length for any pair of integer rates.

use rubato::{FftFixedIn, Resampler};

use super::AudioError;

const CHUNK_FRAMES: usize = 4096;

/// Resamples one channel. Output length is `round(len × to / from)`, aligned
/// with the input (the resampler's delay is removed), so timestamps computed
/// on the output hold on the original recording.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, AudioError> {
    if from_hz == to_hz || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let fail = |e: &dyn std::fmt::Display| AudioError::Resample {
        from_hz,
        reason: e.to_string(),
    };
    let mut resampler =
        FftFixedIn::<f32>::new(from_hz as usize, to_hz as usize, CHUNK_FRAMES, 2, 1).map_err(|e| fail(&e))?;
    let wanted = (samples.len() as f64 * to_hz as f64 / from_hz as f64).round() as usize;
    let delay = resampler.output_delay();
    let mut out = Vec::with_capacity(wanted + delay + CHUNK_FRAMES);
    let mut pos = 0;
    while out.len() < wanted + delay {
        let need = resampler.input_frames_next();
        let block = if pos + need <= samples.len() {
            let chunk = &samples[pos..pos + need];
            pos += need;
            resampler.process(&[chunk], None)
        } else if pos < samples.len() {
            let chunk = &samples[pos..];
            pos = samples.len();
            resampler.process_partial(Some(&[chunk]), None)
        } else {
            resampler.process_partial::<&[f32]>(None, None)
        }
        .map_err(|e| fail(&e))?;
        out.extend_from_slice(&block[0]);
    }
    out.drain(..delay);
    out.truncate(wanted);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f32, rate_hz: u32, seconds: f32) -> Vec<f32> {
        let n = (rate_hz as f32 * seconds) as usize;
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq_hz * i as f32 / rate_hz as f32).sin())
            .collect()
    }

    #[test]
    fn keeps_length_and_phase_for_common_rates() {
        for from in [8_000, 11_025, 22_050, 44_100, 48_000] {
            let input = sine(440.0, from, 1.5);
            let out = resample(&input, from, 16_000).unwrap();
            let want = (input.len() as f64 * 16_000.0 / from as f64).round() as usize;
            assert_eq!(out.len(), want, "from {from}");
            // Same tone, same place: correlation with the ideal 16 kHz sine at the best
            // lag within ±3 samples (an FFT resampler may land a fraction of a sample
            // off, 0.1 ms, far below what timestamps resolve).
            let ideal = sine(440.0, 16_000, 1.6);
            let best = (0..=6)
                .map(|lag| {
                    let pairs = (2000..want - 2000).map(|i| (out[i], ideal[i + lag]));
                    let (mut xy, mut xx, mut yy) = (0.0f64, 0.0f64, 0.0f64);
                    for (x, y) in pairs {
                        xy += (x * y) as f64;
                        xx += (x * x) as f64;
                        yy += (y * y) as f64;
                    }
                    xy / (xx * yy).sqrt()
                })
                .fold(f64::MIN, f64::max);
            assert!(best > 0.995, "from {from}: correlation {best}");
        }
    }
}

//! Whisper's mel filterbank, written into every ggml model.

pub(super) const WHISPER_SAMPLE_RATE_HZ: f64 = 16000.0;
pub(super) const WHISPER_N_FFT: usize = 400;

/// librosa.filters.mel(sr, n_fft, n_mels) with its defaults (Slaney mel scale,
/// Slaney area normalisation), row-major [n_mels][n_fft/2 + 1]. This is the
/// filterbank every whisper model was trained with.
pub fn slaney_mel_filterbank(n_mels: usize, n_fft: usize, sample_rate_hz: f64) -> Vec<f32> {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    let hz_to_mel = |hz: f64| {
        if hz >= MIN_LOG_HZ {
            MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step
        } else {
            hz / F_SP
        }
    };
    let mel_to_hz = |mel: f64| {
        if mel >= MIN_LOG_MEL {
            MIN_LOG_HZ * (log_step * (mel - MIN_LOG_MEL)).exp()
        } else {
            F_SP * mel
        }
    };
    let n_bins = n_fft / 2 + 1;
    let nyquist = sample_rate_hz / 2.0;
    let fft_freqs: Vec<f64> = (0..n_bins).map(|i| nyquist * i as f64 / (n_bins - 1) as f64).collect();
    let max_mel = hz_to_mel(nyquist);
    let mel_points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0f32; n_mels * n_bins];
    for m in 0..n_mels {
        let (lo, center, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let rising = (f - lo) / (center - lo);
            let falling = (hi - f) / (hi - center);
            weights[m * n_bins + k] = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_filterbank_matches_librosa() {
        // Reference values: whisper's own assets/mel_filters.npz (mel_80), which is
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80).
        let f = slaney_mel_filterbank(80, 400, 16000.0);
        assert_eq!(f.len(), 80 * 201);
        for (index, want) in [
            (1, 0.024_862_595),
            (201 + 2, 0.022_871_772),
            (40 * 201 + 50, 0.0),
            (79 * 201 + 190, 0.002_232_055),
        ] {
            assert!((f[index] - want).abs() < 1e-6, "[{index}] = {}, want {want}", f[index]);
        }
        let sum: f32 = f.iter().sum();
        assert!((sum - 1.999_024_2).abs() < 1e-4, "sum {sum}");
        // each filter is a triangle: non-negative, and the last bin only feeds the top filter
        assert!(f.iter().all(|&x| x >= 0.0));
        assert_eq!(f[200], 0.0);
    }
}

//! Audio clips of bad moments, for trainers: the hit plus a little context on
//! each side, all channels of the original recording (so the customer's
//! reaction is heard too), as 16-bit WAV at the original rate. Where a
//! customer's personal data was said (`privacy`), a clip plays a tone instead.

use std::path::{Path, PathBuf};

use crate::audio::{decode_file, AudioError};

/// A moment of a call to cut: when, and the clip's file name.
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    pub start_s: f64,
    pub end_s: f64,
    pub file_name: &'a str,
    /// Stretches of the call (seconds) where the clip plays [`HIDING_TONE_HZ`]
    /// instead of the recording, on every channel.
    pub hidden: &'a [(f64, f64)],
}

/// The tone that replaces personal data in clips: a telephone test tone,
/// clearly not speech, a quarter of full scale.
pub const HIDING_TONE_HZ: f64 = 1000.0;
const HIDING_TONE_LEVEL: f64 = 0.25;

/// A clip's file name a person can read in a file manager, in the order of
/// the examples: `003_call-17_A12_1m05s_forbidden_f.12.wav`. Anything but
/// letters, digits, `-` and `.` becomes `_`, so the name is safe on every
/// file system and in a page's links.
pub fn clip_file_name(
    rank: usize,
    call_id: &str,
    agent_id: &str,
    start_s: f64,
    category: &str,
    phrase_id: &str,
) -> String {
    let clean =
        |s: &str, max: usize| -> String { s.chars().map(crate::transcript::file_name_char).take(max).collect() };
    let s = start_s.max(0.0).round() as u64;
    format!(
        "{rank:03}_{}_{}_{}m{:02}s_{}_{}.wav",
        clean(call_id, 48),
        clean(agent_id, 24),
        s / 60,
        s % 60,
        clean(category, 24),
        clean(phrase_id, 32)
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: cannot write clip: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// Cuts one clip per moment from `audio_path` into `dir`; returns the clip paths in order.
pub fn cut_clips(audio_path: &Path, hits: &[Moment], context_s: f64, dir: &Path) -> Result<Vec<PathBuf>, ClipError> {
    let audio = decode_file(audio_path)?;
    let rate = audio.sample_rate_hz as f64;
    let frames = audio.channels.first().map_or(0, Vec::len);
    let mut paths = Vec::with_capacity(hits.len());
    for hit in hits {
        let from = (((hit.start_s - context_s).max(0.0)) * rate) as usize;
        let to = (((hit.end_s + context_s) * rate) as usize).min(frames);
        let path = dir.join(hit.file_name);
        let spec = hound::WavSpec {
            channels: audio.channels.len() as u16,
            sample_rate: audio.sample_rate_hz,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let write_err = |reason: String| ClipError::Write {
            path: path.clone(),
            reason,
        };
        let hidden: Vec<(usize, usize)> = hit
            .hidden
            .iter()
            .map(|&(start, end)| ((start.max(0.0) * rate) as usize, (end.max(0.0) * rate).ceil() as usize))
            .collect();
        crate::files::write_atomic_with(&path, |file| {
            let mut writer =
                hound::WavWriter::new(std::io::BufWriter::new(file), spec).map_err(std::io::Error::other)?;
            for i in from..to.max(from) {
                let tone = hidden.iter().any(|&(a, b)| a <= i && i < b).then(|| {
                    let phase = std::f64::consts::TAU * HIDING_TONE_HZ * i as f64 / rate;
                    (HIDING_TONE_LEVEL * phase.sin()) as f32
                });
                for channel in &audio.channels {
                    let sample = (tone.unwrap_or(channel[i]).clamp(-1.0, 1.0) * i16::MAX as f32) as i16;
                    writer.write_sample(sample).map_err(std::io::Error::other)?;
                }
            }
            writer.finalize().map_err(std::io::Error::other)
        })
        .map_err(|e| write_err(e.to_string()))?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_names_say_what_they_hold_and_nothing_else() {
        assert_eq!(
            clip_file_name(3, "call-17", "A12", 65.4, "forbidden", "f.12"),
            "003_call-17_A12_1m05s_forbidden_f.12.wav"
        );
        let odd = clip_file_name(1, "../<b>坐席/x", "李 明", 0.0, "nine_dont", "a#b");
        assert_eq!(odd, "001_..__b_坐席_x_李_明_0m00s_nine_dont_a_b.wav");
    }
}

//! Audio clips of bad moments, for trainers: the hit plus a little context on
//! each side, all channels of the original recording (so the customer's
//! reaction is heard too), as 16-bit WAV at the original rate.

use std::path::{Path, PathBuf};

use crate::audio::{decode_file, AudioError};

/// A moment of a call to cut: when, and the label its clip is named by.
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    pub start_s: f64,
    pub end_s: f64,
    /// The phrase id, in the clip's file name.
    pub label: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: cannot write clip: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// Cuts one clip per moment from `audio_path` into `dir`; returns the clip paths in order.
pub fn cut_clips(
    audio_path: &Path,
    call_id: &str,
    hits: &[Moment],
    context_s: f64,
    dir: &Path,
) -> Result<Vec<PathBuf>, ClipError> {
    let audio = decode_file(audio_path)?;
    let rate = audio.sample_rate_hz as f64;
    let frames = audio.channels.first().map_or(0, Vec::len);
    let mut paths = Vec::with_capacity(hits.len());
    for hit in hits {
        let from = (((hit.start_s - context_s).max(0.0)) * rate) as usize;
        let to = (((hit.end_s + context_s) * rate) as usize).min(frames);
        let name = format!(
            "{}_{:07.2}_{}.wav",
            call_id.replace(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'), "_"),
            hit.start_s,
            hit.label
        );
        let path = dir.join(name);
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
        crate::store::write_atomic_with(&path, |file| {
            let mut writer =
                hound::WavWriter::new(std::io::BufWriter::new(file), spec).map_err(std::io::Error::other)?;
            for i in from..to.max(from) {
                for channel in &audio.channels {
                    let sample = (channel[i].clamp(-1.0, 1.0) * i16::MAX as f32) as i16;
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

//! File → channels of f32 samples, by symphonia.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{check_rate, AudioError, DecodedAudio};

/// How much shorter than its header a file may be before we call it truncated
/// (some writers round the frame count).
const TRUNCATION_TOLERANCE: f64 = 0.01;

/// Decodes every channel of the first audio track.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, AudioError> {
    let file = File::open(path).map_err(|source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let unsupported = |reason: String| AudioError::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| unsupported(e.to_string()))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| unsupported("no audio track".into()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| unsupported(e.to_string()))?;
    let mut rate_hz = params.sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    let mut bad_packets = 0usize;
    let mut good_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(decoded) => {
                good_packets += 1;
                let spec = *decoded.spec();
                rate_hz = spec.rate;
                let n_channels = spec.channels.count();
                if channels.is_empty() {
                    channels = vec![Vec::new(); n_channels];
                }
                let buf = match &mut buffer {
                    Some(b) if b.capacity() >= decoded.capacity() * n_channels => b,
                    _ => buffer.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
                };
                buf.copy_interleaved_ref(decoded);
                for frame in buf.samples().chunks_exact(n_channels) {
                    for (channel, &sample) in channels.iter_mut().zip(frame) {
                        channel.push(sample);
                    }
                }
            }
            // A damaged packet in an otherwise good file: skip it, as players do.
            Err(SymphoniaError::DecodeError(_)) => bad_packets += 1,
            Err(e) => {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        }
    }
    if good_packets == 0 && bad_packets > 0 {
        return Err(AudioError::Decode {
            path: path.to_path_buf(),
            reason: format!("all {bad_packets} packets are damaged"),
        });
    }
    check_rate(path, rate_hz)?;
    let frames = channels.first().map_or(0, Vec::len);
    if frames == 0 {
        return Err(AudioError::NoSamples {
            path: path.to_path_buf(),
        });
    }
    if let Some(promised) = params.n_frames {
        if (frames as f64) < promised as f64 * (1.0 - TRUNCATION_TOLERANCE) {
            return Err(AudioError::Truncated {
                path: path.to_path_buf(),
                promised_s: promised as f64 / rate_hz as f64,
                found_s: frames as f64 / rate_hz as f64,
            });
        }
    }
    Ok(DecodedAudio {
        sample_rate_hz: rate_hz,
        channels,
    })
}

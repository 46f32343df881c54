//! File → channels of f32 samples, by symphonia.

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

/// Decodes every channel of the first audio track of a file.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, AudioError> {
    let bytes = std::fs::read(path).map_err(|source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    decode_file_bytes(bytes, path)
}

/// Decodes a file already read into memory (the pipeline hashes the same
/// bytes, so each file is read once). `path` names it in errors and gives the
/// format hint.
pub fn decode_file_bytes(bytes: Vec<u8>, path: &Path) -> Result<DecodedAudio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let unsupported = |reason: String| AudioError::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let stream = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &FormatOptions::default(), &MetadataOptions::default())
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
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/audio")
            .join(name)
    }

    /// Frequency of a tone from its zero crossings, away from the edges (MP3
    /// encoders pad the start with near-silence).
    fn tone_hz(samples: &[f32], rate_hz: u32) -> f32 {
        let samples = &samples[samples.len() / 5..samples.len() * 4 / 5];
        let crossings = samples.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        crossings as f32 / 2.0 / (samples.len() as f32 / rate_hz as f32)
    }

    #[test]
    fn decodes_every_supported_format_with_channels_in_order() {
        // (file, sample rate) — all stereo 0.5 s: 440 Hz left, 660 Hz right
        for (name, rate) in [
            ("pcm_u8.wav", 8000),
            ("pcm_s16.wav", 8000),
            ("pcm_s24.wav", 8000),
            ("pcm_s32.wav", 8000),
            ("float32.wav", 8000),
            ("ulaw.wav", 8000),
            ("alaw.wav", 8000),
            ("tone.flac", 16000),
            ("tone.ogg", 22050),
            ("tone.mp3", 16000),
        ] {
            let audio = decode_file(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(audio.sample_rate_hz, rate, "{name}");
            assert_eq!(audio.channels.len(), 2, "{name}");
            assert!(
                (audio.duration_s() - 0.5).abs() < 0.08,
                "{name}: {} s",
                audio.duration_s()
            );
            let left = tone_hz(&audio.channels[0], rate);
            let right = tone_hz(&audio.channels[1], rate);
            assert!(
                (left - 440.0).abs() < 25.0 && (right - 660.0).abs() < 25.0,
                "{name}: {left} / {right} Hz"
            );
        }
    }

    #[test]
    fn bad_files_are_errors_that_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let good = std::fs::read(fixture("pcm_s16.wav")).unwrap();
        let mut wrong_rate = good.clone();
        wrong_rate[24..28].copy_from_slice(&1u32.to_le_bytes()); // fmt chunk: sample rate
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("empty.wav", Vec::new(), "empty file"),
            (
                "notes.wav",
                b"these are meeting notes, not audio".to_vec(),
                "not a readable audio file",
            ),
            ("truncated.wav", good[..good.len() / 3].to_vec(), "truncated"),
            ("wrong_rate.wav", wrong_rate, "sample rate 1 Hz"),
        ];
        for (name, bytes, says) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = decode_file(&path).unwrap_err().to_string();
            assert!(err.contains(says) && err.contains(name), "{name}: {err}");
        }
        let missing = decode_file(&dir.path().join("nowhere.wav")).unwrap_err().to_string();
        assert!(
            missing.contains("nowhere.wav") && missing.contains("cannot open"),
            "{missing}"
        );
    }
}

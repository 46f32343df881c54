//! File → channels of f32 samples, by symphonia (0.6: 0.5.5 panicked on an
//! ID3v2.4 extended header with the restrictions flag, `unreachable!()` in
//! symphonia-metadata, whatever the file's extension).
//!
//! The file is streamed from disk, never read whole into memory, and a
//! recording longer than the caller's limit is refused: by its header before
//! a sample is decoded when the header says how long it is, else as soon as
//! the decoded audio passes the limit. A damaged packet in an otherwise good
//! file is skipped, as players do; a file of nothing but damaged packets, a
//! file that stops short of what its header promises, or a rate no recording
//! has is an error naming the file.

use std::path::Path;

use symphonia::core::codecs::audio::{AudioDecoderOptions, CODEC_ID_NULL_AUDIO};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::{check_rate, AudioError, DecodedAudio};
use crate::isolate::{in_stage, Stage};

/// How much shorter than its header a file may be before we call it truncated
/// (some writers round the frame count).
const TRUNCATION_TOLERANCE: f64 = 0.01;

/// Decodes every channel of the first audio track of a file, however long.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, AudioError> {
    decode_file_within(path, None)
}

/// Decodes a file, refusing one longer than `max_s` seconds (a recorder left
/// running for ten hours, a multi-gigabyte upload) before it takes the memory.
pub fn decode_file_within(path: &Path, max_s: Option<f64>) -> Result<DecodedAudio, AudioError> {
    let file = std::fs::File::open(path).map_err(|source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    decode_source(Box::new(file), path, max_s)
}

/// Decodes bytes already in memory; `path` names them in errors and gives the
/// format hint. For tools and the fuzz targets.
pub fn decode_bytes(bytes: Vec<u8>, path: &Path, max_s: Option<f64>) -> Result<DecodedAudio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    decode_source(Box::new(std::io::Cursor::new(bytes)), path, max_s)
}

fn decode_source(source: Box<dyn MediaSource>, path: &Path, max_s: Option<f64>) -> Result<DecodedAudio, AudioError> {
    let unsupported = |reason: String| AudioError::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let failed = |reason: String| AudioError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = in_stage(Stage::Probe, || {
        symphonia::default::get_probe().probe(&hint, stream, FormatOptions::default(), MetadataOptions::default())
    })
    .map_err(|e| unsupported(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported("no audio track".into()))?;
    let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
        return Err(unsupported("no audio track".into()));
    };
    if params.codec == CODEC_ID_NULL_AUDIO {
        return Err(unsupported("no audio track".into()));
    }
    let track_id = track.id;
    let promised_frames = track.num_frames;
    let mut rate_hz = params.sample_rate.unwrap_or(0);
    // the header's own length, checked before any decoding
    if let (Some(frames), Some(max_s)) = (promised_frames, max_s) {
        if rate_hz > 0 && frames as f64 / rate_hz as f64 > max_s {
            return Err(AudioError::TooLong {
                path: path.to_path_buf(),
                found_s: frames as f64 / rate_hz as f64,
                max_s,
                by_header: true,
            });
        }
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported(e.to_string()))?;
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut bad_packets = 0usize;
    let mut good_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(failed(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(decoded) => {
                good_packets += 1;
                rate_hz = decoded.spec().rate();
                decoded.copy_to_vecs_planar(&mut planes);
                if channels.is_empty() {
                    channels = vec![Vec::new(); planes.len()];
                }
                // a stream whose channel count changes midway keeps its first layout
                for (channel, plane) in channels.iter_mut().zip(&planes) {
                    channel.extend_from_slice(plane);
                }
                if let Some(max_s) = max_s {
                    let decoded_s = channels[0].len() as f64 / rate_hz.max(1) as f64;
                    if decoded_s > max_s {
                        return Err(AudioError::TooLong {
                            path: path.to_path_buf(),
                            found_s: decoded_s,
                            max_s,
                            by_header: false,
                        });
                    }
                }
            }
            // A damaged packet in an otherwise good file: skip it, as players do.
            Err(SymphoniaError::DecodeError(_)) => bad_packets += 1,
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    if good_packets == 0 && bad_packets > 0 {
        return Err(failed(format!("all {bad_packets} packets are damaged")));
    }
    check_rate(path, rate_hz)?;
    let frames = channels.first().map_or(0, Vec::len);
    if frames == 0 {
        return Err(AudioError::NoSamples {
            path: path.to_path_buf(),
        });
    }
    if let Some(promised) = promised_frames {
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

    #[test]
    fn an_id3_tag_with_restrictions_is_an_error_not_a_panic() {
        // symphonia-metadata 0.5.5 reached unreachable!() on this 48-byte file
        let mut bytes = b"ID3\x04\x00\x40\x00\x00\x00\x26".to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 6, 1, 0x10, 1, 0x40]);
        bytes.resize(48, 0);
        for ext in ["mp3", "wav", "flac"] {
            let result = std::panic::catch_unwind(|| decode_bytes(bytes.clone(), Path::new(&format!("x.{ext}")), None));
            let err = result.unwrap_or_else(|_| panic!("{ext}: the decoder panicked"));
            assert!(err.is_err(), "{ext}: decoded a tag as audio");
        }
    }

    #[test]
    fn a_recording_longer_than_the_limit_is_refused_by_its_header() {
        // a WAV header promising ten hours of 8 kHz 16-bit stereo, then a second of audio
        let good = std::fs::read(fixture("pcm_s16.wav")).unwrap();
        let mut long = good.clone();
        let data_at = long.windows(4).position(|w| w == b"data").unwrap();
        let ten_hours_bytes = 10u32 * 3600 * 8000 * 4;
        long[data_at + 4..data_at + 8].copy_from_slice(&ten_hours_bytes.to_le_bytes());
        let riff_bytes = (data_at as u32 + 8 - 8) + ten_hours_bytes;
        long[4..8].copy_from_slice(&riff_bytes.to_le_bytes());
        let err = decode_bytes(long, Path::new("long.wav"), Some(3.0 * 3600.0)).unwrap_err();
        assert!(matches!(err, AudioError::TooLong { by_header: true, .. }), "{err}");
        assert!(err.to_string().contains("10.0 h"), "{err}");
        // under the limit, the same audio decodes
        assert!(decode_bytes(good.clone(), Path::new("ok.wav"), Some(3.0 * 3600.0)).is_ok());
        // and a limit shorter than the audio stops decoding once passed
        let err = decode_bytes(good, Path::new("short.wav"), Some(0.1)).unwrap_err();
        assert!(matches!(err, AudioError::TooLong { .. }), "{err}");
    }
}

//! Audio in: any supported file → one 16 kHz mono f32 track per speaker.
//!
//! Decoding is symphonia (WAV PCM 8/16/24/32-bit, float, G.711 µ-law and
//! A-law; MP3; FLAC; OGG/Vorbis). Whatever the file's rate (8 kHz telephone
//! audio is the usual case), channels are resampled to the 16 kHz whisper was
//! trained on. A file that decodes to nothing, stops short of the length its
//! header promises, or claims an impossible rate is an error, never an empty
//! transcript.

mod decode;
pub mod landmarks;
pub mod plan;
mod resample;
mod silero;
pub mod sounds;
pub mod vad;
mod voice;
pub mod voice_vector;

use std::path::{Path, PathBuf};

use crate::transcript::{AgentChannel, Speaker};

pub use decode::{decode_bytes, decode_file, decode_file_within};
pub use resample::resample;
pub use voice::{print_voices, voice_prints_stamp, VoicePrinter, CONTOUR_FRAME_S, VOICE_PRINTS};

/// `[audio]` in pack.toml: what a recording may be.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSettings {
    /// A recording longer than this is not one call (a recorder left
    /// running, a night's tape uploaded whole): it fails with that reason
    /// before it takes memory. A call's audio takes about 0.5 GB an hour at
    /// 16 kHz per two channels, so the default (three hours, which no real
    /// call reaches) bounds a worker's audio at about 1.4 GB.
    pub max_call_minutes: f64,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            max_call_minutes: 180.0,
        }
    }
}

impl crate::settings::Validate for AudioSettings {
    fn validate(&self, c: &mut crate::settings::Checks) {
        c.positive("max_call_minutes", self.max_call_minutes, "minutes");
    }
}

/// The sample rate whisper expects.
pub const WHISPER_RATE_HZ: u32 = 16_000;

/// Rates outside this range are not speech recordings but broken headers.
const PLAUSIBLE_RATES_HZ: std::ops::RangeInclusive<u32> = 4_000..=384_000;

/// A decoded recording, channels kept apart, at its own sample rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// The file's own rate (resampled to 16 kHz later, per speaker).
    pub sample_rate_hz: u32,
    /// Each channel's samples in -1..1, in the file's order (left first).
    pub channels: Vec<Vec<f32>>,
}

impl DecodedAudio {
    /// The recording's length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.channels
            .first()
            .map_or(0.0, |c| c.len() as f64 / self.sample_rate_hz as f64)
    }
}

/// One speaker's audio, ready for the recogniser.
#[derive(Debug, Clone)]
pub struct SpeakerTrack {
    /// Whose voice this channel is (`Unknown` for a mono recording).
    pub speaker: Speaker,
    /// 16 kHz mono.
    pub samples: Vec<f32>,
}

/// Why a recording could not be read; each names the file, and fails that call only.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened.
    #[error("{path}: cannot open: {source}")]
    Open {
        /// The recording.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no bytes.
    #[error("{path}: empty file (0 bytes)")]
    EmptyFile {
        /// The recording.
        path: PathBuf,
    },
    /// Not a format callqa reads (WAV, MP3, FLAC, Ogg Vorbis).
    #[error("{path}: not a readable audio file ({reason})")]
    Unsupported {
        /// The recording.
        path: PathBuf,
        /// What went wrong, for a person.
        reason: String,
    },
    /// The format is known but its data would not decode.
    #[error("{path}: decoding failed: {reason}")]
    Decode {
        /// The recording.
        path: PathBuf,
        /// What went wrong, for a person.
        reason: String,
    },
    /// A valid file with no samples in it.
    #[error("{path}: the file holds no audio samples")]
    NoSamples {
        /// The recording.
        path: PathBuf,
    },
    /// The file ends before its header says it does (a copy cut short).
    #[error("{path}: truncated: the header promises {promised_s:.1} s of audio, the file holds {found_s:.1} s")]
    Truncated {
        /// The recording.
        path: PathBuf,
        /// Seconds the header promises.
        promised_s: f64,
        /// Seconds the file holds.
        found_s: f64,
    },
    /// A sample rate no recording has (a damaged header).
    #[error("{path}: sample rate {rate_hz} Hz is not a plausible recording rate")]
    BadSampleRate {
        /// The recording.
        path: PathBuf,
        /// The rate the file declares.
        rate_hz: u32,
    },
    /// Longer than any call (`[audio] max_call_minutes`): refused before it takes the memory.
    #[error(
        "{path}: {} long{}, over the limit for one call ({:.0} minutes, [audio] max_call_minutes in the pack)",
        long_time(*.found_s),
        if *.by_header { " by its header" } else { " at least" },
        .max_s / 60.0
    )]
    TooLong {
        /// The recording.
        path: PathBuf,
        /// Seconds it holds (by its header), or decoded before it was stopped.
        found_s: f64,
        /// The limit, in seconds.
        max_s: f64,
        /// Known from the header, before any decoding.
        by_header: bool,
    },
    /// The resampler refused the audio.
    #[error("resampling from {from_hz} Hz failed: {reason}")]
    Resample {
        /// The rate resampled from.
        from_hz: u32,
        /// What went wrong, for a person.
        reason: String,
    },
}

/// Splits a recording into speaker tracks at 16 kHz.
///
/// Stereo: the agent's channel (left unless told otherwise) and the other one
/// as the customer. Mono, or `AgentChannel::Mono`: one mixed track, speaker
/// unknown. Extra channels beyond two are ignored: call recorders put the two
/// parties first. The recording is consumed: each channel at the file's rate
/// is freed once resampled, so a long call holds little more than its 16 kHz
/// tracks.
pub fn speaker_tracks(audio: DecodedAudio, agent_channel: AgentChannel) -> Result<Vec<SpeakerTrack>, AudioError> {
    let rate_hz = audio.sample_rate_hz;
    let to_16k = |samples: Vec<f32>| resample(&samples, rate_hz, WHISPER_RATE_HZ);
    let mut channels = audio.channels;
    if channels.len() < 2 || agent_channel == AgentChannel::Mono {
        let mixed = mix_down(channels);
        return Ok(vec![SpeakerTrack {
            speaker: Speaker::Unknown,
            samples: to_16k(mixed)?,
        }]);
    }
    channels.truncate(2);
    let customer = channels.pop().expect("two channels");
    let agent = channels.pop().expect("two channels");
    let (agent, customer) = match agent_channel {
        AgentChannel::Right => (customer, agent),
        _ => (agent, customer),
    };
    Ok(vec![
        SpeakerTrack {
            speaker: Speaker::Agent,
            samples: to_16k(agent)?,
        },
        SpeakerTrack {
            speaker: Speaker::Customer,
            samples: to_16k(customer)?,
        },
    ])
}

fn mix_down(mut channels: Vec<Vec<f32>>) -> Vec<f32> {
    match channels.len() {
        0 => Vec::new(),
        1 => channels.pop().expect("one channel"),
        _ => {
            let n = channels.iter().map(Vec::len).min().unwrap_or(0);
            let scale = 1.0 / channels.len() as f32;
            (0..n)
                .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() * scale)
                .collect()
        }
    }
}

/// A length for a person: hours past an hour, else minutes.
fn long_time(seconds: f64) -> String {
    if seconds >= 3600.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} min", seconds / 60.0)
    }
}

pub(crate) fn check_rate(path: &Path, rate_hz: u32) -> Result<(), AudioError> {
    if PLAUSIBLE_RATES_HZ.contains(&rate_hz) {
        Ok(())
    } else {
        Err(AudioError::BadSampleRate {
            path: path.to_path_buf(),
            rate_hz,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stereo(left: f32, right: f32) -> DecodedAudio {
        DecodedAudio {
            sample_rate_hz: 16_000,
            channels: vec![vec![left; 1600], vec![right; 1600]],
        }
    }

    #[test]
    fn stereo_channels_go_to_the_right_speaker() {
        for (agent_channel, agent_level, customer_level) in
            [(AgentChannel::Left, 0.5, -0.25), (AgentChannel::Right, -0.25, 0.5)]
        {
            let tracks = speaker_tracks(stereo(0.5, -0.25), agent_channel).unwrap();
            assert_eq!(tracks.len(), 2);
            assert_eq!(tracks[0].speaker, Speaker::Agent);
            assert_eq!(tracks[1].speaker, Speaker::Customer);
            assert!((tracks[0].samples[800] - agent_level).abs() < 1e-3, "{agent_channel:?}");
            assert!(
                (tracks[1].samples[800] - customer_level).abs() < 1e-3,
                "{agent_channel:?}"
            );
        }
    }

    #[test]
    fn mono_recordings_and_forced_mono_give_one_unknown_track() {
        let mono = DecodedAudio {
            sample_rate_hz: 16_000,
            channels: vec![vec![0.5; 1600]],
        };
        for (audio, channel) in [(mono, AgentChannel::Left), (stereo(0.5, 0.25), AgentChannel::Mono)] {
            let tracks = speaker_tracks(audio, channel).unwrap();
            assert_eq!(tracks.len(), 1);
            assert_eq!(tracks[0].speaker, Speaker::Unknown);
        }
        let mixed = speaker_tracks(stereo(0.5, 0.25), AgentChannel::Mono).unwrap();
        assert!((mixed[0].samples[800] - 0.375).abs() < 1e-3);
    }
}

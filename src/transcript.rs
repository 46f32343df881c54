//! The transcript of one call: the plain data type every later stage reads.
//!
//! A transcript is saved under its call's day, as
//! `<out>/transcripts/<YYYY-MM-DD>/<call_id>.json` (`store::OutDir::transcript`). It carries the
//! fingerprint of what produced it (audio bytes, model, decoding settings), so
//! a rerun reuses it when nothing changed and redoes it when anything did.
//! Scoring reads only these files: it never touches audio or the model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Who spoke a segment. On stereo recordings each channel is one party; on
/// mono recordings nobody can tell, so segments are `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The agent's channel, or an agent's turn on a mono call.
    Agent,
    /// The customer's channel, or a customer's turn on a mono call.
    Customer,
    /// A mono call's speech not told apart.
    Unknown,
    /// A recorded prompt (the IVR's welcome, a hold announcement, the survey):
    /// the system's words, never a person's. Decided at scoring, from the
    /// audio (a segment's `prompt`) or the pack's listed prompts.
    System,
}

impl Speaker {
    /// The id used in transcripts and the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Agent => "agent",
            Speaker::Customer => "customer",
            Speaker::Unknown => "unknown",
            Speaker::System => "system",
        }
    }

    /// One letter for the speaker, in compact lists (`a`, `c`, `u`, `s`).
    pub fn letter(self) -> char {
        match self {
            Speaker::Agent => 'a',
            Speaker::Customer => 'c',
            Speaker::Unknown => 'u',
            Speaker::System => 's',
        }
    }

    /// The speaker of a [`Speaker::letter`] (unknown for any other letter).
    pub fn of_letter(letter: char) -> Speaker {
        match letter {
            'a' => Speaker::Agent,
            'c' => Speaker::Customer,
            's' => Speaker::System,
            _ => Speaker::Unknown,
        }
    }
}

/// What a sound span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoundKind {
    /// Hold music (or any music).
    Music,
    /// The ringing a caller hears until someone picks up (450 Hz, 1 s on / 4 s off).
    Ringback,
    /// The busy tone (450 Hz, 0.35 s on / off).
    Busy,
    /// A key pressed on the phone (its DTMF digit in the span's `key`).
    Dtmf,
}

impl SoundKind {
    /// The id in transcripts and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            SoundKind::Music => "music",
            SoundKind::Ringback => "ringback",
            SoundKind::Busy => "busy",
            SoundKind::Dtmf => "dtmf",
        }
    }

    /// A network tone rather than music.
    pub fn is_tone(self) -> bool {
        self != SoundKind::Music
    }
}

/// A stretch of a person's track where the speech detector heard a voice and
/// whisper wrote no words (a lone 喂？ of a quarter second), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WordlessVoice {
    /// The track: the agent's or the customer's channel (a mixed channel's
    /// voice is nobody's yet, and is not kept).
    pub speaker: Speaker,
    /// Where the voice begins, seconds from the recording's start.
    pub start: f64,
    /// Where it ends.
    pub end: f64,
}

/// A stretch of one track that is a sound, not speech, in seconds: found
/// in the audio (`audio::sounds`), never given to whisper.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SoundSpan {
    /// The track it was heard on (the agent's or customer's channel, or the mixed one).
    pub speaker: Speaker,
    /// What it is.
    pub kind: SoundKind,
    /// Seconds from the recording's start.
    pub start: f64,
    /// Where it ends.
    pub end: f64,
    /// The key of a DTMF tone (`0`–`9`, `*`, `#`, `A`–`D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<char>,
}

/// Which channel of a recording carries the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AgentChannel {
    /// The left channel (the default).
    #[default]
    Left,
    /// The right channel.
    Right,
    /// Treat the recording as one mixed channel, even if it is stereo.
    Mono,
}

impl std::str::FromStr for AgentChannel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" | "l" | "0" | "" => Ok(Self::Left),
            "right" | "r" | "1" => Ok(Self::Right),
            "mono" | "mixed" => Ok(Self::Mono),
            other => Err(format!("agent_channel must be left, right or mono, not {other:?}")),
        }
    }
}

/// One stretch of speech: a sentence or clause, short enough (about a second
/// or two) that a phrase inside it is placed in time by interpolation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Who spoke.
    pub speaker: Speaker,
    /// Seconds from the start of the recording.
    pub start: f64,
    /// Seconds from the start of the recording where it ends.
    pub end: f64,
    /// Simplified Chinese, as recognised (not normalised for matching).
    pub text: String,
    /// Mean token probability, 0..1.
    pub confidence: f32,
    /// What the voice sounded like: on mono recordings the rules tell agent
    /// from customer by it (`rules::speakers`); a customer's voice rising
    /// against its start is a risk signal (`rules::risk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoicePrint>,
    /// Phrases the text nearly holds, checked against the audio at transcription.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<PhraseCheck>,
    /// The recorded prompt this stretch of audio is (`audio::landmarks`): the
    /// same waveform recurs in the center's other calls. Evidence for scoring,
    /// which makes such a segment the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Who the voice is (`audio::voice_vector`): made for the speech of mono
    /// calls, where it tells the two voices apart, and for a sample of the
    /// agent's speech on stereo calls, which enrols the agent's voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_vector: Option<VoiceVector>,
}

/// A unit-length voice vector (256 numbers). Stored in transcripts as
/// integers of 1/4096 (about 1 KB a segment instead of 3): far finer than
/// two voices differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<u16>", into = "Vec<u16>")]
pub struct VoiceVector(pub Vec<f32>);

const VOICE_VECTOR_SCALE: f32 = 4096.0;

impl From<Vec<u16>> for VoiceVector {
    fn from(stored: Vec<u16>) -> Self {
        let values: Vec<f32> = stored.iter().map(|&q| f32::from(q) / VOICE_VECTOR_SCALE).collect();
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        Self(if norm > 0.0 {
            values.iter().map(|v| v / norm).collect()
        } else {
            values
        })
    }
}

impl From<VoiceVector> for Vec<u16> {
    fn from(vector: VoiceVector) -> Self {
        // the encoder's vectors are non-negative (a ReLU before the norm)
        vector
            .0
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * VOICE_VECTOR_SCALE).round() as u16)
            .collect()
    }
}

impl Segment {
    /// A segment of full confidence, without voice print or audio checks: for tests and tools that build transcripts by hand.
    pub fn new(speaker: Speaker, start: f64, end: f64, text: &str) -> Self {
        Self {
            speaker,
            start,
            end,
            text: text.to_string(),
            confidence: 1.0,
            voice: None,
            checks: Vec::new(),
            prompt: None,
            voice_vector: None,
        }
    }
}

/// A phrase a chunk's text nearly holds, for the acoustic model to check: the
/// lexicon proposes (`lexicon::Matcher::near_candidates`), `asr::verify` scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Characters of the chunk's text (its clauses' texts, concatenated) that
    /// the phrase stands in for.
    pub span: std::ops::Range<usize>,
    /// What the span becomes: the phrase, written with the heard text's own
    /// characters where they already say it (你 for 您, its punctuation).
    pub rewrite: String,
    /// What is checked: the phrase variant as the pack writes it.
    pub phrase: String,
    /// Characters the phrase has (normalised), for a per-character score.
    pub phrase_chars: usize,
    /// Other phrases of the pack at this place; the phrase must beat them.
    pub rivals: Vec<Proposal>,
}

/// What whisper's acoustic model made of a phrase the transcript nearly
/// holds (`asr::verify`): the evidence, not a verdict. The lexicon decides
/// from it whether the phrase was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhraseCheck {
    /// The phrase, as the pack writes it.
    pub phrase: String,
    /// Where the heard text starts: a character index into the segment's text.
    pub at: usize,
    /// What whisper wrote where the phrase would be (may run on into the next segments).
    pub heard: String,
    /// Log-likelihood of the rewritten decode minus the free decode's, per
    /// character of the phrase (0: as likely as what was heard; below: less).
    pub gap_per_char: f32,
    /// The lowest log-probability of a token of the rewritten span.
    pub weakest: f32,
    /// The mean log-probability of the rewritten span's tokens: how likely
    /// the phrase is outright, not only against what was heard.
    #[serde(default)]
    pub mean: f32,
    /// The best-scoring rival phrase at this place, if the pack has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rival: Option<String>,
    /// Log-likelihood of the phrase's decode minus the best rival's (positive: the phrase fits better).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f32>,
    /// How sure the free decode was of what it wrote there: the mean
    /// log-probability of its own tokens over the heard text (None: checked
    /// before this was kept). Words heard surely are evidence against a
    /// phrase that only nearly fits, not a doubt about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard_mean: Option<f32>,
}

/// A segment's voice, summarised (`audio::VoicePrinter`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VoicePrint {
    /// Median pitch over the voiced speech, in octaves above 100 Hz.
    pub pitch: f32,
    /// Seconds of voiced speech the median is over.
    pub voiced_s: f32,
    /// Median level of the voiced frames, dB of full scale (prints made
    /// before `pitch+level/3` have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_db: Option<f32>,
}

/// What produced a transcript; equal fingerprints mean the cached transcript
/// can be reused as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Fingerprint {
    /// The recording's bytes, hashed.
    pub audio_blake3: String,
    /// The model file, hashed.
    pub model_blake3: String,
    /// What else changes the text: the engine's decode settings, the agent's channel, the phrases verified against the audio.
    pub settings: String,
}

/// A call's transcript plus the identity fields that scoring needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The call's id.
    pub call_id: String,
    /// The agent the call is scored for.
    pub agent_id: String,
    /// The recording, as `run` saw it.
    pub audio_path: PathBuf,
    /// When the call began (RFC 3339 with the center's offset) when known: the manifest's, or the file name's or mtime's.
    pub started_at: Option<String>,
    /// The recording's length in seconds.
    pub duration_s: f64,
    /// Which channel was the agent's.
    pub agent_channel: AgentChannel,
    /// Number of channels in the recording.
    pub channels: u16,
    /// What was said, in time order (both speakers interleaved).
    pub segments: Vec<Segment>,
    /// The sounds that are not a person (hold music, ringback, busy tone,
    /// keys), per track, in time order: never given to whisper.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sounds: Vec<SoundSpan>,
    /// Voice on a person's channel that whisper wrote nothing for: the
    /// agent's pick-up can be there (`rules::sources::pick_up`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wordless_voice: Vec<WordlessVoice>,
    /// Extra manifest columns, carried through to the tables.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// What produced it, so a rerun reuses it only when nothing changed.
    #[serde(default)]
    pub fingerprint: Fingerprint,
    /// The voice-print method (`audio::VOICE_PRINTS`) that filled the
    /// segments' `voice`, on mono recordings; `None` when none did. A
    /// transcript from before voice prints gets them on the next run, from
    /// the audio, without transcribing again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_prints: Option<String>,
    /// The prompt library (`audio::landmarks::PromptLibrary::stamp`) its
    /// audio was checked against for recorded prompts and sounds; a run with
    /// another library checks it again from the audio, without transcribing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_checked: Option<String>,
    /// The voice enrolled for the call's agent id from their other calls
    /// (`rules::voiceprints`), given at scoring: not part of the transcript
    /// (it changes as the archive grows), so never saved with it.
    #[serde(skip)]
    pub enrolled_voice: Option<EnrolledVoice>,
}

/// An agent's voice as enrolled from their stereo calls: the mean of each
/// call's agent-channel voice vector, made unit length.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolledVoice {
    /// The print (unit length).
    pub vector: Vec<f32>,
    /// Calls it rests on.
    pub calls: u32,
    /// Seconds of the agent's speech it rests on.
    pub seconds: f64,
}

impl Transcript {
    /// A transcript of text alone, with placeholder identity (agent `unknown`,
    /// no audio): for matching text that did not come from a recording.
    pub fn from_segments(call_id: &str, segments: Vec<Segment>) -> Self {
        Self {
            call_id: call_id.to_string(),
            agent_id: "unknown".to_string(),
            audio_path: PathBuf::new(),
            started_at: None,
            duration_s: segments.iter().map(|s| s.end).fold(0.0, f64::max),
            agent_channel: AgentChannel::Left,
            channels: 2,
            segments,
            sounds: Vec::new(),
            wordless_voice: Vec::new(),
            extra: BTreeMap::new(),
            fingerprint: Fingerprint::default(),
            voice_prints: None,
            prompts_checked: None,
            enrolled_voice: None,
        }
    }

    /// Whether the call has a channel without a known speaker: one mixed
    /// channel, whose segments only voice prints can tell apart.
    pub fn is_mixed(&self) -> bool {
        self.segments.iter().any(|s| s.speaker == Speaker::Unknown)
    }

    /// The file name of a call's transcript (the folder is the output
    /// folder's business: `store::OutDir::transcript`).
    pub fn file_name(call_id: &str) -> String {
        format!("{}.json", file_safe(call_id))
    }

    /// Reads a transcript file written by `run`.
    pub fn read(path: &Path) -> Result<Self, TranscriptError> {
        Self::from_file_bytes(path, std::fs::read(path))
    }

    /// A transcript from the bytes of `path`, read elsewhere (ahead, in bulk).
    pub fn from_file_bytes(path: &Path, bytes: std::io::Result<Vec<u8>>) -> Result<Self, TranscriptError> {
        let bytes = bytes.map_err(|source| TranscriptError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| TranscriptError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the transcript atomically: a crash leaves the old file or the new one.
    /// Compact JSON (`jq .` lays it out): a third smaller than indented, and
    /// re-scoring a large archive is bound by reading it.
    pub fn write(&self, path: &Path) -> Result<(), TranscriptError> {
        let json = serde_json::to_vec(self).expect("transcripts always serialise");
        crate::files::write_atomic(path, &json).map_err(|source| TranscriptError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Why a transcript could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The transcript file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a transcript callqa wrote.
    #[error("{path}: not a callqa transcript: {source}")]
    Json {
        /// The transcript file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
}

/// Call ids come from users; keep them from escaping the transcripts folder.
/// A call id as a file name that no other call id gives: ids made only of
/// letters, digits, `-`, `_` and `.` (not leading) are kept as they are;
/// any other is escaped and given `~` and a hash of the id, so `a/b` and
/// `a_b` stay two files. A kept id never contains `~`, so the two forms
/// cannot meet.
fn file_safe(call_id: &str) -> String {
    // File systems bound a name in bytes (255 on ext4, xfs, btrfs), and a
    // Chinese character takes three: a 90-character id is 270 bytes.
    const MAX_KEPT_CHARS: usize = 100;
    const MAX_KEPT_BYTES: usize = 200;
    const MAX_PREFIX_BYTES: usize = 150;
    let keeps = |c: char| file_name_char(c) == c;
    let plain = !call_id.is_empty()
        && !call_id.starts_with('.')
        && call_id.chars().count() <= MAX_KEPT_CHARS
        && call_id.len() <= MAX_KEPT_BYTES
        && call_id.chars().all(keeps);
    if plain {
        return call_id.to_string();
    }
    let mut escaped = String::new();
    for c in call_id
        .chars()
        .take(MAX_KEPT_CHARS)
        .map(|c| if keeps(c) { c } else { '_' })
    {
        if escaped.len() + c.len_utf8() > MAX_PREFIX_BYTES {
            break;
        }
        escaped.push(c);
    }
    let hash = blake3::hash(call_id.as_bytes()).to_hex();
    format!("{}~{}", escaped.trim_start_matches('.'), &hash[..16])
}

/// A character as callqa writes it in a file name it makes from a user's
/// text (transcripts, clips): letters (Chinese too) and digits, `-`, `_` and
/// `.` as they are, anything else `_`: safe on every file system and in a link.
pub fn file_name_char(c: char) -> char {
    if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
        c
    } else {
        '_'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_cannot_escape_the_transcript_folder() {
        let name = Transcript::file_name("../../etc/passwd");
        assert!(!name.contains('/'), "{name}");
        assert!(name.starts_with("_.._etc_passwd~") && name.ends_with(".json"), "{name}");
    }

    #[test]
    fn different_call_ids_never_share_a_transcript() {
        let ids = [
            "a/b",
            "a_b",
            "a b",
            "a\\b",
            "A001_20261120_x",
            "通话-001",
            ".hidden",
            "_hidden",
            "",
            " ",
            "a~b",
            "a_b~0",
        ];
        let names: std::collections::BTreeSet<String> = ids.iter().map(|id| Transcript::file_name(id)).collect();
        assert_eq!(names.len(), ids.len(), "{names:?}");
        // plain ids keep their own name, so existing output folders still match
        for id in ["A001_20261120_x", "通话-001", "call-001"] {
            assert_eq!(Transcript::file_name(id), format!("{id}.json"));
        }
        let long = "x".repeat(500);
        assert!(Transcript::file_name(&long).len() < 160);
        // Chinese file names make long ids: bounded in bytes, still one file per id
        let chinese = "北京市朝阳区燃气客服中心二〇二六年十一月十九日晚间投诉回访录音".repeat(3);
        assert!(chinese.chars().count() >= 90 && chinese.len() >= 270);
        let name = Transcript::file_name(&chinese);
        assert!(name.len() <= 200, "{} bytes: {name}", name.len());
        assert!(name.starts_with("北京市朝阳区"), "{name}");
        assert_ne!(name, Transcript::file_name(&format!("{chinese}2")));
    }

    #[test]
    fn agent_channel_parses_what_manifests_say() {
        for (text, want) in [
            ("left", AgentChannel::Left),
            ("RIGHT", AgentChannel::Right),
            ("", AgentChannel::Left),
            ("mono", AgentChannel::Mono),
        ] {
            assert_eq!(text.parse::<AgentChannel>().unwrap(), want, "{text}");
        }
        assert!("centre".parse::<AgentChannel>().is_err());
    }
}

//! Lexicon packs: the phrases QA listens for, and the pack's rule settings.
//!
//! A pack is a folder: `pack.toml` (categories, rules, rubric) plus one plain
//! text file per category, one phrase per line:
//!
//! ```text
//! # comment
//! greeting.how_can_i_help   请问有什么可以帮您 | 请问有什么可以帮到您
//! nine_dont.no_way          不行 !not 行不行
//! hold_return.named         {name}先生，让您久等了
//! ```
//!
//! The first word is the phrase's stable id; `|` separates variants that share
//! it; `!not` lists longer phrases inside which a hit does not count. Slots
//! stand for the handbooks' placeholders: `{num}` a number in Chinese or Arabic
//! numerals (XX分钟), `{name}` one to three characters (X先生), `{any}` up to
//! twelve characters. [`load_pack`] reports every mistake with its file and
//! line and refuses the pack, so a broken pack never scores calls.

mod matcher;
mod pack;
mod phrase;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use matcher::Matcher;
pub use pack::{
    builtin_pack, load_pack, Category, CategorySpeaker, MatchSettings, Pack, Rubric, RuleSettings, SpeakerSettings,
    TimingSettings, UnknownSpeaker, RULE_IDS,
};
pub use phrase::{Phrase, Slot, Token};

use crate::transcript::Speaker;

/// What a category is for; the rules treat each role differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Greeting,
    Closing,
    NineDo,
    NineDont,
    Forbidden,
    HoldRequest,
    HoldReturn,
    /// The agent checking on a customer who waits (seed 003: about every thirty seconds).
    HoldCheckin,
    /// Recorded in hits, not scored (a pack's own extra lists).
    Watch,
    /// A timing event the rules found (dead air, talk-over…), not a phrase: no
    /// pack category has this role.
    Acoustic,
}

impl Role {
    /// The roles a pack's category can have.
    pub const ALL: [Role; 9] = [
        Role::Greeting,
        Role::Closing,
        Role::NineDo,
        Role::NineDont,
        Role::Forbidden,
        Role::HoldRequest,
        Role::HoldReturn,
        Role::HoldCheckin,
        Role::Watch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Greeting => "greeting",
            Role::Closing => "closing",
            Role::NineDo => "nine_do",
            Role::NineDont => "nine_dont",
            Role::Forbidden => "forbidden",
            Role::HoldRequest => "hold_request",
            Role::HoldReturn => "hold_return",
            Role::HoldCheckin => "hold_checkin",
            Role::Watch => "watch",
            Role::Acoustic => "acoustic",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// How a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The phrase, after normalisation, character for character (slots filled).
    Exact,
    /// Sounds like the phrase: homophones or one near-sound per few characters.
    Tolerant,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Tolerant => "tolerant",
        }
    }
}

/// One phrase found in one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub category: String,
    pub role: Role,
    pub phrase_id: String,
    /// The phrase as written in the pack (first variant that matched).
    pub phrase: String,
    /// What was said, as transcribed.
    pub matched_text: String,
    pub speaker: Speaker,
    pub start_s: f64,
    pub end_s: f64,
    pub kind: MatchKind,
    /// The sentence around the hit.
    pub context: String,
}

/// One mistake in a pack, pointing at the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProblem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for PackProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A pack that failed validation: all its problems, not just the first.
#[derive(Debug, thiserror::Error)]
#[error("lexicon pack {dir} has {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct PackError {
    pub dir: PathBuf,
    pub problems: Vec<PackProblem>,
}

//! The lexicon: the phrases QA listens for, and the matcher that finds them
//! in a transcript (exact, by sound, and near enough to check against the audio).
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
//! twelve characters. The pack loader (`pack::load_pack`) reads the files and
//! hands the lexicon its part ([`Lexicon`]): categories, phrases, and the
//! `[normalize]`, `[matching]` and `[verify]` settings.

mod matcher;
mod phrase;
mod settings;

use serde::{Deserialize, Serialize};

pub use matcher::Matcher;
pub use phrase::{literal_text, parse_line, Phrase, Slot, Token};
pub use settings::{Category, CategorySpeaker, Lexicon, MatchSettings, VerifySettings};

use crate::transcript::Speaker;

/// What a category is for; the rules treat each role differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The opening greeting the agent must say.
    Greeting,
    /// The closing the agent must say at the end.
    Closing,
    /// 九准: phrases a good agent uses (a small bonus).
    NineDo,
    /// 九不准: phrases an agent must not use.
    NineDont,
    /// 禁用语: phrases never said to a customer.
    Forbidden,
    /// The agent asking the customer to hold (before a hold).
    HoldRequest,
    /// The agent back from a hold, thanking the customer for waiting.
    HoldReturn,
    /// The agent checking on a customer who waits (seed 003: about every thirty seconds).
    HoldCheckin,
    /// Recorded in hits, not scored (a pack's own extra lists).
    Watch,
    /// The customer's words that signal a complaint or an escalation
    /// (投诉, 12315, 找你们领导): they flag the call at risk for managers and
    /// never count against the agent, unless the pack makes `customer_risk` a rule.
    Risk,
    /// A timing event the rules found (dead air, talk-over…), not a phrase: no
    /// pack category has this role.
    Acoustic,
    /// The center's recorded prompts, as the pack lists them (the IVR's menu,
    /// the queue's announcements, the survey): an utterance with one of these
    /// lines is the system's, never a person's.
    System,
}

impl Role {
    /// The roles a pack's category can have.
    pub const ALL: [Role; 11] = [
        Role::Greeting,
        Role::Closing,
        Role::NineDo,
        Role::NineDont,
        Role::Forbidden,
        Role::HoldRequest,
        Role::HoldReturn,
        Role::HoldCheckin,
        Role::Watch,
        Role::Risk,
        Role::System,
    ];

    /// The id used in pack.toml and the tables.
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
            Role::Risk => "risk",
            Role::Acoustic => "acoustic",
            Role::System => "system",
        }
    }

    /// The role of a pack's `role = "…"`, if it is one.
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
    /// Written a little off, and the audio, scored by whisper with the phrase
    /// in place of what it wrote, says the phrase ([`Hit::score`]).
    Verified,
    /// Written a little off, and the audio neither confirms the phrase nor
    /// rules it out: not found, not absent. Never counts as said.
    Uncertain,
}

impl MatchKind {
    /// The id used in hits.parquet's `match` column.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Tolerant => "tolerant",
            MatchKind::Verified => "verified",
            MatchKind::Uncertain => "uncertain",
        }
    }

    /// The kind of a `match` id, if it is one.
    pub fn parse(name: &str) -> Option<MatchKind> {
        [
            MatchKind::Exact,
            MatchKind::Tolerant,
            MatchKind::Verified,
            MatchKind::Uncertain,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    /// Whether the phrase counts as said (everything but `Uncertain`).
    pub fn is_found(self) -> bool {
        self != MatchKind::Uncertain
    }
}

/// One phrase found in one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The pack's category (`forbidden`, `nine_dont`, or a pack's own).
    pub category: String,
    /// What the category is for.
    pub role: Role,
    /// The phrase's id in the pack.
    pub phrase_id: String,
    /// The phrase as written in the pack (first variant that matched).
    pub phrase: String,
    /// What was said, as transcribed.
    pub matched_text: String,
    /// Who said it.
    pub speaker: Speaker,
    /// Seconds from the recording's start (interpolated inside its segment).
    pub start_s: f64,
    /// Seconds from the recording's start where the phrase ends.
    pub end_s: f64,
    /// How it was found.
    pub kind: MatchKind,
    /// For a hit checked against the audio (`verified`, `uncertain`): how much
    /// less likely whisper found the phrase than what it wrote, per character
    /// (log-likelihood; 0 = as likely).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The sentence around the hit.
    pub context: String,
    /// What the rules made of it: decided once, by `rules::judge`; the
    /// tables, the report and `examples` only show it.
    #[serde(default)]
    pub verdict: HitVerdict,
}

/// Whether a hit counted in its call's verdict, under which rule, and, when
/// it did not, why. A matcher's hit is `NotJudged` until the rules judge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitVerdict {
    /// Whether it counted in the call's verdict.
    pub counted: bool,
    /// The rule it counted under, or would have: a `failed_rules` id
    /// (`forbidden_phrase`, `greeting_late`…), `nine_do_bonus` for a
    /// nine-do phrase; None for a category no rule reads.
    pub rule: Option<String>,
    /// Why it did not count (None when it did).
    pub not_counted: Option<NotCounted>,
}

impl HitVerdict {
    /// Not judged yet: what a matcher's hit carries.
    pub const NOT_JUDGED: HitVerdict = HitVerdict {
        counted: false,
        rule: None,
        not_counted: Some(NotCounted::NotJudged),
    };

    /// A hit that counted under `rule`.
    pub fn counted(rule: &str) -> Self {
        Self {
            counted: true,
            rule: Some(rule.to_string()),
            not_counted: None,
        }
    }

    /// A hit that did not count, and why.
    pub fn not_counted(rule: Option<&str>, why: NotCounted) -> Self {
        Self {
            counted: false,
            rule: rule.map(str::to_string),
            not_counted: Some(why),
        }
    }
}

impl Default for HitVerdict {
    fn default() -> Self {
        Self::NOT_JUDGED
    }
}

/// Why a hit did not count: stable ids, as hits.parquet's `not_counted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCounted {
    /// The rules have not judged it (a hit straight from the matcher).
    NotJudged,
    /// Said by the customer, in a category that listens to the agent.
    CustomersWords,
    /// Said by the agent, in a category that listens to the customer.
    AgentsWords,
    /// Mono speech not told apart, and the pack's `unknown_speaker` is `ignore`.
    UnknownSpeakerIgnored,
    /// The call's speakers were told apart less surely than the category's
    /// `min_speaker_confidence` asks.
    SpeakerUnsure,
    /// The audio check neither confirmed the phrase nor ruled it out.
    Uncertain,
    /// Outside the window its rule reads (a closing long before the end).
    OutsideWindow,
    /// A hold phrase with no hold next to it.
    NotAtHold,
    /// A later greeting: the first one decides the greeting rules.
    LaterGreeting,
    /// Its category is watched, not scored.
    NoRule,
    /// The customer's words that flag the call at risk: for managers, not
    /// against the agent.
    RiskSignal,
    /// A reviewer listened and found the agent kept its rule.
    OverturnedByReview,
    /// A recorded prompt said it (the IVR, a hold announcement), not a person.
    SystemPrompt,
}

impl NotCounted {
    /// Every reason there is.
    pub const ALL: [NotCounted; 13] = [
        NotCounted::NotJudged,
        NotCounted::CustomersWords,
        NotCounted::AgentsWords,
        NotCounted::UnknownSpeakerIgnored,
        NotCounted::SpeakerUnsure,
        NotCounted::Uncertain,
        NotCounted::OutsideWindow,
        NotCounted::NotAtHold,
        NotCounted::LaterGreeting,
        NotCounted::NoRule,
        NotCounted::RiskSignal,
        NotCounted::OverturnedByReview,
        NotCounted::SystemPrompt,
    ];

    /// The id used in hits.parquet's `not_counted` column.
    pub fn as_str(self) -> &'static str {
        match self {
            NotCounted::NotJudged => "not_judged",
            NotCounted::CustomersWords => "customers_words",
            NotCounted::AgentsWords => "agents_words",
            NotCounted::UnknownSpeakerIgnored => "unknown_speaker_ignored",
            NotCounted::SpeakerUnsure => "speaker_unsure",
            NotCounted::Uncertain => "uncertain",
            NotCounted::OutsideWindow => "outside_window",
            NotCounted::NotAtHold => "not_at_hold",
            NotCounted::LaterGreeting => "later_greeting",
            NotCounted::NoRule => "no_rule",
            NotCounted::RiskSignal => "risk_signal",
            NotCounted::OverturnedByReview => "overturned_by_review",
            NotCounted::SystemPrompt => "system_prompt",
        }
    }

    /// The reason of a `not_counted` id, if it is one.
    pub fn parse(id: &str) -> Option<NotCounted> {
        NotCounted::ALL.into_iter().find(|n| n.as_str() == id)
    }
}

//! The lexicon's own part of a pack: its categories and phrases, and how
//! they are matched and checked against the audio. [`Lexicon`] is all the
//! matcher reads; the pack loader (`pack`) builds it from pack.toml and the
//! phrase files.

use serde::{Deserialize, Serialize};

use super::phrase::Phrase;
use super::Role;
use crate::settings::{Checks, Validate};
use crate::text::NormalizeOptions;

/// Whose words a category listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CategorySpeaker {
    /// The agent's words (the default).
    #[default]
    Agent,
    /// The customer's words (risk phrases).
    Customer,
    /// Anyone's words.
    Any,
}

/// Sound-alike matching for whisper's slips (`[matching]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchSettings {
    /// Match phrases that sound like the pack's (请您稍等 heard as 请您收等).
    pub tolerant: bool,
    /// …only phrases at least this many characters long, so short words do not fire by chance.
    pub tolerant_min_chars: usize,
}

impl Default for MatchSettings {
    fn default() -> Self {
        Self {
            tolerant: true,
            tolerant_min_chars: 4,
        }
    }
}

/// When a phrase checked against the audio (`asr::verify`) counts as said,
/// and when the evidence is too grey to say either way. See `[verify]` in
/// `lexicons/pack.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifySettings {
    /// Accepted when the phrase is at most this much less likely than what
    /// whisper heard, per character (log-likelihood)…
    pub accept_gap_per_char: f32,
    /// …no token of it is less likely than this…
    pub accept_weakest: f32,
    /// …and it beats every rival phrase at that place by at least this much.
    pub accept_margin: f32,
    /// Also accepted (with the same margin) when it is at most this much less
    /// likely per character than what was heard…
    pub likely_gap_per_char: f32,
    /// …its own tokens are likely outright: their mean log-probability at
    /// least this (a phrase read into a customer's or the babble's words
    /// scores −4 and below here, one the agent said through a bad line −2 and
    /// above, even where the line garbled it past the gap above)…
    pub likely_mean: f32,
    /// …and no token of it is less likely than this.
    pub likely_weakest: f32,
    /// Not accepted but at least this likely per character (and not beaten by
    /// a rival): neither said nor clearly not said.
    pub uncertain_gap_per_char: f32,
    /// A phrase that must not be said (forbidden, nine-don't) is left open
    /// only where the audio is really in doubt, since each open moment asks
    /// someone to listen for a fault that was probably not there: at least
    /// this likely per character…
    pub must_not_open_gap_per_char: f32,
    /// …where the free decode was itself unsure of what it wrote (the mean
    /// log-probability of its own tokens there at most this: words heard
    /// surely are evidence against a phrase that only nearly fits)…
    pub must_not_open_heard_mean: f32,
    /// …and with the phrase's own tokens not unlikely outright (their mean
    /// log-probability at least this).
    pub must_not_open_mean: f32,
    /// How far off (by sound, per phrase character) a stretch of text may be
    /// for the phrase to be checked at all, at transcription (`callqa run`).
    /// Higher finds more and costs more decoder time.
    pub near_budget_per_char: f32,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            accept_gap_per_char: -0.8,
            accept_weakest: -6.0,
            accept_margin: 1.0,
            likely_gap_per_char: -1.5,
            likely_mean: -2.5,
            likely_weakest: -7.5,
            uncertain_gap_per_char: -2.5,
            must_not_open_gap_per_char: -2.0,
            must_not_open_heard_mean: -0.3,
            must_not_open_mean: -4.5,
            near_budget_per_char: 0.55,
        }
    }
}

/// A phrase list and how the rules read it (`[categories.NAME]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Its id, as in hits.parquet.
    pub name: String,
    /// What people read: the pack's `title`, or the name.
    pub title: String,
    /// What it is for.
    pub role: Role,
    /// Whose words count.
    pub speaker: CategorySpeaker,
    /// On a mono call attributed by voice less surely than this, the
    /// category takes the call's speech as unknown (`rules.unknown_speaker`).
    pub min_speaker_confidence: Option<f64>,
}

/// The phrases a pack listens for, and how they are matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Lexicon {
    /// The categories, in the pack's order.
    pub categories: Vec<Category>,
    /// Every phrase of every category.
    pub phrases: Vec<Phrase>,
    /// How text is made comparable before matching.
    pub normalize: NormalizeOptions,
    /// Sound-alike matching.
    pub matching: MatchSettings,
    /// Checking near phrases against the audio.
    pub verify: VerifySettings,
}

impl Lexicon {
    /// The category of that id, if the pack has it.
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.name == name)
    }
}

impl Validate for MatchSettings {
    fn validate(&self, c: &mut Checks) {
        if self.tolerant_min_chars < 3 {
            c.problem(
                "tolerant_min_chars",
                "matching.tolerant_min_chars below 3 makes short words fire by chance".into(),
            );
        }
    }
}

impl Validate for VerifySettings {
    fn validate(&self, c: &mut Checks) {
        use crate::asr::{HOPELESS_GAP_PER_CHAR, RIVALS_FROM_GAP_PER_CHAR, RIVAL_REACH};
        c.log_likelihood("accept_gap_per_char", self.accept_gap_per_char);
        c.log_likelihood("accept_weakest", self.accept_weakest);
        c.log_likelihood("likely_gap_per_char", self.likely_gap_per_char);
        c.log_likelihood("likely_mean", self.likely_mean);
        c.log_likelihood("likely_weakest", self.likely_weakest);
        c.log_likelihood("uncertain_gap_per_char", self.uncertain_gap_per_char);
        c.log_likelihood("must_not_open_gap_per_char", self.must_not_open_gap_per_char);
        c.log_likelihood("must_not_open_heard_mean", self.must_not_open_heard_mean);
        c.log_likelihood("must_not_open_mean", self.must_not_open_mean);
        c.share("near_budget_per_char", f64::from(self.near_budget_per_char));
        c.finite("accept_margin", f64::from(self.accept_margin));
        // the audio check's own reach (asr::verify): a threshold past it would never be met
        if self.uncertain_gap_per_char < HOPELESS_GAP_PER_CHAR {
            c.problem(
                "uncertain_gap_per_char",
                format!(
                    "verify.uncertain_gap_per_char ({}) is below {HOPELESS_GAP_PER_CHAR}: the audio check stops following a phrase there",
                    self.uncertain_gap_per_char
                ),
            );
        }
        if self.accept_margin > RIVAL_REACH {
            c.problem(
                "accept_margin",
                format!(
                    "verify.accept_margin ({}) is above {RIVAL_REACH}: the audio check stops following a rival that far behind",
                    self.accept_margin
                ),
            );
        }
        if self.likely_gap_per_char < RIVALS_FROM_GAP_PER_CHAR {
            c.problem(
                "likely_gap_per_char",
                format!(
                    "verify.likely_gap_per_char ({}) is below {RIVALS_FROM_GAP_PER_CHAR}: the audio check scores no rivals for a phrase there",
                    self.likely_gap_per_char
                ),
            );
        }
        if self.uncertain_gap_per_char > self.accept_gap_per_char {
            c.problem(
                "uncertain_gap_per_char",
                format!(
                    "verify.uncertain_gap_per_char ({}) is above accept_gap_per_char ({}): nothing would be uncertain",
                    self.uncertain_gap_per_char, self.accept_gap_per_char
                ),
            );
        }
    }
}

//! The rules' settings: where required phrases belong, what a hold is, what
//! a call's timing must meet, how mono calls are told apart, and what each
//! failed rule costs, and when a call is at risk of a complaint. They are read
//! from pack.toml (`[rules]`, `[timing]`, `[speakers]`, `[rubric]`, `[risk]`), which stays one file for the people who edit
//! it; the pack's loader (`pack::load_pack`) hands them to the rules, the
//! only stage that reads them. Each validates its own numbers here.

use serde::{Deserialize, Serialize};

use super::{Rule, RULE_IDS};
use crate::settings::{Checks, Validate};

/// What mono calls (speaker unknown) mean for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnknownSpeaker {
    /// Unknown speech counts as the agent's.
    #[default]
    Agent,
    /// Unknown speech is not scored.
    Ignore,
}

/// Where required phrases belong and what a hold is. See `lexicons/pack.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSettings {
    /// The greeting must start within this many seconds of the recording's start.
    pub greeting_within_s: f64,
    /// …and in the agent's first utterance (a greeting after the agent has spoken is late).
    pub greeting_in_first_utterance: bool,
    /// Closing lines count within this many seconds of the last speech.
    pub closing_within_s: f64,
    /// A mid-call stretch this long with neither side speaking is a hold.
    pub hold_min_silence_s: f64,
    /// A hold needs a hold request within this many seconds before it.
    pub hold_request_window_s: f64,
    /// …and a hold return within this many seconds after it.
    pub hold_return_window_s: f64,
    /// An utterance ends at a pause this long (seconds).
    pub utterance_gap_s: f64,
    /// Whether a mono call's unattributed speech counts as the agent's or is not scored.
    pub unknown_speaker: UnknownSpeaker,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self {
            greeting_within_s: 2.0,
            greeting_in_first_utterance: true,
            closing_within_s: 20.0,
            hold_min_silence_s: 6.0,
            hold_request_window_s: 15.0,
            hold_return_window_s: 15.0,
            utterance_gap_s: 1.5,
            unknown_speaker: UnknownSpeaker::Agent,
        }
    }
}

/// What a call's timing must meet (see `lexicons/pack.toml` for each handbook source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingSettings {
    /// The agent's first words within this many seconds of the recording's start.
    pub first_response_within_s: f64,
    /// Both sides silent this long, outside a declared hold, is dead air (seconds).
    pub dead_air_min_s: f64,
    /// The agent speaking over the customer this long is talk-over; shorter is backchannel (嗯, 好的).
    pub talk_over_min_s: f64,
    /// The agent's pace below this many characters per minute is too slow.
    pub speech_rate_min_cpm: f64,
    /// …above this many, too fast.
    pub speech_rate_max_cpm: f64,
    /// Pace is judged only once the agent has spoken this many seconds.
    pub speech_rate_min_speech_s: f64,
    /// No stretch of a hold may run longer than this without a word from the agent (seconds).
    pub hold_checkin_max_gap_s: f64,
}

impl Default for TimingSettings {
    fn default() -> Self {
        Self {
            first_response_within_s: 2.0,
            dead_air_min_s: 10.0,
            talk_over_min_s: 1.0,
            speech_rate_min_cpm: 120.0,
            speech_rate_max_cpm: 330.0,
            speech_rate_min_speech_s: 10.0,
            hold_checkin_max_gap_s: 30.0,
        }
    }
}

/// Telling agent from customer on mono calls (`rules::speakers`; see
/// `[speakers]` in `lexicons/pack.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeakerSettings {
    /// Tell agent from customer on mono calls; off, mono speech stays unknown.
    pub attribute_mono: bool,
    /// A segment whose speaker is less likely than this stays unknown.
    pub min_segment_confidence: f64,
    /// A call attributed less surely than this keeps all its speech unknown.
    pub min_call_confidence: f64,
}

impl Default for SpeakerSettings {
    fn default() -> Self {
        Self {
            attribute_mono: true,
            min_segment_confidence: 0.75,
            min_call_confidence: 0.7,
        }
    }
}

/// When a call is at risk of a complaint (`rules::risk`; `[risk]` in
/// `lexicons/pack.toml`): the customer's own words (the pack's risk
/// categories) or their voice raised against their own start of the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskSettings {
    /// A call at risk fails the rule `customer_risk` (rubric points, can be
    /// a red line). Off, the flag tells managers and costs the agent nothing.
    pub counts_against_agent: bool,
    /// Seconds of the customer's voiced speech that are their own start:
    /// the level and pitch later speech is held against.
    pub voice_baseline_s: f64,
    /// Raised: at least this much louder (dB)…
    pub voice_louder_db: f64,
    /// …and this much higher (octaves) than the start…
    pub voice_higher_octaves: f64,
    /// …over at least this many seconds of voiced speech.
    pub voice_min_raised_s: f64,
}

impl Default for RiskSettings {
    fn default() -> Self {
        Self {
            counts_against_agent: false,
            voice_baseline_s: 6.0,
            voice_louder_db: 6.0,
            voice_higher_octaves: 0.25,
            voice_min_raised_s: 2.0,
        }
    }
}

/// Points per failed rule; a call starts at 100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rubric {
    /// A call passes with at least this score (and no red line failed).
    pub pass_mark: f64,
    /// Points off when no greeting was found.
    pub greeting_missing: f64,
    /// Points off when the greeting came late.
    pub greeting_late: f64,
    /// Points off when no closing was found.
    pub closing_missing: f64,
    /// Points off per hold without its request or return.
    pub hold_per_bad_hold: f64,
    /// At most this many points off for holds.
    pub hold_cap: f64,
    /// Points off per forbidden phrase the agent said.
    pub forbidden_per_hit: f64,
    /// At most this many points off for forbidden phrases.
    pub forbidden_cap: f64,
    /// Points off per nine-don't phrase the agent said.
    pub nine_dont_per_hit: f64,
    /// At most this many points off for nine-don't phrases.
    pub nine_dont_cap: f64,
    /// Points added per nine-do phrase the agent said.
    pub nine_do_bonus_per_hit: f64,
    /// At most this many points added for nine-do phrases.
    pub nine_do_bonus_cap: f64,
    /// Points off when the agent's first words came late.
    pub first_response_late: f64,
    /// Points off per stretch of dead air.
    pub dead_air_per: f64,
    /// At most this many points off for dead air.
    pub dead_air_cap: f64,
    /// Points off per talk-over.
    pub talk_over_per: f64,
    /// At most this many points off for talk-over.
    pub talk_over_cap: f64,
    /// Points off when the agent's pace is out of bounds.
    pub speech_rate: f64,
    /// Points off per hold stretch too long without a check-in.
    pub hold_checkin_per: f64,
    /// At most this many points off for missed hold check-ins.
    pub hold_checkin_cap: f64,
    /// Only when `[risk] counts_against_agent`: points off a call at risk.
    pub customer_risk: f64,
    /// Rules that fail a call outright, whatever its score (ids of [`RULE_IDS`]).
    pub red_lines: Vec<String>,
}

impl Default for Rubric {
    fn default() -> Self {
        Self {
            pass_mark: 80.0,
            greeting_missing: 15.0,
            greeting_late: 5.0,
            closing_missing: 10.0,
            hold_per_bad_hold: 10.0,
            hold_cap: 20.0,
            forbidden_per_hit: 10.0,
            forbidden_cap: 40.0,
            nine_dont_per_hit: 10.0,
            nine_dont_cap: 40.0,
            nine_do_bonus_per_hit: 2.0,
            nine_do_bonus_cap: 6.0,
            first_response_late: 5.0,
            dead_air_per: 5.0,
            dead_air_cap: 15.0,
            talk_over_per: 5.0,
            talk_over_cap: 15.0,
            speech_rate: 5.0,
            hold_checkin_per: 5.0,
            hold_checkin_cap: 10.0,
            customer_risk: 10.0,
            red_lines: Vec::new(),
        }
    }
}

impl Validate for RuleSettings {
    fn validate(&self, c: &mut Checks) {
        c.non_negative("greeting_within_s", self.greeting_within_s);
        c.non_negative("closing_within_s", self.closing_within_s);
        c.non_negative("hold_min_silence_s", self.hold_min_silence_s);
        c.non_negative("hold_request_window_s", self.hold_request_window_s);
        c.non_negative("hold_return_window_s", self.hold_return_window_s);
        c.non_negative("utterance_gap_s", self.utterance_gap_s);
    }
}

impl Validate for TimingSettings {
    fn validate(&self, c: &mut Checks) {
        c.non_negative("first_response_within_s", self.first_response_within_s);
        c.non_negative("dead_air_min_s", self.dead_air_min_s);
        c.non_negative("talk_over_min_s", self.talk_over_min_s);
        c.non_negative("speech_rate_min_cpm", self.speech_rate_min_cpm);
        c.non_negative("speech_rate_max_cpm", self.speech_rate_max_cpm);
        c.non_negative("speech_rate_min_speech_s", self.speech_rate_min_speech_s);
        c.non_negative("hold_checkin_max_gap_s", self.hold_checkin_max_gap_s);
        if self.speech_rate_min_cpm > self.speech_rate_max_cpm {
            c.problem(
                "speech_rate_min_cpm",
                format!(
                    "timing.speech_rate_min_cpm ({}) is above speech_rate_max_cpm ({})",
                    self.speech_rate_min_cpm, self.speech_rate_max_cpm
                ),
            );
        }
    }
}

impl Validate for SpeakerSettings {
    fn validate(&self, c: &mut Checks) {
        c.share("min_segment_confidence", self.min_segment_confidence);
        c.share("min_call_confidence", self.min_call_confidence);
    }
}

impl Validate for RiskSettings {
    fn validate(&self, c: &mut Checks) {
        c.non_negative("voice_baseline_s", self.voice_baseline_s);
        c.non_negative("voice_louder_db", self.voice_louder_db);
        c.non_negative("voice_higher_octaves", self.voice_higher_octaves);
        c.non_negative("voice_min_raised_s", self.voice_min_raised_s);
    }
}

impl Validate for Rubric {
    fn validate(&self, c: &mut Checks) {
        // points are out of 100: no deduction or bonus beyond that means anything
        let points = [
            ("greeting_missing", self.greeting_missing),
            ("greeting_late", self.greeting_late),
            ("closing_missing", self.closing_missing),
            ("hold_per_bad_hold", self.hold_per_bad_hold),
            ("hold_cap", self.hold_cap),
            ("forbidden_per_hit", self.forbidden_per_hit),
            ("forbidden_cap", self.forbidden_cap),
            ("nine_dont_per_hit", self.nine_dont_per_hit),
            ("nine_dont_cap", self.nine_dont_cap),
            ("nine_do_bonus_per_hit", self.nine_do_bonus_per_hit),
            ("nine_do_bonus_cap", self.nine_do_bonus_cap),
            ("first_response_late", self.first_response_late),
            ("dead_air_per", self.dead_air_per),
            ("dead_air_cap", self.dead_air_cap),
            ("talk_over_per", self.talk_over_per),
            ("talk_over_cap", self.talk_over_cap),
            ("speech_rate", self.speech_rate),
            ("hold_checkin_per", self.hold_checkin_per),
            ("hold_checkin_cap", self.hold_checkin_cap),
            ("customer_risk", self.customer_risk),
        ];
        for (key, value) in points {
            c.non_negative(key, value);
            c.at_most(key, value, 100.0);
        }
        if !(self.pass_mark.is_finite() && (0.0..=100.0).contains(&self.pass_mark)) {
            c.problem(
                "pass_mark",
                format!("rubric.pass_mark must be between 0 and 100, not {}", self.pass_mark),
            );
        }
        for rule in self.red_lines.iter().filter(|r| Rule::parse(r).is_none()) {
            c.problem(
                "red_lines",
                format!(
                    "rubric.red_lines: {rule:?} is not a rule; the rules are {}",
                    RULE_IDS.join(", ")
                ),
            );
        }
    }
}

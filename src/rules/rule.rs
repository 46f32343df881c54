//! The rules of the rubric, in one place: each rule's id, what it judges,
//! what breaking it costs, how a review names it and what a reviewed verdict
//! changes in the call's row. Every list of rules (the rubric's, the
//! review page's, the report's, the pack's validation) is [`Rule::ALL`];
//! adding a rule is a variant here plus the logic that decides it.

use serde::{Deserialize, Serialize};

use super::settings::Rubric;
use super::Evaluation;

/// A rule a call is judged by. Its id (`greeting_missing`…) is what the
/// tables, reviews and packs write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// No greeting in the agent's first utterance.
    GreetingMissing,
    /// A greeting, but later than `greeting_within_s`.
    GreetingLate,
    /// No closing near the end.
    ClosingMissing,
    /// A hold without its request before or its return after.
    HoldEtiquette,
    /// A 禁用语 said.
    ForbiddenPhrase,
    /// A 九不准 phrase said.
    NineDontPhrase,
    /// The agent's first words later than `first_response_within_s`.
    FirstResponseLate,
    /// Both sides silent too long, outside a hold.
    DeadAir,
    /// The agent cutting into the customer.
    TalkOver,
    /// The agent's pace out of bounds.
    SpeechRate,
    /// A hold stretch too long without a word from the agent.
    HoldCheckin,
    /// The customer may complain (only a rule when the pack says so).
    CustomerRisk,
}

/// What a rule's verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Phrases the agent must say: a phrase heard keeps the rule.
    RequiredPhrase,
    /// Phrases the agent must not say: each one heard breaks it.
    ForbiddenPhrase,
    /// The call's timing (silences, overlaps, pace): each event breaks it.
    Timing,
    /// The customer's words and voice.
    Customer,
}

impl Rule {
    /// Every rule, in the order reports and review pages list them.
    pub const ALL: [Rule; 12] = [
        Rule::GreetingMissing,
        Rule::GreetingLate,
        Rule::ClosingMissing,
        Rule::HoldEtiquette,
        Rule::ForbiddenPhrase,
        Rule::NineDontPhrase,
        Rule::FirstResponseLate,
        Rule::DeadAir,
        Rule::TalkOver,
        Rule::SpeechRate,
        Rule::HoldCheckin,
        Rule::CustomerRisk,
    ];

    /// The rule's stable id.
    pub const fn id(self) -> &'static str {
        match self {
            Rule::GreetingMissing => "greeting_missing",
            Rule::GreetingLate => "greeting_late",
            Rule::ClosingMissing => "closing_missing",
            Rule::HoldEtiquette => "hold_etiquette",
            Rule::ForbiddenPhrase => "forbidden_phrase",
            Rule::NineDontPhrase => "nine_dont_phrase",
            Rule::FirstResponseLate => "first_response_late",
            Rule::DeadAir => "dead_air",
            Rule::TalkOver => "talk_over",
            Rule::SpeechRate => "speech_rate",
            Rule::HoldCheckin => "hold_checkin",
            Rule::CustomerRisk => "customer_risk",
        }
    }

    /// The rule of an id, if it is one.
    pub fn parse(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.id() == id)
    }

    /// What the verdict rests on.
    pub const fn evidence(self) -> Evidence {
        match self {
            Rule::GreetingMissing | Rule::GreetingLate | Rule::ClosingMissing | Rule::HoldEtiquette => {
                Evidence::RequiredPhrase
            }
            Rule::ForbiddenPhrase | Rule::NineDontPhrase => Evidence::ForbiddenPhrase,
            Rule::FirstResponseLate | Rule::DeadAir | Rule::TalkOver | Rule::SpeechRate | Rule::HoldCheckin => {
                Evidence::Timing
            }
            Rule::CustomerRisk => Evidence::Customer,
        }
    }

    /// A rule a QA form always asks about: the review page shows it on
    /// every call, whatever the machine said.
    pub const fn always_reviewed(self) -> bool {
        matches!(
            self,
            Rule::GreetingMissing
                | Rule::ClosingMissing
                | Rule::HoldEtiquette
                | Rule::ForbiddenPhrase
                | Rule::NineDontPhrase
        )
    }

    /// What one breach costs (and what a reviewer failing a rule the
    /// machine passed takes off), and at most how much its breaches cost.
    pub fn points(self, r: &Rubric) -> (f64, f64) {
        match self {
            Rule::GreetingMissing => (r.greeting_missing, r.greeting_missing),
            Rule::GreetingLate => (r.greeting_late, r.greeting_late),
            Rule::ClosingMissing => (r.closing_missing, r.closing_missing),
            Rule::HoldEtiquette => (r.hold_per_bad_hold, r.hold_cap),
            Rule::ForbiddenPhrase => (r.forbidden_per_hit, r.forbidden_cap),
            Rule::NineDontPhrase => (r.nine_dont_per_hit, r.nine_dont_cap),
            Rule::FirstResponseLate => (r.first_response_late, r.first_response_late),
            Rule::DeadAir => (r.dead_air_per, r.dead_air_cap),
            Rule::TalkOver => (r.talk_over_per, r.talk_over_cap),
            Rule::SpeechRate => (r.speech_rate, r.speech_rate),
            Rule::HoldCheckin => (r.hold_checkin_per, r.hold_checkin_cap),
            Rule::CustomerRisk => (r.customer_risk, r.customer_risk),
        }
    }

    /// What `breaches` breaches cost, capped.
    pub fn deduction(self, r: &Rubric, breaches: u32) -> f64 {
        let (per, cap) = self.points(r);
        (per * f64::from(breaches)).min(cap)
    }

    /// A reviewer's verdict on the rule, carried into the columns derived
    /// from it (`greeting_ok`, `closing_ok`, `holds_ok`, the counts), so a
    /// reviewed row reads the same everywhere. Measurements (when the
    /// greeting began, the longest silence) stay as measured.
    pub(super) fn carry_review(self, e: &mut Evaluation, kept: bool) {
        let count = |n: &mut u32| *n = if kept { 0 } else { (*n).max(1) };
        let timing_count = |n: &mut Option<u32>| {
            if let Some(n) = n {
                *n = if kept { 0 } else { (*n).max(1) };
            } else if !kept {
                *n = Some(1);
            }
        };
        match self {
            Rule::GreetingMissing | Rule::GreetingLate => {
                let undecided = |rule: Rule| e.failed(rule) || e.open(rule);
                e.greeting_ok = !undecided(Rule::GreetingMissing) && !undecided(Rule::GreetingLate);
            }
            Rule::ClosingMissing => e.closing_ok = kept,
            Rule::HoldEtiquette => {
                e.holds_ok = if kept {
                    e.holds
                } else {
                    e.holds_ok.min(e.holds.saturating_sub(1))
                }
            }
            Rule::ForbiddenPhrase => count(&mut e.forbidden_count),
            Rule::NineDontPhrase => count(&mut e.nine_dont_count),
            Rule::DeadAir => timing_count(&mut e.timing.dead_air_count),
            Rule::TalkOver => timing_count(&mut e.timing.talk_over_count),
            Rule::HoldCheckin => timing_count(&mut e.timing.hold_checkins_missed),
            Rule::FirstResponseLate | Rule::SpeechRate | Rule::CustomerRisk => {}
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Every rule's id, in [`Rule::ALL`]'s order.
pub const RULE_IDS: &[&str] = &{
    let mut ids = [""; 12];
    let mut i = 0;
    while i < Rule::ALL.len() {
        ids[i] = Rule::ALL[i].id();
        i += 1;
    }
    ids
};

impl Rubric {
    /// Whether a call with this score and these red lines broken passes:
    /// the one place that says so, for the machine's verdict and the reviewed one.
    pub fn passes(&self, score: f64, red_lines: &[String]) -> bool {
        score >= self.pass_mark && red_lines.is_empty()
    }

    /// What one breach of `rule` costs (a reviewer failing a rule the machine
    /// passed); None for an id that is no rule.
    pub fn breach_points(&self, rule: &str) -> Option<f64> {
        Rule::parse(rule).map(|rule| rule.points(self).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_own_id_and_reads_back() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        for (rule, id) in Rule::ALL.iter().zip(RULE_IDS) {
            assert_eq!(Rule::parse(id), Some(*rule));
            assert_eq!(serde_json::to_string(rule).unwrap(), format!("\"{id}\""));
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        assert_eq!(Rule::parse("be_nice"), None);
    }

    #[test]
    fn breaches_cost_up_to_the_cap() {
        let r = Rubric::default();
        assert_eq!(Rule::ForbiddenPhrase.deduction(&r, 1), r.forbidden_per_hit);
        assert_eq!(Rule::ForbiddenPhrase.deduction(&r, 99), r.forbidden_cap);
        assert_eq!(Rule::GreetingMissing.deduction(&r, 3), r.greeting_missing);
        assert_eq!(r.breach_points("hold_etiquette"), Some(r.hold_per_bad_hold));
    }
}

//! How far each rule can be trusted: the machine's verdicts against the
//! reviewers', and the reviewers against each other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::{RuleReview, RuleVerdict};

/// How many disputed verdicts the report lists (every one is in reviews.parquet).
const DISPUTES_LISTED: usize = 50;

/// One rule's record against the reviews.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub rule: String,
    /// Calls whose rule a reviewer judged.
    pub reviewed: u32,
    /// The reviewer's verdict (the one that stands) was the machine's.
    pub agreed: u32,
    /// The machine failed the agent; the reviewer passed them.
    pub false_fails: u32,
    /// The machine passed the agent; the reviewer failed them.
    pub false_passes: u32,
    /// The machine left the rule open; the reviewer decided it.
    pub left_open: u32,
    /// Cohen's kappa over the calls the machine decided: agreement beyond
    /// chance (1 perfect, 0 no better than chance); None when undefined
    /// (one verdict only, on both sides).
    pub kappa: Option<f64>,
    /// The share of reviewed verdicts the machine got right.
    pub rate: Option<f64>,
    /// Of the machine's fails, the share reviewers upheld.
    pub precision: Option<f64>,
    /// Of the reviewers' fails, the share the machine found (a verdict it
    /// left open found nothing).
    pub recall: Option<f64>,
    /// Left open by the machine, failed by the reviewer.
    open_failed: u32,
    /// Both fail, both pass: with the two above, kappa's table.
    both_fail: u32,
    both_pass: u32,
}

/// Two reviewers on the same rule of the same call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewerAgreement {
    pub pairs: u32,
    pub agreed: u32,
    pub rate: Option<f64>,
}

/// A verdict a reviewer overturned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispute {
    pub call_id: String,
    pub agent_id: String,
    pub rule: String,
    /// None: the machine left it open.
    pub machine: Option<RuleVerdict>,
    pub human: RuleVerdict,
    pub reviewer: String,
    pub note: String,
}

/// Running tallies over the reviewed calls of a folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgreementBook {
    pub rules: Vec<Agreement>,
    pub reviewers: ReviewerAgreement,
    /// Calls with at least one review.
    pub reviewed_calls: u32,
    /// Overturned verdicts, in call order, the first [`DISPUTES_LISTED`].
    pub disputes: Vec<Dispute>,
    pub disputes_total: u32,
    #[serde(skip)]
    by_rule: BTreeMap<String, Agreement>,
}

impl AgreementBook {
    pub fn add(&mut self, call_id: &str, agent_id: &str, reviews: &[RuleReview]) {
        if reviews.is_empty() {
            return;
        }
        self.reviewed_calls += 1;
        for review in reviews {
            let tally = self.by_rule.entry(review.rule.clone()).or_insert_with(|| Agreement {
                rule: review.rule.clone(),
                ..Agreement::default()
            });
            tally.reviewed += 1;
            match (review.machine, review.human) {
                (None, human) => {
                    tally.left_open += 1;
                    tally.open_failed += u32::from(human == RuleVerdict::Fail);
                }
                (Some(RuleVerdict::Fail), RuleVerdict::Fail) => tally.both_fail += 1,
                (Some(RuleVerdict::Pass), RuleVerdict::Pass) => tally.both_pass += 1,
                (Some(RuleVerdict::Fail), RuleVerdict::Pass) => tally.false_fails += 1,
                (Some(RuleVerdict::Pass), RuleVerdict::Fail) => tally.false_passes += 1,
            }
            if review.machine == Some(review.human) {
                tally.agreed += 1;
            } else {
                self.disputes_total += 1;
                if self.disputes.len() < DISPUTES_LISTED {
                    let last = review.by_reviewer.iter().rev().find(|r| r.verdict == review.human);
                    self.disputes.push(Dispute {
                        call_id: call_id.to_string(),
                        agent_id: agent_id.to_string(),
                        rule: review.rule.clone(),
                        machine: review.machine,
                        human: review.human,
                        reviewer: last.map(|r| r.reviewer.clone()).unwrap_or_default(),
                        note: last.map(|r| r.note.clone()).unwrap_or_default(),
                    });
                }
            }
            let verdicts = &review.by_reviewer;
            for (i, a) in verdicts.iter().enumerate() {
                for b in &verdicts[i + 1..] {
                    self.reviewers.pairs += 1;
                    self.reviewers.agreed += u32::from(a.verdict == b.verdict);
                }
            }
        }
    }

    /// The tallies, each rule's kappa worked out, rules in the order given
    /// (the pack's), then any others.
    pub fn finish(mut self, rule_order: &[&str]) -> Self {
        let mut rules: Vec<Agreement> = std::mem::take(&mut self.by_rule).into_values().collect();
        rules.sort_by_key(|a| rule_order.iter().position(|r| *r == a.rule).unwrap_or(usize::MAX));
        for a in &mut rules {
            a.kappa = cohen_kappa(a.both_fail, a.false_fails, a.false_passes, a.both_pass);
            a.rate = share(a.agreed, a.reviewed);
            a.precision = share(a.both_fail, a.both_fail + a.false_fails);
            a.recall = share(a.both_fail, a.both_fail + a.false_passes + a.open_failed);
        }
        self.reviewers.rate = share(self.reviewers.agreed, self.reviewers.pairs);
        self.rules = rules;
        self
    }
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Cohen's kappa of two raters' yes/no verdicts from their 2×2 table:
/// `both_yes`, `only_first`, `only_second`, `both_no`. None when chance
/// agreement is already total (both said one thing every time).
pub fn cohen_kappa(both_yes: u32, only_first: u32, only_second: u32, both_no: u32) -> Option<f64> {
    let n = (both_yes + only_first + only_second + both_no) as f64;
    if n == 0.0 {
        return None;
    }
    let observed = (both_yes + both_no) as f64 / n;
    let first_yes = (both_yes + only_first) as f64 / n;
    let second_yes = (both_yes + only_second) as f64 / n;
    let chance = first_yes * second_yes + (1.0 - first_yes) * (1.0 - second_yes);
    if (1.0 - chance).abs() < 1e-12 {
        return None;
    }
    Some((observed - chance) / (1.0 - chance))
}

//! Human verdicts win: a reviewed rule's verdict is the latest reviewer's,
//! whatever the machine said, and the score, pass and red lines follow.
//!
//! The machine's verdict is kept beside it (`Evaluation::review`), so the
//! tables say which calls were reviewed and the report can measure the
//! machine against the reviewers. Overturning a failed rule gives back what it
//! cost and marks its hits `overturned_by_review`; failing a rule the machine
//! passed costs what one breach of it costs in the rubric.

use serde::{Deserialize, Serialize};

use super::settings::Rubric;
use super::{Evaluation, Reviewed, Rule};
use crate::lexicon::{Hit, HitVerdict, NotCounted};

/// A reviewer's verdict on one rule of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleVerdict {
    /// The agent kept the rule.
    Pass,
    /// The agent broke it.
    Fail,
}

impl RuleVerdict {
    /// The verdict's id, as reviews.parquet writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleVerdict::Pass => "pass",
            RuleVerdict::Fail => "fail",
        }
    }

    /// The words a review sheet may use: English, or the 合格/不合格 of QA forms.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_lowercase().as_str() {
            "pass" | "passed" | "ok" | "通过" | "合格" | "达标" | "无违规" => Some(RuleVerdict::Pass),
            "fail" | "failed" | "不通过" | "不合格" | "未达标" | "违规" => Some(RuleVerdict::Fail),
            _ => None,
        }
    }

    /// The other verdict (a reviewer who disagrees with the machine's).
    pub fn opposite(self) -> Self {
        match self {
            RuleVerdict::Pass => RuleVerdict::Fail,
            RuleVerdict::Fail => RuleVerdict::Pass,
        }
    }
}

/// One rule of one reviewed call: the machine's verdict and the reviewers'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleReview {
    /// The rule's id.
    pub rule: String,
    /// None when the machine left the rule open (grey evidence).
    pub machine: Option<RuleVerdict>,
    /// The verdict that stands: the latest review's.
    pub human: RuleVerdict,
    /// Each reviewer's latest verdict, by name.
    pub by_reviewer: Vec<ReviewerVerdict>,
}

/// One reviewer's verdict on a rule, with their note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewerVerdict {
    /// Who.
    pub reviewer: String,
    /// What they said of the rule.
    pub verdict: RuleVerdict,
    /// Why, in their words.
    pub note: String,
}

/// A reviewer's verdict on one rule of the call, as scoring hands it to
/// [`apply_reviews`] (oldest first: the last of a rule stands).
#[derive(Debug, Clone, Copy)]
pub struct HumanVerdict<'a> {
    /// The rule's id.
    pub rule: &'a str,
    /// Pass or fail.
    pub verdict: RuleVerdict,
    /// Who.
    pub reviewer: &'a str,
    /// Why.
    pub note: &'a str,
}

/// The score of a call from its deductions and bonus (0 to 100).
pub(super) fn score_of(deductions: &std::collections::BTreeMap<String, f64>, bonus: f64) -> f64 {
    (100.0 - deductions.values().sum::<f64>() + bonus).clamp(0.0, 100.0)
}

/// Applies a call's reviews (oldest first, as `review::ReviewBook`
/// gives them) to its verdict and its hits. Reviews of rules the rubric does
/// not know are left out (the pack changed since).
pub fn apply_reviews<'a>(
    evaluation: &mut Evaluation,
    hits: &mut [Hit],
    reviews: impl IntoIterator<Item = HumanVerdict<'a>>,
    rubric: &Rubric,
) {
    let mut rules: Vec<RuleReview> = Vec::new();
    for review in reviews {
        if rubric.breach_points(review.rule).is_none() {
            continue;
        }
        let mine = ReviewerVerdict {
            reviewer: review.reviewer.to_string(),
            verdict: review.verdict,
            note: review.note.to_string(),
        };
        match rules.iter_mut().find(|r| r.rule == review.rule) {
            Some(rule) => {
                rule.human = review.verdict;
                rule.by_reviewer.retain(|r| r.reviewer != review.reviewer);
                rule.by_reviewer.push(mine);
            }
            None => rules.push(RuleReview {
                rule: review.rule.to_string(),
                machine: machine_verdict(evaluation, review.rule),
                human: review.verdict,
                by_reviewer: vec![mine],
            }),
        }
    }
    if rules.is_empty() {
        return;
    }
    let machine_score = evaluation.score;
    let machine_passed = evaluation.passed;
    let machine_failed_rules = evaluation.failed_rules.clone();
    let mut overturned = Vec::new();
    for rule in &rules {
        let id = rule.rule.as_str();
        evaluation.uncertain_rules.retain(|r| r != id);
        if rule.machine == Some(rule.human) {
            continue;
        }
        if rule.machine.is_some() {
            overturned.push(rule.rule.clone());
        }
        match rule.human {
            RuleVerdict::Pass => {
                evaluation.failed_rules.retain(|r| r != id);
                evaluation.red_lines.retain(|r| r != id);
                evaluation.deductions.remove(id);
                for hit in hits.iter_mut().filter(|h| h.verdict.counted) {
                    if hit.verdict.rule.as_deref() == Some(id) {
                        hit.verdict = HitVerdict::not_counted(Some(id), NotCounted::OverturnedByReview);
                    }
                }
            }
            RuleVerdict::Fail => {
                evaluation.failed_rules.push(rule.rule.clone());
                if rubric.red_lines.iter().any(|r| r == id) {
                    evaluation.red_lines.push(rule.rule.clone());
                }
                let points = rubric.breach_points(id).unwrap_or_default();
                evaluation.deductions.insert(rule.rule.clone(), points);
            }
        }
    }
    // every column the reviewed verdicts derive, from them: the row reads
    // the reviewers' verdict in greeting_ok and closing_ok as in failed_rules
    for rule in rules.iter().filter_map(|r| Some((Rule::parse(&r.rule)?, r.human))) {
        rule.0.carry_review(evaluation, rule.1 == RuleVerdict::Pass);
    }
    evaluation.score = score_of(&evaluation.deductions, evaluation.bonus);
    evaluation.passed = rubric.passes(evaluation.score, &evaluation.red_lines);
    evaluation.review = Some(Reviewed {
        machine_score,
        machine_passed,
        machine_failed_rules,
        rules,
        overturned,
    });
}

/// What the machine said of `rule`: failed, left open (None) or passed.
fn machine_verdict(evaluation: &Evaluation, rule: &str) -> Option<RuleVerdict> {
    if evaluation.failed_rules.iter().any(|r| r == rule) {
        Some(RuleVerdict::Fail)
    } else if evaluation.uncertain_rules.iter().any(|r| r == rule) {
        None
    } else {
        Some(RuleVerdict::Pass)
    }
}

//! Human verdicts win: a reviewed rule's verdict is the latest reviewer's,
//! whatever the machine said, and the score, pass and red lines follow.
//!
//! The machine's verdict is kept beside it (`Evaluation::review`), so the
//! tables say which calls were reviewed and the report can measure the
//! machine against the reviewers. Overturning a failed rule gives back what it
//! cost and marks its hits `overturned_by_review`; failing a rule the machine
//! passed costs what one breach of it costs in the rubric.

use super::settings::Rubric;
use super::{Evaluation, Reviewed, Rule};
use crate::lexicon::{Hit, HitVerdict, NotCounted};
use crate::review::{Review, ReviewerVerdict, RuleReview, RuleVerdict};

/// The score of a call from its deductions and bonus (0 to 100).
pub(super) fn score_of(deductions: &std::collections::BTreeMap<String, f64>, bonus: f64) -> f64 {
    (100.0 - deductions.values().sum::<f64>() + bonus).clamp(0.0, 100.0)
}

/// Applies a call's reviews (oldest first, as `review::ReviewBook`
/// gives them) to its verdict and its hits. Reviews of rules the rubric does
/// not know are left out (the pack changed since).
pub fn apply_reviews(evaluation: &mut Evaluation, hits: &mut [Hit], reviews: &[Review], rubric: &Rubric) {
    if reviews.is_empty() {
        return;
    }
    let mut rules: Vec<RuleReview> = Vec::new();
    for review in reviews {
        if rubric.breach_points(&review.rule).is_none() {
            continue;
        }
        let mine = ReviewerVerdict {
            reviewer: review.reviewer.clone(),
            verdict: review.verdict,
            note: review.note.clone(),
        };
        match rules.iter_mut().find(|r| r.rule == review.rule) {
            Some(rule) => {
                rule.human = review.verdict;
                rule.by_reviewer.retain(|r| r.reviewer != review.reviewer);
                rule.by_reviewer.push(mine);
            }
            None => rules.push(RuleReview {
                rule: review.rule.clone(),
                machine: machine_verdict(evaluation, &review.rule),
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

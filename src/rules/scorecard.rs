//! Per-agent, per-day scorecards: the calls' verdicts summed up for managers.
//!
//! A [`ScorecardBook`] takes calls one at a time and keeps only running sums
//! per agent and day, so scoring an archive of any size holds one small tally
//! per agent-day, never the calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CallResult;

/// One agent's day (or, in the report, one agent's whole folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub agent_id: String,
    /// `YYYY-MM-DD`, or empty when the call's date is unknown (or for an agent's total).
    pub call_date: String,
    /// Calls scored.
    pub calls: u32,
    /// Scored calls that did not pass (below the pass mark, or over a red line).
    pub failed_calls: u32,
    /// Calls that could not be processed (bad audio and the like).
    pub unprocessed_calls: u32,
    pub mean_score: Option<f64>,
    pub min_score: Option<f64>,
    pub greeting_rate: Option<f64>,
    pub closing_rate: Option<f64>,
    /// Holds with both request and return, over all holds; None without holds.
    pub hold_etiquette_rate: Option<f64>,
    pub forbidden_per_call: Option<f64>,
    pub nine_dont_per_call: Option<f64>,
    pub nine_do_per_call: Option<f64>,
    pub worst_call_id: Option<String>,
}

/// Running sums of one group of calls.
#[derive(Debug, Default, Clone)]
struct Tally {
    scored: u32,
    failed: u32,
    unprocessed: u32,
    score_sum: f64,
    worst: Option<(f64, String)>,
    greetings: u32,
    closings: u32,
    holds: u32,
    holds_ok: u32,
    forbidden: u32,
    nine_dont: u32,
    nine_do: u32,
}

/// Scorecards built call by call. Failed calls without an agent id are left
/// out (they appear in calls.parquet with their reason).
#[derive(Debug, Default)]
pub struct ScorecardBook {
    /// Whole folder per agent instead of per agent and day.
    per_agent_only: bool,
    groups: BTreeMap<(String, String), Tally>,
}

impl ScorecardBook {
    /// One scorecard per agent and day (scorecards.parquet).
    pub fn by_agent_and_day() -> Self {
        Self::default()
    }

    /// One scorecard per agent over every day (the report's agents table).
    pub fn by_agent() -> Self {
        Self {
            per_agent_only: true,
            ..Self::default()
        }
    }

    pub fn add(&mut self, call: &CallResult) {
        let Some(agent) = &call.agent_id else { return };
        let day = if self.per_agent_only {
            String::new()
        } else {
            call.call_date().unwrap_or_default().to_string()
        };
        let tally = self.groups.entry((agent.clone(), day)).or_default();
        let Ok(e) = &call.evaluation else {
            tally.unprocessed += 1;
            return;
        };
        tally.scored += 1;
        tally.failed += u32::from(!e.passed);
        tally.score_sum += e.score;
        let worse = match &tally.worst {
            None => true,
            Some((score, id)) => e.score.total_cmp(score).then_with(|| call.call_id.cmp(id)).is_lt(),
        };
        if worse {
            tally.worst = Some((e.score, call.call_id.clone()));
        }
        tally.greetings += u32::from(e.greeting_ok);
        tally.closings += u32::from(e.closing_ok);
        tally.holds += e.holds;
        tally.holds_ok += e.holds_ok;
        tally.forbidden += e.forbidden_count;
        tally.nine_dont += e.nine_dont_count;
        tally.nine_do += e.nine_do_count;
    }

    pub fn finish(self) -> Vec<Scorecard> {
        self.groups
            .into_iter()
            .map(|((agent_id, call_date), t)| {
                let n = f64::from(t.scored);
                let per_call = |sum: u32| (t.scored > 0).then(|| f64::from(sum) / n);
                Scorecard {
                    agent_id,
                    call_date,
                    calls: t.scored,
                    failed_calls: t.failed,
                    unprocessed_calls: t.unprocessed,
                    mean_score: (t.scored > 0).then(|| t.score_sum / n),
                    min_score: t.worst.as_ref().map(|(score, _)| *score),
                    greeting_rate: per_call(t.greetings),
                    closing_rate: per_call(t.closings),
                    hold_etiquette_rate: (t.holds > 0).then(|| f64::from(t.holds_ok) / f64::from(t.holds)),
                    forbidden_per_call: per_call(t.forbidden),
                    nine_dont_per_call: per_call(t.nine_dont),
                    nine_do_per_call: per_call(t.nine_do),
                    worst_call_id: t.worst.map(|(_, id)| id),
                }
            })
            .collect()
    }
}

/// The scorecards of `calls`, by agent and day.
pub fn scorecards(calls: &[CallResult]) -> Vec<Scorecard> {
    let mut book = ScorecardBook::by_agent_and_day();
    calls.iter().for_each(|c| book.add(c));
    book.finish()
}

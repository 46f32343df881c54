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
    /// The agent.
    pub agent_id: String,
    /// `YYYY-MM-DD`, or empty when the call's date is unknown (or for an agent's total).
    pub call_date: String,
    /// Calls scored.
    pub calls: u32,
    /// Scored calls that did not pass (below the pass mark, or over a red line).
    pub failed_calls: u32,
    /// Calls that could not be processed (bad audio and the like).
    pub unprocessed_calls: u32,
    /// Mean score of the scored calls.
    pub mean_score: Option<f64>,
    /// Lowest score.
    pub min_score: Option<f64>,
    /// Calls with a greeting in place, over the calls whose greeting was
    /// decided (a greeting left open counts in neither).
    pub greeting_rate: Option<f64>,
    /// Calls with a closing, over the calls whose closing was decided.
    pub closing_rate: Option<f64>,
    /// Holds with both request and return, over all holds; None without holds.
    pub hold_etiquette_rate: Option<f64>,
    /// Forbidden phrases said per scored call.
    pub forbidden_per_call: Option<f64>,
    /// Nine-don't phrases said per scored call.
    pub nine_dont_per_call: Option<f64>,
    /// Nine-do phrases said per scored call.
    pub nine_do_per_call: Option<f64>,
    /// The lowest-scoring call, to listen to first.
    pub worst_call_id: Option<String>,
    /// Mean seconds to the agent's first words, over the calls where it was measured.
    #[serde(default)]
    pub mean_first_response_s: Option<f64>,
    /// Over the calls where dead air was measured.
    #[serde(default)]
    pub dead_air_per_call: Option<f64>,
    /// Over the stereo calls (talk-over cannot be measured on one mixed channel).
    #[serde(default)]
    pub talk_over_per_call: Option<f64>,
    /// Seconds of ringback before the agent picked up, per scored call
    /// (`rules::sources::NonTalk`): how long callers waited on this agent.
    #[serde(default)]
    pub ringing_s_per_call: Option<f64>,
    /// Seconds of hold music per scored call.
    #[serde(default)]
    pub hold_music_s_per_call: Option<f64>,
    /// Seconds of recorded announcements after pick-up per scored call.
    #[serde(default)]
    pub announcement_s_per_call: Option<f64>,
    /// Seconds after pick-up with no words and no sound, per scored call.
    #[serde(default)]
    pub silence_s_per_call: Option<f64>,
    /// Scored calls with a verdict left open (`uncertain_rules`): their
    /// figures hold those rules neither passed nor failed.
    #[serde(default)]
    pub uncertain_calls: u32,
    /// Scored calls whose customer may complain (`rules::risk`): a
    /// manager's pointer, not the agent's fault by itself.
    #[serde(default)]
    pub at_risk_calls: u32,
    /// The same per 100 scored calls.
    #[serde(default)]
    pub at_risk_per_100: Option<f64>,
    /// Scored calls QA staff reviewed (their figures are the reviewed verdicts).
    #[serde(default)]
    pub reviewed_calls: u32,
}

/// Running sums of one group of calls.
#[derive(Debug, Default, Clone)]
struct Tally {
    scored: u32,
    failed: u32,
    unprocessed: u32,
    uncertain: u32,
    at_risk: u32,
    reviewed: u32,
    /// Calls whose greeting / closing verdict was left open.
    greeting_open: u32,
    closing_open: u32,
    score_sum: f64,
    worst: Option<(f64, String)>,
    greetings: u32,
    closings: u32,
    holds: u32,
    holds_ok: u32,
    forbidden: u32,
    nine_dont: u32,
    nine_do: u32,
    /// Timing: (sum, calls where it was measured).
    first_response: (f64, u32),
    dead_air: (u32, u32),
    talk_over: (u32, u32),
    /// Non-talk seconds: ringing, hold music, announcements, silence.
    non_talk: [f64; 4],
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

    /// Counts one call in its agent's (and day's) card; a call without an agent counts in none.
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
        tally.uncertain += u32::from(!e.uncertain_rules.is_empty());
        tally.at_risk += u32::from(e.risk.at_risk);
        tally.reviewed += u32::from(e.review.is_some());
        let open = |rule: &str| u32::from(e.uncertain_rules.iter().any(|r| r == rule));
        tally.greeting_open += open("greeting_missing");
        tally.closing_open += open("closing_missing");
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
        let t = &e.timing;
        if let Some(s) = t.first_response_s {
            tally.first_response.0 += s;
            tally.first_response.1 += 1;
        }
        if let Some(n) = t.dead_air_count {
            tally.dead_air.0 += n;
            tally.dead_air.1 += 1;
        }
        if let Some(n) = t.talk_over_count {
            tally.talk_over.0 += n;
            tally.talk_over.1 += 1;
        }
        let quiet = &e.non_talk;
        for (sum, s) in tally.non_talk.iter_mut().zip([
            quiet.ringing_s,
            quiet.hold_music_s,
            quiet.announcement_s,
            quiet.silence_s,
        ]) {
            *sum += s;
        }
    }

    /// The cards, by agent then day.
    pub fn finish(self) -> Vec<Scorecard> {
        self.groups
            .into_iter()
            .map(|((agent_id, call_date), t)| {
                let n = f64::from(t.scored);
                let per_call = |sum: u32| (t.scored > 0).then(|| f64::from(sum) / n);
                let seconds_per_call = |k: usize| (t.scored > 0).then(|| t.non_talk[k] / n);
                Scorecard {
                    agent_id,
                    call_date,
                    calls: t.scored,
                    failed_calls: t.failed,
                    unprocessed_calls: t.unprocessed,
                    mean_score: (t.scored > 0).then(|| t.score_sum / n),
                    min_score: t.worst.as_ref().map(|(score, _)| *score),
                    // over the calls whose verdict was decided, not those left open
                    greeting_rate: decided_rate(t.greetings, t.scored - t.greeting_open),
                    closing_rate: decided_rate(t.closings, t.scored - t.closing_open),
                    hold_etiquette_rate: (t.holds > 0).then(|| f64::from(t.holds_ok) / f64::from(t.holds)),
                    forbidden_per_call: per_call(t.forbidden),
                    nine_dont_per_call: per_call(t.nine_dont),
                    nine_do_per_call: per_call(t.nine_do),
                    worst_call_id: t.worst.map(|(_, id)| id),
                    mean_first_response_s: (t.first_response.1 > 0)
                        .then(|| t.first_response.0 / f64::from(t.first_response.1)),
                    dead_air_per_call: (t.dead_air.1 > 0).then(|| f64::from(t.dead_air.0) / f64::from(t.dead_air.1)),
                    talk_over_per_call: (t.talk_over.1 > 0)
                        .then(|| f64::from(t.talk_over.0) / f64::from(t.talk_over.1)),
                    ringing_s_per_call: seconds_per_call(0),
                    hold_music_s_per_call: seconds_per_call(1),
                    announcement_s_per_call: seconds_per_call(2),
                    silence_s_per_call: seconds_per_call(3),
                    uncertain_calls: t.uncertain,
                    at_risk_calls: t.at_risk,
                    at_risk_per_100: per_call(t.at_risk).map(|rate| rate * 100.0),
                    reviewed_calls: t.reviewed,
                }
            })
            .collect()
    }
}

/// `yes` over `decided`, None when nothing was decided.
fn decided_rate(yes: u32, decided: u32) -> Option<f64> {
    (decided > 0).then(|| f64::from(yes) / f64::from(decided))
}

/// The scorecards of `calls`, by agent and day.
pub fn scorecards(calls: &[CallResult]) -> Vec<Scorecard> {
    let mut book = ScorecardBook::by_agent_and_day();
    calls.iter().for_each(|c| book.add(c));
    book.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Timing;

    fn call(id: &str, timing: Timing) -> CallResult {
        let mut call = crate::report::tests::call(id, "A1", 100.0, false);
        if let Ok(e) = &mut call.evaluation {
            e.timing = timing;
        }
        call
    }

    #[test]
    fn timing_is_averaged_over_the_calls_that_measured_it() {
        let stereo = |first: f64, dead: u32, over: u32| Timing {
            first_response_s: Some(first),
            dead_air_count: Some(dead),
            talk_over_count: Some(over),
            ..Timing::default()
        };
        let mono = Timing {
            first_response_s: Some(4.0),
            dead_air_count: Some(1),
            talk_over_count: None,
            ..Timing::default()
        };
        let silent = Timing::default();
        let cards = scorecards(&[
            call("a", stereo(1.0, 0, 1)),
            call("b", stereo(2.0, 2, 2)),
            call("c", mono),
            call("d", silent),
        ]);
        let card = &cards[0];
        assert_eq!(card.calls, 4);
        assert_eq!(card.mean_first_response_s, Some(7.0 / 3.0));
        assert_eq!(card.dead_air_per_call, Some(1.0));
        assert_eq!(card.talk_over_per_call, Some(1.5), "over the two stereo calls");
    }
}

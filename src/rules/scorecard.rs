//! Per-agent, per-day scorecards: the calls' verdicts summed up for managers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CallResult, Evaluation};

/// One agent's day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub agent_id: String,
    /// `YYYY-MM-DD`, or empty when the call's date is unknown.
    pub call_date: String,
    /// Calls scored.
    pub calls: u32,
    /// Scored calls below the pass mark.
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

/// Groups calls by agent and day. Failed calls without an agent id are left
/// out (they appear in calls.parquet with their reason).
pub fn scorecards(calls: &[CallResult]) -> Vec<Scorecard> {
    let mut groups: BTreeMap<(String, String), Vec<&CallResult>> = BTreeMap::new();
    for call in calls {
        if let Some(agent) = &call.agent_id {
            groups
                .entry((agent.clone(), call.call_date().unwrap_or_default().to_string()))
                .or_default()
                .push(call);
        }
    }
    groups
        .into_iter()
        .map(|((agent_id, call_date), calls)| {
            let scored: Vec<(&CallResult, &Evaluation)> = calls
                .iter()
                .filter_map(|c| c.evaluation.as_ref().ok().map(|e| (*c, e)))
                .collect();
            let n = scored.len() as f64;
            let rate =
                |f: &dyn Fn(&Evaluation) -> f64| (n > 0.0).then(|| scored.iter().map(|(_, e)| f(e)).sum::<f64>() / n);
            let holds: u32 = scored.iter().map(|(_, e)| e.holds).sum();
            let holds_ok: u32 = scored.iter().map(|(_, e)| e.holds_ok).sum();
            let worst = scored.iter().min_by(|a, b| {
                a.1.score
                    .total_cmp(&b.1.score)
                    .then_with(|| a.0.call_id.cmp(&b.0.call_id))
            });
            Scorecard {
                agent_id,
                call_date,
                calls: scored.len() as u32,
                failed_calls: scored.iter().filter(|(_, e)| !e.passed).count() as u32,
                unprocessed_calls: (calls.len() - scored.len()) as u32,
                mean_score: rate(&|e| e.score),
                min_score: worst.map(|(_, e)| e.score),
                greeting_rate: rate(&|e| e.greeting_ok as u8 as f64),
                closing_rate: rate(&|e| e.closing_ok as u8 as f64),
                hold_etiquette_rate: (holds > 0).then(|| holds_ok as f64 / holds as f64),
                forbidden_per_call: rate(&|e| e.forbidden_count as f64),
                nine_dont_per_call: rate(&|e| e.nine_dont_count as f64),
                nine_do_per_call: rate(&|e| e.nine_do_count as f64),
                worst_call_id: worst.map(|(c, _)| c.call_id.clone()),
            }
        })
        .collect()
}

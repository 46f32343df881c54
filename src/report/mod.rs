//! What people read: per-agent per-day scorecards, the text report, example clips.

mod clips;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

pub use clips::{cut_clips, ClipError};

use crate::lexicon::Role;
use crate::rules::CallResult;
use crate::store::HitRow;

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
            let scored: Vec<(&CallResult, &crate::rules::Evaluation)> = calls
                .iter()
                .filter_map(|c| c.evaluation.as_ref().ok().map(|e| (*c, e)))
                .collect();
            let n = scored.len() as f64;
            let rate = |f: &dyn Fn(&crate::rules::Evaluation) -> f64| {
                (n > 0.0).then(|| scored.iter().map(|(_, e)| f(e)).sum::<f64>() / n)
            };
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

/// The report a QA lead reads in the morning: totals, agents, failures, worst moments.
pub fn text_report(calls: &[CallResult], hits: &[HitRow], cards: &[Scorecard]) -> String {
    let mut out = String::new();
    let scored: Vec<&CallResult> = calls.iter().filter(|c| c.evaluation.is_ok()).collect();
    let failed: Vec<&CallResult> = calls.iter().filter(|c| c.evaluation.is_err()).collect();
    let passed = scored
        .iter()
        .filter(|c| c.evaluation.as_ref().is_ok_and(|e| e.passed))
        .count();
    let hours: f64 = scored.iter().filter_map(|c| c.duration_s).sum::<f64>() / 3600.0;
    let _ = writeln!(out, "# callqa report\n");
    let _ = writeln!(
        out,
        "{} calls ({hours:.2} h of audio): {} scored, {passed} passed, {} below the pass mark, {} could not be processed.\n",
        calls.len(),
        scored.len(),
        scored.len() - passed,
        failed.len()
    );
    let _ = writeln!(out, "## Agents\n");
    let _ = writeln!(out, "| agent | day | calls | below pass | mean | min | greeting | closing | holds ok | forbidden/call | nine-don't/call | worst call |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0));
    let num = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
    for c in cards {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.agent_id,
            c.call_date,
            c.calls,
            c.failed_calls,
            num(c.mean_score),
            num(c.min_score),
            pct(c.greeting_rate),
            pct(c.closing_rate),
            pct(c.hold_etiquette_rate),
            num(c.forbidden_per_call),
            num(c.nine_dont_per_call),
            c.worst_call_id.as_deref().unwrap_or("–")
        );
    }
    let mut below: Vec<(&CallResult, &crate::rules::Evaluation)> = scored
        .iter()
        .filter_map(|c| c.evaluation.as_ref().ok().filter(|e| !e.passed).map(|e| (*c, e)))
        .collect();
    below.sort_by(|a, b| a.1.score.total_cmp(&b.1.score));
    if !below.is_empty() {
        let _ = writeln!(out, "\n## Calls below the pass mark\n");
        for (call, e) in below {
            let _ = writeln!(
                out,
                "- {} (agent {}, score {:.0}): {}",
                call.call_id,
                call.agent_id.as_deref().unwrap_or("?"),
                e.score,
                e.failed_rules.join(", ")
            );
        }
    }
    let bad: Vec<&HitRow> = hits
        .iter()
        .filter(|r| {
            matches!(r.hit.role, Role::Forbidden | Role::NineDont)
                && r.hit.speaker != crate::transcript::Speaker::Customer
        })
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(out, "\n## Forbidden and nine-don't moments (for training)\n");
        for HitRow { call_id, hit: h, .. } in bad {
            let _ = writeln!(
                out,
                "- {call_id} at {:.1}–{:.1} s [{}] {} said 「{}」 ({}): …{}…",
                h.start_s,
                h.end_s,
                h.category,
                h.speaker.as_str(),
                h.matched_text,
                h.kind.as_str(),
                h.context
            );
        }
    }
    if !failed.is_empty() {
        let _ = writeln!(out, "\n## Could not be processed\n");
        for c in failed {
            let _ = writeln!(
                out,
                "- {}: {}",
                c.call_id,
                c.evaluation.as_ref().err().map_or("", |s| s.as_str())
            );
        }
    }
    out
}

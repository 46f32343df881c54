//! What people read: the text report and example clips.

mod clips;

use std::fmt::Write as _;

pub use clips::{cut_clips, ClipError, Moment};

use crate::lexicon::Role;
use crate::rules::{CallResult, Scorecard};
use crate::store::HitRow;

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

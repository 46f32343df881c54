//! What people read: the text report and example clips.
//!
//! The report is built call by call ([`NightReport::add`]) and keeps only
//! what it prints: totals, one tally per agent, the worst calls and moments
//! (a bounded list each) and counts of the rest. So it reads the same, and
//! costs the same memory, at 50 calls or a million.

mod clips;

use std::fmt::Write as _;

pub use clips::{cut_clips, ClipError, Moment};

use crate::lexicon::{Hit, Role};
use crate::rules::{CallResult, Scorecard, ScorecardBook};
use crate::transcript::Speaker;

/// How many of the worst calls, bad moments and unprocessed calls the report lists.
pub const WORST_CALLS_LISTED: usize = 20;
pub const WORST_MOMENTS_LISTED: usize = 50;
pub const FAILURES_LISTED: usize = 20;

/// A call that did not pass, as the report lists it.
#[derive(Debug, Clone, PartialEq)]
struct FailedCall {
    score: f64,
    call_id: String,
    agent_id: String,
    failed_rules: Vec<String>,
    red_lines: Vec<String>,
}

/// A forbidden or nine-don't moment.
#[derive(Debug, Clone, PartialEq)]
struct BadMoment {
    call_score: f64,
    call_id: String,
    agent_id: String,
    hit: Hit,
}

/// The `n` smallest items by `key`, kept in bounded memory.
#[derive(Debug)]
struct Lowest<T> {
    n: usize,
    seen: usize,
    items: Vec<T>,
}

impl<T> Lowest<T> {
    fn new(n: usize) -> Self {
        Self {
            n,
            seen: 0,
            items: Vec::new(),
        }
    }

    fn push(&mut self, item: T, order: impl Fn(&T, &T) -> std::cmp::Ordering + Copy) {
        self.seen += 1;
        self.items.push(item);
        if self.items.len() >= 2 * self.n.max(1) {
            self.items.sort_by(order);
            self.items.truncate(self.n);
        }
    }

    fn into_sorted(mut self, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> (Vec<T>, usize) {
        self.items.sort_by(order);
        self.items.truncate(self.n);
        (self.items, self.seen)
    }
}

fn worst_call_first(a: &FailedCall, b: &FailedCall) -> std::cmp::Ordering {
    b.red_lines
        .len()
        .min(1)
        .cmp(&a.red_lines.len().min(1))
        .then(a.score.total_cmp(&b.score))
        .then_with(|| a.call_id.cmp(&b.call_id))
}

fn worst_moment_first(a: &BadMoment, b: &BadMoment) -> std::cmp::Ordering {
    a.call_score
        .total_cmp(&b.call_score)
        .then_with(|| a.call_id.cmp(&b.call_id))
        .then(a.hit.start_s.total_cmp(&b.hit.start_s))
}

/// The report a QA lead reads in the morning, built call by call.
#[derive(Debug)]
pub struct NightReport {
    calls: usize,
    scored: usize,
    passed: usize,
    red_line_calls: usize,
    audio_s: f64,
    agents: ScorecardBook,
    below_pass: Lowest<FailedCall>,
    moments: Lowest<BadMoment>,
    unprocessed: Vec<(String, String)>,
    unprocessed_total: usize,
}

impl Default for NightReport {
    fn default() -> Self {
        Self {
            calls: 0,
            scored: 0,
            passed: 0,
            red_line_calls: 0,
            audio_s: 0.0,
            agents: ScorecardBook::by_agent(),
            below_pass: Lowest::new(WORST_CALLS_LISTED),
            moments: Lowest::new(WORST_MOMENTS_LISTED),
            unprocessed: Vec::new(),
            unprocessed_total: 0,
        }
    }
}

/// Totals of a report, for the end-of-run summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub calls: usize,
    pub scored: usize,
    pub passed: usize,
    pub unprocessed: usize,
    pub audio_h: f64,
    /// Every agent over the whole folder, lowest mean score first.
    pub agents: Vec<Scorecard>,
}

impl NightReport {
    pub fn add(&mut self, call: &CallResult, hits: &[Hit]) {
        self.calls += 1;
        self.agents.add(call);
        let evaluation = match &call.evaluation {
            Ok(e) => e,
            Err(reason) => {
                self.unprocessed_total += 1;
                if self.unprocessed.len() < FAILURES_LISTED {
                    self.unprocessed.push((call.call_id.clone(), reason.clone()));
                }
                return;
            }
        };
        self.scored += 1;
        self.audio_s += call.duration_s.unwrap_or(0.0);
        self.passed += usize::from(evaluation.passed);
        self.red_line_calls += usize::from(!evaluation.red_lines.is_empty());
        let agent_id = call.agent_id.clone().unwrap_or_default();
        if !evaluation.passed {
            self.below_pass.push(
                FailedCall {
                    score: evaluation.score,
                    call_id: call.call_id.clone(),
                    agent_id: agent_id.clone(),
                    failed_rules: evaluation.failed_rules.clone(),
                    red_lines: evaluation.red_lines.clone(),
                },
                worst_call_first,
            );
        }
        for hit in hits {
            if matches!(hit.role, Role::Forbidden | Role::NineDont) && hit.speaker != Speaker::Customer {
                self.moments.push(
                    BadMoment {
                        call_score: evaluation.score,
                        call_id: call.call_id.clone(),
                        agent_id: agent_id.clone(),
                        hit: hit.clone(),
                    },
                    worst_moment_first,
                );
            }
        }
    }

    /// The report as Markdown, and its totals.
    pub fn finish(self) -> (String, Totals) {
        let mut agents = self.agents.finish();
        let mut out = String::new();
        let hours = self.audio_s / 3600.0;
        let _ = writeln!(out, "# callqa report\n");
        let _ = writeln!(
            out,
            "{} calls ({hours:.2} h of audio): {} scored, {} passed, {} did not pass ({} over a red line), {} could not be processed.\n",
            self.calls,
            self.scored,
            self.passed,
            self.scored - self.passed,
            self.red_line_calls,
            self.unprocessed_total
        );
        let _ = writeln!(
            out,
            "Every call, hit and agent-day is in calls.parquet, hits.parquet and scorecards.parquet.\n"
        );
        let _ = writeln!(out, "## Agents\n");
        let _ = writeln!(out, "| agent | calls | did not pass | mean | min | greeting | closing | holds ok | forbidden/call | nine-don't/call | worst call |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0));
        let num = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
        for c in &agents {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.agent_id,
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
        let (worst, below_total) = self.below_pass.into_sorted(worst_call_first);
        if !worst.is_empty() {
            let _ = writeln!(out, "\n## Worst calls\n");
            for call in &worst {
                let red = if call.red_lines.is_empty() {
                    String::new()
                } else {
                    format!(" — RED LINE: {}", call.red_lines.join(", "))
                };
                let _ = writeln!(
                    out,
                    "- {} (agent {}, score {:.0}): {}{red}",
                    call.call_id,
                    call.agent_id,
                    call.score,
                    call.failed_rules.join(", ")
                );
            }
            more(&mut out, below_total - worst.len(), "calls that did not pass");
        }
        let (moments, moments_total) = self.moments.into_sorted(worst_moment_first);
        if !moments.is_empty() {
            let _ = writeln!(
                out,
                "\n## Forbidden and nine-don't moments (for training), worst calls first\n"
            );
            for BadMoment {
                call_id, agent_id, hit, ..
            } in &moments
            {
                let _ = writeln!(
                    out,
                    "- {call_id} (agent {agent_id}) at {} [{}] {} said 「{}」 ({}): …{}…",
                    mm_ss(hit.start_s, hit.end_s),
                    hit.category,
                    hit.speaker.as_str(),
                    hit.matched_text,
                    hit.kind.as_str(),
                    hit.context
                );
            }
            more(&mut out, moments_total - moments.len(), "moments");
        }
        if !self.unprocessed.is_empty() {
            let _ = writeln!(out, "\n## Could not be processed\n");
            for (call_id, reason) in &self.unprocessed {
                let _ = writeln!(out, "- {call_id}: {reason}");
            }
            more(
                &mut out,
                self.unprocessed_total - self.unprocessed.len(),
                "calls (all in failures.json)",
            );
        }
        agents.sort_by(|a, b| {
            a.mean_score
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.mean_score.unwrap_or(f64::INFINITY))
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        });
        let totals = Totals {
            calls: self.calls,
            scored: self.scored,
            passed: self.passed,
            unprocessed: self.unprocessed_total,
            audio_h: hours,
            agents,
        };
        (out, totals)
    }
}

fn more(out: &mut String, rest: usize, what: &str) {
    if rest > 0 {
        let _ = writeln!(out, "\n…and {rest} more {what}.");
    }
}

/// `1:05–1:07` (minutes:seconds), as people read call times.
fn mm_ss(start_s: f64, end_s: f64) -> String {
    let f = |s: f64| {
        let s = s.max(0.0).round() as u64;
        format!("{}:{:02}", s / 60, s % 60)
    };
    format!("{}–{}", f(start_s), f(end_s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Evaluation;

    fn call(id: &str, agent: &str, score: f64, red: bool) -> CallResult {
        CallResult {
            call_id: id.into(),
            agent_id: Some(agent.into()),
            started_at: Some("2026-11-20T09:00:00".into()),
            audio_path: None,
            duration_s: Some(60.0),
            extra: Default::default(),
            evaluation: Ok(Evaluation {
                greeting_ok: true,
                greeting_at_s: Some(0.5),
                closing_ok: true,
                holds: 0,
                holds_ok: 0,
                nine_do_count: 0,
                nine_dont_count: 0,
                forbidden_count: u32::from(red),
                score,
                passed: score >= 80.0 && !red,
                failed_rules: if red { vec!["forbidden_phrase".into()] } else { vec![] },
                red_lines: if red { vec!["forbidden_phrase".into()] } else { vec![] },
            }),
        }
    }

    fn hit(at: f64) -> Hit {
        Hit {
            category: "forbidden".into(),
            role: Role::Forbidden,
            phrase_id: "f.1".into(),
            phrase: "我不大清楚".into(),
            matched_text: "我不大清楚".into(),
            speaker: Speaker::Agent,
            start_s: at,
            end_s: at + 1.0,
            kind: crate::lexicon::MatchKind::Exact,
            context: "嗯，我不大清楚".into(),
        }
    }

    #[test]
    fn the_report_stays_short_at_any_size() {
        let mut report = NightReport::default();
        for i in 0..5000 {
            let id = format!("c{i:05}");
            let score = 40.0 + (i % 50) as f64;
            let red = i % 7 == 0;
            report.add(
                &call(&id, &format!("A{}", i % 30), score, red),
                &[hit(61.0), hit(125.0)],
            );
        }
        let (text, totals) = report.finish();
        assert_eq!(totals.calls, 5000);
        assert_eq!(totals.agents.len(), 30);
        assert!(text.lines().count() < 200, "{} lines", text.lines().count());
        let worst: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "## Worst calls")
            .filter(|l| l.starts_with("- "))
            .take(WORST_CALLS_LISTED + 1)
            .collect();
        // red lines first, then by score: c00000 is red and scores 40
        assert!(worst[0].starts_with("- c00000 (agent A0, score 40)"), "{}", worst[0]);
        assert!(worst[0].contains("RED LINE: forbidden_phrase"), "{}", worst[0]);
        assert!(text.contains("1:01–1:02"), "times as mm:ss");
        let moments = text.lines().filter(|l| l.contains("said 「")).count();
        assert_eq!(moments, WORST_MOMENTS_LISTED);
        assert!(text.contains(&format!("…and {} more moments.", 10_000 - WORST_MOMENTS_LISTED)));
    }
}

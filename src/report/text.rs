//! The report as text: report.md, and the few lines the terminal shows.

use std::fmt::Write as _;

use super::{how_found, mm_ss_span, percent, BadMoment, Report, PERSONAL_DATA_SHOWN};

impl Report {
    /// The report as Markdown (report.md).
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# callqa report\n");
        if self.personal_data_shown {
            let _ = writeln!(out, "> **{PERSONAL_DATA_SHOWN}**\n");
        }
        let _ = writeln!(out, "{}\n", self.headline());
        if let Some(mono) = self.mono_line() {
            let _ = writeln!(out, "{mono}\n");
        }
        let _ = writeln!(
            out,
            "Every call, hit and agent-day is in calls.parquet, hits.parquet and scorecards.parquet; charts and every agent's worst calls are in report.html.\n"
        );
        let _ = writeln!(out, "## Agents\n");
        let _ = writeln!(out, "| agent | calls | did not pass | mean | min | greeting | closing | holds ok | forbidden/call | nine-don't/call | worst call |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for c in &self.agents {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&c.agent_id),
                c.calls,
                c.failed_calls,
                one_decimal(c.mean_score),
                one_decimal(c.min_score),
                percent(c.greeting_rate),
                percent(c.closing_rate),
                percent(c.hold_etiquette_rate),
                one_decimal(c.forbidden_per_call),
                one_decimal(c.nine_dont_per_call),
                md(c.worst_call_id.as_deref().unwrap_or("–"))
            );
        }
        if !self.rules_failed.is_empty() {
            let _ = writeln!(out, "\n## Rules failed most often\n");
            for r in &self.rules_failed {
                let _ = writeln!(out, "- {}: {} calls", md(&self.rule_name(&r.rule)), r.calls);
            }
        }
        if !self.worst_calls.items.is_empty() {
            let _ = writeln!(out, "\n## Worst calls\n");
            for call in &self.worst_calls.items {
                let red = if call.red_lines.is_empty() {
                    String::new()
                } else {
                    format!(" — RED LINE: {}", md(&call.red_lines.join(", ")))
                };
                let mono = call
                    .speakers_note
                    .as_deref()
                    .map(|n| format!(" ({})", md(n)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- {} (agent {}, score {:.0}): {}{red}{mono}",
                    md(&call.call_id),
                    md(&call.agent_id),
                    call.score,
                    md(&call.failed_rules.join(", "))
                );
            }
            more(&mut out, self.worst_calls.rest(), "calls that did not pass");
        }
        if !self.moments.items.is_empty() {
            let _ = writeln!(
                out,
                "\n## Forbidden and nine-don't moments (for training), worst calls first\n"
            );
            for BadMoment {
                call_id, agent_id, hit, ..
            } in &self.moments.items
            {
                let _ = writeln!(
                    out,
                    "- {} (agent {}) at {} [{}] {} said 「{}」 ({}): …{}…",
                    md(call_id),
                    md(agent_id),
                    mm_ss_span(hit.start_s, hit.end_s),
                    md(&hit.category),
                    hit.speaker.as_str(),
                    md(&hit.matched_text),
                    md(&how_found(hit)),
                    md(&hit.context)
                );
            }
            more(&mut out, self.moments.rest(), "moments");
        }
        if !self.open_moments.items.is_empty() {
            let _ = writeln!(out, "\n## Verdicts left open: listen to these moments\n");
            for m in &self.open_moments.items {
                let _ = writeln!(out, "- {}", md(&Self::open_moment_line(m)));
            }
            more(&mut out, self.open_moments.rest(), "moments");
        }
        if !self.at_risk.items.is_empty() {
            let _ = writeln!(
                out,
                "\n## Calls at risk of a complaint ({} calls; for managers, not counted against agents)\n",
                self.totals.at_risk_calls
            );
            for call in &self.at_risk.items {
                let _ = writeln!(out, "- {}", md(&Self::risk_line(call)));
            }
            more(&mut out, self.at_risk.rest(), "calls (calls.parquet, at_risk)");
        }
        if !self.calibration.rules.is_empty() {
            let c = &self.calibration;
            let _ = writeln!(
                out,
                "\n## The machine against QA reviews ({} calls reviewed; their verdicts are the reviewers')\n",
                c.reviewed_calls
            );
            let _ = writeln!(
                out,
                "| rule | reviewed | agreed | false fails | false passes | left open | kappa |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
            for a in &c.rules {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    md(&self.rule_name(&a.rule)),
                    a.reviewed,
                    percent(a.rate),
                    a.false_fails,
                    a.false_passes,
                    a.left_open,
                    a.kappa.map_or("–".to_string(), |k| format!("{k:.2}"))
                );
            }
            if let Some(rate) = c.reviewers.rate {
                let _ = writeln!(
                    out,
                    "\nReviewers against each other: {} agreed in {} verdicts given twice.",
                    percent(Some(rate)),
                    c.reviewers.pairs
                );
            }
            if !c.disputes.is_empty() {
                let _ = writeln!(out, "\n### Verdicts the reviewers overturned\n");
                for d in &c.disputes {
                    let _ = writeln!(out, "- {}", md(&Self::dispute_line(d)));
                }
                more(
                    &mut out,
                    c.disputes_total as usize - c.disputes.len(),
                    "(reviews.parquet)",
                );
            }
        }
        if !self.unprocessed.items.is_empty() {
            let _ = writeln!(out, "\n## Could not be processed\n");
            for u in &self.unprocessed.items {
                let _ = writeln!(out, "- {}: {}", md(&u.call_id), md(&u.reason));
            }
            more(&mut out, self.unprocessed.rest(), "calls (all in failures.json)");
        }
        out
    }

    /// A rule as a reader sees it: the pack's title, with the id the tables use.
    fn rule_name(&self, id: &str) -> String {
        match self.titles.rule(id) {
            title if title == id => id.to_string(),
            title => format!("{title} ({id})"),
        }
    }

    /// A few lines for the terminal: totals, the lowest agents, the rules
    /// failed most often and the worst calls.
    pub fn summary(&self) -> String {
        const SHOWN: usize = 5;
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline());
        if let Some(mono) = self.mono_line() {
            let _ = writeln!(out, "{mono}");
        }
        let lowest = self.lowest_agents();
        if !lowest.is_empty() {
            let names: Vec<String> = lowest
                .iter()
                .take(SHOWN)
                .map(|a| format!("{} {} ({} calls)", a.agent_id, one_decimal(a.mean_score), a.calls))
                .collect();
            let _ = writeln!(out, "Lowest mean score ({} agents): {}", lowest.len(), names.join(", "));
        }
        if !self.rules_failed.is_empty() {
            let rules: Vec<String> = self
                .rules_failed
                .iter()
                .take(SHOWN)
                .map(|r| format!("{} {}", self.titles.rule(&r.rule), r.calls))
                .collect();
            let _ = writeln!(out, "Rules failed most often (calls): {}", rules.join(", "));
        }
        if !self.open_moments.items.is_empty() {
            let _ = writeln!(
                out,
                "Verdicts left open ({} calls), listen to:",
                self.totals.uncertain_calls
            );
            for m in self.open_moments.items.iter().take(SHOWN) {
                let _ = writeln!(out, "  {}", Self::open_moment_line(m));
            }
        }
        if !self.at_risk.items.is_empty() {
            let _ = writeln!(out, "Calls at risk of a complaint ({}):", self.totals.at_risk_calls);
            for call in self.at_risk.items.iter().take(SHOWN) {
                let _ = writeln!(out, "  {}", Self::risk_line(call));
            }
        }
        if !self.calibration.rules.is_empty() {
            let rules: Vec<String> = self
                .calibration
                .rules
                .iter()
                .map(|a| format!("{} {} of {}", self.titles.rule(&a.rule), a.agreed, a.reviewed))
                .collect();
            let _ = writeln!(
                out,
                "Reviewed by QA ({} calls); the machine agreed: {}",
                self.calibration.reviewed_calls,
                rules.join(", ")
            );
        }
        if !self.worst_calls.items.is_empty() {
            let _ = writeln!(out, "Worst calls:");
            for call in self.worst_calls.items.iter().take(SHOWN) {
                let red = if call.red_lines.is_empty() { "" } else { " RED LINE" };
                let _ = writeln!(
                    out,
                    "  {} (agent {}, score {:.0}{red}): {}",
                    call.call_id,
                    call.agent_id,
                    call.score,
                    call.failed_rules.join(", ")
                );
            }
        }
        out
    }
}

/// Text from calls (ids, transcripts, reasons) as Markdown shows it: as
/// text. A `|` would end a table cell, `*`, `` ` ``, `[` and `<` start markup,
/// a line break end the list item.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '`' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn more(out: &mut String, rest: usize, what: &str) {
    if rest > 0 {
        let _ = writeln!(out, "\n…and {rest} more {what}.");
    }
}

fn one_decimal(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.1}"))
}

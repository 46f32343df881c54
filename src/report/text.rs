//! The report as text: report.md, and the few lines the terminal shows.

use std::fmt::Write as _;

use super::{how_found, mm_ss_span, percent, speakers_note, BadMoment, FailedCall, Report};
use crate::i18n::Messages;
use crate::msg;

impl Report {
    /// The report as Markdown (report.md), in `m`'s language.
    pub fn markdown(&self, m: &Messages) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", m.text("report-title"));
        if self.personal_data_shown {
            let _ = writeln!(out, "> **{}**\n", m.text("personal-data-shown"));
        }
        let _ = writeln!(out, "{}\n", self.headline(m));
        if let Some(mono) = self.mono_line(m) {
            let _ = writeln!(out, "{mono}\n");
        }
        let _ = writeln!(out, "{}\n", m.text("report-md-where"));
        self.md_agents(&mut out, m);
        self.md_rules_failed(&mut out, m);
        self.md_worst_calls(&mut out, m);
        self.md_moments(&mut out, m);
        self.md_at_risk(&mut out, m);
        self.md_voice_mismatches(&mut out, m);
        self.md_non_talk(&mut out, m);
        self.md_calibration(&mut out, m);
        self.md_unprocessed(&mut out, m);
        out
    }

    /// The agents table.
    fn md_agents(&self, out: &mut String, m: &Messages) {
        let _ = writeln!(out, "## {}\n", m.text("report-agents"));
        let columns = [
            "col-agent",
            "col-calls",
            "col-did-not-pass",
            "col-mean",
            "col-min",
            "col-greeting",
            "col-closing",
            "col-holds-ok",
            "col-forbidden-per-call",
            "col-nine-dont-per-call",
            "col-worst-call",
        ];
        table_head(
            out,
            m,
            &columns,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        );
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
    }

    /// The rules failed, most often first.
    fn md_rules_failed(&self, out: &mut String, m: &Messages) {
        if !self.rules_failed.is_empty() {
            let _ = writeln!(out, "\n## {}\n", m.text("report-rules-failed"));
            for r in &self.rules_failed {
                let _ = writeln!(
                    out,
                    "- {}",
                    msg!(
                        m,
                        "report-rule-calls",
                        rule = md(&self.rule_label(m, &r.rule)),
                        calls = r.calls
                    )
                );
            }
        }
    }

    /// The calls that did not pass, worst first.
    fn md_worst_calls(&self, out: &mut String, m: &Messages) {
        if !self.worst_calls.items.is_empty() {
            let _ = writeln!(out, "\n## {}\n", m.text("report-worst-calls"));
            for call in &self.worst_calls.items {
                let _ = writeln!(out, "- {}", md(&self.failed_call_line(m, call)));
            }
            more(out, m, self.worst_calls.rest(), "more-calls-failed");
        }
    }

    /// The bad moments, then the moments left open.
    fn md_moments(&self, out: &mut String, m: &Messages) {
        if !self.moments.items.is_empty() {
            let _ = writeln!(out, "\n## {}\n", m.text("report-moments"));
            for BadMoment {
                call_id, agent_id, hit, ..
            } in &self.moments.items
            {
                let line = msg!(
                    m,
                    "report-moment",
                    call = call_id.as_str(),
                    agent = agent_id.as_str(),
                    at = mm_ss_span(hit.start_s, hit.end_s),
                    category = self.titles.category_in(m, &hit.category),
                    speaker = m.text(&format!("speaker-{}", hit.speaker.as_str())),
                    said = hit.matched_text.as_str(),
                    how = how_found(m, hit),
                    context = hit.context.as_str()
                );
                let _ = writeln!(out, "- {}", md(&line));
            }
            more(out, m, self.moments.rest(), "more-moments");
        }
        if !self.open_moments.items.is_empty() {
            let _ = writeln!(out, "\n## {}\n", m.text("report-open"));
            for open in &self.open_moments.items {
                let _ = writeln!(out, "- {}", md(&self.open_moment_line(m, open)));
            }
            more(out, m, self.open_moments.rest(), "more-moments");
        }
    }

    /// The calls whose customer may complain.
    fn md_at_risk(&self, out: &mut String, m: &Messages) {
        if !self.at_risk.items.is_empty() {
            let _ = writeln!(
                out,
                "\n## {}\n",
                msg!(m, "report-at-risk-md", calls = self.totals.at_risk_calls)
            );
            for call in &self.at_risk.items {
                let _ = writeln!(out, "- {}", md(&self.risk_line(m, call)));
            }
            more(out, m, self.at_risk.rest(), "more-at-risk");
        }
    }

    /// The calls in a voice other than their agent's.
    fn md_voice_mismatches(&self, out: &mut String, m: &Messages) {
        if !self.voice_mismatches.items.is_empty() {
            let _ = writeln!(
                out,
                "\n## {}\n\n{}\n",
                msg!(m, "report-voice-mismatch-md", calls = self.voice_mismatches.total),
                m.text("report-voice-mismatch-explained")
            );
            for call in &self.voice_mismatches.items {
                let line = msg!(
                    m,
                    "report-voice-mismatch-line",
                    call = call.call_id.clone(),
                    agent = call.agent_id.clone(),
                    similarity = format!("{:.2}", call.similarity),
                    enrolled = call.enrolled_calls
                );
                let _ = writeln!(out, "- {}", md(&line));
            }
            more(out, m, self.voice_mismatches.rest(), "more-voice-mismatch");
        }
    }

    /// The machine against the reviews.
    fn md_calibration(&self, out: &mut String, m: &Messages) {
        if !self.calibration.rules.is_empty() {
            let c = &self.calibration;
            let _ = writeln!(
                out,
                "\n## {}\n",
                msg!(m, "report-calibration-md", calls = c.reviewed_calls)
            );
            let columns = [
                "col-rule",
                "col-reviewed",
                "col-agreed",
                "col-false-fails",
                "col-false-passes",
                "col-left-open",
                "col-kappa",
            ];
            table_head(out, m, &columns, "|---|---:|---:|---:|---:|---:|---:|");
            for a in &c.rules {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    md(&self.rule_label(m, &a.rule)),
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
                    "\n{}",
                    msg!(
                        m,
                        "report-reviewers",
                        rate = percent(Some(rate)),
                        pairs = c.reviewers.pairs
                    )
                );
            }
            if !c.disputes.is_empty() {
                let _ = writeln!(out, "\n### {}\n", m.text("report-disputes"));
                for d in &c.disputes {
                    let _ = writeln!(out, "- {}", md(&self.dispute_line(m, d)));
                }
                more(out, m, c.disputes_total as usize - c.disputes.len(), "more-disputes");
            }
        }
    }

    /// The calls that could not be scored.
    fn md_unprocessed(&self, out: &mut String, m: &Messages) {
        if !self.unprocessed.items.is_empty() {
            let _ = writeln!(out, "\n## {}\n", m.text("report-unprocessed"));
            for u in &self.unprocessed.items {
                let _ = writeln!(out, "- {}: {}", md(&u.call_id), md(&u.reason));
            }
            more(out, m, self.unprocessed.rest(), "more-unprocessed");
        }
    }

    /// The time that was nobody's words, and the recorded prompts heard:
    /// system audio is listed apart, never as anyone's words.
    fn md_non_talk(&self, out: &mut String, m: &Messages) {
        let n = &self.non_talk;
        if n.calls == 0 && self.prompts.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n## {}\n", m.text("report-non-talk"));
        let _ = writeln!(
            out,
            "{}",
            msg!(
                m,
                "report-non-talk-line",
                calls = n.calls,
                ivr = m.duration(n.ivr_s),
                ringing = m.duration(n.ringing_s),
                music = m.duration(n.hold_music_s),
                announcements = m.duration(n.announcement_s),
                silence = m.duration(n.silence_s)
            )
        );
        if self.prompts.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n### {}\n", m.text("report-prompts"));
        for p in &self.prompts {
            let text = if p.text.is_empty() { "…" } else { p.text.as_str() };
            let line = msg!(m, "report-prompt", id = p.id.as_str(), text = text, calls = p.calls);
            let _ = writeln!(out, "- {}", md(&line));
        }
    }

    /// A rule with the id the tables use, where its name differs: `九不准 (nine_dont_phrase)`.
    fn rule_label(&self, m: &Messages, id: &str) -> String {
        match self.rule_name(m, id) {
            name if name == id => name,
            name => msg!(m, "rule-with-id", name = name, id = id),
        }
    }

    /// A call that did not pass, in a line: score, rules, red lines, speakers.
    fn failed_call_line(&self, m: &Messages, call: &FailedCall) -> String {
        let mut line = msg!(
            m,
            "report-failed-call",
            call = call.call_id.as_str(),
            agent = call.agent_id.as_str(),
            score = format!("{:.0}", call.score),
            rules = self.rule_names(m, &call.failed_rules)
        );
        if !call.red_lines.is_empty() {
            line += &msg!(m, "report-red-line", rules = self.rule_names(m, &call.red_lines));
        }
        if let Some(note) = call.speakers.as_ref().and_then(|s| speakers_note(m, s)) {
            line += &msg!(m, "fmt-aside", text = note);
        }
        line
    }

    /// A few lines for the terminal: totals, the lowest agents, the rules
    /// failed most often and the worst calls.
    pub fn summary(&self, m: &Messages) -> String {
        const SHOWN: usize = 5;
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline(m));
        if let Some(mono) = self.mono_line(m) {
            let _ = writeln!(out, "{mono}");
        }
        let lowest = self.lowest_agents();
        if !lowest.is_empty() {
            let names: Vec<String> = lowest
                .iter()
                .take(SHOWN)
                .map(|a| {
                    msg!(
                        m,
                        "summary-agent",
                        agent = a.agent_id.as_str(),
                        mean = one_decimal(a.mean_score),
                        calls = a.calls
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                msg!(m, "summary-lowest", agents = lowest.len(), names = m.list(&names))
            );
        }
        if !self.rules_failed.is_empty() {
            let rules: Vec<String> = self
                .rules_failed
                .iter()
                .take(SHOWN)
                .map(|r| format!("{} {}", self.rule_name(m, &r.rule), r.calls))
                .collect();
            let _ = writeln!(out, "{}", msg!(m, "summary-rules", rules = m.list(&rules)));
        }
        if !self.open_moments.items.is_empty() {
            let _ = writeln!(out, "{}", msg!(m, "summary-open", calls = self.totals.uncertain_calls));
            for open in self.open_moments.items.iter().take(SHOWN) {
                let _ = writeln!(out, "  {}", self.open_moment_line(m, open));
            }
        }
        if !self.at_risk.items.is_empty() {
            let _ = writeln!(out, "{}", msg!(m, "summary-at-risk", calls = self.totals.at_risk_calls));
            for call in self.at_risk.items.iter().take(SHOWN) {
                let _ = writeln!(out, "  {}", self.risk_line(m, call));
            }
        }
        if !self.calibration.rules.is_empty() {
            let rules: Vec<String> = self
                .calibration
                .rules
                .iter()
                .map(|a| {
                    msg!(
                        m,
                        "summary-agreed-rule",
                        rule = self.rule_name(m, &a.rule),
                        agreed = a.agreed,
                        reviewed = a.reviewed
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                msg!(
                    m,
                    "summary-reviewed",
                    calls = self.calibration.reviewed_calls,
                    rules = m.list(&rules)
                )
            );
        }
        if !self.worst_calls.items.is_empty() {
            let _ = writeln!(out, "{}", m.text("summary-worst"));
            for call in self.worst_calls.items.iter().take(SHOWN) {
                let _ = writeln!(out, "  {}", self.failed_call_line(m, call));
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

/// A Markdown table's header: the columns' names in the reader's language,
/// then the alignment row.
fn table_head(out: &mut String, m: &Messages, columns: &[&str], align: &str) {
    let header: Vec<String> = columns.iter().map(|c| m.text(c)).collect();
    let _ = writeln!(out, "| {} |\n{align}", header.join(" | "));
}

/// "…and 30 more": `id` is a message taking `n`.
fn more(out: &mut String, m: &Messages, rest: usize, id: &str) {
    if rest > 0 {
        let mut args = crate::i18n::Args::new();
        args.set("n", rest);
        let _ = writeln!(out, "\n{}", m.format(id, &args));
    }
}

fn one_decimal(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.1}"))
}

//! The pages a person double-clicks: the night's report and the trainers'
//! clip index. Each is one file from a template (`templates/`), with inline
//! CSS, inline SVG charts and a few lines of script: no network, no server.
//! The templates escape every value (minijinja's HTML auto-escaping), so a
//! transcript or manifest cell holding markup shows as text.

use minijinja::value::{Kwargs, Serde};
use minijinja::{context, Environment, Value};
use serde::Serialize;

use super::{charts, mm_ss, Example, Report, RuleCount};
use crate::i18n::Messages;
use crate::pack::Titles;

#[derive(Debug, thiserror::Error)]
pub enum ReportPageError {
    #[error("drawing the {chart} chart: {reason}")]
    Chart { chart: &'static str, reason: String },
    #[error("rendering {page}: {source}")]
    Template {
        page: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

const REPORT_TEMPLATE: &str = "report.html";
const EXAMPLES_TEMPLATE: &str = "examples.html";
const REVIEW_TEMPLATE: &str = "review.html";

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_template("base.html", include_str!("templates/base.html"))
        .expect("the page template parses");
    env.add_template(REPORT_TEMPLATE, include_str!("templates/report.html"))
        .expect("the report template parses");
    env.add_template(EXAMPLES_TEMPLATE, include_str!("templates/examples.html"))
        .expect("the examples template parses");
    env.add_template(REVIEW_TEMPLATE, include_str!("templates/review.html"))
        .expect("the review template parses");
    env.add_template("players.js", include_str!("templates/players.js"))
        .expect("the players' script parses");
    env.add_template("style.css", include_str!("templates/style.css"))
        .expect("the style sheet parses");
    env.add_filter("mmss", |seconds: f64| mm_ss(seconds));
    env.add_filter("pct", super::percent);
    env.add_filter("num1", |v: Option<f64>| {
        v.map_or("–".to_string(), |v| format!("{v:.1}"))
    });
    env.add_filter("num2", |v: Option<f64>| {
        v.map_or("–".to_string(), |v| format!("{v:+.2}"))
    });
    env.add_filter("num0", |v: Option<f64>| {
        v.map_or("–".to_string(), |v| format!("{v:.0}"))
    });
    // [before, match, after]: the template marks the match and escapes all three
    env.add_filter("split_at_match", |context: String, matched: String| -> Vec<String> {
        match (!matched.is_empty()).then(|| context.find(&matched)).flatten() {
            Some(at) => vec![
                context[..at].to_string(),
                matched.clone(),
                context[at + matched.len()..].to_string(),
            ],
            None => vec![context, String::new(), String::new()],
        }
    });
    env
}

/// Renders in the reader's language, with the pack's names for rules and
/// categories. The templates say everything through the catalogue:
/// `t('id', name=value…)` is a message, `rule_title(id)` and
/// `category_title(name)` the names, `|day`, `|hours` and `|secs` the reader's
/// way of writing a date, hours of audio and seconds; `lang` is the page's
/// language attribute.
fn render(page: &'static str, ctx: Value, m: &'static Messages, titles: &Titles) -> Result<String, ReportPageError> {
    let mut env = environment();
    env.add_global("lang", m.lang().html_lang());
    env.add_function(
        "t",
        move |id: String, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let mut args = crate::i18n::Args::new();
            for name in kwargs.args() {
                let value: Value = kwargs.get(name)?;
                // a number stays one: it picks an English plural
                match f64::try_from(value.clone()) {
                    Ok(n) if value.kind() == minijinja::value::ValueKind::Number => args.set(name.to_string(), n),
                    _ => args.set(name.to_string(), value.to_string()),
                }
            }
            Ok(m.format(&id, &args))
        },
    );
    env.add_filter("day", move |day: Option<String>| {
        day.map_or("–".to_string(), |d| m.date(&d))
    });
    env.add_filter("hours", move |h: f64| m.hours(h));
    env.add_filter("secs", move |s: Option<f64>| {
        s.map_or("–".to_string(), |s| m.seconds(s))
    });
    // what a hit holds, a timing event's measure in the reader's words (`said(hit)`)
    env.add_function("said", move |hit: Value| -> Result<String, minijinja::Error> {
        let text = |key: &str| hit.get_attr(key).map(|v| v.as_str().unwrap_or_default().to_string());
        let number = |key: &str| hit.get_attr(key).map(|v| f64::try_from(v).unwrap_or_default());
        Ok(super::said_of(
            m,
            &text("category")?,
            &text("phrase_id")?,
            &text("matched_text")?,
            number("start_s")?,
            number("end_s")?,
        ))
    });
    let rules = titles.clone();
    env.add_function("rule_title", move |id: String| rules.rule_in(m, &id));
    let categories = titles.clone();
    env.add_function("category_title", move |name: String| categories.category_in(m, &name));
    env.get_template(page)
        .and_then(|t| t.render(ctx))
        .map_err(|source| ReportPageError::Template { page, source })
}

fn chart(chart: &'static str, drawn: Result<String, String>) -> Result<Value, ReportPageError> {
    // the SVG is plotters' own output, its text already escaped
    drawn
        .map(Value::from_safe_string)
        .map_err(|reason| ReportPageError::Chart { chart, reason })
}

impl Report {
    /// The report as one self-contained HTML page. `title` names the folder
    /// it describes; `written_at` is shown as given.
    pub fn html(&self, m: &'static Messages, title: &str, written_at: &str) -> Result<String, ReportPageError> {
        let lowest = self.lowest_agents();
        let titled_rules: Vec<RuleCount> = self
            .rules_failed
            .iter()
            .map(|r| RuleCount {
                rule: self.rule_name(m, &r.rule),
                calls: r.calls,
            })
            .collect();
        // each call's note on its speakers, in the reader's language, by call id
        let speakers_notes: std::collections::BTreeMap<&str, String> = self
            .worst_calls
            .items
            .iter()
            .chain(self.worst_calls_by_agent.iter().flat_map(|a| &a.calls.items))
            .filter_map(|c| Some((c.call_id.as_str(), super::speakers_note(m, c.speakers.as_ref()?)?)))
            .collect();
        let ctx = context! {
            title,
            written_at,
            report => Value::from(Serde(self)),
            headline => self.headline(m),
            mono_line => self.mono_line(m),
            speakers_notes,
            did_not_pass => self.totals.did_not_pass(),
            agents_charted => lowest.len().min(charts::AGENTS_CHARTED),
            agents_with_scores => lowest.len(),
            agent_chart => chart("agents", charts::score_per_agent(m, &lowest, self.pass_mark))?,
            day_chart => chart("days", charts::score_per_day(m, &self.days, self.pass_mark))?,
            rule_chart => chart("rules", charts::rules_failed(m, &titled_rules))?,
        };
        render(REPORT_TEMPLATE, ctx, m, &self.titles)
    }
}

/// The report page of an output folder, titled by the folder and dated now.
pub fn page_of_folder(
    report: &Report,
    folder: &std::path::Path,
    m: &'static Messages,
) -> Result<String, ReportPageError> {
    let now = m.date_time(chrono::Local::now().naive_local());
    report.html(m, &folder.display().to_string(), &now)
}

/// One example on the clip page, with its clip's file name (in the page's folder).
#[derive(Debug, Serialize)]
pub struct ExampleRow<'a> {
    #[serde(flatten)]
    pub example: &'a Example,
    pub clip: Option<String>,
}

/// The trainers' clip index: the examples and the filter that chose them.
#[derive(Debug, Serialize)]
pub struct ExamplesPage<'a> {
    pub title: &'a str,
    pub filter: String,
    pub rows: Vec<ExampleRow<'a>>,
    /// Seconds of audio around each hit.
    pub context_s: f64,
}

/// The clip index as one HTML page, playable from its folder with no server.
pub fn examples_page(page: &ExamplesPage, m: &'static Messages, titles: &Titles) -> Result<String, ReportPageError> {
    render(EXAMPLES_TEMPLATE, Value::from(Serde(page)), m, titles)
}

/// The review page: calls picked for QA staff, each with its audio, its
/// transcript and the machine's verdict per rule with the evidence.
#[derive(Debug, Serialize)]
pub struct ReviewPage {
    /// The output folder reviewed.
    pub title: String,
    /// How the calls were picked, in words.
    pub how: String,
    /// Keeps a reviewer's unsaved choices apart from another page's.
    pub page_key: String,
    /// The name the saved CSV gets.
    pub csv_name: String,
    pub calls: Vec<ReviewCall>,
}

#[derive(Debug, Serialize)]
pub struct ReviewCall {
    pub index: usize,
    pub call_id: String,
    pub agent_id: String,
    pub call_date: Option<String>,
    pub score: Option<f64>,
    pub passed: bool,
    /// The call's audio, relative to the page.
    pub audio: Option<String>,
    /// Why there is none.
    pub audio_problem: String,
    pub lines: Vec<ReviewLine>,
    pub rules: Vec<ReviewRule>,
}

/// One line of a call as the review page lists it: a person's or the
/// system's words, or a sound (music, a tone) where nobody spoke.
#[derive(Debug, Serialize)]
pub struct ReviewLine {
    pub speaker: &'static str,
    pub start_s: f64,
    pub text: String,
    /// The recorded prompt's id, on a system line the audio matched.
    pub prompt: Option<String>,
    /// `music`, `ringback`, `busy` or `dtmf` on a sound's line (its text empty).
    pub sound: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ReviewRule {
    pub rule: String,
    /// The pack's name for it.
    pub title: String,
    /// `fail`, `pass` or `open`.
    pub machine: &'static str,
    pub evidence: Vec<ReviewEvidence>,
}

#[derive(Debug, Serialize)]
pub struct ReviewEvidence {
    pub start_s: f64,
    pub matched_text: String,
    pub counted: bool,
    pub why: String,
}

/// The review page as one HTML file, playable from its folder with no server;
/// it saves the reviewer's verdicts as a CSV through the browser's download.
pub fn review_page(page: &ReviewPage, m: &'static Messages, titles: &Titles) -> Result<String, ReportPageError> {
    render(REVIEW_TEMPLATE, Value::from(Serde(page)), m, titles)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{big_report, call, en, hit};
    use super::super::NightReport;
    use super::*;
    use crate::lexicon::MatchKind;
    use crate::transcript::Speaker;

    const SCRIPT: &str = "<script>alert('x')</script>";

    #[test]
    fn every_shown_text_is_escaped() {
        let mut report = NightReport::new(80.0);
        let mut rude = call(SCRIPT, SCRIPT, 40.0, true);
        rude.started_at = Some("2026-11-20T09:00:00".into());
        let mut said = hit(12.0);
        said.context = format!("{SCRIPT}我不大清楚");
        said.phrase_id = SCRIPT.into();
        report.add(&rude, &[said]);
        report.add(
            &crate::rules::CallResult {
                evaluation: Err(crate::rules::CallFailure::because(SCRIPT)),
                ..call("broken", "A1", 0.0, false)
            },
            &[],
        );
        let page = report.finish().html(en(), SCRIPT, SCRIPT).unwrap();
        // the page's own script is the only one
        assert_eq!(page.matches("<script>").count(), 1, "{page}");
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("<mark>我不大清楚</mark>"), "the match is marked");

        let example = Example {
            call_date: Some("2026-11-20".into()),
            call_score: Some(40.0),
            audio_path: None,
            hit: crate::store::HitRecord {
                call_id: SCRIPT.into(),
                agent_id: SCRIPT.into(),
                category: SCRIPT.into(),
                phrase_id: SCRIPT.into(),
                phrase: SCRIPT.into(),
                matched_text: "我不大清楚".into(),
                speaker: Speaker::Agent,
                start_s: 65.0,
                end_s: 66.0,
                kind: MatchKind::Exact,
                score: None,
                context: format!("{SCRIPT}我不大清楚"),
                verdict: crate::lexicon::HitVerdict::counted("forbidden_phrase"),
            },
        };
        let clip_page = examples_page(
            &ExamplesPage {
                title: SCRIPT,
                filter: SCRIPT.into(),
                rows: vec![ExampleRow {
                    example: &example,
                    clip: Some("01_\"onerror=alert(1) x.wav".into()),
                }],
                context_s: 2.0,
            },
            en(),
            &Titles::default(),
        )
        .unwrap();
        assert_eq!(clip_page.matches("<script>").count(), 1, "{clip_page}");
        assert!(!clip_page.contains("\"onerror"), "{clip_page}");
        assert!(clip_page.contains("1:05"), "times as mm:ss");
    }

    #[test]
    fn a_big_night_makes_a_page_of_bounded_size() {
        let small = big_report(300).html(en(), "t", "now").unwrap();
        let big = big_report(50_000).html(en(), "t", "now").unwrap();
        assert!(
            big.len() < small.len() * 3 / 2,
            "{} vs {} bytes",
            big.len(),
            small.len()
        );
        assert!(big.contains("more calls that did not pass"));
    }
}

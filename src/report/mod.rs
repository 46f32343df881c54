//! What people read: the night's report (Markdown, HTML, a terminal
//! summary), the trainers' examples and their audio clips.
//!
//! The report is built call by call ([`NightReport::add`]) and keeps only
//! what it shows: totals, one tally per agent and per day, a count per rule,
//! the worst calls and moments (a bounded list each, per agent too) and
//! counts of the rest. So it reads the same, and costs the same memory, at 50
//! calls or a million. The finished [`Report`] is plain data, saved beside
//! the tables (`report.json`), so the HTML page can be drawn again at any
//! time without scoring again. Each rendering has its file: `text` (report.md
//! and the terminal summary), `html` (the pages), `charts`, `examples`, `clips`.

mod charts;
mod clips;
mod examples;
mod html;
mod text;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

pub use clips::{clip_file_name, cut_clips, Moment};
pub use examples::{select_examples, Example, ExampleFilter};
pub use html::{
    examples_page, page_of_folder, review_page, ExampleRow, ExamplesPage, ReviewCall, ReviewEvidence, ReviewLine,
    ReviewPage, ReviewRule,
};

use crate::i18n::Messages;
use crate::lexicon::{Hit, Role};
use crate::msg;
use crate::pack::Titles;
use crate::review::AgreementBook;
use crate::rules::{Attribution, CallResult, CallRisk, Evaluation, Scorecard, ScorecardBook, SpeakersFrom};
use crate::transcript::Speaker;

/// How many of the worst calls, bad moments and unprocessed calls the report lists.
pub const WORST_CALLS_LISTED: usize = 20;
pub const WORST_MOMENTS_LISTED: usize = 50;
pub const FAILURES_LISTED: usize = 20;
pub const OPEN_MOMENTS_LISTED: usize = 50;
pub const RISK_CALLS_LISTED: usize = 50;
/// Worst calls listed under each agent.
pub const WORST_CALLS_PER_AGENT: usize = 3;
/// Pieces of evidence kept per listed call.
pub const EVIDENCE_PER_CALL: usize = 8;

/// A call that did not pass, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedCall {
    pub score: f64,
    pub call_id: String,
    pub agent_id: String,
    /// `YYYY-MM-DD`, when the call's start is known.
    pub call_date: Option<String>,
    pub failed_rules: Vec<String>,
    pub red_lines: Vec<String>,
    /// When the greeting began, for a late greeting.
    pub greeting_at_s: Option<f64>,
    /// The hits behind the failed rules, in call order (at most [`EVIDENCE_PER_CALL`]).
    pub evidence: Vec<Hit>,
    /// On a mono call, how its speakers were told apart: the verdict rests on it.
    #[serde(default)]
    pub speakers: Option<Attribution>,
}

/// A forbidden or nine-don't moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadMoment {
    pub call_score: f64,
    pub call_id: String,
    pub agent_id: String,
    pub hit: Hit,
}

/// A moment the evidence leaves open: a phrase the audio neither confirmed
/// nor ruled out, behind a rule the call's verdict leaves uncertain. Someone
/// should listen to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenMoment {
    pub call_id: String,
    pub agent_id: String,
    /// The rules it leaves open (ids as in `uncertain_rules`).
    pub rules: Vec<String>,
    /// The uncertain hit: what was heard, where, and the audio check's score.
    pub hit: Hit,
}

/// A call whose customer may complain, as managers see it listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskCall {
    pub call_id: String,
    pub agent_id: String,
    pub call_date: Option<String>,
    pub score: f64,
    pub risk: CallRisk,
    /// The customer's risk phrases, in call order (at most [`EVIDENCE_PER_CALL`]).
    pub words: Vec<Hit>,
}

impl RiskCall {
    /// How strong the signal is, for the list's order: the customer's words
    /// and voice both, then words, then voice alone.
    fn weight(&self) -> u32 {
        self.risk.phrases.min(100) * 2 + u32::from(self.risk.raised_voice.is_some()) * 3
    }
}

/// A call whose agent voice is not the one enrolled for its agent id
/// (`rules::voiceprints`): a shared login, a mislabelled recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceMismatch {
    pub call_id: String,
    pub agent_id: String,
    pub call_date: Option<String>,
    /// How alike the call's (nearer) voice and the agent's print are.
    pub similarity: f64,
    /// The calls the agent's print rests on.
    pub enrolled_calls: u32,
}

fn least_alike_first(a: &VoiceMismatch, b: &VoiceMismatch) -> std::cmp::Ordering {
    a.similarity
        .total_cmp(&b.similarity)
        .then_with(|| a.call_id.cmp(&b.call_id))
}

/// A call that could not be processed, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unprocessed {
    pub call_id: String,
    pub reason: String,
}

/// The first items of a list, and how long the whole list was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: usize,
}

impl<T> Listed<T> {
    fn empty() -> Self {
        Self {
            items: Vec::new(),
            total: 0,
        }
    }

    /// Items not shown.
    pub fn rest(&self) -> usize {
        self.total - self.items.len()
    }
}

/// One day of the folder, over every agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub calls: u32,
    pub passed: u32,
    pub mean_score: f64,
}

/// How many calls failed one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    pub calls: u32,
}

/// One agent's worst calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCalls {
    pub agent_id: String,
    pub calls: Listed<FailedCall>,
}

/// The night's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub calls: usize,
    pub scored: usize,
    pub passed: usize,
    pub red_line_calls: usize,
    pub unprocessed: usize,
    pub audio_h: f64,
    /// Scored mono calls whose speakers were told apart by voice.
    #[serde(default)]
    pub mono_by_voice: usize,
    /// Scored mono calls whose speech stayed `unknown` (`unknown_speaker` decides).
    #[serde(default)]
    pub mono_not_told: usize,
    /// Scored calls with a rule the evidence left open (`uncertain_rules`).
    #[serde(default)]
    pub uncertain_calls: usize,
    /// Scored calls whose customer may complain (`rules::risk`).
    #[serde(default)]
    pub at_risk_calls: usize,
    /// Scored calls QA staff reviewed: their verdicts are the reviewers'.
    #[serde(default)]
    pub reviewed_calls: usize,
}

impl Totals {
    pub fn did_not_pass(&self) -> usize {
        self.scored - self.passed
    }
}

/// The finished report: what every rendering of it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub totals: Totals,
    pub pass_mark: f64,
    /// Every agent over the whole folder, by agent id.
    pub agents: Vec<Scorecard>,
    /// Days with dated calls, in order.
    pub days: Vec<DayFigures>,
    /// Rules failed, most often first.
    pub rules_failed: Vec<RuleCount>,
    pub worst_calls: Listed<FailedCall>,
    /// Agents with calls that did not pass, lowest mean score first.
    pub worst_calls_by_agent: Vec<AgentCalls>,
    pub moments: Listed<BadMoment>,
    /// Moments to listen to, behind the open verdicts, in call order.
    #[serde(default = "Listed::empty")]
    pub open_moments: Listed<OpenMoment>,
    /// Calls whose customer may complain, strongest signal first.
    #[serde(default = "Listed::empty")]
    pub at_risk: Listed<RiskCall>,
    /// Calls in a voice other than their agent's, least alike first.
    pub voice_mismatches: Listed<VoiceMismatch>,
    pub unprocessed: Listed<Unprocessed>,
    /// Customers' personal data was left in (`--show-pii`): the pages say so at the top.
    #[serde(default)]
    pub personal_data_shown: bool,
    /// The machine against QA staff's reviews, rule by rule (empty without reviews).
    #[serde(default)]
    pub calibration: AgreementBook,
    /// The pack's names for rules and categories (ids where it gives none).
    #[serde(default)]
    pub titles: Titles,
    /// The scored calls' time that was nobody's words, summed by kind.
    #[serde(default)]
    pub non_talk: NonTalkTotals,
    /// The recorded prompts the calls played, most heard first.
    #[serde(default)]
    pub prompts: Vec<HeardPrompt>,
}

/// Seconds of the scored calls that were nobody's words, by kind (summed
/// from each call's `rules::sources::NonTalk`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NonTalkTotals {
    /// Calls with any system audio, music or tone.
    pub calls: usize,
    pub ivr_s: f64,
    pub ringing_s: f64,
    pub hold_music_s: f64,
    pub announcement_s: f64,
    pub silence_s: f64,
}

impl NonTalkTotals {
    fn add(&mut self, n: &crate::rules::NonTalk) {
        let sounded = n.ivr_s + n.ringing_s + n.hold_music_s + n.announcement_s > 0.0;
        self.calls += usize::from(sounded);
        self.ivr_s += n.ivr_s;
        self.ringing_s += n.ringing_s;
        self.hold_music_s += n.hold_music_s;
        self.announcement_s += n.announcement_s;
        self.silence_s += n.silence_s;
    }
}

/// A recorded prompt the night's calls played.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeardPrompt {
    /// Its id (as in calls.parquet's `prompts` and the transcripts).
    pub id: String,
    /// What whisper heard in it (empty until a call with it was transcribed).
    pub text: String,
    /// Scored calls it played in.
    pub calls: u32,
    /// Its length, seconds.
    pub duration_s: f64,
}

/// The `n` smallest items by `key`, kept in bounded memory.
#[derive(Debug)]
struct Lowest<T> {
    n: usize,
    seen: usize,
    items: Vec<T>,
    /// Once the list has been cut: `items[n - 1]` is the largest kept, and
    /// nothing that is not smaller can ever make the list.
    cut: bool,
}

impl<T> Lowest<T> {
    fn new(n: usize) -> Self {
        Self {
            n,
            seen: 0,
            items: Vec::new(),
            cut: false,
        }
    }

    /// Whether `item` could still make the list (cheap: one comparison).
    fn wants(&self, item: &T, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> bool {
        !self.cut || self.n == 0 || order(item, &self.items[self.n - 1]).is_lt()
    }

    fn push(&mut self, item: T, order: impl Fn(&T, &T) -> std::cmp::Ordering + Copy) {
        self.seen += 1;
        if !self.wants(&item, order) {
            return;
        }
        self.items.push(item);
        if self.items.len() >= 2 * self.n.max(1) {
            self.items.sort_by(order);
            self.items.truncate(self.n);
            self.cut = self.n > 0;
        }
    }

    /// Counts an item that [`Lowest::wants`] turned away.
    fn pass(&mut self) {
        self.seen += 1;
    }

    fn into_listed(mut self, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> Listed<T> {
        self.items.sort_by(order);
        self.items.truncate(self.n);
        Listed {
            items: self.items,
            total: self.seen,
        }
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

fn strongest_risk_first(a: &RiskCall, b: &RiskCall) -> std::cmp::Ordering {
    b.weight()
        .cmp(&a.weight())
        .then(a.score.total_cmp(&b.score))
        .then_with(|| a.call_id.cmp(&b.call_id))
}

fn in_call_order(a: &OpenMoment, b: &OpenMoment) -> std::cmp::Ordering {
    a.call_id.cmp(&b.call_id).then(a.hit.start_s.total_cmp(&b.hit.start_s))
}

fn worst_moment_first(a: &BadMoment, b: &BadMoment) -> std::cmp::Ordering {
    a.call_score
        .total_cmp(&b.call_score)
        .then_with(|| a.call_id.cmp(&b.call_id))
        .then(a.hit.start_s.total_cmp(&b.hit.start_s))
}

#[derive(Debug, Default)]
struct DayTally {
    calls: u32,
    passed: u32,
    score_sum: f64,
}

/// The report a QA lead reads in the morning, built call by call.
#[derive(Debug)]
pub struct NightReport {
    pass_mark: f64,
    personal_data_shown: bool,
    calls: usize,
    scored: usize,
    passed: usize,
    red_line_calls: usize,
    audio_s: f64,
    mono_by_voice: usize,
    mono_not_told: usize,
    agents: ScorecardBook,
    days: BTreeMap<String, DayTally>,
    rules_failed: HashMap<String, u32>,
    below_pass: Lowest<FailedCall>,
    below_pass_by_agent: HashMap<String, Lowest<FailedCall>>,
    moments: Lowest<BadMoment>,
    uncertain_calls: usize,
    open_moments: Lowest<OpenMoment>,
    at_risk: Lowest<RiskCall>,
    voice_mismatches: Lowest<VoiceMismatch>,
    unprocessed: Vec<Unprocessed>,
    unprocessed_total: usize,
    calibration: AgreementBook,
    titles: Titles,
    non_talk: NonTalkTotals,
    /// Calls per prompt id.
    prompt_calls: BTreeMap<String, u32>,
    /// The folder's prompt library: id → (text, length).
    prompt_library: HashMap<String, (String, f64)>,
}

/// A hit with nothing in it, to compare a moment by its time before copying the real one.
const EMPTY_HIT: Hit = Hit {
    category: String::new(),
    role: Role::Forbidden,
    phrase_id: String::new(),
    phrase: String::new(),
    matched_text: String::new(),
    speaker: Speaker::Agent,
    start_s: 0.0,
    end_s: 0.0,
    kind: crate::lexicon::MatchKind::Exact,
    score: None,
    context: String::new(),
    verdict: crate::lexicon::HitVerdict::NOT_JUDGED,
};

/// Does this hit show why the call failed `rules`? It counted, under one of them.
fn is_evidence(hit: &Hit, failed_rules: &[String]) -> bool {
    hit.verdict.counted
        && hit
            .verdict
            .rule
            .as_ref()
            .is_some_and(|rule| failed_rules.contains(rule))
}

impl NightReport {
    /// An empty report for a rubric with this pass mark.
    pub fn new(pass_mark: f64) -> Self {
        Self {
            pass_mark,
            personal_data_shown: false,
            calls: 0,
            scored: 0,
            passed: 0,
            red_line_calls: 0,
            audio_s: 0.0,
            mono_by_voice: 0,
            mono_not_told: 0,
            agents: ScorecardBook::by_agent(),
            days: BTreeMap::new(),
            rules_failed: HashMap::new(),
            below_pass: Lowest::new(WORST_CALLS_LISTED),
            below_pass_by_agent: HashMap::new(),
            moments: Lowest::new(WORST_MOMENTS_LISTED),
            uncertain_calls: 0,
            open_moments: Lowest::new(OPEN_MOMENTS_LISTED),
            at_risk: Lowest::new(RISK_CALLS_LISTED),
            voice_mismatches: Lowest::new(RISK_CALLS_LISTED),
            unprocessed: Vec::new(),
            unprocessed_total: 0,
            calibration: AgreementBook::default(),
            titles: Titles::default(),
            non_talk: NonTalkTotals::default(),
            prompt_calls: BTreeMap::new(),
            prompt_library: HashMap::new(),
        }
    }

    /// The prompts the folder learned (`prompts/`), as (id, text, length in
    /// seconds), for their text and length in the list of prompts heard.
    pub fn with_prompts(self, library: impl IntoIterator<Item = (String, String, f64)>) -> Self {
        let prompt_library = library
            .into_iter()
            .map(|(id, text, duration_s)| (id, (text, duration_s)))
            .collect();
        Self { prompt_library, ..self }
    }

    pub fn add(&mut self, call: &CallResult, hits: &[Hit]) {
        self.calls += 1;
        self.agents.add(call);
        let evaluation = match &call.evaluation {
            Ok(e) => e,
            Err(reason) => {
                self.unprocessed_total += 1;
                if self.unprocessed.len() < FAILURES_LISTED {
                    self.unprocessed.push(Unprocessed {
                        call_id: call.call_id.clone(),
                        reason: reason.to_string(),
                    });
                }
                return;
            }
        };
        self.scored += 1;
        self.non_talk.add(&evaluation.non_talk);
        for id in &evaluation.non_talk.prompts {
            *self.prompt_calls.entry(id.clone()).or_default() += 1;
        }
        if let Some(review) = &evaluation.review {
            let agent = call.agent_id.as_deref().unwrap_or_default();
            self.calibration.add(&call.call_id, agent, &review.rules);
        }
        self.audio_s += call.duration_s.unwrap_or(0.0);
        self.passed += usize::from(evaluation.passed);
        self.red_line_calls += usize::from(!evaluation.red_lines.is_empty());
        match evaluation.speakers.from {
            SpeakersFrom::Channels => {}
            SpeakersFrom::Voice => self.mono_by_voice += 1,
            SpeakersFrom::None => self.mono_not_told += 1,
        }
        if let Some(day) = call.call_date() {
            // looked up by &str first: a new String only for a new day
            if !self.days.contains_key(day) {
                self.days.insert(day.to_string(), DayTally::default());
            }
            let tally = self.days.get_mut(day).expect("just inserted");
            tally.calls += 1;
            tally.passed += u32::from(evaluation.passed);
            tally.score_sum += evaluation.score;
        }
        for rule in &evaluation.failed_rules {
            match self.rules_failed.get_mut(rule) {
                Some(n) => *n += 1,
                None => {
                    self.rules_failed.insert(rule.clone(), 1);
                }
            }
        }
        let agent_id = call.agent_id.as_deref().unwrap_or_default();
        if !evaluation.passed {
            self.add_failed(call, agent_id, evaluation, hits);
        }
        if !evaluation.uncertain_rules.is_empty() {
            self.uncertain_calls += 1;
            self.add_open_moments(call, agent_id, evaluation, hits);
        }
        if evaluation.risk.at_risk {
            self.add_at_risk(call, agent_id, evaluation, hits);
        }
        if let Some(voice) = evaluation.speakers.voice.as_ref().filter(|v| v.mismatch) {
            let mismatch = VoiceMismatch {
                call_id: call.call_id.clone(),
                agent_id: agent_id.to_string(),
                call_date: call.call_date().map(str::to_string),
                similarity: voice.similarity,
                enrolled_calls: voice.enrolled_calls,
            };
            self.voice_mismatches.push(mismatch, least_alike_first);
        }
        self.add_bad_moments(call, agent_id, evaluation, hits);
    }

    /// A call that did not pass: on the night's list and its agent's, if it
    /// is among the worst (judged before anything is copied).
    fn add_failed(&mut self, call: &CallResult, agent_id: &str, evaluation: &Evaluation, hits: &[Hit]) {
        // most failed calls make no list: judge them before copying anything
        let probe = FailedCall {
            score: evaluation.score,
            call_id: call.call_id.clone(),
            agent_id: String::new(),
            call_date: None,
            failed_rules: Vec::new(),
            red_lines: evaluation.red_lines.iter().take(1).cloned().collect(),
            greeting_at_s: None,
            evidence: Vec::new(),
            speakers: None,
        };
        if !self.below_pass_by_agent.contains_key(agent_id) {
            self.below_pass_by_agent
                .insert(agent_id.to_string(), Lowest::new(WORST_CALLS_PER_AGENT));
        }
        let for_agent = self.below_pass_by_agent.get_mut(agent_id).expect("just inserted");
        let (agent_wants, night_wants) = (
            for_agent.wants(&probe, worst_call_first),
            self.below_pass.wants(&probe, worst_call_first),
        );
        if agent_wants || night_wants {
            let failed = FailedCall {
                agent_id: agent_id.to_string(),
                call_date: call.call_date().map(str::to_string),
                failed_rules: evaluation.failed_rules.clone(),
                red_lines: evaluation.red_lines.clone(),
                greeting_at_s: evaluation.greeting_at_s,
                evidence: hits
                    .iter()
                    .filter(|h| is_evidence(h, &evaluation.failed_rules))
                    .take(EVIDENCE_PER_CALL)
                    .cloned()
                    .collect(),
                speakers: (evaluation.speakers.from != SpeakersFrom::Channels).then(|| evaluation.speakers.clone()),
                ..probe
            };
            if agent_wants && night_wants {
                for_agent.push(failed.clone(), worst_call_first);
                self.below_pass.push(failed, worst_call_first);
            } else if agent_wants {
                for_agent.push(failed, worst_call_first);
                self.below_pass.pass();
            } else {
                for_agent.pass();
                self.below_pass.push(failed, worst_call_first);
            }
        } else {
            for_agent.pass();
            self.below_pass.pass();
        }
    }

    /// The moments behind a call's open verdicts, for someone to listen to.
    fn add_open_moments(&mut self, call: &CallResult, agent_id: &str, evaluation: &Evaluation, hits: &[Hit]) {
        let open = |h: &&Hit| h.verdict.not_counted == Some(crate::lexicon::NotCounted::Uncertain);
        for hit in hits.iter().filter(open) {
            let rules: Vec<String> = evaluation
                .uncertain_rules
                .iter()
                .filter(|rule| hit.verdict.rule.as_ref() == Some(rule))
                .cloned()
                .collect();
            if rules.is_empty() {
                continue;
            }
            self.open_moments.push(
                OpenMoment {
                    call_id: call.call_id.clone(),
                    agent_id: agent_id.to_string(),
                    rules,
                    hit: hit.clone(),
                },
                in_call_order,
            );
        }
    }

    /// A call whose customer may complain.
    fn add_at_risk(&mut self, call: &CallResult, agent_id: &str, evaluation: &Evaluation, hits: &[Hit]) {
        let probe = RiskCall {
            call_id: call.call_id.clone(),
            agent_id: agent_id.to_string(),
            call_date: call.call_date().map(str::to_string),
            score: evaluation.score,
            risk: evaluation.risk.clone(),
            words: Vec::new(),
        };
        if self.at_risk.wants(&probe, strongest_risk_first) {
            // the customer's words, as the rules heard them (not an agent quoting 投诉)
            let customers = |h: &&Hit| {
                h.role == Role::Risk
                    && (h.verdict.counted || h.verdict.not_counted == Some(crate::lexicon::NotCounted::RiskSignal))
            };
            let words = hits.iter().filter(customers).take(EVIDENCE_PER_CALL).cloned().collect();
            self.at_risk.push(RiskCall { words, ..probe }, strongest_risk_first);
        } else {
            self.at_risk.pass();
        }
    }

    /// The forbidden and nine-don't phrases that counted, for trainers.
    fn add_bad_moments(&mut self, call: &CallResult, agent_id: &str, evaluation: &Evaluation, hits: &[Hit]) {
        for hit in hits.iter().filter(|h| h.verdict.counted) {
            if matches!(
                hit.verdict.rule.as_deref(),
                Some("forbidden_phrase" | "nine_dont_phrase")
            ) {
                let probe = |hit: Hit| BadMoment {
                    call_score: evaluation.score,
                    call_id: call.call_id.clone(),
                    agent_id: agent_id.to_string(),
                    hit,
                };
                let cheap = BadMoment {
                    call_score: evaluation.score,
                    call_id: call.call_id.clone(),
                    agent_id: String::new(),
                    hit: Hit {
                        start_s: hit.start_s,
                        ..EMPTY_HIT
                    },
                };
                if self.moments.wants(&cheap, worst_moment_first) {
                    self.moments.push(probe(hit.clone()), worst_moment_first);
                } else {
                    self.moments.pass();
                }
            }
        }
    }

    /// The contexts it is given keep customers' personal data (`--show-pii`).
    pub fn showing_personal_data(self, shown: bool) -> Self {
        Self {
            personal_data_shown: shown,
            ..self
        }
    }

    /// The pack's names for its rules and categories, for the pages.
    pub fn with_titles(self, titles: Titles) -> Self {
        Self { titles, ..self }
    }

    pub fn finish(self) -> Report {
        let agents = self.agents.finish();
        let mean_of: HashMap<&str, f64> = agents
            .iter()
            .map(|a| (a.agent_id.as_str(), a.mean_score.unwrap_or(f64::INFINITY)))
            .collect();
        let mut worst_calls_by_agent: Vec<AgentCalls> = self
            .below_pass_by_agent
            .into_iter()
            .map(|(agent_id, calls)| AgentCalls {
                agent_id,
                calls: calls.into_listed(worst_call_first),
            })
            .collect();
        worst_calls_by_agent.sort_by(|a, b| {
            let mean = |id: &str| mean_of.get(id).copied().unwrap_or(f64::INFINITY);
            mean(&a.agent_id)
                .total_cmp(&mean(&b.agent_id))
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        });
        let mut rules_failed: Vec<RuleCount> = self
            .rules_failed
            .into_iter()
            .map(|(rule, calls)| RuleCount { rule, calls })
            .collect();
        rules_failed.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.rule.cmp(&b.rule)));
        Report {
            totals: Totals {
                calls: self.calls,
                scored: self.scored,
                passed: self.passed,
                red_line_calls: self.red_line_calls,
                unprocessed: self.unprocessed_total,
                audio_h: self.audio_s / 3600.0,
                mono_by_voice: self.mono_by_voice,
                mono_not_told: self.mono_not_told,
                uncertain_calls: self.uncertain_calls,
                at_risk_calls: self.at_risk.seen,
                reviewed_calls: self.calibration.reviewed_calls as usize,
            },
            pass_mark: self.pass_mark,
            personal_data_shown: self.personal_data_shown,
            agents,
            days: self
                .days
                .into_iter()
                .map(|(day, t)| DayFigures {
                    day,
                    calls: t.calls,
                    passed: t.passed,
                    mean_score: t.score_sum / f64::from(t.calls.max(1)),
                })
                .collect(),
            rules_failed,
            worst_calls: self.below_pass.into_listed(worst_call_first),
            worst_calls_by_agent,
            moments: self.moments.into_listed(worst_moment_first),
            open_moments: self.open_moments.into_listed(in_call_order),
            at_risk: self.at_risk.into_listed(strongest_risk_first),
            voice_mismatches: self.voice_mismatches.into_listed(least_alike_first),
            unprocessed: Listed {
                items: self.unprocessed,
                total: self.unprocessed_total,
            },
            calibration: self.calibration.finish(crate::rules::RULE_IDS),
            titles: self.titles,
            non_talk: self.non_talk,
            prompts: heard_prompts(self.prompt_calls, &self.prompt_library),
        }
    }
}

/// The prompts heard, most heard first, with their text from the library.
fn heard_prompts(calls: BTreeMap<String, u32>, library: &HashMap<String, (String, f64)>) -> Vec<HeardPrompt> {
    let mut heard: Vec<HeardPrompt> = calls
        .into_iter()
        .map(|(id, calls)| {
            let (text, duration_s) = library.get(&id).cloned().unwrap_or_default();
            HeardPrompt {
                id,
                text,
                calls,
                duration_s,
            }
        })
        .collect();
    heard.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.id.cmp(&b.id)));
    heard
}

impl Report {
    /// Agents with a mean score, lowest first.
    pub fn lowest_agents(&self) -> Vec<&Scorecard> {
        let mut agents: Vec<&Scorecard> = self.agents.iter().filter(|a| a.mean_score.is_some()).collect();
        agents.sort_by(|a, b| {
            a.mean_score
                .unwrap_or_default()
                .total_cmp(&b.mean_score.unwrap_or_default())
                .then_with(|| a.agent_id.cmp(&b.agent_id))
        });
        agents
    }

    /// One sentence of totals.
    pub fn headline(&self, m: &Messages) -> String {
        let t = &self.totals;
        let head = msg!(
            m,
            "report-headline",
            calls = t.calls,
            audio = m.hours(t.audio_h),
            scored = t.scored,
            passed = t.passed,
            failed = t.did_not_pass(),
            red = t.red_line_calls,
            unprocessed = t.unprocessed
        );
        match t.uncertain_calls {
            0 => head,
            n => format!("{head}{}", msg!(m, "report-headline-open", calls = n)),
        }
    }

    /// A rule as a reader sees it: its name in the reader's language.
    pub fn rule_name(&self, m: &Messages, id: &str) -> String {
        self.titles.rule_in(m, id)
    }

    /// Rules by name, in a list.
    pub(crate) fn rule_names(&self, m: &Messages, ids: &[String]) -> String {
        let names: Vec<String> = ids.iter().map(|id| self.rule_name(m, id)).collect();
        m.list(&names)
    }

    /// One line for an open moment: what was heard, what the audio check
    /// made of the phrase, which rules it leaves open.
    pub fn open_moment_line(&self, m: &Messages, open: &OpenMoment) -> String {
        let score = match open.hit.score {
            Some(s) => msg!(m, "score-per-char", score = format!("{s:+.2}")),
            None => m.text("score-none"),
        };
        msg!(
            m,
            "report-open-moment",
            call = open.call_id.as_str(),
            agent = open.agent_id.as_str(),
            at = mm_ss_span(open.hit.start_s, open.hit.end_s),
            heard = open.hit.matched_text.as_str(),
            phrase = open.hit.phrase.as_str(),
            score = score,
            rules = self.rule_names(m, &open.rules)
        )
    }

    /// A verdict a reviewer overturned, in a line.
    pub fn dispute_line(&self, m: &Messages, d: &crate::review::Dispute) -> String {
        let line = msg!(
            m,
            "report-dispute",
            call = d.call_id.as_str(),
            agent = d.agent_id.as_str(),
            rule = self.rule_name(m, &d.rule),
            machine = verdict_words(m, d.machine),
            reviewer = d.reviewer.as_str(),
            human = verdict_words(m, Some(d.human))
        );
        if d.note.is_empty() {
            line
        } else {
            msg!(m, "report-dispute-note", line = line, note = d.note.as_str())
        }
    }

    /// Why a call is at risk, in a line: the customer's words and voice.
    pub fn risk_line(&self, m: &Messages, call: &RiskCall) -> String {
        let mut why = Vec::new();
        if let Some(first) = call.words.first() {
            let said: Vec<String> = call.words.iter().map(|h| format!("「{}」", h.matched_text)).collect();
            why.push(msg!(
                m,
                "report-risk-words",
                said = said.join(" "),
                at = mm_ss(first.start_s),
                context = first.context.as_str()
            ));
        }
        if let Some(v) = &call.risk.raised_voice {
            why.push(raised_voice(m, v));
        }
        let why = why.join(&m.text("fmt-clause-separator"));
        let (call_id, agent, score) = (
            call.call_id.as_str(),
            call.agent_id.as_str(),
            format!("{:.0}", call.score),
        );
        match call.call_date.as_deref() {
            Some(day) => msg!(
                m,
                "report-risk-call-day",
                call = call_id,
                agent = agent,
                day = m.date(day),
                score = score,
                why = why
            ),
            None => msg!(
                m,
                "report-risk-call",
                call = call_id,
                agent = agent,
                score = score,
                why = why
            ),
        }
    }

    /// On a folder with mono recordings, how many had their speakers told
    /// apart: their verdicts rest on it.
    pub fn mono_line(&self, m: &Messages) -> Option<String> {
        let (by_voice, not_told) = (self.totals.mono_by_voice, self.totals.mono_not_told);
        match (by_voice + not_told, not_told) {
            (0, _) => None,
            (calls, 0) => Some(msg!(m, "report-mono-all", calls = calls)),
            (calls, _) => Some(msg!(
                m,
                "report-mono-some",
                calls = calls,
                by_voice = by_voice,
                not_told = not_told
            )),
        }
    }
}

/// How a mono call's speakers were told apart, or why not: its verdict rests
/// on it. Nothing on a stereo call.
pub fn speakers_note(m: &Messages, speakers: &Attribution) -> Option<String> {
    match speakers.from {
        SpeakersFrom::Channels => None,
        SpeakersFrom::Voice => Some(msg!(
            m,
            "speakers-by-voice",
            sure = format!("{:.0}", speakers.confidence.unwrap_or(0.0) * 100.0)
        )),
        SpeakersFrom::None => Some(match &speakers.note {
            Some(why) => msg!(m, "speakers-not-told-why", why = why.as_str()),
            None => m.text("speakers-not-told"),
        }),
    }
}

/// A raised voice, in words.
pub(crate) fn raised_voice(m: &Messages, v: &crate::rules::RaisedVoice) -> String {
    msg!(
        m,
        "risk-raised-voice",
        at = mm_ss(v.at_s),
        louder = format!("{:+.0}", v.louder_db),
        higher = format!("{:+.2}", v.higher_octaves)
    )
}

/// A verdict on a rule in words (none: left open).
fn verdict_words(m: &Messages, verdict: Option<crate::review::RuleVerdict>) -> String {
    use crate::review::RuleVerdict;
    m.text(match verdict {
        Some(RuleVerdict::Fail) => "verdict-fail",
        Some(RuleVerdict::Pass) => "verdict-pass",
        None => "verdict-open",
    })
}

/// What a hit holds, for people: the words heard, or, for a timing event
/// (its `matched_text` is what was measured, kept in the tables as callqa
/// wrote it), the measure in the reader's language.
pub fn said_of(m: &Messages, category: &str, phrase_id: &str, matched_text: &str, start_s: f64, end_s: f64) -> String {
    if category != crate::rules::TIMING_CATEGORY {
        return matched_text.to_string();
    }
    let seconds = |s: f64| m.seconds(s.max(0.0));
    match crate::rules::timing_rule_of(phrase_id) {
        Some("first_response_late") => msg!(m, "timing-first-response", seconds = seconds(end_s)),
        Some("dead_air") => msg!(m, "timing-dead-air", seconds = seconds(end_s - start_s)),
        Some("hold_checkin") => msg!(m, "timing-hold-checkin", seconds = seconds(end_s - start_s)),
        // "312 characters a minute": the figure leads
        Some("speech_rate") => match matched_text.split_whitespace().next().map(str::parse::<f64>) {
            Some(Ok(rate)) => msg!(m, "timing-speech-rate", rate = format!("{rate:.0}")),
            _ => matched_text.to_string(),
        },
        // talk-over: the agent's words
        _ => matched_text.to_string(),
    }
}

/// How a hit was found, for people (beside what was heard): exact, by
/// sound, or by the audio.
pub fn how_found(m: &Messages, hit: &Hit) -> String {
    match hit.kind {
        // what was heard is shown beside it
        crate::lexicon::MatchKind::Verified => msg!(m, "found-verified-short", phrase = hit.phrase.as_str()),
        crate::lexicon::MatchKind::Tolerant => msg!(m, "found-tolerant", phrase = hit.phrase.as_str()),
        crate::lexicon::MatchKind::Exact => m.text("found-exact"),
        crate::lexicon::MatchKind::Uncertain => msg!(m, "found-uncertain", phrase = hit.phrase.as_str()),
    }
}

/// Why a hit did not count, in words.
pub fn why_not_counted(m: &Messages, reason: crate::lexicon::NotCounted) -> String {
    m.lookup(&format!("not-counted-{}", reason.as_str()))
        .unwrap_or_else(|| reason.as_str().to_string())
}

/// A share as people read it (`87%`), or a dash when there is none.
pub(crate) fn percent(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0))
}

/// `1:05` (minutes:seconds), as people read call times.
pub fn mm_ss(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// `1:05–1:07`.
fn mm_ss_span(start_s: f64, end_s: f64) -> String {
    format!("{}–{}", mm_ss(start_s), mm_ss(end_s))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::rules::Evaluation;

    pub(crate) fn en() -> &'static Messages {
        Messages::of(Lang::En)
    }

    pub(crate) fn call(id: &str, agent: &str, score: f64, red: bool) -> CallResult {
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
                uncertain_rules: vec![],
                timing: Default::default(),
                non_talk: Default::default(),
                segment_speakers: String::new(),
                redacted_spans: None,
                speakers: Default::default(),
                risk: Default::default(),
                deductions: Default::default(),
                bonus: 0.0,
                review: None,
            }),
            personal_data_s: None,
        }
    }

    pub(crate) fn hit(at: f64) -> Hit {
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
            score: None,
            context: "嗯，我不大清楚".into(),
            verdict: crate::lexicon::HitVerdict::counted("forbidden_phrase"),
        }
    }

    /// A report of `calls` calls over 30 agents and 3 days.
    pub(crate) fn big_report(calls: usize) -> Report {
        let mut report = NightReport::new(80.0);
        for i in 0..calls {
            let id = format!("c{i:05}");
            let score = 40.0 + (i % 50) as f64;
            let red = i % 7 == 0;
            let mut call = call(&id, &format!("A{}", i % 30), score, red);
            call.started_at = Some(format!("2026-11-{:02}T09:00:00", 20 + i % 3));
            report.add(&call, &[hit(61.0), hit(125.0)]);
        }
        report.finish()
    }

    #[test]
    fn the_report_stays_short_at_any_size() {
        let report = big_report(5000);
        let text = report.markdown(en());
        assert_eq!(report.totals.calls, 5000);
        assert_eq!(report.agents.len(), 30);
        assert_eq!(report.days.len(), 3);
        assert!(text.lines().count() < 200, "{} lines", text.lines().count());
        let worst: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "## Worst calls")
            .filter(|l| l.starts_with("- "))
            .take(WORST_CALLS_LISTED + 1)
            .collect();
        // red lines first, then by score: c00000 is red and scores 40
        assert!(worst[0].starts_with("- c00000 (agent A0, score 40)"), "{}", worst[0]);
        assert!(worst[0].contains("RED LINE: forbidden phrase"), "{}", worst[0]);
        assert!(text.contains("1:01–1:02"), "times as mm:ss");
        let moments = text.lines().filter(|l| l.contains("said 「")).count();
        assert_eq!(moments, WORST_MOMENTS_LISTED);
        assert!(text.contains(&format!("…and {} more moments.", 10_000 - WORST_MOMENTS_LISTED)));
        // every agent's worst calls, bounded, with the hits that failed them
        assert_eq!(report.worst_calls_by_agent.len(), 30);
        for agent in &report.worst_calls_by_agent {
            assert!(agent.calls.items.len() <= WORST_CALLS_PER_AGENT);
            assert!(agent.calls.total > agent.calls.items.len());
        }
        let red_call = &report.worst_calls.items[0];
        assert_eq!(red_call.evidence.len(), 2, "both forbidden hits are its evidence");
        assert_eq!(report.rules_failed[0].rule, "forbidden_phrase");
    }

    /// Ids and transcripts are data: a `|` in an agent id or a clause, or
    /// markup, must not break report.md's tables and lists (issue 21).
    #[test]
    fn markdown_shows_call_text_as_text() {
        let mut report = NightReport::new(80.0);
        let mut rude = hit(30.0);
        rude.matched_text = "我不大清楚".into();
        rude.context = "a|b *x* [link](y) <b>\n我不大清楚".into();
        report.add(&call("c|1", "A|1", 40.0, true), &[rude]);
        let md = report.finish().markdown(en());
        let agents: Vec<&str> = md.lines().filter(|l| l.starts_with("| A")).collect();
        assert_eq!(agents.len(), 1, "{md}");
        // the agents table keeps its 11 cells: the id's bar is escaped
        assert_eq!(agents[0].matches(" | ").count(), 10, "{}", agents[0]);
        assert!(agents[0].starts_with("| A\\|1 |"), "{}", agents[0]);
        let moment = md.lines().find(|l| l.contains("said 「我不大清楚」")).expect(&md);
        assert!(moment.starts_with("- c\\|1 (agent A\\|1)"), "{moment}");
        assert!(
            moment.contains("a\\|b \\*x\\* \\[link\\](y) \\<b\\> 我不大清楚"),
            "{moment}"
        );
    }

    #[test]
    fn evidence_is_the_hits_behind_the_failed_rules() {
        let mut report = NightReport::new(80.0);
        let mut bad = call("late", "A1", 70.0, false);
        if let Ok(e) = &mut bad.evaluation {
            e.failed_rules = vec!["greeting_late".into()];
            e.greeting_at_s = Some(9.0);
        }
        let mut greeting = hit(9.0);
        greeting.role = Role::Greeting;
        greeting.category = "greeting".into();
        greeting.verdict = crate::lexicon::HitVerdict::counted("greeting_late");
        let mut customer_rude = hit(20.0);
        customer_rude.speaker = Speaker::Customer;
        customer_rude.verdict = crate::lexicon::HitVerdict::not_counted(
            Some("forbidden_phrase"),
            crate::lexicon::NotCounted::CustomersWords,
        );
        report.add(&bad, &[greeting.clone(), hit(30.0), customer_rude]);
        let report = report.finish();
        let listed = &report.worst_calls.items[0];
        // the forbidden hit is not why this call failed; the customer's never is
        assert_eq!(listed.evidence, vec![greeting]);
        assert_eq!(report.summary(en()).lines().count(), 5, "{}", report.summary(en()));
    }

    #[test]
    fn mono_verdicts_say_how_their_speakers_were_told() {
        use crate::rules::{Attribution, SpeakersFrom};
        let mono = |id: &str, from: SpeakersFrom, confidence: Option<f64>, note: Option<&str>| {
            let mut c = call(id, "A1", 60.0, false);
            if let Ok(e) = &mut c.evaluation {
                e.failed_rules = vec!["closing_missing".into()];
                e.speakers = Attribution {
                    from,
                    confidence,
                    unsure_segments: 0,
                    note: note.map(str::to_string),
                    voice: None,
                };
            }
            c
        };
        let mut report = NightReport::new(80.0);
        report.add(&mono("by-voice", SpeakersFrom::Voice, Some(0.814), None), &[]);
        let unsure = "attribution 0.55 under the minimum 0.7";
        report.add(&mono("not-told", SpeakersFrom::None, Some(0.55), Some(unsure)), &[]);
        report.add(&call("stereo", "A1", 60.0, false), &[]);
        let report = report.finish();
        assert_eq!((report.totals.mono_by_voice, report.totals.mono_not_told), (1, 1));
        let note_of = |id: &str| {
            let call = report.worst_calls.items.iter().find(|c| c.call_id == id).unwrap();
            call.speakers.as_ref().and_then(|s| speakers_note(en(), s))
        };
        assert_eq!(
            note_of("by-voice").as_deref(),
            Some("mono: speakers told apart by voice, 81% sure")
        );
        assert_eq!(
            note_of("not-told"),
            Some(format!("mono: speakers not told apart ({unsure})"))
        );
        assert_eq!(note_of("stereo"), None);
        let md = report.markdown(en());
        assert!(
            md.contains("2 mono calls (one mixed channel): speakers told apart by voice in 1; in 1 not"),
            "{md}"
        );
        assert!(
            md.contains(
                "- by-voice (agent A1, score 60): closing missing (mono: speakers told apart by voice, 81% sure)"
            ),
            "{md}"
        );
        assert!(report.summary(en()).contains("2 mono calls"));
        let html = report.html(en(), "night", "now").unwrap();
        assert!(
            html.contains("speakers told apart by voice in 1"),
            "the page says it too"
        );
        assert!(html.contains("mono: speakers told apart by voice, 81% sure"));
        let mut one = NightReport::new(80.0);
        one.add(&mono("by-voice", SpeakersFrom::Voice, Some(0.9), None), &[]);
        assert_eq!(
            one.finish().mono_line(en()).as_deref(),
            Some("1 mono call (one mixed channel): speakers told apart by voice in all.")
        );
        // a folder without mono calls says nothing of them
        assert!(big_report(3).mono_line(en()).is_none());
    }

    /// A timing event holds what was measured, as callqa wrote it in the
    /// tables; people read it in their language, on the page too.
    #[test]
    fn a_timing_event_reads_in_the_readers_language() {
        let zh = Messages::of(Lang::Zh);
        let said = |rule: &str, text: &str| {
            said_of(
                zh,
                crate::rules::TIMING_CATEGORY,
                &format!("acoustic.{rule}"),
                text,
                10.0,
                14.25,
            )
        };
        assert_eq!(said("dead_air", "4.2 s of silence"), "静音 4.2 秒");
        assert_eq!(said("first_response_late", "14.2 s"), "14.2 秒后才开口");
        assert_eq!(said("speech_rate", "312 characters a minute"), "每分钟 312 字");
        assert_eq!(said("talk_over", "我跟您说"), "我跟您说");
        assert_eq!(said_of(zh, "forbidden", "f.1", "我不大清楚", 1.0, 2.0), "我不大清楚");

        let mut report = NightReport::new(80.0);
        let mut late = call("slow", "A1", 60.0, false);
        if let Ok(e) = &mut late.evaluation {
            e.failed_rules = vec!["dead_air".into()];
        }
        let mut silence = hit(10.0);
        silence.category = crate::rules::TIMING_CATEGORY.into();
        silence.role = Role::Acoustic;
        silence.phrase_id = "acoustic.dead_air".into();
        silence.matched_text = "4.2 s of silence".into();
        silence.end_s = 14.2;
        silence.verdict = crate::lexicon::HitVerdict::counted("dead_air");
        report.add(&late, &[silence]);
        let page = report.finish().html(zh, "night", "now").unwrap();
        assert!(page.contains("「静音 4.2 秒」"), "the evidence in Chinese");
        assert!(!page.contains("of silence"));
    }

    #[test]
    fn the_report_survives_its_json() {
        let report = big_report(300);
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}

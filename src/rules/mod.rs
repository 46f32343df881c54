//! Rules: a call's transcript and hits → what the agent did right and wrong → a score.
//!
//! - Only words the category listens to count (by default the agent's): the
//!   customer's words never count against the agent. On mono calls speech is
//!   `unknown`; the pack's `unknown_speaker` says whether it counts as the agent's.
//! - Greeting: in the agent's first utterance, starting within
//!   `greeting_within_s` of the recording's start. Its start is recorded
//!   (`greeting_at_s`) whatever the verdict, so the real latency can be studied.
//! - Closing: starting within `closing_within_s` of the end of the last speech.
//! - Holds: a mid-call gap of at least `hold_min_silence_s` in the agent's
//!   speech, with the customer (nearly) silent too or the center's hold
//!   music and announcements filling most of it. Each hold needs a
//!   hold_request shortly before and a hold_return shortly after.
//! - Forbidden and nine-don't phrases count per occurrence; nine-do phrases too.
//! - Score: 100 minus the rubric's deductions (capped per rule) plus a small
//!   capped bonus for nine-do phrases, clamped to 0..=100. A call passes at the
//!   pass mark, unless it broke one of the rubric's red lines, which fail it
//!   outright whatever its score.

mod review;
mod risk;
mod rule;
mod scorecard;
pub mod settings;
mod sources;
mod speakers;
mod timing;
pub mod voiceprints;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use review::score_of;
pub use review::{apply_reviews, HumanVerdict, ReviewerVerdict, RuleReview, RuleVerdict};
pub use risk::{CallRisk, RaisedVoice};
pub use rule::{Evidence, Rule, RULE_IDS};
pub use scorecard::{scorecards, Scorecard, ScorecardBook};
pub use sources::NonTalk;
pub use speakers::{Attribution, SpeakersFrom};
pub use timing::{rule_of as timing_rule_of, Timing, CATEGORY as TIMING_CATEGORY};

use serde::{Deserialize, Serialize};

use crate::lexicon::{Category, CategorySpeaker, Hit, HitVerdict, Lexicon, Matcher, NotCounted, Role};
use crate::transcript::{Segment, Speaker, Transcript};
use settings::UnknownSpeaker;

/// Customer speech inside an agent gap up to this long still leaves it a hold
/// ("嗯", "好的" while waiting).
const HOLD_MAX_CUSTOMER_SPEECH_S: f64 = 1.5;
/// Slack for timestamps around a hold's edges.
const HOLD_EDGE_SLACK_S: f64 = 1.0;

/// What the rules judge a call by: the pack's rule settings, and its
/// categories (whose words each one hears). The pack loader hands it over
/// (`pack::Pack::rule_book`).
#[derive(Debug, Clone, Copy)]
pub struct RuleBook<'a> {
    /// The categories and phrases.
    pub lexicon: &'a Lexicon,
    /// Where required phrases belong and what a hold is (`[rules]`).
    pub rules: &'a settings::RuleSettings,
    /// What a call's timing must meet.
    pub timing: &'a settings::TimingSettings,
    /// Telling agent from customer on mono calls.
    pub speakers: &'a settings::SpeakerSettings,
    /// What each failed rule costs.
    pub rubric: &'a settings::Rubric,
    /// When a call is at risk of a complaint.
    pub risk: &'a settings::RiskSettings,
}

impl RuleBook<'_> {
    /// The category of that id, if the pack has it.
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.lexicon.category(name)
    }
}

/// The verdict on one transcribed call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Whether the greeting rule held (found, in time).
    pub greeting_ok: bool,
    /// When the greeting began, in time or not: seconds from the agent's
    /// pick-up (the recording's start when it starts with the call).
    pub greeting_at_s: Option<f64>,
    /// Whether a closing was found near the end.
    pub closing_ok: bool,
    /// Holds found (stretches of silence mid-call).
    pub holds: u32,
    /// Holds with their request and return.
    pub holds_ok: u32,
    /// Nine-do phrases the agent said (counted ones).
    pub nine_do_count: u32,
    /// Nine-don't phrases the agent said (counted ones).
    pub nine_dont_count: u32,
    /// Forbidden phrases the agent said (counted ones).
    pub forbidden_count: u32,
    /// 100 less the rubric's deductions, plus the nine-do bonus.
    pub score: f64,
    /// At least the pass mark and no red line failed.
    pub passed: bool,
    /// Rule ids ([`Rule`]): greeting_missing, greeting_late,
    /// closing_missing, hold_etiquette, forbidden_phrase, nine_dont_phrase.
    pub failed_rules: Vec<String>,
    /// The failed rules that are red lines: any one fails the call.
    #[serde(default)]
    pub red_lines: Vec<String>,
    /// Rules the evidence leaves open (ids as in `failed_rules`): a required
    /// phrase neither found nor clearly absent (the audio check of what the
    /// agent said there is grey), or a forbidden phrase only nearly heard.
    /// Such a rule neither passes nor fails the call and costs no points;
    /// its moment is in the hits, as `uncertain`, for someone to listen to.
    #[serde(default)]
    pub uncertain_rules: Vec<String>,
    /// First response, dead air, talk-over, pace, hold check-ins.
    #[serde(default)]
    pub timing: Timing,
    /// Where the agent picked up, and the call's time that was nobody's
    /// words (IVR, ringing, hold music, announcements, silence).
    #[serde(default)]
    pub non_talk: NonTalk,
    /// Who said each of the transcript's segments, in its order, as the
    /// rules told it (`a` agent, `c` customer, `u` unknown, `s` system):
    /// decided once, here; the review page and other readers apply it.
    #[serde(default)]
    pub segment_speakers: String,
    /// The customers' personal data in each segment, as scoring found it
    /// (`privacy::CallPersonalData::recorded`), None when it was shown (`--show-pii`):
    /// the redaction decided once, which the review page applies.
    #[serde(default)]
    pub redacted_spans: Option<String>,
    /// Who spoke: by channel, or on mono calls by voice, and how surely.
    #[serde(default)]
    pub speakers: Attribution,
    /// Whether the customer may complain: their words or their raised voice.
    #[serde(default)]
    pub risk: CallRisk,
    /// What each failed rule took off the score (rule id → points).
    #[serde(default)]
    pub deductions: BTreeMap<String, f64>,
    /// The nine-do phrases' bonus, added back.
    #[serde(default)]
    pub bonus: f64,
    /// When QA staff reviewed the call: the machine's verdict, and theirs per
    /// rule. The fields above are then the reviewed verdict.
    #[serde(default)]
    pub review: Option<Reviewed>,
}

/// A reviewed call: what the machine said before the reviewers overruled it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reviewed {
    /// The machine's score.
    pub machine_score: f64,
    /// Whether the machine passed the call.
    pub machine_passed: bool,
    /// The rules the machine failed.
    pub machine_failed_rules: Vec<String>,
    /// Each reviewed rule: the machine's verdict and the reviewers'.
    pub rules: Vec<RuleReview>,
    /// Rules whose verdict the reviewers changed.
    pub overturned: Vec<String>,
}

/// One row of the calls table: a call that was scored, or one that failed before scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// The call's id.
    pub call_id: String,
    /// The agent, when known (a manifest row without one still becomes a row).
    pub agent_id: Option<String>,
    /// When the call began, when known.
    pub started_at: Option<String>,
    /// The recording, when known.
    pub audio_path: Option<PathBuf>,
    /// The recording's length, when it was read.
    pub duration_s: Option<f64>,
    /// The manifest's other columns.
    pub extra: BTreeMap<String, String>,
    /// Why the call could not be processed, when it could not.
    pub evaluation: Result<Evaluation, CallFailure>,
    /// When customers' personal data was said (seconds, with a margin), for
    /// clips to hide; None when it was not looked for (`--show-pii`, a failed call).
    pub personal_data_s: Option<Vec<(f64, f64)>>,
}

/// A call that could not be processed, as its row says it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallFailure {
    /// Why, for a person.
    pub reason: String,
    /// The stage of the call's journey that failed (`probe`, `decode`,
    /// `transcribe`, `judge`…), when it got that far.
    pub stage: Option<String>,
    /// Where the entry was: a manifest's `file:line`, or the audio file.
    pub location: Option<String>,
}

impl CallFailure {
    /// A failure known only by its reason.
    pub fn because(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            ..Self::default()
        }
    }
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl Evaluation {
    /// Whether the verdict failed `rule`.
    pub fn failed(&self, rule: Rule) -> bool {
        self.failed_rules.iter().any(|r| r == rule.id())
    }

    /// Whether the verdict left `rule` open.
    pub fn open(&self, rule: Rule) -> bool {
        self.uncertain_rules.iter().any(|r| r == rule.id())
    }
}

impl CallResult {
    /// The row of a transcribed call that `failure` stopped from being judged.
    pub fn failed(t: Transcript, failure: CallFailure) -> Self {
        Self {
            call_id: t.call_id,
            agent_id: Some(t.agent_id),
            started_at: t.started_at,
            audio_path: Some(t.audio_path),
            duration_s: Some(t.duration_s),
            extra: t.extra,
            evaluation: Err(failure),
            personal_data_s: None,
        }
    }

    /// The call's day (`YYYY-MM-DD`, on the center's clock).
    pub fn call_date(&self) -> Option<&str> {
        self.started_at.as_deref().and_then(crate::input::call_day)
    }
}

/// Judges one call: finds its phrases, tells whose each line is (the
/// system's recorded prompts, a mono call's two voices), and gives the
/// verdict with every hit behind it (the phrases, then the timing events:
/// dead air, talk-over…, category `acoustic`).
pub fn judge(transcript: &Transcript, matcher: &Matcher, book: &RuleBook) -> (Evaluation, Vec<Hit>) {
    let (told, attribution, hits) = speakers_as_told(transcript, matcher, book);
    let (mut evaluation, hits) = with_events(evaluate(&told, hits, book, attribution));
    // who said each line, as told here once: the pages read it, never tell it again
    evaluation.segment_speakers = told.segments.iter().map(|s| s.speaker.letter()).collect();
    (evaluation, hits)
}

/// The call with its speakers as the rules tell them (recorded prompts the
/// system's, a mono call's voices by voice), how they were told, and the
/// phrases found in it so told: for the rules, and for what shows or indexes
/// who said what.
pub fn speakers_as_told<'a>(
    transcript: &'a Transcript,
    matcher: &Matcher,
    book: &RuleBook,
) -> (Cow<'a, Transcript>, Attribution, Vec<Hit>) {
    let hits = matcher.find(transcript);
    let (sourced, hits) = match sources::system_lines(transcript, &hits, book) {
        Some(sourced) => {
            let hits = matcher.find(&sourced);
            (Cow::Owned(sourced), hits)
        }
        None => (Cow::Borrowed(transcript), hits),
    };
    let (told, attribution, attributed) = tell_speakers(sourced, &hits, book);
    // speakers changed: the hits carry them, so find them again
    let hits = if attributed { matcher.find(&told) } else { hits };
    (told, attribution, hits)
}

/// The call as the rules see it: on a mono call attributed surely enough
/// (`[speakers]` in the pack), its mixed segments given to agent or customer;
/// otherwise the call as it is. `hits` are the phrases found in it as it is:
/// agent-only lines tell which voice is the agent. The flag says whether
/// speakers were given.
pub fn tell_speakers<'a>(
    transcript: Cow<'a, Transcript>,
    hits: &[Hit],
    book: &RuleBook,
) -> (Cow<'a, Transcript>, Attribution, bool) {
    if !transcript.is_mixed() {
        let voice = transcript.enrolled_voice.as_ref().and_then(|enrolled| {
            voiceprints::CallVoice::of(&transcript).map(|call| voiceprints::VoiceCheck::of(&call.vector.0, enrolled))
        });
        return (
            transcript,
            Attribution {
                voice,
                ..Attribution::channels()
            },
            false,
        );
    }
    let (speakers, mut attribution) = speakers::attribute(&transcript, hits, book);
    attribution.voice = mono_voice_check(&transcript, &speakers);
    let min = book.speakers.min_call_confidence;
    match attribution.confidence {
        Some(sure) if attribution.from == SpeakersFrom::Voice && sure >= min => {
            let mut attributed = transcript.into_owned();
            for (segment, speaker) in attributed.segments.iter_mut().zip(speakers) {
                segment.speaker = speaker;
            }
            (Cow::Owned(attributed), attribution, true)
        }
        Some(sure) => {
            // not sure enough for any rule: the call stays unknown speech,
            // not attributed (how sure it would have been stays on record)
            attribution.from = SpeakersFrom::None;
            attribution.note = Some(format!(
                "attribution {sure:.2} under the minimum {min} ([speakers] min_call_confidence): speakers left unknown"
            ));
            (transcript, attribution, false)
        }
        None => (transcript, attribution, false),
    }
}

/// A mono call's two voices (as attributed) against its agent's print: the
/// nearer one is compared, so a call flags only when neither is the agent's.
fn mono_voice_check(transcript: &Transcript, speakers: &[Speaker]) -> Option<voiceprints::VoiceCheck> {
    let enrolled = transcript.enrolled_voice.as_ref()?;
    let voice_of = |who: Speaker| {
        voiceprints::mean_voice(
            transcript
                .segments
                .iter()
                .zip(speakers)
                .filter(move |(_, &s)| s == who)
                .map(|(segment, _)| segment),
        )
    };
    [Speaker::Agent, Speaker::Customer]
        .into_iter()
        .filter_map(|who| voice_of(who).map(|(vector, _)| voiceprints::VoiceCheck::of(&vector, enrolled)))
        .max_by(|a, b| a.similarity.total_cmp(&b.similarity))
}

fn with_events((evaluation, mut hits, events): (Evaluation, Vec<Hit>, Vec<Hit>)) -> (Evaluation, Vec<Hit>) {
    hits.extend(events);
    (evaluation, hits)
}

/// The agent's segments (a mono call's unknown ones too, when the pack
/// takes them for the agent's) and the customer's.
fn people_speech<'a>(
    transcript: &'a Transcript,
    rules: &settings::RuleSettings,
) -> (Vec<&'a Segment>, Vec<&'a Segment>) {
    let agent = transcript
        .segments
        .iter()
        .filter(|s| {
            s.speaker == Speaker::Agent
                || (s.speaker == Speaker::Unknown && rules.unknown_speaker == UnknownSpeaker::Agent)
        })
        .collect();
    let customer = transcript
        .segments
        .iter()
        .filter(|s| s.speaker == Speaker::Customer)
        .collect();
    (agent, customer)
}

/// How many timing events of `rule` a call had.
fn timing_events_of(events: &[Hit], rule: &str) -> u32 {
    events
        .iter()
        .filter(|h| timing::rule_of(&h.phrase_id) == Some(rule))
        .count() as u32
}

/// Where the people's last words end (the survey prompt after them is the system's).
fn last_words_end(transcript: &Transcript) -> f64 {
    transcript
        .segments
        .iter()
        .filter(|s| s.speaker != Speaker::System)
        .map(|s| s.end)
        .fold(0.0, f64::max)
}

/// Whether who spoke is known: by channel, or some mono segment was told.
fn speakers_known(transcript: &Transcript, attribution: &Attribution) -> bool {
    attribution.from == SpeakersFrom::Channels
        || transcript
            .segments
            .iter()
            .any(|s| matches!(s.speaker, Speaker::Agent | Speaker::Customer))
}

/// The verdict on a call whose speakers are settled, its hits, and the
/// timing events it found.
fn evaluate(
    transcript: &Transcript,
    hits: Vec<Hit>,
    book: &RuleBook,
    attribution: Attribution,
) -> (Evaluation, Vec<Hit>, Vec<Hit>) {
    let rules = book.rules;
    let hearing = Hearing::of(book, &attribution);
    let heard = |hit: &&Hit| hearing.not_heard_from(hit).is_none();
    let counted: Vec<&Hit> = hits.iter().filter(|h| h.kind.is_found() && heard(h)).collect();
    let of_role = |role: Role| counted.iter().copied().filter(move |h| h.role == role);
    // grey evidence: the audio neither confirms the phrase nor rules it out
    let unsure: Vec<&Hit> = hits.iter().filter(|h| !h.kind.is_found() && heard(h)).collect();
    let unsure_of = |role: Role| unsure.iter().copied().filter(move |h| h.role == role);
    let mut outcomes = Outcomes::default();

    let (agent_speech, customer_speech) = people_speech(transcript, rules);

    // the greeting and first response count from the agent's pick-up
    let pick_up = sources::pick_up(&agent_speech, transcript);
    let non_talk = sources::non_talk(pick_up.at_s, &transcript.segments, &transcript.sounds);
    let greeting = Greeting::judge(
        of_role(Role::Greeting),
        unsure_of(Role::Greeting),
        &agent_speech,
        rules,
        pick_up.at_s,
    );
    outcomes.add(greeting.outcome);

    let last_speech_end = last_words_end(transcript);
    let closing_in_place = |h: &Hit| h.start_s >= last_speech_end - rules.closing_within_s;
    let closing_ok = of_role(Role::Closing).any(closing_in_place);
    let closing_open = unsure_of(Role::Closing).any(closing_in_place);
    outcomes.add(match (closing_ok, closing_open) {
        (true, _) => Outcome::Kept,
        (false, true) => Outcome::Open("closing_missing"),
        (false, false) => Outcome::Failed("closing_missing"),
    });

    let holds = Holds {
        spans: find_holds(&agent_speech, &customer_speech, transcript, rules.hold_min_silence_s),
        rules,
    };
    let hold_tally = holds.tally(&counted, &unsure);
    outcomes.add(hold_tally.outcome());
    let speech = timing::Speech {
        agent: &agent_speech,
        customer: &customer_speech,
        all: &transcript.segments,
        sounds: &transcript.sounds,
        pick_up,
        own_channels: attribution.from == SpeakersFrom::Channels,
        speakers_known: speakers_known(transcript, &attribution),
    };
    let (timing, timing_events) = timing::measure(&speech, &holds.declared(&counted), book.timing);
    let events_of = |rule: &str| timing_events_of(&timing_events, rule);

    let said = Said {
        forbidden: of_role(Role::Forbidden).count() as u32,
        nine_dont: of_role(Role::NineDont).count() as u32,
        nine_do: of_role(Role::NineDo).count() as u32,
    };
    said.judge(&unsure, &mut outcomes);
    Rule::ALL
        .into_iter()
        .filter(|r| r.evidence() == Evidence::Timing && events_of(r.id()) > 0)
        .for_each(|rule| outcomes.add(Outcome::Failed(rule.id())));
    let risk = risk::assess(&of_role(Role::Risk).collect::<Vec<_>>(), &customer_speech, book.risk);
    let risk_is_a_rule = book.risk.counts_against_agent;
    if risk.at_risk && risk_is_a_rule {
        outcomes.add(Outcome::Failed("customer_risk"));
    }

    let r = book.rubric;
    let Points {
        deductions,
        bonus,
        score,
        red_lines,
    } = Points::of(r, &outcomes.failed, hold_tally.bad, &said, events_of);
    // every hit's part in this verdict, decided here once
    let place = |hit: &Hit| (closing_in_place(hit), holds.at_a_hold(hit));
    let verdicts: Vec<HitVerdict> = hits
        .iter()
        .map(|hit| hearing.verdict(hit, &greeting, place(hit), risk_is_a_rule))
        .collect();
    let (greeting_ok, greeting_at_s) = (greeting.ok, greeting.at_s);
    let mut hits = hits;
    hits.iter_mut()
        .zip(verdicts)
        .for_each(|(hit, verdict)| hit.verdict = verdict);
    let evaluation = Evaluation {
        greeting_ok,
        greeting_at_s,
        closing_ok,
        holds: holds.spans.len() as u32,
        holds_ok: hold_tally.ok,
        nine_do_count: said.nine_do,
        nine_dont_count: said.nine_dont,
        forbidden_count: said.forbidden,
        score,
        passed: r.passes(score, &red_lines),
        failed_rules: outcomes.failed,
        red_lines,
        uncertain_rules: outcomes.open,
        timing,
        non_talk,
        segment_speakers: String::new(),
        redacted_spans: None,
        speakers: attribution,
        risk,
        deductions,
        bonus,
        review: None,
    };
    (evaluation, hits, timing_events)
}

/// What became of one rule on a call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Kept,
    Failed(&'static str),
    /// Left open on grey evidence: neither kept nor failed, no points lost.
    Open(&'static str),
}

/// The rules a call failed and the ones it left open, in the order judged.
#[derive(Debug, Default)]
struct Outcomes {
    failed: Vec<String>,
    open: Vec<String>,
}

impl Outcomes {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Kept => {}
            Outcome::Failed(rule) => self.failed.push(rule.to_string()),
            Outcome::Open(rule) => self.open.push(rule.to_string()),
        }
    }
}

/// Whose words each category hears on this call.
struct Hearing<'a> {
    book: &'a RuleBook<'a>,
    /// How surely a mono call's voices were told apart (None on stereo).
    voice_confidence: Option<f64>,
}

impl<'a> Hearing<'a> {
    /// A hit's part in the verdict: not heard from this speaker, or the
    /// phrase's own verdict (`place`: whether it is where a closing
    /// belongs, and at a hold).
    fn verdict(&self, hit: &Hit, greeting: &Greeting, place: (bool, bool), risk_is_a_rule: bool) -> HitVerdict {
        match self.not_heard_from(hit) {
            Some(why) => HitVerdict::not_counted(rule_of_role(hit.role), why),
            None => phrase_verdict(hit, greeting, place.0, place.1, risk_is_a_rule),
        }
    }

    fn of(book: &'a RuleBook<'a>, attribution: &Attribution) -> Self {
        let voice_confidence = match attribution.from {
            SpeakersFrom::Voice => attribution.confidence,
            _ => None,
        };
        Self { book, voice_confidence }
    }

    /// None when the hit's speaker is one its category listens to, else why not.
    fn not_heard_from(&self, hit: &Hit) -> Option<NotCounted> {
        let category = self.book.category(&hit.category);
        let listens_to = category.map_or(CategorySpeaker::Agent, |c| c.speaker);
        // a category can ask for surer attribution than the call has: then
        // the call's speech is unknown to it, as on a mono call without prints
        let requires = category.and_then(|c| c.min_speaker_confidence);
        let unsure = matches!((self.voice_confidence, requires), (Some(sure), Some(min)) if sure < min);
        let speaker = if unsure && hit.speaker != Speaker::System {
            Speaker::Unknown
        } else {
            hit.speaker
        };
        let unknown_is_agent = self.book.rules.unknown_speaker == UnknownSpeaker::Agent;
        match (listens_to, speaker) {
            // a recorded prompt is nobody's words, whoever the category listens to
            (_, Speaker::System) => Some(NotCounted::SystemPrompt),
            (CategorySpeaker::Any, _) => None,
            (CategorySpeaker::Customer, Speaker::Customer) => None,
            (CategorySpeaker::Customer, _) => Some(NotCounted::AgentsWords),
            (CategorySpeaker::Agent, Speaker::Agent) => None,
            (CategorySpeaker::Agent, Speaker::Unknown) if unknown_is_agent => None,
            (CategorySpeaker::Agent, Speaker::Unknown) if unsure => Some(NotCounted::SpeakerUnsure),
            (CategorySpeaker::Agent, Speaker::Unknown) => Some(NotCounted::UnknownSpeakerIgnored),
            (CategorySpeaker::Agent, Speaker::Customer) => Some(NotCounted::CustomersWords),
        }
    }
}

/// The greeting rules on a call: the first greeting heard decides them.
struct Greeting<'h> {
    first: Option<&'h Hit>,
    /// When the agent began greeting (its 您好, before the phrase found).
    at_s: Option<f64>,
    ok: bool,
    outcome: Outcome,
}

impl<'h> Greeting<'h> {
    /// `pick_up_s`: where the agent picked up; the greeting's time counts from there.
    fn judge(
        found: impl Iterator<Item = &'h Hit>,
        mut unsure: impl Iterator<Item = &'h Hit>,
        agent_speech: &[&Segment],
        rules: &settings::RuleSettings,
        pick_up_s: f64,
    ) -> Self {
        let first_utterance_end = first_utterance_end(agent_speech, rules.utterance_gap_s);
        let since_pick_up = |hit: &Hit| greeting_start(agent_speech, hit.start_s, rules.utterance_gap_s) - pick_up_s;
        let in_place = |hit: &Hit| {
            let in_first =
                !rules.greeting_in_first_utterance || first_utterance_end.is_some_and(|end| hit.start_s <= end);
            in_first && since_pick_up(hit) <= rules.greeting_within_s
        };
        let first = found.min_by(|a, b| a.start_s.total_cmp(&b.start_s));
        let at_s = first.map(since_pick_up);
        let (ok, outcome) = match first {
            // a greeting nearly heard where one belongs: not missing, not there
            None if unsure.any(in_place) => (false, Outcome::Open("greeting_missing")),
            None => (false, Outcome::Failed("greeting_missing")),
            Some(hit) if in_place(hit) => (true, Outcome::Kept),
            Some(_) => (false, Outcome::Failed("greeting_late")),
        };
        Self {
            first,
            at_s,
            ok,
            outcome,
        }
    }
}

/// The call's holds, and whether the phrases around each make it a kept one.
struct Holds<'a> {
    spans: Vec<(f64, f64)>,
    rules: &'a settings::RuleSettings,
}

/// How the holds of a call went.
struct HoldTally {
    ok: u32,
    /// Open to question: the grey evidence would complete them.
    unsure: u32,
    bad: u32,
}

impl HoldTally {
    fn outcome(&self) -> Outcome {
        if self.bad > 0 {
            Outcome::Failed("hold_etiquette")
        } else if self.unsure > 0 {
            Outcome::Open("hold_etiquette")
        } else {
            Outcome::Kept
        }
    }
}

impl Holds<'_> {
    /// Asked for before it began (a check-in, seed 003, closes one stretch of
    /// a long hold and opens the next).
    fn asked_before(&self, start: f64, hits: &[&Hit]) -> bool {
        hits.iter().any(|h| {
            matches!(h.role, Role::HoldRequest | Role::HoldCheckin)
                && h.start_s >= start - self.rules.hold_request_window_s
                && h.start_s <= start + HOLD_EDGE_SLACK_S
        })
    }

    fn returned_after(&self, end: f64, hits: &[&Hit]) -> bool {
        hits.iter().any(|h| {
            matches!(h.role, Role::HoldReturn | Role::HoldCheckin)
                && h.start_s >= end - HOLD_EDGE_SLACK_S
                && h.start_s <= end + self.rules.hold_return_window_s
        })
    }

    fn kept(&self, (start, end): (f64, f64), hits: &[&Hit]) -> bool {
        self.asked_before(start, hits) && self.returned_after(end, hits)
    }

    fn tally(&self, found: &[&Hit], unsure: &[&Hit]) -> HoldTally {
        let found_or_unsure: Vec<&Hit> = found.iter().chain(unsure).copied().collect();
        let ok = self.spans.iter().filter(|&&hold| self.kept(hold, found)).count() as u32;
        let open = self
            .spans
            .iter()
            .filter(|&&hold| !self.kept(hold, found) && self.kept(hold, &found_or_unsure))
            .count() as u32;
        HoldTally {
            ok,
            unsure: open,
            bad: self.spans.len() as u32 - ok - open,
        }
    }

    /// Each hold with whether it was asked for, for the timing rules.
    fn declared(&self, found: &[&Hit]) -> Vec<(f64, f64, bool)> {
        self.spans
            .iter()
            .map(|&(start, end)| (start, end, self.asked_before(start, found)))
            .collect()
    }

    /// Whether a hold phrase belongs to a hold of the call.
    fn at_a_hold(&self, hit: &Hit) -> bool {
        let one = [hit];
        self.spans.iter().any(|&(start, end)| {
            self.asked_before(start, &one)
                || self.returned_after(end, &one)
                || (hit.start_s >= start && hit.start_s <= end)
        })
    }
}

/// How many phrases of each scored kind the agent said.
struct Said {
    forbidden: u32,
    nine_dont: u32,
    nine_do: u32,
}

impl Said {
    /// The rules of the phrases that must not be said: failed when one was,
    /// open when one was only nearly heard (`unsure`): that is never held
    /// against the agent (a red line least of all), it is a moment to listen to.
    fn judge(&self, unsure: &[&Hit], outcomes: &mut Outcomes) {
        for (count, role, rule) in [
            (self.forbidden, Role::Forbidden, "forbidden_phrase"),
            (self.nine_dont, Role::NineDont, "nine_dont_phrase"),
        ] {
            if count > 0 {
                outcomes.add(Outcome::Failed(rule));
            } else if unsure.iter().any(|h| h.role == role) {
                outcomes.add(Outcome::Open(rule));
            }
        }
    }
}

/// The call's points: what each failed rule cost, the nine-do bonus, the
/// score, and the failed rules that are red lines.
struct Points {
    deductions: BTreeMap<String, f64>,
    bonus: f64,
    score: f64,
    red_lines: Vec<String>,
}

impl Points {
    fn of(
        r: &settings::Rubric,
        failed_rules: &[String],
        bad_holds: u32,
        said: &Said,
        events_of: impl Fn(&str) -> u32,
    ) -> Points {
        let deductions = deductions(r, failed_rules, bad_holds, said, events_of);
        let bonus = (r.nine_do_bonus_per_hit * f64::from(said.nine_do)).min(r.nine_do_bonus_cap);
        let score = score_of(&deductions, bonus);
        let red_lines = failed_rules
            .iter()
            .filter(|rule| r.red_lines.contains(rule))
            .cloned()
            .collect();
        Points {
            deductions,
            bonus,
            score,
            red_lines,
        }
    }
}

/// What each failed rule costs (a rule left open, on grey evidence, costs
/// nothing): its breaches, capped. A phrase or timing rule costs per
/// breach; the others once.
fn deductions(
    r: &settings::Rubric,
    failed_rules: &[String],
    bad_holds: u32,
    said: &Said,
    events_of: impl Fn(&str) -> u32,
) -> BTreeMap<String, f64> {
    let failed = |rule: Rule| failed_rules.iter().any(|f| f == rule.id());
    Rule::ALL
        .into_iter()
        .map(|rule| {
            let breaches = match rule {
                Rule::HoldEtiquette => bad_holds,
                Rule::ForbiddenPhrase => said.forbidden,
                Rule::NineDontPhrase => said.nine_dont,
                // one deduction for the greeting: missing, or else late
                Rule::GreetingLate => u32::from(failed(rule) && !failed(Rule::GreetingMissing)),
                _ if rule.evidence() == Evidence::Timing => events_of(rule.id()),
                _ => u32::from(failed(rule)),
            };
            (rule, rule.deduction(r, breaches))
        })
        .filter(|&(_, points)| points > 0.0)
        .map(|(rule, points)| (rule.id().to_string(), points))
        .collect()
}

/// A heard hit's part in the call's verdict: which rule it counted under,
/// or why it did not.
fn phrase_verdict(
    hit: &Hit,
    greeting: &Greeting,
    closing_in_place: bool,
    at_a_hold: bool,
    risk_is_a_rule: bool,
) -> HitVerdict {
    let rule = rule_of_role(hit.role);
    if !hit.kind.is_found() {
        return HitVerdict::not_counted(rule, NotCounted::Uncertain);
    }
    match hit.role {
        Role::Greeting => match greeting.first {
            Some(first) if std::ptr::eq(first, hit) => HitVerdict::counted(if greeting.ok {
                "greeting_missing"
            } else {
                "greeting_late"
            }),
            _ => HitVerdict::not_counted(rule, NotCounted::LaterGreeting),
        },
        Role::Closing if closing_in_place => HitVerdict::counted("closing_missing"),
        Role::Closing => HitVerdict::not_counted(rule, NotCounted::OutsideWindow),
        Role::HoldRequest | Role::HoldReturn | Role::HoldCheckin if at_a_hold => HitVerdict::counted("hold_etiquette"),
        Role::HoldRequest | Role::HoldReturn | Role::HoldCheckin => {
            HitVerdict::not_counted(rule, NotCounted::NotAtHold)
        }
        Role::Forbidden | Role::NineDont | Role::NineDo => HitVerdict::counted(rule.expect("phrase roles have a rule")),
        Role::Risk if risk_is_a_rule => HitVerdict::counted("customer_risk"),
        Role::Risk => HitVerdict::not_counted(None, NotCounted::RiskSignal),
        Role::Watch | Role::Acoustic => HitVerdict::not_counted(None, NotCounted::NoRule),
        Role::System => HitVerdict::not_counted(None, NotCounted::SystemPrompt),
    }
}

/// The phrase rule a category role's hits decide (`failed_rules` /
/// `uncertain_rules` id), for roles that have one.
fn rule_of_role(role: Role) -> Option<&'static str> {
    match role {
        Role::Greeting => Some("greeting_missing"),
        Role::Closing => Some("closing_missing"),
        Role::HoldRequest | Role::HoldReturn | Role::HoldCheckin => Some("hold_etiquette"),
        Role::Forbidden => Some("forbidden_phrase"),
        Role::NineDont => Some("nine_dont_phrase"),
        Role::NineDo => Some("nine_do_bonus"),
        Role::Risk => Some("customer_risk"),
        Role::Watch | Role::Acoustic | Role::System => None,
    }
}

fn first_utterance_end(agent_speech: &[&Segment], gap_s: f64) -> Option<f64> {
    let first = agent_speech.first()?;
    let mut end = first.end;
    for s in &agent_speech[1..] {
        if s.start - end >= gap_s {
            break;
        }
        end = end.max(s.end);
    }
    Some(end)
}

/// Words an agent opens a greeting with (seed 004: 新年好/节日好 on holidays).
const GREETING_OPENERS: &[&str] = &["您好", "你好", "新年好", "节日好"];

/// When the agent started greeting: an opening like 您好！欢迎致电……，请问有什么
/// 可以帮助您 is one greeting, begun at its 您好 although the phrase found may be
/// its last clause. So when the utterance carrying the greeting phrase opens
/// with 您好/你好, the greeting starts with the utterance; otherwise where the
/// phrase starts.
fn greeting_start(agent_speech: &[&Segment], phrase_start_s: f64, gap_s: f64) -> f64 {
    let mut utterance_start: Option<&Segment> = None;
    let mut spoken_until = f64::NEG_INFINITY;
    for s in agent_speech {
        if s.start > phrase_start_s {
            break;
        }
        if utterance_start.is_none() || s.start - spoken_until >= gap_s {
            utterance_start = Some(s);
        }
        spoken_until = spoken_until.max(s.end);
    }
    let opens_with_hello = |s: &Segment| {
        let text: String = s
            .text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation())
            .collect();
        GREETING_OPENERS.iter().any(|hello| text.contains(hello))
    };
    match utterance_start {
        Some(first) if opens_with_hello(first) => first.start.min(phrase_start_s),
        _ => phrase_start_s,
    }
}

/// Gaps in the agent's speech of at least `min_s`, between two agent
/// segments, while the customer says (almost) nothing, or while the center's
/// hold audio ([`sources::hold_audio`]: music, recorded prompts) fills most
/// of the gap: the music says the caller was held, whoever is heard before it
/// starts (a customer's 好的, or on a mono call the agent's 我帮您查一下 taken
/// for the customer's as its window runs into the music).
fn find_holds(agent: &[&Segment], customer: &[&Segment], call: &Transcript, min_s: f64) -> Vec<(f64, f64)> {
    let mut holds = Vec::new();
    let mut spoken_until = match agent.first() {
        Some(s) => s.end,
        None => return holds,
    };
    let within = |(start, end): (f64, f64), (from, to): (f64, f64)| (end.min(to) - start.max(from)).max(0.0);
    let held = sources::hold_audio(call);
    for s in &agent[1..] {
        if s.start - spoken_until >= min_s {
            let gap = (spoken_until, s.start);
            let customer_talk: f64 = customer.iter().map(|c| within((c.start, c.end), gap)).sum();
            let hold_audio: f64 = held.iter().map(|&h| within(h, gap)).sum();
            if customer_talk <= HOLD_MAX_CUSTOMER_SPEECH_S || hold_audio >= HOLD_AUDIO_SHARE * (gap.1 - gap.0) {
                holds.push(gap);
            }
        }
        spoken_until = spoken_until.max(s.end);
    }
    holds
}

/// A gap this much filled with the center's hold audio is a hold, whatever
/// else is heard in it.
const HOLD_AUDIO_SHARE: f64 = 0.5;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Matcher;
    use crate::pack::{builtin_pack, Pack};

    type Line<'a> = (Speaker, f64, f64, &'a str);

    fn segments_of(lines: &[Line]) -> Vec<Segment> {
        lines
            .iter()
            .map(|&(who, start, end, text)| Segment::new(who, start, end, text))
            .collect()
    }

    fn call_of(lines: &[Line]) -> Transcript {
        Transcript::from_segments("c", segments_of(lines))
    }

    fn judge_call(pack: &Pack, call: &Transcript) -> Evaluation {
        super::judge(call, &Matcher::new(&pack.lexicon), &pack.rule_book()).0
    }

    fn judge_with(pack: &Pack, lines: &[Line]) -> Evaluation {
        judge_call(pack, &call_of(lines))
    }

    fn judge(lines: &[Line]) -> Evaluation {
        judge_with(&builtin_pack(), lines)
    }

    use Speaker::{Agent as A, Customer as C, Unknown as U};

    #[test]
    fn an_agent_who_picks_up_with_a_hello_whisper_wrote_no_words_for_answered_at_once() {
        // iv-02: the IVR, a ring, the agent's 喂？ at 19.26 without words, the
        // customer, and the agent's first words at 23.55
        let pack = builtin_pack();
        let mut call = call_of(&[
            (Speaker::System, 0.8, 9.9, "欢迎致电客户服务中心"),
            (C, 20.3, 22.6, "我想问一下燃气费怎么交"),
            (A, 23.55, 26.6, "可以在营业厅交，也可以在网上交。"),
        ]);
        call.sounds = vec![crate::transcript::SoundSpan {
            speaker: A,
            kind: crate::transcript::SoundKind::Ringback,
            start: 16.6,
            end: 17.6,
            key: None,
        }];
        let judged = |call: &Transcript| judge_call(&pack, call);
        let words_only = judged(&call);
        assert_eq!(words_only.non_talk.pick_up_s, 23.55);
        assert_eq!(words_only.timing.first_response_s, Some(0.0));
        call.wordless_voice = vec![crate::transcript::WordlessVoice {
            speaker: A,
            start: 19.26,
            end: 19.42,
        }];
        let with_voice = judged(&call);
        assert_eq!(with_voice.non_talk.pick_up_s, 19.26);
        assert_eq!(with_voice.timing.first_response_s, Some(0.0), "the 喂 was the response");
    }

    const GOOD_CALL: &[Line] = &[
        (A, 0.8, 3.0, "您好，很高兴为您服务，"),
        (A, 3.1, 4.5, "请问有什么可以帮您？"),
        (C, 5.0, 8.0, "我家燃气表坏了。"),
        (A, 8.5, 10.0, "请您稍等，我帮您查询。"),
        (A, 18.0, 20.0, "让您久等了，师傅两小时内上门。"),
        (C, 20.5, 21.0, "好的。"),
        (A, 21.5, 24.0, "感谢您的来电，再见。"),
    ];

    #[test]
    fn a_good_call_passes_every_rule() {
        let e = judge(GOOD_CALL);
        assert_eq!(e.failed_rules, Vec::<String>::new());
        assert!(e.greeting_ok && e.closing_ok);
        assert_eq!((e.holds, e.holds_ok), (1, 1));
        assert_eq!(e.greeting_at_s, Some(0.8));
        assert_eq!(e.score, 100.0);
        assert!(e.passed);
    }

    #[test]
    fn customer_words_never_count_against_the_agent() {
        let mut lines = GOOD_CALL.to_vec();
        lines.push((C, 22.0, 23.0, "我不知道，不行，冷静一点，我不大清楚"));
        let e = judge(&lines);
        assert_eq!((e.forbidden_count, e.nine_dont_count), (0, 0));
        assert_eq!(e.score, 100.0);
    }

    #[test]
    fn forbidden_and_nine_dont_count_per_occurrence() {
        let mut lines = GOOD_CALL.to_vec();
        lines.push((A, 11.0, 13.0, "我不大清楚。"));
        lines.push((A, 13.5, 15.0, "我不知道，我不知道。"));
        let e = judge(&lines);
        assert_eq!((e.forbidden_count, e.nine_dont_count), (1, 2));
        assert_eq!(e.failed_rules, vec!["forbidden_phrase", "nine_dont_phrase"]);
        assert_eq!(e.score, 70.0);
        assert!(!e.passed);
    }

    /// A transcript with one phrase only nearly heard, and what the audio
    /// check of it said (a per-character gap against the free decode).
    fn with_check(lines: &[Line], line: usize, phrase: &str, heard: &str, gap_per_char: f32) -> Evaluation {
        let pack = builtin_pack();
        let mut segments = segments_of(lines);
        let at = segments[line]
            .text
            .find(heard)
            .map(|b| segments[line].text[..b].chars().count())
            .unwrap();
        segments[line].checks.push(crate::transcript::PhraseCheck {
            phrase: phrase.into(),
            at,
            heard: heard.into(),
            gap_per_char,
            weakest: -2.0,
            mean: -1.0,
            rival: None,
            margin: None,
            heard_mean: None,
        });
        judge_call(&pack, &Transcript::from_segments("c", segments))
    }

    /// Grey evidence (issue 20) neither fails nor passes a rule: the rule is
    /// left open, nothing is deducted, no red line is crossed; evidence the
    /// audio confirms counts like a phrase heard.
    #[test]
    fn grey_evidence_leaves_a_rule_open_and_confirmed_evidence_counts() {
        let mut lines = GOOD_CALL.to_vec();
        lines[0] = (A, 0.8, 3.0, "拟好，展高心为宁服物，");
        lines[1] = (A, 3.1, 4.5, "嗯。");
        // greeting: grey → open, verified → passed, refuted → failed
        let grey = with_check(&lines, 0, "您好，很高兴为您服务", "拟好，展高心为宁服物", -1.8);
        assert_eq!(grey.uncertain_rules, vec!["greeting_missing"], "{grey:?}");
        assert!(
            !grey.failed_rules.contains(&"greeting_missing".to_string()),
            "{:?}",
            grey.failed_rules
        );
        assert_eq!((grey.score, grey.passed), (100.0, true));
        let heard = with_check(&lines, 0, "您好，很高兴为您服务", "拟好，展高心为宁服物", -0.2);
        assert!(heard.greeting_ok && heard.uncertain_rules.is_empty() && heard.failed_rules.is_empty());
        let refuted = with_check(&lines, 0, "您好，很高兴为您服务", "拟好，展高心为宁服物", -2.8);
        assert_eq!(refuted.failed_rules, vec!["greeting_missing"]);
        assert!(refuted.uncertain_rules.is_empty());

        // a forbidden phrase only nearly heard is never held against the agent
        let mut lines = GOOD_CALL.to_vec();
        lines.push((A, 11.0, 13.0, "我找不到言问。"));
        let grey = with_check(&lines, 7, "我找不到人问", "我找不到言问", -1.8);
        assert_eq!(grey.uncertain_rules, vec!["forbidden_phrase"]);
        assert_eq!((grey.forbidden_count, grey.score, grey.passed), (0, 100.0, true));
        assert!(grey.red_lines.is_empty());
        let heard = with_check(&lines, 7, "我找不到人问", "我找不到言问", -0.3);
        assert_eq!(heard.forbidden_count, 1);
        assert_eq!(heard.failed_rules, vec!["forbidden_phrase"]);
        assert!(heard.uncertain_rules.is_empty());
    }

    /// The opening lines of the seed handbooks (000 has none), said by the agent
    /// from 0.5 s on, as whisper cuts them into clauses (about 0.28 s per
    /// character): each is a greeting that starts at 0.5 s, on time.
    #[test]
    fn every_seed_opening_is_a_greeting_from_its_first_word() {
        for (seed, clauses) in [
            ("001", &["您好，", "很高兴为您服务。"][..]),
            ("002", &["您好，", "这里是客服中心，", "很高兴为您服务。"]),
            ("003", &["您好！", "欢迎惠顾欧亚e购，", "请问有什么可以帮助您？"]),
            (
                "003 致电",
                &["您好，", "欢迎致电燃气服务热线，", "请问有什么可以帮助您？"],
            ),
            (
                "003 客服号",
                &[
                    "您好，",
                    "我是客服十二号，",
                    "很高兴为您服务，",
                    "请问有什么可以帮助您？",
                ],
            ),
            ("004", &["您好，", "请问有什么可以帮到您？"]),
            ("004 节日", &["新年好，", "请问有什么可以帮到您？"]),
            (
                "004 客户代表",
                &["先生您好！", "我是米领通信客户代表，", "请问有什么可以帮到您？"],
            ),
        ] {
            let mut at = 0.5;
            let lines: Vec<Line> = clauses
                .iter()
                .map(|text| {
                    let start = at;
                    at += 0.28 * text.chars().count() as f64;
                    (A, start, at, *text)
                })
                .collect();
            let e = judge(&lines);
            assert_eq!(e.greeting_at_s, Some(0.5), "seed {seed}");
            assert!(e.greeting_ok, "seed {seed}: {:?}", e.failed_rules);
        }
    }

    #[test]
    fn a_greeting_phrase_after_something_else_starts_where_it_is_said() {
        // 喂 opens the utterance: the greeting proper comes 2.5 s later
        let e = judge(&[
            (A, 0.5, 1.0, "喂，"),
            (A, 1.2, 2.4, "什么事？"),
            (A, 3.0, 5.0, "请问有什么可以帮您？"),
        ]);
        assert_eq!(e.greeting_at_s, Some(3.0));
        assert_eq!(e.failed_rules[0], "greeting_late");
        // 您好 in a later utterance does not pull the greeting back to the first
        let e = judge(&[
            (A, 0.5, 1.0, "喂，"),
            (A, 4.0, 5.0, "您好，"),
            (A, 5.1, 7.0, "请问有什么可以帮您？"),
        ]);
        assert_eq!(e.greeting_at_s, Some(4.0));
        assert!(!e.greeting_ok);
    }

    #[test]
    fn greeting_must_open_the_call() {
        let late = judge(&[
            (A, 0.5, 2.0, "喂，什么事？"),
            (C, 2.5, 4.0, "你好"),
            (A, 6.0, 8.0, "您好，很高兴为您服务"),
        ]);
        assert_eq!(late.failed_rules[0], "greeting_late");
        assert_eq!(late.greeting_at_s, Some(6.0));
        let missing = judge(&[(A, 0.5, 2.0, "喂，什么事？")]);
        assert_eq!(missing.failed_rules[..2], ["greeting_missing", "closing_missing"]);
        assert_eq!(missing.score, 75.0);
    }

    #[test]
    fn a_hold_without_etiquette_fails_and_customer_talk_is_no_hold() {
        let bad_hold = judge(&[
            (A, 0.8, 3.0, "您好，很高兴为您服务"),
            (A, 4.0, 5.0, "我查一下。"),
            (A, 15.0, 17.0, "查到了，感谢您的来电。"),
        ]);
        assert_eq!((bad_hold.holds, bad_hold.holds_ok), (1, 0));
        assert!(bad_hold.failed_rules.contains(&"hold_etiquette".to_string()));
        let customer_talking = judge(&[
            (A, 0.8, 3.0, "您好，很高兴为您服务"),
            (C, 4.0, 14.0, "我跟你说，我家的燃气表一直都有问题，上个月就坏过一次。"),
            (A, 15.0, 17.0, "明白，感谢您的来电。"),
        ]);
        assert_eq!(customer_talking.holds, 0);
    }

    #[test]
    fn a_gap_filled_with_hold_music_is_a_hold_whoever_is_heard_before_it() {
        // ivr-mono ib-03: the agent's 请您稍等, then their 我帮您查一下 taken
        // for the customer's as whisper's window runs into the music, the
        // center's music and announcements, and no word from the agent for 49 s
        let pack = builtin_pack();
        let mut call = call_of(&[
            (A, 0.8, 3.0, "您好，很高兴为您服务"),
            (C, 3.5, 8.0, "我家热水器打不着火，你们能不能派人来看一下？"),
            (A, 26.5, 27.2, "请您稍等，"),
            (C, 27.2, 30.1, "我帮您查一下用气记录。"),
            (Speaker::System, 34.7, 38.1, "坐席正忙，请您稍等，请不要挂机。"),
            (Speaker::System, 53.2, 56.3, "感谢您的耐心等待，您的电话即将接通。"),
            (A, 76.2, 77.2, "让您久等了，"),
            (A, 78.0, 79.8, "感谢您的来电，再见。"),
        ]);
        let judged = |call: &Transcript| judge_call(&pack, call);
        let without_music = judged(&call);
        assert_eq!(without_music.holds, 0, "2.9 s of another voice and no music: no hold");
        let music = |start: f64, end: f64| crate::transcript::SoundSpan {
            speaker: U,
            kind: crate::transcript::SoundKind::Music,
            start,
            end,
            key: None,
        };
        call.sounds = vec![music(30.1, 34.1), music(39.1, 52.6), music(57.3, 70.8)];
        let held = judged(&call);
        assert_eq!((held.holds, held.holds_ok), (1, 1), "{:?}", held.failed_rules);
        assert_eq!(held.timing.hold_checkins_missed, Some(1));
    }

    #[test]
    fn mono_calls_follow_the_unknown_speaker_setting() {
        let lines: &[Line] = &[
            (U, 0.5, 2.0, "您好，很高兴为您服务"),
            (U, 3.0, 5.0, "我不知道"),
            (U, 6.0, 7.0, "再见"),
        ];
        let as_agent = judge(lines);
        assert!(as_agent.greeting_ok && as_agent.closing_ok);
        assert_eq!(as_agent.nine_dont_count, 1);
        let mut pack = builtin_pack();
        pack.rules.unknown_speaker = UnknownSpeaker::Ignore;
        let ignored = judge_with(&pack, lines);
        assert_eq!(ignored.nine_dont_count, 0);
        assert!(!ignored.greeting_ok);
    }

    fn verdicts_with(pack: &Pack, lines: &[Line]) -> Vec<(String, HitVerdict)> {
        super::judge(&call_of(lines), &Matcher::new(&pack.lexicon), &pack.rule_book())
            .1
            .into_iter()
            .map(|h| (h.phrase_id, h.verdict))
            .collect()
    }

    /// Every hit comes back judged: counted, under which rule, or why not
    /// (issue 21: the report and `examples` only show this).
    #[test]
    fn every_hit_carries_whether_it_counted_and_why() {
        use NotCounted::*;
        let mut lines = GOOD_CALL.to_vec();
        lines.push((C, 11.0, 12.0, "我不知道"));
        lines.push((A, 12.5, 13.5, "我不大清楚"));
        lines.push((A, 4.6, 4.9, "再见")); // a closing long before the end
        lines.push((A, 26.0, 27.0, "好的")); // (the call ends here)
        let verdicts = verdicts_with(&builtin_pack(), &lines);
        let of = |id: &str| -> Vec<&HitVerdict> { verdicts.iter().filter(|(p, _)| p == id).map(|(_, v)| v).collect() };
        assert_eq!(of("greeting.glad_to_serve"), [&HitVerdict::counted("greeting_missing")]);
        assert_eq!(
            of("nine_dont.dont_know"),
            [&HitVerdict::not_counted(Some("nine_dont_phrase"), CustomersWords)]
        );
        assert_eq!(
            of("forbidden.not_quite_sure"),
            [&HitVerdict::counted("forbidden_phrase")]
        );
        assert_eq!(of("hold_request.please_wait"), [&HitVerdict::counted("hold_etiquette")]);
        assert_eq!(of("hold_return.kept_waiting"), [&HitVerdict::counted("hold_etiquette")]);
        let goodbyes = of("closing.goodbye");
        assert_eq!(
            goodbyes,
            [
                &HitVerdict::not_counted(Some("closing_missing"), OutsideWindow),
                &HitVerdict::counted("closing_missing")
            ]
        );
        assert!(
            verdicts.iter().all(|(_, v)| v.not_counted != Some(NotJudged)),
            "{verdicts:?}"
        );

        // a late greeting counts under greeting_late
        let late = verdicts_with(&builtin_pack(), &[(A, 9.0, 11.0, "您好，很高兴为您服务")]);
        assert_eq!(late[0].1, HitVerdict::counted("greeting_late"));
    }

    /// The pack says unknown speakers are ignored: a mono call whose voices
    /// were not told apart counts none of its words, and each hit says so.
    #[test]
    fn ignored_unknown_speech_is_not_counted_and_says_why() {
        let mut pack = builtin_pack();
        pack.rules.unknown_speaker = UnknownSpeaker::Ignore;
        let verdicts = verdicts_with(
            &pack,
            &[(U, 0.5, 2.0, "您好，很高兴为您服务"), (U, 3.0, 5.0, "我不知道")],
        );
        assert!(!verdicts.is_empty());
        for (id, v) in &verdicts {
            assert_eq!(v.not_counted, Some(NotCounted::UnknownSpeakerIgnored), "{id}");
            assert!(!v.counted);
        }
    }

    /// A customer who threatens to complain: the call is at risk, with when;
    /// the agent loses nothing, unless the pack makes risk a rule.
    #[test]
    fn a_customers_complaint_flags_the_call_and_costs_the_agent_nothing_by_default() {
        let mut lines = GOOD_CALL.to_vec();
        lines.push((C, 9.0, 11.0, "你这是什么态度？我要投诉你！"));
        lines.push((A, 11.5, 13.0, "您可以投诉，这是您的权利。"));
        let calm = judge(GOOD_CALL);
        let flagged = judge(&lines);
        assert!(!calm.risk.at_risk);
        assert!(flagged.risk.at_risk);
        assert_eq!(
            flagged.risk.phrases, 2,
            "什么态度 and 投诉: the agent's 投诉 is not the customer's"
        );
        assert!(
            (9.0..10.0).contains(&flagged.risk.first_phrase_s.unwrap()),
            "{:?}",
            flagged.risk
        );
        assert_eq!((flagged.score, flagged.passed), (calm.score, calm.passed));
        assert!(!flagged.failed_rules.contains(&"customer_risk".to_string()));
        let verdicts = verdicts_with(&builtin_pack(), &lines);
        let risk: Vec<&HitVerdict> = verdicts
            .iter()
            .filter(|(id, _)| id.starts_with("risk."))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(risk.len(), 3, "{verdicts:?}");
        assert_eq!(
            risk.iter()
                .filter(|v| v.not_counted == Some(NotCounted::RiskSignal))
                .count(),
            2
        );
        assert!(risk.iter().any(|v| v.not_counted == Some(NotCounted::AgentsWords)));

        let mut strict = builtin_pack();
        strict.risk.counts_against_agent = true;
        strict.rubric.red_lines.push("customer_risk".into());
        let e = judge_with(&strict, &lines);
        assert!(e.failed_rules.contains(&"customer_risk".to_string()));
        assert_eq!(e.score, calm.score - strict.rubric.customer_risk);
        assert_eq!(e.red_lines, ["customer_risk"]);
        assert!(verdicts_with(&strict, &lines)
            .iter()
            .any(|(_, v)| v.counted && v.rule.as_deref() == Some("customer_risk")));
    }

    #[test]
    fn score_is_capped_and_configurable() {
        let many: Vec<Line> = (0..10)
            .map(|i| (A, 1.0 + i as f64, 1.5 + i as f64, "我不知道。"))
            .collect();
        let e = judge(&many);
        assert_eq!(e.nine_dont_count, 10);
        // 100 - 15 (greeting) - 10 (closing) - 40 (nine-don't, capped)
        assert_eq!(e.score, 35.0);
        let mut pack = builtin_pack();
        pack.rubric.nine_dont_cap = 100.0;
        assert_eq!(judge_with(&pack, &many).score, 0.0);
    }

    /// Two 禁用语 in an otherwise good call: 100 - 2×10 = 80 passes on points,
    /// but the default pack makes forbidden phrases a red line.
    #[test]
    fn a_reviewers_verdict_overrules_the_machines_and_the_machines_is_kept() {
        use super::{HumanVerdict, RuleVerdict};
        let mut lines = GOOD_CALL.to_vec();
        lines.push((A, 11.0, 12.0, "我不大清楚。"));
        lines.push((A, 12.5, 14.0, "你选吧，我也不懂。"));
        let pack = builtin_pack();
        let transcript = Transcript::from_segments("c", segments_of(&lines));
        let (machine, machine_hits) = super::judge(&transcript, &Matcher::new(&pack.lexicon), &pack.rule_book());
        assert_eq!((machine.score, machine.passed), (80.0, false));
        let review = |rule, verdict| HumanVerdict {
            rule,
            verdict,
            reviewer: "王芳",
            note: "",
        };
        // oldest first
        let reviews = [
            // changed her mind: the later review stands
            review("forbidden_phrase", RuleVerdict::Fail),
            review("forbidden_phrase", RuleVerdict::Pass),
            review("closing_missing", RuleVerdict::Fail),
            review("no_such_rule", RuleVerdict::Fail),
        ];
        let (mut e, mut hits) = (machine.clone(), machine_hits.clone());
        apply_reviews(&mut e, &mut hits, reviews, &pack.rubric);
        // the forbidden phrases' 20 points back, the closing's 10 off
        assert_eq!(e.score, 90.0);
        assert!(e.passed, "the red line was the forbidden phrase's");
        assert!(e.red_lines.is_empty());
        assert_eq!(e.failed_rules, ["closing_missing"]);
        let reviewed = e.review.as_ref().unwrap();
        assert_eq!((reviewed.machine_score, reviewed.machine_passed), (80.0, false));
        assert_eq!(reviewed.overturned, ["forbidden_phrase", "closing_missing"]);
        assert_eq!(reviewed.rules.len(), 2, "a rule the pack does not know is left out");
        assert_eq!(
            reviewed.rules[0].by_reviewer.len(),
            1,
            "one reviewer, her latest verdict"
        );
        for (hit, was) in hits.iter().zip(&machine_hits) {
            if was.verdict.rule.as_deref() == Some("forbidden_phrase") && was.verdict.counted {
                assert_eq!(hit.verdict.not_counted, Some(NotCounted::OverturnedByReview));
            } else {
                assert_eq!(hit.verdict, was.verdict);
            }
        }
        // no reviews: nothing changes
        let (mut same, mut same_hits) = (machine.clone(), machine_hits.clone());
        apply_reviews(&mut same, &mut same_hits, [], &pack.rubric);
        assert_eq!((same, same_hits), (machine, machine_hits));
    }

    #[test]
    fn a_red_line_fails_a_call_whatever_its_score() {
        let mut lines = GOOD_CALL.to_vec();
        lines.push((A, 11.0, 12.0, "我不大清楚。"));
        lines.push((A, 12.5, 14.0, "你选吧，我也不懂。"));
        let e = judge(&lines);
        assert_eq!(e.forbidden_count, 2);
        assert_eq!(e.score, 80.0);
        assert_eq!(e.red_lines, ["forbidden_phrase"]);
        assert!(!e.passed);
        let mut pack = builtin_pack();
        pack.rubric.red_lines.clear();
        let points_only = judge_with(&pack, &lines);
        assert!(points_only.passed && points_only.red_lines.is_empty());
        // any rule can be one; every rule the rules report is a known id
        pack.rubric.red_lines = vec!["closing_missing".into()];
        let no_closing = judge_with(&pack, &lines[..lines.len() - 3]);
        assert_eq!(no_closing.red_lines, ["closing_missing"]);
        assert!(!no_closing.passed);
        for rule in no_closing.failed_rules.iter().chain(&e.failed_rules) {
            assert!(RULE_IDS.contains(&rule.as_str()), "{rule}");
        }
    }

    /// The verdict and the timing events of a call.
    fn timed(lines: &[Line]) -> (Evaluation, Vec<Hit>) {
        let pack = builtin_pack();
        let transcript = Transcript::from_segments(
            "c",
            lines
                .iter()
                .map(|&(who, start, end, text)| Segment::new(who, start, end, text))
                .collect(),
        );
        let (evaluation, hits) = super::judge(&transcript, &Matcher::new(&pack.lexicon), &pack.rule_book());
        (
            evaluation,
            hits.into_iter().filter(|h| h.role == Role::Acoustic).collect(),
        )
    }

    /// Sixty characters of agent speech, for a pace of 300 a minute over 12 s.
    const SIXTY: &str = "我们会安排维修人员两个小时内上门请您保持电话畅通师傅到了会先给您打电话如果有问题可以随时再打我们的热线号码一二三四五六七";

    #[test]
    fn timing_is_measured_with_exact_figures() {
        struct Case {
            name: &'static str,
            lines: Vec<Line<'static>>,
            first_response_s: Option<f64>,
            dead_air: (Option<u32>, Option<f64>),
            talk_over: (Option<u32>, Option<f64>),
            chars_per_min: Option<f64>,
            checkins_missed: Option<u32>,
            failed: &'static [&'static str],
        }
        let hello = (A, 0.8, 3.0, "您好，很高兴为您服务，请问有什么可以帮您？");
        let bye = (A, 61.0, 63.0, "感谢您的来电，再见。");
        // what a short stereo call answered at 0.8 s measures, unless a case says otherwise
        let case = |name: &'static str, lines: Vec<Line<'static>>| Case {
            name,
            lines,
            first_response_s: Some(0.8),
            dead_air: (Some(0), None),
            talk_over: (Some(0), None),
            chars_per_min: None,
            checkins_missed: Some(0),
            failed: &[],
        };
        let cases = vec![
            Case {
                // 3.7 s of agent speech: too little to judge a pace
                failed: &["closing_missing"],
                ..case(
                    "answered on time, no silence, no overlap",
                    vec![
                        hello,
                        (C, 3.5, 6.0, "我家燃气表坏了。"),
                        (A, 6.5, 8.0, "好的，我帮您记录。"),
                    ],
                )
            },
            Case {
                first_response_s: Some(3.5),
                failed: &["greeting_late", "closing_missing", "first_response_late"],
                ..case("answered late", vec![(A, 3.5, 5.5, "您好，请问有什么可以帮您？")])
            },
            Case {
                // 6→18 (the customer spoke: no hold) and 20→61 (a hold nobody announced)
                dead_air: (Some(2), Some(41.0)),
                checkins_missed: Some(1),
                failed: &["hold_etiquette", "dead_air", "hold_checkin"],
                ..case(
                    "twelve silent seconds nobody announced",
                    vec![
                        hello,
                        (C, 3.5, 6.0, "我家燃气表坏了。"),
                        (A, 18.0, 20.0, "地址是哪里？"),
                        bye,
                    ],
                )
            },
            case(
                "a declared hold is not dead air",
                vec![
                    hello,
                    (A, 3.5, 5.0, "请您稍等，我帮您查询。"),
                    (A, 20.0, 22.0, "让您久等了，已经查到了。"),
                    (A, 22.5, 24.0, "感谢您的来电，再见。"),
                ],
            ),
            Case {
                talk_over: (Some(1), Some(2.0)),
                failed: &["closing_missing", "talk_over"],
                ..case(
                    "the agent cuts in for two seconds; a short 嗯 is no talk-over",
                    vec![
                        hello,
                        (C, 3.5, 9.0, "我家燃气表坏了，一直不走字。"),
                        (A, 7.0, 10.0, "好的，我明白您的意思。"),
                        (C, 10.5, 14.0, "那什么时候来修？"),
                        (A, 13.5, 14.5, "嗯。"),
                        // the agent's own words running on into the customer's are no cut-in
                        (A, 15.0, 16.5, "师傅两小时内上门。"),
                        (C, 16.0, 19.0, "好的好的，谢谢你。"),
                        (A, 16.5, 18.0, "请您保持电话畅通。"),
                    ],
                )
            },
            Case {
                first_response_s: Some(0.5),
                chars_per_min: Some(300.0),
                failed: &["greeting_missing", "closing_missing"],
                ..case(
                    "a pace of 300 characters a minute is moderate",
                    vec![(A, 0.5, 12.5, SIXTY)],
                )
            },
            Case {
                first_response_s: Some(0.5),
                chars_per_min: Some(360.0),
                failed: &["greeting_missing", "closing_missing", "speech_rate"],
                ..case("the same words in 10 s: 360, too fast", vec![(A, 0.5, 10.5, SIXTY)])
            },
            case(
                "a 45 s hold with a check-in halfway",
                vec![
                    hello,
                    (A, 3.5, 5.0, "请您稍等，我帮您查询。"),
                    (A, 27.0, 29.0, "对不起，您的问题我还在给您咨询，请您稍候。"),
                    (A, 50.0, 51.5, "让您久等了，已经查到了。"),
                    (A, 52.0, 53.5, "感谢您的来电，再见。"),
                ],
            ),
            Case {
                checkins_missed: Some(1),
                failed: &["hold_checkin"],
                ..case(
                    "a 45 s hold without one",
                    vec![
                        hello,
                        (A, 3.5, 5.0, "请您稍等，我帮您查询。"),
                        (A, 50.0, 52.0, "让您久等了，已经查到了。"),
                        (A, 52.5, 54.0, "感谢您的来电，再见。"),
                    ],
                )
            },
            Case {
                first_response_s: Some(0.6),
                talk_over: (None, None),
                failed: &["closing_missing"],
                ..case(
                    "one mixed channel: no talk-over or pace",
                    vec![
                        (U, 0.6, 3.0, "您好，请问有什么可以帮您？"),
                        (U, 3.5, 6.0, "我家燃气表坏了。"),
                    ],
                )
            },
            Case {
                first_response_s: None,
                dead_air: (None, None),
                talk_over: (None, None),
                checkins_missed: None,
                failed: &["greeting_missing", "closing_missing"],
                ..case("silence: nothing to measure", vec![])
            },
        ];
        for case in cases {
            let (e, events) = timed(&case.lines);
            let t = &e.timing;
            let name = case.name;
            assert_eq!(t.first_response_s, case.first_response_s, "{name}");
            assert_eq!((t.dead_air_count, t.longest_dead_air_s), case.dead_air, "{name}");
            assert_eq!((t.talk_over_count, t.longest_talk_over_s), case.talk_over, "{name}");
            assert_eq!(t.agent_chars_per_min, case.chars_per_min, "{name}");
            assert_eq!(t.hold_checkins_missed, case.checkins_missed, "{name}");
            assert_eq!(e.failed_rules, case.failed, "{name}: {t:?}");
            // every failed timing rule has its event, with times, in the hits
            for rule in case
                .failed
                .iter()
                .filter(|r| Rule::parse(r).is_some_and(|r| r.evidence() == Evidence::Timing))
            {
                let event = events
                    .iter()
                    .find(|h| timing_rule_of(&h.phrase_id) == Some(*rule))
                    .unwrap_or_else(|| panic!("{name}: no {rule} event"));
                assert_eq!(event.category, TIMING_CATEGORY);
                assert!(event.end_s > event.start_s, "{name}: {event:?}");
            }
            if t.agent_chars_per_min.is_none() || t.talk_over_count.is_none() {
                assert!(!t.unmeasured.is_empty(), "{name}: a missing figure has a reason");
            }
        }
    }
}

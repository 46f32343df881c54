//! What the handbooks ask of a call's timing, measured from the transcript's
//! segment times: how soon the agent answers, silences nobody explained,
//! the agent starting to talk over the customer, the agent's pace, and
//! check-ins during a long hold.
//!
//! Every figure is `None` where the call gives nothing to measure (no agent
//! speech, too little of it, one mixed channel), with the reason in
//! [`Timing::unmeasured`]: never a made-up number.

use serde::{Deserialize, Serialize};

use super::settings::TimingSettings;
use super::sources::PickUp;
use crate::lexicon::{Hit, HitVerdict, MatchKind, Role};
use crate::transcript::{Segment, SoundSpan, Speaker};

/// A pause in one side's speech at least this long starts a new turn.
/// Between two sentences of one turn people pause half a second and more
/// (timing-002's customer: 0.55 s between 你这是什么态度？ and 我要投诉你);
/// since clause times find pauses in noise too, 0.5 s cut such a turn in
/// two, and an agent who cut in at its pause was not talking over.
const TURN_GAP_S: f64 = 0.8;

/// The category of timing events in hits.parquet.
pub const CATEGORY: &str = "acoustic";

/// A call's timing figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Timing {
    /// Seconds from the start of the recording to the agent's first words.
    pub first_response_s: Option<f64>,
    /// Stretches of at least `dead_air_min_s` with both sides silent, outside a declared hold.
    pub dead_air_count: Option<u32>,
    /// The longest of them, in seconds.
    pub longest_dead_air_s: Option<f64>,
    /// The agent starting to speak while the customer is speaking, overlapping at
    /// least `talk_over_min_s` (needs one channel per speaker).
    pub talk_over_count: Option<u32>,
    /// The longest overlap, in seconds.
    pub longest_talk_over_s: Option<f64>,
    /// Characters the agent says per minute of the agent's speech.
    pub agent_chars_per_min: Option<f64>,
    /// Stretches of a hold longer than `hold_checkin_max_gap_s` without a word from the agent.
    pub hold_checkins_missed: Option<u32>,
    /// Why a figure is missing.
    pub unmeasured: Vec<String>,
}

/// One timing event, as a row of hits.parquet.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    rule: &'static str,
    what: &'static str,
    start_s: f64,
    end_s: f64,
    speaker: Speaker,
    said: String,
    context: String,
}

/// One side's stretch of speech without a pause of [`TURN_GAP_S`].
struct Turn {
    start: f64,
    end: f64,
    text: String,
}

/// A side's segments joined into turns. Segments within one stretch of speech
/// share out its time by their text, so only a turn's start and end are
/// measured; talk-over is judged on turns, not segments.
fn turns(segments: &[&Segment]) -> Vec<Turn> {
    let mut out: Vec<Turn> = Vec::new();
    for s in segments {
        match out.last_mut() {
            Some(turn) if s.start - turn.end < TURN_GAP_S => {
                turn.end = turn.end.max(s.end);
                turn.text.push_str(&s.text);
            }
            _ => out.push(Turn {
                start: s.start,
                end: s.end,
                text: s.text.clone(),
            }),
        }
    }
    out
}

/// The speech a measure looks at, split by speaker.
pub struct Speech<'a> {
    pub agent: &'a [&'a Segment],
    pub customer: &'a [&'a Segment],
    pub all: &'a [Segment],
    /// The sounds that are not speech (music, tones): a stretch filled by
    /// them is no silence.
    pub sounds: &'a [SoundSpan],
    /// Where the agent picked up: the first response counts from it, and no
    /// silence before it is dead air (the IVR, the queue, the ringing).
    pub pick_up: PickUp,
    /// Whether agent and customer are on channels of their own (talk-over
    /// needs it: whisper on one mixed channel does not give overlaps).
    pub own_channels: bool,
    /// Whether the agent's segments are known to be the agent's: by channel,
    /// or by voice on a mono call (pace needs it).
    pub speakers_known: bool,
}

/// The rule id a timing event's phrase id stands for (`acoustic.dead_air` → `dead_air`).
pub fn rule_of(phrase_id: &str) -> Option<&str> {
    phrase_id.strip_prefix(CATEGORY)?.strip_prefix('.')
}

/// The phrase id of a timing event: `acoustic.<rule>`.
fn phrase_id_of(rule: &str) -> String {
    format!("{CATEGORY}.{rule}")
}

fn text_of(segments: &[&Segment]) -> String {
    segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
}

/// The words just before and after a moment, for an event's context.
fn around(all: &[Segment], start_s: f64, end_s: f64) -> String {
    let before = all.iter().rfind(|s| s.end <= start_s + 0.01);
    let after = all.iter().find(|s| s.start >= end_s - 0.01);
    format!(
        "{} … {}",
        before.map_or("", |s| s.text.as_str()),
        after.map_or("", |s| s.text.as_str())
    )
}

/// Gaps of at least `min_s` in which nobody speaks and nothing sounds (hold
/// music, an announcement and a ringback tone fill a gap), between the first
/// and last speech after `from_s`.
fn silences(all: &[Segment], sounds: &[SoundSpan], from_s: f64, min_s: f64) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = all
        .iter()
        .map(|s| (s.start, s.end))
        .chain(sounds.iter().map(|s| (s.start, s.end)))
        .filter(|&(_, end)| end > from_s)
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut gaps = Vec::new();
    let Some(&(_, mut spoken_until)) = spans.first() else {
        return gaps;
    };
    for &(start, end) in &spans[1..] {
        if start - spoken_until >= min_s {
            gaps.push((spoken_until, start));
        }
        spoken_until = spoken_until.max(end);
    }
    gaps
}

/// Measures a call. `holds` are the holds the rules found, with whether each
/// was declared (a hold request before it); `checkins` the agent's hits that
/// keep a waiting customer company (check-ins, requests, returns).
pub fn measure(speech: &Speech, holds: &[(f64, f64, bool)], settings: &TimingSettings) -> (Timing, Vec<Hit>) {
    let mut t = Timing::default();
    if speech.all.is_empty() {
        t.unmeasured.push("no speech: nothing to measure".to_string());
        return (t, Vec::new());
    }
    let mut events = Vec::new();
    first_response(speech, settings, &mut t, &mut events);
    dead_air(speech, holds, settings, &mut t, &mut events);
    talk_over(speech, settings, &mut t, &mut events);
    pace(speech, settings, &mut t, &mut events);
    check_ins(speech, holds, settings, &mut t, &mut events);
    let hits = events
        .into_iter()
        .map(|e| Hit {
            category: CATEGORY.to_string(),
            role: Role::Acoustic,
            phrase_id: phrase_id_of(e.rule),
            phrase: e.what.to_string(),
            matched_text: e.said,
            speaker: e.speaker,
            start_s: e.start_s,
            end_s: e.end_s,
            kind: MatchKind::Exact,
            score: None,
            context: e.context,
            // an event is found only where its rule fails
            verdict: HitVerdict::counted(e.rule),
        })
        .collect();
    (t, hits)
}

/// When the agent first spoke.
fn first_response(speech: &Speech, settings: &TimingSettings, t: &mut Timing, events: &mut Vec<Event>) {
    match speech.agent.first() {
        Some(first) => {
            let after_s = if speech.pick_up.wordless {
                0.0
            } else {
                first.start - speech.pick_up.at_s
            };
            t.first_response_s = Some(after_s);
            if after_s > settings.first_response_within_s {
                events.push(Event {
                    rule: "first_response_late",
                    what: "the agent's first words came late",
                    start_s: speech.pick_up.at_s,
                    end_s: first.start,
                    speaker: first.speaker,
                    said: format!("{after_s:.1} s"),
                    context: first.text.clone(),
                });
            }
        }
        None => t
            .unmeasured
            .push(String::from("no agent speech: first response and pace unmeasured")),
    }
}

/// Silences outside declared holds.
fn dead_air(
    speech: &Speech,
    holds: &[(f64, f64, bool)],
    settings: &TimingSettings,
    t: &mut Timing,
    events: &mut Vec<Event>,
) {
    let dead: Vec<(f64, f64)> = silences(speech.all, speech.sounds, speech.pick_up.at_s, settings.dead_air_min_s)
        .into_iter()
        .filter(|&(start, end)| {
            !holds
                .iter()
                .any(|&(h_start, h_end, declared)| declared && start < h_end && end > h_start)
        })
        .collect();
    t.dead_air_count = Some(dead.len() as u32);
    t.longest_dead_air_s = dead.iter().map(|(s, e)| e - s).reduce(f64::max);
    for &(start, end) in &dead {
        events.push(Event {
            rule: "dead_air",
            what: "both sides silent",
            start_s: start,
            end_s: end,
            speaker: Speaker::Unknown,
            said: format!("{:.1} s of silence", end - start),
            context: around(speech.all, start, end),
        });
    }
}

/// The agent starting over the customer: only where each side has its own channel.
fn talk_over(speech: &Speech, settings: &TimingSettings, t: &mut Timing, events: &mut Vec<Event>) {
    if speech.own_channels {
        let customer_turns = turns(speech.customer);
        let mut overlaps = Vec::new();
        for agent_turn in turns(speech.agent) {
            let Some(customer_turn) = customer_turns
                .iter()
                .find(|c| c.start < agent_turn.start && agent_turn.start < c.end)
            else {
                continue;
            };
            let overlap = agent_turn.end.min(customer_turn.end) - agent_turn.start;
            if overlap >= settings.talk_over_min_s {
                overlaps.push(overlap);
                events.push(Event {
                    rule: "talk_over",
                    what: "the agent started while the customer was speaking",
                    start_s: agent_turn.start,
                    end_s: agent_turn.start + overlap,
                    speaker: Speaker::Agent,
                    said: agent_turn.text.clone(),
                    context: format!("customer: {} | agent: {}", customer_turn.text, agent_turn.text),
                });
            }
        }
        t.talk_over_count = Some(overlaps.len() as u32);
        t.longest_talk_over_s = overlaps.into_iter().reduce(f64::max);
    } else {
        t.unmeasured
            .push(String::from("one mixed channel: talk-over needs a channel per speaker"));
    }
}

/// The agent's pace, over the speech known to be the agent's.
fn pace(speech: &Speech, settings: &TimingSettings, t: &mut Timing, events: &mut Vec<Event>) {
    let agent_only: Vec<&Segment> = speech
        .agent
        .iter()
        .copied()
        .filter(|s| s.speaker == Speaker::Agent)
        .collect();
    if !speech.speakers_known {
        t.unmeasured.push(String::from(
            "one mixed channel, speakers not told apart: the agent's pace unmeasured",
        ));
    } else if !agent_only.is_empty() {
        let seconds: f64 = agent_only.iter().map(|s| (s.end - s.start).max(0.0)).sum();
        let chars: usize = agent_only
            .iter()
            .map(|s| s.text.chars().filter(|&c| crate::text::is_word_char(c)).count())
            .sum();
        if seconds >= settings.speech_rate_min_speech_s {
            let rate = chars as f64 * 60.0 / seconds;
            t.agent_chars_per_min = Some(rate);
            if !(settings.speech_rate_min_cpm..=settings.speech_rate_max_cpm).contains(&rate) {
                let first = agent_only[0];
                let last = agent_only[agent_only.len() - 1];
                events.push(Event {
                    rule: "speech_rate",
                    what: if rate > settings.speech_rate_max_cpm {
                        "the agent spoke too fast"
                    } else {
                        "the agent spoke too slowly"
                    },
                    start_s: first.start,
                    end_s: last.end,
                    speaker: Speaker::Agent,
                    said: format!("{rate:.0} characters a minute"),
                    context: text_of(&agent_only[..agent_only.len().min(3)]),
                });
            }
        } else {
            t.unmeasured
                .push(String::from("under the minimum of agent speech: pace unmeasured"));
        }
    }
}

/// Check-ins: a hold is one wait from the customer's side; no silence in it may run long.
fn check_ins(
    speech: &Speech,
    holds: &[(f64, f64, bool)],
    settings: &TimingSettings,
    t: &mut Timing,
    events: &mut Vec<Event>,
) {
    let mut missed = 0;
    for &(start, end, _) in holds {
        if end - start > settings.hold_checkin_max_gap_s {
            missed += 1;
            events.push(Event {
                rule: "hold_checkin",
                what: "a waiting customer heard nothing from the agent",
                start_s: start,
                end_s: end,
                speaker: Speaker::Agent,
                said: format!("{:.0} s without a check-in", end - start),
                context: around(speech.all, start, end),
            });
        }
    }
    t.hold_checkins_missed = Some(missed);
}

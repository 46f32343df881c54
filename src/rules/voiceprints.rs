//! Each agent's voice, enrolled from their stereo calls, and whether the
//! voice on a call is the one of the agent it was logged under.
//!
//! On a stereo call the agent's channel is known, so the voice vectors of
//! the agent's longest segments (`audio::voice_vector`) are the agent's
//! voice: one vector per call ([`CallVoice`]), kept per agent id (the most
//! recent `ENROL_CALLS`). The agent's print is their mean, made unit length.
//! Two uses:
//! - on a mono call, the voice nearer the print is the agent's
//!   (`rules::speakers`), whatever the words;
//! - a call whose agent voice is far from the print of the agent id it was
//!   logged under is flagged: a shared login, a mislabelled recording, or
//!   the agent's channel given wrong. A call is compared with the print of
//!   the agent's *other* calls, so it never vouches for itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::transcript::{EnrolledVoice, Speaker, Transcript, VoiceVector};

/// Calls kept per agent: a print settles within a few calls; more would
/// only grow the files.
pub const ENROL_CALLS: usize = 20;
/// A print is used once it rests on this many calls and seconds of speech.
const MIN_ENROL_CALLS: u32 = 2;
const MIN_ENROL_S: f64 = 10.0;
/// A call's agent voice at least this similar (cosine) to the agent's
/// print is theirs. Chosen from the sample calls (README "Voices"): the
/// agent's own voice on their mono and stereo calls 0.79–0.98 (the lowest
/// on AMR-NB lines with babble), the customer's voice against the agent's
/// print 0.62–0.85; two real people lie further apart than these two
/// voices of one synthesizer.
pub const SAME_VOICE_MIN_SIMILARITY: f64 = 0.78;

/// The agent's voice on one stereo call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallVoice {
    /// The call.
    pub call_id: String,
    /// The agent id it was logged under.
    pub agent_id: String,
    /// When the call began, to keep the most recent calls.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Seconds of the agent's speech the vector rests on.
    pub seconds: f64,
    /// The agent channel's voice (unit length).
    pub vector: VoiceVector,
}

impl CallVoice {
    /// The agent channel's voice of a stereo call: the length-weighted mean
    /// of the vectors of its agent segments. `None` on mono calls and where
    /// no segment was printed.
    pub fn of(t: &Transcript) -> Option<Self> {
        if t.is_mixed() {
            return None;
        }
        let (vector, seconds) = mean_voice(t.segments.iter().filter(|s| s.speaker == Speaker::Agent))?;
        Some(Self {
            call_id: t.call_id.clone(),
            agent_id: t.agent_id.clone(),
            started_at: t.started_at.clone(),
            seconds,
            vector: VoiceVector(vector),
        })
    }
}

/// The length-weighted mean (unit length) of the voice vectors of
/// `segments`, and the seconds it rests on.
pub fn mean_voice<'a>(segments: impl Iterator<Item = &'a crate::transcript::Segment>) -> Option<(Vec<f32>, f64)> {
    let mut sum: Vec<f64> = Vec::new();
    let mut seconds = 0.0;
    for segment in segments {
        let Some(vector) = &segment.voice_vector else { continue };
        let w = (segment.end - segment.start).max(0.0);
        sum.resize(vector.0.len(), 0.0);
        sum.iter_mut().zip(&vector.0).for_each(|(s, &x)| *s += w * f64::from(x));
        seconds += w;
    }
    Some((unit(&sum)?, seconds))
}

fn unit(sum: &[f64]) -> Option<Vec<f32>> {
    let norm = sum.iter().map(|x| x * x).sum::<f64>().sqrt();
    (norm > 0.0).then(|| sum.iter().map(|x| (x / norm) as f32).collect())
}

/// The print of `calls` (seconds-weighted mean, unit length), when they
/// are enough to rest on.
fn print_of(calls: &[&CallVoice]) -> Option<EnrolledVoice> {
    let seconds: f64 = calls.iter().map(|c| c.seconds).sum();
    if (calls.len() as u32) < MIN_ENROL_CALLS || seconds < MIN_ENROL_S {
        return None;
    }
    let mut sum = vec![0f64; calls[0].vector.0.len()];
    for call in calls {
        sum.iter_mut()
            .zip(&call.vector.0)
            .for_each(|(s, &x)| *s += call.seconds * f64::from(x));
    }
    Some(EnrolledVoice {
        vector: unit(&sum)?,
        calls: calls.len() as u32,
        seconds,
    })
}

/// Cosine similarity of two unit vectors.
pub fn similarity(a: &[f32], b: &[f32]) -> f64 {
    f64::from(crate::audio::voice_vector::similarity(a, b))
}

/// The print of an agent's `calls` other than `except`, when they are
/// enough to rest on. A call in another voice (a shared login, a
/// mislabelled recording) does not shape the print of the agent it was
/// logged under.
fn print_without(calls: &[CallVoice], except: Option<&str>) -> Option<EnrolledVoice> {
    let calls: Vec<&CallVoice> = calls.iter().filter(|c| Some(c.call_id.as_str()) != except).collect();
    let print = print_of(&calls)?;
    let own: Vec<&CallVoice> = calls
        .iter()
        .copied()
        .filter(|c| similarity(&c.vector.0, &print.vector) >= SAME_VOICE_MIN_SIMILARITY)
        .collect();
    if own.len() == calls.len() {
        Some(print)
    } else {
        print_of(&own)
    }
}

/// One agent's enrolled print, as the `voiceprints` table lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentPrint {
    /// The agent id.
    pub agent_id: String,
    /// Calls and seconds of speech it rests on.
    pub calls: u32,
    /// Seconds of the agent's speech.
    pub seconds: f64,
    /// How alike the agent's calls are: each call's similarity to the print
    /// of the agent's other calls, lowest and median (None with one call).
    pub lowest_similarity: Option<f64>,
    /// The median of the same.
    pub median_similarity: Option<f64>,
    /// The print.
    pub vector: Vec<f32>,
}

/// Every agent's enrolled calls.
#[derive(Debug, Clone, Default)]
pub struct VoicePrintBook {
    by_agent: BTreeMap<String, Vec<CallVoice>>,
    /// Each agent's print from all their enrolled calls: what every call
    /// that is not one of them is compared with, made once rather than per
    /// call scored.
    whole: BTreeMap<String, Option<EnrolledVoice>>,
}

impl VoicePrintBook {
    /// The book of `calls`: a call seen twice counts once (the later entry),
    /// and each agent keeps their `ENROL_CALLS` most recent calls.
    pub fn of(calls: impl IntoIterator<Item = CallVoice>) -> Self {
        let mut by_call: BTreeMap<String, CallVoice> = BTreeMap::new();
        for call in calls {
            by_call.insert(call.call_id.clone(), call);
        }
        let mut by_agent: BTreeMap<String, Vec<CallVoice>> = BTreeMap::new();
        for call in by_call.into_values() {
            by_agent.entry(call.agent_id.clone()).or_default().push(call);
        }
        for calls in by_agent.values_mut() {
            calls.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.call_id.cmp(&b.call_id)));
            calls.truncate(ENROL_CALLS);
        }
        let whole = by_agent
            .iter()
            .map(|(agent, calls)| (agent.clone(), print_without(calls, None)))
            .collect();
        Self { by_agent, whole }
    }

    /// Every enrolled call.
    pub fn calls(&self) -> impl Iterator<Item = &CallVoice> {
        self.by_agent.values().flatten()
    }

    /// True when no agent is enrolled.
    pub fn is_empty(&self) -> bool {
        self.by_agent.is_empty()
    }

    /// The print of `agent_id` from their calls other than `call_id`, when
    /// it rests on enough of them.
    pub fn enrolled(&self, agent_id: &str, call_id: &str) -> Option<EnrolledVoice> {
        let calls = self.by_agent.get(agent_id)?;
        if calls.iter().any(|c| c.call_id == call_id) {
            print_without(calls, Some(call_id))
        } else {
            self.whole.get(agent_id).cloned().flatten()
        }
    }

    /// Each agent's print, for the `voiceprints` table.
    pub fn prints(&self) -> Vec<AgentPrint> {
        self.by_agent
            .iter()
            .filter_map(|(agent_id, calls)| {
                let all: Vec<&CallVoice> = calls.iter().collect();
                let (vector, seconds) = match print_of(&all) {
                    Some(print) => (print.vector, print.seconds),
                    None => (calls.first()?.vector.0.clone(), calls.iter().map(|c| c.seconds).sum()),
                };
                let mut alike: Vec<f64> = calls
                    .iter()
                    .filter_map(|c| {
                        let others = self.enrolled(agent_id, &c.call_id)?;
                        Some(similarity(&c.vector.0, &others.vector))
                    })
                    .collect();
                alike.sort_by(f64::total_cmp);
                Some(AgentPrint {
                    agent_id: agent_id.clone(),
                    calls: calls.len() as u32,
                    seconds,
                    lowest_similarity: alike.first().copied(),
                    median_similarity: (!alike.is_empty()).then(|| alike[alike.len() / 2]),
                    vector,
                })
            })
            .collect()
    }
}

/// Whether the agent voice of a call is the enrolled one of its agent id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceCheck {
    /// Cosine similarity of the call's agent voice (on mono calls: the
    /// nearer of its two voices) to the agent's print.
    pub similarity: f64,
    /// Neither voice is near enough the print to be the agent's.
    pub mismatch: bool,
    /// The calls the print rests on.
    pub enrolled_calls: u32,
}

impl VoiceCheck {
    /// The check of `voice` (unit length) against the enrolled print.
    pub fn of(voice: &[f32], enrolled: &EnrolledVoice) -> Self {
        let similarity = similarity(voice, &enrolled.vector);
        Self {
            similarity: (similarity * 1000.0).round() / 1000.0,
            mismatch: similarity < SAME_VOICE_MIN_SIMILARITY,
            enrolled_calls: enrolled.calls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, agent: &str, at: &str, seconds: f64, v: &[f32]) -> CallVoice {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        CallVoice {
            call_id: id.into(),
            agent_id: agent.into(),
            started_at: Some(at.into()),
            seconds,
            vector: VoiceVector(v.iter().map(|x| x / norm).collect()),
        }
    }

    #[test]
    fn a_call_is_checked_against_the_agents_other_calls() {
        let book = VoicePrintBook::of([
            call("c1", "A1", "2026-01-01", 20.0, &[1.0, 0.1, 0.0]),
            call("c2", "A1", "2026-01-02", 20.0, &[1.0, 0.0, 0.1]),
            call("c3", "A1", "2026-01-03", 20.0, &[0.0, 1.0, 0.0]),
            call("c4", "A2", "2026-01-03", 20.0, &[0.0, 1.0, 0.0]),
        ]);
        // c3 is someone else's voice logged under A1: far from c1 and c2's print
        let print = book.enrolled("A1", "c3").unwrap();
        assert_eq!(print.calls, 2);
        let check = VoiceCheck::of(&book.by_agent["A1"][0].vector.0, &print);
        assert_eq!(book.by_agent["A1"][0].call_id, "c3", "most recent first");
        assert!(check.mismatch, "{check:?}");
        // one call is not enough to vouch for anyone
        assert!(book.enrolled("A2", "c4").is_none());
        assert!(book.enrolled("A2", "x").is_none(), "one call, 20 s");
        let prints = book.prints();
        assert_eq!(prints.len(), 2);
        assert_eq!(prints[0].calls, 3);
        assert!(prints[0].lowest_similarity.unwrap() < 0.5);
    }

    #[test]
    fn each_agent_keeps_their_most_recent_calls_and_a_call_counts_once() {
        let mut calls: Vec<CallVoice> = (0..30)
            .map(|i| {
                call(
                    &format!("c{i:02}"),
                    "A1",
                    &format!("2026-01-{:02}", i % 28 + 1),
                    5.0,
                    &[1.0, 0.0],
                )
            })
            .collect();
        calls.push(call("c00", "A1", "2026-02-01", 5.0, &[1.0, 0.0]));
        let book = VoicePrintBook::of(calls);
        let kept: Vec<&str> = book.calls().map(|c| c.call_id.as_str()).collect();
        assert_eq!(kept.len(), ENROL_CALLS);
        assert_eq!(kept[0], "c00", "re-enrolled with its newer time");
    }
}

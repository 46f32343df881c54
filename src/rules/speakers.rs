//! Who speaks on a mono call: each segment of one mixed channel attributed to
//! the agent or the customer, with how sure that is.
//!
//! Three kinds of evidence, each as log-odds, so they add up:
//! 1. **Two voices.** The segments' median pitch (`audio::VoicePrinter`) falls
//!    into a higher and a lower group (weighted 2-means in octaves); each
//!    segment's pitch is evidence for its group, from two equal-variance
//!    Gaussians. A call whose groups do not stand apart (one voice, or two
//!    too alike) has one group, and pitch says nothing.
//! 2. **Agent-only lines.** A greeting, a closing, a hold line, a nine-do
//!    phrase, at least `ANCHOR_MIN_CHARS` long (customers say 再见 too, not
//!    很高兴为您服务), is evidence that its segment is the agent's, and so
//!    that its group is the agent's voice. Words only a customer says (the
//!    risk phrases: 投诉, 找你们领导…) are evidence the other way, as
//!    strong. The first voice heard is weak evidence for the agent (agents
//!    answer).
//! 3. **Turns.** Speakers hold the floor for a few clauses, so a segment is
//!    more likely said by whoever said the one before, the more so when no
//!    pause parts them and when the one before ends in a comma (the rest of
//!    its sentence): a two-state chain (forward-backward) over the segments
//!    in order.
//!
//! Which group is the agent is decided first, from 2 (its probability
//! weighs both answers); then each segment's probability of being the
//! agent's comes from the chain. A segment whose speaker is less likely
//! than `min_segment_confidence` stays `unknown`, and the unknown-speaker
//! policy applies to it as before. Measured on the sample calls mixed down
//! to mono: see `tests/it/run.rs`, `mono_calls_are_attributed…`.

use serde::{Deserialize, Serialize};

use super::voiceprints::{similarity, VoiceCheck, SAME_VOICE_MIN_SIMILARITY};
use super::RuleBook;
use crate::lexicon::{CategorySpeaker, Hit, Role};
use crate::transcript::{Segment, Speaker, Transcript};

/// Anchor lines shorter than this (normalised characters) do not vote.
const ANCHOR_MIN_CHARS: usize = 4;
/// An agent-only line is the agent's this often (log-odds of its vote).
const ANCHOR_LOG_ODDS: f64 = 2.2; // ln(0.9 / 0.1)
/// A segment holding words only a customer says (the risk phrases: 投诉,
/// 找你们领导…) is the customer's this often (log-odds against the agent):
/// as telling as an agent-only line. (Measured on the mono sample sets, the
/// agent's phrases credited to the agent: respoken-1 0.864 -> 0.898,
/// respoken-3 0.763 -> 0.780, ivr-mono 40 -> 41 of 46; no customer line
/// more charged to the agent; 1.4 gains half of it, 3 no more.)
const CUSTOMER_WORDS_LOG_ODDS: f64 = 2.2; // ln(0.9 / 0.1)
/// The first voice heard is the agent's this often.
const FIRST_SPEAKER_LOG_ODDS: f64 = 2.2; // ln(0.9 / 0.1)
/// Two pitch groups whose separation (squared distance of the means over
/// the pooled variance) is under this are one voice: one Gaussian voice
/// split in two gives about 7.
const MIN_SEPARATION: f64 = 6.0;
/// Segment medians of one voice vary at least this much (octaves, SD).
const MIN_PITCH_SD: f64 = 0.05;
/// No segment's pitch is surer evidence than this (log-odds): voices vary.
const MAX_PITCH_LOG_ODDS: f64 = 3.0;
/// Voice vectors are used when at least this many segments have one.
const MIN_VECTOR_SEGMENTS: usize = 3;
/// Rounds of "centres from the reading, reading from the centres".
const VECTOR_ROUNDS: usize = 3;
/// One voice's segments vary at least this much in how much nearer the
/// agent's centre they lie than the customer's (difference of cosines, SD).
/// (Measured on the re-spoken mono sets: 0.02 and 0.04 alike on one,
/// 0.04 better on the other; 0.06 and more leave many segments unknown.)
const MIN_NEARER_SD: f64 = 0.04;
/// Pitch's weight beside a segment's vector (measured: 0 leaks more
/// customer lines to the agent, 1 gets fewer of the agent's lines right).
const PITCH_BESIDE_VECTORS: f64 = 0.5;
/// A call whose enrolled print and agent-only lines disagree is attributed
/// no surer than this: under `min_call_confidence`, so its speakers stay
/// unknown rather than rest on either.
const DISAGREEING_CONFIDENCE: f64 = 0.5;
/// That the voice near the agent's enrolled print is the agent's (log-odds):
/// strong, but not beyond doubt (a cold or a headset changes a voice).
const ENROLLED_LOG_ODDS: f64 = 4.0;
/// How often the next segment is the other speaker's, after no pause and
/// after a long one (`SWITCH_GAP_S`), in between in proportion.
const SWITCH_PROBABILITY: (f64, f64) = (0.2, 0.6);
const SWITCH_GAP_S: (f64, f64) = (0.2, 0.7);
/// After a clause that ends in a comma the speaker changes this much less
/// often: the next clause is most likely the rest of the same sentence.
/// (Measured on the mono sample calls: 0.1–0.6 alike; segments given the
/// wrong speaker 9 → 5, some of them left unknown instead.)
const SWITCH_IN_SENTENCE: f64 = 0.4;

/// How the speakers of a call's segments were known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpeakersFrom {
    /// A channel per speaker: known.
    Channels,
    /// One mixed channel, attributed by voice.
    Voice,
    /// One mixed channel, not attributed (no voice prints, or switched off).
    None,
}

impl SpeakersFrom {
    /// The id used in report.json and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            SpeakersFrom::Channels => "channels",
            SpeakersFrom::Voice => "voice",
            SpeakersFrom::None => "none",
        }
    }
}

/// The attribution of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// How the speakers were told apart.
    pub from: SpeakersFrom,
    /// How likely the speakers given are right, over the call's mixed speech
    /// (weighted by length): 1 on stereo calls, `None` when not attributed.
    pub confidence: Option<f64>,
    /// Mixed segments left `unknown`: too unsure, or too short to print.
    pub unsure_segments: u32,
    /// Why not attributed, or less sure than it could be.
    pub note: Option<String>,
    /// The call's agent voice against the print enrolled for its agent id
    /// (`rules::voiceprints`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceCheck>,
}

impl Attribution {
    /// A stereo call's: each channel is one speaker.
    pub fn channels() -> Self {
        Self {
            from: SpeakersFrom::Channels,
            confidence: Some(1.0),
            unsure_segments: 0,
            note: None,
            voice: None,
        }
    }
}

/// What a verdict saved without this field (before attribution) reads as:
/// the common case, a stereo call.
impl Default for Attribution {
    fn default() -> Self {
        Self::channels()
    }
}

/// Why a mono call's voices are not told apart, if they are not.
fn why_not_by_voice(transcript: &Transcript, book: &RuleBook, nothing_printed: bool) -> Option<&'static str> {
    if !book.speakers.attribute_mono {
        Some("attribution switched off ([speakers] attribute_mono)")
    } else if transcript.voice_prints.is_none() {
        Some("no voice prints: transcribed by an older callqa; `callqa run` adds them")
    } else if nothing_printed {
        Some("no segment long enough to tell a voice")
    } else {
        None
    }
}

/// The call's attribution confidence: the told segments' sureness weighted
/// by length (`sure_sum` over `weight_sum`), with segments too short to
/// print a voice counted as coin tosses.
fn with_unprinted_as_coin_tosses(transcript: &Transcript, mut sure_sum: f64, mut weight_sum: f64) -> f64 {
    for segment in transcript
        .segments
        .iter()
        .filter(|s| s.speaker == Speaker::Unknown && s.voice.is_none())
    {
        let w = (segment.end - segment.start).max(0.0);
        sure_sum += 0.5 * w;
        weight_sum += w;
    }
    if weight_sum > 0.0 {
        sure_sum / weight_sum
    } else {
        0.5
    }
}

/// Attributes the mixed segments of `transcript`, given the hits found in it
/// before attribution. Stereo calls come back as they are.
pub fn attribute(transcript: &Transcript, hits: &[Hit], book: &RuleBook) -> (Vec<Speaker>, Attribution) {
    let speakers: Vec<Speaker> = transcript.segments.iter().map(|s| s.speaker).collect();
    if !transcript.is_mixed() {
        return (speakers, Attribution::channels());
    }
    let printed: Vec<(usize, &Segment)> = transcript
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.speaker == Speaker::Unknown && (s.voice.is_some() || s.voice_vector.is_some()))
        .collect();
    if let Some(note) = why_not_by_voice(transcript, book, printed.is_empty()) {
        let unsure = speakers.iter().filter(|&&s| s == Speaker::Unknown).count() as u32;
        let attribution = Attribution {
            from: SpeakersFrom::None,
            confidence: None,
            unsure_segments: unsure,
            note: Some(note.to_string()),
            voice: None,
        };
        return (speakers, attribution);
    }
    let pitches: Vec<f64> = printed
        .iter()
        .map(|(_, s)| s.voice.map_or(f64::NAN, |v| f64::from(v.pitch)))
        .collect();
    let weights: Vec<f64> = printed
        .iter()
        .map(|(_, s)| s.voice.map_or(0.0, |v| f64::from(v.voiced_s)))
        .collect();
    let groups = PitchGroups::of(&pitches, &weights, MIN_PITCH_SD);
    // per printed segment: pitch evidence that it is the higher voice
    let higher: Vec<f64> = pitches
        .iter()
        .map(|&p| if p.is_nan() { 0.0 } else { groups.log_odds_higher(p) })
        .collect();
    let anchors = agent_lines(transcript, hits, book);
    let customers_words = customer_lines(transcript, hits, book);
    let chain = TurnEvidence {
        anchored: printed.iter().map(|(index, _)| anchors.contains(index)).collect(),
        customers: printed
            .iter()
            .map(|(index, _)| customers_words.contains(index))
            .collect(),
        first_is_agent: true,
        switches: printed
            .windows(2)
            .map(|pair| switch_between(pair[0].1, pair[1].1))
            .collect(),
    };
    let (agent_probability, _) = chain.decide(&higher, 0.0);
    let refined =
        refine_by_vectors(transcript, &printed, &higher, chain.clone(), &agent_probability).unwrap_or(Refined {
            agent_probability,
            two_voices: groups.two_voices,
            by_print: false,
            print_and_lines_disagree: false,
            text_and_voice_disagree: Vec::new(),
        });
    let agent_probability = refined.agent_probability;

    let mut out = speakers;
    let min = book.speakers.min_segment_confidence;
    let (mut sure_sum, mut weight_sum) = (0.0, 0.0);
    for (k, (index, segment)) in printed.iter().enumerate() {
        let agent = agent_probability[k];
        let sure = agent.max(1.0 - agent);
        // the words and the voice disagree, either way round (an agent-only
        // line in the customer's voice; the customer's 投诉, 找你们领导… in
        // what was taken for the agent's): neither is taken
        let torn = refined.text_and_voice_disagree.get(k).copied().unwrap_or(false)
            || (agent >= min && customers_words.contains(index));
        out[*index] = if torn {
            Speaker::Unknown
        } else if agent >= min {
            Speaker::Agent
        } else if 1.0 - agent >= min {
            Speaker::Customer
        } else {
            Speaker::Unknown
        };
        let w = (segment.end - segment.start).max(0.0);
        sure_sum += sure * w;
        weight_sum += w;
    }
    let mut confidence = with_unprinted_as_coin_tosses(transcript, sure_sum, weight_sum);
    let note = if !refined.two_voices {
        Some("one voice heard (or two too alike to tell apart)".to_string())
    } else if refined.print_and_lines_disagree {
        // which voice is the agent's is in doubt: no rule should rest on it
        confidence = confidence.min(DISAGREEING_CONFIDENCE);
        Some("the agent's enrolled voice and the agent-only lines point at different voices".to_string())
    } else if refined.by_print {
        None
    } else if !chain.anchored.contains(&true) {
        Some("no agent-only line heard: the agent taken to be the first voice".to_string())
    } else {
        None
    };
    let unsure = out.iter().filter(|&&s| s == Speaker::Unknown).count() as u32;
    (
        out,
        Attribution {
            from: SpeakersFrom::Voice,
            confidence: Some((confidence * 1000.0).round() / 1000.0),
            unsure_segments: unsure,
            note,
            voice: None,
        },
    )
}

/// Indices of segments that carry an agent-only line: hits of the agent's
/// greeting, closing, hold and nine-do categories, long enough to be telling.
fn agent_lines(transcript: &Transcript, hits: &[Hit], book: &RuleBook) -> Vec<usize> {
    let telling = |hit: &&Hit| {
        matches!(
            hit.role,
            Role::Greeting | Role::Closing | Role::HoldRequest | Role::HoldReturn | Role::HoldCheckin | Role::NineDo
        ) && book
            .category(&hit.category)
            .is_some_and(|c| c.speaker == CategorySpeaker::Agent)
            && hit
                .matched_text
                .chars()
                .filter(|&c| crate::text::is_word_char(c))
                .count()
                >= ANCHOR_MIN_CHARS
    };
    lines_of(transcript, hits.iter().filter(telling))
}

/// Indices of segments that carry words only a customer says: hits of the
/// categories that listen to the customer (the risk phrases).
fn customer_lines(transcript: &Transcript, hits: &[Hit], book: &RuleBook) -> Vec<usize> {
    let customers = |hit: &&Hit| {
        book.category(&hit.category)
            .is_some_and(|c| c.speaker == CategorySpeaker::Customer)
    };
    lines_of(transcript, hits.iter().filter(customers))
}

/// The mixed segments (indices, in order, once each) that `hits` lie in.
fn lines_of<'h>(transcript: &Transcript, hits: impl Iterator<Item = &'h Hit>) -> Vec<usize> {
    let mut lines: Vec<usize> = hits
        .filter_map(|hit| {
            let mid = (hit.start_s + hit.end_s) / 2.0;
            transcript
                .segments
                .iter()
                .position(|s| s.speaker == Speaker::Unknown && s.start <= mid && mid <= s.end)
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// A reading refined by the voice vectors.
struct Refined {
    /// Each segment's probability of being the agent's.
    agent_probability: Vec<f64>,
    /// Two voices stood apart.
    two_voices: bool,
    /// The agent's enrolled print said which voice is the agent's.
    by_print: bool,
    /// ...and most agent-only lines were said in the other voice.
    print_and_lines_disagree: bool,
    /// Per segment: an agent-only line said in the customer's voice (whisper
    /// wrote two turns as one, or echoed the agent's words over the
    /// customer's): left unknown, as neither the words nor the voice can be
    /// taken. (Measured: on the same-pitch re-spoken set the two customer
    /// segments whisper wrote as 请问有什么可以帮您 stay unknown instead of
    /// being charged to the agent.)
    text_and_voice_disagree: Vec<bool>,
}

/// The reading refined by the segments' voice vectors, where the encoder
/// printed enough of them: the two voices' centres from the reading so far
/// (the agent's from their enrolled print when there is one), each
/// segment's side by which it is nearer, and the reading again, a few
/// times over (it settles in two or three).
fn refine_by_vectors(
    transcript: &Transcript,
    printed: &[(usize, &Segment)],
    higher: &[f64],
    mut chain: TurnEvidence,
    reading: &[f64],
) -> Option<Refined> {
    let vectors: Vec<Option<&[f32]>> = printed
        .iter()
        .map(|(_, s)| s.voice_vector.as_ref().map(|v| v.0.as_slice()))
        .collect();
    if vectors.iter().flatten().count() < MIN_VECTOR_SEGMENTS {
        return None;
    }
    let enrolled = transcript.enrolled_voice.as_ref().map(|e| e.vector.as_slice());
    let mut agent_probability = reading.to_vec();
    let (mut two_voices, mut by_print, mut print_side_of_lines) = (false, false, 0i32);
    let mut text_and_voice_disagree = Vec::new();
    for _ in 0..VECTOR_ROUNDS {
        let side = VoiceSides::of(&vectors, printed, &agent_probability, enrolled)?;
        two_voices = side.two_voices;
        by_print = side.agent_prior > 0.0;
        chain.first_is_agent = !by_print;
        // pitch speaks for the segments too short for a vector, and at
        // half weight beside the others' vectors, turned to the side the
        // reading so far puts the higher voice on
        let higher_is_agent = agent_side_of_higher(higher, &agent_probability);
        let evidence: Vec<f64> = side
            .log_odds
            .iter()
            .zip(higher)
            .zip(&chain.anchored)
            .map(|((vector, &pitch), &anchor)| match vector {
                // an agent-only line in the other voice: text and voice
                // disagree, and the segment is left to the words and turns
                Some(v) if anchor && *v < 0.0 => PITCH_BESIDE_VECTORS * pitch * higher_is_agent,
                Some(v) => v + PITCH_BESIDE_VECTORS * pitch * higher_is_agent,
                None => pitch * higher_is_agent,
            })
            .collect();
        agent_probability = chain.decide(&evidence, side.agent_prior).0;
        text_and_voice_disagree = side
            .log_odds
            .iter()
            .zip(&chain.anchored)
            .map(|(v, &anchor)| anchor && v.is_some_and(|v| v < 0.0))
            .collect();
        // the agent-only lines' voices: on the print's side (+1) or not (−1)
        print_side_of_lines = side
            .log_odds
            .iter()
            .zip(&chain.anchored)
            .filter_map(|(lo, &anchor)| lo.filter(|lo| anchor && *lo != 0.0).map(|lo| lo.signum() as i32))
            .sum();
    }
    Some(Refined {
        agent_probability,
        two_voices,
        by_print,
        print_and_lines_disagree: by_print && print_side_of_lines < 0,
        text_and_voice_disagree,
    })
}

/// What the turn chain weighs besides the voice: the agent-only lines, the
/// first voice heard, and how likely the speaker changes between segments.
#[derive(Clone)]
struct TurnEvidence {
    anchored: Vec<bool>,
    /// Segments holding words only a customer says (the risk phrases).
    customers: Vec<bool>,
    /// Whether the first voice heard counts for the agent (not when the
    /// agent's enrolled print says who they are).
    first_is_agent: bool,
    switches: Vec<f64>,
}

impl TurnEvidence {
    /// Each segment's probability of being the agent's, given each one's
    /// voice evidence for one side (log-odds), and the probability that this
    /// side is the agent's: both readings weighed by how well they explain
    /// the call.
    fn decide(&self, side: &[f64], side_prior: f64) -> (Vec<f64>, f64) {
        let evidence = |side_is_agent: bool| -> Vec<[f64; 2]> {
            side.iter()
                .zip(&self.anchored)
                .enumerate()
                .map(|(k, (&h, &anchor))| {
                    let voice = if side_is_agent { h } else { -h };
                    let mut agent_log_odds = vec![voice];
                    if anchor {
                        agent_log_odds.push(ANCHOR_LOG_ODDS);
                    }
                    if self.customers[k] {
                        agent_log_odds.push(-CUSTOMER_WORDS_LOG_ODDS);
                    }
                    if k == 0 && self.first_is_agent {
                        agent_log_odds.push(FIRST_SPEAKER_LOG_ODDS);
                    }
                    // independent pieces of evidence: their likelihoods multiply
                    agent_log_odds
                        .into_iter()
                        .fold([1.0, 1.0], |l, e| [l[0] * sigmoid(-e), l[1] * sigmoid(e)])
                })
                .collect()
        };
        let (if_side, fit_side) = turn_chain(&evidence(true), &self.switches);
        let (if_other, fit_other) = turn_chain(&evidence(false), &self.switches);
        // the answer that explains the whole call better, in proportion
        let side_is_agent = sigmoid(fit_side - fit_other + side_prior);
        let agent = if_side
            .iter()
            .zip(&if_other)
            .map(|(a, b)| side_is_agent * a + (1.0 - side_is_agent) * b)
            .collect();
        (agent, side_is_agent)
    }
}

/// +1 when the reading so far puts the agent on the higher voice, −1 on the
/// lower, in proportion between: how pitch evidence counts for the agent.
fn agent_side_of_higher(higher: &[f64], agent: &[f64]) -> f64 {
    let (mut agree, mut total) = (0.0, 0.0);
    for (&h, &a) in higher.iter().zip(agent) {
        agree += sigmoid(h) * a + (1.0 - sigmoid(h)) * (1.0 - a);
        total += 1.0;
    }
    if total == 0.0 {
        0.0
    } else {
        2.0 * agree / total - 1.0
    }
}

/// The two voices of a call by their voice vectors: the agent's and the
/// customer's centres, from how likely each segment is the agent's so far,
/// and each segment's evidence (log-odds) for the agent's side.
struct VoiceSides {
    /// `None` for segments without a vector.
    log_odds: Vec<Option<f64>>,
    two_voices: bool,
    /// Log-odds that the agent's side is the agent's, from the agent's
    /// enrolled print (0 without one): which voice is nearer it.
    agent_prior: f64,
}

impl VoiceSides {
    /// The two voices' centres (unit length), each segment's vector
    /// weighed by its length and by how likely it is the agent's (`agent`)
    /// or the customer's.
    fn centres(vectors: &[Option<&[f32]>], printed: &[(usize, &Segment)], agent: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let dims = vectors.iter().flatten().next().map_or(0, |v| v.len());
        let (mut agent_centre, mut customer_centre) = (vec![0f64; dims], vec![0f64; dims]);
        for ((vector, (_, segment)), &p) in vectors.iter().zip(printed).zip(agent) {
            let Some(vector) = vector else { continue };
            let w = (segment.end - segment.start).max(0.0);
            for (d, &x) in vector.iter().enumerate() {
                agent_centre[d] += p * w * f64::from(x);
                customer_centre[d] += (1.0 - p) * w * f64::from(x);
            }
        }
        let unit = |v: &mut Vec<f64>| {
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm.max(f64::MIN_POSITIVE));
        };
        unit(&mut agent_centre);
        unit(&mut customer_centre);
        (agent_centre, customer_centre)
    }

    /// The segments nearer the print than halfway between the nearest and
    /// the farthest (1) and the rest (0): two voices parted by the print.
    fn split_by_print(vectors: &[Option<&[f32]>], print: &[f32]) -> Vec<f64> {
        let to_print: Vec<f64> = vectors
            .iter()
            .map(|v| v.map_or(f64::NAN, |v| similarity(v, print)))
            .collect();
        let known = || to_print.iter().copied().filter(|s| !s.is_nan());
        let halfway = (known().fold(f64::MIN, f64::max) + known().fold(f64::MAX, f64::min)) / 2.0;
        to_print.iter().map(|&s| if s >= halfway { 1.0 } else { 0.0 }).collect()
    }

    fn of(
        vectors: &[Option<&[f32]>],
        printed: &[(usize, &Segment)],
        agent: &[f64],
        enrolled: Option<&[f32]>,
    ) -> Option<Self> {
        if vectors.iter().all(Option::is_none) {
            return None;
        }
        let (mut agent_centre, mut customer_centre) = Self::centres(vectors, printed, agent);
        // With the agent's enrolled print, the print is the agent's side and
        // the call's voice farther from it the customer's: its voice, not the
        // words, says which voice is the agent's, as sure as one of the
        // call's voices is near the print (neither is: someone else's call).
        let agent_prior = enrolled.map_or(0.0, |print| {
            let to_print = |centre: &[f64]| centre.iter().zip(print).map(|(c, &p)| c * f64::from(p)).sum::<f64>();
            let (mut near_a, mut near_c) = (to_print(&agent_centre), to_print(&customer_centre));
            if near_a.max(near_c) < SAME_VOICE_MIN_SIMILARITY {
                // a reading too unsure to part the voices (the first voice
                // heard says the customer's words) blurs both centres into
                // one: part them by the print itself
                let by_print = Self::split_by_print(vectors, print);
                (agent_centre, customer_centre) = Self::centres(vectors, printed, &by_print);
                (near_a, near_c) = (to_print(&agent_centre), to_print(&customer_centre));
            }
            if near_a < near_c {
                customer_centre.clone_from(&agent_centre);
            }
            agent_centre = print.iter().map(|&p| f64::from(p)).collect();
            if near_a.max(near_c) >= SAME_VOICE_MIN_SIMILARITY {
                ENROLLED_LOG_ODDS
            } else {
                0.0
            }
        });
        // each segment: how much nearer the agent's centre than the customer's
        let nearer: Vec<f64> = vectors
            .iter()
            .map(|v| {
                v.map_or(f64::NAN, |v| {
                    v.iter()
                        .zip(agent_centre.iter().zip(&customer_centre))
                        .map(|(&x, (a, c))| f64::from(x) * (a - c))
                        .sum()
                })
            })
            .collect();
        let weights: Vec<f64> = printed
            .iter()
            .zip(&nearer)
            .map(|((_, s), d)| if d.is_nan() { 0.0 } else { (s.end - s.start).max(0.0) })
            .collect();
        // the same two-Gaussian reading as pitch's, on this one number, and
        // capped alike (measured: a cap of 1.5–2.5 leaves more segments
        // unknown and gets fewer of the agent's lines right)
        let groups = PitchGroups::of(&nearer, &weights, MIN_NEARER_SD);
        let log_odds = nearer
            .iter()
            .map(|&d| (!d.is_nan()).then(|| groups.log_odds_higher(d)))
            .collect();
        Some(Self {
            log_odds,
            two_voices: groups.two_voices,
            agent_prior,
        })
    }
}

/// Two pitch groups of a call's segments: the higher and the lower voice.
struct PitchGroups {
    lower: f64,
    higher: f64,
    variance: f64,
    two_voices: bool,
}

impl PitchGroups {
    /// Weighted 2-means in one dimension, from the extremes.
    fn of(pitches: &[f64], weights: &[f64], min_sd: f64) -> Self {
        let one_voice = Self {
            lower: 0.0,
            higher: 0.0,
            variance: 1.0,
            two_voices: false,
        };
        let (Some(&min), Some(&max)) = (
            pitches.iter().filter(|p| !p.is_nan()).min_by(|a, b| a.total_cmp(b)),
            pitches.iter().filter(|p| !p.is_nan()).max_by(|a, b| a.total_cmp(b)),
        ) else {
            return one_voice;
        };
        let (mut lower, mut higher) = (min, max);
        let mean_where = |keep: &dyn Fn(f64) -> bool| {
            let (mut sum, mut w) = (0.0, 0.0);
            for (&p, &wt) in pitches.iter().zip(weights) {
                if keep(p) {
                    sum += p * wt;
                    w += wt;
                }
            }
            (w > 0.0).then(|| sum / w)
        };
        for _ in 0..50 {
            let cut = (lower + higher) / 2.0;
            let (Some(l), Some(h)) = (mean_where(&|p| p < cut), mean_where(&|p| p >= cut)) else {
                return one_voice;
            };
            let settled = l == lower && h == higher;
            (lower, higher) = (l, h);
            if settled {
                break;
            }
        }
        let cut = (lower + higher) / 2.0;
        let (mut ss, mut w) = (0.0, 0.0);
        for (&p, &wt) in pitches.iter().zip(weights).filter(|(p, _)| !p.is_nan()) {
            let mean = if p < cut { lower } else { higher };
            ss += wt * (p - mean).powi(2);
            w += wt;
        }
        let variance = (ss / w).max(min_sd * min_sd);
        Self {
            lower,
            higher,
            variance,
            two_voices: (higher - lower).powi(2) / variance >= MIN_SEPARATION,
        }
    }

    /// Log-odds that a segment of this pitch is the higher voice.
    fn log_odds_higher(&self, pitch: f64) -> f64 {
        if !self.two_voices {
            return 0.0;
        }
        let odds = ((pitch - self.lower).powi(2) - (pitch - self.higher).powi(2)) / (2.0 * self.variance);
        odds.clamp(-MAX_PITCH_LOG_ODDS, MAX_PITCH_LOG_ODDS)
    }
}

/// The probability that each of a sequence of segments is the agent's, given
/// each one's evidence (likelihoods of customer and agent) and that the
/// speaker changes after segment i with probability `switches[i]`
/// (forward-backward over two states); and the log-likelihood of all the
/// evidence, to compare two readings of it.
fn turn_chain(evidence: &[[f64; 2]], switches: &[f64]) -> (Vec<f64>, f64) {
    let n = evidence.len();
    // state 0: customer, 1: agent
    let step = |from: [f64; 2], i: usize| {
        let switch = switches.get(i).copied().unwrap_or(0.5);
        [
            from[0] * (1.0 - switch) + from[1] * switch,
            from[1] * (1.0 - switch) + from[0] * switch,
        ]
    };
    let normalised = |v: [f64; 2]| {
        let sum = (v[0] + v[1]).max(f64::MIN_POSITIVE);
        ([v[0] / sum, v[1] / sum], sum)
    };
    let mut forward = Vec::with_capacity(n);
    let mut log_likelihood = 0.0;
    let mut prior = [0.5, 0.5];
    for (i, l) in evidence.iter().enumerate() {
        let (f, scale) = normalised([prior[0] * l[0], prior[1] * l[1]]);
        log_likelihood += scale.ln();
        forward.push(f);
        prior = step(f, i);
    }
    let mut backward = vec![[1.0, 1.0]; n];
    for i in (0..n.saturating_sub(1)).rev() {
        let l = evidence[i + 1];
        let next = [l[0] * backward[i + 1][0], l[1] * backward[i + 1][1]];
        backward[i] = normalised(step(next, i)).0;
    }
    let agent = forward
        .iter()
        .zip(&backward)
        .map(|(f, b)| normalised([f[0] * b[0], f[1] * b[1]]).0[1])
        .collect();
    (agent, log_likelihood)
}

/// How likely the speaker changes from segment `before` to `after`: by the
/// pause between them, and less likely inside a sentence (`before` ends in
/// a comma: whisper writes one speaker's sentence as one).
fn switch_between(before: &Segment, after: &Segment) -> f64 {
    let switch = switch_after(after.start - before.end);
    if before.text.trim_end().ends_with([',', '，', '、']) {
        switch * SWITCH_IN_SENTENCE
    } else {
        switch
    }
}

/// How likely the speaker changes across a gap of `gap_s` between two
/// segments: a turn needs a pause, clauses of one speaker often have none.
fn switch_after(gap_s: f64) -> f64 {
    let t = ((gap_s - SWITCH_GAP_S.0) / (SWITCH_GAP_S.1 - SWITCH_GAP_S.0)).clamp(0.0, 1.0);
    SWITCH_PROBABILITY.0 + t * (SWITCH_PROBABILITY.1 - SWITCH_PROBABILITY.0)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Matcher;
    use crate::pack::builtin_pack;
    use crate::transcript::VoicePrint;

    /// A mono call: (pitch in octaves above 100 Hz or none, text).
    fn call(lines: &[(Option<f32>, &str)]) -> Transcript {
        let segments = lines
            .iter()
            .enumerate()
            .map(|(i, &(pitch, text))| {
                let mut s = Segment::new(Speaker::Unknown, i as f64 * 3.0, i as f64 * 3.0 + 2.5, text);
                s.voice = pitch.map(|pitch| VoicePrint {
                    pitch,
                    voiced_s: 1.5,
                    level_db: None,
                });
                s
            })
            .collect();
        let mut t = Transcript::from_segments("mono", segments);
        t.channels = 1;
        t.voice_prints = Some("test".into());
        t
    }

    fn attributed(t: &Transcript) -> (Vec<Speaker>, Attribution) {
        let pack = builtin_pack();
        attribute(t, &Matcher::new(&pack.lexicon).find(t), &pack.rule_book())
    }

    use Speaker::{Agent as A, Customer as C, Unknown as U};

    #[test]
    fn two_voices_are_told_apart_and_the_greeting_says_which_is_the_agent() {
        // the customer speaks first and has the higher voice: the greeting decides
        let t = call(&[
            (Some(1.35), "喂？"),
            (Some(0.95), "您好，很高兴为您服务，请问有什么可以帮您？"),
            (Some(1.30), "我家的燃气表坏了。"),
            (Some(1.00), "请您稍等，我帮您查询一下。"),
            (Some(0.90), "让您久等了，师傅马上到。"),
            (Some(1.40), "好的，谢谢。"),
            (Some(1.05), "感谢您的来电，祝您生活愉快。"),
        ]);
        let (speakers, attribution) = attributed(&t);
        // the first line: a customer's voice where the agent is expected to
        // speak first, so left unknown
        assert_eq!(speakers, [U, A, C, A, A, C, A]);
        assert_eq!(attribution.from, SpeakersFrom::Voice);
        assert!(attribution.confidence.unwrap() > 0.85, "{attribution:?}");
        assert_eq!(attribution.unsure_segments, 1);
    }

    #[test]
    fn without_an_agent_line_the_first_voice_is_the_agent_less_surely() {
        let t = call(&[
            (Some(1.35), "喂，什么事？"),
            (Some(0.95), "我想问一下燃气费怎么交。"),
            (Some(1.30), "你自己去营业厅问吧。"),
            (Some(1.00), "你这是什么态度？"),
        ]);
        let (speakers, attribution) = attributed(&t);
        assert_eq!(speakers, [A, C, A, C]);
        assert!(attribution.note.unwrap().contains("no agent-only line"));
    }

    /// A voice vector near `voice` (two voices: 0 and 1), a little off each
    /// time, as a segment's vector is.
    fn voice_of(voice: usize, jitter: usize) -> crate::transcript::VoiceVector {
        let mut v = [0.05f32; 16];
        v[voice] = 1.0;
        v[2 + jitter % 7] += 0.25;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        crate::transcript::VoiceVector(v.iter().map(|x| x / norm).collect())
    }

    /// A mono call whose two voices have the same pitch: (voice, text).
    fn same_pitch_call(lines: &[(usize, &str)]) -> Transcript {
        let mut t = call(&lines.iter().map(|&(_, text)| (Some(1.1), text)).collect::<Vec<_>>());
        for (k, (segment, &(voice, _))) in t.segments.iter_mut().zip(lines).enumerate() {
            segment.voice_vector = Some(voice_of(voice, k));
        }
        t
    }

    #[test]
    fn voices_of_one_pitch_are_told_apart_by_their_vectors() {
        // voice 1 greets: the agent; pitch cannot tell the two apart
        let t = same_pitch_call(&[
            (1, "您好，很高兴为您服务，请问有什么可以帮您？"),
            (0, "我家的燃气表坏了，一直不走字。"),
            (1, "请您稍等，我帮您查询一下。"),
            (0, "好的，麻烦你了。"),
            (1, "让您久等了，师傅两个小时内上门。"),
            (0, "行，那我等着。"),
        ]);
        let (speakers, attribution) = attributed(&t);
        assert_eq!(speakers, [A, C, A, C, A, C], "{attribution:?}");
        // by pitch alone: one voice, nothing told apart
        let mut pitch_only = t.clone();
        pitch_only.segments.iter_mut().for_each(|s| s.voice_vector = None);
        let (speakers, _) = attributed(&pitch_only);
        assert!(!speakers.contains(&C), "{speakers:?}");
    }

    #[test]
    fn the_enrolled_print_says_which_voice_is_the_agent_without_a_word_of_the_lexicon() {
        // the customer speaks first and neither says a line only one of
        // them says: by the words, the first voice would be taken for the
        // agent
        let mut t = same_pitch_call(&[
            (0, "我想问一下燃气费怎么交？"),
            (1, "我不太清楚，你自己去营业厅问吧。"),
            (0, "那你们营业厅在哪里？"),
            (1, "我现在很忙。"),
            (0, "那我自己去问吧。"),
        ]);
        let (speakers, _) = attributed(&t);
        assert_eq!(speakers[0], A, "without a print: the first voice");
        t.enrolled_voice = Some(crate::transcript::EnrolledVoice {
            vector: voice_of(1, 3).0,
            calls: 5,
            seconds: 60.0,
        });
        let (speakers, attribution) = attributed(&t);
        assert_eq!(speakers, [C, A, C, A, C], "{attribution:?}");
        // the first voice ends with the customer's 我要投诉你: the first
        // voice heard and the customer's words pull it both ways, a first
        // reading too unsure to part the voices by; the print parts them
        let mut complaint = t.clone();
        complaint.segments[4].text = "我要投诉你。".into();
        let (speakers, attribution) = attributed(&complaint);
        assert_eq!(speakers, [C, A, C, A, C], "{attribution:?}");
        // without a print the complaint is still the customer's
        complaint.enrolled_voice = None;
        assert_eq!(attributed(&complaint).0[4], C);
    }

    #[test]
    fn an_agent_line_in_the_customers_voice_stays_unknown() {
        // whisper wrote the agent's words over the customer's turn (or two
        // turns as one): the words say agent, the voice says customer
        let t = same_pitch_call(&[
            (1, "您好，很高兴为您服务，请问有什么可以帮您？"),
            (0, "我家的燃气表坏了，一直不走字。"),
            (1, "请您稍等，我帮您查询一下。"),
            (0, "请问有什么可以帮您？"),
            (1, "让您久等了，师傅两个小时内上门。"),
            (0, "行，那我等着。"),
        ]);
        let (speakers, attribution) = attributed(&t);
        assert_eq!(speakers, [A, C, A, U, A, C], "{attribution:?}");
    }

    #[test]
    fn a_customers_words_in_the_agents_voice_stay_unknown() {
        // measured on respoken-1 (respoken1-004): the customer's 那我要投诉
        // nearer the agent's voice; the voice says agent, the words customer
        let lines = |complaint_voice: usize| {
            same_pitch_call(&[
                (1, "您好，很高兴为您服务，请问有什么可以帮您？"),
                (0, "我家的燃气表坏了，一直不走字。"),
                (1, "请您稍等，我帮您查询一下。"),
                (0, "你们这是什么态度。"),
                (complaint_voice, "那我要投诉你们。"),
                (1, "让您久等了，师傅两个小时内上门。"),
            ])
        };
        let (speakers, attribution) = attributed(&lines(1));
        assert_eq!(speakers, [A, C, A, C, U, A], "{attribution:?}");
        // in the customer's voice it is the customer's
        assert_eq!(attributed(&lines(0)).0, [A, C, A, C, C, A]);
    }

    #[test]
    fn a_customers_words_count_against_the_agent_and_for_the_turn_after() {
        // respoken1-004, as the chain sees it: the agent's line; the
        // customer's 那我要投诉, its voice leaning the agent's; then the
        // agent's 不行，再见, too short for a vector, their pitch leaning
        // the agent's a little; a pause before each
        let chain = |customers_words: bool| TurnEvidence {
            anchored: vec![true, false, false, false],
            customers: vec![false, customers_words, false, false],
            first_is_agent: true,
            switches: vec![switch_after(1.0); 3],
        };
        let voice = [3.0, 2.0, 1.0, 1.0];
        let (without, _) = chain(false).decide(&voice, 0.0);
        let (with, _) = chain(true).decide(&voice, 0.0);
        // the complaint is no longer the agent's, and the turn after it is
        // more likely the agent's (in a whole call, the agent's voice
        // centre no longer holds the complaint either)
        assert!(without[1] > 0.75 && with[1] < 0.5, "{without:?} {with:?}");
        assert!(with[2] > without[2], "{without:?} {with:?}");
    }

    #[test]
    fn a_print_and_agent_lines_that_disagree_leave_the_call_unsure() {
        // the print is voice 0's, yet voice 1 says every agent-only line:
        // a mislabelled call, or an agent whose voice changed
        let mut t = same_pitch_call(&[
            (1, "您好，很高兴为您服务，请问有什么可以帮您？"),
            (0, "我家的燃气表坏了，一直不走字。"),
            (1, "请您稍等，我帮您查询一下。"),
            (0, "好的，麻烦你了。"),
            (1, "感谢您的来电，祝您生活愉快。"),
        ]);
        t.enrolled_voice = Some(crate::transcript::EnrolledVoice {
            vector: voice_of(0, 3).0,
            calls: 5,
            seconds: 60.0,
        });
        let (_, attribution) = attributed(&t);
        assert!(
            attribution.confidence.unwrap() <= DISAGREEING_CONFIDENCE,
            "{attribution:?}"
        );
        assert!(attribution.note.unwrap().contains("point at different voices"));
    }

    #[test]
    fn calls_that_cannot_be_attributed_say_why() {
        // no print on any segment (too short, silent)
        let (speakers, attribution) = attributed(&call(&[(None, "嗯"), (None, "好")]));
        assert_eq!(speakers, [U, U]);
        assert_eq!((attribution.from, attribution.confidence), (SpeakersFrom::None, None));
        // transcribed before voice prints
        let mut old = call(&[(Some(1.2), "您好")]);
        old.voice_prints = None;
        let (_, attribution) = attributed(&old);
        assert!(attribution.note.unwrap().contains("older callqa"));
        // one voice: pitch says nothing; the greeting still makes it the agent's
        let (speakers, attribution) = attributed(&call(&[
            (Some(1.20), "您好，很高兴为您服务。"),
            (Some(1.22), "请问有什么可以帮您？"),
            (Some(1.19), "我帮您查询一下。"),
        ]));
        assert_eq!(speakers[..2], [A, A]);
        assert_ne!(speakers[2], C, "one voice is never the customer's too");
        assert!(attribution.note.unwrap().contains("one voice"));
        // stereo calls are known by channel
        let stereo = Transcript::from_segments("s", vec![Segment::new(A, 0.0, 1.0, "您好")]);
        assert_eq!(attributed(&stereo).1, Attribution::channels());
    }

    #[test]
    fn the_turn_chain_holds_the_floor_without_overruling_strong_evidence() {
        let weak = [sigmoid(-0.3), sigmoid(0.3)];
        let agent = [sigmoid(-3.0), sigmoid(3.0)];
        let customer = [agent[1], agent[0]];
        // a weak segment between two agent ones leans agent
        let (p, _) = turn_chain(&[agent, weak, agent], &[0.4; 2]);
        assert!(p[1] > 0.6 && p[0] > 0.9 && p[2] > 0.9, "{p:?}");
        // strong customer evidence between agent segments stays the customer's
        let (p, _) = turn_chain(&[agent, customer, agent], &[0.4; 2]);
        assert!(p[1] < 0.2, "{p:?}");
        assert_eq!(turn_chain(&[], &[]).0, Vec::<f64>::new());
    }

    #[test]
    fn the_fit_prefers_the_reading_the_evidence_agrees_with() {
        // Two readings of one call, as `attribute` weighs them: the first
        // voice's segment holds an agent-only line (an anchor), and pitch
        // says which voice is higher. Where the anchored voice is also the
        // one pitch calls the agent, the evidence agrees and fits better;
        // the stronger the pitch, the larger the preference.
        let likelihood = |log_odds: &[f64]| {
            log_odds
                .iter()
                .fold([1.0, 1.0], |l, &e| [l[0] * sigmoid(-e), l[1] * sigmoid(e)])
        };
        let fit = |pitch: f64, agrees: bool| {
            let pitch = if agrees { pitch } else { -pitch };
            let evidence = [
                likelihood(&[pitch, ANCHOR_LOG_ODDS]),
                likelihood(&[-pitch]),
                likelihood(&[pitch]),
            ];
            turn_chain(&evidence, &[0.8; 2]).1
        };
        for pitch in [0.5, 1.5, 3.0] {
            assert!(fit(pitch, true) > fit(pitch, false), "pitch {pitch}");
        }
        let preference = |pitch: f64| fit(pitch, true) - fit(pitch, false);
        assert!(preference(3.0) > preference(1.5) && preference(1.5) > preference(0.5));
        // no pitch to go by: neither reading is preferred
        assert!((fit(0.0, true) - fit(0.0, false)).abs() < 1e-9);
    }

    #[test]
    fn a_weak_segment_stays_with_the_speaker_it_follows_without_a_pause() {
        let weak = [sigmoid(0.3), sigmoid(-0.3)];
        let agent = [sigmoid(-3.0), sigmoid(3.0)];
        let after = |gap_s: f64| turn_chain(&[agent, weak], &[switch_after(gap_s)]).0[1];
        // leaning customer on its own, it stays the agent's straight after the agent
        assert!(after(0.0) > 0.6, "{}", after(0.0));
        // after a long pause it is the customer's, as its own evidence says
        assert!(after(1.5) < 0.5, "{}", after(1.5));
        assert!(after(0.0) > after(0.4) && after(0.4) > after(0.7));
        assert_eq!(switch_after(0.7), switch_after(3.0), "beyond a long pause, one chance");
    }

    #[test]
    fn a_clause_after_a_comma_is_the_rest_of_the_same_sentence() {
        // mono-005: the customer's 我家的燃气表好像坏了， then 一直不走字。 said
        // higher, so its pitch leans the other way
        let leaning_other = [sigmoid(1.0), sigmoid(-1.0)];
        let first = [sigmoid(-3.0), sigmoid(3.0)];
        let clause = |start: f64, text: &str| Segment::new(Speaker::Unknown, start, start + 1.0, text);
        let second_is_first_speakers = |first_text: &str| {
            let switch = switch_between(&clause(0.0, first_text), &clause(1.4, "一直不走字。"));
            turn_chain(&[first, leaning_other], &[switch]).0[1]
        };
        for comma in ["我家的燃气表好像坏了，", "我家的燃气表好像坏了,", "燃气表、"] {
            assert!(second_is_first_speakers(comma) > 0.6, "{comma}");
        }
        // after a full stop or a question, the same pause and pitch: a new turn
        for end in ["我家的燃气表好像坏了。", "请问有什么可以帮您？", "好的"] {
            assert!(second_is_first_speakers(end) < 0.4, "{end}");
        }
    }
}

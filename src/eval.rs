//! Measuring callqa against what was really said.
//!
//! The sample calls come with `expected.json`: per call, the scripted turns
//! (speaker, start, end, text). Running the matcher over the script gives the
//! lexicon phrases really said; running it over transcripts gives the phrases
//! found. Recall is the share of said phrases found (per call and phrase id,
//! occurrences counted), precision the share of found phrases really said.
//! Benchmarks and tests use these figures, so both measure the same thing.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::asr::{Engine, PhraseProposer};
use crate::audio::{decode_file, speaker_tracks, WHISPER_RATE_HZ};
use crate::input::{discover, DiscoverOptions, DEFAULT_NAME_PATTERN};
use crate::lexicon::{MatchKind, Matcher};
use crate::pack::Pack;
use crate::transcript::{AgentChannel, PhraseCheck, Proposal, Segment, Speaker, Transcript};

/// (call id, phrase id) → occurrences.
pub type PhraseCounts = BTreeMap<(String, String), usize>;

#[derive(Debug, Clone, Deserialize)]
struct ScriptedCall {
    turns: Vec<ScriptedTurn>,
}

#[derive(Debug, Clone, Deserialize)]
struct ScriptedTurn {
    speaker: Speaker,
    start_s: f64,
    end_s: f64,
    text: String,
}

/// The scripts of `expected.json` as transcripts, one per call id.
pub fn scripted_transcripts(expected_json: &Path) -> anyhow::Result<Vec<Transcript>> {
    let text =
        std::fs::read_to_string(expected_json).with_context(|| format!("reading {}", expected_json.display()))?;
    let calls: BTreeMap<String, ScriptedCall> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", expected_json.display()))?;
    Ok(calls
        .into_iter()
        .map(|(call_id, call)| {
            let segments = call
                .turns
                .into_iter()
                .map(|t| Segment::new(t.speaker, t.start_s, t.end_s, &t.text))
                .collect();
            Transcript::from_segments(&call_id, segments)
        })
        .collect())
}

/// Phrase occurrences the matcher finds in `transcripts` (verified against
/// the audio included; uncertain ones are not found). The QA phrases only:
/// customers' risk words are a pointer for managers, not what the hearing
/// figures measure (and are never checked against the audio).
pub fn phrase_counts(transcripts: &[Transcript], pack: &Pack) -> PhraseCounts {
    let matcher = Matcher::new(&pack.lexicon);
    let mut counts = PhraseCounts::new();
    for t in transcripts {
        let qa_phrase = |h: &crate::lexicon::Hit| h.kind.is_found() && h.role != crate::lexicon::Role::Risk;
        for hit in matcher.find(t).into_iter().filter(qa_phrase) {
            *counts.entry((t.call_id.clone(), hit.phrase_id)).or_insert(0) += 1;
        }
    }
    counts
}

/// The phrases the agent said, per call: in a script, the agent's turns; in
/// a transcript, the lines the rules take for the agent's (speakers as told:
/// recorded prompts are the system's, a mono call's voices told apart, its
/// unknown speech the agent's as the default pack takes it). What the IVR
/// sets measure: a prompt's phrase credited to the agent is a false one.
pub fn agent_phrase_counts(transcripts: &[Transcript], pack: &Pack) -> PhraseCounts {
    let matcher = Matcher::new(&pack.lexicon);
    let book = pack.rule_book();
    let mut counts = PhraseCounts::new();
    for t in transcripts {
        let (_, _, hits) = crate::rules::speakers_as_told(t, &matcher, &book);
        let agents = |h: &crate::lexicon::Hit| {
            h.kind.is_found()
                && h.role != crate::lexicon::Role::Risk
                && h.role != crate::lexicon::Role::System
                && matches!(h.speaker, Speaker::Agent | Speaker::Unknown)
        };
        for hit in hits.into_iter().filter(agents) {
            *counts.entry((t.call_id.clone(), hit.phrase_id)).or_insert(0) += 1;
        }
    }
    counts
}

/// How found phrases compare with said ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhraseScore {
    /// Phrase occurrences said (the script's).
    pub said: usize,
    /// Phrase occurrences found (callqa's).
    pub found: usize,
    /// Occurrences both said and found.
    pub matched: usize,
    /// (call, phrase id, said, found) where the two differ.
    pub differences: Vec<(String, String, usize, usize)>,
}

impl PhraseScore {
    /// The score of `found` against `said`, call by call and phrase by phrase.
    pub fn new(said: &PhraseCounts, found: &PhraseCounts) -> Self {
        let mut score = PhraseScore {
            said: said.values().sum(),
            found: found.values().sum(),
            ..Self::default()
        };
        let keys: std::collections::BTreeSet<&(String, String)> = said.keys().chain(found.keys()).collect();
        for key in keys {
            let (s, f) = (
                said.get(key).copied().unwrap_or(0),
                found.get(key).copied().unwrap_or(0),
            );
            score.matched += s.min(f);
            if s != f {
                score.differences.push((key.0.clone(), key.1.clone(), s, f));
            }
        }
        score
    }

    /// Occurrences found and said, over those said (0 when nothing was said).
    pub fn recall(&self) -> f64 {
        self.matched as f64 / self.said.max(1) as f64
    }

    /// 1.0 when nothing was found: nothing claimed, nothing wrong.
    pub fn precision(&self) -> f64 {
        if self.found == 0 {
            1.0
        } else {
            self.matched as f64 / self.found as f64
        }
    }
}

/// One audio check made on a scripted stretch of a sample call, and whether
/// its phrase was said there.
#[derive(Debug, Clone)]
pub struct StretchCheck {
    /// The sample call.
    pub call_id: String,
    /// What the line did to the call (the manifest's `line` column).
    pub line: String,
    /// The noise's SNR in dB, read from `line` (None: a clean call).
    pub snr_db: Option<f32>,
    /// What the stretch is: an agent's turn, a customer's turn, or babble
    /// (the agent's channel while the customer speaks).
    pub stretch: StretchKind,
    /// The scripted text of the stretch (empty for babble).
    pub said: String,
    /// Where the stretch was cut: the channel (0 left or mono, 1 right) and
    /// seconds on the recording, to score it again with another tool.
    pub channel: usize,
    /// Where the stretch starts (seconds on the recording).
    pub start_s: f64,
    /// Where it ends.
    pub end_s: f64,
    /// The phrase checked.
    pub phrase_id: String,
    /// Whether the phrase was said in the stretch (by whoever speaks there).
    pub positive: bool,
    /// The audio check's figures.
    pub check: PhraseCheck,
    /// What the pack's thresholds make of the check.
    pub verdict: Option<MatchKind>,
}

/// What a scripted stretch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StretchKind {
    /// An agent's scripted turn.
    AgentTurn,
    /// A customer's scripted turn.
    CustomerTurn,
    /// The agent's channel while the customer speaks: the line's noise and crosstalk.
    Babble,
}

/// Stretches shorter than this on the agent's channel while the customer
/// speaks are not taken as babble samples.
const MIN_BABBLE_S: f64 = 1.5;

/// Checks every scripted turn of a sample set (a folder with `manifest.csv`
/// and `expected.json`) against its audio as the verifier would at
/// transcription, each turn cut from its speaker's channel as one chunk:
/// the agent's turns (phrases said and not said), the customer's turns
/// (agent phrases are never said there), and on stereo calls the agent's
/// channel while the customer speaks (line noise and babble). The near
/// search listens as to an agent everywhere, so that customer lines and
/// babble give negatives.
pub fn check_scripted_stretches(
    engine: &Engine,
    matcher: &Matcher,
    set_dir: &Path,
) -> anyhow::Result<Vec<StretchCheck>> {
    use rayon::prelude::*;
    let options = DiscoverOptions::new(DEFAULT_NAME_PATTERN, AgentChannel::Left)?;
    let calls = discover(set_dir, &options)?.calls;
    let text = std::fs::read_to_string(set_dir.join("expected.json"))?;
    let scripts: BTreeMap<String, ScriptedCall> = serde_json::from_str(&text)?;
    let proposer = AgentProposer(matcher);
    let mut stretches = Vec::new();
    for call in &calls {
        let script = scripts
            .get(&call.call_id)
            .with_context(|| format!("{} is not in {}/expected.json", call.call_id, set_dir.display()))?;
        let audio = decode_file(&call.audio_path)?;
        let tracks = speaker_tracks(audio, call.agent_channel)?;
        let line = call.extra.get("line").cloned().unwrap_or_default();
        let channel_of = |speaker: Speaker| match (call.agent_channel, speaker) {
            (AgentChannel::Left, Speaker::Customer) | (AgentChannel::Right, Speaker::Agent) => 1,
            _ => 0,
        };
        let track_of = |speaker: Speaker| {
            tracks
                .iter()
                .find(|t| t.speaker == speaker)
                .or_else(|| tracks.iter().find(|t| t.speaker == Speaker::Unknown))
        };
        for turn in &script.turns {
            let kind = match turn.speaker {
                Speaker::Customer => StretchKind::CustomerTurn,
                _ => StretchKind::AgentTurn,
            };
            if let Some(track) = track_of(turn.speaker) {
                let (start_s, end_s) = (turn.start_s - 0.15, turn.end_s + 0.25);
                let channel = if track.speaker == Speaker::Unknown {
                    0
                } else {
                    channel_of(turn.speaker)
                };
                stretches.push((
                    call,
                    line.clone(),
                    kind,
                    turn.clone(),
                    channel,
                    (start_s, end_s),
                    cut(&track.samples, start_s, end_s),
                ));
            }
            let agent = tracks.iter().find(|t| t.speaker == Speaker::Agent);
            if let (StretchKind::CustomerTurn, Some(agent)) = (kind, agent) {
                if turn.end_s - turn.start_s >= MIN_BABBLE_S {
                    let babble = ScriptedTurn {
                        text: String::new(),
                        ..turn.clone()
                    };
                    stretches.push((
                        call,
                        line.clone(),
                        StretchKind::Babble,
                        babble,
                        channel_of(Speaker::Agent),
                        (turn.start_s, turn.end_s),
                        cut(&agent.samples, turn.start_s, turn.end_s),
                    ));
                }
            }
        }
    }
    let per_stretch: Vec<Vec<StretchCheck>> = stretches
        .par_iter()
        .map(
            |(call, line, kind, turn, channel, (start_s, end_s), samples)| -> anyhow::Result<Vec<StretchCheck>> {
                // whoever says a phrase, the audio says it: a customer's 不好意思 is
                // the phrase heard (the channel, not the verifier, makes it theirs)
                let said = said_in(matcher, &turn.text);
                let segments = engine.transcribe_stretch(samples, Speaker::Agent, Some(&proposer))?;
                let verdicts = matcher.judge_checks(&segments.iter().collect::<Vec<_>>());
                Ok(segments
                    .into_iter()
                    .zip(verdicts)
                    .flat_map(|(s, verdicts)| s.checks.into_iter().zip(verdicts))
                    .filter_map(|(check, verdict)| {
                        let phrase_id = matcher.phrase_of_check(&check)?.to_string();
                        Some(StretchCheck {
                            call_id: call.call_id.clone(),
                            line: line.clone(),
                            snr_db: snr_of(line),
                            stretch: *kind,
                            said: turn.text.clone(),
                            channel: *channel,
                            start_s: start_s.max(0.0),
                            end_s: *end_s,
                            positive: said.contains(&phrase_id),
                            verdict,
                            phrase_id,
                            check,
                        })
                    })
                    .collect())
            },
        )
        .collect::<anyhow::Result<_>>()?;
    Ok(per_stretch.into_iter().flatten().collect())
}

/// The phrases said in `text`: those the matcher finds, and those whose
/// words it holds inside a longer phrase of their category (让您久等了 in
/// 王女士，让您久等了: found as the longer one, but said all the same).
fn said_in(matcher: &Matcher, text: &str) -> std::collections::HashSet<String> {
    let script = Transcript::from_segments("said", vec![Segment::new(Speaker::Agent, 0.0, 1.0, text)]);
    let mut said: std::collections::HashSet<String> = matcher.find(&script).into_iter().map(|h| h.phrase_id).collect();
    let options = &matcher.lexicon().normalize;
    let words = crate::text::normalize(text, options).text;
    for phrase in &matcher.lexicon().phrases {
        let literal =
            |tokens: &[crate::lexicon::Token]| tokens.iter().all(|t| matches!(t, crate::lexicon::Token::Literal(_)));
        let inside = phrase
            .variants
            .iter()
            .filter(|v| literal(v))
            .any(|v| words.contains(&crate::lexicon::literal_text(v)));
        if inside {
            said.insert(phrase.id.clone());
        }
    }
    said
}

/// The near search as an agent's: every stretch is searched for agent phrases.
struct AgentProposer<'a>(&'a Matcher);

impl PhraseProposer for AgentProposer<'_> {
    fn propose(&self, _speaker: Speaker, clauses: &[&str]) -> Vec<Proposal> {
        self.0.near_candidates(Speaker::Agent, clauses)
    }
}

fn cut(samples: &[f32], from_s: f64, to_s: f64) -> Vec<f32> {
    let at = |s: f64| ((s.max(0.0) * WHISPER_RATE_HZ as f64) as usize).min(samples.len());
    samples[at(from_s)..at(to_s)].to_vec()
}

/// The noise level a `line` description gives ("… pink noise 12 dB …"): the first figure in dB.
fn snr_of(line: &str) -> Option<f32> {
    let at = line.find(" dB")?;
    line[..at].rsplit(' ').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(entries: &[(&str, &str, usize)]) -> PhraseCounts {
        entries
            .iter()
            .map(|(c, p, n)| ((c.to_string(), p.to_string()), *n))
            .collect()
    }

    #[test]
    fn recall_and_precision_count_occurrences() {
        let said = counts(&[("a", "greeting.x", 1), ("a", "forbidden.y", 2), ("b", "closing.z", 1)]);
        let found = counts(&[("a", "greeting.x", 1), ("a", "forbidden.y", 1), ("b", "nine_dont.w", 1)]);
        let score = PhraseScore::new(&said, &found);
        assert_eq!((score.said, score.found, score.matched), (4, 3, 2));
        assert_eq!(score.recall(), 0.5);
        assert!((score.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(score.differences.len(), 3);
        assert_eq!(PhraseScore::new(&said, &PhraseCounts::new()).precision(), 1.0);
    }

    #[test]
    fn the_sample_scripts_say_what_the_samples_claim() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pack = crate::pack::builtin_pack();
        for dir in ["data-samples", "data-samples/noisy"] {
            let scripts = scripted_transcripts(&repo.join(dir).join("expected.json")).unwrap();
            assert_eq!(scripts.len(), 5, "{dir}");
            let said = phrase_counts(&scripts, &pack);
            assert_eq!(said.values().sum::<usize>(), 34, "{dir}");
        }
    }
}

/// Who-said-what on mono calls against how they were made: segments
/// attributed right, the agent's segments given to the agent, customer
/// segments charged to the agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributionFigures {
    /// Segments whose scripted speaker is known (most of their time in one turn).
    pub segments: usize,
    /// Of them, given to that speaker.
    pub right: usize,
    /// Left unknown.
    pub unknown: usize,
    /// The agent's segments, and how many of them went to the agent.
    pub agent_segments: usize,
    /// The agent's segments given to the agent.
    pub agent_right: usize,
    /// The customer's segments given to the agent.
    pub customer_to_agent: usize,
    /// Each segment given to the wrong speaker: (call id, start, end, truth, text).
    pub wrong: Vec<(String, f64, f64, Speaker, String)>,
    /// Every segment: (call id, start, end, truth if known, told, text).
    pub told: Vec<(String, f64, f64, Option<Speaker>, Speaker, String)>,
    /// The lexicon's phrases in the agent's scripted turns, and how many of
    /// them the rules found and credited to the agent (per call and phrase).
    pub agent_phrases: usize,
    /// Of them, found and credited to the agent.
    pub agent_phrases_credited: usize,
    /// Of them, found and credited when every segment that holds some of an
    /// agent's turn is given to the agent: what attribution could at best
    /// credit, given what whisper heard (the rest of the shortfall is
    /// attribution's).
    pub agent_phrases_at_best: usize,
    /// Each of the agent's phrases not credited: (call id, phrase id).
    pub agent_phrases_missed: Vec<(String, String)>,
    /// Phrases credited to the agent beyond what the agent said: another
    /// voice's line charged to the agent.
    pub phrases_charged_wrongly: usize,
}

impl AttributionFigures {
    /// Share of segments given right.
    pub fn right_share(&self) -> f64 {
        self.right as f64 / self.segments.max(1) as f64
    }

    /// Share of the agent's segments given to the agent.
    pub fn agent_share(&self) -> f64 {
        self.agent_right as f64 / self.agent_segments.max(1) as f64
    }

    /// Share of the agent's lexicon phrases credited to the agent.
    pub fn agent_phrase_share(&self) -> f64 {
        self.agent_phrases_credited as f64 / self.agent_phrases.max(1) as f64
    }

    /// Share of the agent's lexicon phrases attribution could at best credit.
    pub fn agent_phrase_share_at_best(&self) -> f64 {
        self.agent_phrases_at_best as f64 / self.agent_phrases.max(1) as f64
    }
}

/// Who said the scripted turn that covers most of `segment` (more than half
/// of it), if one does.
fn true_speaker(call: &ScriptedCall, segment: &crate::transcript::Segment) -> Option<Speaker> {
    let overlap = |turn: &ScriptedTurn| overlap_s(segment, turn);
    call.turns
        .iter()
        .max_by(|a, b| overlap(a).total_cmp(&overlap(b)))
        .filter(|turn| overlap(turn) > 0.5 * (segment.end - segment.start))
        .map(|turn| turn.speaker)
}

/// Seconds `segment` and a scripted `turn` share.
fn overlap_s(segment: &crate::transcript::Segment, turn: &ScriptedTurn) -> f64 {
    (segment.end.min(turn.end_s) - segment.start.max(turn.start_s)).max(0.0)
}

/// Attributes the mono calls of `expected_json` found in `out` again with
/// the current rules and the folder's enrolled voices, and measures them.
/// `pitch_only` sets the voice vectors and the prints aside: callqa before
/// the voice encoder, on the same transcripts.
pub fn attribution_figures(
    out: &Path,
    expected_json: &Path,
    pack: &Pack,
    pitch_only: bool,
) -> anyhow::Result<AttributionFigures> {
    let bytes = std::fs::read(expected_json).with_context(|| format!("reading {}", expected_json.display()))?;
    let script: BTreeMap<String, ScriptedCall> = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a callqa expected.json", expected_json.display()))?;
    let folder = crate::store::OutDir::new(out);
    let voices = crate::store::read_voiceprints(&folder)?;
    let archive: BTreeMap<String, std::path::PathBuf> = crate::store::list_transcripts(&folder)?
        .into_iter()
        .filter_map(|p| Some((p.file_name()?.to_string_lossy().into_owned(), p)))
        .collect();
    let matcher = Matcher::new(&pack.lexicon);
    let book = pack.rule_book();
    let mut figures = AttributionFigures::default();
    // the agent's phrases found in `hits`, counted per phrase
    let agents_phrases = |hits: &[crate::lexicon::Hit]| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for hit in hits.iter().filter(|h| {
            h.kind.is_found()
                && h.speaker == Speaker::Agent
                && !matches!(h.role, crate::lexicon::Role::Risk | crate::lexicon::Role::System)
        }) {
            *counts.entry(hit.phrase_id.clone()).or_insert(0) += 1;
        }
        counts
    };
    let said: Vec<Transcript> = scripted_transcripts(expected_json)?;
    for (call_id, call) in &script {
        let Some(path) = archive.get(&Transcript::file_name(call_id)) else {
            continue;
        };
        let mut t = Transcript::read(path)?;
        t.enrolled_voice = voices.enrolled(&t.agent_id, &t.call_id);
        if pitch_only {
            t.enrolled_voice = None;
            t.segments.iter_mut().for_each(|s| s.voice_vector = None);
        }
        let (told, _, hits) = crate::rules::speakers_as_told(&t, &matcher, &book);
        let credited = agents_phrases(&hits);
        let mut spoken: BTreeMap<String, usize> = BTreeMap::new();
        for script in said.iter().filter(|s| &s.call_id == call_id) {
            for (phrase, n) in agents_phrases(&matcher.find(script)) {
                *spoken.entry(phrase).or_insert(0) += n;
            }
        }
        for (phrase, &n) in &spoken {
            figures.agent_phrases += n;
            let got = n.min(credited.get(phrase).copied().unwrap_or(0));
            figures.agent_phrases_credited += got;
            for _ in got..n {
                figures.agent_phrases_missed.push((call_id.clone(), phrase.clone()));
            }
        }
        for (phrase, &n) in &credited {
            figures.phrases_charged_wrongly += n.saturating_sub(spoken.get(phrase).copied().unwrap_or(0));
        }
        // at best: every segment that holds some of an agent's turn is the agent's
        let mut as_said = told.clone().into_owned();
        for s in as_said.segments.iter_mut().filter(|s| s.speaker != Speaker::System) {
            let holds_agent = call
                .turns
                .iter()
                .any(|turn| turn.speaker == Speaker::Agent && overlap_s(s, turn) > 0.0);
            s.speaker = if holds_agent { Speaker::Agent } else { Speaker::Customer };
        }
        let at_best = agents_phrases(&matcher.find(&as_said));
        for (phrase, &n) in &spoken {
            figures.agent_phrases_at_best += n.min(at_best.get(phrase).copied().unwrap_or(0));
        }
        for s in &told.segments {
            let truth = true_speaker(call, s);
            figures
                .told
                .push((call_id.clone(), s.start, s.end, truth, s.speaker, s.text.clone()));
            let Some(truth) = truth else {
                continue;
            };
            figures.segments += 1;
            figures.agent_segments += usize::from(truth == Speaker::Agent);
            match s.speaker {
                Speaker::Unknown => figures.unknown += 1,
                said if said == truth => {
                    figures.right += 1;
                    figures.agent_right += usize::from(truth == Speaker::Agent);
                }
                said => {
                    figures.customer_to_agent += usize::from(said == Speaker::Agent);
                    figures
                        .wrong
                        .push((call_id.clone(), s.start, s.end, truth, s.text.clone()));
                }
            }
        }
    }
    Ok(figures)
}

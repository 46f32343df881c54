//! Whose each stretch of a call is, before any rule reads it: the system's
//! (a recorded prompt) or a person's, and what the time between the words
//! was (ringing, hold music, announcements, silence).
//!
//! A segment is the system's when its audio is one of the center's prompts
//! (`Segment::prompt`, found at transcription by `audio::landmarks`) or when
//! its utterance holds a line of the pack's `system` category (a menu's 请按一):
//! one such clause makes its whole utterance the system's, since the IVR's
//! welcome (您好，欢迎致电…请问有什么可以帮您？) and its menu are one recording.
//! Decided here once; the rules, the tables, the index and the pages read the
//! speaker `system` and never credit or charge a person for it.

use serde::{Deserialize, Serialize};

use super::RuleBook;
use crate::lexicon::{Hit, Role};
use crate::transcript::{Segment, SoundKind, SoundSpan, Speaker, Transcript};

/// The call with its system lines marked, or None when it has none (the call
/// as it is): segments whose audio is a prompt, and the utterances that say a
/// line of the pack's system category (`hits`: the phrases found in the call).
pub fn system_lines(transcript: &Transcript, hits: &[Hit], book: &RuleBook) -> Option<Transcript> {
    let by_words: Vec<&Hit> = hits.iter().filter(|h| h.role == Role::System).collect();
    if by_words.is_empty() && transcript.segments.iter().all(|s| s.prompt.is_none()) {
        return None;
    }
    let gap_s = book.rules.utterance_gap_s;
    let mut system: Vec<bool> = transcript.segments.iter().map(|s| s.prompt.is_some()).collect();
    for hit in by_words {
        let mid = (hit.start_s + hit.end_s) / 2.0;
        let Some(at) = transcript
            .segments
            .iter()
            .position(|s| s.speaker == hit.speaker && s.start <= mid + 0.05 && mid <= s.end + 0.05)
        else {
            continue;
        };
        for i in utterance_of(&transcript.segments, at, gap_s) {
            system[i] = true;
        }
    }
    let mut sourced = transcript.clone();
    for (segment, is_system) in sourced.segments.iter_mut().zip(system) {
        if is_system {
            segment.speaker = Speaker::System;
        }
    }
    Some(sourced)
}

/// The indices of the utterance segment `at` belongs to: the segments of its
/// speaker around it with no pause of `gap_s` between them, and heard as the
/// same recording or as none (a prompt found by its audio ends where its
/// audio does: the agent's words after it are no part of it).
fn utterance_of(segments: &[Segment], at: usize, gap_s: f64) -> Vec<usize> {
    let speaker = segments[at].speaker;
    let own: Vec<usize> = (0..segments.len())
        .filter(|&i| segments[i].speaker == speaker)
        .collect();
    let k = own.iter().position(|&i| i == at).expect("the segment is its speaker's");
    let joined = |a: usize, b: usize| {
        let (a, b) = (&segments[own[a]], &segments[own[b]]);
        b.start - a.end < gap_s && a.prompt == b.prompt
    };
    let (mut first, mut last) = (k, k);
    while first > 0 && joined(first - 1, first) {
        first -= 1;
    }
    while last + 1 < own.len() && joined(last, last + 1) {
        last += 1;
    }
    own[first..=last].to_vec()
}

/// The time of a call that is nobody's words, by kind (seconds), and where
/// the agent picked up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NonTalk {
    /// Where the agent's own speech begins after the system's audio and the
    /// ringing before it (0: the recording begins with the call, no IVR).
    /// The greeting and first-response rules count from here.
    pub pick_up_s: f64,
    /// Recorded prompts before pick-up (the IVR's welcome and menu).
    pub ivr_s: f64,
    /// Network tones before pick-up: ringback, busy, keys.
    pub ringing_s: f64,
    /// Music, anywhere in the call (a hold's).
    pub hold_music_s: f64,
    /// Recorded prompts after pick-up (a hold's announcements, the survey).
    pub announcement_s: f64,
    /// After pick-up, nobody speaking and no sound, up to the last words.
    pub silence_s: f64,
    /// The recorded prompts heard, by id, in the order first heard (a
    /// prompt the pack names by its words alone has no id).
    #[serde(default)]
    pub prompts: Vec<String>,
}

/// Where the agent picked up, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PickUp {
    /// Seconds from the recording's start (0: the recording begins with the call).
    pub at_s: f64,
    /// With a voice whisper wrote no words for (a lone 喂？): the agent's
    /// first response is the pick-up itself, not their first words.
    pub wordless: bool,
}

/// Where the agent picks up: the start of the agent's first speech, when the
/// system spoke or a tone or music sounded before it; otherwise the
/// recording's start (a recorder that starts at pick-up). The agent's voice
/// that whisper wrote nothing for counts when it comes after that system
/// audio and those tones (a lone 喂？ the agent picked up with).
pub fn pick_up(agent: &[&Segment], call: &Transcript) -> PickUp {
    let from_the_start = PickUp {
        at_s: 0.0,
        wordless: false,
    };
    let Some(first) = agent.first().map(|s| s.start) else {
        return from_the_start;
    };
    let system_before = call
        .segments
        .iter()
        .filter(|s| s.speaker == Speaker::System && s.start < first)
        .map(|s| s.end);
    let sounds_before = call.sounds.iter().filter(|s| s.start < first).map(|s| s.end);
    let Some(connected) = system_before.chain(sounds_before).reduce(f64::max) else {
        return from_the_start;
    };
    let wordless = call
        .wordless_voice
        .iter()
        .filter(|v| v.speaker == Speaker::Agent && v.start >= connected && v.start < first)
        .map(|v| v.start)
        .reduce(f64::min);
    PickUp {
        at_s: wordless.unwrap_or(first),
        wordless: wordless.is_some(),
    }
}

/// The stretches the center plays to a caller it holds: music and recorded
/// prompts (seconds, start and end), in no particular order.
pub fn hold_audio(call: &Transcript) -> Vec<(f64, f64)> {
    call.sounds
        .iter()
        .filter(|s| s.kind == SoundKind::Music)
        .map(|s| (s.start, s.end))
        .chain(
            call.segments
                .iter()
                .filter(|s| s.speaker == Speaker::System)
                .map(|s| (s.start, s.end)),
        )
        .collect()
}

/// The call's non-talk time, split by kind.
pub fn non_talk(pick_up_s: f64, all: &[Segment], sounds: &[SoundSpan]) -> NonTalk {
    let system = |before: bool| -> f64 {
        all.iter()
            .filter(|s| s.speaker == Speaker::System && (s.start < pick_up_s) == before)
            .map(|s| s.end - s.start)
            .sum()
    };
    let ringing = sounds
        .iter()
        .filter(|s| s.kind.is_tone() && s.start < pick_up_s)
        .map(|s| s.end.min(pick_up_s) - s.start)
        .sum();
    let hold_music = sounds
        .iter()
        .filter(|s| s.kind == SoundKind::Music)
        .map(|s| s.end - s.start)
        .sum();
    // after pick-up: the stretches covered by anyone's words or any sound
    let mut covered: Vec<(f64, f64)> = all
        .iter()
        .map(|s| (s.start, s.end))
        .chain(sounds.iter().map(|s| (s.start, s.end)))
        .filter(|&(_, end)| end > pick_up_s)
        .map(|(start, end)| (start.max(pick_up_s), end))
        .collect();
    covered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let last_words = all.iter().map(|s| s.end).fold(pick_up_s, f64::max);
    let (mut silence, mut until) = (0.0, pick_up_s);
    for (start, end) in covered {
        if start > until {
            silence += start.min(last_words) - until;
        }
        until = until.max(end);
        if until >= last_words {
            break;
        }
    }
    NonTalk {
        pick_up_s,
        ivr_s: system(true),
        ringing_s: ringing,
        hold_music_s: hold_music,
        announcement_s: system(false),
        silence_s: silence.max(0.0),
        prompts: prompts_heard(all),
    }
}

/// The ids of the prompts `all` plays, each once, in the order first heard.
fn prompts_heard(all: &[Segment]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in all.iter().filter_map(|s| s.prompt.as_ref()) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Speaker::{Agent as A, Customer as C, System as S};
    use crate::transcript::WordlessVoice;

    fn call_of(segments: &[Segment], sounds: &[SoundSpan], wordless: &[WordlessVoice]) -> Transcript {
        let mut call = Transcript::from_segments("c", segments.to_vec());
        call.sounds = sounds.to_vec();
        call.wordless_voice = wordless.to_vec();
        call
    }

    fn seg(speaker: Speaker, start: f64, end: f64) -> Segment {
        Segment::new(speaker, start, end, "…")
    }

    fn sound(kind: SoundKind, start: f64, end: f64) -> SoundSpan {
        SoundSpan {
            speaker: A,
            kind,
            start,
            end,
            key: None,
        }
    }

    #[test]
    fn pick_up_is_after_the_ivr_and_the_ringing_and_non_talk_is_split_by_kind() {
        let all = [
            seg(S, 0.5, 10.0),
            seg(A, 15.0, 18.0),
            seg(C, 19.0, 21.0),
            seg(A, 22.0, 23.0),
            seg(S, 35.0, 38.0),
            seg(A, 50.0, 52.0),
        ];
        let sounds = [
            sound(SoundKind::Dtmf, 10.5, 10.6),
            sound(SoundKind::Ringback, 11.0, 12.0),
            sound(SoundKind::Music, 24.0, 35.0),
            sound(SoundKind::Music, 38.0, 48.0),
        ];
        let agent: Vec<&Segment> = all.iter().filter(|s| s.speaker == A).collect();
        let at = pick_up(&agent, &call_of(&all, &sounds, &[])).at_s;
        assert_eq!(at, 15.0);
        let split = non_talk(at, &all, &sounds);
        assert_eq!(split.ivr_s, 9.5);
        assert!((split.ringing_s - 1.1).abs() < 1e-9, "{split:?}");
        assert_eq!(split.hold_music_s, 21.0);
        assert_eq!(split.announcement_s, 3.0);
        // silences after pick-up: 18-19, 21-22, 23-24, 48-50
        assert!((split.silence_s - 5.0).abs() < 1e-9, "{split:?}");
        // a recording that starts at pick-up: pick-up at 0, whatever the agent's delay
        let plain = [seg(A, 3.0, 5.0), seg(C, 6.0, 7.0)];
        let agent: Vec<&Segment> = plain.iter().filter(|s| s.speaker == A).collect();
        assert_eq!(pick_up(&agent, &call_of(&plain, &[], &[])).at_s, 0.0);
    }

    #[test]
    fn the_agent_picks_up_with_words_whisper_did_not_write() {
        // iv-02: the IVR, a key, two rings; the agent's 喂？ at 19.26 has no
        // words, the agent's first segment is at 23.55
        let all = [seg(S, 0.8, 9.9), seg(C, 20.3, 22.6), seg(A, 23.55, 24.8)];
        let sounds = [
            sound(SoundKind::Dtmf, 10.7, 10.8),
            sound(SoundKind::Ringback, 11.6, 12.6),
            sound(SoundKind::Ringback, 16.6, 17.6),
        ];
        let voice = |speaker, start: f64, end: f64| WordlessVoice { speaker, start, end };
        let agent: Vec<&Segment> = all.iter().filter(|s| s.speaker == A).collect();
        let wordless = [voice(A, 5.0, 5.3), voice(C, 18.0, 18.5), voice(A, 19.26, 19.42)];
        let at = |wordless: &[WordlessVoice]| pick_up(&agent, &call_of(&all, &sounds, wordless));
        assert_eq!(
            at(&wordless),
            PickUp {
                at_s: 19.26,
                wordless: true
            }
        );
        // before the last ring, or the customer's: not the agent picking up
        assert_eq!(
            at(&wordless[..2]),
            PickUp {
                at_s: 23.55,
                wordless: false
            }
        );
        // a recording that starts at pick-up stays at 0
        let plain = [seg(A, 3.0, 5.0)];
        let agent: Vec<&Segment> = plain.iter().collect();
        assert_eq!(pick_up(&agent, &call_of(&plain, &[], &[voice(A, 1.0, 1.2)])).at_s, 0.0);
    }

    #[test]
    fn an_utterance_is_one_speakers_words_without_a_pause() {
        let all = [
            seg(A, 0.0, 1.0),
            seg(A, 1.2, 2.0),
            seg(C, 2.1, 3.0),
            seg(A, 2.5, 3.0),
            seg(A, 6.0, 7.0),
        ];
        assert_eq!(utterance_of(&all, 0, 1.5), [0, 1, 3]);
        assert_eq!(utterance_of(&all, 4, 1.5), [4]);
    }

    #[test]
    fn a_prompt_heard_by_its_audio_is_an_utterance_of_its_own() {
        // iv-03: the queue announcement (its words the pack's system line too),
        // then the agent's 让您久等了 1.4 s later on the same channel
        let mut all = [
            seg(A, 70.2, 71.9),
            seg(A, 72.5, 73.5),
            seg(A, 74.0, 74.94),
            seg(A, 76.38, 77.4),
        ];
        for s in &mut all[..3] {
            s.prompt = Some("prompt-03037c53".into());
        }
        assert_eq!(utterance_of(&all, 0, 1.5), [0, 1, 2]);
        assert_eq!(utterance_of(&all, 3, 1.5), [3]);
    }
}

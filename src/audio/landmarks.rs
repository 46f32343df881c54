//! Recorded prompts, found by their audio: a prompt (the IVR's welcome and
//! menu, a hold announcement, the survey after the call) is the same waveform
//! in every call it plays in; an agent saying the same words never is. So a
//! stretch of audio that recurs across a night's calls, through their
//! different lines, codecs and levels, is the system's, not a person's.
//!
//! The fingerprint is the spectral-peak constellation (as Shazam's): the
//! strongest local maxima of the spectrogram in the telephone band, paired
//! with the peaks just after them; each pair hashes its two frequencies and
//! their distance in time. Peaks survive codecs, noise and level changes;
//! their pairs say where in a recording they are. Two recordings share audio
//! where many of their hashes agree at one offset in time.
//!
//! Chromaprint (rusty-chromaprint) was the crate to look at first: it matches
//! whole files by their chroma (twelve pitch classes, made for music) at one
//! best alignment per pair. Prompts are speech in the telephone band, a few
//! seconds of a two-minute call, several per call: peaks and offset votes
//! against a library of prompts fit that, in a few hundred lines.

use std::collections::HashMap;

use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

use super::WHISPER_RATE_HZ;

/// Spectrogram frames: 32 ms, hop 16 ms.
const FFT: usize = 512;
const HOP: usize = 256;
/// Seconds per frame.
pub const FRAME_S: f64 = HOP as f64 / WHISPER_RATE_HZ as f64;
/// The band searched for peaks: 250 Hz to 3.5 kHz (bins of 31.25 Hz).
const LOW_BIN: usize = 8;
const HIGH_BIN: usize = 112;
// Measured on the sample calls against their phone-line copies (AMR-NB at
// 4.75–12.2 kbit/s, pink noise 10–18 dB, babble): 4 s of an agent's speech
// found in its copy with 30–200 agreeing landmarks at one offset, while no
// other offset reaches 15. Sparser peaks (±6 bins, ±4 frames, 12 dB) found
// 11–69, too few to tell from chance on the worst line.
/// A peak is the maximum of its neighbourhood: ±this many bins…
const PEAK_BINS: usize = 3;
/// …and ±this many frames.
const PEAK_FRAMES: usize = 3;
/// …and at least this much above the frame's median (dB).
const PEAK_ABOVE_MEDIAN_DB: f32 = 8.0;
/// Quieter frames hold no peaks (dBFS of the frame).
const FLOOR_DBFS: f32 = -55.0;
/// Each peak is paired with the next this many peaks in its target zone…
const FAN_OUT: usize = 6;
/// …between 1 and this many frames later…
const MAX_DT: u32 = 40;
/// …within this many bins.
const MAX_DF: i32 = 48;

/// One peak pair: its hash and where its first peak is (frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Landmark {
    /// The pair's frequencies and their distance in time, hashed.
    pub hash: u32,
    /// The first peak's frame (16 ms each).
    pub frame: u32,
}

/// The landmarks of a 16 kHz track, in frame order.
pub fn landmarks(samples: &[f32]) -> Vec<Landmark> {
    let peaks = peaks(samples);
    let mut marks = Vec::new();
    for (i, &(t1, f1)) in peaks.iter().enumerate() {
        let mut paired = 0;
        for &(t2, f2) in &peaks[i + 1..] {
            let dt = t2 - t1;
            if dt > MAX_DT {
                break;
            }
            let df = f2 as i32 - f1 as i32;
            if dt == 0 || df.abs() > MAX_DF {
                continue;
            }
            // frequencies in pairs of bins (62.5 Hz) and time in pairs of
            // frames: a codec moves a peak a bin or a frame, not two
            let hash = ((f1 as u32 / 2) << 12) | (((df / 2 + 32) as u32 & 0x3f) << 6) | (dt / 2);
            marks.push(Landmark { hash, frame: t1 });
            paired += 1;
            if paired == FAN_OUT {
                break;
            }
        }
    }
    marks
}

/// (frame, bin) of the spectrogram's peaks, in time order.
fn peaks(samples: &[f32]) -> Vec<(u32, u16)> {
    if samples.len() < FFT {
        return Vec::new();
    }
    let n_frames = (samples.len() - FFT) / HOP + 1;
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(FFT);
    let window: Vec<f32> = (0..FFT)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT as f32).cos())
        .collect();
    let (mut input, mut output) = (fft.make_input_vec(), fft.make_output_vec());
    let bins = HIGH_BIN - LOW_BIN;
    // dB spectrogram of the band, frames × bins; silent frames at -inf
    let mut db = vec![f32::NEG_INFINITY; n_frames * bins];
    for t in 0..n_frames {
        let frame = &samples[t * HOP..t * HOP + FFT];
        let mean = frame.iter().map(|x| x * x).sum::<f32>() / FFT as f32;
        if 10.0 * mean.max(1e-12).log10() < FLOOR_DBFS {
            continue;
        }
        for (i, (&x, w)) in frame.iter().zip(&window).enumerate() {
            input[i] = x * w;
        }
        fft.process(&mut input, &mut output).expect("the FFT's own buffers");
        for b in 0..bins {
            db[t * bins + b] = 10.0 * output[LOW_BIN + b].norm_sqr().max(1e-12).log10();
        }
    }
    let mut found = Vec::new();
    let mut sorted = vec![0.0f32; bins];
    for t in 0..n_frames {
        let row = &db[t * bins..(t + 1) * bins];
        if row[0] == f32::NEG_INFINITY {
            continue;
        }
        sorted.copy_from_slice(row);
        sorted.sort_by(f32::total_cmp);
        let floor = sorted[bins / 2] + PEAK_ABOVE_MEDIAN_DB;
        for (b, &v) in row.iter().enumerate() {
            if v < floor {
                continue;
            }
            let is_max = (t.saturating_sub(PEAK_FRAMES)..(t + PEAK_FRAMES + 1).min(n_frames)).all(|u| {
                (b.saturating_sub(PEAK_BINS)..(b + PEAK_BINS + 1).min(bins))
                    .all(|c| (u, c) == (t, b) || db[u * bins + c] < v || (db[u * bins + c] == v && (u, c) > (t, b)))
            });
            if is_max {
                found.push((t as u32, (LOW_BIN + b) as u16));
            }
        }
    }
    found
}

/// A recorded prompt: its fingerprint and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// Its id (`prompt-` and a hash of its fingerprint: stable across nights).
    pub id: String,
    /// Its length, in seconds.
    pub duration_s: f64,
    /// Its landmarks, frames from its start.
    pub landmarks: Vec<Landmark>,
    /// What whisper heard in it, once a call with it was transcribed.
    #[serde(default)]
    pub text: String,
    /// Calls it was heard in when found.
    #[serde(default)]
    pub calls: u32,
}

/// Where a prompt plays in a track, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMatch {
    /// The prompt's id.
    pub id: String,
    /// Seconds from the track's start.
    pub start_s: f64,
    /// Where it ends.
    pub end_s: f64,
    /// Landmarks that agreed.
    pub votes: u32,
}

// Measured on the IVR sample sets, speech alone fingerprinted: a prompt
// found in another call's line copy (AMR-NB, noise) with 20-40 agreeing
// landmarks a second; unrelated speech of the same TTS voice, pitch and pace
// jittered, agrees with at most 24 at any one offset in a whole call.
/// Landmarks agreeing at one offset that make a match: at least this many…
const MIN_VOTES: usize = 30;
/// …this many a second of the stretch they cover (chance agreements spread
/// over a whole call; a prompt's crowd into its seconds)…
const MIN_VOTES_PER_S: f64 = 10.0;
/// …no two further apart than this (frames: 0.64 s, the pairs' own reach,
/// so a pause inside a prompt keeps it whole).
const MAX_VOTE_GAP: u32 = 40;
/// Hashes this common are no evidence (speech's commonest shapes).
const COMMON_HASH: usize = 400;

/// Where `votes` (landmark frames of a track, per (other, offset)) agree
/// enough to be the same audio: (other, offset, first frame, last frame,
/// votes), strongest first, one per stretch of each other.
fn agreements(votes: &HashMap<(u32, i64), Vec<u32>>) -> Vec<Agreement> {
    let mut found: Vec<(u32, i64, u32, u32, usize)> = Vec::new();
    let mut keys: Vec<(&(u32, i64), usize)> = votes
        .iter()
        .filter(|(_, frames)| frames.len() * 3 >= MIN_VOTES)
        .map(|(k, v)| (k, v.len()))
        .collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (&(other, offset), _) in keys {
        // an offset's neighbours (±1 frame of jitter) vote with it
        let mut frames: Vec<u32> = (-1..=1)
            .filter_map(|d| votes.get(&(other, offset + d)))
            .flatten()
            .copied()
            .collect();
        if frames.len() < MIN_VOTES {
            continue;
        }
        frames.sort_unstable();
        // runs of agreeing landmarks, no two further apart than MAX_VOTE_GAP
        let mut start = 0;
        for i in 1..=frames.len() {
            if i < frames.len() && frames[i] - frames[i - 1] <= MAX_VOTE_GAP {
                continue;
            }
            let (first, last, count) = (frames[start], frames[i - 1], i - start);
            start = i;
            let seconds = (f64::from(last - first) * FRAME_S).max(1.0);
            if count < MIN_VOTES || (count as f64) < MIN_VOTES_PER_S * seconds {
                continue;
            }
            if found
                .iter()
                .any(|&(o, _, f, l, _)| o == other && f <= last && first <= l)
            {
                continue;
            }
            found.push((other, offset, first, last, count));
        }
    }
    found
}

/// The prompts known to a center, indexed by hash.
#[derive(Debug, Clone, Default)]
pub struct PromptLibrary {
    prompts: Vec<Prompt>,
    index: HashMap<u32, Vec<(u32, u32)>>,
}

impl PromptLibrary {
    /// A library of `prompts`.
    pub fn of(prompts: Vec<Prompt>) -> Self {
        let mut index: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        for (p, prompt) in prompts.iter().enumerate() {
            for mark in &prompt.landmarks {
                index.entry(mark.hash).or_default().push((p as u32, mark.frame));
            }
        }
        Self { prompts, index }
    }

    /// The prompts, in the order added.
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }

    /// No prompts.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// Names the library's prompts (a transcript checked against another
    /// library is checked again, from its audio).
    pub fn stamp(&self) -> String {
        let mut ids: Vec<&str> = self.prompts.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        format!(
            "{}:{}",
            ids.len(),
            &blake3::hash(ids.join(",").as_bytes()).to_hex()[..12]
        )
    }

    /// Where the library's prompts play in a track of these landmarks: each
    /// match the stretch its agreeing landmarks cover (a prompt cut short by a
    /// key press is the part that played).
    pub fn find(&self, marks: &[Landmark]) -> Vec<PromptMatch> {
        if self.prompts.is_empty() {
            return Vec::new();
        }
        // votes per (prompt, offset = track frame − prompt frame)
        let mut votes: HashMap<(u32, i64), Vec<u32>> = HashMap::new();
        for mark in marks {
            let Some(hits) = self.index.get(&mark.hash) else {
                continue;
            };
            if hits.len() > COMMON_HASH {
                continue;
            }
            for &(p, frame) in hits {
                votes
                    .entry((p, i64::from(mark.frame) - i64::from(frame)))
                    .or_default()
                    .push(mark.frame);
            }
        }
        // A prompt plays whole at one offset: every landmark agreeing there
        // within the prompt's own stretch votes for it, whatever pauses or
        // line noise lie between them, and the match is the prompt's stretch
        // from the first agreeing landmark to the last, with the pairs' reach.
        let mut found: Vec<PromptMatch> = Vec::new();
        for (p, offset, _, _, _) in agreements(&votes) {
            let prompt = &self.prompts[p as usize];
            let (from, to) = (offset, offset + (prompt.duration_s / FRAME_S).ceil() as i64);
            let mut frames: Vec<u32> = (-1..=1)
                .filter_map(|d| votes.get(&(p, offset + d)))
                .flatten()
                .copied()
                .filter(|&f| i64::from(f) >= from - 1 && i64::from(f) <= to + 1)
                .collect();
            frames.sort_unstable();
            let (Some(&first), Some(&last)) = (frames.first(), frames.last()) else {
                continue;
            };
            let start_s = (f64::from(first) * FRAME_S).max(from as f64 * FRAME_S);
            let end_s = ((f64::from(last) + f64::from(MAX_DT)) * FRAME_S).min(to as f64 * FRAME_S);
            if found
                .iter()
                .any(|m| m.id == prompt.id && m.start_s < end_s && start_s < m.end_s)
            {
                continue;
            }
            found.push(PromptMatch {
                id: prompt.id.clone(),
                start_s,
                end_s: end_s.max(start_s + FRAME_S),
                votes: frames.len() as u32,
            });
        }
        found.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        found
    }
}

/// One track of a call, as discovery sees it.
pub struct HeardTrack<'a> {
    /// Which call (tracks of one call never confirm each other).
    pub call: usize,
    /// Its landmarks.
    pub landmarks: &'a [Landmark],
}

/// A stretch of a track that recurs in other calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurring {
    /// Index into the tracks given.
    pub track: usize,
    /// Frames of the track.
    pub first: u32,
    /// Last frame (inclusive).
    pub last: u32,
    /// Distinct other calls the stretch recurs in.
    pub other_calls: usize,
    /// The group of occurrences it belongs to (one per prompt).
    pub group: usize,
}

/// One stretch two tracks agree on: (the other track, frame offset, first
/// frame, last frame, landmarks that agreed), as [`agreements`] finds them.
type Agreement = (u32, i64, u32, u32, usize);

/// Overlapping stretches of one track merged: (first, last, where heard
/// (track, first, last there), the (track, offset) pairs it was heard at).
type Merged = (u32, u32, Vec<(usize, i64, i64)>, Vec<(usize, i64)>);

/// A shorter stretch is not taken for a prompt (a cough, a click, a beep).
pub const MIN_PROMPT_S: f64 = 1.0;

/// The stretches of `tracks` that recur in at least `min_calls - 1` other
/// calls, grouped: each group is one prompt's occurrences.
pub fn recurring(tracks: &[HeardTrack], min_calls: usize) -> Vec<Recurring> {
    // hash → (track, frame), over every track
    let mut index: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
    for (i, track) in tracks.iter().enumerate() {
        for mark in track.landmarks {
            index.entry(mark.hash).or_default().push((i as u32, mark.frame));
        }
    }
    // each track's stretches shared with another call's track, and how much
    // of the track each other track shares
    let mut agreed: Vec<(usize, Vec<Agreement>)> = Vec::new();
    let mut coverage: HashMap<(usize, usize), f64> = HashMap::new();
    for (a, track) in tracks.iter().enumerate() {
        let mut votes: HashMap<(u32, i64), Vec<u32>> = HashMap::new();
        for mark in track.landmarks {
            let Some(hits) = index.get(&mark.hash) else { continue };
            if hits.len() > COMMON_HASH {
                continue;
            }
            for &(b, frame) in hits {
                if tracks[b as usize].call == track.call {
                    continue;
                }
                votes
                    .entry((b, i64::from(frame) - i64::from(mark.frame)))
                    .or_default()
                    .push(mark.frame);
            }
        }
        let found = agreements(&votes);
        for &(b, _, first, last, _) in &found {
            let inside = track
                .landmarks
                .iter()
                .filter(|m| m.frame >= first && m.frame <= last)
                .count();
            *coverage.entry((a, b as usize)).or_default() += inside as f64 / track.landmarks.len().max(1) as f64;
        }
        agreed.push((a, found));
    }
    // two calls that share nearly all their speech are one recording twice
    // (uploaded twice, re-cut), not the center's prompts
    let copies = |a: usize, b: usize| {
        let share = |x, y| coverage.get(&(x, y)).copied().unwrap_or(0.0);
        share(a, b) > COPY_SHARE && share(b, a) > COPY_SHARE
    };
    let mut shared: Vec<Shared> = Vec::new();
    for (a, found) in agreed {
        for &(b, offset, first, last, _) in &found {
            if copies(a, b as usize) || f64::from(last - first) * FRAME_S < MIN_PROMPT_S {
                continue;
            }
            shared.push(Shared {
                track: a,
                first,
                last: going_on(&found, (b, offset, last)) + MAX_DT / 4,
                other: b as usize,
                offset,
            });
        }
    }
    group_recurring(tracks, shared, min_calls)
}

/// Where a recording two tracks share (`other`, `offset`, its `last` frame)
/// ends, with the clauses that follow it at the same offset: a pause longer
/// than the pairs' reach cuts a prompt's agreeing landmarks into runs, and a
/// last clause alone can be under [`MIN_PROMPT_S`] (a survey's 满意请按一,
/// 0.8 s after 请对本次服务评价: 49 landmarks in 0.88 s). The same offset in
/// both calls is the same recording going on. Only clauses too short to
/// stand alone, after a stretch that does, are taken: what comes before a
/// prompt at a fixed distance, or a stretch long enough to be judged on its
/// own (a text-to-speech agent's 感谢您的来电，再见 before every survey, the
/// same waveform in each sample call), is not the prompt's.
fn going_on(found: &[Agreement], (other, offset, last): (u32, i64, u32)) -> u32 {
    let mut pieces: Vec<(u32, u32)> = found
        .iter()
        .filter(|&&(o, off, first, _, _)| o == other && off.abs_diff(offset) <= 1 && first > last)
        .map(|&(_, _, first, last, _)| (first, last))
        .filter(|&(first, last)| f64::from(last - first) * FRAME_S < MIN_PROMPT_S)
        .collect();
    pieces.sort_unstable();
    let mut end = last;
    for (first, last) in pieces {
        if first > end + JOIN_GAP {
            break;
        }
        end = end.max(last);
    }
    end
}

/// Two tracks that share this much of their landmarks, each way, are copies.
const COPY_SHARE: f64 = 0.8;

/// A stretch of one track heard in another call's track, `offset` frames later there.
struct Shared {
    track: usize,
    first: u32,
    last: u32,
    other: usize,
    offset: i64,
}

/// Merges each track's shared stretches into occurrences recurring in enough
/// calls, and groups occurrences that were heard in each other (one group per
/// prompt).
fn group_recurring(tracks: &[HeardTrack], shared: Vec<Shared>, min_calls: usize) -> Vec<Recurring> {
    let mut by_track: HashMap<usize, Vec<Shared>> = HashMap::new();
    for s in shared {
        by_track.entry(s.track).or_default().push(s);
    }
    let mut found: Vec<Recurring> = Vec::new();
    // per occurrence: where in other tracks it was heard (track, first, last)
    let mut heard_in: Vec<Vec<(usize, i64, i64)>> = Vec::new();
    let mut keys: Vec<usize> = by_track.keys().copied().collect();
    keys.sort_unstable();
    for a in keys {
        let mut stretches = by_track.remove(&a).expect("listed");
        stretches.sort_by_key(|s| (s.first, s.last));
        // (first, last, where heard, the offsets it was heard at)
        let mut merged: Vec<Merged> = Vec::new();
        for s in stretches {
            let there = (s.other, i64::from(s.first) + s.offset, i64::from(s.last) + s.offset);
            // overlapping pieces are one stretch; a piece after a pause is its
            // own (a prompt's clauses are joined across their short pauses
            // already, `MAX_VOTE_GAP`; an agent's words just before a prompt
            // must not join it)
            match merged.last_mut() {
                Some((_, end, with, offsets)) if s.first <= *end => {
                    *end = (*end).max(s.last);
                    with.push(there);
                    offsets.push((s.other, s.offset));
                }
                _ => merged.push((s.first, s.last, vec![there], vec![(s.other, s.offset)])),
            }
        }
        for (first, last, with, _) in merged {
            let mut calls: Vec<usize> = with.iter().map(|&(b, _, _)| tracks[b].call).collect();
            calls.sort_unstable();
            calls.dedup();
            if calls.len() + 1 >= min_calls {
                found.push(Recurring {
                    track: a,
                    first,
                    last,
                    other_calls: calls.len(),
                    group: 0,
                });
                heard_in.push(with);
            }
        }
    }
    // groups: an occurrence is linked to the occurrences it was heard in
    let mut parent: Vec<usize> = (0..found.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, with) in heard_in.iter().enumerate() {
        for &(b, b_first, b_last) in with {
            for (j, other) in found.iter().enumerate() {
                let overlaps = i64::from(other.first) <= b_last && b_first <= i64::from(other.last);
                if j != i && other.track == b && overlaps {
                    let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                    parent[ri] = rj;
                }
            }
        }
    }
    for (i, f) in found.iter_mut().enumerate() {
        f.group = root(&mut parent, i);
    }
    join_adjacent_groups(found)
}

/// A piece this soon after another (frames: 1.5 s) may be the same prompt's.
const JOIN_GAP: u32 = 94;

/// One prompt heard as two groups (a pause inside it longer than the pairs
/// reach, a clause a bad line blurred) plays its pieces one right after the
/// other in every call: groups whose occurrences follow each other within
/// [`JOIN_GAP`] in two thirds of their tracks are one prompt, and its pieces
/// on a track one occurrence.
fn join_adjacent_groups(mut found: Vec<Recurring>) -> Vec<Recurring> {
    loop {
        let mut groups: Vec<usize> = found.iter().map(|r| r.group).collect();
        groups.sort_unstable();
        groups.dedup();
        let tracks_of = |g: usize| -> Vec<usize> {
            let mut t: Vec<usize> = found.iter().filter(|r| r.group == g).map(|r| r.track).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        let mut joined = None;
        'pairs: for &g1 in &groups {
            for &g2 in &groups {
                if g1 == g2 {
                    continue;
                }
                let follows = found
                    .iter()
                    .filter(|a| a.group == g1)
                    .filter(|a| {
                        found.iter().any(|b| {
                            b.group == g2 && b.track == a.track && b.first >= a.first && b.first <= a.last + JOIN_GAP
                        })
                    })
                    .map(|a| a.track)
                    .collect::<std::collections::BTreeSet<usize>>()
                    .len();
                let fewer = tracks_of(g1).len().min(tracks_of(g2).len());
                if follows >= 2 && follows * 3 >= fewer * 2 {
                    joined = Some((g1, g2));
                    break 'pairs;
                }
            }
        }
        let Some((keep, gone)) = joined else { break };
        for r in found.iter_mut().filter(|r| r.group == gone) {
            r.group = keep;
        }
        // a track's pieces of the prompt become one occurrence
        found.sort_by_key(|r| (r.group, r.track, r.first));
        let mut merged: Vec<Recurring> = Vec::new();
        for r in found {
            match merged.last_mut() {
                Some(m) if m.group == r.group && m.track == r.track && r.first <= m.last + JOIN_GAP => {
                    m.last = m.last.max(r.last);
                    m.other_calls = m.other_calls.max(r.other_calls);
                }
                _ => merged.push(r),
            }
        }
        found = merged;
    }
    found
}

/// A prompt's stable id, from its landmarks.
pub fn prompt_id(landmarks: &[Landmark]) -> String {
    let mut hasher = blake3::Hasher::new();
    for mark in landmarks {
        hasher.update(&mark.hash.to_le_bytes());
        hasher.update(&mark.frame.to_le_bytes());
    }
    format!("prompt-{}", &hasher.finalize().to_hex()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{decode_file, speaker_tracks};
    use crate::transcript::{AgentChannel, Speaker};

    const SR: usize = WHISPER_RATE_HZ as usize;

    /// One speaker's 16 kHz track of a sample call.
    fn track(file: &str, speaker: Speaker) -> Vec<f32> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data-samples")
            .join(file);
        let audio = decode_file(&path).unwrap();
        let channel = if file.contains("003") {
            AgentChannel::Right
        } else {
            AgentChannel::Left
        };
        let tracks = speaker_tracks(audio, channel).unwrap();
        tracks.into_iter().find(|t| t.speaker == speaker).unwrap().samples
    }

    /// The agent's first four seconds of call-001: its greeting, as a prompt.
    fn greeting() -> Vec<f32> {
        let agent = track("call-001.wav", Speaker::Agent);
        let start = agent.iter().position(|x| x.abs() > 0.02).unwrap();
        agent[start..start + 4 * SR].to_vec()
    }

    fn library_of(prompt: &[f32]) -> PromptLibrary {
        let marks = landmarks(prompt);
        PromptLibrary::of(vec![Prompt {
            id: prompt_id(&marks),
            duration_s: prompt.len() as f64 / SR as f64,
            landmarks: marks,
            text: String::new(),
            calls: 3,
        }])
    }

    #[test]
    fn a_prompt_is_found_through_a_phone_line_and_nowhere_else() {
        let library = library_of(&greeting());
        // call-001 through AMR-NB at 4.75 kbit/s with pink noise and babble
        let line = library.find(&landmarks(&track("noisy/noisy-001.wav", Speaker::Agent)));
        assert_eq!(line.len(), 1, "{line:?}");
        // the same call answered three seconds late
        let late = library.find(&landmarks(&track("timing/timing-001.flac", Speaker::Agent)));
        assert_eq!(late.len(), 1, "{late:?}");
        assert!(late[0].start_s > line[0].start_s + 2.0, "{late:?} against {line:?}");
        // other speech: the customers of the same calls, another agent's words
        for (file, speaker) in [
            ("call-001.wav", Speaker::Customer),
            ("noisy/noisy-002.wav", Speaker::Agent),
            ("call-002.wav", Speaker::Agent),
        ] {
            let found = library.find(&landmarks(&track(file, speaker)));
            assert!(found.is_empty(), "{file} {speaker:?}: {found:?}");
        }
    }

    /// Landmarks of four calls' tracks, each a customer's words then another
    /// call's agent backwards (speech that recurs nowhere: a prompt is a small
    /// part of a call), with `played` put in from `start_s(i)` seconds at level `gain(i)`.
    fn calls_playing(
        played: &[f32],
        start_s: impl Fn(usize) -> f64,
        gain: impl Fn(usize) -> f32,
    ) -> Vec<Vec<Landmark>> {
        let files = ["call-001.wav", "call-002.wav", "call-004.wav", "noisy/noisy-002.wav"];
        (0..files.len())
            .map(|i| {
                let mut audio = track(files[i], Speaker::Customer);
                audio.extend(track(files[(i + 1) % files.len()], Speaker::Agent).iter().rev());
                let at = (start_s(i) * SR as f64) as usize;
                for (x, p) in audio[at..].iter_mut().zip(played) {
                    *x = *x * 0.2 + p * gain(i);
                }
                landmarks(&audio)
            })
            .collect()
    }

    fn heard_tracks(marks: &[Vec<Landmark>]) -> Vec<HeardTrack<'_>> {
        marks
            .iter()
            .enumerate()
            .map(|(call, m)| HeardTrack { call, landmarks: m })
            .collect()
    }

    #[test]
    fn audio_that_recurs_across_calls_is_one_group_of_occurrences() {
        // the prompt put in at its own place and level in each call
        let at_s = |i: usize| 2.0 + 3.0 * i as f64;
        let marks = calls_playing(&greeting(), at_s, |i| 0.4 + 0.3 * i as f32);
        let tracks = heard_tracks(&marks);
        let found = recurring(&tracks, 3);
        assert_eq!(found.len(), 4, "one occurrence per call: {found:#?}");
        assert!(
            found.iter().all(|r| r.group == found[0].group && r.other_calls == 3),
            "{found:#?}"
        );
        for r in &found {
            let from_s = at_s(r.track);
            let (first, last) = (f64::from(r.first) * FRAME_S, f64::from(r.last) * FRAME_S);
            assert!(
                (first - from_s).abs() < 0.6 && (last - (from_s + 4.0)).abs() < 1.0,
                "{r:?} at {from_s}"
            );
        }
        // in two calls only: not recurring enough
        assert!(recurring(&tracks[..2], 3).is_empty());
    }

    /// `seconds` of a sample call's agent from where they start speaking.
    fn words(file: &str, seconds: f64) -> Vec<f32> {
        let agent = track(file, Speaker::Agent);
        let start = agent.iter().position(|x| x.abs() > 0.02).unwrap();
        agent[start..start + (seconds * SR as f64) as usize].to_vec()
    }

    #[test]
    fn a_prompts_last_clause_after_a_pause_is_the_prompts_and_words_before_it_are_not() {
        // a survey: a long clause, a pause past the pairs' reach, a clause
        // too short to be a prompt alone (请对本次服务评价 … 满意请按一);
        // before it, at the same distance in every call, a short line
        let silence = |s: f64| vec![0.0; (s * SR as f64) as usize];
        let before = words("call-004.wav", 0.85);
        let survey = [greeting(), silence(0.9), words("call-002.wav", 0.85)].concat();
        let tail_s = 4.0 + 0.9 + 0.85;
        let played = [before, silence(0.7), survey].concat();
        // the survey from `at_s`, the line before it 1.55 s earlier
        let at_s = |i: usize| 3.0 + 2.0 * i as f64;
        let marks = calls_playing(&played, |i| at_s(i) - 1.55, |_| 0.6);
        let tracks = heard_tracks(&marks);
        let found = recurring(&tracks, 3);
        assert_eq!(found.len(), 4, "one occurrence per call: {found:#?}");
        for r in &found {
            let from_s = at_s(r.track);
            let (first, last) = (f64::from(r.first) * FRAME_S, f64::from(r.last) * FRAME_S);
            assert!(
                (first - from_s).abs() < 0.6,
                "the words before are not the prompt's: {r:?} at {from_s}"
            );
            assert!(
                (last - (from_s + tail_s)).abs() < 0.6,
                "the last clause is the prompt's: {r:?}, {last:.2} s against {:.2}",
                from_s + tail_s
            );
        }
    }
}

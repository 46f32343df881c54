//! From whisper's tokens to clean, timed clauses.
//!
//! Whisper's byte-level tokens can split one Chinese character across two
//! tokens, so text is rebuilt from bytes and cut only at whole characters.
//! Segments are cut at clause punctuation (，。？！…) so each is a second or
//! two long and a phrase inside it is placed in time: by its tokens' DTW times
//! when asked for, else by its length over the chunk's voiced stretches, with
//! boundaries between clauses moved onto the pauses they are near.
//! Known whisper inventions on silence and runaway repetitions are removed
//! here, before anything downstream can count them.

use crate::transcript::{Segment, Speaker};

pub(super) struct TimedToken {
    pub bytes: Vec<u8>,
    pub start_s: f64,
    pub end_s: f64,
    pub probability: f32,
}

/// A clause, timed relative to its chunk.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Clause {
    pub text: String,
    pub start_s: f64,
    pub end_s: f64,
    pub confidence: f32,
}

const CLAUSE_ENDS: &[char] = &['，', '。', '？', '！', '；', ',', '.', '?', '!', ';', '…'];

/// Whisper's well-known inventions on silence or noise: subtitle credits and
/// video-channel boilerplate from its training data, and our own prompt echoed.
const HALLUCINATIONS: &[&str] = &[
    "请不吝点赞",
    "订阅转发",
    "打赏支持",
    "明镜与点点",
    "点点栏目",
    "字幕由",
    "字幕志愿者",
    "中文字幕",
    "社区提供",
    "amara",
    "谢谢观看",
    "感谢观看",
    "优优独播剧场",
    "yoyotelevision",
    "请订阅",
    "订阅我的频道",
];

/// Our prompt ("以下是普通话的句子。") echoed, whole or in part, on noise: no
/// one on a call says it, so a clause holding it is dropped whatever else it holds.
const PROMPT_ECHOES: &[&str] = &["普通话的句子"];

/// A decoder loop on noise: this many clauses or more of at most
/// `LOOP_CLAUSE_CHARS` digits or letters and no Chinese ("2, 3, 4, 3, 4, …"),
/// making up most of a chunk. Short Chinese answers (好的，对，是的) are speech.
const LOOP_MIN_CLAUSES: usize = 4;
const LOOP_CLAUSE_CHARS: usize = 2;

/// Cuts one whisper segment's tokens into clauses.
pub(super) fn clauses(tokens: &[TimedToken], seg_start_s: f64, seg_end_s: f64) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut probabilities: Vec<f32> = Vec::new();
    let mut start: Option<f64> = None;
    let mut last_end = seg_start_s;
    let timed = tokens.iter().any(|t| t.end_s > t.start_s);
    let total_bytes: usize = tokens.iter().map(|t| t.bytes.len()).sum::<usize>().max(1);
    let mut bytes_seen = 0usize;
    for token in tokens {
        // Without token timestamps, spread the segment evenly over its bytes.
        let (t0, t1) = if timed {
            (
                token.start_s.max(last_end.min(token.start_s)),
                token.end_s.max(token.start_s),
            )
        } else {
            let span = seg_end_s - seg_start_s;
            let t0 = seg_start_s + span * bytes_seen as f64 / total_bytes as f64;
            bytes_seen += token.bytes.len();
            (t0, seg_start_s + span * bytes_seen as f64 / total_bytes as f64)
        };
        let t0 = t0.clamp(seg_start_s.min(seg_end_s), seg_end_s.max(seg_start_s));
        let t1 = t1.clamp(t0, seg_end_s.max(t0));
        start.get_or_insert(t0);
        last_end = t1;
        bytes.extend_from_slice(&token.bytes);
        probabilities.push(token.probability);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if text.trim_end().ends_with(CLAUSE_ENDS) {
                out.push(make_clause(text, start.take().unwrap_or(t0), t1, &probabilities));
                bytes.clear();
                probabilities.clear();
            }
        }
    }
    if !bytes.is_empty() {
        let text = String::from_utf8_lossy(&bytes);
        out.push(make_clause(
            &text,
            start.unwrap_or(last_end),
            last_end.max(seg_end_s.min(last_end + 1.0)),
            &probabilities,
        ));
    }
    out
}

/// A boundary placed by text length moves onto a pause no further away than
/// half its shorter clause, within these bounds (seconds of voice).
const SNAP_MIN_S: f64 = 0.3;
const SNAP_MAX_S: f64 = 1.5;

/// Moves clauses timed on voiced time (seconds of voice, pauses left out)
/// onto the chunk's time, through its voiced stretches. Boundaries between
/// clauses, placed by text length, first move onto the pauses they most
/// likely are (`snap_to_pauses`).
pub(super) fn onto_voiced(clauses: &mut [Clause], voiced_s: &[(f64, f64)]) {
    snap_to_pauses(clauses, voiced_s);
    let chunk_time = |voiced_at: f64| {
        let mut left = voiced_at;
        for &(start, end) in voiced_s {
            if left <= end - start {
                return start + left;
            }
            left -= end - start;
        }
        voiced_s.last().map_or(voiced_at, |&(_, end)| end)
    };
    for clause in clauses {
        // a clause starts with its first word, after any pause before it
        clause.start_s = chunk_time(clause.start_s + 1e-9);
        clause.end_s = chunk_time(clause.end_s - 1e-9).max(clause.start_s);
    }
}

/// Text length says roughly where one clause ends and the next begins; the
/// pauses say exactly where speech stops. People pause between clauses, and
/// on a mixed channel the speaker changes only at a pause, so a boundary left
/// a little off puts the start of one speaker's line in the other's segment
/// (and its voice print, and its clip). Each boundary is matched to at most
/// one pause, in order, moving as little as possible in all (a small dynamic
/// programme); a boundary with no pause in reach stays where it is relative to
/// the moved ones around it. Times are in voiced seconds.
fn snap_to_pauses(clauses: &mut [Clause], voiced_s: &[(f64, f64)]) {
    if clauses.len() < 2 || voiced_s.len() < 2 {
        return;
    }
    let mut pauses = Vec::with_capacity(voiced_s.len() - 1);
    let mut voiced_so_far = 0.0;
    for &(start, end) in &voiced_s[..voiced_s.len() - 1] {
        voiced_so_far += end - start;
        pauses.push(voiced_so_far);
    }
    let boundaries: Vec<f64> = clauses[..clauses.len() - 1].iter().map(|c| c.end_s).collect();
    let reach: Vec<f64> = clauses
        .windows(2)
        .map(|pair| {
            let shorter = (pair[0].end_s - pair[0].start_s).min(pair[1].end_s - pair[1].start_s);
            (shorter / 2.0).clamp(SNAP_MIN_S, SNAP_MAX_S)
        })
        .collect();

    // cost[i][k]: least distance moved placing the first i boundaries with
    // the first k pauses (an unplaced boundary costs its reach)
    let (m, n) = (boundaries.len(), pauses.len());
    let mut cost = vec![vec![f64::INFINITY; n + 1]; m + 1];
    cost[0] = vec![0.0; n + 1];
    for i in 0..=m {
        for k in 0..=n {
            let here = cost[i][k];
            if i < m {
                let stays = here + reach[i];
                if stays < cost[i + 1][k] {
                    cost[i + 1][k] = stays;
                }
                if k < n && (boundaries[i] - pauses[k]).abs() <= reach[i] {
                    let moved = here + (boundaries[i] - pauses[k]).abs();
                    if moved < cost[i + 1][k + 1] {
                        cost[i + 1][k + 1] = moved;
                    }
                }
            }
            if k < n && here < cost[i][k + 1] {
                cost[i][k + 1] = here;
            }
        }
    }
    // walk back: which pause each boundary took
    let mut onto: Vec<Option<f64>> = vec![None; m];
    let (mut i, mut k) = (m, n);
    while i > 0 {
        let here = cost[i][k];
        if k > 0 && cost[i][k - 1] == here {
            k -= 1;
        } else if cost[i - 1][k] + reach[i - 1] == here {
            i -= 1;
        } else {
            onto[i - 1] = Some(pauses[k - 1]);
            i -= 1;
            k -= 1;
        }
    }

    // piecewise-linear from old times to new through the moved boundaries
    let voiced_total: f64 = voiced_s.iter().map(|(start, end)| end - start).sum();
    let total = clauses.last().map_or(0.0, |c| c.end_s).max(voiced_total);
    let mut anchors = vec![(0.0, 0.0)];
    anchors.extend(boundaries.iter().zip(&onto).filter_map(|(&b, p)| p.map(|p| (b, p))));
    anchors.push((total, total));
    let moved = |t: f64| {
        let k = anchors
            .partition_point(|&(old, _)| old <= t)
            .clamp(1, anchors.len() - 1);
        let ((x0, y0), (x1, y1)) = (anchors[k - 1], anchors[k]);
        if x1 - x0 <= 1e-12 {
            y1
        } else {
            y0 + (t - x0) / (x1 - x0) * (y1 - y0)
        }
    };
    for clause in clauses.iter_mut() {
        clause.start_s = moved(clause.start_s);
        clause.end_s = moved(clause.end_s).max(clause.start_s);
    }
}

fn make_clause(text: &str, start_s: f64, end_s: f64, probabilities: &[f32]) -> Clause {
    let confidence = if probabilities.is_empty() {
        0.0
    } else {
        probabilities.iter().sum::<f32>() / probabilities.len() as f32
    };
    Clause {
        text: text.trim().to_string(),
        start_s,
        end_s: end_s.max(start_s),
        confidence,
    }
}

/// Final clean-up of a chunk's clauses: simplified script, no hallucinations,
/// no repeats, times clamped to the chunk and moved onto the call timeline.
pub(super) fn finish(
    clauses: Vec<Clause>,
    offset_s: f64,
    chunk_len_s: f64,
    simplify: impl Fn(&str) -> String,
) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut caption_depth = 0;
    for clause in clauses {
        let text = strip_captions(&simplify(&clause.text), &mut caption_depth);
        let text = collapse_repeats(&join_cjk_spaces(&text));
        let key = comparable(&text);
        if key.is_empty() || is_hallucination(&key) {
            continue;
        }
        let start = offset_s + clause.start_s.clamp(0.0, chunk_len_s);
        let end = offset_s + clause.end_s.clamp(0.0, chunk_len_s);
        if let Some(prev) = out.last_mut() {
            if comparable(&prev.text) == key {
                prev.end = prev.end.max(end); // "谢谢你们。谢谢你们。": one utterance, not two
                continue;
            }
        }
        out.push(Segment {
            speaker: Speaker::Unknown,
            start,
            end: end.max(start),
            text,
            confidence: clause.confidence,
            voice: None,
            checks: Vec::new(),
            prompt: None,
            voice_vector: None,
        });
    }
    drop_short_loops(&mut out);
    out
}

/// Drops a chunk's decoder loop of tiny clauses (see `LOOP_MIN_CLAUSES`).
fn drop_short_loops(segments: &mut Vec<Segment>) {
    let is_tiny = |s: &Segment| {
        let key = comparable(&s.text);
        key.chars().count() <= LOOP_CLAUSE_CHARS && !key.chars().any(is_cjk)
    };
    let tiny = segments.iter().filter(|s| is_tiny(s)).count();
    if tiny >= LOOP_MIN_CLAUSES && tiny * 2 > segments.len() {
        segments.retain(|s| !is_tiny(s));
    }
}

/// Whisper learned sound captions from subtitles: "(人们)", "(笑)", "[音乐]".
/// Call transcripts have no brackets, so bracketed text is never speech.
/// `depth` carries an open bracket over to the chunk's next clause.
fn strip_captions(text: &str, depth: &mut usize) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | '（' | '[' | '【' => *depth += 1,
            ')' | '）' | ']' | '】' => *depth = depth.saturating_sub(1),
            _ if *depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn comparable(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a clause (its `comparable` key) is one of whisper's inventions:
/// known invention text makes up most of it. A clause that only holds one
/// among other words is speech: an agent's 社区提供什么我不大清楚 keeps its
/// 我不大清楚.
fn is_hallucination(key: &str) -> bool {
    if PROMPT_ECHOES.iter().any(|echo| key.contains(echo)) {
        return true;
    }
    let chars: Vec<char> = key.chars().collect();
    let mut covered = vec![false; chars.len()];
    for invention in HALLUCINATIONS {
        for (at, _) in key.match_indices(invention) {
            let first = key[..at].chars().count();
            let n = invention.chars().count();
            covered[first..first + n].iter_mut().for_each(|c| *c = true);
        }
    }
    let inventions = covered.iter().filter(|&&c| c).count();
    inventions > 0 && inventions * 5 >= chars.len() * 3
}

/// Whisper puts spaces between Chinese words now and then; Chinese has none.
fn join_cjk_spaces(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            if prev.is_some_and(is_cjk) || next.is_some_and(is_cjk) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Chinese text for spacing: characters, CJK punctuation and full-width forms.
fn is_cjk(c: char) -> bool {
    crate::text::is_han(c) || matches!(c as u32, 0x3000..=0x303F | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// Whether `text` holds a decoder loop: a unit repeated back to back as
/// [`collapse_repeats`] collapses it.
pub(super) fn loops(text: &str) -> bool {
    collapse_repeats(text) != text
}

/// How often a unit must come back to back to be a decoder loop: a unit of
/// one character (嗯嗯嗯 and 对对对 are people's), and a longer one (twice
/// is people's too: 好的好的).
fn loop_min_repeats(unit_chars: usize) -> usize {
    if unit_chars <= 1 {
        5
    } else {
        3
    }
}

/// The most tokens a decoder loop repeats as one cycle (a clause or a few).
const LOOP_MAX_CYCLE_TOKENS: usize = 64;

/// Drops a decoder loop from a chunk's decoded tokens (`id` of each; `text`
/// its bytes): a run of tokens decoded three times or more back to back (five
/// when it is one character), and any start of one more after the last, is
/// kept once, so the clauses made of it are spread over the voice the loop
/// took. Through a phone line whisper decoded one reading of a number
/// (我的手机号是151，0613，5765) four times over in four seconds, and its
/// clause breaks fell anywhere in the repeats: clause by clause, or within
/// one clause ([`collapse_repeats`]), the repeats are not always the same
/// text. Left in, every phrase in such a loop counted three times, and a
/// number was read across the repeats. Twice is left alone: people do say
/// 喂，你好，喂，你好. Whether any loop was dropped.
pub(super) fn drop_token_loops<T>(tokens: &mut Vec<T>, id: impl Fn(&T) -> i32, text: impl Fn(&T) -> &[u8]) -> bool {
    let ids: Vec<i32> = tokens.iter().map(&id).collect();
    let characters = |cycle: &[T]| {
        let bytes: Vec<u8> = cycle.iter().flat_map(|t| text(t).iter().copied()).collect();
        comparable(&String::from_utf8_lossy(&bytes)).chars().count()
    };
    let mut keep = vec![true; tokens.len()];
    let mut i = 0;
    while i < ids.len() {
        let looped = (1..=LOOP_MAX_CYCLE_TOKENS).find_map(|cycle| {
            let unit = ids.get(i..i + cycle)?;
            let mut end = i + cycle;
            while ids.get(end..end + cycle) == Some(unit) {
                end += cycle;
            }
            if end - i < 3 * cycle {
                return None; // (most places: told before any text is looked at)
            }
            let chars = characters(&tokens[i..i + cycle]);
            if chars == 0 || end - i < loop_min_repeats(chars) * cycle {
                return None;
            }
            // the start of one more repeat
            let more = unit.iter().zip(&ids[end..]).take_while(|(a, b)| a == b).count();
            Some((cycle, end + more))
        });
        match looped {
            Some((cycle, end)) => {
                keep[i + cycle..end].iter_mut().for_each(|k| *k = false);
                i = end;
            }
            None => i += 1,
        }
    }
    let looped = keep.contains(&false);
    let mut kept = keep.into_iter();
    tokens.retain(|_| kept.next().unwrap_or(true));
    looped
}

/// Collapses a unit repeated back to back (shortest unit first, so that
/// "嗯嗯嗯嗯嗯嗯" is one 嗯 and not two 嗯嗯嗯): a unit of two or more characters
/// said three times or more, or one character five times or more, is a decoder
/// loop ("谢谢你们谢谢你们谢谢你们"), not speech. Two repeats are left alone:
/// people do say "好的好的".
fn collapse_repeats(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    'scan: while i < chars.len() {
        for unit in 1..=12 {
            let min_repeats = loop_min_repeats(unit);
            if i + unit * min_repeats > chars.len() {
                continue;
            }
            let pattern = &chars[i..i + unit];
            let mut repeats = 1;
            while i + unit * (repeats + 1) <= chars.len()
                && &chars[i + unit * repeats..i + unit * (repeats + 1)] == pattern
            {
                repeats += 1;
            }
            if repeats >= min_repeats {
                out.extend_from_slice(pattern);
                i += unit * repeats;
                continue 'scan;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &[u8], start_s: f64, end_s: f64) -> TimedToken {
        TimedToken {
            bytes: text.to_vec(),
            start_s,
            end_s,
            probability: 0.9,
        }
    }

    #[test]
    fn clauses_are_cut_at_punctuation_with_their_own_times() {
        let tokens = [
            token("您好".as_bytes(), 0.0, 0.5),
            token("，".as_bytes(), 0.5, 0.6),
            token("请问".as_bytes(), 0.8, 1.2),
            token("有什么".as_bytes(), 1.2, 1.8),
            token("？".as_bytes(), 1.8, 1.9),
        ];
        let got = clauses(&tokens, 0.0, 2.0);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].text, "您好，");
        assert_eq!((got[1].start_s, got[1].end_s), (0.8, 1.9));
    }

    #[test]
    fn a_character_split_across_tokens_is_rebuilt() {
        let bytes = "燃气。".as_bytes();
        let tokens = [
            token(&bytes[..2], 0.0, 0.3),
            token(&bytes[2..], 0.3, 0.6),
            token(&bytes[3..], 0.6, 0.8),
        ];
        let got = clauses(&tokens, 0.0, 1.0);
        assert_eq!(got[0].text, "燃气。");
    }

    #[test]
    fn untimed_tokens_are_spread_over_the_segment() {
        let tokens = [
            token("你好，".as_bytes(), 0.0, 0.0),
            token("再见。".as_bytes(), 0.0, 0.0),
        ];
        let got = clauses(&tokens, 2.0, 4.0);
        assert_eq!((got[0].start_s, got[1].start_s), (2.0, 3.0));
    }

    fn timed_onto(texts: &[&str], voiced: &[(f64, f64)]) -> Vec<(f64, f64)> {
        let tokens: Vec<TimedToken> = texts.iter().map(|t| token(t.as_bytes(), 0.0, 0.0)).collect();
        let total: f64 = voiced.iter().map(|(a, b)| b - a).sum();
        let mut got = clauses(&tokens, 0.0, total);
        onto_voiced(&mut got, voiced);
        got.iter()
            .map(|c| ((c.start_s * 100.0).round() / 100.0, (c.end_s * 100.0).round() / 100.0))
            .collect()
    }

    #[test]
    fn untimed_clauses_are_spread_over_voice_with_boundaries_on_pauses() {
        struct Case {
            name: &'static str,
            texts: &'static [&'static str],
            voiced: &'static [(f64, f64)],
            want: &'static [(f64, f64)],
        }
        let cases = [
            Case {
                // by length the agent's 13 characters end at 2.74 s of 4 s of
                // voice; they run to the pause at 3.0, the customer speaks after it
                name: "a turn change lands on the pause",
                texts: &["您好，请问有什么可以帮您？", "我家停气了。"],
                voiced: &[(0.0, 3.0), (3.6, 4.6)],
                want: &[(0.0, 3.0), (3.6, 4.6)],
            },
            Case {
                // short clauses reach 0.3 s: both boundaries (0.4, 0.8) could take
                // the pause at 0.5; the nearer does, the other keeps its place
                // between it and the end
                name: "a pause is taken once",
                texts: &["好，", "对。", "是。"],
                voiced: &[(0.0, 0.5), (1.0, 1.7)],
                want: &[(0.0, 0.5), (1.0, 1.35), (1.35, 1.7)],
            },
            Case {
                // the only pause is 2 s of voice from the boundary: out of reach
                name: "a boundary far from any pause stays",
                texts: &["您好，", "请问有什么可以帮您？"],
                voiced: &[(0.0, 3.3), (4.0, 4.3)],
                want: &[(0.0, 0.83), (0.83, 4.3)],
            },
            Case {
                // 3 + 10 characters over 1.3 s of voice, 0.1 s each, and a 2 s
                // pause between, where the boundary is
                name: "clauses skip the pauses of the chunk",
                texts: &["您好，", "请问有什么可以帮您？"],
                voiced: &[(0.2, 0.5), (2.5, 3.5)],
                want: &[(0.2, 0.5), (2.5, 3.5)],
            },
            Case {
                name: "no pause inside the chunk: times by length",
                texts: &["您好，", "请问有什么可以帮您？"],
                voiced: &[(0.5, 2.1)],
                want: &[(0.5, 0.87), (0.87, 2.1)],
            },
        ];
        for case in cases {
            assert_eq!(timed_onto(case.texts, case.voiced), case.want, "{}", case.name);
        }
    }

    #[test]
    fn finish_cleans_and_moves_onto_the_call_timeline() {
        let clause = |text: &str, s: f64, e: f64| Clause {
            text: text.into(),
            start_s: s,
            end_s: e,
            confidence: 0.8,
        };
        let segments = finish(
            vec![
                clause("您好， 請問", 0.0, 1.0),
                clause("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目", 1.0, 2.0),
                clause("謝謝你們。", 2.0, 2.5),
                clause("谢谢你们。", 2.5, 3.0),
                clause("，", 3.0, 3.1),
                clause("再见", 3.0, 99.0),
            ],
            10.0,
            4.0,
            |t| zhconv::zhconv(t, zhconv::Variant::ZhHans),
        );
        let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["您好，请问", "谢谢你们。", "再见"]);
        assert_eq!((segments[1].start, segments[1].end), (12.0, 13.0));
        assert_eq!(segments[2].end, 14.0, "clamped to the chunk");
    }

    #[test]
    fn decoder_loops_collapse_but_real_doubling_stays() {
        for (input, want) in [
            ("谢谢你们谢谢你们谢谢你们谢谢你们", "谢谢你们"),
            ("好的好的", "好的好的"),
            ("嗯嗯嗯嗯嗯嗯嗯", "嗯"),
            ("请您稍等", "请您稍等"),
            ("我我我知道", "我我我知道"),
            ("没有人没有人没有人没有人", "没有人"),
        ] {
            assert_eq!(collapse_repeats(input), want, "{input}");
        }
    }

    /// pii-10 through a phone line: one reading of a number decoded four
    /// times over, a clause break anywhere in the repeats. Once is kept, and
    /// what follows the loop; a pair of clauses said twice is people's, and
    /// so is 对对对.
    #[test]
    fn a_decoder_loop_of_tokens_is_kept_once() {
        let tokens = |texts: &[&str]| -> Vec<(i32, String)> {
            texts
                .iter()
                .map(|t| {
                    (
                        t.bytes().map(i32::from).sum::<i32>() * 7 + t.len() as i32,
                        t.to_string(),
                    )
                })
                .collect()
        };
        let after = |texts: &[&str]| -> String {
            let mut decoded = tokens(texts);
            let _ = drop_token_loops(&mut decoded, |t| t.0, |t| t.1.as_bytes());
            decoded.into_iter().map(|t| t.1).collect()
        };
        let reading = ["我的", "手机", "号", "是", "158", "，", "19", "65", "，", "56", "93"];
        let looped: Vec<&str> = reading
            .iter()
            .chain(&reading)
            .chain(&reading)
            .chain(&reading)
            .chain(&reading[..6])
            .chain(&["。", "对"])
            .copied()
            .collect();
        assert_eq!(after(&looped), "我的手机号是158，1965，5693。对");
        for said in [
            vec!["喂", "，", "你好", "，", "喂", "，", "你好", "，", "听得到吗"],
            vec!["对", "对", "对"],
            vec!["好的", "好的"],
        ] {
            assert_eq!(after(&said), said.concat());
        }
        assert_eq!(after(&["嗯"; 6]), "嗯");
    }

    fn texts_after_finish(clauses: &[&str]) -> Vec<String> {
        let clauses = clauses
            .iter()
            .enumerate()
            .map(|(i, text)| Clause {
                text: text.to_string(),
                start_s: i as f64,
                end_s: i as f64 + 1.0,
                confidence: 0.5,
            })
            .collect();
        finish(clauses, 0.0, 60.0, str::to_string)
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn noise_inventions_are_dropped_real_speech_kept() {
        for (clauses, want) in [
            // sound captions, closed, unclosed, spanning clauses, inside speech
            (&["(人们)"][..], &[][..]),
            (&["(在今天)(今天)(今天)(今天)"], &[]),
            (&["(不误会,", "什么时候)", "请您稍等。"], &["请您稍等。"]),
            (&["(人们)您的账单没有问题。"], &["您的账单没有问题。"]),
            (&["【音乐】", "好的。"], &["好的。"]),
            // the prompt echoed, whole or in part
            (&["以下是普通话的句子。"], &[]),
            (&["那是普通话的句子。"], &[]),
            (&["那你们应该是普通话的句子。"], &[]),
            // a loop of tiny clauses on noise; a few short answers are real
            (&["0,", "2,", "3,", "4,", "3,", "4,", "3,"], &[]),
            (&["那我要投诉。", "0,", "2,", "3,", "4,", "3,", "4,"], &["那我要投诉。"]),
            (&["好的,", "谢谢。", "再见。"], &["好的,", "谢谢。", "再见。"]),
            (
                &["对,", "是的,", "没有了,", "谢谢。"],
                &["对,", "是的,", "没有了,", "谢谢。"],
            ),
            (
                &["嗯,", "好的,", "对,", "是的,", "好,", "行。"],
                &["嗯,", "好的,", "对,", "是的,", "好,", "行。"],
            ),
            // book-title marks are text, not captions
            (&["感谢您的来电《再见》"], &["感谢您的来电《再见》"]),
            // subtitle credits, whole: dropped; an invention's words inside
            // what an agent said: kept, and the phrase with them (issue 21)
            (&["字幕由Amara.org社区提供"], &[]),
            (&["中文字幕志愿者 李宗盛"], &[]),
            (&["请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"], &[]),
            (&["社区提供什么我不大清楚。"], &["社区提供什么我不大清楚。"]),
            (
                &["您可以看中文字幕的说明书，", "请订阅我们的短信提醒。"],
                &["您可以看中文字幕的说明书，", "请订阅我们的短信提醒。"],
            ),
        ] {
            assert_eq!(texts_after_finish(clauses), want, "{clauses:?}");
        }
    }
}

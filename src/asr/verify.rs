//! Phrase verification: does the audio say the phrase the transcript nearly holds?
//!
//! Whisper's free decode is one guess among many; on a bad line a phrase the
//! agent said comes out a sound or two off (让营酒等了 for 让您久等了). The
//! lexicon knows which phrases are listened for, and proposes, in a chunk's
//! text, where one nearly stands ([`Proposal`]). Here each proposal is scored
//! against the same audio by teacher forcing: the chunk's encoder output
//! (still in the decoding state after `full()`), the prompt the free decode
//! used, then the decode's own tokens with the proposal's span rewritten as
//! the phrase, token by token through whisper's decoder. Set against the free
//! decode's own log-probability, that says how much less likely the audio
//! makes the phrase than what was heard ([`PhraseCheck::gap_per_char`]); the
//! weakest token of the rewritten span says whether one sound is far off; and
//! the same score for the proposal's rivals (the pack's other phrases at that
//! place) says whether another phrase fits the audio better. What these
//! numbers decide is the lexicon's business: this stage only measures.
//!
//! Cost: the prompt and the free decode are run through the decoder once per
//! chunk as one batch; each rewritten sequence then needs one decoder step per
//! token from its span to the end. Proposals are scored from the last span to
//! the first, so the decoder's cache of the free decode's earlier tokens stays
//! valid for every one of them.

use std::ops::Range;

use whisper_rs::WhisperState;

use super::bpe::Bpe;
use crate::text::{normalize_char, NormalizeOptions};
use crate::transcript::{PhraseCheck, Proposal, Speaker};

/// Proposes what to verify in a chunk's text: the lexicon's near-candidate search.
pub trait PhraseProposer: Sync {
    /// Near candidates in one chunk of `speaker`'s speech; `clauses` are its
    /// clauses' texts in order (spans count characters over all of them).
    fn propose(&self, speaker: Speaker, clauses: &[&str]) -> Vec<Proposal>;
}

/// One token of the free decode.
#[derive(Debug, Clone)]
pub(super) struct FreeToken {
    pub id: i32,
    pub bytes: Vec<u8>,
    /// whisper's own log-probability of it (after its logit filters).
    pub logprob: f32,
    /// When it was spoken (seconds into the chunk), with DTW token timing.
    pub dtw_s: Option<f64>,
}

/// The free decode of one chunk, as the verifier needs it.
pub(super) struct FreeDecode<'a> {
    /// The prompt the decode started from (previous-text marker, initial
    /// prompt, start of transcript, language, task, no timestamps).
    pub prefix: &'a [i32],
    pub tokens: &'a [FreeToken],
    /// whisper's log-probability of ending where it ended (None: the decode
    /// ran out of tokens instead).
    pub end_logprob: Option<f32>,
}

/// Tokens of the free decode after a rewritten span that are scored: the
/// rewrite's effect on what follows fades within a few tokens, and every
/// token costs a decoder step.
const TAIL_TOKENS: usize = 2;
/// A rewrite this much less likely per character than what was heard is not
/// followed further: no threshold accepts it, nor calls it unsure (a pack's
/// `verify.uncertain_gap_per_char` may not go below it).
pub const HOPELESS_GAP_PER_CHAR: f32 = -3.0;
/// Rivals are scored only for a phrase at least this likely (per character):
/// they decide whether a likely phrase is accepted, and whether a grey one
/// leaves its rule open; below this, a phrase's rivals are not asked (a
/// pack's `verify.likely_gap_per_char` may not go below it).
pub const RIVALS_FROM_GAP_PER_CHAR: f32 = -1.5;
/// A rival this much (total log-likelihood) below the phrase is not followed
/// further: it cannot come near it (a pack's `verify.accept_margin` may not
/// exceed it).
pub const RIVAL_REACH: f32 = 2.0;

/// The vocabulary facts the scorer needs.
pub(super) struct Vocabulary {
    pub eot: i32,
    pub n_vocab: usize,
    /// The token of a lone space: whisper suppresses it (and the end) as the first token.
    pub space: i32,
    pub bpe: Bpe,
    /// Each regular token's bytes, by id.
    pub bytes: Vec<Vec<u8>>,
}

impl Vocabulary {
    pub fn bytes_of(&self, id: i32) -> &[u8] {
        self.bytes.get(id as usize).map_or(&[], Vec::as_slice)
    }
}

/// A sequence to score: the free decode's tokens with `free_range` rewritten.
struct Rewritten {
    /// Which proposal (and which of its rivals: 0 = the phrase itself).
    owner: (usize, usize),
    /// First free token replaced; tokens before it are the free decode's.
    first_token: usize,
    tokens: Vec<i32>,
    /// How many of `tokens` (from the start) are the rewritten span.
    span_tokens: usize,
    /// The free decode's tokens the span replaces.
    replaced: std::ops::Range<usize>,
}

/// The outcome of scoring one rewritten sequence.
#[derive(Debug, Clone, Copy)]
struct Scored {
    /// Log-likelihood of the rewritten sequence minus the free decode's.
    gap: f32,
    weakest: f32,
    /// Mean log-probability of the rewritten span's tokens.
    span_mean: f32,
}

/// Scores `proposals` (spans over `clause_texts`, the chunk's cleaned clauses)
/// against the free decode in `state`. Returns one check per proposal that
/// could be placed, with the clause it starts in.
pub(super) fn check_proposals(
    state: &mut WhisperState,
    vocabulary: &Vocabulary,
    free: &FreeDecode,
    clause_texts: &[&str],
    proposals: &[Proposal],
    threads: usize,
) -> Result<Vec<(usize, PhraseCheck)>, whisper_rs::WhisperError> {
    if proposals.is_empty() || free.tokens.is_empty() {
        return Ok(Vec::new());
    }
    let layout = TextLayout::new(free.tokens, clause_texts);
    let mut sequences = Vec::new();
    for (p, proposal) in proposals.iter().enumerate() {
        for (r, candidate) in std::iter::once(proposal).chain(&proposal.rivals).enumerate() {
            if let Some(seq) = layout.rewrite(free.tokens, vocabulary, &candidate.span, &candidate.rewrite) {
                sequences.push(Rewritten { owner: (p, r), ..seq });
            }
        }
    }
    // The state's decoder cache holds the prompt and the free decode, as
    // `full()` left it: a rewrite rewinds it to its own first token and
    // writes on from there. Latest span first, so that what a rewrite
    // overwrites is never needed again; at one place the phrase before its
    // rivals, which are scored only for a phrase that stands a chance.
    sequences.sort_by_key(|s| (std::cmp::Reverse(s.first_token), s.owner.1));
    let mut scores: Vec<Vec<Option<Scored>>> = proposals.iter().map(|p| vec![None; 1 + p.rivals.len()]).collect();
    // how sure the free decode was of the words each phrase would replace
    let mut heard_means: Vec<Option<f32>> = vec![None; proposals.len()];
    for seq in sequences.iter().filter(|s| s.owner.1 == 0 && !s.replaced.is_empty()) {
        let replaced = &free.tokens[seq.replaced.clone()];
        heard_means[seq.owner.0] = Some(replaced.iter().map(|t| t.logprob).sum::<f32>() / replaced.len() as f32);
    }
    for seq in &sequences {
        let (p, r) = seq.owner;
        let own = scores[p][0];
        let chars = |r: usize| {
            let candidate = if r == 0 {
                &proposals[p]
            } else {
                &proposals[p].rivals[r - 1]
            };
            candidate.phrase_chars.max(1) as f32
        };
        let give_up_below = match own {
            // a rival matters only near the phrase's own score
            Some(own) if r > 0 => {
                if own.gap / chars(0) < RIVALS_FROM_GAP_PER_CHAR {
                    continue; // the phrase is out of the question whatever its rivals score
                }
                own.gap - RIVAL_REACH
            }
            _ => HOPELESS_GAP_PER_CHAR * chars(r),
        };
        scores[p][r] = Some(score_rewrite(state, vocabulary, free, seq, give_up_below, threads)?);
    }
    let mut checks = Vec::new();
    for ((proposal, scored), heard_mean) in proposals.iter().zip(&scores).zip(heard_means) {
        let Some(own) = scored[0] else { continue };
        let Some((clause, at)) = layout.clause_position(clause_texts, proposal.span.start) else {
            continue;
        };
        let best_rival = best_rival(&proposal.rivals, &scored[1..]);
        let heard: String = layout.chunk_chars[proposal.span.clone()].iter().collect();
        checks.push((
            clause,
            PhraseCheck {
                phrase: proposal.phrase.clone(),
                at,
                heard,
                gap_per_char: own.gap / proposal.phrase_chars.max(1) as f32,
                weakest: own.weakest,
                mean: own.span_mean,
                rival: best_rival.map(|(r, _)| r.phrase.clone()),
                margin: best_rival.map(|(_, s)| own.gap - s.gap),
                heard_mean,
            },
        ));
    }
    Ok(checks)
}

/// The rival a phrase must beat: the likeliest in all of those scored that
/// the audio does not clearly deny. Put in for a word or two, a short phrase
/// keeps the rest of whisper's own text, so its total is small however wrong
/// it is (再见 for the 展现 of 展现你的慢心等待, −5.5 a character) and would
/// "beat" a phrase it cannot be. Below [`HOPELESS_GAP_PER_CHAR`], under any
/// pack's `uncertain_gap_per_char`, a rival is none (the rules apply the
/// pack's own floor to the phrases checked at the same place).
fn best_rival<'a>(rivals: &'a [Proposal], scored: &[Option<Scored>]) -> Option<(&'a Proposal, Scored)> {
    rivals
        .iter()
        .zip(scored)
        .filter_map(|(rival, s)| s.map(|s| (rival, s)))
        .filter(|(rival, s)| s.gap / rival.phrase_chars.max(1) as f32 >= HOPELESS_GAP_PER_CHAR)
        .max_by(|a, b| a.1.gap.total_cmp(&b.1.gap))
}

/// Runs one rewritten sequence through the decoder from its span on: the
/// span, then up to `TAIL_TOKENS` of the free decode after it (and the end,
/// when the decode ended there), compared with the free decode over the
/// same stretch. A span already hopeless (`HOPELESS_GAP_PER_CHAR`) is not
/// followed into its tail.
fn score_rewrite(
    state: &mut WhisperState,
    vocabulary: &Vocabulary,
    free: &FreeDecode,
    seq: &Rewritten,
    give_up_below: f32,
    threads: usize,
) -> Result<Scored, whisper_rs::WhisperError> {
    let start = free.prefix.len() + seq.first_token; // position of the first rewritten token
    let mut input = match seq.first_token {
        0 => *free.prefix.last().expect("the prefix is never empty"),
        k => free.tokens[k - 1].id,
    };
    let tail = seq.tokens.len() - seq.span_tokens;
    let scored_tail = tail.min(TAIL_TOKENS);
    let mut targets: Vec<i32> = seq.tokens[..seq.span_tokens + scored_tail].to_vec();
    let to_end = scored_tail == tail && free.end_logprob.is_some();
    if to_end {
        targets.push(vocabulary.eot);
    }
    // the free decode over the same stretch: the replaced tokens, the same tail
    let replaced = free.tokens.len() - seq.first_token - tail;
    let free_region: f32 = free.tokens[seq.first_token..seq.first_token + replaced]
        .iter()
        .map(|t| t.logprob)
        .sum();
    let free_tail: f32 = free.tokens[seq.first_token + replaced..seq.first_token + replaced + scored_tail]
        .iter()
        .map(|t| t.logprob)
        .sum::<f32>()
        + if to_end { free.end_logprob.unwrap_or(0.0) } else { 0.0 };
    let mut forced = 0.0f32;
    let mut span_total = 0.0f32;
    let mut weakest = f32::INFINITY;
    for (k, &target) in targets.iter().enumerate() {
        state.decode(&[input], start - 1 + k, threads)?;
        let logits = state.get_logits()?;
        let initial = seq.first_token == 0 && k == 0;
        let logprob = token_logprob(logits, vocabulary, target, initial);
        forced += logprob;
        input = target;
        if k < seq.span_tokens {
            weakest = weakest.min(logprob);
            span_total = forced;
        }
        // every token adds a log-probability at or below 0: the gap can only
        // fall from here, and it is already below anything that matters
        let bound = forced - free_region - free_tail;
        if bound < give_up_below && k + 1 < targets.len() {
            return Ok(Scored {
                gap: bound,
                weakest,
                span_mean: span_total / (k + 1).min(seq.span_tokens).max(1) as f32,
            });
        }
    }
    Ok(Scored {
        gap: forced - free_region - free_tail,
        weakest: if weakest.is_finite() { weakest } else { 0.0 },
        span_mean: span_total / seq.span_tokens.max(1) as f32,
    })
}

/// The log-probability of each of `tokens` (then the end), teacher-forced
/// after the prompt: what scoring the free decode itself gives, which must
/// be whisper's own token log-probabilities for the gaps to mean anything.
#[cfg(test)]
pub(super) fn force_sequence(
    state: &mut WhisperState,
    vocabulary: &Vocabulary,
    prefix: &[i32],
    tokens: &[i32],
    threads: usize,
) -> Result<Vec<f32>, whisper_rs::WhisperError> {
    let mut input = *prefix.last().expect("the prefix is never empty");
    let mut out = Vec::with_capacity(tokens.len() + 1);
    for (k, &target) in tokens.iter().chain(std::iter::once(&vocabulary.eot)).enumerate() {
        state.decode(&[input], prefix.len() - 1 + k, threads)?;
        out.push(token_logprob(state.get_logits()?, vocabulary, target, k == 0));
        input = target;
    }
    Ok(out)
}

/// Decodes on, greedily, past an end whisper was unsure of: the end is
/// suppressed for one token, then allowed again. Returns the tokens added
/// and the log-probability of the new end (None: ran into `max_new`).
pub(super) fn decode_past_end(
    state: &mut WhisperState,
    vocabulary: &Vocabulary,
    free: &FreeDecode,
    max_new: usize,
    threads: usize,
) -> Result<(Vec<FreeToken>, Option<f32>), whisper_rs::WhisperError> {
    let mut added: Vec<FreeToken> = Vec::new();
    let mut input = free
        .tokens
        .last()
        .map_or(*free.prefix.last().expect("non-empty prefix"), |t| t.id);
    let first_position = free.prefix.len() + free.tokens.len() - 1;
    for step in 0..max_new {
        state.decode(&[input], first_position + step, threads)?;
        let logits = state.get_logits()?;
        let initial = free.tokens.is_empty() && step == 0;
        let n = vocabulary.n_vocab.min(logits.len());
        let eot = vocabulary.eot as usize;
        let best = (0..=eot.min(n - 1))
            // the end is suppressed once (that is the point), a lone space first
            .filter(|&id| !((step == 0 && id == eot) || (initial && id == vocabulary.space as usize)))
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .expect("a vocabulary has tokens");
        let logprob = token_logprob(logits, vocabulary, best as i32, initial);
        if best == eot {
            return Ok((added, Some(logprob)));
        }
        added.push(FreeToken {
            id: best as i32,
            bytes: vocabulary.bytes_of(best as i32).to_vec(),
            logprob,
            dtw_s: None,
        });
        if repeats_itself(&added) {
            return Ok((added, None)); // a decoder loop, not speech
        }
        input = best as i32;
    }
    Ok((added, None))
}

/// Whether the last tokens repeat a unit of one to four tokens three times
/// over: whisper looping, which goes on to the token limit.
fn repeats_itself(tokens: &[FreeToken]) -> bool {
    (1..=4).any(|unit| {
        tokens.len() >= 3 * unit && {
            let tail = &tokens[tokens.len() - 3 * unit..];
            (0..unit).all(|i| tail[i].id == tail[i + unit].id && tail[i].id == tail[i + 2 * unit].id)
        }
    })
}

/// log P(token) from one row of logits, after the filters whisper's own
/// decode applied with `no_timestamps` (so that scores compare with its
/// token probabilities): every special token but the end suppressed, and on
/// the first token the end and a lone space too.
fn token_logprob(logits: &[f32], vocabulary: &Vocabulary, token: i32, initial: bool) -> f32 {
    let eot = vocabulary.eot as usize;
    let n = (eot + 1).min(logits.len());
    let allowed = |id: usize| !(initial && (id == eot || id == vocabulary.space as usize));
    let token = token as usize;
    if token >= n || !allowed(token) {
        return f32::NEG_INFINITY;
    }
    // the regular tokens and the end: every other special token is suppressed
    let max = logits[..n]
        .iter()
        .enumerate()
        .filter(|&(i, _)| allowed(i))
        .map(|(_, &l)| l)
        .fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits[..n]
        .iter()
        .enumerate()
        .filter(|&(i, _)| allowed(i))
        .map(|(_, &l)| (l - max).exp())
        .sum();
    (logits[token] - max) - sum.ln()
}

/// How the chunk's clauses (cleaned text) line up with the free decode's bytes.
struct TextLayout {
    /// The clauses' characters, concatenated.
    chunk_chars: Vec<char>,
    /// Per chunk character: the decoded character it was made from (None:
    /// punctuation, or nothing lines up).
    raw_char_of: Vec<Option<usize>>,
    /// Per decoded character: its byte range in the decoded bytes.
    raw_bytes: Vec<Range<usize>>,
    /// Per free token: its byte range.
    token_bytes: Vec<Range<usize>>,
    bytes: Vec<u8>,
}

impl TextLayout {
    fn new(tokens: &[FreeToken], clause_texts: &[&str]) -> Self {
        let mut bytes = Vec::new();
        let mut token_bytes = Vec::with_capacity(tokens.len());
        for t in tokens {
            token_bytes.push(bytes.len()..bytes.len() + t.bytes.len());
            bytes.extend_from_slice(&t.bytes);
        }
        let decoded = String::from_utf8_lossy(&bytes).into_owned();
        // byte ranges of decoded characters (a lossy U+FFFD never lines up)
        let mut raw_bytes = Vec::new();
        let mut raw_norm = Vec::new();
        if decoded.len() == bytes.len() {
            for (at, c) in decoded.char_indices() {
                raw_bytes.push(at..at + c.len_utf8());
                raw_norm.push(comparable(c));
            }
        }
        let chunk_chars: Vec<char> = clause_texts.iter().flat_map(|t| t.chars()).collect();
        // the clauses are the decode with clauses dropped, script simplified and
        // repeats collapsed: a subsequence, matched in order
        let mut raw_char_of = vec![None; chunk_chars.len()];
        let mut next = 0;
        for (i, &c) in chunk_chars.iter().enumerate() {
            let Some(want) = comparable(c) else { continue };
            if let Some(found) = (next..raw_norm.len()).find(|&k| raw_norm[k] == Some(want)) {
                raw_char_of[i] = Some(found);
                next = found + 1;
            }
        }
        Self {
            chunk_chars,
            raw_char_of,
            raw_bytes,
            token_bytes,
            bytes,
        }
    }

    /// The free decode with the chunk characters `span` written as `rewrite`:
    /// whole tokens are replaced, from the one holding the span's first byte
    /// to the one holding its last, re-tokenised as whisper writes text.
    fn rewrite(
        &self,
        tokens: &[FreeToken],
        vocabulary: &Vocabulary,
        span: &Range<usize>,
        rewrite: &str,
    ) -> Option<Rewritten> {
        let lined_up: Vec<usize> = self.raw_char_of.get(span.clone())?.iter().flatten().copied().collect();
        let (first_char, last_char) = (*lined_up.first()?, *lined_up.last()?);
        let (byte_start, byte_end) = (self.raw_bytes[first_char].start, self.raw_bytes[last_char].end);
        let token_at = |byte: usize| self.token_bytes.iter().position(|r| r.contains(&byte));
        let mut first_token = token_at(byte_start)?;
        let mut last_token = token_at(byte_end - 1)?;
        // whole characters only: a token boundary inside a character moves out
        let is_char_start = |b: usize| b >= self.bytes.len() || (self.bytes[b] & 0xC0) != 0x80;
        while first_token > 0 && !is_char_start(self.token_bytes[first_token].start) {
            first_token -= 1;
        }
        while last_token + 1 < tokens.len() && !is_char_start(self.token_bytes[last_token].end) {
            last_token += 1;
        }
        let region = self.token_bytes[first_token].start..self.token_bytes[last_token].end;
        let mut text = Vec::new();
        text.extend_from_slice(&self.bytes[region.start..byte_start]);
        text.extend_from_slice(rewrite.as_bytes());
        text.extend_from_slice(&self.bytes[byte_end..region.end]);
        let text = String::from_utf8(text).ok()?;
        let mut new_tokens = vocabulary.bpe.encode(&text)?;
        let span_tokens = new_tokens.len();
        new_tokens.extend(tokens[last_token + 1..].iter().map(|t| t.id));
        Some(Rewritten {
            owner: (0, 0),
            first_token,
            tokens: new_tokens,
            span_tokens,
            replaced: first_token..last_token + 1,
        })
    }

    /// Which clause a chunk character is in, and its index there.
    fn clause_position(&self, clause_texts: &[&str], chunk_char: usize) -> Option<(usize, usize)> {
        let mut before = 0;
        for (i, text) in clause_texts.iter().enumerate() {
            let n = text.chars().count();
            if chunk_char < before + n {
                return Some((i, chunk_char - before));
            }
            before += n;
        }
        None
    }
}

/// A character as both sides compare it: normalised, punctuation none.
fn comparable(c: char) -> Option<char> {
    normalize_char(c, &NormalizeOptions { ni_nin_alike: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_tokens(pieces: &[&[u8]]) -> Vec<FreeToken> {
        pieces
            .iter()
            .enumerate()
            .map(|(i, b)| FreeToken {
                id: 1000 + i as i32,
                bytes: b.to_vec(),
                logprob: -0.1,
                dtw_s: None,
            })
            .collect()
    }

    #[test]
    fn clauses_line_up_with_the_decoded_bytes() {
        // "讓您久等了，好" decoded in three tokens, the middle one splitting 等
        let text = "讓您久等了，好".as_bytes();
        let split = "讓您久".len() + 1;
        let tokens = free_tokens(&[&text[..split], &text[split..split + 2], &text[split + 2..]]);
        let layout = TextLayout::new(&tokens, &["让您久等了，", "好"]);
        assert_eq!(layout.raw_char_of[0], Some(0), "simplified 让 lines up with 讓");
        assert_eq!(layout.raw_char_of[5], None, "punctuation does not take part");
        assert_eq!(layout.raw_char_of[6], Some(6));
        assert_eq!(layout.clause_position(&["让您久等了，", "好"], 6), Some((1, 0)));
    }

    #[test]
    fn a_rival_the_audio_clearly_denies_is_none() {
        let rival = |phrase: &str, chars: usize| Proposal {
            span: 0..2,
            rewrite: phrase.into(),
            phrase: phrase.into(),
            phrase_chars: chars,
            rivals: Vec::new(),
        };
        let scored = |gap: f32| {
            Some(Scored {
                gap,
                weakest: -5.0,
                span_mean: -3.0,
            })
        };
        // noisy-003: 感谢您的耐心等待 for 展现你的慢心等待 at −2.1 a character
        // (−16.7); the closing 再见 put in for 展现 at −5.45 (−10.9) is no rival
        let rivals = [rival("再见", 2), rival("感谢您的来电", 6)];
        let best = best_rival(&rivals, &[scored(-10.9), scored(-17.0)]);
        assert_eq!(best.map(|(r, _)| r.phrase.as_str()), Some("感谢您的来电"));
        assert!(best_rival(&rivals[..1], &[scored(-10.9)]).is_none());
        // one the audio nearly supports still counts, likeliest first
        let best = best_rival(&rivals, &[scored(-4.8), scored(-17.0)]);
        assert_eq!(best.map(|(r, _)| r.phrase.as_str()), Some("再见"));
        // unscored rivals are not asked
        assert!(best_rival(&rivals, &[None, None]).is_none());
    }
}

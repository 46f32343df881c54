//! The compiled matcher: a pack's phrases → hits in a transcript.
//!
//! Guarantees:
//! - Both sides are normalised alike (see [`crate::text::normalize`]).
//! - One Aho-Corasick automaton runs over each speaker's speech as sounds (a
//!   sound id per character), reporting overlapping matches of three kinds of
//!   pattern at once: every literal phrase variant (exact where the characters
//!   are its own), the longest literal part of each slot phrase (its regex is
//!   tried only where that part occurs) and the pieces of the tolerant phrases.
//!   One pass of two bytes a character, not one over the UTF-8 text (three a
//!   character) and another over the sounds: this runs over every clause of
//!   every call of a re-score.
//! - Tolerant matching (phrases of at least `tolerant_min_chars` characters)
//!   compares characters by sound: homophones cost 0.25, near-sounds
//!   (same initial or same final) 0.7, anything else rules the window out
//!   (below 8 characters). The budget is 0.75 below 8 characters, 1.5 from 8, so
//!   请您收等 matches 请您稍等 but 我现在很好 does not match 我现在很忙.
//!   Candidates come from the pieces, by the pigeonhole principle: with at
//!   most k slips, one of k + 1 pieces of the phrase is intact.
//! - Matches never span speakers, nor a pause of more than two seconds.
//! - Within a category, a hit inside a longer hit is dropped (请您稍等 inside
//!   请您稍等片刻, written or heard by sound), of two wordings of one phrase at
//!   one place the surer stands, and a hit inside one of its phrase's
//!   exclusions is dropped.

mod near;

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind as AcMatchKind};
use regex::Regex;
use rustc_hash::FxHashMap;

use super::phrase::{literal_text, Slot, Token};
use super::{CategorySpeaker, Hit, HitVerdict, Lexicon, MatchKind, Role};
use crate::text::{normalize_char, syllable_distance, syllable_of, SyllableDistance};
use crate::transcript::{PhraseCheck, Proposal, Segment, Speaker, Transcript};

/// Joins segments of one speaker; never part of a phrase.
const BREAK: char = '|';
/// Segments further apart than this are not one stretch of speech.
const MAX_JOIN_GAP_S: f64 = 2.0;
const LONG_PHRASE_CHARS: usize = 8;
/// Sentence-final particles: ASR writes one for another (让您久等了 heard as
/// 让您久等啦), and a phrase means the same with any of them.
const FINAL_PARTICLES: &[char] = &['了', '啦', '呢', '吧', '啊', '呀', '嘛', '咯', '喽', '哦', '哈', '啰'];

fn is_particle(c: char) -> bool {
    FINAL_PARTICLES.contains(&c)
}

/// The part of a phrase that tolerant candidates must share by sound: a short
/// phrase's head may be a near-sound and a final particle any particle (see
/// [`sounds_alike`]), so neither is required.
fn tolerant_core(chars: &[char]) -> std::ops::Range<usize> {
    let start = usize::from(chars.len() < LONG_PHRASE_CHARS);
    let end = chars.len() - usize::from(chars.last().copied().is_some_and(is_particle));
    start..end.max(start + 1).min(chars.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SoundKey {
    Syllable(&'static str, &'static str),
    Char(char),
}

fn sound_key(c: char) -> SoundKey {
    match syllable_of(c) {
        Some(s) => SoundKey::Syllable(s.initial, s.final_),
        None => SoundKey::Char(c),
    }
}

struct Variant {
    phrase: usize,
    variant: usize,
    chars: Vec<char>,
}

struct SlotPattern {
    phrase: usize,
    variant: usize,
    regex: Regex,
}

/// What a pattern of the sound automaton stands for.
#[derive(Debug, Clone, Copy)]
enum SoundPattern {
    /// A literal variant (index in `literals`), whole.
    Literal(usize),
    /// The longest literal part of a slot pattern (index in `slotted`).
    Anchor(usize),
    /// A piece of a tolerant entry (index in `tolerant_pieces`).
    Piece(usize),
}

struct TolerantPiece {
    entry: usize,
    /// Offset of the piece inside the phrase, in characters.
    offset: usize,
}

/// A pack's phrases, ready to be found in transcripts: exact (Aho-Corasick over the normalised variants), tolerant (by sound) and near (for the audio check).
pub struct Matcher {
    lexicon: Lexicon,
    literals: Vec<Variant>,
    slotted: Vec<SlotPattern>,
    /// Longest literal part of each slot pattern: a cheap gate before the
    /// regex (empty: the regex is always tried).
    slot_anchors: Vec<Vec<char>>,
    tolerant_entries: Vec<Variant>,
    tolerant_pieces: Vec<TolerantPiece>,
    /// Every pattern over the sound ids (none when the pack has no phrase).
    sounds: Option<AhoCorasick>,
    sound_patterns: Vec<SoundPattern>,
    sound_ids: FxHashMap<SoundKey, u16>,
    /// Sound id of every CJK character (0x3400..=0x9FFF), `NO_SOUND` where no
    /// phrase uses that sound: the per-character lookup on the hot path.
    cjk_sound_ids: Vec<u16>,
    /// Every variant, prepared for the near search that proposes phrases to verify.
    near_entries: Vec<near::NearEntry>,
    /// Phrase and variant by the variant as written: how audio checks name them.
    written: HashMap<String, (usize, usize)>,
}

const NO_SOUND: u16 = u16::MAX;

/// One speaker's speech as one normalised string, with the way back to segments.
struct Stream<'a> {
    speaker: Speaker,
    segments: Vec<&'a Segment>,
    /// Per segment: how many normalised characters it has (for time interpolation).
    normalized_len: Vec<usize>,
    chars: Vec<char>,
    /// Per char: where it came from, None for breaks.
    position: Vec<Option<CharOrigin>>,
}

/// Where a stream character came from.
#[derive(Debug, Clone, Copy)]
struct CharOrigin {
    segment: usize,
    /// Index among the segment's normalised characters.
    normalized: usize,
    /// Index among the segment's original characters.
    original: usize,
}

/// A match before it becomes a [`Hit`]: char range in a stream.
#[derive(Debug, Clone, Copy)]
struct Found {
    phrase: usize,
    variant: usize,
    start: usize,
    end: usize,
    kind: MatchKind,
    /// The audio check's score, for `verified` and `uncertain`.
    score: Option<f32>,
}

impl Found {
    /// How strong the evidence is (lower is stronger): a hit covers a hit of
    /// its category inside it only with evidence at least as strong.
    fn strength(&self) -> u8 {
        match self.kind {
            MatchKind::Exact => 0,
            MatchKind::Tolerant | MatchKind::Verified => 1,
            MatchKind::Uncertain => 2,
        }
    }
}

/// One phrase said once is one hit: where two wordings of a phrase overlap
/// (请问有什么可以帮您 written out, 请问有什么可以帮到您 heard in it by sound),
/// the surer match stands. Otherwise the nesting rule below, which lets what
/// was written outlive a sound-alike of another phrase around it, would keep
/// both and the moment would be listed twice.
fn keep_surest_wording(mut found: Vec<Found>) -> Vec<Found> {
    let surer_wording = |f: &Found, o: &Found| {
        o.phrase == f.phrase
            && o.variant != f.variant
            && o.start < f.end
            && f.start < o.end
            && o.strength() < f.strength()
    };
    let weaker: Vec<bool> = found
        .iter()
        .map(|f| found.iter().any(|o| surer_wording(f, o)))
        .collect();
    let mut weaker = weaker.into_iter();
    found.retain(|_| !weaker.next().unwrap_or(false));
    found
}

impl Matcher {
    /// A matcher for `pack` (keeps a copy of it).
    pub fn new(lexicon: &Lexicon) -> Matcher {
        let mut literals = Vec::new();
        let mut slotted = Vec::new();
        let mut anchors = Vec::new();
        let mut tolerant_entries = Vec::new();
        for (pi, phrase) in lexicon.phrases.iter().enumerate() {
            for (vi, tokens) in phrase.variants.iter().enumerate() {
                match tokens.as_slice() {
                    [Token::Literal(text)] => {
                        let chars: Vec<char> = text.chars().collect();
                        if lexicon.matching.tolerant && chars.len() >= lexicon.matching.tolerant_min_chars {
                            tolerant_entries.push(Variant {
                                phrase: pi,
                                variant: vi,
                                chars: chars.clone(),
                            });
                        }
                        literals.push(Variant {
                            phrase: pi,
                            variant: vi,
                            chars,
                        });
                    }
                    _ => {
                        anchors.push(longest_literal(tokens).chars().collect::<Vec<char>>());
                        slotted.push(SlotPattern {
                            phrase: pi,
                            variant: vi,
                            regex: slot_regex(tokens),
                        });
                    }
                }
            }
        }
        let mut sound_ids: FxHashMap<SoundKey, u16> = FxHashMap::default();
        let mut sound_bytes = |chars: &[char]| -> Vec<u8> {
            chars
                .iter()
                .flat_map(|&c| {
                    let next = sound_ids.len() as u16 + 1;
                    sound_ids.entry(sound_key(c)).or_insert(next).to_be_bytes()
                })
                .collect()
        };
        let (mut pattern_bytes, mut sound_patterns) = (Vec::new(), Vec::new());
        for (i, literal) in literals.iter().enumerate().filter(|(_, v)| !v.chars.is_empty()) {
            pattern_bytes.push(sound_bytes(&literal.chars));
            sound_patterns.push(SoundPattern::Literal(i));
        }
        for (i, anchor) in anchors.iter().enumerate().filter(|(_, a)| !a.is_empty()) {
            pattern_bytes.push(sound_bytes(anchor));
            sound_patterns.push(SoundPattern::Anchor(i));
        }
        let mut tolerant_pieces = Vec::new();
        for (ei, entry) in tolerant_entries.iter().enumerate() {
            let ids = sound_bytes(&entry.chars);
            let core = tolerant_core(&entry.chars);
            let n_pieces = (max_slips(entry.chars.len()) + 1).min(core.len());
            let piece_len = core.len() / n_pieces;
            for k in 0..n_pieces {
                let start = core.start + k * piece_len;
                let end = if k + 1 == n_pieces { core.end } else { start + piece_len };
                pattern_bytes.push(ids[2 * start..2 * end].to_vec());
                sound_patterns.push(SoundPattern::Piece(tolerant_pieces.len()));
                tolerant_pieces.push(TolerantPiece {
                    entry: ei,
                    offset: start,
                });
            }
        }
        // (a DFA: it runs over every clause of every call of a re-score, and
        // a pack's few thousand patterns make a small one)
        let sounds = (!pattern_bytes.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(AcMatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&pattern_bytes)
                .expect("sound automaton builds")
        });
        let cjk_sound_ids = crate::text::HAN
            .map(|code| {
                char::from_u32(code)
                    .and_then(|c| sound_ids.get(&sound_key(c)).copied())
                    .unwrap_or(NO_SOUND)
            })
            .collect();
        let written = lexicon
            .phrases
            .iter()
            .enumerate()
            .flat_map(|(pi, p)| p.written.iter().enumerate().map(move |(vi, w)| (w.clone(), (pi, vi))))
            .collect();
        Matcher {
            written,
            near_entries: near::entries(lexicon),
            lexicon: lexicon.clone(),
            literals,
            slotted,
            slot_anchors: anchors,
            tolerant_entries,
            tolerant_pieces,
            sounds,
            sound_patterns,
            sound_ids,
            cjk_sound_ids,
        }
    }

    /// The lexicon it matches.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// All hits in a transcript, in time order.
    pub fn find(&self, transcript: &Transcript) -> Vec<Hit> {
        let mut hits = Vec::new();
        for speaker in [Speaker::Agent, Speaker::Customer, Speaker::Unknown, Speaker::System] {
            let segments: Vec<&Segment> = transcript.segments.iter().filter(|s| s.speaker == speaker).collect();
            if segments.is_empty() {
                continue;
            }
            let stream = Stream::new(speaker, segments, &self.lexicon.normalize);
            let found = self.find_in(&stream);
            hits.extend(found.into_iter().map(|f| self.to_hit(&stream, f)));
        }
        hits.sort_by(|a, b| {
            a.start_s
                .total_cmp(&b.start_s)
                .then_with(|| a.phrase_id.cmp(&b.phrase_id))
        });
        hits
    }

    /// What the near search proposes depends on: the phrases and who each
    /// category listens to. A transcript checked under another fingerprint
    /// was checked for other phrases.
    pub fn near_fingerprint(&self) -> String {
        let mut key = format!("near{}", near::REVISION);
        for phrase in self
            .lexicon
            .phrases
            .iter()
            .filter(|p| near::is_checked(&self.lexicon, &p.category))
        {
            let speaker = self.lexicon.category(&phrase.category).map(|c| c.speaker);
            key.push_str(&format!(
                "|{}:{speaker:?}:{}",
                phrase.category,
                phrase.written.join("/")
            ));
        }
        format!("near:{}", &blake3::hash(key.as_bytes()).to_hex()[..16])
    }

    /// Phrases one chunk of `speaker`'s speech nearly says, for the acoustic
    /// model to check (see `near`): those of the categories that listen to
    /// the speaker, not already found exactly or by sound, each with its
    /// rivals. `clauses` are the chunk's clause texts in order; spans count
    /// characters over all of them.
    pub fn near_candidates(&self, speaker: Speaker, clauses: &[&str]) -> Vec<Proposal> {
        let segments: Vec<Segment> = clauses.iter().map(|t| Segment::new(speaker, 0.0, 0.0, t)).collect();
        let stream = Stream::new(speaker, segments.iter().collect(), &self.lexicon.normalize);
        let found: Vec<(usize, usize, usize)> = self
            .find_in(&stream)
            .into_iter()
            .map(|f| (f.phrase, f.start, f.end))
            .collect();
        let listening = |phrase: usize| {
            let listens_to = self
                .lexicon
                .category(&self.lexicon.phrases[phrase].category)
                .map_or(CategorySpeaker::Agent, |c| c.speaker);
            match listens_to {
                CategorySpeaker::Any => true,
                CategorySpeaker::Agent => matches!(speaker, Speaker::Agent | Speaker::Unknown),
                CategorySpeaker::Customer => matches!(speaker, Speaker::Customer | Speaker::Unknown),
            }
        };
        let mut offsets = Vec::with_capacity(clauses.len());
        let mut total = 0;
        for clause in clauses {
            offsets.push(total);
            total += clause.chars().count();
        }
        let chunk: Vec<char> = clauses.iter().flat_map(|t| t.chars()).collect();
        near::candidates(&self.near_entries, &self.lexicon, &stream, listening, &found)
            .iter()
            .map(|c| self.proposal(c, &stream, &offsets, &chunk))
            .collect()
    }

    /// A near candidate as the chunk's text sees it: its span, and the span
    /// rewritten to say the phrase (heard characters kept where they say it,
    /// slot words and punctuation kept as heard).
    fn proposal(&self, c: &near::NearCandidate, stream: &Stream, offsets: &[usize], chunk: &[char]) -> Proposal {
        let chunk_index = |k: usize| {
            let origin = stream.position[k].expect("candidates never cover a break");
            offsets[origin.segment] + origin.original
        };
        let span = chunk_index(c.start)..chunk_index(c.end - 1) + 1;
        let mut rewrite = String::new();
        let mut cursor = span.start;
        for step in &c.steps {
            match *step {
                near::Step::Pair { at, written, same } => {
                    let i = chunk_index(at);
                    rewrite.extend(&chunk[cursor..i]);
                    rewrite.push(if same { chunk[i] } else { written });
                    cursor = i + 1;
                }
                near::Step::Extra { at } => {
                    let i = chunk_index(at);
                    rewrite.extend(&chunk[cursor..i]);
                    cursor = i + 1;
                }
                near::Step::Missing { written } => rewrite.push(written),
            }
        }
        rewrite.extend(&chunk[cursor.min(span.end)..span.end]);
        Proposal {
            span,
            rewrite,
            phrase: self.lexicon.phrases[c.phrase].written[c.variant].clone(),
            phrase_chars: c.phrase_chars,
            rivals: c
                .rivals
                .iter()
                .map(|r| self.proposal(r, stream, offsets, chunk))
                .collect(),
        }
    }

    fn find_in(&self, stream: &Stream) -> Vec<Found> {
        let mut found = Vec::new();
        let mut tolerant = Vec::new();
        let mut anchored: Vec<bool> = self.slot_anchors.iter().map(Vec::is_empty).collect();
        if let Some(automaton) = &self.sounds {
            let sounds = self.sounds_of(stream);
            for m in automaton.find_overlapping_iter(&sounds) {
                if m.start() % 2 != 0 {
                    continue; // straddles two characters
                }
                let (start, end) = (m.start() / 2, m.end() / 2);
                let written_here = |chars: &[char]| stream.chars[start..end] == *chars;
                match self.sound_patterns[m.pattern().as_usize()] {
                    SoundPattern::Literal(i) if written_here(&self.literals[i].chars) => {
                        let v = &self.literals[i];
                        found.push(Found {
                            phrase: v.phrase,
                            variant: v.variant,
                            start,
                            end,
                            kind: MatchKind::Exact,
                            score: None,
                        });
                    }
                    SoundPattern::Anchor(i) if written_here(&self.slot_anchors[i]) => anchored[i] = true,
                    SoundPattern::Piece(piece) => {
                        if let Some(f) = self.tolerant_candidate(stream, piece, start, &tolerant) {
                            tolerant.push(f);
                        }
                    }
                    _ => {} // a homophone of a literal, not it
                }
            }
        }
        if anchored.contains(&true) {
            let (text, char_at_byte) = stream.text();
            for (pattern, _) in self.slotted.iter().zip(&anchored).filter(|(_, a)| **a) {
                for m in pattern.regex.find_iter(&text) {
                    found.push(Found {
                        phrase: pattern.phrase,
                        variant: pattern.variant,
                        start: char_at_byte[m.start()],
                        end: char_at_byte[m.start()] + m.as_str().chars().count(),
                        kind: MatchKind::Exact,
                        score: None,
                    });
                }
            }
        }
        found.extend(tolerant);
        self.find_checked(stream, &mut found);
        self.drop_excluded_and_nested(stream, found)
    }

    /// The stream's characters as sound ids, two bytes each (big-endian): 0
    /// for a break, `NO_SOUND` for a sound no phrase has.
    fn sounds_of(&self, stream: &Stream) -> Vec<u8> {
        stream
            .chars
            .iter()
            .flat_map(|&c| {
                let code = c as u32;
                let id = if c == BREAK {
                    0
                } else if crate::text::HAN.contains(&code) {
                    self.cjk_sound_ids[(code - crate::text::HAN.start()) as usize]
                } else {
                    self.sound_ids.get(&sound_key(c)).copied().unwrap_or(NO_SOUND)
                };
                id.to_be_bytes()
            })
            .collect()
    }

    /// What the audio checks on consecutive segments of one speaker (a
    /// chunk's, or a call's) say of their phrases, by the pack's `[verify]`
    /// thresholds, one verdict per check: `Verified` (said), `Uncertain`
    /// (neither said nor clearly not), or nothing: below both, or a phrase
    /// of another category fits the audio better there. That phrase may be
    /// a rival scored with the check, or another check at the same place:
    /// a candidate's few rivals are the nearest by sound, and the phrase the
    /// audio prefers is not always among them (请问还有什么腿包到您 checked
    /// both as a greeting's 请问有什么可以帮到您 and a closing's
    /// 请问还有什么可以帮到您: the closing fits better by 3.6). A check
    /// below `uncertain_gap_per_char` is no rival: a short phrase put in for a
    /// character or two keeps the rest of whisper's own text, so its total is
    /// small however wrong it is (请稍等 for the 请问 of 请问还有什么腿称邓云
    /// "beat" the closing there, −12.4 against −13.0, at −4.1 per character).
    pub fn judge_checks(&self, segments: &[&Segment]) -> Vec<Vec<Option<MatchKind>>> {
        struct Placed<'a> {
            check: &'a PhraseCheck,
            category: Option<&'a str>,
            span: Range<usize>,
            total: f32,
        }
        let mut placed: Vec<Placed> = Vec::new();
        let mut offset = 0;
        for segment in segments {
            for check in &segment.checks {
                let start = offset + check.at;
                let found = self.written.get(&check.phrase);
                placed.push(Placed {
                    check,
                    category: found.map(|&(p, _)| self.lexicon.phrases[p].category.as_str()),
                    span: start..start + check.heard.chars().count(),
                    total: check.gap_per_char * found.map_or(1, |&(p, v)| self.literal_chars(p, v)) as f32,
                });
            }
            offset += segment.text.chars().count();
        }
        let uncertain = self.lexicon.verify.uncertain_gap_per_char;
        let mut verdicts = placed.iter().map(|this| {
            let at_this_place = placed.iter().filter(|o| {
                // a check the audio clearly does not support is no rival
                if o.check.gap_per_char < uncertain {
                    return false;
                }
                let overlap = o
                    .span
                    .end
                    .min(this.span.end)
                    .saturating_sub(o.span.start.max(this.span.start));
                o.category != this.category && 2 * overlap >= o.span.len().min(this.span.len()).max(1)
            });
            let margin = at_this_place
                .map(|o| this.total - o.total)
                .chain(this.check.margin)
                .reduce(f32::min);
            let must_not = this
                .category
                .and_then(|c| self.lexicon.category(c))
                .is_some_and(|c| matches!(c.role, Role::Forbidden | Role::NineDont));
            self.judge_with_margin(this.check, margin, must_not)
        });
        segments
            .iter()
            .map(|segment| verdicts.by_ref().take(segment.checks.len()).collect())
            .collect()
    }

    /// `must_not`: the phrase is one that must not be said, whose open
    /// moments cost a listener's time for a fault probably not there: it is
    /// left open only on the `must_not_open_*` evidence.
    fn judge_with_margin(&self, check: &PhraseCheck, margin: Option<f32>, must_not: bool) -> Option<MatchKind> {
        let v = &self.lexicon.verify;
        let beaten = margin.is_some_and(|m| m < v.accept_margin);
        let close = check.gap_per_char >= v.accept_gap_per_char && check.weakest >= v.accept_weakest;
        let likely = check.gap_per_char >= v.likely_gap_per_char
            && check.mean >= v.likely_mean
            && check.weakest >= v.likely_weakest;
        // a check from before the free decode's sureness was kept is taken as unsure
        let in_doubt = !must_not
            || (check.gap_per_char >= v.must_not_open_gap_per_char
                && check.heard_mean.is_none_or(|m| m <= v.must_not_open_heard_mean)
                && check.mean >= v.must_not_open_mean);
        if (close || likely) && !beaten {
            Some(MatchKind::Verified)
        } else if check.gap_per_char >= v.uncertain_gap_per_char && margin.is_none_or(|m| m >= 0.0) && in_doubt {
            Some(MatchKind::Uncertain)
        } else {
            None
        }
    }

    /// Characters of a variant's own words, the unit of a check's gap per character.
    fn literal_chars(&self, phrase: usize, variant: usize) -> usize {
        literal_text(&self.lexicon.phrases[phrase].variants[variant])
            .chars()
            .count()
            .max(1)
    }

    /// The phrase id an audio check is about, if the pack still has it.
    pub fn phrase_of_check(&self, check: &PhraseCheck) -> Option<&str> {
        self.written
            .get(&check.phrase)
            .map(|&(p, _)| self.lexicon.phrases[p].id.as_str())
    }

    /// The phrases checked against the audio at transcription (the
    /// segments' `checks`), judged by the pack's `[verify]` thresholds:
    /// verified, uncertain, or (below both, or beaten by a rival) nothing.
    fn find_checked(&self, stream: &Stream, found: &mut Vec<Found>) {
        let mut first_of_segment = vec![usize::MAX; stream.segments.len()];
        for (k, origin) in stream.position.iter().enumerate().rev() {
            if let Some(o) = origin {
                first_of_segment[o.segment] = k;
            }
        }
        let verdicts = self.judge_checks(&stream.segments);
        for (i, segment) in stream.segments.iter().enumerate() {
            for (check, verdict) in segment.checks.iter().zip(&verdicts[i]) {
                let Some(&(phrase, variant)) = self.written.get(&check.phrase) else {
                    continue; // a phrase the pack no longer has
                };
                let Some(kind) = *verdict else {
                    continue;
                };
                let Some(start) = (first_of_segment[i]..stream.chars.len()).find(|&k| {
                    stream.position[k].is_some_and(|o| o.segment > i || (o.segment == i && o.original >= check.at))
                }) else {
                    continue;
                };
                let len = check
                    .heard
                    .chars()
                    .filter(|&c| normalize_char(c, &self.lexicon.normalize).is_some())
                    .count();
                let end = start + len;
                if len == 0 || end > stream.chars.len() || stream.chars[start..end].contains(&BREAK) {
                    continue;
                }
                found.push(Found {
                    phrase,
                    variant,
                    start,
                    end,
                    kind,
                    score: Some(check.gap_per_char),
                });
            }
        }
    }

    /// The tolerant match, if any, of the entry whose piece `piece` was
    /// heard at character `at`, unless it is among those `found` already
    /// (an entry's other pieces lead to the same place). The test is the
    /// same whichever piece led there, so only a match needs remembering: a
    /// set of every place tried, hashed per piece heard, cost more than
    /// trying a place again.
    fn tolerant_candidate(&self, stream: &Stream, piece: usize, at: usize, found: &[Found]) -> Option<Found> {
        let piece = &self.tolerant_pieces[piece];
        let entry = &self.tolerant_entries[piece.entry];
        let start = at.checked_sub(piece.offset)?;
        let end = start + entry.chars.len();
        let window = stream.chars.get(start..end)?;
        if window.contains(&BREAK) {
            return None; // a long pause: whatever the phrase's length, two stretches of speech
        }
        if window == entry.chars.as_slice() || !sounds_alike(window, &entry.chars) {
            return None; // exact hits are already in; or too far off
        }
        let again = |f: &Found| f.start == start && f.phrase == entry.phrase && f.variant == entry.variant;
        if found.iter().rev().any(again) {
            return None;
        }
        Some(Found {
            phrase: entry.phrase,
            variant: entry.variant,
            start,
            end,
            kind: MatchKind::Tolerant,
            score: None,
        })
    }

    fn drop_excluded_and_nested(&self, stream: &Stream, mut found: Vec<Found>) -> Vec<Found> {
        let phrases = &self.lexicon.phrases;
        found.retain(|f| {
            !phrases[f.phrase].exclusions.iter().any(|ex| {
                let ex_chars: Vec<char> = ex.chars().collect();
                let lo = f.end.saturating_sub(ex_chars.len());
                let hi = f.start.min(stream.chars.len().saturating_sub(ex_chars.len()));
                (lo..=hi).any(|s| stream.chars.get(s..s + ex_chars.len()) == Some(ex_chars.as_slice()))
            })
        });
        // two phrases of one category accepted by the audio at one place (a
        // category's phrases are no rivals to each other when checked): the
        // better fit stands
        let fit = |f: &Found| {
            (
                f.score.unwrap_or(0.0),
                std::cmp::Reverse((f.start, f.phrase, f.variant)),
            )
        };
        let fits_worse: Vec<bool> = found
            .iter()
            .map(|f| {
                f.kind == MatchKind::Verified
                    && found.iter().any(|o| {
                        o.kind == MatchKind::Verified
                            && phrases[o.phrase].category == phrases[f.phrase].category
                            && o.start < f.end
                            && f.start < o.end
                            && fit(o) > fit(f)
                    })
            })
            .collect();
        let mut worse = fits_worse.into_iter();
        found.retain(|_| !worse.next().unwrap_or(false));
        let mut found = keep_surest_wording(found);
        // longer over shorter, exact over the rest, the better audio check,
        // earlier over later; an unsure phrase after every found one
        found.sort_by(|a, b| {
            let key = |f: &Found| {
                (
                    f.kind == MatchKind::Uncertain,
                    std::cmp::Reverse(f.end - f.start),
                    f.strength(),
                    f.start,
                )
            };
            key(a)
                .cmp(&key(b))
                .then(b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)))
        });
        let mut kept: Vec<Found> = Vec::with_capacity(found.len());
        for f in found {
            let category = &phrases[f.phrase].category;
            let covered = kept.iter().any(|k| {
                let same_category = &phrases[k.phrase].category == category;
                let inside = k.start <= f.start && f.end <= k.end;
                let overlaps = k.start < f.end && f.start < k.end;
                // a shorter phrase inside a found one of its category is part
                // of it, however surely each was found: one moment, one hit
                // (请您稍等 written inside 请您稍等片刻 heard in 请您稍等骗客);
                // a grey phrase holds only grey ones; an unsure phrase where
                // its category was found is no question
                same_category
                    && (inside && (k.kind != MatchKind::Uncertain || f.kind == MatchKind::Uncertain)
                        || f.kind == MatchKind::Uncertain && overlaps)
            });
            if !covered {
                kept.push(f);
            }
        }
        kept
    }

    fn to_hit(&self, stream: &Stream, f: Found) -> Hit {
        let phrase = &self.lexicon.phrases[f.phrase];
        let category = self.lexicon.category(&phrase.category);
        let first = stream.position[f.start].expect("matches never start on a break");
        let last = stream.position[f.end - 1].expect("matches never end on a break");
        let (first_seg, last_seg) = (first.segment, last.segment);
        let time_at = |seg: usize, k: f64| {
            let s = stream.segments[seg];
            let n = stream.normalized_len[seg].max(1) as f64;
            s.start + (s.end - s.start) * k / n
        };
        // (sliced and sized before copying: a re-score makes a hit for every
        // phrase of every call)
        let matched: Vec<&str> = (first_seg..=last_seg)
            .map(|seg| {
                let text = stream.segments[seg].text.as_str();
                let from = if seg == first_seg { first.original } else { 0 };
                let to = if seg == last_seg { last.original + 1 } else { usize::MAX };
                char_slice(text, from, to)
            })
            .collect();
        let context_from = first_seg.saturating_sub(1);
        let context_to = (last_seg + 1).min(stream.segments.len() - 1);
        let context = stream.segments[context_from..=context_to]
            .iter()
            .map(|s| s.text.as_str());
        Hit {
            category: phrase.category.clone(),
            role: category.map_or(Role::Watch, |c| c.role),
            phrase_id: phrase.id.clone(),
            phrase: phrase.written[f.variant].clone(),
            matched_text: concat(matched),
            speaker: stream.speaker,
            start_s: time_at(first_seg, first.normalized as f64),
            end_s: time_at(last_seg, last.normalized as f64 + 1.0),
            kind: f.kind,
            score: f.score,
            context: concat(context),
            verdict: HitVerdict::NOT_JUDGED,
        }
    }
}

/// The characters `from..to` of `text` (to its end when `to` is past it).
fn char_slice(text: &str, from: usize, to: usize) -> &str {
    let byte_of = |text: &str, k: usize| text.char_indices().nth(k).map_or(text.len(), |(b, _)| b);
    let start = byte_of(text, from);
    let end = start + byte_of(&text[start..], to.saturating_sub(from));
    &text[start..end]
}

/// Pieces of text joined, in one allocation of the joined length.
fn concat<'a>(pieces: impl IntoIterator<Item = &'a str> + Clone) -> String {
    let len = pieces.clone().into_iter().map(str::len).sum();
    let mut joined = String::with_capacity(len);
    pieces.into_iter().for_each(|p| joined.push_str(p));
    joined
}

impl<'a> Stream<'a> {
    fn new(speaker: Speaker, mut segments: Vec<&'a Segment>, options: &crate::text::NormalizeOptions) -> Self {
        segments.sort_by(|a, b| a.start.total_cmp(&b.start));
        // One pass straight into the stream's buffers: this runs for every call
        // of a re-score, so no per-segment allocations.
        let total: usize = segments.iter().map(|s| s.text.len() / 3 + 1).sum();
        let mut chars = Vec::with_capacity(total);
        let mut position = Vec::with_capacity(total);
        let mut normalized_len = Vec::with_capacity(segments.len());
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 && segment.start - segments[i - 1].end > MAX_JOIN_GAP_S {
                chars.push(BREAK);
                position.push(None);
            }
            let mut k = 0;
            for (original, c) in segment.text.chars().enumerate() {
                if let Some(n) = normalize_char(c, options) {
                    chars.push(n);
                    position.push(Some(CharOrigin {
                        segment: i,
                        normalized: k,
                        original,
                    }));
                    k += 1;
                }
            }
            normalized_len.push(k);
        }
        Stream {
            speaker,
            segments,
            normalized_len,
            chars,
            position,
        }
    }

    /// The characters as text, with each byte's character index (one past
    /// the end included), for the slot patterns' regexes: made only where
    /// one of them is to be tried.
    fn text(&self) -> (String, Vec<usize>) {
        let text: String = self.chars.iter().collect();
        let mut char_at_byte = vec![0; text.len() + 1];
        for (ci, (bi, c)) in text.char_indices().enumerate() {
            char_at_byte[bi..bi + c.len_utf8()].fill(ci);
        }
        char_at_byte[text.len()] = self.chars.len();
        (text, char_at_byte)
    }
}

fn max_slips(len: usize) -> usize {
    if len >= LONG_PHRASE_CHARS {
        2
    } else {
        1
    }
}

/// The sound test of tolerant matching (see the module docs). Two slips are
/// free: a final particle for another, and a near-sound at the head of a
/// short phrase (将您久等了 for 让您久等了): the rest of the phrase, and its
/// budget, still decide.
fn sounds_alike(window: &[char], phrase: &[char]) -> bool {
    let long = phrase.len() >= LONG_PHRASE_CHARS;
    let budget = if long { 1.5 } else { 0.75 };
    let mut cost = 0.0;
    let mut different = 0;
    let last = phrase.len() - 1;
    for (i, (&w, &p)) in window.iter().zip(phrase).enumerate() {
        let distance = match syllable_distance(w, p) {
            _ if i == last && is_particle(p) && is_particle(w) => SyllableDistance::Same,
            SyllableDistance::Near if i == 0 && !long => SyllableDistance::Same,
            distance => distance,
        };
        cost += match distance {
            SyllableDistance::Same => 0.0,
            SyllableDistance::Homophone => 0.25,
            SyllableDistance::Near => 0.7,
            SyllableDistance::Different => {
                different += 1;
                1.0
            }
        };
        if cost > budget {
            return false;
        }
    }
    // a completely different character is tolerated once, only in long phrases,
    // and never at either end (where a different word would begin or end)
    let ends_differ = syllable_distance(window[0], phrase[0]) == SyllableDistance::Different
        || (syllable_distance(window[last], phrase[last]) == SyllableDistance::Different
            && !(is_particle(window[last]) && is_particle(phrase[last])));
    different == 0 || (long && different == 1 && !ends_differ)
}

fn longest_literal(tokens: &[Token]) -> String {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Literal(s) => Some(s.clone()),
            Token::Slot(_) => None,
        })
        .max_by_key(|s| s.chars().count())
        .unwrap_or_default()
}

fn slot_regex(tokens: &[Token]) -> Regex {
    let numerals = format!("0-9{}", crate::text::CHINESE_NUMERALS);
    let pattern: String = tokens
        .iter()
        .map(|t| match t {
            Token::Literal(s) => regex::escape(s),
            Token::Slot(Slot::Num) => format!("[{numerals}]{{1,6}}"),
            Token::Slot(Slot::Name) => format!("[^{BREAK}]{{1,3}}?"),
            Token::Slot(Slot::Any) => format!("[^{BREAK}]{{0,12}}?"),
        })
        .collect();
    Regex::new(&pattern).expect("slot patterns are built from escaped literals")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::builtin_pack;

    fn transcript(segments: &[(Speaker, f64, f64, &str)]) -> Transcript {
        Transcript::from_segments(
            "t",
            segments
                .iter()
                .map(|&(who, start, end, text)| Segment::new(who, start, end, text))
                .collect(),
        )
    }

    fn agent_hits(text: &str) -> Vec<(String, MatchKind)> {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        matcher
            .find(&transcript(&[(Speaker::Agent, 0.0, 4.0, text)]))
            .into_iter()
            .map(|h| (h.phrase_id, h.kind))
            .collect()
    }

    use MatchKind::{Exact, Tolerant};

    /// (agent says, the phrase ids that must be found, how)
    #[test]
    fn matching_table() {
        let cases: &[(&str, &[(&str, MatchKind)])] = &[
            ("您好，很高兴为您服务", &[("greeting.glad_to_serve", Exact)]),
            ("你好很高興為你服務", &[("greeting.glad_to_serve", Exact)]),
            (
                "您好！这里是燃气客服中心，很高兴为您服务。",
                &[("greeting.this_is", Exact)],
            ),
            ("请您稍等，我帮您查询一下", &[("hold_request.please_wait", Exact)]),
            // one moment, one hit: the shorter phrase written inside the longer heard
            ("请您稍等骗客", &[("hold_request.wait_a_moment", Tolerant)]),
            ("请您收等", &[("hold_request.please_wait", Tolerant)]),
            ("麻烦您稍等片刻", &[("hold_request.wait_a_moment", Exact)]),
            ("感谢您的来订", &[("closing.thanks_for_calling", Tolerant)]),
            ("将您久等了", &[("hold_return.kept_waiting", Tolerant)]),
            // ASR slips on phone lines (issue 6): a particle for a particle, a
            // near-sound at the head, and one near-sound more
            ("将您久等啦", &[("hold_return.kept_waiting", Tolerant)]),
            ("让您久等呢", &[("hold_return.kept_waiting", Tolerant)]),
            ("将您求等了", &[("hold_return.kept_waiting", Tolerant)]),
            ("那您就等了", &[]),
            ("将您九等难", &[]),
            ("您就等一下吧", &[]),
            ("我五分钟后就回来", &[("nine_do.back_in_minutes", Exact)]),
            ("我15分钟后就回来", &[("nine_do.back_in_minutes", Exact)]),
            ("王先生，让您久等了", &[("hold_return.named", Exact)]),
            // one phrase said once is one hit, however many wordings it has
            // (帮您。你 is also 帮到您 by sound)
            ("请问有什么可以帮您。你", &[("greeting.how_can_i_help", Exact)]),
            ("不行", &[("nine_dont.no_way", Exact)]),
            ("这样行不行", &[]),
            ("我不大清楚", &[("forbidden.not_quite_sure", Exact)]),
            ("你选吧，我也不懂", &[("forbidden.you_choose", Exact)]),
            ("能不能麻烦您说一下", &[]),
            ("ＷＯ　我现在很忙", &[("nine_dont.too_busy", Exact)]),
            // near misses: a different word, not an ASR slip
            ("我现在很好", &[]),
            ("请您说一下", &[]),
            ("我不知道啊", &[("nine_dont.dont_know", Exact)]),
            ("我知道", &[]),
            ("感谢您的耐心", &[]),
            ("我只知道", &[]),
            ("我都知道", &[]),
            ("我不知道吧", &[("nine_dont.dont_know", Exact)]),
            ("我现在很忙啊", &[("nine_dont.too_busy", Exact)]),
            ("他现在很忙", &[]),
            ("请您说一下", &[]),
            ("谁不知道", &[]),
            ("请问有什么事吗", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            let got = agent_hits(text);
            let want: Vec<(String, MatchKind)> = want.iter().map(|(id, k)| (id.to_string(), *k)).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn hits_carry_speaker_time_text_and_context() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let hits = matcher.find(&transcript(&[
            (Speaker::Agent, 10.0, 12.0, "好的，"),
            (Speaker::Agent, 12.0, 16.0, "我不知道，你自己去问。"),
            (Speaker::Agent, 16.2, 17.0, "再見。"),
            (Speaker::Customer, 13.0, 15.0, "我不知道"),
        ]));
        let agent: Vec<&Hit> = hits.iter().filter(|h| h.speaker == Speaker::Agent).collect();
        let dont_know = agent
            .iter()
            .find(|h| h.phrase_id == "nine_dont.dont_know")
            .expect("agent hit");
        assert_eq!(dont_know.matched_text, "我不知道");
        assert_eq!(dont_know.context, "好的，我不知道，你自己去问。再見。");
        // 4 of the segment's 9 matchable characters, spread over its 4 seconds
        assert!((dont_know.start_s - 12.0).abs() < 1e-9, "{dont_know:?}");
        assert!(
            (dont_know.end_s - (12.0 + 4.0 * 4.0 / 9.0)).abs() < 1e-9,
            "{dont_know:?}"
        );
        let goodbye = agent
            .iter()
            .find(|h| h.phrase_id == "closing.goodbye")
            .expect("traditional 再見");
        assert_eq!(goodbye.matched_text, "再見");
        let customer: Vec<&Hit> = hits.iter().filter(|h| h.speaker == Speaker::Customer).collect();
        assert_eq!(
            customer.len(),
            1,
            "customer speech is matched, and labelled as the customer's"
        );
    }

    #[test]
    fn phrases_do_not_span_long_pauses_but_do_span_clauses() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let ids = |segments: &[(Speaker, f64, f64, &str)]| -> Vec<String> {
            matcher
                .find(&transcript(segments))
                .into_iter()
                .map(|h| h.phrase_id)
                .collect()
        };
        assert_eq!(
            ids(&[
                (Speaker::Agent, 0.0, 1.0, "您好，"),
                (Speaker::Agent, 1.1, 3.0, "很高兴为您服务。")
            ]),
            vec!["greeting.glad_to_serve"]
        );
        assert!(ids(&[(Speaker::Agent, 0.0, 1.0, "我不"), (Speaker::Agent, 9.0, 10.0, "知道")]).is_empty());
        // every phrase of the pack, cut anywhere by a pause of 3 s: never found,
        // exactly or by sound, however long the phrase (the pause is not a slip)
        let pack = builtin_pack();
        for phrase in &pack.lexicon.phrases {
            for tokens in &phrase.variants {
                let [crate::lexicon::Token::Literal(text)] = tokens.as_slice() else {
                    continue;
                };
                let chars: Vec<char> = text.chars().collect();
                for cut in 1..chars.len() {
                    let before: String = chars[..cut].iter().collect();
                    let after: String = chars[cut..].iter().collect();
                    let segments = [
                        (Speaker::Agent, 0.0, 1.0, before.as_str()),
                        (Speaker::Agent, 4.0, 5.0, after.as_str()),
                    ];
                    // (a shorter variant inside one side is a real hit)
                    for hit in matcher.find(&transcript(&segments)) {
                        assert!(
                            hit.end_s <= 1.0 || hit.start_s >= 4.0,
                            "{text} cut after {cut}: {} spans the pause",
                            hit.phrase_id
                        );
                    }
                }
            }
        }
    }

    /// What whisper base wrote on bad lines for lines agents said (issue 20):
    /// each is proposed for the audio check as the phrase it nearly is,
    /// rewritten over the heard span.
    #[test]
    fn near_candidates_are_proposed_where_the_slips_are() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let cases: &[(&[&str], &str)] = &[
            (&["让营酒等了"], "让您久等了"),
            (&["将您求等来"], "让您久等了"),
            (&["展现你的耐心走在"], "感谢您的耐心等待"),
            (&["要我看看我能为这件事做些什么"], "让我看看我能为这件事做些什么"),
            (&["我找不到言问"], "我找不到人问"),
            (&["我近在很忙"], "我现在很忙"),
            (&["我会找出正确的答案等，", "请您放心"], "我会找出正确答案的"),
            (&["请问还有什么", "可与邦道云？"], "请问还有什么可以帮到您"),
            // a two-character phrase, its sounds graded finer (text::sound_gap)
            (&["感谢您的来辩祝您生活愉快，", "善建旨。"], "再见"),
            (&["参见"], "再见"),
            (&["感谢您的来自战县主。"], "再见"),
            (&["感谢您的来电，", "三千。"], "再见"),
        ];
        // (the rewrite keeps the heard 你 where the phrase has 您: whisper hears them alike)
        let plain = |t: &str| -> String {
            t.chars()
                .filter(|c| !"，。？！、".contains(*c))
                .map(|c| if c == '你' { '您' } else { c })
                .collect()
        };
        for (clauses, phrase) in cases {
            let proposals = matcher.near_candidates(Speaker::Agent, clauses);
            let chunk: Vec<char> = clauses.iter().flat_map(|c| c.chars()).collect();
            let p = proposals
                .iter()
                .find(|p| p.phrase == *phrase)
                .unwrap_or_else(|| panic!("{clauses:?}: {phrase} not proposed, only {proposals:?}"));
            assert!(p.span.end <= chunk.len() && !p.span.is_empty(), "{clauses:?}: {p:?}");
            assert_eq!(
                crate::text::to_simplified(&plain(&p.rewrite)),
                plain(phrase),
                "{clauses:?}: the span is rewritten as the phrase"
            );
            assert_eq!(p.phrase_chars, plain(phrase).chars().count());
        }
    }

    #[test]
    fn near_candidates_skip_what_is_found_and_who_is_not_listened_to() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let phrases = |speaker, clauses: &[&str]| -> Vec<String> {
            matcher
                .near_candidates(speaker, clauses)
                .into_iter()
                .map(|p| p.phrase)
                .collect()
        };
        // the customer's speech is not searched for the agent's phrases
        assert!(!phrases(Speaker::Customer, &["让营酒等了"]).contains(&"让您久等了".to_string()));
        // found already: exactly, or by sound
        assert!(!phrases(Speaker::Agent, &["让您久等了"]).contains(&"让您久等了".to_string()));
        assert!(!phrases(Speaker::Agent, &["将您久等啦"]).contains(&"让您久等了".to_string()));
        // far from every phrase
        assert_eq!(
            phrases(Speaker::Agent, &["今天的燃气表读数是三百二十"]),
            Vec::<String>::new()
        );
        // a mono call's unknown voice may be the agent
        assert!(phrases(Speaker::Unknown, &["让营酒等了"]).contains(&"让您久等了".to_string()));
    }

    fn check(gap_per_char: f32, weakest: f32, margin: Option<f32>) -> PhraseCheck {
        PhraseCheck {
            phrase: "让您久等了".into(),
            at: 0,
            heard: "让营酒等了".into(),
            gap_per_char,
            weakest,
            mean: -1.0,
            rival: margin.map(|_| "感谢您的来电".into()),
            margin,
            heard_mean: None,
        }
    }

    /// The verdict on one check standing alone in its segment.
    fn judge_alone(matcher: &Matcher, check: PhraseCheck) -> Option<MatchKind> {
        let mut segment = Segment::new(Speaker::Agent, 0.0, 1.0, &check.heard);
        segment.checks.push(check);
        matcher.judge_checks(&[&segment])[0][0]
    }

    /// The pack's default `[verify]` thresholds: accept at a gap of −0.8 per
    /// character, a weakest token of −6 and a margin of 1, or, when the
    /// phrase's own tokens are likely (mean −2.5 and above, none below −7.5),
    /// at a gap of −1.5; grey down to −2.5.
    #[test]
    fn audio_checks_are_judged_by_the_packs_thresholds() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        use MatchKind::{Uncertain, Verified};
        let likely = |gap, weakest, mean| PhraseCheck {
            mean,
            ..check(gap, weakest, None)
        };
        let cases = [
            (check(-0.3, -2.0, None), Some(Verified)),
            (check(-0.8, -6.0, Some(1.0)), Some(Verified)),
            (check(-0.3, -7.0, None), Some(Verified)), // one sound far off, the rest likely
            (check(-0.3, -8.0, None), Some(Uncertain)), // one sound too far off
            (check(-0.3, -2.0, Some(0.5)), Some(Uncertain)), // a rival nearly as likely
            (check(-0.3, -2.0, Some(-0.5)), None),     // a rival fits better
            (check(-0.81, -2.0, None), Some(Verified)), // likely outright (mean −1)
            (likely(-0.81, -2.0, -3.0), Some(Uncertain)), // not likely outright
            (likely(-1.5, -7.5, -2.5), Some(Verified)),
            (likely(-1.51, -2.0, -1.0), Some(Uncertain)),
            (likely(-1.0, -7.6, -1.0), Some(Uncertain)),
            (likely(-0.9, -6.0, -5.9), Some(Uncertain)), // 我文道 read as 我不知道 in a customer's words
            (
                PhraseCheck {
                    margin: Some(0.5),
                    ..likely(-1.0, -2.0, -1.0)
                },
                Some(Uncertain),
            ),
            (check(-2.5, -2.0, None), Some(Uncertain)),
            (check(-2.6, -2.0, None), None),
        ];
        for (c, want) in cases {
            assert_eq!(judge_alone(&matcher, c.clone()), want, "{c:?}");
        }
    }

    /// A phrase that must not be said is left open only where the audio is
    /// in doubt: 户号是 heard surely is evidence against 不好意思, not for it
    /// (issue 36); a required phrase's grey evidence stays open as before.
    #[test]
    fn a_forbidden_phrase_is_left_open_only_where_the_decode_was_unsure() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let forbidden = |gap, mean, heard_mean| PhraseCheck {
            phrase: "不好意思".into(),
            heard: "户号是".into(),
            mean,
            heard_mean,
            ..check(gap, -4.0, None)
        };
        use MatchKind::Uncertain;
        let cases = [
            (forbidden(-1.5, -3.0, Some(-0.05)), None), // heard surely
            (forbidden(-1.5, -3.0, Some(-0.6)), Some(Uncertain)),
            (forbidden(-1.5, -5.0, Some(-0.6)), None), // its own tokens unlikely outright
            (forbidden(-2.2, -3.0, Some(-0.6)), None), // too far in sound
            (forbidden(-1.5, -3.0, None), Some(Uncertain)), // checked before sureness was kept
        ];
        for (c, want) in cases {
            assert_eq!(judge_alone(&matcher, c.clone()), want, "{c:?}");
        }
        // a required phrase's grey evidence: open whatever the decode's sureness
        let required = PhraseCheck {
            heard_mean: Some(-0.05),
            ..check(-1.8, -4.0, None)
        };
        assert_eq!(judge_alone(&matcher, required), Some(Uncertain));
    }

    /// A phrase the audio fits well is still not said where another
    /// category's phrase checked at the same place fits it better, whether or
    /// not the near search made that phrase its rival; a check elsewhere in
    /// the chunk does not count against it.
    #[test]
    fn a_check_is_beaten_by_a_better_fitting_check_of_another_category_at_its_place() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let heard = "请问还有什么腿包到您？";
        let at_once = |greeting_gap: f32, closing_at: usize| {
            let mut segment = Segment::new(Speaker::Agent, 0.0, 3.0, &format!("{heard}好的"));
            let checked = |phrase: &str, at: usize, heard: &str, gap| PhraseCheck {
                phrase: phrase.into(),
                at,
                heard: heard.into(),
                gap_per_char: gap,
                weakest: -4.3,
                mean: -1.1,
                rival: None,
                margin: None,
                heard_mean: None,
            };
            segment
                .checks
                .push(checked("请问有什么可以帮到您", 0, "请问还有什么腿包到您", greeting_gap));
            let closing_heard: String = format!("{heard}好的").chars().skip(closing_at).take(10).collect();
            segment
                .checks
                .push(checked("请问还有什么可以帮到您", closing_at, &closing_heard, -0.15));
            matcher.judge_checks(&[&segment])[0].clone()
        };
        use MatchKind::Verified;
        // measured on lines-a (a-12): the greeting at −0.57 per character (−5.1
        // in all) against the closing at −0.15 (−1.5)
        assert_eq!(at_once(-0.57, 0), vec![None, Some(Verified)]);
        // the greeting the better fit: the closing is the one not said
        assert_eq!(at_once(-0.05, 0), vec![Some(Verified), None]);
        // no overlap, no contest
        assert_eq!(at_once(-0.57, 11), vec![Some(Verified), Some(Verified)]);
    }

    /// A rival the audio clearly does not support beats nothing: a short
    /// phrase put in for two characters keeps the rest of what whisper wrote
    /// (its own, likely, text), so its total is small however wrong it is.
    #[test]
    fn a_check_the_audio_clearly_does_not_support_is_no_rival() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        // measured on lines-a (a-03): 请问还有什么腿称邓云 for the closing
        // 请问还有什么可以帮您 at −1.30 per character (−13.0 in all); the
        // hold request 请稍等 for its first two characters at −4.13 (−12.4)
        let judged = |request_gap: f32| {
            let mut segment = Segment::new(Speaker::Agent, 33.2, 35.0, "请问还有什么腿称邓云?");
            segment.checks.push(PhraseCheck {
                phrase: "请问还有什么可以帮您".into(),
                heard: "请问还有什么腿称邓".into(),
                mean: -1.57,
                ..check(-1.30, -6.68, None)
            });
            segment.checks.push(PhraseCheck {
                phrase: "请稍等".into(),
                heard: "请问".into(),
                mean: -6.9,
                ..check(request_gap, -12.6, None)
            });
            matcher.judge_checks(&[&segment])[0].clone()
        };
        assert_eq!(judged(-4.13), vec![Some(MatchKind::Verified), None]);
        // a rival the audio nearly supports (−2.4 per character, −7.2 in all) still beats it
        assert_eq!(judged(-2.4)[0], None);
    }

    /// Two phrases of one category accepted at one place are one line said:
    /// the better fit is the hit (让营酒等了 is a hold return either way).
    #[test]
    fn of_two_accepted_phrases_of_a_category_at_one_place_the_better_fit_is_the_hit() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let hits = |named_gap: f32| {
            let mut segment = Segment::new(Speaker::Agent, 3.0, 5.0, "王女士，将营酒等了");
            segment.checks.push(PhraseCheck {
                phrase: "{name}女士，让您久等了".into(),
                heard: "王女士，将营酒等了".into(),
                ..check(named_gap, -2.0, None)
            });
            segment.checks.push(PhraseCheck {
                at: "王女士，".chars().count(),
                ..check(-0.3, -2.0, None)
            });
            matcher
                .find(&Transcript::from_segments("t", vec![segment]))
                .into_iter()
                .map(|h| (h.phrase_id, h.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(hits(-0.1), vec![("hold_return.named".to_string(), MatchKind::Verified)]);
        assert_eq!(
            hits(-0.5),
            vec![("hold_return.kept_waiting".to_string(), MatchKind::Verified)]
        );
    }

    #[test]
    fn checked_phrases_become_hits_with_their_score() {
        let matcher = Matcher::new(&builtin_pack().lexicon);
        let found = |c: PhraseCheck| {
            let mut segment = Segment::new(Speaker::Agent, 3.0, 5.0, "好的，让营酒等了");
            let heard_at = "好的，".chars().count();
            segment.checks.push(PhraseCheck { at: heard_at, ..c });
            matcher
                .find(&Transcript::from_segments("t", vec![segment]))
                .into_iter()
                .map(|h| (h.phrase_id, h.kind, h.matched_text, h.score))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            found(check(-0.3, -2.0, None)),
            vec![(
                "hold_return.kept_waiting".to_string(),
                MatchKind::Verified,
                "让营酒等了".to_string(),
                Some(-0.3)
            )]
        );
        assert_eq!(
            found(check(-1.8, -2.0, None)),
            vec![(
                "hold_return.kept_waiting".to_string(),
                MatchKind::Uncertain,
                "让营酒等了".to_string(),
                Some(-1.8)
            )]
        );
        assert_eq!(found(check(-2.9, -2.0, None)), vec![]);
        // a check of a phrase the pack no longer has is ignored
        assert_eq!(
            found(PhraseCheck {
                phrase: "不在词库里".into(),
                ..check(-0.1, -1.0, None)
            }),
            vec![]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Whatever is said, and however it is cut into clauses and pauses:
        /// every hit lies inside the speech it was found in, never spans a
        /// pause longer than the join gap, and has its start before its end.
        #[test]
        fn hits_stay_inside_the_speech_they_were_found_in(
            clauses in proptest::collection::vec(
                ("[您你好请问有什么可以帮助稍等让久了啦不知道我现在很忙感谢来电再见，。！？ａ１ 行]{0,14}", 0.0f64..4.0, 0.2f64..3.0),
                0..8,
            ),
        ) {
            let matcher = Matcher::new(&builtin_pack().lexicon);
            let mut at = 0.0;
            let mut segments = Vec::new();
            for (text, pause_s, length_s) in &clauses {
                at += pause_s;
                segments.push((Speaker::Agent, at, at + length_s, text.as_str()));
                at += length_s;
            }
            let t = transcript(&segments);
            for hit in matcher.find(&t) {
                proptest::prop_assert!(hit.start_s <= hit.end_s, "{hit:?}");
                let first = segments.iter().position(|s| hit.start_s >= s.1 - 1e-9 && hit.start_s <= s.2 + 1e-9);
                let last = segments.iter().rposition(|s| hit.end_s >= s.1 - 1e-9 && hit.end_s <= s.2 + 1e-9);
                proptest::prop_assert!(first.is_some() && last.is_some(), "{hit:?} outside {segments:?}");
                let (first, last) = (first.unwrap(), last.unwrap());
                for pair in segments[first..=last.max(first)].windows(2) {
                    proptest::prop_assert!(pair[1].1 - pair[0].2 <= MAX_JOIN_GAP_S, "{hit:?} spans a pause in {segments:?}");
                }
            }
        }
    }
}

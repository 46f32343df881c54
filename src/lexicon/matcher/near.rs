//! Near candidates: where speech nearly says a phrase, for the acoustic model to check.
//!
//! Exact and tolerant matching decide from the text alone, so they must be
//! strict: on a bad line they miss what whisper wrote a sound or two off
//! (让营酒等了 for 让您久等了, 展现你的耐心走在 for 感谢您的耐心等待). Here the
//! bar is lower, because nothing found here counts until the audio has been
//! scored (`asr::verify`): a phrase is aligned against the text by sound,
//! substitutions priced by how alike the two syllables are (the same
//! syllable in another tone almost free, an initial or rhyme in common a
//! little, anything else a full character), characters lost or added a full
//! character each. A stretch within the pack's budget per phrase character
//! (`verify.near_budget_per_char`) whose sounds agree in at least a third of
//! its characters is proposed.
//! Slot phrases are aligned part by part, the slot's words kept as heard.
//!
//! Each candidate carries its rivals: the best near alignments, at the same
//! place, of phrases of other categories (感谢您的来电 for 感谢您的耐心等待),
//! so the audio is asked which of them it says, not only whether it says one.
//! A phrase of its own category is no rival: which of two hold returns was
//! said (让您久等了, 王女士，让您久等了) does not change the category's
//! verdict, so it must not block the phrase; where both are accepted at one
//! place, the matcher keeps the one the audio fits better.

use std::collections::HashMap;
use std::ops::Range;

use super::{is_particle, Stream, BREAK};
use crate::lexicon::phrase::{literal_text, Token};
use crate::lexicon::{Lexicon, Role, Slot};
use crate::text::{normalize, sound_gap, syllable_distance, SyllableDistance, HOMOPHONE_GAP};

/// Bumped when what is proposed changes: transcripts checked before are checked again.
pub(super) const REVISION: u32 = 4;
/// A two-character phrase may be off by one near sound, no more (its sounds
/// graded finer: [`sound_gap`]).
const SHORT_PHRASE_BUDGET: f32 = 0.65;
/// At least this share of a candidate's characters sound as the phrase's.
const MIN_AGREEING: f32 = 1.0 / 3.0;
/// A second variant of a phrase is proposed at a place when it is off by at
/// most this much more than the best.
const SECOND_VARIANT_WITHIN: f32 = 0.5;
/// Rivals considered per candidate.
const MAX_RIVALS: usize = 2;

/// A phrase variant prepared for near search.
pub(super) struct NearEntry {
    pub phrase: usize,
    pub variant: usize,
    parts: Vec<Part>,
    /// Normalised characters of the literal parts, for rival heads.
    head: Vec<char>,
}

enum Part {
    /// Normalised characters, and how the pack writes each.
    Literal {
        chars: Vec<char>,
        written: Vec<char>,
    },
    Slot(Slot),
}

/// A stretch of one speaker's speech that nearly says a phrase.
#[derive(Debug, Clone)]
pub struct NearCandidate {
    pub phrase: usize,
    pub variant: usize,
    /// Stream characters [start, end).
    pub(super) start: usize,
    pub(super) end: usize,
    /// How the stretch says the phrase, step by step (slot words are the
    /// stream characters no step names).
    pub(super) steps: Vec<Step>,
    /// Normalised characters the phrase has in the rewrite.
    pub phrase_chars: usize,
    /// How far off it sounds (see the module docs).
    pub cost: f32,
    pub rivals: Vec<NearCandidate>,
}

/// One alignment step, in stream order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Step {
    /// The phrase's character (`same`: as heard) against stream character `at`.
    Pair { at: usize, written: char, same: bool },
    /// A phrase character not heard.
    Missing { written: char },
    /// Stream character `at`, not in the phrase.
    Extra { at: usize },
}

#[derive(Debug, Clone)]
struct Alignment {
    start: usize,
    end: usize,
    cost: f32,
    agreeing: usize,
    steps: Vec<Step>,
}

/// Whether a category's phrases are checked against the audio when nearly
/// heard. Risk words are not: a risk flag points a manager at a call, it is
/// no verdict on the agent, and the check costs decoding on every customer turn.
pub(super) fn is_checked(lexicon: &Lexicon, category: &str) -> bool {
    lexicon.category(category).is_none_or(|c| c.role != Role::Risk)
}

pub(super) fn entries(lexicon: &Lexicon) -> Vec<NearEntry> {
    let mut out = Vec::new();
    for (pi, phrase) in lexicon.phrases.iter().enumerate() {
        if !is_checked(lexicon, &phrase.category) {
            continue;
        }
        for (vi, tokens) in phrase.variants.iter().enumerate() {
            let written = written_literals(&phrase.written[vi], &lexicon.normalize);
            let mut literals = written.into_iter();
            let mut parts = Vec::new();
            let mut head = Vec::new();
            for token in tokens {
                match token {
                    Token::Literal(text) => {
                        let chars: Vec<char> = text.chars().collect();
                        let written = literals
                            .next()
                            .filter(|w| w.len() == chars.len())
                            .unwrap_or(chars.clone());
                        head.extend(&chars);
                        parts.push(Part::Literal { chars, written });
                    }
                    Token::Slot(slot) => parts.push(Part::Slot(*slot)),
                }
            }
            let literal_chars: usize = parts
                .iter()
                .map(|p| match p {
                    Part::Literal { chars, .. } => chars.len(),
                    Part::Slot(_) => 0,
                })
                .sum();
            if literal_chars >= 2 {
                out.push(NearEntry {
                    phrase: pi,
                    variant: vi,
                    parts,
                    head,
                });
            }
        }
    }
    out
}

/// The written characters of each literal part of a variant, one per
/// normalised character (punctuation dropped, as normalisation drops it).
fn written_literals(written: &str, options: &crate::text::NormalizeOptions) -> Vec<Vec<char>> {
    let mut out = Vec::new();
    let mut rest = written;
    loop {
        let (literal, after) = match rest.find('{') {
            Some(open) => (&rest[..open], rest[open..].find('}').map(|c| &rest[open + c + 1..])),
            None => (rest, None),
        };
        let n = normalize(literal, options);
        if !n.chars.is_empty() {
            let original: Vec<char> = literal.chars().collect();
            out.push(n.origin.iter().map(|&i| original[i]).collect());
        }
        match after {
            Some(after) => rest = after,
            None => return out,
        }
    }
}

/// Near candidates in `stream` for the entries `listening` admits, best first,
/// with their rivals. `found` holds what exact and tolerant matching already
/// found (phrase, start, end): a phrase found there is not proposed again,
/// nor one that a found phrase of its category says in full (请您稍等 where
/// 稍等片刻 was found: 请您稍等片刻 is a variant of it), nor one where the
/// text says another category's phrase.
pub(super) fn candidates(
    entries: &[NearEntry],
    lexicon: &Lexicon,
    stream: &Stream,
    listening: impl Fn(usize) -> bool,
    found: &[(usize, usize, usize)],
) -> Vec<NearCandidate> {
    let category_of = |phrase: usize| lexicon.phrases[phrase].category.as_str();
    let mut all: Vec<NearCandidate> = Vec::new();
    for entry in entries.iter().filter(|e| listening(e.phrase)) {
        let own_text: String = entry.head.iter().collect();
        for candidate in align_entry(entry, &stream.chars, None, lexicon.verify.near_budget_per_char) {
            let said_otherwise = found.iter().any(|&(p, s, e)| {
                let overlap = e.min(candidate.end).saturating_sub(s.max(candidate.start));
                if overlap == 0 {
                    return false;
                }
                if category_of(p) != category_of(entry.phrase) {
                    return 2 * overlap >= candidate.end - candidate.start;
                }
                p == entry.phrase
                    || lexicon.phrases[p]
                        .variants
                        .iter()
                        .any(|v| literal_text(v).contains(own_text.as_str()))
            });
            if !said_otherwise {
                all.push(candidate);
            }
        }
    }
    // per phrase and place the cheapest variant, and a second one nearly as
    // cheap (帮您 or 帮到您 in a garbled ending: the audio tells)
    all.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.start.cmp(&b.start)));
    let mut kept: Vec<NearCandidate> = Vec::new();
    for c in all {
        let same_place: Vec<&NearCandidate> = kept
            .iter()
            .filter(|k| k.phrase == c.phrase && k.start < c.end && c.start < k.end)
            .collect();
        let second = same_place.len() == 1
            && same_place[0].variant != c.variant
            && c.cost <= same_place[0].cost + SECOND_VARIANT_WITHIN;
        if same_place.is_empty() || second {
            kept.push(c);
        }
    }
    // rivals: other phrases near the same place, or sharing the phrase's head
    let snapshot = kept.clone();
    for c in &mut kept {
        let own = entries
            .iter()
            .find(|e| e.phrase == c.phrase && e.variant == c.variant)
            .expect("own entry");
        let other_category = |phrase: usize| category_of(phrase) != category_of(c.phrase);
        let mut rivals: Vec<NearCandidate> = Vec::new();
        for r in &snapshot {
            let overlaps = r.start < c.end && c.start < r.end;
            if other_category(r.phrase) && overlaps {
                rivals.push(r.clone());
            }
        }
        let near_start = c.start.saturating_sub(1)..c.start + 2;
        for entry in entries
            .iter()
            .filter(|e| other_category(e.phrase) && listening(e.phrase))
        {
            let shares_head = entry.head.len() >= 2 && own.head.len() >= 2 && entry.head[..2] == own.head[..2];
            let proposed = rivals
                .iter()
                .any(|r| r.phrase == entry.phrase && r.variant == entry.variant);
            if shares_head && !proposed {
                rivals.extend(
                    align_entry(entry, &stream.chars, Some(near_start.clone()), 0.0)
                        .into_iter()
                        .next(),
                );
            }
        }
        // the closest rivals, at most two variants of a phrase (帮您, 帮到您)
        rivals.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        let mut per_phrase: HashMap<usize, usize> = HashMap::new();
        rivals.retain(|r| {
            let n = per_phrase.entry(r.phrase).or_insert(0);
            *n += 1;
            *n <= 2
        });
        rivals.truncate(MAX_RIVALS);
        for r in &mut rivals {
            r.rivals.clear();
        }
        c.rivals = rivals;
    }
    kept
}

/// Alignments of one entry in `text` within `budget_per_char`, best first;
/// with `starting`, only those starting there (and then whatever their cost).
fn align_entry(
    entry: &NearEntry,
    text: &[char],
    starting: Option<Range<usize>>,
    budget_per_char: f32,
) -> Vec<NearCandidate> {
    let literal_parts: Vec<(usize, &Vec<char>, &Vec<char>)> = entry
        .parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Part::Literal { chars, written } => Some((i, chars, written)),
            Part::Slot(_) => None,
        })
        .collect();
    let constrained = starting.is_some();
    let short = literal_parts.iter().map(|(_, c, _)| c.len()).sum::<usize>() <= 2;
    // the parts in order; each slot's words lie between the parts around it
    let mut chains: Vec<(Vec<Alignment>, f32)> = vec![(Vec::new(), 0.0)];
    let budget_for = |chars: usize| {
        if chars <= 2 {
            SHORT_PHRASE_BUDGET.min(budget_per_char * 2.0 + 0.25)
        } else {
            budget_per_char * chars as f32
        }
    };
    for (part_at, chars, written) in &literal_parts {
        // each part within its own budget: one part said exactly does not
        // carry another that is nothing like it
        let part_budget = budget_for(chars.len()).max(SHORT_PHRASE_BUDGET);
        let alignments: Vec<Alignment> = align(chars, written, text, constrained, short)
            .into_iter()
            .filter(|a| constrained || a.cost <= part_budget)
            .collect();
        let slot_before = part_at.checked_sub(1).and_then(|i| match entry.parts[i] {
            Part::Slot(slot) => Some(slot),
            Part::Literal { .. } => None,
        });
        let mut next = Vec::new();
        for (chain, cost) in &chains {
            for a in &alignments {
                let fits = match chain.last() {
                    None => match (&starting, slot_before) {
                        (Some(range), None) => range.contains(&a.start),
                        (Some(range), Some(slot)) => (range.start..range.end + slot_reach(slot).end).contains(&a.start),
                        (None, Some(slot)) => a.start >= slot_reach(slot).start,
                        (None, None) => true,
                    },
                    Some(prev) => {
                        let gap = a.start.checked_sub(prev.end);
                        let reach = slot_before.map_or(0..1, slot_reach);
                        gap.is_some_and(|g| reach.contains(&g) && !text[prev.end..a.start].contains(&BREAK))
                    }
                };
                if fits {
                    let mut longer = chain.clone();
                    longer.push(a.clone());
                    next.push((longer, cost + a.cost));
                }
            }
        }
        next.sort_by(|a, b| a.1.total_cmp(&b.1));
        next.truncate(8);
        chains = next;
    }
    let literal_chars: usize = literal_parts.iter().map(|(_, c, _)| c.len()).sum();
    let budget = budget_for(literal_chars);
    let mut out: Vec<NearCandidate> = Vec::new();
    for (chain, cost) in chains {
        let agreeing: usize = chain.iter().map(|a| a.agreeing).sum();
        if !constrained && (cost > budget || (agreeing as f32) < MIN_AGREEING * literal_chars as f32 || cost == 0.0) {
            continue;
        }
        let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
            continue;
        };
        // a leading slot takes the words before the first part
        let lead = match entry.parts.first() {
            Some(Part::Slot(slot)) => slot_reach(*slot).end.saturating_sub(1).min(first.start).max(1),
            _ => 0,
        };
        let start = first.start - lead.min(first.start);
        if text[start..first.start].contains(&BREAK) {
            continue;
        }
        let slot_chars = (last.end - start) - chain.iter().map(|a| a.end - a.start).sum::<usize>();
        out.push(NearCandidate {
            phrase: entry.phrase,
            variant: entry.variant,
            start,
            end: last.end,
            steps: chain.into_iter().flat_map(|a| a.steps).collect(),
            phrase_chars: literal_chars + slot_chars,
            cost,
            rivals: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    out
}

/// Where a slot's words may run: how many characters lie between the parts around it.
fn slot_reach(slot: Slot) -> Range<usize> {
    match slot {
        Slot::Num => 1..7,
        Slot::Name => 1..4,
        Slot::Any => 0..13,
    }
}

/// What replacing one character by another costs; in a phrase of two
/// characters (`short`), graded by [`sound_gap`].
fn substitution(phrase: char, heard: char, last: bool, short: bool) -> f32 {
    if last && is_particle(phrase) && is_particle(heard) {
        return 0.0;
    }
    if short {
        return sound_gap(phrase, heard);
    }
    match syllable_distance(phrase, heard) {
        SyllableDistance::Same => 0.0,
        SyllableDistance::Homophone => HOMOPHONE_GAP,
        SyllableDistance::Near => 0.6,
        SyllableDistance::Different => 1.0,
    }
}

const INDEL: f32 = 1.0;

/// Semi-global alignment of `phrase` against every stretch of `text` (no
/// stretch crosses a pause break): the best alignment ending at each place
/// that is no worse than its neighbours (all of them when `every`); `short`
/// for a phrase of two characters (see [`substitution`]).
fn align(phrase: &[char], written: &[char], text: &[char], every: bool, short: bool) -> Vec<Alignment> {
    let (m, n) = (phrase.len(), text.len());
    if m == 0 || n == 0 {
        return Vec::new();
    }
    // cost[i][j]: phrase[..i] against a stretch of text ending at j
    let mut cost = vec![vec![f32::INFINITY; n + 1]; m + 1];
    cost[0] = vec![0.0; n + 1];
    for i in 1..=m {
        cost[i][0] = i as f32 * INDEL;
        for j in 1..=n {
            let t = text[j - 1];
            let pair = if t == BREAK {
                f32::INFINITY
            } else {
                cost[i - 1][j - 1] + substitution(phrase[i - 1], t, i == m, short)
            };
            let missing = cost[i - 1][j] + INDEL;
            let extra = if t == BREAK {
                f32::INFINITY
            } else {
                cost[i][j - 1] + INDEL
            };
            cost[i][j] = pair.min(missing).min(extra);
        }
    }
    let ends: Vec<usize> = (1..=n)
        .filter(|&j| cost[m][j].is_finite())
        .filter(|&j| every || ((j == 1 || cost[m][j] <= cost[m][j - 1]) && (j == n || cost[m][j] < cost[m][j + 1])))
        .collect();
    let mut out = Vec::new();
    for end in ends {
        let mut steps = Vec::new();
        let mut agreeing = 0;
        let (mut i, mut j) = (m, end);
        while i > 0 {
            let here = cost[i][j];
            if j > 0
                && text[j - 1] != BREAK
                && (here - (cost[i - 1][j - 1] + substitution(phrase[i - 1], text[j - 1], i == m, short))).abs() < 1e-4
            {
                steps.push(Step::Pair {
                    at: j - 1,
                    written: written[i - 1],
                    same: phrase[i - 1] == text[j - 1],
                });
                let agrees = if short {
                    sound_gap(phrase[i - 1], text[j - 1]) <= HOMOPHONE_GAP
                } else {
                    matches!(
                        syllable_distance(phrase[i - 1], text[j - 1]),
                        SyllableDistance::Same | SyllableDistance::Homophone
                    )
                };
                if agrees {
                    agreeing += 1;
                }
                i -= 1;
                j -= 1;
            } else if (here - (cost[i - 1][j] + INDEL)).abs() < 1e-4 {
                steps.push(Step::Missing {
                    written: written[i - 1],
                });
                i -= 1;
            } else {
                steps.push(Step::Extra { at: j - 1 });
                j -= 1;
            }
        }
        steps.reverse();
        // leading extras are not part of the stretch
        while let Some(Step::Extra { .. }) = steps.first() {
            steps.remove(0);
        }
        let start = steps
            .iter()
            .find_map(|s| match s {
                Step::Pair { at, .. } | Step::Extra { at } => Some(*at),
                Step::Missing { .. } => None,
            })
            .unwrap_or(end);
        if start < end {
            out.push(Alignment {
                start,
                end,
                cost: cost[m][end],
                agreeing,
                steps,
            });
        }
    }
    out.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    out
}

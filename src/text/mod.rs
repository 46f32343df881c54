//! Text normalisation shared by the transcripts and the lexicons.
//!
//! Matching compares a phrase from a handbook with words from a recogniser, so
//! both sides go through the same [`normalize`]: traditional characters become
//! simplified, full-width forms half-width, punctuation and spaces go, Latin
//! letters are lower-cased and (by default) 您 counts as 你. Every normalised
//! character remembers where it came from, so a hit can be shown in the
//! original sentence and placed in time.
//!
//! ```
//! use callqa::text::{normalize, NormalizeOptions};
//! let n = normalize("您好，請問有什麼可以幫您？", &NormalizeOptions::default());
//! assert_eq!(n.text, "你好请问有什么可以帮你");
//! assert_eq!(n.origin[2], 3); // '请' is the 4th character of the original
//! ```

pub(crate) mod pinyin_key;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use pinyin_key::{sound_gap, syllable_distance, syllable_of, SyllableDistance, HOMOPHONE_GAP};

/// The Chinese characters callqa keeps tables for (CJK Unified Ideographs
/// and Extension A): every character whisper writes for Mandarin. The one
/// range every stage uses (the matcher's sound table is indexed by it).
pub const HAN: std::ops::RangeInclusive<u32> = 0x3400..=0x9FFF;

/// Whether `c` is a Chinese character (see [`HAN`]).
pub fn is_han(c: char) -> bool {
    HAN.contains(&(c as u32))
}

/// Whether `c` is part of what was said (a letter, a digit, a Chinese
/// character), not punctuation, a space or a symbol: `char::is_alphanumeric`,
/// with the characters transcripts are made of answered before its Unicode
/// table search, which was a twentieth of a re-score (it runs on every
/// character of every call, and most are Chinese characters and their
/// punctuation).
pub fn is_word_char(c: char) -> bool {
    // (the Yijing's hexagram symbols sit inside the range: symbols, not words)
    if is_han(c) && !('\u{4DC0}'..='\u{4DFF}').contains(&c) || c.is_ascii_alphanumeric() {
        return true;
    }
    if c.is_ascii() {
        return false;
    }
    match c {
        // 、。〃〄 and the brackets and marks up to 〠; ！…／ and ：…＠; dashes, quotes, …
        '\u{3000}'..='\u{3004}' | '\u{3008}'..='\u{3020}' | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}' => false,
        '\u{2010}'..='\u{2027}' => false,
        _ => c.is_alphanumeric(),
    }
}

/// Traditional → simplified for display text (phrase-aware, may change length).
pub fn to_simplified(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

/// Options of [`normalize`]; the lexicon pack can change them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizeOptions {
    /// Treat 您 (polite you) and 你 alike. ASR confuses them constantly.
    pub ni_nin_alike: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self { ni_nin_alike: true }
    }
}

/// Normalised text plus, per character, the index of the original character it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalized {
    /// The normalised text.
    pub text: String,
    /// Its characters (indexable; the matchers work on these).
    pub chars: Vec<char>,
    /// For each of them, the index of the original character it came from.
    pub origin: Vec<usize>,
}

/// Normalises one string. Character-by-character, so the origin map is exact.
pub fn normalize(input: &str, options: &NormalizeOptions) -> Normalized {
    let mut chars = Vec::with_capacity(input.len() / 3 + 1);
    let mut origin = Vec::with_capacity(input.len() / 3 + 1);
    for (i, c) in input.chars().enumerate() {
        if let Some(n) = normalize_char(c, options) {
            chars.push(n);
            origin.push(i);
        }
    }
    Normalized {
        text: chars.iter().collect(),
        chars,
        origin,
    }
}

/// One character's normal form, or None if it does not take part in matching
/// (punctuation, spaces, symbols).
pub fn normalize_char(c: char, options: &NormalizeOptions) -> Option<char> {
    // CJK first: it is nearly every character, and is_alphanumeric is slow for it
    if is_han(c) {
        let c = simplified_char(c);
        return Some(if options.ni_nin_alike && c == '您' { '你' } else { c });
    }
    let c = half_width(c);
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase());
    }
    if !is_word_char(c) {
        return None; // punctuation, spaces, symbols, emoji
    }
    let c = simplified_char(c);
    Some(if options.ni_nin_alike && c == '您' { '你' } else { c })
}

fn half_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Traditional → simplified for one character, from a table built once from
/// zhconv's own data. A table lookup keeps re-scoring millions of transcripts
/// fast and keeps normalisation one character to one character.
pub fn simplified_char(c: char) -> char {
    static TABLE: OnceLock<Vec<char>> = OnceLock::new();
    let code = c as u32;
    if !HAN.contains(&code) {
        return c;
    }
    let table = TABLE.get_or_init(|| {
        let all: String = HAN.filter_map(char::from_u32).map(|c| format!("{c}\n")).collect();
        let converted = zhconv::zhconv(&all, zhconv::Variant::ZhHans);
        let mut table: Vec<char> = HAN.map(|c| char::from_u32(c).unwrap_or(' ')).collect();
        for (original, line) in all.lines().zip(converted.lines()) {
            let mut simple = line.chars();
            if let (Some(s), None, Some(o)) = (simple.next(), simple.next(), original.chars().next()) {
                table[(o as u32 - HAN.start()) as usize] = s;
            }
        }
        table
    });
    table[(code - HAN.start()) as usize]
}

/// Chinese numerals; with the ASCII digits, what a `{num}` slot accepts, so
/// 我5分钟后就回来 and 我五分钟后就回来 match alike.
pub const CHINESE_NUMERALS: &str = "零〇一二三四五六七八九十百千万两几半";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_characters_are_exactly_the_alphanumeric_ones() {
        let differ: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| is_word_char(c) != c.is_alphanumeric())
            .collect();
        assert!(differ.is_empty(), "{differ:?}");
    }

    #[test]
    fn normalisation_table() {
        let opts = NormalizeOptions::default();
        let strict = NormalizeOptions { ni_nin_alike: false };
        for (input, options, want) in [
            ("您好，很高兴为您服务！", &opts, "你好很高兴为你服务"),
            ("您好", &strict, "您好"),
            ("請您稍等片刻", &opts, "请你稍等片刻"),
            ("感謝您的來電", &opts, "感谢你的来电"),
            ("ＡＢＣ１２３　ok", &opts, "abc123ok"),
            ("“对不起。”——好吗？", &opts, "对不起好吗"),
            ("X先生/女士", &opts, "x先生女士"),
            ("我 XX 分钟后就回来", &opts, "我xx分钟后就回来"),
            ("", &opts, ""),
        ] {
            assert_eq!(normalize(input, options).text, want, "{input}");
        }
    }

    #[test]
    fn origin_points_back_into_the_input() {
        let input = "好的，請稍等。";
        let n = normalize(input, &NormalizeOptions::default());
        let original: Vec<char> = input.chars().collect();
        assert_eq!(n.chars.len(), n.origin.len());
        assert_eq!(original[n.origin[2]], '請');
        assert_eq!(n.chars[2], '请');
    }

    #[test]
    fn display_conversion_is_simplified() {
        assert_eq!(to_simplified("請不吝點贊"), "请不吝点赞");
        assert_eq!(to_simplified("燃氣表壞了"), "燃气表坏了");
    }
}

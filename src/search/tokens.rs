//! What the index and the queries are made of: character bigrams of the
//! normalised text (Chinese has no spaces to split words at; bigrams find any
//! word of two or more characters without a dictionary), and the same over
//! sounds (toneless pinyin with the usual merges, as the lexicons' tolerant
//! matching), so a word whisper wrote with homophones (头诉 for 投诉) is found.
//!
//! Text and queries go through the same functions, so they always agree.

use crate::text::{normalize_char, syllable_of, NormalizeOptions};

/// Between runs of characters (punctuation, spaces): a token no query holds,
/// so a phrase never matches across a clause break.
const BREAK: &str = "|";

/// The tokens of `text` as the index's text field holds them, space-separated.
pub fn char_bigrams(text: &str) -> String {
    bigrams(&units(text, |c| c.to_string()))
}

/// The tokens of `text` as the index's sound field holds them.
pub fn sound_bigrams(text: &str) -> String {
    bigrams(&units(text, |c| match syllable_of(c) {
        Some(s) => format!("{}{}", s.initial, s.final_),
        None => c.to_string(),
    }))
}

/// How many characters a query word keeps once normalised (punctuation and
/// spaces do not count): under two, it has no bigram to look for.
pub fn searchable_chars(text: &str) -> usize {
    let options = NormalizeOptions::default();
    text.chars().filter_map(|c| normalize_char(c, &options)).count()
}

/// Runs of normalised characters (simplified, half-width, lower case, 您 as
/// 你), each character mapped to its unit; `None` marks a break.
fn units(text: &str, unit: impl Fn(char) -> String) -> Vec<Option<String>> {
    let options = NormalizeOptions::default();
    let mut out = Vec::with_capacity(text.len() / 3 + 1);
    for c in text.chars() {
        match normalize_char(c, &options) {
            Some(c) => out.push(Some(unit(c))),
            None if out.last().is_some_and(Option::is_some) => out.push(None),
            None => {}
        }
    }
    out
}

fn bigrams(units: &[Option<String>]) -> String {
    let mut out = String::with_capacity(units.len() * 8);
    let mut push = |token: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    };
    for pair in units.windows(2) {
        match pair {
            [Some(a), Some(b)] => push(&format!("{a}{b}")),
            [Some(_), None] => push(BREAK),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_of_normalised_runs_with_breaks_between() {
        assert_eq!(char_bigrams("我要投訴！"), "我要 要投 投诉 |");
        assert_eq!(char_bigrams("打１２３１５，您好"), "打1 12 23 31 15 | 你好");
        assert_eq!(char_bigrams("好"), "");
        assert_eq!(searchable_chars("「好」"), 1);
    }

    #[test]
    fn sounds_make_homophones_one_token() {
        assert_eq!(sound_bigrams("投诉"), sound_bigrams("头诉"));
        // the lexicons' merges: zh/z, n/l, -ng/-n
        assert_eq!(sound_bigrams("燃气"), sound_bigrams("然气"));
        assert_ne!(sound_bigrams("投诉"), sound_bigrams("退款"));
        assert_eq!(sound_bigrams("打12"), "da1 12");
    }
}

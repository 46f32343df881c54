//! What the index and the queries are made of: character bigrams of the
//! normalised text (Chinese has no spaces to split words at; bigrams find any
//! word of two or more characters without a dictionary), and the same over
//! sounds (toneless pinyin with the usual merges, as the lexicons' tolerant
//! matching), so a word whisper wrote with homophones (头诉 for 投诉) is found.
//!
//! Text and queries go through the same functions, so they always agree.

use std::fmt::Write;

use crate::text::{normalize_char, syllable_of, NormalizeOptions};

/// Between runs of characters (punctuation, spaces): a token no query holds,
/// so a phrase never matches across a clause break.
const BREAK: &str = "|";

/// The tokens of `text` as the index's text field holds them, space-separated.
pub fn char_bigrams(text: &str) -> String {
    bigrams(text, |c, unit| unit.push(c))
}

/// The tokens of `text` as the index's sound field holds them.
pub fn sound_bigrams(text: &str) -> String {
    bigrams(text, |c, unit| match syllable_of(c) {
        Some(s) => {
            let _ = write!(unit, "{}{}", s.initial, s.final_);
        }
        None => unit.push(c),
    })
}

/// How many characters a query word keeps once normalised (punctuation and
/// spaces do not count): under two, it has no bigram to look for.
pub fn searchable_chars(text: &str) -> usize {
    let options = NormalizeOptions::default();
    text.chars().filter_map(|c| normalize_char(c, &options)).count()
}

/// The bigrams of the runs of normalised characters of `text` (simplified,
/// half-width, lower case, 您 as 你), each character written as its unit by
/// `unit`, and a [`BREAK`] after each run. In one pass with no allocation
/// per character: a first build of the index makes these for every clause
/// of the archive.
fn bigrams(text: &str, unit: impl Fn(char, &mut String)) -> String {
    let options = NormalizeOptions::default();
    let mut out = String::with_capacity(text.len() * 3);
    let mut push = |a: &str, b: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(a);
        out.push_str(b);
    };
    // the unit before this character, if it was one (not a break)
    let (mut previous, mut current) = (String::new(), String::new());
    let mut in_run = false;
    for c in text.chars() {
        match normalize_char(c, &options) {
            Some(c) => {
                current.clear();
                unit(c, &mut current);
                if in_run {
                    push(&previous, &current);
                }
                std::mem::swap(&mut previous, &mut current);
                in_run = true;
            }
            None if in_run => {
                push(BREAK, "");
                in_run = false;
            }
            None => {}
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
        assert_eq!(char_bigrams("，好，"), "|");
        assert_eq!(char_bigrams("！！我要，，对吗"), "我要 | 对吗");
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

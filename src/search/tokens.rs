//! What the index and the queries are made of: character bigrams of the
//! normalised text (Chinese has no spaces to split words at; bigrams find any
//! word of two or more characters without a dictionary), and the same over
//! sounds (toneless pinyin with the usual merges, as the lexicons' tolerant
//! matching), so a word whisper wrote with homophones (头诉 for 投诉) is found.
//!
//! One walk over the text (`BigramStream`) makes them all: the index's
//! tokenizers, the query's tokens and the clauses' a query is checked
//! against, so the three always agree. No bigram spans a break between runs
//! of characters (punctuation, spaces, one segment and the next), so no
//! phrase matches across one; the positions also skip one there. No break
//! token is indexed: it was a fifth of all tokens, with the longest postings.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::text::{normalize_char, syllable_of, NormalizeOptions};

/// Where a clause break was, in the token lists `bigrams` gives: a token no
/// query holds, so a window of query tokens never spans one.
const BREAK: &str = "|";

/// What a token's two units are: the characters themselves, or their sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    Chars,
    Sounds,
}

impl Units {
    /// The tokenizer's name in the index's schema.
    pub fn tokenizer_name(self) -> &'static str {
        match self {
            Units::Chars => "callqa-char-bigrams",
            Units::Sounds => "callqa-sound-bigrams",
        }
    }

    fn write(self, c: char, unit: &mut String) {
        match (self, syllable_of(c)) {
            (Units::Sounds, Some(s)) => {
                unit.push_str(s.initial);
                unit.push_str(s.final_);
            }
            _ => unit.push(c),
        }
    }
}

/// The bigrams of the runs of normalised characters of `text` (simplified,
/// half-width, lower case, 您 as 你), with a [`BREAK`] between runs: what a
/// query looks for and what a clause is checked against.
pub fn bigrams(text: &str, units: Units) -> Vec<String> {
    let mut stream = BigramStream::new(text, units);
    let mut tokens = Vec::new();
    let mut next_position = 0;
    while stream.advance() {
        let token = stream.token();
        if token.position > next_position {
            tokens.push(BREAK.to_string());
        }
        next_position = token.position + 1;
        tokens.push(token.text.clone());
    }
    tokens
}

/// How many characters a query word keeps once normalised (punctuation and
/// spaces do not count): under two, it has no bigram to look for.
pub fn searchable_chars(text: &str) -> usize {
    let options = NormalizeOptions::default();
    text.chars().filter_map(|c| normalize_char(c, &options)).count()
}

/// The index's tokenizer of one field: a document's text is a side's
/// segments, one to a line.
#[derive(Debug, Clone, Copy)]
pub struct BigramTokenizer(pub Units);

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = BigramStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramStream<'a> {
        BigramStream::new(text, self.0)
    }
}

/// The bigrams of a text, one at a time, in one pass with no allocation per
/// character (a first build of the index makes these for every clause of
/// the archive).
pub struct BigramStream<'a> {
    chars: std::str::Chars<'a>,
    units: Units,
    options: NormalizeOptions,
    /// The unit before this character, when it was one (not a break).
    previous: String,
    current: String,
    in_run: bool,
    next_position: usize,
    token: Token,
}

impl<'a> BigramStream<'a> {
    fn new(text: &'a str, units: Units) -> Self {
        Self {
            chars: text.chars(),
            units,
            options: NormalizeOptions::default(),
            previous: String::new(),
            current: String::new(),
            in_run: false,
            next_position: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for BigramStream<'_> {
    fn advance(&mut self) -> bool {
        for c in self.chars.by_ref() {
            let Some(c) = normalize_char(c, &self.options) else {
                if self.in_run {
                    // the next run's first bigram is not next to this one's last
                    self.next_position += 1;
                    self.in_run = false;
                }
                continue;
            };
            self.current.clear();
            self.units.write(c, &mut self.current);
            let bigram = self.in_run;
            if bigram {
                self.token.text.clear();
                self.token.text.push_str(&self.previous);
                self.token.text.push_str(&self.current);
                self.token.position = self.next_position;
                self.next_position += 1;
            }
            std::mem::swap(&mut self.previous, &mut self.current);
            self.in_run = true;
            if bigram {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(text: &str, units: Units) -> String {
        bigrams(text, units).join(" ")
    }

    #[test]
    fn bigrams_of_normalised_runs_with_breaks_between() {
        assert_eq!(joined("我要投訴！", Units::Chars), "我要 要投 投诉");
        assert_eq!(joined("打１２３１５，您好", Units::Chars), "打1 12 23 31 15 | 你好");
        assert_eq!(joined("好", Units::Chars), "");
        assert_eq!(joined("，好，", Units::Chars), "");
        assert_eq!(joined("！！我要，，对吗", Units::Chars), "我要 | 对吗");
        // a run of one character is a break of its own
        assert_eq!(joined("我要，好，对吗", Units::Chars), "我要 | 对吗");
        assert_eq!(searchable_chars("「好」"), 1);
    }

    #[test]
    fn the_index_sees_breaks_as_gaps_in_the_positions() {
        let mut tokenizer = BigramTokenizer(Units::Chars);
        let mut stream = tokenizer.token_stream("我要投诉\n你好，谢谢");
        let mut seen = Vec::new();
        while stream.advance() {
            seen.push((stream.token().text.clone(), stream.token().position));
        }
        let expected = [("我要", 0), ("要投", 1), ("投诉", 2), ("你好", 4), ("谢谢", 6)];
        assert_eq!(
            seen,
            expected.map(|(t, p)| (t.to_string(), p)).to_vec(),
            "no two runs' bigrams are next to each other"
        );
    }

    #[test]
    fn sounds_make_homophones_one_token() {
        assert_eq!(bigrams("投诉", Units::Sounds), bigrams("头诉", Units::Sounds));
        // the lexicons' merges: zh/z, n/l, -ng/-n
        assert_eq!(bigrams("燃气", Units::Sounds), bigrams("然气", Units::Sounds));
        assert_ne!(bigrams("投诉", Units::Sounds), bigrams("退款", Units::Sounds));
        assert_eq!(joined("打12", Units::Sounds), "da1 12");
    }
}

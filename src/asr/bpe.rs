//! Whisper's tokeniser, as the model writes text: byte-level BPE whose merge
//! ranks are the token ids.
//!
//! Phrase verification scores a phrase in the model's own tokens. whisper.cpp's
//! `whisper_tokenize` is not that tokeniser: it takes the longest vocabulary
//! entry at each point, which for Chinese gives other tokens than whisper
//! writes (and scores them far lower). Whisper's vocabulary is a tiktoken
//! encoding, in which a token's id is its merge rank, so the model file's
//! vocabulary alone (no merge table) is enough: split the text as GPT-2 does
//! (letters, numbers, other symbols, spaces; a leading space stays with the
//! word), then in each piece merge, again and again, the neighbouring pair
//! whose union has the lowest id.

use std::collections::HashMap;

/// The regular tokens of a whisper vocabulary, by their bytes.
pub(super) struct Bpe {
    ids: HashMap<Vec<u8>, i32>,
}

impl Bpe {
    /// From (id, bytes) of every regular token (special tokens left out).
    pub(super) fn new(tokens: impl IntoIterator<Item = (i32, Vec<u8>)>) -> Self {
        let mut ids = HashMap::new();
        for (id, bytes) in tokens {
            // the lowest id wins where a vocabulary spells one byte string twice
            ids.entry(bytes).or_insert(id);
        }
        Self { ids }
    }

    /// The tokens whisper writes `text` with. `None` when a byte has no token
    /// (a vocabulary that is not byte-level).
    pub(super) fn encode(&self, text: &str) -> Option<Vec<i32>> {
        let mut out = Vec::new();
        for piece in pieces(text) {
            self.encode_piece(piece.as_bytes(), &mut out)?;
        }
        Some(out)
    }

    fn encode_piece(&self, piece: &[u8], out: &mut Vec<i32>) -> Option<()> {
        if let Some(&id) = self.ids.get(piece) {
            out.push(id);
            return Some(());
        }
        // boundaries of the current parts; merge the lowest-ranked pair until none merges
        let mut bounds: Vec<usize> = (0..=piece.len()).collect();
        loop {
            let best = (0..bounds.len().saturating_sub(2))
                .filter_map(|i| self.ids.get(&piece[bounds[i]..bounds[i + 2]]).map(|&id| (id, i)))
                .min();
            match best {
                Some((_, i)) => {
                    bounds.remove(i + 1);
                }
                None => break,
            }
        }
        for pair in bounds.windows(2) {
            out.push(*self.ids.get(&piece[pair[0]..pair[1]])?);
        }
        Some(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Number,
    Space,
    Other,
}

fn class(c: char) -> Class {
    if c.is_whitespace() {
        Class::Space
    } else if c.is_alphabetic() {
        Class::Letter
    } else if c.is_numeric() {
        Class::Number
    } else {
        Class::Other
    }
}

/// GPT-2's pre-tokenisation (`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
/// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`), written out: the regex crate has no
/// look-ahead.
fn pieces(text: &str) -> Vec<&str> {
    const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest = &text[byte_at(i)..];
        if let Some(c) = CONTRACTIONS.iter().find(|c| rest.starts_with(**c)) {
            let n = c.chars().count();
            out.push(&text[byte_at(i)..byte_at(i + n)]);
            i += n;
            continue;
        }
        let c = chars[i].1;
        // an optional single space, then a run of one class
        let (head, body_start) = if c == ' ' && chars.get(i + 1).is_some_and(|&(_, n)| class(n) != Class::Space) {
            (i, i + 1)
        } else {
            (i, i)
        };
        let body = class(chars[body_start].1);
        if body == Class::Space {
            // a run of spaces: all but the last when a word follows it
            let mut end = body_start;
            while end < chars.len() && class(chars[end].1) == Class::Space {
                end += 1;
            }
            if end < chars.len() && end - body_start > 1 {
                end -= 1;
            }
            out.push(&text[byte_at(head)..byte_at(end)]);
            i = end;
            continue;
        }
        let mut end = body_start + 1;
        while end < chars.len() && class(chars[end].1) == body {
            if body == Class::Other && rest_starts_contraction(text, byte_at(end)) {
                break;
            }
            end += 1;
        }
        out.push(&text[byte_at(head)..byte_at(end)]);
        i = end;
    }
    out
}

fn rest_starts_contraction(text: &str, at: usize) -> bool {
    ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
        .iter()
        .any(|c| text[at..].starts_with(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_as_gpt2_splits_it() {
        for (text, want) in [
            ("您好，很高兴为您服务。", vec!["您好", "，", "很高兴为您服务", "。"]),
            ("Hello world", vec!["Hello", " world"]),
            ("it's 12 ok", vec!["it", "'s", " 12", " ok"]),
            ("a  b", vec!["a", " ", " b"]),
            ("请问 有什么", vec!["请问", " 有什么"]),
            ("end  ", vec!["end", "  "]),
            ("?!", vec!["?!"]),
        ] {
            assert_eq!(pieces(text), want, "{text:?}");
        }
    }

    #[test]
    fn merges_follow_the_ranks() {
        // bytes a, b, c; "ab" ranked before "bc": abc → ab + c
        let bpe = Bpe::new([
            (0, b"a".to_vec()),
            (1, b"b".to_vec()),
            (2, b"c".to_vec()),
            (3, b"ab".to_vec()),
            (4, b"bc".to_vec()),
        ]);
        assert_eq!(bpe.encode("abc"), Some(vec![3, 2]));
        let bpe = Bpe::new([
            (0, b"a".to_vec()),
            (1, b"b".to_vec()),
            (2, b"c".to_vec()),
            (4, b"ab".to_vec()),
            (3, b"bc".to_vec()),
        ]);
        assert_eq!(bpe.encode("abc"), Some(vec![0, 3]));
        assert_eq!(bpe.encode("abd"), None, "no token for d");
    }
}

//! Whisper's vocabulary as whisper.cpp wants it: the regular tokens' raw bytes.

use std::collections::HashMap;
use std::path::Path;

use super::ConvertError;

/// Regular (non-special) tokens of every whisper vocabulary: GPT-2's 50,257.
const N_REGULAR_TOKENS: usize = 50257;

/// The 50,257 regular tokens as raw bytes, in id order. tokenizer.json spells
/// byte-level BPE tokens through GPT-2's byte→printable-unicode map; whisper.cpp
/// wants the original bytes, so the map is inverted here.
pub(super) fn read_regular_tokens(path: &Path) -> Result<Vec<Vec<u8>>, ConvertError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConvertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let fail = |reason: &str| ConvertError::Tokenizer {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| fail(&format!("not JSON: {e}")))?;
    let vocab = json
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .ok_or_else(|| fail("no model.vocab table"))?;
    let decoder = gpt2_unicode_to_byte();
    let mut tokens = vec![Vec::new(); N_REGULAR_TOKENS];
    for (text, id) in vocab {
        let Some(id) = id.as_u64().map(|i| i as usize).filter(|&i| i < N_REGULAR_TOKENS) else {
            continue;
        };
        tokens[id] = text
            .chars()
            .map(|c| decoder.get(&c).copied().ok_or(c))
            .collect::<Result<Vec<u8>, char>>()
            .map_err(|c| fail(&format!("token {id} has {c:?}, outside the byte-level alphabet")))?;
    }
    Ok(tokens)
}

/// GPT-2's `bytes_to_unicode`, inverted: printable bytes stand for themselves,
/// the other 68 bytes were shifted to U+0100 and up.
fn gpt2_unicode_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).expect("valid code point")
        };
        map.insert(c, b);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_byte_map_covers_every_byte_once() {
        let map = gpt2_unicode_to_byte();
        assert_eq!(map.len(), 256);
        assert_eq!(map[&'Ġ'], b' ');
        assert_eq!(map[&'Ċ'], b'\n');
        assert_eq!(map[&'a'], b'a');
    }
}

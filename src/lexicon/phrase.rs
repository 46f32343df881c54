//! One line of a phrase file → a validated [`Phrase`].

use crate::text::{normalize, NormalizeOptions};

/// A placeholder in a phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// 1–6 numerals, Chinese or Arabic: XX分钟, **号.
    Num,
    /// 1–3 characters: a name before 先生/女士.
    Name,
    /// 0–12 characters of anything.
    Any,
}

impl Slot {
    fn parse(name: &str) -> Option<Slot> {
        match name {
            "num" => Some(Slot::Num),
            "name" => Some(Slot::Name),
            "any" => Some(Slot::Any),
            _ => None,
        }
    }
}

/// A piece of a normalised phrase variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Characters to find as they are.
    Literal(String),
    /// A slot (`{name}`, `{number}`…): what it stands for.
    Slot(Slot),
}

/// A variant's own words: its literal parts, joined, without its slots
/// (a slot's words are heard, not the phrase's).
pub fn literal_text(tokens: &[Token]) -> String {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Literal(text) => Some(text.as_str()),
            Token::Slot(_) => None,
        })
        .collect()
}

/// A phrase of the pack, with its variants normalised for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase {
    /// Its id, the first word of its line (as in hits.parquet).
    pub id: String,
    /// Its category.
    pub category: String,
    /// As written, one per variant.
    pub written: Vec<String>,
    /// Normalised, one per variant.
    pub variants: Vec<Vec<Token>>,
    /// Normalised longer phrases inside which a hit does not count.
    pub exclusions: Vec<String>,
    /// Its line in the category's file (1-based).
    pub line: usize,
}

/// Parses `id  phrase [| variant…] [!not exclusion | …]`. Comments and blank
/// lines give `Ok(None)`.
pub fn parse_line(
    line: &str,
    line_no: usize,
    category: &str,
    options: &NormalizeOptions,
) -> Result<Option<Phrase>, String> {
    let line = strip_comment(line).trim();
    if line.is_empty() {
        return Ok(None);
    }
    let (id, rest) = line
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("{line:?} has an id but no phrase (write: id  phrase)"))?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(format!("phrase id {id:?} may use only ASCII letters, digits, _ . -"));
    }
    let (phrases, exclusions) = match rest.split_once("!not") {
        Some((p, e)) => (p, Some(e)),
        None => (rest, None),
    };
    let mut written = Vec::new();
    let mut variants = Vec::new();
    for variant in phrases.split('|') {
        let variant = variant.trim();
        let tokens = tokenize(variant, options)?;
        if !tokens.iter().any(|t| matches!(t, Token::Literal(_))) {
            return Err(if variant.is_empty() {
                format!("empty phrase for id {id}")
            } else {
                format!("phrase {variant:?} has no words to match (only slots or punctuation)")
            });
        }
        written.push(variant.to_string());
        variants.push(tokens);
    }
    let mut excluded = Vec::new();
    if let Some(list) = exclusions {
        for e in list.split('|') {
            let n = normalize(e, options).text;
            if n.is_empty() {
                return Err("empty exclusion after !not".into());
            }
            excluded.push(n);
        }
    }
    Ok(Some(Phrase {
        id: id.to_string(),
        category: category.to_string(),
        written,
        variants,
        exclusions: excluded,
        line: line_no,
    }))
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    // a # after whitespace starts a trailing comment
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(i) => &line[..i],
        None => line,
    }
}

fn tokenize(text: &str, options: &NormalizeOptions) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        push_literal(&mut tokens, &rest[..open], options);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unclosed slot in {text:?}"))?
            + open;
        let name = &rest[open + 1..close];
        let slot = Slot::parse(name)
            .ok_or_else(|| format!("unknown slot {{{name}}} in {text:?} (slots: {{num}} {{name}} {{any}})"))?;
        if matches!(tokens.last(), Some(Token::Slot(_))) {
            return Err(format!("two slots in a row in {text:?}: put words between them"));
        }
        tokens.push(Token::Slot(slot));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("stray }} in {text:?}"));
    }
    push_literal(&mut tokens, rest, options);
    Ok(tokens)
}

fn push_literal(tokens: &mut Vec<Token>, text: &str, options: &NormalizeOptions) {
    let n = normalize(text, options).text;
    if !n.is_empty() {
        tokens.push(Token::Literal(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Phrase>, String> {
        parse_line(line, 1, "test", &NormalizeOptions::default())
    }

    #[test]
    fn lines_parse_into_phrases() {
        let p = parse("hold.named  {name}先生，让您久等了 | 让您久等了 !not 没让您久等了")
            .unwrap()
            .unwrap();
        assert_eq!(p.id, "hold.named");
        assert_eq!(p.variants.len(), 2);
        assert_eq!(
            p.variants[0],
            vec![Token::Slot(Slot::Name), Token::Literal("先生让你久等了".into())]
        );
        assert_eq!(p.exclusions, vec!["没让你久等了".to_string()]);
        assert_eq!(p.written[1], "让您久等了");
        assert_eq!(parse("   # a comment").unwrap(), None);
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(
            parse("x.y 再见 # trailing comment").unwrap().unwrap().written,
            vec!["再见"]
        );
    }

    #[test]
    fn mistakes_are_explained() {
        for (line, says) in [
            ("greeting.only_id", "no phrase"),
            ("greeting.x  {unknown}好", "unknown slot"),
            ("greeting.x  {num", "unclosed slot"),
            ("greeting.x  {num}{name}好", "two slots"),
            ("greeting.x  {any}", "no words"),
            ("greeting.x  ，。", "no words"),
            ("greeting.x  好 |  ", "empty phrase"),
            ("bad!id  好", "phrase id"),
            ("greeting.x 好 !not ，", "empty exclusion"),
        ] {
            let err = parse(line).unwrap_err();
            assert!(err.contains(says), "{line}: {err}");
        }
    }
}

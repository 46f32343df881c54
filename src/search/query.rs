//! The query language: words and quoted phrases, `AND` (or nothing between
//! two terms), `OR`, `NOT`, parentheses, and `A NEAR/10 B` (A and B said
//! within 10 seconds of each other). Operators are written in capitals, so
//! a lower-case "or" in a phrase is a word. A query matches a call; its hits
//! are the clauses that hold its words.
//!
//! ```text
//! 投诉 OR 12315
//! "找你们领导" AND NOT 谢谢
//! 退款 NEAR/10 (不行 OR 没办法)
//! ```

use super::tokens::searchable_chars;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A word or phrase said in one clause.
    Words(String),
    And(Vec<Query>),
    Or(Vec<Query>),
    /// Calls without it (only inside an AND: something must be searched for).
    Not(Box<Query>),
    /// Both said within `seconds` of each other.
    Near(Box<Query>, Box<Query>, f64),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QueryError {
    #[error("the query is empty")]
    Empty,
    #[error("{0:?}: a word needs at least two characters (Chinese is searched by character pairs)")]
    TooShort(String),
    #[error("a quote is not closed")]
    UnclosedQuote,
    #[error("a parenthesis is not closed")]
    UnclosedParen,
    #[error("{0:?} here: expected a word, a quoted phrase or (")]
    Unexpected(String),
    #[error("{0}: write NEAR/N, N the seconds (NEAR/10)")]
    BadNear(String),
    #[error("NOT alone finds nothing: say what to look for too (投诉 NOT 谢谢)")]
    OnlyNot,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    And,
    Or,
    Not,
    Near(f64),
}

impl std::str::FromStr for Query {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let tokens = lex(text)?;
        if tokens.is_empty() {
            return Err(QueryError::Empty);
        }
        let mut parser = Parser { tokens, at: 0 };
        let query = parser.or()?;
        if let Some(extra) = parser.tokens.get(parser.at) {
            return Err(QueryError::Unexpected(describe(extra)));
        }
        if !query.searches_something() {
            return Err(QueryError::OnlyNot);
        }
        Ok(query)
    }
}

impl Query {
    /// Whether the query names something to find, not only what to leave out.
    fn searches_something(&self) -> bool {
        match self {
            Query::Words(_) | Query::Near(..) => true,
            Query::Not(_) => false,
            Query::And(parts) => parts.iter().any(Query::searches_something),
            Query::Or(parts) => parts.iter().all(Query::searches_something),
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(w) => w.clone(),
        Token::Quoted(q) => format!("\"{q}\""),
        Token::Open => "(".into(),
        Token::Close => ")".into(),
        Token::And => "AND".into(),
        Token::Or => "OR".into(),
        Token::Not => "NOT".into(),
        Token::Near(s) => format!("NEAR/{s}"),
    }
}

fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | '（' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' | '）' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' | '“' | '”' | '「' => {
                chars.next();
                let mut phrase = String::new();
                let mut closed = false;
                for q in chars.by_ref() {
                    if matches!(q, '"' | '“' | '”' | '」') {
                        closed = true;
                        break;
                    }
                    phrase.push(q);
                }
                if !closed {
                    return Err(QueryError::UnclosedQuote);
                }
                tokens.push(Token::Quoted(phrase));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '（' | '）' | '"' | '“' | '”' | '「' | '」')
                    {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(match word.as_str() {
                    "AND" => Token::And,
                    "OR" => Token::Or,
                    "NOT" => Token::Not,
                    w if w.starts_with("NEAR/") || w == "NEAR" => {
                        let seconds: f64 = w
                            .strip_prefix("NEAR/")
                            .and_then(|n| n.parse().ok())
                            .filter(|n: &f64| n.is_finite() && *n >= 0.0)
                            .ok_or_else(|| QueryError::BadNear(w.to_string()))?;
                        Token::Near(seconds)
                    }
                    _ => Token::Word(word),
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.at += 1;
                    parts.push(self.unary()?);
                }
                Some(Token::Word(_) | Token::Quoted(_) | Token::Open | Token::Not) => parts.push(self.unary()?),
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Query, QueryError> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            return Ok(Query::Not(Box::new(self.unary()?)));
        }
        let left = self.atom()?;
        if let Some(&Token::Near(seconds)) = self.peek() {
            self.at += 1;
            let right = self.atom()?;
            return Ok(Query::Near(Box::new(left), Box::new(right), seconds));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Query, QueryError> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Word(w) | Token::Quoted(w)) => {
                if searchable_chars(&w) < 2 {
                    return Err(QueryError::TooShort(w));
                }
                Ok(Query::Words(w))
            }
            Some(Token::Open) => {
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(QueryError::UnclosedParen);
                }
                self.at += 1;
                Ok(inner)
            }
            Some(other) => Err(QueryError::Unexpected(describe(&other))),
            None => Err(QueryError::Unexpected("the end".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Query {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn w(text: &str) -> Query {
        Query::Words(text.into())
    }

    #[test]
    fn words_phrases_and_operators() {
        assert_eq!(q("投诉"), w("投诉"));
        assert_eq!(q("投诉 OR 12315"), Query::Or(vec![w("投诉"), w("12315")]));
        assert_eq!(q("退款 不行"), Query::And(vec![w("退款"), w("不行")]));
        assert_eq!(q("退款 AND 不行"), q("退款 不行"));
        assert_eq!(q("\"找你们 领导\""), w("找你们 领导"), "a quoted phrase is one term");
        assert_eq!(q("「找你们领导」"), w("找你们领导"));
        assert_eq!(
            q("投诉 NOT 谢谢"),
            Query::And(vec![w("投诉"), Query::Not(Box::new(w("谢谢")))])
        );
        assert_eq!(
            q("退款 NEAR/10 (不行 OR 没办法)"),
            Query::Near(
                Box::new(w("退款")),
                Box::new(Query::Or(vec![w("不行"), w("没办法")])),
                10.0
            )
        );
        // OR binds looser than AND
        assert_eq!(
            q("a1 b2 OR c3"),
            Query::Or(vec![Query::And(vec![w("a1"), w("b2")]), w("c3")])
        );
        assert_eq!(q("投诉 or 12315"), Query::And(vec![w("投诉"), w("or"), w("12315")]));
    }

    #[test]
    fn what_cannot_be_searched_says_why() {
        let err = |text: &str| text.parse::<Query>().unwrap_err();
        assert_eq!(err(""), QueryError::Empty);
        assert_eq!(err("好"), QueryError::TooShort("好".into()));
        assert_eq!(err("\"投诉"), QueryError::UnclosedQuote);
        assert_eq!(err("(投诉 OR 12315"), QueryError::UnclosedParen);
        assert_eq!(err("投诉 NEAR/x 领导"), QueryError::BadNear("NEAR/x".into()));
        assert_eq!(err("NOT 谢谢"), QueryError::OnlyNot);
        assert_eq!(err("投诉 OR"), QueryError::Unexpected("the end".into()));
        assert_eq!(err("投诉 )"), QueryError::Unexpected(")".into()));
    }
}

//! Reviews: QA staff's own verdicts on the machine's, kept beside the tables.
//!
//! A reviewer listens to a call and says, rule by rule, whether the agent broke
//! it (`fail`) or not (`pass`). Reviews come in as CSV (`callqa review import`),
//! are appended to `reviews.parquet` under the folder's lock, and are read by
//! `score`, where the rules let the latest review of a rule overturn the
//! machine's verdict ([`crate::rules::apply_reviews`]). This module owns the
//! file and its validation; it never decides a verdict.
//!
//! A CSV is applied whole or not at all: one unknown call, unknown rule or
//! unreadable verdict refuses the file, naming the line. The same line
//! imported twice is kept once (a row is known by its call, rule, verdict,
//! reviewer, note and review time), so importing a file again changes nothing.

mod agreement;
mod sample;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::store::OutDir;

use crate::rules::HumanVerdict;
pub use crate::rules::{RuleReview, RuleVerdict};
pub use agreement::{Agreement, AgreementBook, Dispute};
pub use sample::{pick, SampleSpec};

/// `[review]` in pack.toml: how far a rule must agree with the reviewers
/// (`callqa lexicon test` exits 1 below it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewSettings {
    /// Of the machine's fails of a rule, the share reviewers must uphold.
    pub min_precision: f64,
    /// Of the reviewers' fails of a rule, the share the machine must find.
    pub min_recall: f64,
    /// A rule reviewed on fewer calls is reported, not held to the floors.
    pub min_reviewed: u32,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        Self {
            min_precision: 0.8,
            min_recall: 0.7,
            min_reviewed: 5,
        }
    }
}

impl crate::settings::Validate for ReviewSettings {
    fn validate(&self, c: &mut crate::settings::Checks) {
        c.share("min_precision", self.min_precision);
        c.share("min_recall", self.min_recall);
    }
}

impl ReviewSettings {
    /// Where a rule's record falls below the floors (nothing when it holds,
    /// or was reviewed too little to say).
    pub fn shortfall(&self, a: &Agreement) -> Vec<Shortfall> {
        if a.reviewed < self.min_reviewed {
            return Vec::new();
        }
        let mut short = Vec::new();
        if let Some(p) = a.precision.filter(|&p| p < self.min_precision) {
            short.push(Shortfall {
                measure: "precision",
                value: p,
                floor: self.min_precision,
            });
        }
        if let Some(r) = a.recall.filter(|&r| r < self.min_recall) {
            short.push(Shortfall {
                measure: "recall",
                value: r,
                floor: self.min_recall,
            });
        }
        short
    }
}

/// A measure of a rule under the pack's floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shortfall {
    /// `precision` or `recall`.
    pub measure: &'static str,
    pub value: f64,
    pub floor: f64,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:.2} < {:.2}", self.measure, self.value, self.floor)
    }
}

/// One line of a review: who said what of which rule of which call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub call_id: String,
    /// A rule id (`rules::Rule`).
    pub rule: String,
    pub verdict: RuleVerdict,
    pub reviewer: String,
    pub note: String,
    /// When the reviewer gave it, as the sheet says (empty when it says nothing).
    pub reviewed_at: String,
    /// When it was imported (RFC 3339): orders reviews the sheet left undated.
    pub imported_at: String,
    /// `file:line` it came from.
    pub source: String,
}

impl Review {
    /// What makes two lines the same review (so a second import adds nothing).
    fn identity(&self) -> (&str, &str, RuleVerdict, &str, &str, &str) {
        (
            &self.call_id,
            &self.rule,
            self.verdict,
            &self.reviewer,
            &self.note,
            &self.reviewed_at,
        )
    }

    /// The instant that orders reviews: the reviewer's time, or the
    /// import's, with its offset applied (09:00+08:00 is before 01:30Z).
    /// None for a time that does not read, which then sorts first.
    fn when(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let text = if self.reviewed_at.is_empty() {
            &self.imported_at
        } else {
            &self.reviewed_at
        };
        chrono::DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|at| at.with_timezone(&chrono::Utc))
    }
}

/// Why a review sheet was refused: nothing of it was applied.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason} (nothing of this file was imported)")]
    Line { path: PathBuf, line: u64, reason: String },
    #[error("{path}: {reason} (nothing of this file was imported)")]
    Header { path: PathBuf, reason: String },
}

/// What a sheet is checked against.
pub struct Known<'a> {
    pub calls: &'a HashSet<String>,
    pub rules: &'a [&'a str],
}

/// Reads a review sheet: a header row, then one verdict per line.
///
/// Columns (any order; names in English or as the review page writes them):
/// `call_id`, `rule`, `verdict` (pass/fail, 通过/不通过, 合格/不合格; or
/// agree/disagree, 同意/不同意, with the `machine` column saying what the
/// machine said), and optionally `note`, `reviewed_at`, `reviewer` (else `by`).
/// A line whose verdict is empty is skipped: the reviewer did not get to it.
pub fn read_sheet(path: &Path, by: &str, known: &Known, imported_at: &str) -> Result<Vec<Review>, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // a sheet saved by a spreadsheet program may start with a byte-order mark
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header_error = |reason: String| ImportError::Header {
        path: path.to_path_buf(),
        reason,
    };
    let headers = reader
        .headers()
        .map_err(|e| header_error(format!("the header row cannot be read: {e}")))?
        .clone();
    let column = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let required = |names: &[&str]| column(names).ok_or_else(|| header_error(format!("no {} column", names[0])));
    let call_col = required(&["call_id", "通话编号"])?;
    let rule_col = required(&["rule", "规则"])?;
    let verdict_col = required(&["verdict", "结论"])?;
    let note_col = column(&["note", "备注"]);
    let at_col = column(&["reviewed_at", "复核时间"]);
    let reviewer_col = column(&["reviewer", "复核人"]);
    let machine_col = column(&["machine", "机器结论"]);

    let mut reviews = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Line {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            reason: format!("not readable as CSV: {e}"),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let refuse = |reason: String| ImportError::Line {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let call_id = cell(Some(call_col));
        let rule = cell(Some(rule_col));
        let verdict_text = cell(Some(verdict_col));
        if verdict_text.is_empty() {
            continue;
        }
        if !known.calls.contains(call_id) {
            return Err(refuse(format!(
                "call {call_id:?} is not in this folder's calls.parquet"
            )));
        }
        if !known.rules.contains(&rule) {
            return Err(refuse(format!(
                "rule {rule:?} is not one of the pack's rules ({})",
                known.rules.join(", ")
            )));
        }
        let verdict = match RuleVerdict::parse(verdict_text) {
            Some(v) => v,
            None => {
                let agrees = match verdict_text.to_lowercase().as_str() {
                    "agree" | "同意" | "yes" => Some(true),
                    "disagree" | "不同意" | "no" => Some(false),
                    _ => None,
                };
                let machine = RuleVerdict::parse(cell(machine_col));
                match (agrees, machine) {
                    (Some(true), Some(m)) => m,
                    (Some(false), Some(m)) => m.opposite(),
                    (Some(_), None) => {
                        return Err(refuse(format!(
                            "verdict {verdict_text:?} needs the machine column to say pass or fail"
                        )))
                    }
                    (None, _) => {
                        return Err(refuse(format!(
                            "verdict {verdict_text:?} is not pass/fail (通过/不通过) or agree/disagree"
                        )))
                    }
                }
            }
        };
        let reviewed_at = cell(at_col);
        if !reviewed_at.is_empty() && chrono::DateTime::parse_from_rfc3339(reviewed_at).is_err() {
            return Err(refuse(format!(
                "reviewed_at {reviewed_at:?} is not a time like 2026-11-30T21:05:00+08:00"
            )));
        }
        let reviewer = match cell(reviewer_col) {
            "" => by,
            named => named,
        };
        if reviewer.is_empty() {
            return Err(refuse("no reviewer: give --by NAME or a reviewer column".to_string()));
        }
        reviews.push(Review {
            call_id: call_id.to_string(),
            rule: rule.to_string(),
            verdict,
            reviewer: reviewer.to_string(),
            note: cell(note_col).to_string(),
            reviewed_at: reviewed_at.to_string(),
            imported_at: imported_at.to_string(),
            source: format!("{}:{line}", path.display()),
        });
    }
    Ok(reviews)
}

/// Every review of an output folder, by call.
#[derive(Debug, Clone, Default)]
pub struct ReviewBook {
    by_call: HashMap<String, Vec<Review>>,
}

impl ReviewBook {
    /// The folder's `reviews.parquet`, or no reviews when there is none.
    pub fn open(out: &OutDir) -> anyhow::Result<Self> {
        let path = out.reviews_table();
        if !path.exists() {
            return Ok(Self::default());
        }
        Ok(Self::of(read_reviews(&path)?))
    }

    pub fn of(reviews: Vec<Review>) -> Self {
        let mut by_call: HashMap<String, Vec<Review>> = HashMap::new();
        for review in reviews {
            by_call.entry(review.call_id.clone()).or_default().push(review);
        }
        for reviews in by_call.values_mut() {
            // oldest first, by instant; the file's order (the order of
            // import) breaks ties, the sort being stable
            reviews.sort_by_key(Review::when);
        }
        Self { by_call }
    }

    /// A call's reviews, oldest first (the last of a rule is the one that stands).
    pub fn of_call(&self, call_id: &str) -> &[Review] {
        self.by_call.get(call_id).map_or(&[], Vec::as_slice)
    }

    /// A call's verdicts as the rules apply them, oldest first.
    pub fn verdicts_of(&self, call_id: &str) -> impl Iterator<Item = HumanVerdict<'_>> {
        self.of_call(call_id).iter().map(|r| HumanVerdict {
            rule: &r.rule,
            verdict: r.verdict,
            reviewer: &r.reviewer,
            note: &r.note,
        })
    }

    /// The reviewed calls' ids, in no particular order.
    pub fn calls(&self) -> impl Iterator<Item = &str> {
        self.by_call.keys().map(String::as_str)
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub added: usize,
    /// Lines already in the file (the same review imported before).
    pub already_there: usize,
}

/// Appends `reviews` to the folder's `reviews.parquet` (written whole, atomically),
/// leaving out those it already holds. The caller holds the folder's lock.
pub fn append(out: &OutDir, reviews: Vec<Review>) -> anyhow::Result<Imported> {
    let path = out.reviews_table();
    let mut all = if path.exists() {
        read_reviews(&path)?
    } else {
        Vec::new()
    };
    // a line already in the file, or twice in this sheet, is kept once
    let mut seen: HashSet<_> = all.iter().map(Review::identity).collect();
    let fresh: Vec<Review> = reviews.iter().filter(|r| seen.insert(r.identity())).cloned().collect();
    let imported = Imported {
        added: fresh.len(),
        already_there: reviews.len() - fresh.len(),
    };
    if !fresh.is_empty() {
        all.extend(fresh);
        write_reviews(&path, &all)?;
    }
    Ok(imported)
}

/// (column, polars dtype) of reviews.parquet.
pub const REVIEWS_SCHEMA: &[(&str, &str)] = &[
    ("call_id", "str"),
    ("rule", "str"),
    ("verdict", "str"),
    ("reviewer", "str"),
    ("note", "str"),
    ("reviewed_at", "str"),
    ("imported_at", "str"),
    ("source", "str"),
];

fn write_reviews(path: &Path, reviews: &[Review]) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = |f: fn(&Review) -> &str| Column::new("".into(), reviews.iter().map(f).collect::<Vec<_>>());
    let columns: Vec<Column> = [
        text(|r| &r.call_id),
        text(|r| &r.rule),
        text(|r| r.verdict.as_str()),
        text(|r| &r.reviewer),
        text(|r| &r.note),
        text(|r| &r.reviewed_at),
        text(|r| &r.imported_at),
        text(|r| &r.source),
    ]
    .into_iter()
    .zip(REVIEWS_SCHEMA)
    .map(|(column, (name, _))| column.with_name((*name).into()))
    .collect();
    let mut frame = DataFrame::new(reviews.len(), columns)?;
    let mut file = crate::files::AtomicFile::create(path).with_context(|| format!("writing {}", path.display()))?;
    crate::store::parquet_writer(file.file())
        .with_compression(ParquetCompression::Lz4Raw)
        .finish(&mut frame)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("writing {}", path.display()))?;
    file.commit().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn read_reviews(path: &Path) -> anyhow::Result<Vec<Review>> {
    use anyhow::Context;
    let frame = crate::store::read_columns(path, None)?;
    let text = |name: &str| -> anyhow::Result<Vec<String>> {
        let column = frame
            .column(name)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{}: no {name} column", path.display()))?;
        let values = column.str()?;
        Ok((0..values.len())
            .map(|i| values.get(i).unwrap_or_default().to_string())
            .collect())
    };
    let (calls, rules, verdicts) = (text("call_id")?, text("rule")?, text("verdict")?);
    let (reviewers, notes, at) = (text("reviewer")?, text("note")?, text("reviewed_at")?);
    let (imported, sources) = (text("imported_at")?, text("source")?);
    let mut reviews = Vec::with_capacity(calls.len());
    for (i, call_id) in calls.into_iter().enumerate() {
        let verdict = RuleVerdict::parse(&verdicts[i])
            .with_context(|| format!("{}: row {}: verdict {:?}", path.display(), i + 1, verdicts[i]))?;
        reviews.push(Review {
            call_id,
            rule: rules[i].clone(),
            verdict,
            reviewer: reviewers[i].clone(),
            note: notes[i].clone(),
            reviewed_at: at[i].clone(),
            imported_at: imported[i].clone(),
            source: sources[i].clone(),
        });
    }
    Ok(reviews)
}

#[cfg(test)]
mod tests;

//! Search: anything anyone said, across the archive (`callqa search`).
//!
//! The index (`index`, tantivy) finds the calls that may hold a query's
//! words, fast at archive scale; the clauses shown are then found in those
//! calls' transcripts by the same tokens (`tokens`), so what is listed was
//! said, where and by whom it is listed, as the archive holds it now. Exact
//! search compares characters (simplified, half-width, 您 as 你); tolerant
//! search compares sounds (toneless pinyin, the lexicons' merges), so a word
//! whisper wrote with homophones is found.

mod index;
mod query;
mod tokens;

use std::collections::HashMap;
use std::ops::Bound;
use std::path::PathBuf;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Index, IndexReader, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

pub use index::{call_key, stamp, CallDocuments, DocumentMaker, IndexChange, IndexUpdate, IndexedCalls, SearchError};
pub use query::Query;

use crate::store::OutDir;
use crate::transcript::{Segment, Speaker, Transcript};
use index::{day_number, open_trusted, speaker_of_letter, Fields};
use tokens::{bigrams, Units};

/// Which calls and clauses a search looks at.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Whose words (none: everyone's).
    pub speakers: Vec<Speaker>,
    pub agent: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// By sound (homophones, near sounds), not by character.
    pub tolerant: bool,
}

/// A clause that holds what was searched for.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub call_id: String,
    pub agent_id: String,
    pub started_at: Option<String>,
    pub call_date: Option<String>,
    pub speaker: Speaker,
    pub start_s: f64,
    pub end_s: f64,
    /// The clause, as transcribed (redaction is the caller's).
    pub text: String,
    /// The clause's place in the transcript's segments.
    pub segment: usize,
    /// The call's redaction as scoring recorded it
    /// ([`crate::privacy::apply_recorded`] shows the clause with it); None
    /// where scoring recorded none, or for another version of the transcript.
    pub redacted: Option<String>,
    /// The call's transcript, for its audio.
    pub transcript: PathBuf,
}

/// A call's score by its key ([`call_key`] of its id), for the worst calls
/// first: keyed so that candidates are ordered before any document is read.
pub type ScoreOf<'a> = dyn Fn(u64) -> Option<f64> + 'a;

/// The calls the index says may match a query: a superset of those that do.
struct Candidates {
    calls: HashMap<u64, Candidate>,
    /// Exactly those that do, as far as the index can tell: what is excluded
    /// by `NOT` is taken out here only then.
    exact: bool,
}

impl Candidates {
    fn exactly(calls: HashMap<u64, Candidate>) -> Self {
        Self { calls, exact: true }
    }
}

/// A call the index says may match.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    started: i64,
    doc: DocAddress,
}

/// The index, open for searching.
pub struct SearchIndex {
    root: PathBuf,
    reader: IndexReader,
    fields: Fields,
}

impl SearchIndex {
    /// Opens the index `score` keeps in `out`.
    pub fn open(out: &OutDir) -> Result<Self, SearchError> {
        let dir = out.search_index();
        let Some((index, _)) = open_trusted(&dir) else {
            return Err(SearchError::Missing(out.root().to_path_buf()));
        };
        Self::of(out, index)
    }

    fn of(out: &OutDir, index: Index) -> Result<Self, SearchError> {
        let reader = index.reader().map_err(|source| SearchError::Index {
            path: out.search_index(),
            source,
        })?;
        Ok(Self {
            root: out.root().to_path_buf(),
            reader,
            fields: index::schema().1,
        })
    }

    /// An error of the index, naming its folder.
    fn failed(&self, source: tantivy::TantivyError) -> SearchError {
        SearchError::Index {
            path: OutDir::new(&self.root).search_index(),
            source,
        }
    }

    /// The calls matching `query`, ordered by `order` (called with each
    /// call's id and start, newest first when it says nothing), and in each
    /// the clauses that hold it; at most `limit` clauses in all.
    pub fn search(
        &self,
        query: &Query,
        filter: &SearchFilter,
        worse_first: Option<&ScoreOf>,
        limit: usize,
    ) -> Result<Vec<Found>, SearchError> {
        let searcher = self.reader.searcher();
        let candidates = self.candidates(&searcher, query, filter)?;
        let mut order: Vec<(u64, Candidate)> = candidates.calls.into_iter().collect();
        match worse_first {
            // newest first
            None => order.sort_by(|a, b| b.1.started.cmp(&a.1.started).then(a.1.doc.cmp(&b.1.doc))),
            // the lowest score first (unknown last), then newest
            Some(score_of) => order.sort_by(|a, b| {
                let score = |key: u64| score_of(key).unwrap_or(f64::INFINITY);
                score(a.0)
                    .total_cmp(&score(b.0))
                    .then(b.1.started.cmp(&a.1.started))
                    .then(a.1.doc.cmp(&b.1.doc))
            }),
        }
        // documents are read only for the calls shown
        let mut found = Vec::new();
        for (_, c) in order {
            if found.len() >= limit {
                break;
            }
            let doc: TantivyDocument = searcher.doc(c.doc).map_err(|e| self.failed(e))?;
            let id = text_of(&doc, self.fields.call_id);
            found.extend(self.clauses(&id, &doc, query, filter));
        }
        found.truncate(limit);
        Ok(found)
    }

    /// The calls whose documents may match: all that do, and, where
    /// [`Candidates::exact`] says so, only those.
    fn candidates(
        &self,
        searcher: &tantivy::Searcher,
        query: &Query,
        filter: &SearchFilter,
    ) -> Result<Candidates, SearchError> {
        Ok(match query {
            Query::Words(words) => Candidates::exactly(self.calls_saying(searcher, words, filter)?),
            Query::Or(parts) => {
                let mut all = Candidates::exactly(HashMap::new());
                for part in parts {
                    let part = self.candidates(searcher, part, filter)?;
                    all.calls.extend(part.calls);
                    all.exact &= part.exact;
                }
                all
            }
            Query::And(parts) => {
                let mut with: Option<Candidates> = None;
                let mut without = Vec::new();
                for part in parts {
                    match part {
                        Query::Not(inner) => without.push(self.candidates(searcher, inner, filter)?),
                        part => {
                            let part = self.candidates(searcher, part, filter)?;
                            with = Some(match with {
                                None => part,
                                Some(mut so_far) => {
                                    so_far.calls.retain(|key, _| part.calls.contains_key(key));
                                    so_far.exact &= part.exact;
                                    so_far
                                }
                            });
                        }
                    }
                }
                let mut calls = with.unwrap_or_else(|| Candidates::exactly(HashMap::new()));
                for excluded in without {
                    // a call that only may say what is excluded may still match: its clauses decide
                    if excluded.exact {
                        calls.calls.retain(|key, _| !excluded.calls.contains_key(key));
                    } else {
                        calls.exact = false;
                    }
                }
                calls
            }
            Query::Not(_) => Candidates::exactly(HashMap::new()),
            Query::Near(a, b, _) => {
                let mut calls = self.candidates(searcher, a, filter)?;
                let other = self.candidates(searcher, b, filter)?;
                calls.calls.retain(|key, _| other.calls.contains_key(key));
                // how far apart they were said is checked on the clauses
                calls.exact = false;
                calls
            }
        })
    }

    fn calls_saying(
        &self,
        searcher: &tantivy::Searcher,
        words: &str,
        filter: &SearchFilter,
    ) -> Result<HashMap<u64, Candidate>, SearchError> {
        let f = &self.fields;
        let units = units(filter.tolerant);
        let field = f.words(units);
        let tokens = query_tokens(words, units);
        let terms: Vec<Term> = tokens.iter().map(|t| Term::from_field_text(field, t)).collect();
        let said: Box<dyn tantivy::query::Query> = match terms.len() {
            0 => return Ok(HashMap::new()),
            1 => Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::Basic)),
            _ => Box::new(PhraseQuery::new(terms)),
        };
        let mut must: Vec<(Occur, Box<dyn tantivy::query::Query>)> = vec![(Occur::Must, said)];
        if !filter.speakers.is_empty() {
            let any: Vec<(Occur, Box<dyn tantivy::query::Query>)> = filter
                .speakers
                .iter()
                .map(|s| {
                    let term = Term::from_field_text(f.speaker, s.as_str());
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn tantivy::query::Query>,
                    )
                })
                .collect();
            must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(agent) = &filter.agent {
            let term = Term::from_field_text(f.agent, agent);
            must.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        }
        let day = |d: &Option<String>| {
            d.as_deref()
                .and_then(day_number)
                .map(|n| Term::from_field_u64(f.day, n))
        };
        if filter.from.is_some() || filter.to.is_some() {
            let lower = day(&filter.from).map_or(Bound::Unbounded, Bound::Included);
            let upper = day(&filter.to).map_or(Bound::Unbounded, Bound::Included);
            must.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        let query = BooleanQuery::new(must);
        let found = searcher.search(&query, &CallCollector).map_err(|e| self.failed(e))?;
        let mut calls: HashMap<u64, Candidate> = HashMap::with_capacity(found.len());
        for (key, started, doc) in found {
            calls.entry(key).or_insert(Candidate { started, doc });
        }
        Ok(calls)
    }

    /// The clauses of a candidate call that hold the query, read from its
    /// transcript (none when it no longer matches).
    fn clauses(&self, call_id: &str, doc: &TantivyDocument, query: &Query, filter: &SearchFilter) -> Vec<Found> {
        let f = &self.fields;
        let path = self.root.join(text_of(doc, f.path));
        let Ok(transcript) = Transcript::read(&path) else {
            return Vec::new(); // gone since the index was kept: not shown, not wrong
        };
        if transcript.call_id != call_id {
            return Vec::new();
        }
        let letters: Vec<char> = text_of(doc, f.speakers).chars().collect();
        // (recorded of this very transcript: as many segments as it told)
        let redacted = doc
            .get_first(f.redacted)
            .and_then(|v| v.as_str().map(str::to_string))
            .filter(|_| letters.len() == transcript.segments.len());
        let speaker = |i: usize| {
            letters
                .get(i)
                .map_or(transcript.segments[i].speaker, |&l| speaker_of_letter(l))
        };
        let searched: Vec<usize> = (0..transcript.segments.len())
            .filter(|&i| filter.speakers.is_empty() || filter.speakers.contains(&speaker(i)))
            .collect();
        let clause = Clauses {
            segments: &transcript.segments,
            searched: &searched,
            tolerant: filter.tolerant,
        };
        let Some(mut hits) = clause.holding(query) else {
            return Vec::new();
        };
        hits.sort_unstable();
        hits.dedup();
        let call_date = transcript
            .started_at
            .as_deref()
            .and_then(crate::input::call_day)
            .map(str::to_string);
        hits.into_iter()
            .map(|i| {
                let s = &transcript.segments[i];
                Found {
                    call_id: transcript.call_id.clone(),
                    agent_id: transcript.agent_id.clone(),
                    started_at: transcript.started_at.clone(),
                    call_date: call_date.clone(),
                    speaker: speaker(i),
                    start_s: s.start,
                    end_s: s.end,
                    text: s.text.clone(),
                    segment: i,
                    redacted: redacted.clone(),
                    transcript: path.clone(),
                }
            })
            .collect()
    }
}

fn text_of(doc: &TantivyDocument, field: tantivy::schema::Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A query word's tokens: the bigrams of its characters (or sounds), its
/// spaces and punctuation left out (so they are one run: no break among them).
fn query_tokens(words: &str, units: Units) -> Vec<String> {
    let joined: String = words.chars().filter(|&c| crate::text::is_word_char(c)).collect();
    bigrams(&joined, units)
}

fn units(tolerant: bool) -> Units {
    if tolerant {
        Units::Sounds
    } else {
        Units::Chars
    }
}

/// A call's clauses, as a query is checked against them.
struct Clauses<'a> {
    segments: &'a [Segment],
    /// The segments whose speaker was asked for.
    searched: &'a [usize],
    tolerant: bool,
}

impl Clauses<'_> {
    /// The segments that make the call match `query`, or None when it does not.
    fn holding(&self, query: &Query) -> Option<Vec<usize>> {
        match query {
            Query::Words(words) => {
                let units = units(self.tolerant);
                let wanted = query_tokens(words, units);
                if wanted.is_empty() {
                    return None;
                }
                let hits: Vec<usize> = self
                    .searched
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let tokens = bigrams(&self.segments[i].text, units);
                        tokens.windows(wanted.len()).any(|w| w == wanted.as_slice())
                    })
                    .collect();
                (!hits.is_empty()).then_some(hits)
            }
            Query::Or(parts) => {
                let hits: Vec<usize> = parts.iter().filter_map(|p| self.holding(p)).flatten().collect();
                (!hits.is_empty()).then_some(hits)
            }
            Query::And(parts) => {
                let mut hits = Vec::new();
                for part in parts {
                    match part {
                        Query::Not(inner) => {
                            if self.holding(inner).is_some() {
                                return None;
                            }
                        }
                        part => hits.extend(self.holding(part)?),
                    }
                }
                (!hits.is_empty()).then_some(hits)
            }
            Query::Not(_) => None,
            Query::Near(a, b, seconds) => {
                let (a, b) = (self.holding(a)?, self.holding(b)?);
                let apart = |i: usize, j: usize| {
                    let (x, y) = (&self.segments[i], &self.segments[j]);
                    (y.start - x.end).max(x.start - y.end).max(0.0)
                };
                let mut hits = Vec::new();
                for &i in &a {
                    for &j in &b {
                        if apart(i, j) <= *seconds {
                            hits.push(i);
                            hits.push(j);
                        }
                    }
                }
                (!hits.is_empty()).then_some(hits)
            }
        }
    }
}

/// Collects each matching document's call, start and address from the
/// fast fields (no stored document is read while searching).
struct CallCollector;

struct CallsOfSegment {
    ordinal: SegmentOrdinal,
    keys: Column<u64>,
    started: Column<i64>,
    found: Vec<(u64, i64, DocAddress)>,
}

impl Collector for CallCollector {
    type Fruit = Vec<(u64, i64, DocAddress)>;
    type Child = CallsOfSegment;

    fn for_segment(&self, ordinal: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<CallsOfSegment> {
        Ok(CallsOfSegment {
            ordinal,
            keys: segment.fast_fields().u64("call_key")?,
            started: segment.fast_fields().i64("started")?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for CallsOfSegment {
    type Fruit = Vec<(u64, i64, DocAddress)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.found.push((
            self.keys.first(doc).unwrap_or_default(),
            self.started.first(doc).unwrap_or_default(),
            DocAddress::new(self.ordinal, doc),
        ));
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}

#[cfg(test)]
mod tests;

//! The three Parquet tables, their schemas in one place.
//!
//! Column names and types are a contract with BI tools and scripts: the
//! `*_SCHEMA` constants list them, README.md documents them, and the tests
//! check written files against them. Extra manifest columns follow the fixed
//! columns of `calls.parquet` as strings. Counts are Int32 (not unsigned:
//! several BI tools mishandle unsigned Parquet columns); `failed_rules` is a
//! `;`-separated string for the same reason.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::PathBuf;

use super::OutDir;

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;

use crate::lexicon::{Hit, HitVerdict, MatchKind, NotCounted};
use crate::rules::voiceprints::AgentPrint;
use crate::rules::CallResult;
use crate::rules::Scorecard;
use crate::transcript::Speaker;

/// How a column of calls.parquet reads a call: one getter per column, of its
/// type. Null where the call has nothing to say (an unprocessed call's score,
/// an unmeasured timing).
#[derive(Clone, Copy)]
enum CallCell {
    Str(for<'a> fn(&'a CallResult) -> Option<Cow<'a, str>>),
    Date(fn(&CallResult) -> Option<i32>),
    F64(fn(&CallResult) -> Option<f64>),
    I32(fn(&CallResult) -> Option<i32>),
    Bool(fn(&CallResult) -> Option<bool>),
}

impl CallCell {
    const fn dtype(self) -> &'static str {
        match self {
            CallCell::Str(_) => "str",
            CallCell::Date(_) => "date",
            CallCell::F64(_) => "f64",
            CallCell::I32(_) => "i32",
            CallCell::Bool(_) => "bool",
        }
    }

    fn column(self, name: &str, calls: &[CallResult]) -> PolarsResult<Column> {
        Ok(match self {
            CallCell::Str(get) => Column::new(name.into(), calls.iter().map(get).collect::<Vec<_>>()),
            CallCell::Date(get) => date_column(name, calls.iter().map(get).collect())?,
            CallCell::F64(get) => Column::new(name.into(), calls.iter().map(get).collect::<Vec<_>>()),
            CallCell::I32(get) => Column::new(name.into(), calls.iter().map(get).collect::<Vec<_>>()),
            CallCell::Bool(get) => Column::new(name.into(), calls.iter().map(get).collect::<Vec<_>>()),
        })
    }
}

/// The verdict of a call that could be judged.
fn judged(c: &CallResult) -> Option<&crate::rules::Evaluation> {
    c.evaluation.as_ref().ok()
}

fn owned<'a>(text: String) -> Option<Cow<'a, str>> {
    Some(Cow::Owned(text))
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The columns of calls.parquet, in order, before the extra manifest
/// columns: the one list that makes both its schema and its frames.
const CALL_COLUMNS: [(&str, CallCell); 58] = {
    use CallCell::{Bool, Date, Str, F64, I32};
    [
        ("call_id", Str(|c| Some(Cow::Borrowed(&c.call_id)))),
        ("agent_id", Str(|c| c.agent_id.as_deref().map(Cow::Borrowed))),
        ("call_date", Date(|c| epoch_days(c.call_date()))),
        ("started_at", Str(|c| c.started_at.as_deref().map(Cow::Borrowed))),
        (
            "audio_path",
            Str(|c| c.audio_path.as_ref().map(|p| p.to_string_lossy())),
        ),
        ("duration_s", F64(|c| c.duration_s)),
        (
            "status",
            Str(|c| Some(Cow::Borrowed(if c.evaluation.is_ok() { "ok" } else { "failed" }))),
        ),
        (
            "error",
            Str(|c| c.evaluation.as_ref().err().map(|e| Cow::Borrowed(e.reason.as_str()))),
        ),
        (
            "failed_stage",
            Str(|c| c.evaluation.as_ref().err()?.stage.as_deref().map(Cow::Borrowed)),
        ),
        (
            "location",
            Str(|c| c.evaluation.as_ref().err()?.location.as_deref().map(Cow::Borrowed)),
        ),
        ("greeting_ok", Bool(|c| judged(c).map(|e| e.greeting_ok))),
        ("greeting_at_s", F64(|c| judged(c)?.greeting_at_s)),
        ("closing_ok", Bool(|c| judged(c).map(|e| e.closing_ok))),
        ("holds", I32(|c| judged(c).map(|e| count(e.holds)))),
        ("holds_ok", I32(|c| judged(c).map(|e| count(e.holds_ok)))),
        ("nine_do_count", I32(|c| judged(c).map(|e| count(e.nine_do_count)))),
        ("nine_dont_count", I32(|c| judged(c).map(|e| count(e.nine_dont_count)))),
        ("forbidden_count", I32(|c| judged(c).map(|e| count(e.forbidden_count)))),
        ("score", F64(|c| judged(c).map(|e| e.score))),
        ("passed", Bool(|c| judged(c).map(|e| e.passed))),
        ("failed_rules", Str(|c| owned(judged(c)?.failed_rules.join(";")))),
        ("red_lines", Str(|c| owned(judged(c)?.red_lines.join(";")))),
        ("uncertain_rules", Str(|c| owned(judged(c)?.uncertain_rules.join(";")))),
        ("first_response_s", F64(|c| judged(c)?.timing.first_response_s)),
        ("pick_up_s", F64(|c| judged(c).map(|e| e.non_talk.pick_up_s))),
        ("ivr_s", F64(|c| judged(c).map(|e| e.non_talk.ivr_s))),
        ("ringing_s", F64(|c| judged(c).map(|e| e.non_talk.ringing_s))),
        ("hold_music_s", F64(|c| judged(c).map(|e| e.non_talk.hold_music_s))),
        ("announcement_s", F64(|c| judged(c).map(|e| e.non_talk.announcement_s))),
        ("silence_s", F64(|c| judged(c).map(|e| e.non_talk.silence_s))),
        (
            "prompts",
            Str(|c| {
                let ids = &judged(c)?.non_talk.prompts;
                (!ids.is_empty()).then(|| Cow::Owned(ids.join(";")))
            }),
        ),
        ("dead_air_count", I32(|c| judged(c)?.timing.dead_air_count.map(count))),
        ("longest_dead_air_s", F64(|c| judged(c)?.timing.longest_dead_air_s)),
        ("talk_over_count", I32(|c| judged(c)?.timing.talk_over_count.map(count))),
        ("longest_talk_over_s", F64(|c| judged(c)?.timing.longest_talk_over_s)),
        ("agent_chars_per_min", F64(|c| judged(c)?.timing.agent_chars_per_min)),
        (
            "hold_checkins_missed",
            I32(|c| judged(c)?.timing.hold_checkins_missed.map(count)),
        ),
        (
            "timing_unmeasured",
            Str(|c| {
                let why = &judged(c)?.timing.unmeasured;
                (!why.is_empty()).then(|| Cow::Owned(why.join("; ")))
            }),
        ),
        (
            "speakers_from",
            Str(|c| Some(Cow::Borrowed(judged(c)?.speakers.from.as_str()))),
        ),
        ("speaker_confidence", F64(|c| judged(c)?.speakers.confidence)),
        (
            "speakers_unsure",
            I32(|c| judged(c).map(|e| count(e.speakers.unsure_segments))),
        ),
        (
            "segment_speakers",
            Str(|c| {
                let told = &judged(c)?.segment_speakers;
                (!told.is_empty()).then_some(Cow::Borrowed(told.as_str()))
            }),
        ),
        (
            "speaker_note",
            Str(|c| judged(c)?.speakers.note.as_deref().map(Cow::Borrowed)),
        ),
        (
            "voice_similarity",
            F64(|c| Some(judged(c)?.speakers.voice.as_ref()?.similarity)),
        ),
        (
            "voice_mismatch",
            Bool(|c| Some(judged(c)?.speakers.voice.as_ref()?.mismatch)),
        ),
        (
            "redacted_spans",
            Str(|c| judged(c)?.redacted_spans.as_deref().map(Cow::Borrowed)),
        ),
        (
            "personal_data_s",
            Str(|c| owned(write_time_ranges(c.personal_data_s.as_deref()?))),
        ),
        ("at_risk", Bool(|c| judged(c).map(|e| e.risk.at_risk))),
        ("risk_phrases", I32(|c| judged(c).map(|e| count(e.risk.phrases)))),
        ("risk_first_phrase_s", F64(|c| judged(c)?.risk.first_phrase_s)),
        (
            "voice_raised_at_s",
            F64(|c| Some(judged(c)?.risk.raised_voice.as_ref()?.at_s)),
        ),
        (
            "voice_louder_db",
            F64(|c| Some(f64::from(judged(c)?.risk.raised_voice.as_ref()?.louder_db))),
        ),
        (
            "voice_higher_octaves",
            F64(|c| Some(f64::from(judged(c)?.risk.raised_voice.as_ref()?.higher_octaves))),
        ),
        ("reviewed", Bool(|c| judged(c).map(|e| e.review.is_some()))),
        (
            "reviewed_rules",
            Str(|c| {
                let review = judged(c)?.review.as_ref()?;
                owned(
                    review
                        .rules
                        .iter()
                        .map(|r| r.rule.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                )
            }),
        ),
        (
            "overturned_rules",
            Str(|c| owned(judged(c)?.review.as_ref()?.overturned.join(";"))),
        ),
        (
            "machine_score",
            F64(|c| judged(c).map(|e| e.review.as_ref().map_or(e.score, |r| r.machine_score))),
        ),
        (
            "machine_passed",
            Bool(|c| judged(c).map(|e| e.review.as_ref().map_or(e.passed, |r| r.machine_passed))),
        ),
    ]
};

/// (column, polars dtype) of calls.parquet, before the extra manifest columns.
pub const CALLS_SCHEMA: &[(&str, &str)] = &{
    let mut schema = [("", ""); CALL_COLUMNS.len()];
    let mut i = 0;
    while i < CALL_COLUMNS.len() {
        schema[i] = (CALL_COLUMNS[i].0, CALL_COLUMNS[i].1.dtype());
        i += 1;
    }
    schema
};

/// hits.parquet's columns and types, in order: the contract BI tools read.
pub const HITS_SCHEMA: &[(&str, &str)] = &[
    ("call_id", "str"),
    ("agent_id", "str"),
    ("call_date", "date"),
    ("category", "str"),
    ("phrase_id", "str"),
    ("phrase", "str"),
    ("matched_text", "str"),
    ("speaker", "str"),
    ("start_s", "f64"),
    ("end_s", "f64"),
    ("match", "str"),
    ("score", "f64"),
    ("counted", "bool"),
    ("rule", "str"),
    ("not_counted", "str"),
    ("context", "str"),
];

/// scorecards.parquet's columns and types, in order.
pub const SCORECARDS_SCHEMA: &[(&str, &str)] = &[
    ("agent_id", "str"),
    ("call_date", "date"),
    ("calls", "i32"),
    ("failed_calls", "i32"),
    ("unprocessed_calls", "i32"),
    ("mean_score", "f64"),
    ("min_score", "f64"),
    ("greeting_rate", "f64"),
    ("closing_rate", "f64"),
    ("hold_etiquette_rate", "f64"),
    ("forbidden_per_call", "f64"),
    ("nine_dont_per_call", "f64"),
    ("nine_do_per_call", "f64"),
    ("worst_call_id", "str"),
    ("mean_first_response_s", "f64"),
    ("dead_air_per_call", "f64"),
    ("talk_over_per_call", "f64"),
    ("ringing_s_per_call", "f64"),
    ("hold_music_s_per_call", "f64"),
    ("announcement_s_per_call", "f64"),
    ("silence_s_per_call", "f64"),
    ("uncertain_calls", "i32"),
    ("at_risk_calls", "i32"),
    ("at_risk_per_100", "f64"),
    ("reviewed_calls", "i32"),
];

/// A hit with the identity of its call.
pub struct HitRow<'a> {
    /// The call's id.
    pub call_id: &'a str,
    /// The call's agent.
    pub agent_id: &'a str,
    /// The call's day (`YYYY-MM-DD`), when known.
    pub call_date: Option<&'a str>,
    /// The hit, with its verdict.
    pub hit: &'a Hit,
}

/// A Parquet writer to `file`, buffered. The Parquet writer hands the file
/// each page header and column chunk's metadata a varint at a time: unbuffered,
/// each was a write(2) of a few bytes, 6.6 % of a re-score's time spent in the
/// kernel. (Its end flushes the buffer: what it wrote is in the file when it returns.)
pub(crate) fn parquet_writer<W: std::io::Write>(file: W) -> ParquetWriter<std::io::BufWriter<W>> {
    ParquetWriter::new(std::io::BufWriter::with_capacity(1 << 20, file))
}

/// Writes the three tables batch by batch, one Parquet row group per batch,
/// so memory stays flat however many calls the archive holds. Nothing
/// appears under the tables' names before [`TableWriter::finish`]: a crash, a
/// full disk or an error midway leaves the old tables as they were.
pub struct TableWriter {
    out: OutDir,
    /// Stamped in each of the three tables (Parquet key-value metadata), so
    /// a reader can tell tables of one scoring from a mix (see [`ScoredTables`]).
    generation: String,
    hits_file: crate::files::AtomicFile,
    hits: BatchedWriter<std::io::BufWriter<std::fs::File>>,
    /// calls.parquet gains a column per manifest column, known only once every
    /// call is read: its batches wait here, and are joined under one schema at the end.
    calls_batches: tempfile::TempDir,
    calls_batch_count: usize,
    extra_names: BTreeSet<String>,
}

impl TableWriter {
    /// A writer whose tables appear only at [`TableWriter::finish`].
    pub fn create(out: &OutDir) -> anyhow::Result<Self> {
        use anyhow::Context;
        let path = out.hits_table();
        let mut hits_file =
            crate::files::AtomicFile::create(&path).with_context(|| format!("writing {}", path.display()))?;
        let handle = hits_file
            .file()
            .try_clone()
            .with_context(|| format!("writing {}", path.display()))?;
        let schema = hits_frame(&[])?.schema().clone();
        let generation = new_generation();
        let hits = parquet_writer(handle)
            .with_compression(ParquetCompression::Lz4Raw)
            .with_key_value_metadata(Some(generation_metadata(&generation)))
            .batched(&schema)?;
        let calls_batches = tempfile::Builder::new()
            .prefix(".calls-batches.")
            .tempdir_in(out.root())
            .with_context(|| format!("writing in {}", out.root().display()))?;
        Ok(Self {
            out: out.clone(),
            generation,
            hits_file,
            hits,
            calls_batches,
            calls_batch_count: 0,
            extra_names: BTreeSet::new(),
        })
    }

    /// One batch of calls and their hits.
    pub fn write_batch(&mut self, calls: &[CallResult], hits: &[HitRow]) -> anyhow::Result<()> {
        use anyhow::Context;
        let hits_path = self.out.hits_table();
        let (hits_written, calls_written) = rayon::join(
            || -> anyhow::Result<()> {
                if !hits.is_empty() {
                    self.hits
                        .write_batch(&hits_frame(hits)?)
                        .map_err(anyhow::Error::from)
                        .with_context(|| format!("writing {}", hits_path.display()))?;
                }
                Ok(())
            },
            || -> anyhow::Result<()> {
                let mut frame = calls_frame(calls)?;
                let path = self
                    .calls_batches
                    .path()
                    .join(format!("{:08}.parquet", self.calls_batch_count));
                let file = std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
                parquet_writer(file)
                    .with_compression(ParquetCompression::Uncompressed)
                    .finish(&mut frame)
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            },
        );
        hits_written?;
        calls_written?;
        self.calls_batch_count += 1;
        self.extra_names
            .extend(calls.iter().flat_map(|c| c.extra.keys()).cloned());
        Ok(())
    }

    /// Writes the scorecards and puts the three tables in place.
    pub fn finish(self, cards: &[Scorecard]) -> anyhow::Result<()> {
        use anyhow::Context;
        let hits_path = self.out.hits_table();
        self.hits
            .finish()
            .map_err(anyhow::Error::from)
            .with_context(|| format!("writing {}", hits_path.display()))?;

        let calls_path = self.out.calls_table();
        let context = || format!("writing {}", calls_path.display());
        let mut calls_file = crate::files::AtomicFile::create(&calls_path).with_context(context)?;
        let mut columns: Vec<String> = CALLS_SCHEMA.iter().map(|(name, _)| name.to_string()).collect();
        columns.extend(self.extra_names.iter().map(|name| extra_column_name(name)));
        let align = |mut frame: DataFrame| -> PolarsResult<DataFrame> {
            for name in &columns {
                if frame.column(name).is_err() {
                    let height = frame.height();
                    frame.with_column(Column::full_null(name.as_str().into(), height, &DataType::String))?;
                }
            }
            frame.select(columns.iter().map(String::as_str))
        };
        let schema = align(calls_frame(&[])?)?.schema().clone();
        let mut calls = parquet_writer(calls_file.file().try_clone().with_context(context)?)
            .with_compression(ParquetCompression::Lz4Raw)
            .with_key_value_metadata(Some(generation_metadata(&self.generation)))
            .batched(&schema)?;
        for batch in 0..self.calls_batch_count {
            let path = self.calls_batches.path().join(format!("{batch:08}.parquet"));
            let frame = read_columns(&path, None)?;
            calls
                .write_batch(&align(frame)?)
                .map_err(anyhow::Error::from)
                .with_context(context)?;
        }
        calls.finish().map_err(anyhow::Error::from).with_context(context)?;

        let cards_path = self.out.scorecards_table();
        let mut cards_file = crate::files::AtomicFile::create(&cards_path)
            .with_context(|| format!("writing {}", cards_path.display()))?;
        parquet_writer(cards_file.file())
            .with_compression(ParquetCompression::Lz4Raw)
            .with_key_value_metadata(Some(generation_metadata(&self.generation)))
            .finish(&mut scorecards_frame(cards)?)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("writing {}", cards_path.display()))?;

        // on disk first, then the three renames back to back: a reader finds
        // the tables mixed for microseconds, not for the time of an fsync
        let mut files = [
            (self.hits_file, hits_path),
            (calls_file, calls_path),
            (cards_file, cards_path),
        ];
        for (file, path) in &mut files {
            file.file()
                .sync_all()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        for (file, path) in files {
            file.commit().with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// The key of the scoring's stamp in the tables' Parquet metadata.
const GENERATION_KEY: &str = "callqa.generation";

/// A stamp no other scoring of the folder has: the time to the nanosecond
/// and the process.
fn new_generation() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{:x}", std::process::id())
}

fn generation_metadata(generation: &str) -> polars::io::parquet::write::KeyValueMetadata {
    polars::io::parquet::write::KeyValueMetadata::from_static(vec![(
        GENERATION_KEY.to_string(),
        generation.to_string(),
    )])
}

/// The scoring stamp of an open table; None for tables of a callqa before stamps.
fn generation_of(path: &std::path::Path, file: &std::fs::File) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    let mut reader = reader_of(path, file)?;
    let metadata = reader
        .get_metadata()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(metadata.key_value_metadata().as_ref().and_then(|pairs| {
        pairs
            .iter()
            .find(|pair| pair.key == GENERATION_KEY)
            .and_then(|pair| pair.value.clone())
    }))
}

fn open_table(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use anyhow::Context;
    std::fs::File::open(path)
        .with_context(|| format!("opening {} (run `callqa run` or `callqa score` first)", path.display()))
}

/// A Parquet reader of an open table (each read gets its own handle on the
/// same file, so every read sees the table that was opened).
fn reader_of(path: &std::path::Path, file: &std::fs::File) -> anyhow::Result<ParquetReader<std::fs::File>> {
    use anyhow::Context;
    let handle = file
        .try_clone()
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(ParquetReader::new(handle))
}

/// An open table, whole or only `columns`.
fn frame_of(path: &std::path::Path, file: &std::fs::File, columns: Option<&[&str]>) -> anyhow::Result<DataFrame> {
    use anyhow::Context;
    reader_of(path, file)?
        .with_columns(columns.map(|names| names.iter().map(|n| n.to_string()).collect()))
        // one chunk per column: a row is then found directly, where a table
        // of many row groups (one per scoring batch) is otherwise searched
        // chunk by chunk for every row read
        .set_rechunk(true)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading {}", path.display()))
}

/// How long a reader waits for `score` to finish putting its tables in place.
const MIXED_TABLES_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// calls.parquet and hits.parquet of one scoring, open together. `score`
/// renames its three tables one after the other, so a reader that opened
/// calls.parquet, then hits.parquet, could pair new hits with old calls; the
/// tables carry their scoring's stamp, and these two are open only once both
/// bear the same one (an open file stays what it was when a new one is
/// renamed over its name).
pub struct ScoredTables {
    out: OutDir,
    calls: std::fs::File,
    hits: std::fs::File,
}

impl ScoredTables {
    /// Opens both tables of the folder's latest scoring. While `score` is
    /// putting new tables in place, waits for it (a few seconds at most);
    /// tables still of two scorings after that (a `score` killed between its
    /// renames) are an error that says to score again.
    pub fn open(out: &OutDir) -> anyhow::Result<Self> {
        Self::open_within(out, MIXED_TABLES_WAIT)
    }

    fn open_within(out: &OutDir, wait: std::time::Duration) -> anyhow::Result<Self> {
        let started = std::time::Instant::now();
        loop {
            let (calls_path, hits_path) = (out.calls_table(), out.hits_table());
            let calls = open_table(&calls_path)?;
            let hits = open_table(&hits_path)?;
            if generation_of(&calls_path, &calls)? == generation_of(&hits_path, &hits)? {
                return Ok(Self {
                    out: out.clone(),
                    calls,
                    hits,
                });
            }
            if started.elapsed() >= wait {
                anyhow::bail!(
                    "{} and {} are of two different scorings (a `callqa score` stopped while \
                     putting them in place?): run `callqa score --out {}` to write them again",
                    calls_path.display(),
                    hits_path.display(),
                    out.root().display()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// call_id → what calls.parquet says of the call.
    pub fn calls(&self) -> anyhow::Result<std::collections::HashMap<String, CallRecord>> {
        calls_of_file(&self.out.calls_table(), &self.calls)
    }

    /// The hits that `keep` keeps, in table order, decoded a slice of rows at
    /// a time: a large table costs the memory of what is kept and of one slice.
    pub fn hits(&self, keep: impl FnMut(&HitRecord) -> bool) -> anyhow::Result<Vec<HitRecord>> {
        read_hits_in_slices(&self.out, &self.hits, 65_536, keep)
    }
}

/// Days since 1970-01-01 for a call's day (`YYYY-MM-DD`), as Parquet DATE stores them.
fn epoch_days(day: Option<&str>) -> Option<i32> {
    i32::try_from(crate::input::day_number(day?)?).ok()
}

fn date_column(name: &str, values: Vec<Option<i32>>) -> PolarsResult<Column> {
    Column::new(name.into(), values).cast(&DataType::Date)
}

fn calls_frame(calls: &[CallResult]) -> PolarsResult<DataFrame> {
    let mut columns = CALL_COLUMNS
        .iter()
        .map(|(name, cell)| cell.column(name, calls))
        .collect::<PolarsResult<Vec<Column>>>()?;
    let extra_names: BTreeSet<&str> = calls.iter().flat_map(|c| c.extra.keys().map(String::as_str)).collect();
    for name in extra_names {
        columns.push(Column::new(
            extra_column_name(name).as_str().into(),
            calls
                .iter()
                .map(|c| c.extra.get(name).map(String::as_str))
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(calls.len(), columns)
}

/// `[(3.05, 5.8), (20.0, 21.5)]` → `3.05-5.80 20.00-21.50`.
fn write_time_ranges(ranges: &[(f64, f64)]) -> String {
    ranges
        .iter()
        .map(|(start, end)| format!("{start:.2}-{end:.2}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`write_time_ranges`] read back; None when the text is not such a list.
fn read_time_ranges(text: &str) -> Option<Vec<(f64, f64)>> {
    text.split_whitespace()
        .map(|range| {
            let (start, end) = range.split_once('-')?;
            Some((start.parse().ok()?, end.parse().ok()?))
        })
        .collect()
}

/// One row of hits.parquet, read back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HitRecord {
    /// The call's id.
    pub call_id: String,
    /// The call's agent.
    pub agent_id: String,
    /// The phrase's category.
    pub category: String,
    /// The phrase's id in the pack.
    pub phrase_id: String,
    /// The phrase as the pack writes it.
    pub phrase: String,
    /// What was said, as transcribed.
    pub matched_text: String,
    /// Who said it.
    pub speaker: Speaker,
    /// Seconds from the recording's start.
    pub start_s: f64,
    /// Seconds from the recording's start where the phrase ends.
    pub end_s: f64,
    /// How it was found.
    #[serde(rename = "match")]
    pub kind: MatchKind,
    /// The audio check's score, for verified and uncertain hits.
    pub score: Option<f64>,
    /// The sentence around it (redacted unless scored with `--show-pii`).
    pub context: String,
    /// Whether it counted, under which rule, why not: as the rules decided.
    #[serde(flatten)]
    pub verdict: HitVerdict,
}

/// A Parquet table of the output folder, whole or only `columns`.
pub(crate) fn read_columns(path: &std::path::Path, columns: Option<&[&str]>) -> anyhow::Result<DataFrame> {
    frame_of(path, &open_table(path)?, columns)
}

/// The hits of an open hits.parquet that `keep` keeps, in table order. The
/// table is decoded a slice of rows at a time (its row groups are the
/// batches `score` wrote), so a large table costs the memory of what is kept
/// and of one slice, never of the whole table.
fn read_hits_in_slices(
    out: &OutDir,
    file: &std::fs::File,
    slice_rows: usize,
    mut keep: impl FnMut(&HitRecord) -> bool,
) -> anyhow::Result<Vec<HitRecord>> {
    use anyhow::Context;
    let path = out.hits_table();
    let context = || format!("reading {}", path.display());
    let rows = reader_of(&path, file)?
        .num_rows()
        .map_err(anyhow::Error::from)
        .with_context(context)?;
    let mut kept = Vec::new();
    for offset in (0..rows.max(1)).step_by(slice_rows) {
        let frame = reader_of(&path, file)?
            .with_slice(Some((offset, slice_rows)))
            .finish()
            .map_err(anyhow::Error::from)
            .with_context(context)?;
        hits_of_frame(out, &frame, &mut keep, &mut kept)?;
    }
    Ok(kept)
}

/// The rows of one slice of hits.parquet that `keep` keeps, into `kept`.
fn hits_of_frame(
    out: &OutDir,
    frame: &DataFrame,
    keep: &mut impl FnMut(&HitRecord) -> bool,
    kept: &mut Vec<HitRecord>,
) -> anyhow::Result<()> {
    let text = |name: &str| -> anyhow::Result<&StringChunked> { Ok(frame.column(name)?.str()?) };
    let (call_ids, agent_ids, categories, phrase_ids, phrases, matched, speakers, kinds, contexts) = (
        text("call_id")?,
        text("agent_id")?,
        text("category")?,
        text("phrase_id")?,
        text("phrase")?,
        text("matched_text")?,
        text("speaker")?,
        text("match")?,
        text("context")?,
    );
    let (starts, ends) = (frame.column("start_s")?.f64()?, frame.column("end_s")?.f64()?);
    // tables written before audio checks have no score column
    let scores = frame.column("score").ok().and_then(|c| c.f64().ok());
    let Ok(counted) = frame.column("counted").and_then(|c| c.bool()) else {
        anyhow::bail!(
            "{} was written by an older callqa, without the rules' verdict on each hit: \
             run `callqa score --out {}` once to rewrite the tables",
            out.hits_table().display(),
            out.root().display()
        );
    };
    let (rules, not_counted) = (text("rule")?, text("not_counted")?);
    let at = |column: &StringChunked, i: usize| column.get(i).unwrap_or_default().to_string();
    for i in 0..frame.height() {
        let hit = HitRecord {
            call_id: at(call_ids, i),
            agent_id: at(agent_ids, i),
            category: at(categories, i),
            phrase_id: at(phrase_ids, i),
            phrase: at(phrases, i),
            matched_text: at(matched, i),
            speaker: match speakers.get(i) {
                Some("agent") => Speaker::Agent,
                Some("customer") => Speaker::Customer,
                _ => Speaker::Unknown,
            },
            start_s: starts.get(i).unwrap_or_default(),
            end_s: ends.get(i).unwrap_or_default(),
            kind: kinds.get(i).and_then(MatchKind::parse).unwrap_or(MatchKind::Exact),
            score: scores.and_then(|s| s.get(i)),
            context: at(contexts, i),
            verdict: HitVerdict {
                counted: counted.get(i).unwrap_or(false),
                rule: rules.get(i).map(str::to_string),
                not_counted: not_counted.get(i).and_then(NotCounted::parse),
            },
        };
        if keep(&hit) {
            kept.push(hit);
        }
    }
    Ok(())
}

/// What readers of calls.parquet need to know of a call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallRecord {
    /// The call's agent.
    pub agent_id: String,
    /// `YYYY-MM-DD`, when the call's start is known.
    pub call_date: Option<String>,
    /// None for a call that could not be scored.
    pub score: Option<f64>,
    /// The recording, as `run` saw it.
    pub audio_path: Option<PathBuf>,
    /// When customers' personal data was said (`personal_data_s`): None when
    /// it was not looked for (scored with `--show-pii`, or by an older callqa).
    pub personal_data_s: Option<Vec<(f64, f64)>>,
    /// When the call began, when known.
    pub started_at: Option<String>,
    /// The recording's length, when it was read.
    pub duration_s: Option<f64>,
    /// None for a call that could not be scored.
    pub passed: Option<bool>,
    /// The rules the call failed (the reviewers' where they overruled).
    pub failed_rules: Vec<String>,
    /// The rules the audio left undecided: neither passed nor failed.
    pub uncertain_rules: Vec<String>,
    /// Rules whose verdict a reviewer changed (`failed_rules` is then theirs).
    pub overturned_rules: Vec<String>,
    /// Who said each segment of the call's transcript, as scoring told it
    /// (`a`, `c`, `u`, `s`, one per segment); None from an older callqa.
    pub segment_speakers: Option<String>,
    /// The redaction scoring decided (`redacted_spans`): `Some(None)` when it
    /// showed the data (`--show-pii`), None from an older callqa.
    pub redacted_spans: Option<Option<String>>,
}

/// The score of every scored call by `key` of its id, reading only those
/// two columns of calls.parquet (`search --order worst` over a large
/// archive: a million calls, and no id copied).
pub fn read_scores<K: std::hash::Hash + Eq>(
    out: &OutDir,
    key: impl Fn(&str) -> K,
) -> anyhow::Result<std::collections::HashMap<K, f64>> {
    let frame = read_columns(&out.calls_table(), Some(&["call_id", "score"]))?;
    let ids = frame.column("call_id")?.str()?;
    let scores = frame.column("score")?.f64()?;
    Ok(ids
        .iter()
        .zip(scores.iter())
        .filter_map(|(id, score)| Some((key(id?), score?)))
        .collect())
}

/// call_id → what calls.parquet says of the call (for readers of calls
/// alone; with hits, [`ScoredTables`]).
pub fn read_calls(out: &OutDir) -> anyhow::Result<std::collections::HashMap<String, CallRecord>> {
    let path = out.calls_table();
    calls_of_file(&path, &open_table(&path)?)
}

fn calls_of_file(
    path: &std::path::Path,
    file: &std::fs::File,
) -> anyhow::Result<std::collections::HashMap<String, CallRecord>> {
    let frame = frame_of(path, file, None)?;
    let ids = frame.column("call_id")?.str()?;
    let agents = frame.column("agent_id")?.str()?;
    let started = frame.column("started_at")?.str()?;
    let scores = frame.column("score")?.f64()?;
    let paths = frame.column("audio_path")?.str()?;
    let personal = frame.column("personal_data_s").ok().and_then(|c| c.str().ok());
    let durations = frame.column("duration_s")?.f64()?;
    let passed = frame.column("passed")?.bool()?;
    let failed = frame.column("failed_rules")?.str()?;
    let uncertain = frame.column("uncertain_rules").ok().and_then(|c| c.str().ok());
    let overturned = frame.column("overturned_rules").ok().and_then(|c| c.str().ok());
    let told = frame.column("segment_speakers").ok().and_then(|c| c.str().ok());
    let redacted = frame.column("redacted_spans").ok().and_then(|c| c.str().ok());
    let rules = |text: Option<&str>| -> Vec<String> {
        text.unwrap_or_default()
            .split(';')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect()
    };
    Ok((0..ids.len())
        .filter_map(|i| {
            let record = CallRecord {
                agent_id: agents.get(i).unwrap_or_default().to_string(),
                call_date: started.get(i).and_then(crate::input::call_day).map(str::to_string),
                score: scores.get(i),
                audio_path: paths.get(i).map(PathBuf::from),
                personal_data_s: personal.and_then(|c| c.get(i)).and_then(read_time_ranges),
                started_at: started.get(i).map(str::to_string),
                duration_s: durations.get(i),
                passed: passed.get(i),
                failed_rules: rules(failed.get(i)),
                uncertain_rules: rules(uncertain.and_then(|c| c.get(i))),
                overturned_rules: rules(overturned.and_then(|c| c.get(i))),
                segment_speakers: told.and_then(|c| c.get(i)).map(str::to_string),
                redacted_spans: redacted.map(|c| c.get(i).map(str::to_string)),
            };
            Some((ids.get(i)?.to_string(), record))
        })
        .collect())
}

/// The calls.parquet column of a manifest column: its own name, or, when that
/// is one of the table's columns (`score`, `status`…), `manifest_<name>`, so
/// it is neither dropped nor mistaken for callqa's verdict. A manifest's own
/// `manifest_…` column is prefixed too (`manifest_manifest_score`): the name
/// depends on the column alone (batches of calls are written before all
/// names are known) and two columns never get one name.
pub fn extra_column_name(name: &str) -> String {
    if name.starts_with("manifest_") || CALLS_SCHEMA.iter().any(|(column, _)| *column == name) {
        format!("manifest_{name}")
    } else {
        name.to_string()
    }
}

fn hits_frame(rows: &[HitRow]) -> PolarsResult<DataFrame> {
    fn text<'a>(rows: &'a [HitRow<'a>], f: impl Fn(&'a HitRow<'a>) -> &'a str) -> Vec<&'a str> {
        rows.iter().map(f).collect()
    }
    let columns = vec![
        Column::new("call_id".into(), text(rows, |r| r.call_id)),
        Column::new("agent_id".into(), text(rows, |r| r.agent_id)),
        date_column("call_date", {
            // hits come grouped by call: parse each call's date once, not per hit
            let mut last: Option<(Option<&str>, Option<i32>)> = None;
            rows.iter()
                .map(|r| match last {
                    Some((date, days)) if date == r.call_date => days,
                    _ => {
                        let days = epoch_days(r.call_date);
                        last = Some((r.call_date, days));
                        days
                    }
                })
                .collect()
        })?,
        Column::new("category".into(), text(rows, |r| &r.hit.category)),
        Column::new("phrase_id".into(), text(rows, |r| &r.hit.phrase_id)),
        Column::new("phrase".into(), text(rows, |r| &r.hit.phrase)),
        Column::new("matched_text".into(), text(rows, |r| &r.hit.matched_text)),
        Column::new("speaker".into(), text(rows, |r| r.hit.speaker.as_str())),
        Column::new("start_s".into(), rows.iter().map(|r| r.hit.start_s).collect::<Vec<_>>()),
        Column::new("end_s".into(), rows.iter().map(|r| r.hit.end_s).collect::<Vec<_>>()),
        Column::new("match".into(), text(rows, |r| r.hit.kind.as_str())),
        Column::new(
            "score".into(),
            rows.iter().map(|r| r.hit.score.map(f64::from)).collect::<Vec<_>>(),
        ),
        Column::new(
            "counted".into(),
            rows.iter().map(|r| r.hit.verdict.counted).collect::<Vec<_>>(),
        ),
        Column::new(
            "rule".into(),
            rows.iter().map(|r| r.hit.verdict.rule.as_deref()).collect::<Vec<_>>(),
        ),
        Column::new(
            "not_counted".into(),
            rows.iter()
                .map(|r| r.hit.verdict.not_counted.map(NotCounted::as_str))
                .collect::<Vec<_>>(),
        ),
        Column::new("context".into(), text(rows, |r| &r.hit.context)),
    ];
    DataFrame::new(rows.len(), columns)
}

/// Writes `voiceprints.parquet`: each agent's enrolled voice, what it rests
/// on, how alike the agent's calls are, and the print itself (256 numbers).
pub fn write_voiceprints(out: &OutDir, prints: &[AgentPrint]) -> anyhow::Result<()> {
    use anyhow::Context;
    let path = out.voiceprints_table();
    let vectors: Vec<Series> = prints
        .iter()
        .map(|p| Series::new("".into(), p.vector.as_slice()))
        .collect();
    let mut frame = DataFrame::new(
        prints.len(),
        vec![
            Column::new(
                "agent_id".into(),
                prints.iter().map(|p| p.agent_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "calls".into(),
                prints.iter().map(|p| count(p.calls)).collect::<Vec<_>>(),
            ),
            Column::new("seconds".into(), prints.iter().map(|p| p.seconds).collect::<Vec<_>>()),
            Column::new(
                "lowest_similarity".into(),
                prints.iter().map(|p| p.lowest_similarity).collect::<Vec<_>>(),
            ),
            Column::new(
                "median_similarity".into(),
                prints.iter().map(|p| p.median_similarity).collect::<Vec<_>>(),
            ),
            Column::new("vector".into(), vectors),
        ],
    )?;
    let mut file = crate::files::AtomicFile::create(&path).with_context(|| format!("writing {}", path.display()))?;
    parquet_writer(file.file())
        .with_compression(ParquetCompression::Lz4Raw)
        .finish(&mut frame)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("writing {}", path.display()))?;
    file.commit().with_context(|| format!("writing {}", path.display()))
}

fn scorecards_frame(cards: &[Scorecard]) -> PolarsResult<DataFrame> {
    let float = |f: fn(&Scorecard) -> Option<f64>| cards.iter().map(f).collect::<Vec<_>>();
    let int = |f: fn(&Scorecard) -> u32| cards.iter().map(|c| f(c) as i32).collect::<Vec<_>>();
    let columns = vec![
        Column::new(
            "agent_id".into(),
            cards.iter().map(|c| c.agent_id.as_str()).collect::<Vec<_>>(),
        ),
        date_column(
            "call_date",
            cards.iter().map(|c| epoch_days(Some(&c.call_date))).collect(),
        )?,
        Column::new("calls".into(), int(|c| c.calls)),
        Column::new("failed_calls".into(), int(|c| c.failed_calls)),
        Column::new("unprocessed_calls".into(), int(|c| c.unprocessed_calls)),
        Column::new("mean_score".into(), float(|c| c.mean_score)),
        Column::new("min_score".into(), float(|c| c.min_score)),
        Column::new("greeting_rate".into(), float(|c| c.greeting_rate)),
        Column::new("closing_rate".into(), float(|c| c.closing_rate)),
        Column::new("hold_etiquette_rate".into(), float(|c| c.hold_etiquette_rate)),
        Column::new("forbidden_per_call".into(), float(|c| c.forbidden_per_call)),
        Column::new("nine_dont_per_call".into(), float(|c| c.nine_dont_per_call)),
        Column::new("nine_do_per_call".into(), float(|c| c.nine_do_per_call)),
        Column::new(
            "worst_call_id".into(),
            cards.iter().map(|c| c.worst_call_id.as_deref()).collect::<Vec<_>>(),
        ),
        Column::new("mean_first_response_s".into(), float(|c| c.mean_first_response_s)),
        Column::new("dead_air_per_call".into(), float(|c| c.dead_air_per_call)),
        Column::new("talk_over_per_call".into(), float(|c| c.talk_over_per_call)),
        Column::new("ringing_s_per_call".into(), float(|c| c.ringing_s_per_call)),
        Column::new("hold_music_s_per_call".into(), float(|c| c.hold_music_s_per_call)),
        Column::new("announcement_s_per_call".into(), float(|c| c.announcement_s_per_call)),
        Column::new("silence_s_per_call".into(), float(|c| c.silence_s_per_call)),
        Column::new("uncertain_calls".into(), int(|c| c.uncertain_calls)),
        Column::new("at_risk_calls".into(), int(|c| c.at_risk_calls)),
        Column::new("at_risk_per_100".into(), float(|c| c.at_risk_per_100)),
        Column::new("reviewed_calls".into(), int(|c| c.reviewed_calls)),
    ];
    DataFrame::new(cards.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dtype_name(dtype: &DataType) -> &'static str {
        match dtype {
            DataType::String => "str",
            DataType::Date => "date",
            DataType::Float64 => "f64",
            DataType::Boolean => "bool",
            DataType::Int32 => "i32",
            _ => "other",
        }
    }

    fn schema_of(df: &DataFrame) -> Vec<(String, &'static str)> {
        df.columns()
            .iter()
            .map(|c| (c.name().to_string(), dtype_name(c.dtype())))
            .collect()
    }

    fn expected(schema: &[(&str, &str)]) -> Vec<(String, &'static str)> {
        schema
            .iter()
            .map(|(n, t)| {
                (
                    n.to_string(),
                    match *t {
                        "str" => "str",
                        "date" => "date",
                        "f64" => "f64",
                        "bool" => "bool",
                        "i32" => "i32",
                        other => panic!("{n}: unknown type {other:?} in the schema"),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn empty_tables_still_have_the_contract_schema() {
        assert_eq!(schema_of(&calls_frame(&[]).unwrap()), expected(CALLS_SCHEMA));
        assert_eq!(schema_of(&hits_frame(&[]).unwrap()), expected(HITS_SCHEMA));
        assert_eq!(schema_of(&scorecards_frame(&[]).unwrap()), expected(SCORECARDS_SCHEMA));
    }

    #[test]
    fn the_readme_documents_every_column_with_its_type() {
        let readme = include_str!("../../README.md");
        for schema in [CALLS_SCHEMA, HITS_SCHEMA, SCORECARDS_SCHEMA] {
            for (name, dtype) in schema {
                let documented = match *dtype {
                    "str" => "string",
                    "date" => "date",
                    "f64" => "double",
                    "bool" => "bool",
                    "i32" => "int32",
                    other => panic!("{name}: type {other:?} has no documented Parquet type"),
                };
                let row = format!("| {name} | {documented} |");
                assert!(readme.contains(&row), "README.md lacks the row {row}");
            }
        }
    }

    #[test]
    fn failed_calls_are_rows_with_nulls_and_extras_follow() {
        let call = CallResult {
            call_id: "c1".into(),
            agent_id: None,
            started_at: Some("2026-11-20T09:00:00".into()),
            audio_path: Some("x.wav".into()),
            duration_s: None,
            extra: [
                ("queue".to_string(), "repair".to_string()),
                // a manifest's own columns named like ours are kept, renamed
                ("score".to_string(), "4 stars".to_string()),
                ("status".to_string(), "vip".to_string()),
                ("manifest_score".to_string(), "old system's score".to_string()),
            ]
            .into(),
            evaluation: Err(crate::rules::CallFailure::because("x.wav: empty file (0 bytes)")),
            personal_data_s: None,
        };
        let df = calls_frame(&[call]).unwrap();
        assert_eq!(df.column("status").unwrap().str().unwrap().get(0), Some("failed"));
        assert_eq!(df.column("score").unwrap().f64().unwrap().get(0), None);
        assert_eq!(df.column("queue").unwrap().str().unwrap().get(0), Some("repair"));
        assert_eq!(
            df.column("manifest_score").unwrap().str().unwrap().get(0),
            Some("4 stars")
        );
        assert_eq!(df.column("manifest_status").unwrap().str().unwrap().get(0), Some("vip"));
        assert_eq!(
            df.column("manifest_manifest_score").unwrap().str().unwrap().get(0),
            Some("old system's score"),
            "a manifest's own manifest_score column is kept apart from its score"
        );
        // 2026-11-20 is day 20777 after the epoch
        assert_eq!(
            df.column("call_date")
                .unwrap()
                .cast(&DataType::Int32)
                .unwrap()
                .i32()
                .unwrap()
                .get(0),
            Some(20777)
        );
    }

    #[test]
    fn hits_are_read_slice_by_slice_in_table_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::new(dir.path());
        let hit = |i: usize| Hit {
            category: "forbidden".into(),
            role: crate::lexicon::Role::Forbidden,
            phrase_id: format!("f.{i}"),
            phrase: "不知道".into(),
            matched_text: "不知道".into(),
            speaker: Speaker::Agent,
            start_s: i as f64,
            end_s: i as f64 + 1.0,
            kind: MatchKind::Exact,
            score: None,
            context: format!("第{i}句"),
            verdict: HitVerdict {
                counted: i.is_multiple_of(2),
                rule: Some("forbidden_phrase".into()),
                not_counted: (!i.is_multiple_of(2)).then_some(NotCounted::CustomersWords),
            },
        };
        let hits: Vec<Hit> = (0..7).map(hit).collect();
        let mut writer = TableWriter::create(&out).unwrap();
        // two batches (row groups) of 4 and 3
        for batch in hits.chunks(4) {
            let rows: Vec<HitRow> = batch
                .iter()
                .map(|hit| HitRow {
                    call_id: "c1",
                    agent_id: "A1",
                    call_date: Some("2026-11-20"),
                    hit,
                })
                .collect();
            writer.write_batch(&[], &rows).unwrap();
        }
        writer.finish(&[]).unwrap();
        let file = open_table(&out.hits_table()).unwrap();
        for slice_rows in [1, 3, 4, 100] {
            let all = read_hits_in_slices(&out, &file, slice_rows, |_| true).unwrap();
            let ids: Vec<&str> = all.iter().map(|h| h.phrase_id.as_str()).collect();
            assert_eq!(
                ids,
                ["f.0", "f.1", "f.2", "f.3", "f.4", "f.5", "f.6"],
                "slices of {slice_rows}"
            );
            assert_eq!(all[5].verdict.not_counted, Some(NotCounted::CustomersWords));
            assert_eq!(all[6].context, "第6句");
            let counted = read_hits_in_slices(&out, &file, slice_rows, |h| h.verdict.counted).unwrap();
            assert_eq!(counted.len(), 4);
        }
    }

    /// Tables of one scoring of `out`: one call `c1` and one hit of it, the
    /// hit's context saying which scoring it came from.
    fn score_tables(out: &OutDir, scoring: &str) {
        let call = CallResult {
            call_id: "c1".into(),
            agent_id: Some("A1".into()),
            started_at: None,
            audio_path: Some(format!("{scoring}.wav").into()),
            duration_s: None,
            extra: Default::default(),
            evaluation: Err(crate::rules::CallFailure::because("not scored")),
            personal_data_s: None,
        };
        let hit = Hit {
            category: "forbidden".into(),
            role: crate::lexicon::Role::Forbidden,
            phrase_id: "f.1".into(),
            phrase: "不知道".into(),
            matched_text: "不知道".into(),
            speaker: Speaker::Agent,
            start_s: 1.0,
            end_s: 2.0,
            kind: MatchKind::Exact,
            score: None,
            context: scoring.into(),
            verdict: HitVerdict::counted("forbidden_phrase"),
        };
        let row = HitRow {
            call_id: "c1",
            agent_id: "A1",
            call_date: None,
            hit: &hit,
        };
        let mut writer = TableWriter::create(out).unwrap();
        writer.write_batch(&[call], &[row]).unwrap();
        writer.finish(&[]).unwrap();
    }

    #[test]
    fn readers_pair_calls_and_hits_of_one_scoring() {
        let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (old, new) = (OutDir::new(old.path()), OutDir::new(new.path()));
        score_tables(&old, "old");
        score_tables(&new, "new");
        let read = |out: &OutDir| -> (String, String) {
            let tables = ScoredTables::open_within(out, std::time::Duration::ZERO).unwrap();
            let calls = tables.calls().unwrap();
            let hits = tables.hits(|_| true).unwrap();
            let wav = calls["c1"].audio_path.clone().unwrap();
            (wav.display().to_string(), hits[0].context.clone())
        };
        assert_eq!(read(&old), ("old.wav".to_string(), "old".to_string()));

        // `score` caught between its renames: new hits beside old calls
        std::fs::copy(new.hits_table(), old.hits_table()).unwrap();
        let err = ScoredTables::open_within(&old, std::time::Duration::ZERO)
            .err()
            .expect("a mix of two scorings is refused");
        assert!(format!("{err:#}").contains("callqa score --out"), "{err:#}");

        // a reader that opens the mix waits for the scoring to finish putting
        // its tables in place, then reads the new calls with the new hits
        let (finish_from, finish_to) = (new.calls_table(), old.calls_table());
        let scoring = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::fs::copy(&finish_from, finish_to.with_extension("tmp")).unwrap();
            std::fs::rename(finish_to.with_extension("tmp"), &finish_to).unwrap();
        });
        let tables = ScoredTables::open_within(&old, std::time::Duration::from_secs(10)).unwrap();
        scoring.join().unwrap();
        let calls = tables.calls().unwrap();
        let hits = tables.hits(|_| true).unwrap();
        assert_eq!(calls["c1"].audio_path.as_deref(), Some(std::path::Path::new("new.wav")));
        assert_eq!(hits[0].context, "new");
    }
}

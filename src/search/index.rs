//! The search index (tantivy, under `<out>/search-index`): one document per
//! call and speaker, holding that side's words as character bigrams and as
//! sound bigrams, the call's identity and which transcript segments it
//! holds. A query finds calls here; the clauses shown are then read from the
//! transcripts themselves, so a result is never older than the archive.
//!
//! `score` keeps it as it reads the archive: each call's documents carry a
//! stamp of the transcript they were made from, and only calls whose stamp
//! changed are indexed again (a night's new calls, not the year's). The stamps
//! live in a file named by the commit that wrote them; an index whose commit
//! and stamps disagree, of another layout, or unreadable, is built afresh.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use super::tokens::{BigramTokenizer, Units};
use crate::transcript::{Speaker, Transcript};

/// Names the index's layout; an index of another is built afresh.
const LAYOUT: &str = "callqa-search/2";
/// Memory the indexing thread may buffer before it writes a segment.
const WRITER_MEMORY: usize = 100_000_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index {path}: {source}")]
    Index {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("search index {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no search index in {0}: run `callqa score` on the folder first")]
    Missing(PathBuf),
}

/// The fields of a document.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    pub call_id: Field,
    /// A number per call (from its id): deletes and groups by call.
    pub call_key: Field,
    pub agent: Field,
    /// Days since 1970-01-01 of the call's day, on the center's clock.
    pub day: Field,
    /// Seconds since 1970 of the call's start (newest first); 0 when unknown.
    pub started: Field,
    pub started_at: Field,
    pub speaker: Field,
    /// The transcript file, relative to the output folder.
    pub path: Field,
    /// Who said each of the transcript's segments, as the rules told them
    /// (`a`, `c`, `u` per segment): the clauses shown are the side's searched.
    pub speakers: Field,
    /// The redaction scoring decided for the call
    /// ([`crate::privacy::CallPersonalData::recorded`]); absent where it
    /// decided none (`--show-pii`).
    pub redacted: Field,
    pub chars: Field,
    pub sounds: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |units: Units| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(units.tokenizer_name())
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        call_id: b.add_text_field("call_id", STRING | STORED),
        call_key: b.add_u64_field("call_key", INDEXED | FAST),
        agent: b.add_text_field("agent", STRING | STORED),
        day: b.add_u64_field("day", INDEXED | FAST),
        started: b.add_i64_field("started", FAST),
        started_at: b.add_text_field("started_at", STORED),
        speaker: b.add_text_field("speaker", STRING | STORED),
        path: b.add_text_field("path", STORED),
        speakers: b.add_text_field("speakers", STORED),
        redacted: b.add_text_field("redacted", STORED),
        chars: b.add_text_field("chars", words(Units::Chars)),
        sounds: b.add_text_field("sounds", words(Units::Sounds)),
    };
    (b.build(), fields)
}

impl Fields {
    /// The text field a search by these units looks in.
    pub fn words(&self, units: Units) -> Field {
        match units {
            Units::Chars => self.chars,
            Units::Sounds => self.sounds,
        }
    }
}

/// The number a call is grouped and deleted by.
/// A call's key in the index: its id hashed (ids may be long, keys are fast fields).
pub fn call_key(call_id: &str) -> u64 {
    let hash = blake3::hash(call_id.as_bytes());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// What a transcript file's documents are made from: its bytes, and on a
/// mono call the settings that told its speakers apart.
pub fn stamp(bytes: &[u8], speakers_key: Option<u64>) -> u64 {
    let hash = blake3::hash(bytes);
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes")) ^ speakers_key.unwrap_or(0)
}

/// The days since 1970-01-01 of `YYYY-MM-DD` (`input::day_number`), as the index stores them.
pub(super) fn day_number(day: &str) -> Option<u64> {
    u64::try_from(crate::input::day_number(day)?).ok()
}

fn started_seconds(started_at: Option<&str>) -> i64 {
    started_at
        .and_then(|s| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%:z").ok())
        .map_or(0, |t| t.timestamp())
}

/// A speaker in the `speakers` field.
pub(super) fn speaker_letter(speaker: Speaker) -> char {
    speaker.letter()
}

pub(super) fn speaker_of_letter(letter: char) -> Speaker {
    Speaker::of_letter(letter)
}

/// Makes a call's documents; shared by the threads that read the archive.
#[derive(Debug, Clone, Copy)]
pub struct DocumentMaker {
    fields: Fields,
}

/// A call's documents, ready to be written.
pub struct CallDocuments {
    key: u64,
    stamp: u64,
    documents: Vec<TantivyDocument>,
}

impl DocumentMaker {
    /// The documents of a call: one per side that spoke. `transcript` has
    /// its speakers as the rules told them (a mono call attributed by voice);
    /// `path` is its file, relative to the output folder.
    pub fn documents(&self, transcript: &Transcript, path: &Path, stamp: u64, redacted: Option<&str>) -> CallDocuments {
        let f = &self.fields;
        let key = call_key(&transcript.call_id);
        let speakers: String = transcript.segments.iter().map(|s| speaker_letter(s.speaker)).collect();
        let mut documents = Vec::new();
        for speaker in [Speaker::Agent, Speaker::Customer, Speaker::Unknown] {
            let said: Vec<usize> = (0..transcript.segments.len())
                .filter(|&i| transcript.segments[i].speaker == speaker)
                .collect();
            if said.is_empty() {
                continue;
            }
            // one segment to a line: the tokenizers see the break between them
            let text = said
                .iter()
                .map(|&i| transcript.segments[i].text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let mut doc = TantivyDocument::default();
            doc.add_text(f.call_id, &transcript.call_id);
            doc.add_u64(f.call_key, key);
            doc.add_text(f.agent, &transcript.agent_id);
            if let Some(day) = transcript
                .started_at
                .as_deref()
                .and_then(crate::input::call_day)
                .and_then(day_number)
            {
                doc.add_u64(f.day, day);
            }
            doc.add_i64(f.started, started_seconds(transcript.started_at.as_deref()));
            doc.add_text(f.started_at, transcript.started_at.as_deref().unwrap_or_default());
            doc.add_text(f.speaker, speaker.as_str());
            doc.add_text(f.path, path.to_string_lossy());
            doc.add_text(f.speakers, &speakers);
            if let Some(redacted) = redacted {
                doc.add_text(f.redacted, redacted);
            }
            doc.add_text(f.chars, &text);
            doc.add_text(f.sounds, text);
            documents.push(doc);
        }
        CallDocuments { key, stamp, documents }
    }
}

/// What the index holds of each call: read by the threads that read the
/// archive, to index only what changed.
#[derive(Debug, Default)]
pub struct IndexedCalls {
    /// (shared with the update: one copy of a stamp per call, not two)
    stamps: std::sync::Arc<HashMap<u64, u64>>,
}

impl IndexedCalls {
    /// Whether the call's documents were made from this stamp.
    pub fn is_current(&self, call_id: &str, stamp: u64) -> bool {
        self.stamps.get(&call_key(call_id)) == Some(&stamp)
    }
}

/// The index being brought up to date by one pass over the archive.
pub struct IndexUpdate {
    dir: PathBuf,
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    previous: std::sync::Arc<HashMap<u64, u64>>,
    now: HashMap<u64, u64>,
    changed: usize,
    /// Built afresh: missing, of another layout, or its stamps lost.
    pub rebuilt: bool,
}

/// How a pass changed the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexChange {
    pub indexed: usize,
    pub removed: usize,
    pub rebuilt: bool,
}

impl IndexUpdate {
    /// Opens the index under `dir` to bring it up to date (building it
    /// afresh when it cannot be trusted): the update, and what the index
    /// holds for the readers to compare with.
    pub fn open(dir: &Path) -> Result<(Self, IndexedCalls, DocumentMaker), SearchError> {
        let (schema, fields) = schema();
        let (index, stamps, rebuilt) = match open_trusted(dir) {
            Some((index, stamps)) => (index, stamps, false),
            None => {
                match std::fs::remove_dir_all(dir) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(SearchError::Io {
                            path: dir.to_path_buf(),
                            source: e,
                        })
                    }
                    _ => {}
                }
                crate::files::create_dir_all(dir).map_err(|source| SearchError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                let index = Index::create_in_dir(dir, schema).map_err(|source| SearchError::Index {
                    path: dir.to_path_buf(),
                    source,
                })?;
                register_tokenizers(&index);
                (index, HashMap::new(), true)
            }
        };
        let stamps = std::sync::Arc::new(stamps);
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|source| SearchError::Index {
                path: dir.to_path_buf(),
                source,
            })?;
        let update = Self {
            dir: dir.to_path_buf(),
            writer,
            fields,
            previous: std::sync::Arc::clone(&stamps),
            now: HashMap::with_capacity(stamps.len()),
            changed: 0,
            rebuilt,
        };
        Ok((update, IndexedCalls { stamps }, DocumentMaker { fields }))
    }

    /// A call whose documents are current: kept as they are.
    pub fn keep(&mut self, call_id: &str, stamp: u64) {
        self.now.insert(call_key(call_id), stamp);
    }

    /// A call indexed (again): its old documents go.
    pub fn replace(&mut self, call: CallDocuments) -> Result<(), SearchError> {
        if self.previous.contains_key(&call.key) {
            self.writer
                .delete_term(Term::from_field_u64(self.fields.call_key, call.key));
        }
        for doc in call.documents {
            self.writer.add_document(doc).map_err(|source| self.error(source))?;
        }
        self.now.insert(call.key, call.stamp);
        self.changed += 1;
        Ok(())
    }

    fn error(&self, source: tantivy::TantivyError) -> SearchError {
        SearchError::Index {
            path: self.dir.clone(),
            source,
        }
    }

    /// Removes the calls no longer in the archive and commits, with the
    /// stamps written first under the commit's name.
    pub fn finish(mut self) -> Result<IndexChange, SearchError> {
        let gone: Vec<u64> = self
            .previous
            .keys()
            .filter(|k| !self.now.contains_key(k))
            .copied()
            .collect();
        for key in &gone {
            self.writer
                .delete_term(Term::from_field_u64(self.fields.call_key, *key));
        }
        let change = IndexChange {
            indexed: self.changed,
            removed: gone.len(),
            rebuilt: self.rebuilt,
        };
        if change.indexed == 0 && change.removed == 0 && !self.rebuilt {
            keep_private(&self.dir)?;
            return Ok(change);
        }
        let generation = format!(
            "{:016x}",
            call_key(&format!("{:?}{}", std::time::SystemTime::now(), self.now.len()))
        );
        let stamps_path = self.dir.join(stamps_file(&generation));
        crate::files::write_atomic(&stamps_path, &encode_stamps(&self.now)).map_err(|source| SearchError::Io {
            path: stamps_path.clone(),
            source,
        })?;
        let dir = self.dir.clone();
        let failed = |source| SearchError::Index {
            path: dir.clone(),
            source,
        };
        let mut commit = self.writer.prepare_commit().map_err(failed)?;
        commit.set_payload(&format!("{LAYOUT} {generation}"));
        commit.commit().map_err(failed)?;
        let Self { writer, dir, .. } = self;
        writer.wait_merging_threads().map_err(|source| SearchError::Index {
            path: dir.clone(),
            source,
        })?;
        // older stamps name commits that are gone
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("stamps-") && name != stamps_file(&generation) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        keep_private(&dir)?;
        Ok(change)
    }
}

/// The index holds what customers said: its files get callqa's modes, as
/// every output does (tantivy creates them with the process umask's).
fn keep_private(dir: &Path) -> Result<(), SearchError> {
    crate::files::set_modes(dir).map_err(|source| SearchError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn stamps_file(generation: &str) -> String {
    format!("stamps-{generation}.bin")
}

/// The index and its stamps, when they can be trusted: the layout is this
/// one and the stamps are those of its last commit.
pub(super) fn open_trusted(dir: &Path) -> Option<(Index, HashMap<u64, u64>)> {
    let index = Index::open_in_dir(dir).ok()?;
    register_tokenizers(&index);
    let payload = index.load_metas().ok()?.payload?;
    let generation = payload.strip_prefix(LAYOUT)?.strip_prefix(' ')?;
    if index.schema() != schema().0 {
        return None;
    }
    let stamps = decode_stamps(&std::fs::read(dir.join(stamps_file(generation))).ok()?)?;
    Some((index, stamps))
}

/// The text fields' tokenizers, which the schema names: an index knows only
/// tantivy's own until it is told.
fn register_tokenizers(index: &Index) {
    for units in [Units::Chars, Units::Sounds] {
        index
            .tokenizers()
            .register(units.tokenizer_name(), BigramTokenizer(units));
    }
}

fn encode_stamps(stamps: &HashMap<u64, u64>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(stamps.len() * 16);
    for (key, stamp) in stamps {
        bytes.extend_from_slice(&key.to_le_bytes());
        bytes.extend_from_slice(&stamp.to_le_bytes());
    }
    bytes
}

fn decode_stamps(bytes: &[u8]) -> Option<HashMap<u64, u64>> {
    if !bytes.len().is_multiple_of(16) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(16)
            .map(|pair| {
                let (key, stamp) = pair.split_at(8);
                (
                    u64::from_le_bytes(key.try_into().expect("8 bytes")),
                    u64::from_le_bytes(stamp.try_into().expect("8 bytes")),
                )
            })
            .collect(),
    )
}

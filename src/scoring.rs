//! The scoring stage: an output folder's saved transcripts and open
//! failures → verdicts → the three tables, the scorecards and the report.
//! Never touches audio or the model, so a new lexicon pack re-scores a night
//! in seconds.
//!
//! The archive is streamed: transcripts are read, matched and judged a batch
//! at a time, each batch is written out as one Parquet row group, and only
//! running totals stay (per agent-day, plus the report's bounded lists). Peak
//! memory does not grow with the number of calls, apart from the list of
//! transcript file names.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use crate::files::write_atomic;
use crate::i18n::Messages;
use crate::input::FailedItem;
use crate::isolate::{isolated, Stage};
use crate::lexicon::{Hit, Matcher};
use crate::pack::Pack;
use crate::privacy::{CallPersonalData, Redactor};
use crate::report::{NightReport, Report};
use crate::review::{AgreementBook, ReviewBook, RuleReview};
use crate::rules::voiceprints::VoicePrintBook;
use crate::rules::{apply_reviews, judge, CallFailure, CallResult, ScorecardBook};
use crate::search::{CallDocuments, DocumentMaker, IndexChange, IndexUpdate, IndexedCalls};
use crate::store::{
    find_transcript, open_failures, read_calls, read_prompts, read_voiceprints, write_failure_list, write_voiceprints,
    HitRow, OutDir, TableWriter, TranscriptArchive,
};
use crate::transcript::{Speaker, Transcript};

/// Calls read, judged and written together: one row group of the tables.
const BATCH: usize = 1024;
/// Threads reading transcript files ahead of the judging.
const READERS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    pub calls: usize,
    pub failed: usize,
    pub passed: usize,
    pub hits: usize,
    /// The report of the folder, as written.
    pub report: Report,
}

/// Scores every transcript of the archive under `<out>/transcripts` (calls of
/// earlier runs stay in it) plus the calls whose latest attempt failed, and
/// writes the tables, scorecards.json, failures.json and the report, keeping
/// the search index. Each file appears complete or not at all.
pub fn score_archive(out: &OutDir, archive: &TranscriptArchive, pack: &Pack) -> anyhow::Result<ScoreSummary> {
    score_archive_indexing(out, archive, pack, SearchIndexing::Keep)
}

/// Whether scoring keeps the search index (`search`) up to date as it reads
/// the archive: the calls whose transcripts changed since are indexed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchIndexing {
    #[default]
    Keep,
    /// Left as it is (a bench's baseline; `callqa score --no-index`).
    Skip,
}

/// The search index to keep up to date (with what it holds and how it makes
/// a call's documents), or nothing when it is left as it is.
fn open_index(
    out: &OutDir,
    indexing: SearchIndexing,
) -> anyhow::Result<(Option<IndexUpdate>, IndexedCalls, Option<DocumentMaker>)> {
    Ok(match indexing {
        SearchIndexing::Keep => {
            let (update, indexed, maker) = IndexUpdate::open(&out.search_index())?;
            (Some(update), indexed, Some(maker))
        }
        SearchIndexing::Skip => (None, IndexedCalls::default(), None),
    })
}

/// What the judging found for the search index, call by call, applied.
fn apply_index_work(update: &mut IndexUpdate, calls: &[CallResult], work: Vec<IndexWork>) -> anyhow::Result<()> {
    for (call, work) in calls.iter().zip(work) {
        match work {
            IndexWork::None => {}
            IndexWork::Keep(stamp) => update.keep(&call.call_id, stamp),
            IndexWork::Replace(documents) => update.replace(documents)?,
        }
    }
    Ok(())
}

/// hits.parquet's rows of a batch: each hit with its call's identity.
fn hit_rows<'a>(calls: &'a [CallResult], hits: &'a [Vec<Hit>]) -> Vec<HitRow<'a>> {
    calls
        .iter()
        .zip(hits)
        .flat_map(|(call, hits)| {
            let call_date = call.call_date();
            hits.iter().map(move |hit| HitRow {
                call_id: &call.call_id,
                agent_id: call.agent_id.as_deref().unwrap_or_default(),
                call_date,
                hit,
            })
        })
        .collect()
}

/// [`score_archive`], keeping the search index or not.
pub fn score_archive_indexing(
    out: &OutDir,
    archive: &TranscriptArchive,
    pack: &Pack,
    indexing: SearchIndexing,
) -> anyhow::Result<ScoreSummary> {
    // failures/ holds the calls whose latest attempt failed (a success takes
    // a call off it): a transcript of such a call is from older audio or an
    // older model, and is not scored.
    let failures = open_failures(out)?;
    // (an input problem is not a call's attempt: a duplicate row leaves the call's transcript be)
    let failed_ids: HashSet<&str> = failures.iter().filter(|f| !f.input).map(FailedItem::key).collect();
    let mut paths = archive.paths();
    // Files are read ahead by a pool of their own: on a large archive that
    // does not fit the page cache, two CPU threads waiting on one read each
    // would leave the disk idle most of the time.
    let io_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(READERS)
        .build()
        .context("starting reader threads")?;
    let read_batch = || -> anyhow::Result<Vec<ReadFile>> {
        let batch: Vec<PathBuf> = paths.by_ref().take(BATCH).collect::<anyhow::Result<_>>()?;
        Ok(io_pool.install(|| {
            batch
                .into_par_iter()
                .map(|path| {
                    let bytes = std::fs::read(&path);
                    (path, bytes)
                })
                .collect()
        }))
    };
    let matcher = Matcher::new(&pack.lexicon);
    let redactor = pack.privacy.redact.then(|| Redactor::new(&pack.privacy));
    // QA staff's verdicts overrule the machine's (`callqa review import`);
    // the agents' voices are enrolled from their stereo calls (`callqa run`)
    let (reviews, voices) = (ReviewBook::open(out)?, read_voiceprints(out)?);
    let (mut index_update, indexed, maker) = open_index(out, indexing)?;
    let index = maker.map(|maker| Indexing {
        indexed: &indexed,
        maker,
        speakers_key: speakers_key(&matcher, pack),
        root: out.root(),
    });
    let mut tables = TableWriter::create(out)?;
    let mut cards = ScorecardBook::by_agent_and_day();
    let mut report = NightReport::new(pack.rubric.pass_mark)
        .showing_personal_data(!pack.privacy.redact)
        .with_titles(pack.titles.clone())
        .with_prompts(read_prompts(out)?.into_iter().map(|p| (p.id, p.text, p.duration_s)));
    let mut hit_count = 0;
    let mut absorb = |(calls, (hits, index_work)): ScoredBatch, tables: &mut TableWriter| -> anyhow::Result<()> {
        if let Some(update) = index_update.as_mut() {
            apply_index_work(update, &calls, index_work)?;
        }
        let rows = hit_rows(&calls, &hits);
        hit_count += rows.len();
        tables.write_batch(&calls, &rows)?;
        for (call, hits) in calls.iter().zip(&hits) {
            cards.add(call);
            report.add(call, hits);
        }
        Ok(())
    };
    let score_batch = |batch: Vec<ReadFile>| -> ScoredBatch {
        batch
            .into_par_iter()
            .map(|(path, bytes)| {
                let judging = Judging {
                    matcher: &matcher,
                    pack,
                    redactor: redactor.as_ref(),
                    reviews: &reviews,
                    voices: &voices,
                };
                score_transcript(&path, bytes, &judging, index.as_ref())
            })
            .filter(|(call, _)| !failed_ids.contains(call.call_id.as_str()))
            .unzip()
    };
    overlapped(read_batch, score_batch, |scored| absorb(scored, &mut tables))?;
    let unprocessed = failures.iter().map(unprocessed_call).unzip();
    absorb(unprocessed, &mut tables)?;
    let cards = cards.finish();
    let report = report.finish();
    // the last writes side by side (the index's commit, calls.parquet put
    // together from its batches, the report): each its own files, each
    // replaced whole, none waiting on another
    let (committed, (tabled, reported)) = rayon::join(
        || index_update.map_or(Ok(()), |update| update.finish().map(drop)),
        || {
            rayon::join(
                || tables.finish(&cards),
                || -> anyhow::Result<()> {
                    if !voices.is_empty() {
                        write_voiceprints(out, &voices.prints())?;
                    }
                    write_reports(out, &report, &cards, pack)
                },
            )
        },
    );
    committed?;
    tabled?;
    reported?;
    write_failure_list(out, &failures).with_context(|| format!("writing {}", out.failures().display()))?;
    Ok(ScoreSummary {
        calls: report.totals.calls,
        failed: report.totals.unprocessed,
        passed: report.totals.passed,
        hits: hit_count,
        report,
    })
}

/// Reads, judges and writes batches until `read` gives an empty one, the
/// three overlapping without a barrier between them: a reader thread, the
/// rayon pool judging, a writer thread, each handing on whole batches (at
/// most one waiting between two stages). In a lock-step loop the judging
/// core sat idle whenever writing a batch took longer than judging the next.
/// The first error, reading or writing, stops the others and is returned.
fn overlapped(
    mut read: impl FnMut() -> anyhow::Result<Vec<ReadFile>> + Send,
    judge: impl Fn(Vec<ReadFile>) -> ScoredBatch,
    mut write: impl FnMut(ScoredBatch) -> anyhow::Result<()> + Send,
) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        let (read_tx, read_rx) = std::sync::mpsc::sync_channel::<anyhow::Result<Vec<ReadFile>>>(1);
        let (judged_tx, judged_rx) = std::sync::mpsc::sync_channel::<ScoredBatch>(1);
        scope.spawn(move || loop {
            let batch = read();
            let last = batch.as_ref().map_or(true, Vec::is_empty);
            if read_tx.send(batch).is_err() || last {
                break;
            }
        });
        let writer = scope.spawn(move || -> anyhow::Result<()> {
            for judged in judged_rx {
                write(judged)?;
            }
            Ok(())
        });
        let mut read_failed = Ok(());
        for batch in read_rx {
            match batch {
                Ok(batch) if batch.is_empty() => break,
                Ok(batch) => {
                    if judged_tx.send(judge(batch)).is_err() {
                        break; // the writer stopped: its error says why
                    }
                }
                Err(e) => {
                    read_failed = Err(e);
                    break;
                }
            }
        }
        drop(judged_tx);
        writer.join().expect("the writer does not panic")?;
        read_failed
    })
}

/// A call whose latest attempt failed, as the tables list it: a row with its
/// reason, no hits.
fn unprocessed_call(f: &FailedItem) -> (CallResult, (Vec<Hit>, IndexWork)) {
    let call = CallResult {
        // the call's own id wherever it was readable (a manifest row whose
        // file is missing keeps it); the row's place is the location
        call_id: f.call_id.clone().unwrap_or_else(|| f.location.clone()),
        agent_id: f.agent_id.clone(),
        started_at: f.started_at.clone(),
        audio_path: f.audio_path.clone(),
        duration_s: None,
        extra: f.extra.clone(),
        evaluation: Err(CallFailure {
            reason: f.reason.clone(),
            stage: f.stage.clone(),
            location: Some(f.location.clone()),
        }),
        personal_data_s: None,
    };
    (call, (Vec::new(), IndexWork::None))
}

/// The report (report.md, report.json, report.html, in the reader's
/// language) and scorecards.json, each replaced whole.
fn write_reports(out: &OutDir, report: &Report, cards: &[crate::rules::Scorecard], pack: &Pack) -> anyhow::Result<()> {
    let m = Messages::of(pack.language);
    let write =
        |path: PathBuf, bytes: &[u8]| write_atomic(&path, bytes).with_context(|| format!("writing {}", path.display()));
    write(out.report(), report.markdown(m).as_bytes())?;
    write(
        out.report_data(),
        &serde_json::to_vec(report).expect("the report serialises"),
    )?;
    write(
        out.report_html(),
        crate::report::page_of_folder(report, out.root(), m)?.as_bytes(),
    )?;
    write(
        out.scorecards_json(),
        &serde_json::to_vec_pretty(cards).expect("scorecards serialise"),
    )
}

/// A transcript file's path and its bytes (or why they could not be read).
type ReadFile = (PathBuf, std::io::Result<Vec<u8>>);

/// A batch's calls, each with its hits and what it asks of the search index.
type ScoredBatch = (Vec<CallResult>, (Vec<Vec<Hit>>, Vec<IndexWork>));

/// What the readers need to keep the search index.
struct Indexing<'a> {
    indexed: &'a IndexedCalls,
    maker: DocumentMaker,
    /// What told mono calls' speakers apart: a new pack re-indexes them.
    speakers_key: u64,
    root: &'a Path,
}

impl Indexing<'_> {
    /// What the index needs of one call read from `path` (its bytes' stamp),
    /// its speakers told here as the rules tell them (a mono call, by voice).
    /// What scoring would redact (`redactor`, when the pack redacts) is
    /// decided here too: its record is part of the call's stamp. (Only a
    /// folder without a trusted index is indexed this way: every call is
    /// new to it, and told in any case.)
    fn work(
        &self,
        t: &Transcript,
        path: &Path,
        file_stamp: u64,
        matcher: &Matcher,
        pack: &Pack,
        redactor: Option<&Redactor>,
    ) -> IndexWork {
        let told = crate::rules::speakers_as_told(t, matcher, &pack.rule_book()).0;
        let speakers: Vec<Speaker> = told.segments.iter().map(|s| s.speaker).collect();
        let recorded = redactor.map(|r| r.of_call(&t.segments, &speakers).recorded);
        self.work_told(t, path, file_stamp, recorded.as_deref(), || told)
    }

    /// [`Self::work`] with the speakers as `told` gives them when the index
    /// needs the call (scoring has them from judging: not told twice).
    /// `redacted` is the call's redaction as scoring recorded it
    /// ([`crate::privacy::CallPersonalData::recorded`]): what the search
    /// shows of a clause; a new one re-indexes the call.
    fn work_told<'t>(
        &self,
        t: &Transcript,
        path: &Path,
        file_stamp: u64,
        redacted: Option<&str>,
        told: impl FnOnce() -> Cow<'t, Transcript>,
    ) -> IndexWork {
        let speakers_key = if t.is_mixed() { self.speakers_key } else { 0 };
        let redaction_key = redacted.map_or(0, |r| crate::search::stamp(r.as_bytes(), None));
        let stamp = file_stamp ^ speakers_key ^ redaction_key;
        if self.indexed.is_current(&t.call_id, stamp) {
            return IndexWork::Keep(stamp);
        }
        let relative = path.strip_prefix(self.root).unwrap_or(path);
        IndexWork::Replace(self.maker.documents(&told(), relative, stamp, redacted))
    }
}

/// `t` with each segment's speaker as judging told it (`letters`, one per
/// segment, [`crate::rules::Evaluation::segment_speakers`]); `t` itself
/// where nothing changed or the letters do not fit.
fn with_told_speakers<'t>(t: &'t Transcript, letters: &str) -> Cow<'t, Transcript> {
    let told = told_speakers(t, letters);
    if t.segments.iter().zip(&told).all(|(s, &speaker)| s.speaker == speaker) {
        return Cow::Borrowed(t);
    }
    let mut attributed = t.clone();
    for (segment, speaker) in attributed.segments.iter_mut().zip(told) {
        segment.speaker = speaker;
    }
    Cow::Owned(attributed)
}

/// Who said each segment as judging told it (`letters`, one per segment);
/// as stored where the letters do not fit the transcript.
fn told_speakers(t: &Transcript, letters: &str) -> Vec<Speaker> {
    if letters.chars().count() == t.segments.len() {
        letters.chars().map(Speaker::of_letter).collect()
    } else {
        t.segments.iter().map(|s| s.speaker).collect()
    }
}

/// Brings the search index of `out` up to date with its archive, without
/// scoring (`callqa search` on a folder whose index is missing or cannot be
/// trusted). The calls whose latest attempt failed are left out, as `score` does.
pub fn index_archive(out: &OutDir, pack: &Pack) -> anyhow::Result<IndexChange> {
    let failures = open_failures(out)?;
    let failed_ids: HashSet<&str> = failures.iter().filter(|f| !f.input).map(FailedItem::key).collect();
    let (mut update, indexed, maker) = IndexUpdate::open(&out.search_index())?;
    let matcher = Matcher::new(&pack.lexicon);
    let redactor = pack.privacy.redact.then(|| Redactor::new(&pack.privacy));
    let index = Indexing {
        indexed: &indexed,
        maker,
        speakers_key: speakers_key(&matcher, pack),
        root: out.root(),
    };
    let archive = TranscriptArchive::open(out)?;
    let mut paths = archive.paths();
    loop {
        let batch: Vec<PathBuf> = paths.by_ref().take(BATCH).collect::<anyhow::Result<_>>()?;
        if batch.is_empty() {
            break;
        }
        let works: Vec<(String, IndexWork)> = batch
            .into_par_iter()
            .filter_map(|path| {
                let bytes = std::fs::read(&path).ok()?;
                let stamp = crate::search::stamp(&bytes, None);
                let t = Transcript::from_file_bytes(&path, Ok(bytes)).ok()?;
                let work = index.work(&t, &path, stamp, &matcher, pack, redactor.as_ref());
                (!failed_ids.contains(t.call_id.as_str())).then_some((t.call_id, work))
            })
            .collect();
        for (call_id, work) in works {
            match work {
                IndexWork::None => {}
                IndexWork::Keep(stamp) => update.keep(&call_id, stamp),
                IndexWork::Replace(documents) => update.replace(documents)?,
            }
        }
    }
    Ok(update.finish()?)
}

/// What one call asks of the search index.
enum IndexWork {
    None,
    /// Indexed from this very transcript already.
    Keep(u64),
    Replace(CallDocuments),
}

/// The settings a mono call's speakers depend on: the attribution settings
/// and the agent-only phrases that tell the agent's voice.
fn speakers_key(matcher: &Matcher, pack: &Pack) -> u64 {
    let key = format!("{:?} {}", pack.speakers, matcher.near_fingerprint());
    crate::search::stamp(key.as_bytes(), None)
}

/// The call's personal data (see [`Redactor::of_call`]), found with its
/// speakers as judging told them (`letters`), and the hits' contexts redacted.
fn redact_what_is_shown(redactor: &Redactor, t: &Transcript, letters: &str, hits: &mut [Hit]) -> CallPersonalData {
    let personal = redactor.of_call(&t.segments, &told_speakers(t, letters));
    // a hit's context is its speaker's clauses: only a speaker whose words
    // hold personal data has any in them to redact
    for hit in hits.iter_mut().filter(|h| personal.speakers.contains(&h.speaker)) {
        if let Cow::Owned(redacted) = redactor.redact(&hit.context) {
            hit.context = redacted;
        }
    }
    personal
}

/// What the search index needs of a call when it is kept (`index`, and the
/// file's `stamp`), with the redaction scoring decided for it.
fn index_work<'t>(
    index: Option<&Indexing>,
    stamp: Option<u64>,
    t: &Transcript,
    path: &Path,
    redacted: Option<&str>,
    told: impl FnOnce() -> Cow<'t, Transcript>,
) -> IndexWork {
    match (index, stamp) {
        (Some(index), Some(stamp)) => index.work_told(t, path, stamp, redacted, told),
        _ => IndexWork::None,
    }
}

/// What a call is judged with.
struct Judging<'a> {
    matcher: &'a Matcher,
    pack: &'a Pack,
    redactor: Option<&'a Redactor>,
    reviews: &'a ReviewBook,
    voices: &'a VoicePrintBook,
}

fn score_transcript(
    path: &Path,
    bytes: std::io::Result<Vec<u8>>,
    judging: &Judging,
    index: Option<&Indexing>,
) -> (CallResult, (Vec<Hit>, IndexWork)) {
    let Judging {
        matcher,
        pack,
        redactor,
        reviews,
        voices,
    } = *judging;
    let stamp = index.and_then(|_| bytes.as_ref().ok().map(|b| crate::search::stamp(b, None)));
    match Transcript::from_file_bytes(path, bytes) {
        Ok(mut t) => {
            if t.segments.iter().any(|s| s.voice_vector.is_some()) {
                t.enrolled_voice = voices.enrolled(&t.agent_id, &t.call_id);
            }
            // matched and judged on the raw text; only what people read is
            // redacted. A panic judging one call fails that call's row only.
            let judged = isolated(&t.call_id, Stage::Judge, || {
                let (mut evaluation, mut hits) = judge(&t, matcher, &pack.rule_book());
                apply_reviews(
                    &mut evaluation,
                    &mut hits,
                    reviews.verdicts_of(&t.call_id),
                    &pack.rubric,
                );
                (evaluation, hits)
            });
            let (mut evaluation, mut hits) = match judged {
                Ok(judged) => judged,
                Err(panicked) => {
                    // indexed with its speakers as stored: telling them is what failed
                    let index_work = index_work(index, stamp, &t, path, None, || Cow::Borrowed(&t));
                    let failure = CallFailure {
                        reason: panicked.to_string(),
                        stage: Some(panicked.stage.as_str().to_string()),
                        location: Some(path.display().to_string()),
                    };
                    return (CallResult::failed(t, failure), (Vec::new(), index_work));
                }
            };
            let personal = redactor.map(|r| redact_what_is_shown(r, &t, &evaluation.segment_speakers, &mut hits));
            // indexed with its speakers as judging told them, and its redaction
            let recorded = personal.as_ref().map(|p| p.recorded.as_str());
            let index_work = index_work(index, stamp, &t, path, recorded, || {
                with_told_speakers(&t, &evaluation.segment_speakers)
            });
            let (personal_data_s, redacted_spans) = personal.map(|p| (p.times, p.recorded)).unzip();
            evaluation.redacted_spans = redacted_spans;
            let call = CallResult {
                evaluation: Ok(evaluation),
                personal_data_s,
                ..CallResult::failed(t, CallFailure::default())
            };
            (call, (hits, index_work))
        }
        // a corrupt transcript is a failed row naming the file, never a lost call
        Err(e) => (
            CallResult {
                call_id: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                agent_id: None,
                started_at: None,
                audio_path: None,
                duration_s: None,
                extra: Default::default(),
                evaluation: Err(CallFailure {
                    reason: e.to_string(),
                    stage: None,
                    location: Some(path.display().to_string()),
                }),
                personal_data_s: None,
            },
            (Vec::new(), IndexWork::None),
        ),
    }
}

/// A reviewed call judged again: its id, agent, and each reviewed rule.
type JudgedAgain = (String, String, Vec<RuleReview>);

/// The reviewed calls of `out` judged again with `pack`, measured against
/// their reviews (`callqa lexicon test`): what a changed pack would do to
/// each rule's agreement with QA staff, before the night's run. Returns the
/// tallies and the reviewed calls whose transcript is no longer in the archive.
pub fn test_against_reviews(out: &OutDir, pack: &Pack) -> anyhow::Result<(AgreementBook, Vec<String>)> {
    let reviews = ReviewBook::open(out)?;
    let calls = read_calls(out)?;
    let matcher = Matcher::new(&pack.lexicon);
    let mut ids: Vec<&str> = reviews.calls().collect();
    ids.sort_unstable();
    let judged: Vec<Result<JudgedAgain, String>> = ids
        .par_iter()
        .map(|&id| {
            let started_at = calls.get(id).and_then(|c| c.started_at.as_deref());
            let transcript = find_transcript(out, id, started_at).ok_or_else(|| id.to_string())?;
            let (mut evaluation, mut hits) = judge(&transcript, &matcher, &pack.rule_book());
            apply_reviews(&mut evaluation, &mut hits, reviews.verdicts_of(id), &pack.rubric);
            let rules = evaluation.review.map(|r| r.rules).unwrap_or_default();
            Ok((id.to_string(), transcript.agent_id, rules))
        })
        .collect();
    let mut book = AgreementBook::default();
    let mut missing = Vec::new();
    for call in judged {
        match call {
            Ok((id, agent, rules)) => book.add(&id, &agent, &rules),
            Err(id) => missing.push(id),
        }
    }
    Ok((book.finish(crate::rules::RULE_IDS), missing))
}

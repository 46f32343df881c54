//! `callqa search`: anything anyone said, across the archive, from the index
//! `score` keeps (built here first when it is missing or cannot be trusted);
//! as a table, CSV or JSON, and with `--clips`, the clip page `examples` writes.

use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;

use crate::cli::{ExampleFormat, SearchArgs, SearchMatch, SearchOrder};
use crate::cmd::examples::{text_table, ClipFolder};
use crate::cmd::{load_lexicons_showing, print_out, Outcome};
use crate::files::{lock_folder, LockMode};
use crate::i18n::{Lang, Messages};
use crate::lexicon::{HitVerdict, MatchKind};
use crate::msg;
use crate::privacy::Redactor;
use crate::report::{mm_ss, Example};
use crate::search::{call_key, Found, Query, ScoreOf, SearchError, SearchFilter, SearchIndex};
use crate::store::{read_calls, read_scores, CallRecord, HitRecord, OutDir};

/// One clause found, as printed.
#[derive(Debug, Serialize)]
struct Row<'a> {
    call_id: &'a str,
    agent_id: &'a str,
    call_date: Option<&'a str>,
    started_at: Option<&'a str>,
    speaker: &'static str,
    start_s: f64,
    end_s: f64,
    time: String,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    clip: Option<String>,
}

pub fn run(args: SearchArgs, lang: Option<Lang>) -> anyhow::Result<Outcome> {
    let out = OutDir::new(&args.out);
    if !out.root().is_dir() {
        anyhow::bail!(
            "{}: no such output folder (run `callqa run` first)",
            out.root().display()
        );
    }
    let query_text = args.query.join(" ");
    let query: Query = query_text.parse().with_context(|| format!("query {query_text:?}"))?;
    let pack = load_lexicons_showing(args.lexicons.lexicons.as_deref(), lang, args.show_pii)?;
    let m = Messages::of(pack.language);
    let index = match SearchIndex::open(&out) {
        Ok(index) => index,
        Err(SearchError::Missing(_)) => {
            // missing, of another layout, or its stamps lost: built afresh, never used as it is
            eprintln!(
                "{}",
                msg!(m, "search-building-index", dir = out.root().display().to_string())
            );
            let _lock = lock_folder(out.root(), LockMode::Exclusive, "callqa search (building its index)")?;
            crate::scoring::index_archive(&out, &pack)?;
            SearchIndex::open(&out)?
        }
        Err(e) => return Err(e.into()),
    };
    let filter = SearchFilter {
        speakers: args.speaker.iter().map(|&s| s.into()).collect(),
        agent: args.calls.agent.clone(),
        from: args.calls.from.clone(),
        to: args.calls.to.clone(),
        tolerant: args.match_kind == SearchMatch::Tolerant,
    };
    let calls: HashMap<String, CallRecord> = if args.clips.is_some() {
        read_calls(&out)?
    } else {
        HashMap::new()
    };
    // two columns of calls.parquet, keyed as the index keys calls
    let scores: HashMap<u64, f64> = if args.order == SearchOrder::Worst {
        read_scores(&out, call_key)?
    } else {
        HashMap::new()
    };
    let score_of = |key: u64| scores.get(&key).copied();
    let found = index.search(
        &query,
        &filter,
        (args.order == SearchOrder::Worst).then_some(&score_of as &ScoreOf),
        args.limit,
    )?;
    // what people read is redacted, as in the report, unless asked otherwise
    let redactor = pack.privacy.redact.then(|| Redactor::new(&pack.privacy));
    let shown = |f: &Found| shown_clause(redactor.as_ref(), f);
    let (clips, failed) = match &args.clips {
        Some(dir) => {
            let examples: Vec<Example> = found
                .iter()
                .map(|f| as_example(f, &query_text, &filter, calls.get(&f.call_id), shown(f)))
                .collect();
            let folder = ClipFolder {
                dir,
                title: &out.root().display().to_string(),
                description: msg!(m, "search-description", query = query_text.as_str()),
                context_s: args.context_s,
                roots: &args.audio_roots.roots(),
                messages: m,
                titles: &pack.titles,
            };
            folder.write(&examples, &calls)?
        }
        None => (vec![None; found.len()], 0),
    };
    let rows: Vec<Row> = found
        .iter()
        .zip(clips)
        .map(|(f, clip)| Row {
            call_id: &f.call_id,
            agent_id: &f.agent_id,
            call_date: f.call_date.as_deref(),
            started_at: f.started_at.as_deref(),
            speaker: f.speaker.as_str(),
            start_s: f.start_s,
            end_s: f.end_s,
            time: mm_ss(f.start_s),
            text: shown(f),
            clip,
        })
        .collect();
    let printed = match args.format {
        ExampleFormat::Table => table(&rows, m).into_bytes(),
        ExampleFormat::Csv => csv_of(&rows)?,
        ExampleFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&rows)?;
            json.push(b'\n');
            json
        }
    };
    print_out(printed)?;
    if args.clips.is_none() {
        let n = rows.len();
        let found = msg!(m, "search-found", n = n);
        if n >= args.limit {
            eprintln!("{found}{}", m.text("search-limit-reached"));
        } else {
            eprintln!("{found}");
        }
    }
    Ok(if failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

/// A clause found, as the clip page lists examples.
fn as_example(found: &Found, query: &str, filter: &SearchFilter, call: Option<&CallRecord>, text: String) -> Example {
    Example {
        hit: HitRecord {
            call_id: found.call_id.clone(),
            agent_id: found.agent_id.clone(),
            category: "search".into(),
            phrase_id: String::new(),
            phrase: query.to_string(),
            matched_text: text.clone(),
            speaker: found.speaker,
            start_s: found.start_s,
            end_s: found.end_s,
            kind: if filter.tolerant {
                MatchKind::Tolerant
            } else {
                MatchKind::Exact
            },
            score: None,
            context: text,
            verdict: HitVerdict::NOT_JUDGED,
        },
        call_date: found.call_date.clone(),
        call_score: call.and_then(|c| c.score),
        audio_path: call.and_then(|c| c.audio_path.clone()),
    }
}

fn table(rows: &[Row], m: &Messages) -> String {
    let header = [
        "col-call",
        "col-agent",
        "col-day",
        "col-time",
        "col-speaker",
        "col-said",
    ]
    .map(|id| m.text(id));
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.call_id.to_string(),
                r.agent_id.to_string(),
                r.call_date.map_or("–".to_string(), |d| m.date(d)),
                r.time.clone(),
                m.text(&format!("speaker-{}", r.speaker)),
                format!("「{}」", r.text),
            ]
        })
        .collect();
    text_table(&header, &cells)
}

fn csv_of(rows: &[Row]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "call_id",
        "agent_id",
        "call_date",
        "started_at",
        "speaker",
        "start_s",
        "end_s",
        "time",
        "text",
        "clip",
    ])?;
    for r in rows {
        w.write_record([
            r.call_id,
            r.agent_id,
            r.call_date.unwrap_or_default(),
            r.started_at.unwrap_or_default(),
            r.speaker,
            &format!("{:.2}", r.start_s),
            &format!("{:.2}", r.end_s),
            &r.time,
            &r.text,
            r.clip.as_deref().unwrap_or_default(),
        ])?;
    }
    Ok(w.into_inner()?)
}

/// A found clause as people read it: redacted as scoring recorded it (a
/// number split over two clauses is marked in both), found again where it
/// recorded none; as said when the pack shows personal data.
fn shown_clause(redactor: Option<&Redactor>, f: &Found) -> String {
    match (redactor, &f.redacted) {
        (Some(_), Some(recorded)) => crate::privacy::apply_recorded(recorded, f.segment, &f.text).into_owned(),
        (Some(r), None) => r.redact(&f.text).into_owned(),
        (None, _) => f.text.clone(),
    }
}

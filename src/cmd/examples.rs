//! `callqa examples`: the hits a trainer asks for (by category, phrase,
//! agent, days, speaker, call score, match kind), worst call first, as a
//! table, CSV or JSON; with `--clips`, an audio clip of each and a page to
//! listen from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{ExampleFormat, ExamplesArgs};
use crate::cmd::{print_out, readers_words, Outcome};
use crate::files::write_atomic;
use crate::i18n::{Lang, Messages};
use crate::input::AudioRoots;
use crate::lexicon::MatchKind;
use crate::msg;
use crate::pack::Titles;
use crate::report::{
    clip_file_name, cut_clips, examples_page, mm_ss, said_of, select_examples, why_not_counted, Example, ExampleFilter,
    ExampleRow, ExamplesPage, Moment,
};
use crate::store::{CallRecord, OutDir, ScoredTables};

pub fn run(args: ExamplesArgs, lang: Option<Lang>) -> anyhow::Result<Outcome> {
    let out = OutDir::new(&args.out);
    let (m, titles) = readers_words(&out, lang);
    let filter = ExampleFilter {
        categories: args.categories.clone(),
        phrase_id: args.phrase.clone(),
        agent_id: args.calls.agent.clone(),
        from: args.calls.from.clone(),
        to: args.calls.to.clone(),
        speakers: args.speaker.iter().map(|&s| s.into()).collect(),
        // what the rules counted, as they decided it, unless more is asked for
        // (a speaker named, every hit, or the grey ones, which never count)
        counted_only: !(args.all
            || !args.speaker.is_empty()
            || args.match_kind == Some(crate::cli::MatchArg::Uncertain)),
        max_score: args.max_score,
        kind: args.match_kind.map(Into::into),
        limit: args.limit,
    };
    let tables = ScoredTables::open(&out)?;
    let calls = tables.calls()?;
    let unknown = CallRecord::default();
    let hits = tables.hits(|hit| filter.keeps(hit, calls.get(&hit.call_id).unwrap_or(&unknown)))?;
    let examples = select_examples(hits, &calls, &filter);
    let (clips, failed) = match &args.clips {
        Some(dir) => {
            let folder = ClipFolder {
                dir,
                title: &out.root().display().to_string(),
                description: filter.describe(m, &titles),
                context_s: args.context_s,
                roots: &args.audio_roots.roots(),
                messages: m,
                titles: &titles,
            };
            folder.write(&examples, &calls)?
        }
        None => (vec![None; examples.len()], 0),
    };
    let printed = match args.format {
        ExampleFormat::Table => table(&examples, m, &titles).into_bytes(),
        ExampleFormat::Csv => csv_of(&examples, &clips)?,
        ExampleFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&rows(&examples, &clips))?;
            json.push(b'\n');
            json
        }
    };
    print_out(printed)?;
    if args.clips.is_none() {
        eprintln!("{}", msg!(m, "examples-count", n = examples.len()));
    }
    Ok(if failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

/// A folder of clips with the page to listen from (`examples --clips`,
/// `search --clips`).
pub(crate) struct ClipFolder<'a> {
    pub dir: &'a Path,
    /// The page's title: the output folder.
    pub title: &'a str,
    /// What was asked for, in words.
    pub description: String,
    pub context_s: f64,
    pub roots: &'a AudioRoots,
    /// The page's language and the pack's names.
    pub messages: &'static Messages,
    pub titles: &'a Titles,
}

impl ClipFolder<'_> {
    /// Cuts a clip per example, writes index.html and index.csv; returns
    /// each example's clip (None where its call's audio could not be cut)
    /// and how many calls could not be cut.
    pub fn write(
        &self,
        examples: &[Example],
        calls: &std::collections::HashMap<String, CallRecord>,
    ) -> anyhow::Result<(Vec<Option<String>>, usize)> {
        let dir = self.dir;
        let m = self.messages;
        let (clips, failed) = cut_all(examples, calls, dir, self.context_s, self.roots, m)?;
        let page = examples_page(
            &ExamplesPage {
                title: self.title,
                filter: self.description.clone(),
                rows: rows(examples, &clips),
                context_s: self.context_s,
            },
            m,
            self.titles,
        )?;
        write_atomic(&dir.join("index.html"), page.as_bytes())
            .with_context(|| format!("writing {}", dir.join("index.html").display()))?;
        write_atomic(&dir.join("index.csv"), &csv_of(examples, &clips)?)
            .with_context(|| format!("writing {}", dir.join("index.csv").display()))?;
        eprintln!(
            "{}",
            msg!(
                m,
                "examples-clips-written",
                n = clips.iter().flatten().count(),
                dir = dir.display().to_string()
            )
        );
        Ok((clips, failed))
    }
}

fn rows<'a>(examples: &'a [Example], clips: &[Option<String>]) -> Vec<ExampleRow<'a>> {
    examples
        .iter()
        .zip(clips)
        .map(|(example, clip)| ExampleRow {
            example,
            clip: clip.clone(),
        })
        .collect()
}

/// Cuts the clips, one decoding per call; returns each example's clip file
/// name (None where its call's audio could not be read) and how many calls failed.
fn cut_all(
    examples: &[Example],
    calls: &std::collections::HashMap<String, CallRecord>,
    dir: &Path,
    context_s: f64,
    roots: &AudioRoots,
    m: &Messages,
) -> anyhow::Result<(Vec<Option<String>>, usize)> {
    crate::files::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let names: Vec<String> = examples
        .iter()
        .enumerate()
        .map(|(i, e)| {
            clip_file_name(
                i + 1,
                &e.hit.call_id,
                &e.hit.agent_id,
                e.hit.start_s,
                &e.hit.category,
                &e.hit.phrase_id,
            )
        })
        .collect();
    let mut by_audio: BTreeMap<(&str, Option<&PathBuf>), Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_audio
            .entry((&e.hit.call_id, e.audio_path.as_ref()))
            .or_default()
            .push(i);
    }
    let mut clips = vec![None; examples.len()];
    let mut failed = 0;
    for ((call_id, audio), indices) in by_audio {
        let Some(audio) = audio else {
            failed += 1;
            eprintln!("{}", msg!(m, "clips-no-audio-path", call = call_id));
            continue;
        };
        let here = roots.locate(audio);
        if !here.is_file() {
            failed += 1;
            eprintln!(
                "{}",
                msg!(m, "clips-none", call = call_id, why = roots.not_found_hint(audio))
            );
            continue;
        }
        // where scoring found personal data; not looked for: the voice stays, and we say so
        let hidden = match calls.get(call_id).and_then(|c| c.personal_data_s.as_deref()) {
            Some(hidden) => hidden,
            None => {
                eprintln!("{}", msg!(m, "clips-pii-unknown", call = call_id));
                &[]
            }
        };
        let moments: Vec<Moment> = indices
            .iter()
            .map(|&i| Moment {
                start_s: examples[i].hit.start_s,
                end_s: examples[i].hit.end_s,
                file_name: &names[i],
                hidden,
            })
            .collect();
        match cut_clips(&here, &moments, context_s, dir) {
            Ok(_) => {
                for &i in &indices {
                    clips[i] = Some(names[i].clone());
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}", msg!(m, "clips-none", call = call_id, why = e.to_string()));
            }
        }
    }
    Ok((clips, failed))
}

fn csv_of(examples: &[Example], clips: &[Option<String>]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "call_id",
        "agent_id",
        "call_date",
        "call_score",
        "start_s",
        "end_s",
        "time",
        "category",
        "phrase_id",
        "phrase",
        "matched_text",
        "speaker",
        "match",
        "score",
        "counted",
        "rule",
        "not_counted",
        "context",
        "clip",
    ])?;
    for (e, clip) in examples.iter().zip(clips) {
        w.write_record([
            e.hit.call_id.as_str(),
            &e.hit.agent_id,
            e.call_date.as_deref().unwrap_or_default(),
            &e.call_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            &format!("{:.2}", e.hit.start_s),
            &format!("{:.2}", e.hit.end_s),
            &mm_ss(e.hit.start_s),
            &e.hit.category,
            &e.hit.phrase_id,
            &e.hit.phrase,
            &e.hit.matched_text,
            e.hit.speaker.as_str(),
            e.hit.kind.as_str(),
            &e.hit.score.map(|s| format!("{s:.3}")).unwrap_or_default(),
            if e.hit.verdict.counted { "true" } else { "false" },
            e.hit.verdict.rule.as_deref().unwrap_or_default(),
            e.hit.verdict.not_counted.map_or("", |n| n.as_str()),
            &e.hit.context,
            clip.as_deref().unwrap_or_default(),
        ])?;
    }
    w.into_inner().context("writing CSV")
}

/// Terminal columns a string takes: wide (CJK, full-width) characters two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if c.is_ascii() || ('\u{00a0}'..'\u{1100}').contains(&c) {
                1
            } else {
                2
            }
        })
        .sum()
}

fn pad(s: &str, to: usize) -> String {
    format!("{s}{}", " ".repeat(to.saturating_sub(width(s))))
}

/// A table to read: one line per example, the clause around it last.
fn table(examples: &[Example], m: &Messages, titles: &Titles) -> String {
    let header = [
        "col-call",
        "col-agent",
        "col-day",
        "col-score",
        "col-time",
        "col-category",
        "col-phrase",
        "col-said",
        "col-counted",
        "col-around",
    ]
    .map(|id| m.text(id));
    let cells: Vec<[String; 10]> = examples
        .iter()
        .map(|e| {
            let said = match e.hit.kind {
                MatchKind::Verified => msg!(
                    m,
                    "examples-said-verified",
                    heard = e.hit.matched_text.as_str(),
                    phrase = e.hit.phrase.as_str()
                ),
                MatchKind::Uncertain => msg!(
                    m,
                    "examples-said-open",
                    heard = e.hit.matched_text.as_str(),
                    phrase = e.hit.phrase.as_str()
                ),
                _ => format!(
                    "「{}」",
                    said_of(
                        m,
                        &e.hit.category,
                        &e.hit.phrase_id,
                        &e.hit.matched_text,
                        e.hit.start_s,
                        e.hit.end_s
                    )
                ),
            };
            let counted = match (&e.hit.verdict.rule, e.hit.verdict.not_counted) {
                (_, Some(why)) => msg!(m, "examples-not-counted", why = why_not_counted(m, why)),
                (Some(rule), None) => titles.rule_in(m, rule),
                (None, None) => m.text("examples-counted"),
            };
            [
                e.hit.call_id.clone(),
                e.hit.agent_id.clone(),
                e.call_date.as_deref().map_or("–".into(), |d| m.date(d)),
                e.call_score.map_or("–".into(), |s| format!("{s:.0}")),
                mm_ss(e.hit.start_s),
                titles.category_in(m, &e.hit.category),
                e.hit.phrase_id.clone(),
                said,
                counted,
                format!("…{}…", e.hit.context),
            ]
        })
        .collect();
    text_table(&header, &cells)
}

/// Rows under a header, in columns padded to the widest cell (wide
/// characters count two); the last column runs on unpadded.
pub(crate) fn text_table<const N: usize>(header: &[String; N], cells: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let line = |row: &[String]| -> String {
        let last = row.len() - 1;
        let mut text: Vec<String> = row[..last].iter().zip(&widths).map(|(c, &w)| pad(c, w)).collect();
        text.push(row[last].clone());
        text.join("  ") + "\n"
    };
    let mut out = line(header);
    for row in cells {
        out += &line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(width("A2"), 2);
        assert_eq!(width("「我不大清楚」"), 14);
        assert_eq!(pad("我", 4), "我  ");
    }
}

//! `callqa lexicon check`: validate a pack, every mistake with file and line.
//! `callqa lexicon test`: what a pack does to each rule's agreement with QA
//! staff's reviews.
//! `callqa lexicon prompts`: the recorded prompts found in the calls' audio,
//! and their words added to a pack's system lexicon.

use std::path::Path;

use std::fmt::Write as _;

use crate::cmd::examples::text_table;
use crate::cmd::{load_lexicons, print_out, Outcome};
use crate::i18n::{Lang, Messages};
use crate::msg;
use crate::pack::{builtin_pack, load_pack, Pack};
use crate::review::Shortfall;
use crate::store::OutDir;

pub fn check(dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let pack = match dir {
        None => builtin_pack(),
        Some(dir) => match load_pack(dir) {
            Ok(pack) => pack,
            Err(e) => {
                let listed: String = e.problems.iter().map(|p| format!("{p}\n")).collect();
                print_out(&listed)?;
                // exit 2, as for every input that stops the work (README, "Exit status")
                anyhow::bail!(
                    "{}: {} problem(s); this pack will not score calls until they are fixed",
                    dir.display(),
                    e.problems.len()
                );
            }
        },
    };
    print_out(describe(&pack))?;
    Ok(Outcome::Success)
}

fn describe(pack: &Pack) -> String {
    let mut out = format!("{}: ok ({})\n", pack.source.display(), pack.name);
    for category in &pack.lexicon.categories {
        let phrases: Vec<_> = pack
            .lexicon
            .phrases
            .iter()
            .filter(|p| p.category == category.name)
            .collect();
        let variants: usize = phrases.iter().map(|p| p.variants.len()).sum();
        let _ = writeln!(
            out,
            "  {:<13} {:>3} phrases ({variants} variants), role {}, listens to {:?}",
            category.name,
            phrases.len(),
            category.role.as_str(),
            category.speaker
        );
    }
    out
}

pub fn test(out: &Path, lexicons: Option<&Path>, json: bool, lang: Option<Lang>) -> anyhow::Result<Outcome> {
    let pack = load_lexicons(lexicons, lang)?;
    let m = Messages::of(pack.language);
    let out = OutDir::new(out);
    let (book, missing) = crate::scoring::test_against_reviews(&out, &pack)?;
    for id in &missing {
        eprintln!("{}", msg!(m, "lexicon-test-missing", call = id.as_str()));
    }
    if book.rules.is_empty() {
        anyhow::bail!(
            "{}: no reviews to test against (`callqa review sample`, then `callqa review import`)",
            out.root().display()
        );
    }
    let floors = &pack.review;
    let short: Vec<(&str, Vec<Shortfall>)> = book
        .rules
        .iter()
        .map(|a| (a.rule.as_str(), floors.shortfall(a)))
        .filter(|(_, short)| !short.is_empty())
        .collect();
    if json {
        let figures = serde_json::json!({
            "pack": pack.source.display().to_string(),
            "reviewed_calls": book.reviewed_calls,
            "rules": book.rules,
            "below_floor": short.iter().map(|(rule, why)| {
                let why: Vec<String> = why.iter().map(ToString::to_string).collect();
                serde_json::json!({"rule": rule, "why": why.join(", ")})
            }).collect::<Vec<_>>(),
        });
        print_out(format!("{}\n", serde_json::to_string_pretty(&figures)?))?;
    } else {
        let two = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
        let head = msg!(
            m,
            "lexicon-test-head",
            pack = pack.source.display().to_string(),
            calls = book.reviewed_calls,
            out = out.root().display().to_string(),
            precision = format!("{:.2}", floors.min_precision),
            recall = format!("{:.2}", floors.min_recall),
            reviews = floors.min_reviewed
        );
        let header = [
            "col-rule",
            "col-reviewed",
            "col-precision",
            "col-recall",
            "col-false-fails",
            "col-false-passes",
            "col-left-open",
            "col-kappa",
            "col-floor",
        ]
        .map(|id| m.text(id));
        let cells: Vec<[String; 9]> = book
            .rules
            .iter()
            .map(|a| {
                let below = short.iter().find(|(rule, _)| *rule == a.rule).map(|(_, why)| {
                    let why: Vec<String> = why
                        .iter()
                        .map(|s| {
                            msg!(
                                m,
                                "lexicon-test-shortfall",
                                measure = m.text(&format!("col-{}", s.measure)),
                                value = format!("{:.2}", s.value),
                                floor = format!("{:.2}", s.floor)
                            )
                        })
                        .collect();
                    msg!(m, "lexicon-test-below", why = m.list(&why))
                });
                [
                    pack.titles.rule_in(m, &a.rule),
                    a.reviewed.to_string(),
                    two(a.precision),
                    two(a.recall),
                    a.false_fails.to_string(),
                    a.false_passes.to_string(),
                    a.left_open.to_string(),
                    two(a.kappa),
                    below.unwrap_or_default(),
                ]
            })
            .collect();
        print_out(format!("{head}\n{}", text_table(&header, &cells)))?;
    }
    Ok(if short.is_empty() {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

/// Lists the folder's learned prompts; with `to`, appends a line per new
/// prompt to the pack's system phrase file.
pub fn prompts(out: &Path, to: Option<&Path>) -> anyhow::Result<Outcome> {
    let library = crate::store::read_prompts(&OutDir::new(out))?;
    let mut listed = String::new();
    for p in &library {
        let text = if p.text.is_empty() {
            "(not transcribed yet)"
        } else {
            p.text.as_str()
        };
        let _ = writeln!(listed, "{}\t{:.1} s\t{} calls\t{text}", p.id, p.duration_s, p.calls);
    }
    if library.is_empty() {
        let _ = writeln!(listed, "{}: no recorded prompt found yet", out.display());
    }
    print_out(&listed)?;
    let Some(dir) = to else { return Ok(Outcome::Success) };
    let pack = load_pack(dir)
        .map_err(|e| anyhow::anyhow!("{}: {} problem(s) in the pack", dir.display(), e.problems.len()))?;
    let file = dir.join(system_file(&pack, dir)?);
    let existing = std::fs::read_to_string(&file).unwrap_or_default();
    let mut added = String::new();
    for p in library.iter().filter(|p| !p.text.is_empty()) {
        let id = format!("system.{}", p.id.replace('-', "_"));
        if existing
            .lines()
            .any(|l| l.split_whitespace().next() == Some(id.as_str()))
        {
            continue;
        }
        let clauses = machine_clauses(&p.text, &pack);
        if !clauses.is_empty() {
            let _ = writeln!(added, "{id:<24} {}", clauses.join(" | "));
        }
    }
    if added.is_empty() {
        print_out(format!("{}: nothing to add\n", file.display()))?;
        return Ok(Outcome::Success);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text += "# learned from the calls' audio (callqa lexicon prompts)\n";
    text += &added;
    crate::files::write_atomic(&file, text.as_bytes())?;
    print_out(format!("{}: added\n{added}", file.display()))?;
    Ok(Outcome::Success)
}

/// The phrase file of the pack's system category (role `system`).
fn system_file<'p>(pack: &'p Pack, dir: &Path) -> anyhow::Result<&'p str> {
    pack.lexicon
        .categories
        .iter()
        .find(|c| c.role == crate::lexicon::Role::System)
        .and_then(|c| pack.phrase_files.get(&c.name))
        .map(String::as_str)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no category with role = \"system\": add [categories.system] to keep the center's prompts",
                dir.join("pack.toml").display()
            )
        })
}

/// The clauses of a prompt's text that hold no person's phrase of `pack`:
/// the welcome's 欢迎致电… is the machine's alone, its 请问有什么可以帮您 is
/// every agent's greeting too, and must stay theirs when an agent says it.
fn machine_clauses(text: &str, pack: &Pack) -> Vec<String> {
    use crate::lexicon::{Matcher, Role};
    use crate::transcript::{Segment, Speaker, Transcript};
    let matcher = Matcher::new(&pack.lexicon);
    let system_words: Vec<&str> = pack
        .lexicon
        .phrases
        .iter()
        .filter(|p| {
            pack.lexicon
                .category(&p.category)
                .is_some_and(|c| c.role == Role::System)
        })
        .flat_map(|p| p.written.iter().map(String::as_str))
        .collect();
    text.split(|c: char| "，。？！、；,.?!; ".contains(c))
        .map(str::trim)
        .filter(|clause| clause.chars().count() >= 4)
        .filter(|clause| {
            // nor any that is near one by sound: whisper garbles a person's
            // line as it garbled the prompt (请问有什么可疑方言)
            let said = Transcript::from_segments("prompt", vec![Segment::new(Speaker::Agent, 0.0, 1.0, clause)]);
            let found = matcher.find(&said).iter().all(|h| h.role == Role::System);
            let near = matcher.near_candidates(Speaker::Agent, &[clause]);
            found && near.iter().all(|p| system_words.contains(&p.phrase.as_str()))
        })
        .map(str::to_string)
        .collect()
}

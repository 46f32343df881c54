//! `callqa lexicon check`: validate a pack, every mistake with file and line.
//! `callqa lexicon test`: what a pack does to each rule's agreement with QA
//! staff's reviews.

use std::path::Path;

use std::fmt::Write as _;

use crate::cmd::{load_lexicons, print_out, Outcome};
use crate::lexicon::{builtin_pack, load_pack, Pack};
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
    for category in &pack.categories {
        let phrases: Vec<_> = pack.phrases.iter().filter(|p| p.category == category.name).collect();
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

pub fn test(out: &Path, lexicons: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let pack = load_lexicons(lexicons)?;
    let out = OutDir::new(out);
    let (book, missing) = crate::scoring::test_against_reviews(&out, &pack)?;
    for id in &missing {
        eprintln!("{id}: reviewed, but its transcript is no longer in the archive: left out");
    }
    if book.rules.is_empty() {
        anyhow::bail!(
            "{}: no reviews to test against (`callqa review sample`, then `callqa review import`)",
            out.root().display()
        );
    }
    let floors = &pack.review;
    let short: Vec<(&str, String)> = book
        .rules
        .iter()
        .filter_map(|a| floors.shortfall(a).map(|why| (a.rule.as_str(), why)))
        .collect();
    if json {
        let figures = serde_json::json!({
            "pack": pack.source.display().to_string(),
            "reviewed_calls": book.reviewed_calls,
            "rules": book.rules,
            "below_floor": short.iter().map(|(rule, why)| serde_json::json!({"rule": rule, "why": why})).collect::<Vec<_>>(),
        });
        print_out(format!("{}\n", serde_json::to_string_pretty(&figures)?))?;
    } else {
        let two = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
        let mut text = format!(
            "{} against {} reviewed calls ({}); floors: precision {:.2}, recall {:.2}, from {} reviews\n",
            pack.source.display(),
            book.reviewed_calls,
            out.root().display(),
            floors.min_precision,
            floors.min_recall,
            floors.min_reviewed
        );
        let _ = writeln!(
            text,
            "{:<20} {:>8} {:>9} {:>6} {:>11} {:>12} {:>9} {:>6}",
            "rule", "reviewed", "precision", "recall", "false fails", "false passes", "left open", "kappa"
        );
        for a in &book.rules {
            let flag = short
                .iter()
                .find(|(rule, _)| *rule == a.rule)
                .map(|(_, why)| format!("  BELOW: {why}"))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "{:<20} {:>8} {:>9} {:>6} {:>11} {:>12} {:>9} {:>6}{flag}",
                a.rule,
                a.reviewed,
                two(a.precision),
                two(a.recall),
                a.false_fails,
                a.false_passes,
                a.left_open,
                two(a.kappa)
            );
        }
        print_out(text)?;
    }
    Ok(if short.is_empty() {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

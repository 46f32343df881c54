//! `callqa lexicon check`: validate a pack, every mistake with file and line.

use std::path::Path;

use std::fmt::Write as _;

use crate::cmd::{print_out, Outcome};
use crate::lexicon::{builtin_pack, load_pack, Pack};

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

//! `callqa report`: print the report of an output folder (written by run/score).

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::cmd::Outcome;
use crate::store::OutDir;

pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let out = OutDir::new(&args.out);
    let path = if args.json { out.scorecards_json() } else { out.report() };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (run `callqa run` or `callqa score` first)", path.display()))?;
    print!("{text}");
    Ok(Outcome::Success)
}

//! `callqa report`: print the report of an output folder (written by run/score).

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::cmd::Outcome;

pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let name = if args.json { "scorecards.json" } else { "report.md" };
    let path = args.out.join(name);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (run `callqa run` or `callqa score` first)", path.display()))?;
    print!("{text}");
    Ok(Outcome::Success)
}

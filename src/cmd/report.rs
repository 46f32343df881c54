//! `callqa report`: the report of an output folder (written by run/score):
//! a short summary on the terminal, the whole of it as one HTML page.

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::cmd::{print_out, Outcome};
use crate::report::{page_of_folder, Report};
use crate::store::{write_atomic, OutDir};

const FIRST: &str = "run `callqa run` or `callqa score` first";

pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let out = OutDir::new(&args.out);
    if args.json {
        let path = out.scorecards_json();
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {} ({FIRST})", path.display()))?;
        print_out(&text)?;
        return Ok(Outcome::Success);
    }
    let path = out.report_data();
    let bytes = std::fs::read(&path).with_context(|| format!("reading {} ({FIRST})", path.display()))?;
    let report: Report = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a report this callqa can read: run `callqa score --out {}` to write it again",
            path.display(),
            out.root().display()
        )
    })?;
    print_out(report.summary())?;
    match &args.html {
        Some(html) => {
            let page = page_of_folder(&report, out.root())?;
            write_atomic(html, page.as_bytes()).with_context(|| format!("writing {}", html.display()))?;
            print_out(format!("Report page: {} (open it in a browser)\n", html.display()))?;
        }
        None => print_out(format!(
            "Whole report: {} and {}\n",
            out.report().display(),
            out.report_html().display()
        ))?,
    }
    Ok(Outcome::Success)
}

//! `callqa report`: the report of an output folder (written by run/score):
//! a short summary on the terminal, the whole of it as one HTML page.

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::cmd::{print_out, Outcome};
use crate::files::write_atomic;
use crate::i18n::{Lang, Messages};
use crate::msg;
use crate::report::{page_of_folder, Report};
use crate::store::OutDir;

const FIRST: &str = "run `callqa run` or `callqa score` first";

pub fn run(args: ReportArgs, lang: Option<Lang>) -> anyhow::Result<Outcome> {
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
    // the language asked for, else the one the report was written in
    let m = Messages::of(lang.unwrap_or(report.titles.language));
    print_out(report.summary(m))?;
    match &args.html {
        Some(html) => {
            let page = page_of_folder(&report, out.root(), m)?;
            write_atomic(html, page.as_bytes()).with_context(|| format!("writing {}", html.display()))?;
            print_out(format!(
                "{}\n",
                msg!(m, "report-page-written", path = html.display().to_string())
            ))?;
        }
        None => print_out(format!(
            "{}\n",
            msg!(
                m,
                "report-whole",
                md = out.report().display().to_string(),
                html = out.report_html().display().to_string()
            )
        ))?,
    }
    Ok(Outcome::Success)
}

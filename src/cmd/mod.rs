//! One file per subcommand. Each returns an [`Outcome`] that `main` maps to the exit status.

pub mod examples;
pub mod lexicon;
pub mod model;
pub mod report;
pub mod review;
pub mod run;
pub mod score;
pub mod search;

use std::path::Path;

use anyhow::Context;

use crate::cli::{Command, LexiconCommand, ModelCommand, ReviewCommand};
use crate::lexicon::{builtin_pack, load_pack, Pack};

/// Writes `text` to stdout. A reader that went away (`callqa report | head`)
/// is not an error: what it did not read is simply not printed.
pub(crate) fn print_out(text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_ref()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// How a command ended, for the exit-status contract (errors are 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The batch finished, but some items failed (each was reported).
    SomeFailed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::SomeFailed => 1,
        }
    }
}

pub fn dispatch(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Score(args) => score::run(args),
        Command::Report(args) => report::run(args),
        Command::Examples(args) => examples::run(args),
        Command::Search(args) => search::run(args),
        Command::Review(ReviewCommand::Import(args)) => review::import(args),
        Command::Review(ReviewCommand::Sample(args)) => review::sample(args),
        Command::Lexicon(LexiconCommand::Check { dir }) => lexicon::check(dir.as_deref()),
        Command::Lexicon(LexiconCommand::Test { out, lexicons, json }) => {
            lexicon::test(&out, lexicons.lexicons.as_deref(), json)
        }
        Command::Model(ModelCommand::Import { source, out, quantize }) => {
            model::import(&source, &out, quantize).map(|()| Outcome::Success)
        }
    }
}

/// Where a batch command's words go: notes and the summary to stderr unless
/// `--quiet`, errors always, the `--json` summary to stdout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Console {
    pub quiet: bool,
    pub json: bool,
}

impl Console {
    pub fn new(args: &crate::cli::OutputArgs) -> Self {
        Self {
            quiet: args.quiet,
            json: args.json,
        }
    }

    /// A note for a person watching (progress, what was found, the summary).
    pub fn say(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Something that went wrong: printed even with `--quiet`.
    pub fn error(&self, text: impl std::fmt::Display) {
        eprintln!("{text}");
    }

    /// The end-of-batch summary: readable on stderr, and as JSON on stdout with `--json`.
    pub fn summary(&self, summary: &BatchSummary) {
        if !self.quiet {
            eprint!("{summary}");
        }
        if self.json {
            // a summary nobody reads is no reason to fail a batch that went well
            let _ = print_out(format!(
                "{}\n",
                serde_json::to_string(summary).expect("summaries serialise")
            ));
        }
    }
}

/// How a `run` or `score` went, in one object.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchSummary {
    pub command: &'static str,
    pub out: String,
    /// `I/N` for a shard worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// `run`: the calls given this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunFigures>,
    /// The whole output folder as scored (not for shard workers, which score nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveFigures>,
    pub wall_s: f64,
    /// The agents with the lowest mean score over the folder, lowest first.
    pub lowest_agents: Vec<AgentFigure>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunFigures {
    pub calls: usize,
    pub transcribed: usize,
    pub reused: usize,
    pub failed: usize,
    /// Audio of the calls transcribed or reused, in hours.
    pub audio_hours: f64,
    /// Audio transcribed per second of wall time.
    pub times_real_time: f64,
    pub calls_per_hour: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ArchiveFigures {
    pub calls: usize,
    pub scored: usize,
    pub passed: usize,
    pub did_not_pass: usize,
    pub unprocessed: usize,
    pub audio_hours: f64,
    pub hits: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AgentFigure {
    pub agent_id: String,
    pub calls: u32,
    pub mean_score: f64,
}

/// How many agents the summary names.
const LOWEST_AGENTS: usize = 5;

impl BatchSummary {
    pub fn new(command: &'static str, out: &crate::store::OutDir, wall_s: f64) -> Self {
        Self {
            command,
            out: out.root().display().to_string(),
            shard: None,
            run: None,
            archive: None,
            wall_s,
            lowest_agents: Vec::new(),
        }
    }

    pub fn with_scores(mut self, scored: &crate::scoring::ScoreSummary) -> Self {
        let t = &scored.report.totals;
        self.archive = Some(ArchiveFigures {
            calls: t.calls,
            scored: t.scored,
            passed: t.passed,
            did_not_pass: t.did_not_pass(),
            unprocessed: t.unprocessed,
            audio_hours: t.audio_h,
            hits: scored.hits,
        });
        self.lowest_agents = scored
            .report
            .lowest_agents()
            .into_iter()
            .filter_map(|a| {
                Some(AgentFigure {
                    agent_id: a.agent_id.clone(),
                    calls: a.calls,
                    mean_score: a.mean_score?,
                })
            })
            .take(LOWEST_AGENTS)
            .collect();
        self
    }
}

impl std::fmt::Display for BatchSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shard = self
            .shard
            .as_deref()
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default();
        if let Some(r) = &self.run {
            writeln!(
                f,
                "callqa run{shard}: {} calls: {} transcribed, {} reused, {} failed; {:.2} h of audio in {:.1} s ({:.1}× real time, {:.0} calls/h)",
                r.calls, r.transcribed, r.reused, r.failed, r.audio_hours, self.wall_s, r.times_real_time, r.calls_per_hour
            )?;
        }
        if let Some(a) = &self.archive {
            writeln!(
                f,
                "{}: {} calls ({:.2} h): {} scored, {} passed, {} did not pass, {} could not be processed; {} phrase hits",
                self.out, a.calls, a.audio_hours, a.scored, a.passed, a.did_not_pass, a.unprocessed, a.hits
            )?;
            if self.run.is_none() {
                writeln!(f, "scored in {:.1} s", self.wall_s)?;
            }
        } else {
            writeln!(
                f,
                "shard worker: transcripts and failures are in {}; `callqa score --out {}` builds the tables once every shard is done",
                self.out, self.out
            )?;
        }
        if !self.lowest_agents.is_empty() {
            let agents: Vec<String> = self
                .lowest_agents
                .iter()
                .map(|a| format!("{} {:.1} ({} calls)", a.agent_id, a.mean_score, a.calls))
                .collect();
            writeln!(f, "lowest mean scores: {}", agents.join(", "))?;
        }
        if self.archive.is_some() {
            writeln!(
                f,
                "tables: calls.parquet, hits.parquet, scorecards.parquet; report: report.md, report.html (in {})",
                self.out
            )?;
        }
        Ok(())
    }
}

/// The pack given on the command line, or the built-in one.
pub(crate) fn load_lexicons(dir: Option<&Path>) -> anyhow::Result<Pack> {
    let pack = match dir {
        None => builtin_pack(),
        Some(dir) => {
            load_pack(dir).with_context(|| "a broken pack never scores calls: run `callqa lexicon check` on it")?
        }
    };
    if pack.group_readable {
        crate::store::share_with_group(true);
    }
    Ok(pack)
}

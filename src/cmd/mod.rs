//! One file per subcommand. Each returns an [`Outcome`] that `main` maps to the exit status.

pub(crate) mod examples;
pub(crate) mod lexicon;
pub(crate) mod model;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod run;
pub(crate) mod score;
pub(crate) mod search;

use std::path::Path;

use anyhow::Context;

use crate::budget::ThreadBudget;
use crate::cli::{Command, LexiconCommand, ModelCommand, ReviewCommand};
use crate::i18n::{Lang, Messages};
use crate::msg;
use crate::pack::{builtin_pack, load_pack, Pack, Titles};

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
    /// Everything went well (exit 0).
    Success,
    /// The batch finished, but some items failed (each was reported).
    SomeFailed,
}

impl Outcome {
    /// The process's exit status: 0 all went well, 1 some items failed.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::SomeFailed => 1,
        }
    }
}

/// Runs `command`; `lang` is the reader's language asked for on the command
/// line (`--lang`), else the pack's (or the output folder's) decides.
/// `budget` is the threads it may compute on (rayon's global pool is that size).
pub fn dispatch(command: Command, lang: Option<Lang>, budget: &ThreadBudget) -> anyhow::Result<Outcome> {
    match command {
        Command::Run(args) => run::run(args, lang, budget),
        Command::Score(args) => score::run(args, lang),
        Command::Report(args) => report::run(args, lang),
        Command::Examples(args) => examples::run(args, lang),
        Command::Search(args) => search::run(args, lang),
        Command::Review(ReviewCommand::Import(args)) => review::import(args, lang),
        Command::Review(ReviewCommand::Sample(args)) => review::sample(args, lang),
        Command::Lexicon(LexiconCommand::Check { dir }) => lexicon::check(dir.as_deref()),
        Command::Lexicon(LexiconCommand::Prompts { out, to }) => lexicon::prompts(&out, to.as_deref()),
        Command::Lexicon(LexiconCommand::Test { out, lexicons, json }) => {
            lexicon::test(&out, lexicons.lexicons.as_deref(), json, lang)
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
    /// The reader's language.
    pub messages: &'static Messages,
}

impl Console {
    pub fn new(args: &crate::cli::OutputArgs, lang: Lang) -> Self {
        Self {
            quiet: args.quiet,
            json: args.json,
            messages: Messages::of(lang),
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
            eprint!("{}", summary.render(self.messages));
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
    /// `run` or `score`.
    pub command: &'static str,
    /// The output folder.
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
    /// Seconds the command took.
    pub wall_s: f64,
    /// The agents with the lowest mean score over the folder, lowest first.
    pub lowest_agents: Vec<AgentFigure>,
}

/// What a `run` did with the calls it was given.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunFigures {
    /// Calls in the input (this shard's, for a worker).
    pub calls: usize,
    /// Calls whisper heard this run.
    pub transcribed: usize,
    /// Calls whose transcript of the same audio, model and settings was kept.
    pub reused: usize,
    /// Calls that failed (each in failures.json, with its reason).
    pub failed: usize,
    /// Audio of the calls transcribed or reused, in hours.
    pub audio_hours: f64,
    /// Audio transcribed per second of wall time.
    pub times_real_time: f64,
    /// Calls transcribed or reused per hour of wall time.
    pub calls_per_hour: f64,
}

/// The output folder's calls as scored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArchiveFigures {
    /// Every call the folder knows: scored or unprocessed.
    pub calls: usize,
    /// Calls with a verdict.
    pub scored: usize,
    /// Scored calls that passed.
    pub passed: usize,
    /// Scored calls that did not pass.
    pub did_not_pass: usize,
    /// Calls that could not be processed.
    pub unprocessed: usize,
    /// Hours of audio scored.
    pub audio_hours: f64,
    /// Rows of hits.parquet.
    pub hits: usize,
}

/// One agent's figure in the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AgentFigure {
    /// The agent.
    pub agent_id: String,
    /// Their scored calls.
    pub calls: u32,
    /// Their calls' mean score.
    pub mean_score: f64,
}

/// How many agents the summary names.
const LOWEST_AGENTS: usize = 5;

impl BatchSummary {
    /// A summary of `command` on `out` with nothing scored yet.
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

    /// The summary with the folder's figures and its lowest agents.
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

impl BatchSummary {
    /// The summary as a person reads it, in `m`'s language.
    pub fn render(&self, m: &Messages) -> String {
        let mut out = String::new();
        let line = |out: &mut String, text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        if let Some(r) = &self.run {
            let shard = self
                .shard
                .as_deref()
                .map(|s| msg!(m, "batch-shard", shard = s))
                .unwrap_or_default();
            line(
                &mut out,
                msg!(
                    m,
                    "batch-run",
                    shard = shard,
                    calls = r.calls,
                    transcribed = r.transcribed,
                    reused = r.reused,
                    failed = r.failed,
                    audio = m.hours(r.audio_hours),
                    wall = m.seconds(self.wall_s),
                    speed = format!("{:.1}", r.times_real_time),
                    per_hour = format!("{:.0}", r.calls_per_hour)
                ),
            );
        }
        if let Some(a) = &self.archive {
            line(
                &mut out,
                msg!(
                    m,
                    "batch-archive",
                    out = self.out.as_str(),
                    calls = a.calls,
                    audio = m.hours(a.audio_hours),
                    scored = a.scored,
                    passed = a.passed,
                    failed = a.did_not_pass,
                    unprocessed = a.unprocessed,
                    hits = a.hits
                ),
            );
            if self.run.is_none() {
                line(&mut out, msg!(m, "batch-scored-in", wall = m.seconds(self.wall_s)));
            }
        } else {
            line(&mut out, msg!(m, "batch-shard-worker", out = self.out.as_str()));
        }
        if !self.lowest_agents.is_empty() {
            let agents: Vec<String> = self
                .lowest_agents
                .iter()
                .map(|a| {
                    msg!(
                        m,
                        "summary-agent",
                        agent = a.agent_id.as_str(),
                        mean = format!("{:.1}", a.mean_score),
                        calls = a.calls
                    )
                })
                .collect();
            line(&mut out, msg!(m, "batch-lowest", agents = m.list(&agents)));
        }
        if self.archive.is_some() {
            line(&mut out, msg!(m, "batch-outputs", out = self.out.as_str()));
        }
        out
    }
}

/// What a reader of an output folder reads in: the language asked for, else
/// the one its report was written in, and the pack's names for rules and
/// categories as its report keeps them (the built-in pack's when it has none).
pub(crate) fn readers_words(out: &crate::store::OutDir, lang: Option<Lang>) -> (&'static Messages, Titles) {
    #[derive(serde::Deserialize)]
    struct TitlesOnly {
        #[serde(default)]
        titles: Option<Titles>,
    }
    let titles = std::fs::read(out.report_data())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<TitlesOnly>(&bytes).ok())
        .and_then(|r| r.titles)
        .unwrap_or_else(|| builtin_pack().titles);
    (Messages::of(lang.unwrap_or(titles.language)), titles)
}

/// The pack given on the command line, or the built-in one; `lang`, when
/// given, is the language people read instead of the pack's.
/// The pack, with redaction off when `--show-pii` asked for it: the one place
/// the flag is honoured, so every command leaves customers' data in alike.
pub(crate) fn load_lexicons_showing(dir: Option<&Path>, lang: Option<Lang>, show_pii: bool) -> anyhow::Result<Pack> {
    let mut pack = load_lexicons(dir, lang)?;
    if show_pii {
        pack.privacy.redact = false;
    }
    Ok(pack)
}

pub(crate) fn load_lexicons(dir: Option<&Path>, lang: Option<Lang>) -> anyhow::Result<Pack> {
    let mut pack = match dir {
        None => builtin_pack(),
        Some(dir) => {
            load_pack(dir).with_context(|| "a broken pack never scores calls: run `callqa lexicon check` on it")?
        }
    };
    if pack.group_readable {
        crate::files::share_with_group(true);
    }
    if let Some(lang) = lang {
        pack.language = lang;
    }
    Ok(pack)
}

//! One file per subcommand. Each returns an [`Outcome`] that `main` maps to the exit status.

pub mod examples;
pub mod lexicon;
pub mod model;
pub mod report;
pub mod run;
pub mod score;

use std::path::Path;

use anyhow::Context;

use crate::cli::{Command, LexiconCommand, ModelCommand};
use crate::lexicon::{builtin_pack, load_pack, Pack};

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
        Command::Lexicon(LexiconCommand::Check { dir }) => lexicon::check(dir.as_deref()),
        Command::Model(ModelCommand::Import { source, out, quantize }) => {
            model::import(&source, &out, quantize).map(|()| Outcome::Success)
        }
    }
}

/// The pack given on the command line, or the built-in one.
pub(crate) fn load_lexicons(dir: Option<&Path>) -> anyhow::Result<Pack> {
    match dir {
        None => Ok(builtin_pack()),
        Some(dir) => {
            load_pack(dir).with_context(|| "a broken pack never scores calls: run `callqa lexicon check` on it")
        }
    }
}

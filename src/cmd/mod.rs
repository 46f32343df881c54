//! One file per subcommand. Each returns an [`Outcome`] that `main` maps to the exit status.

pub mod model;

use crate::cli::{Command, ModelCommand};

/// How a command ended, for the exit-status contract (0 / 1; errors are 2).
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
        Command::Model(ModelCommand::Import { ct2_dir, out }) => {
            model::import(&ct2_dir, &out).map(|()| Outcome::Success)
        }
        _ => anyhow::bail!("not built yet"),
    }
}

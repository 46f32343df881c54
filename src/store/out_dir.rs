//! The layout of an output folder, in one place: every path callqa reads or
//! writes under `--out` comes from here.

use std::path::{Path, PathBuf};

use crate::transcript::Transcript;

/// An output folder: transcripts, the three tables, the report, the open failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutDir {
    root: PathBuf,
}

impl OutDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// One transcript per call, reused by later runs.
    pub fn transcripts_dir(&self) -> PathBuf {
        self.root.join("transcripts")
    }

    /// Where a call's transcript lives (see [`Transcript::file_name`]).
    pub fn transcript(&self, call_id: &str) -> PathBuf {
        self.transcripts_dir().join(Transcript::file_name(call_id))
    }

    pub fn calls_table(&self) -> PathBuf {
        self.root.join("calls.parquet")
    }

    pub fn hits_table(&self) -> PathBuf {
        self.root.join("hits.parquet")
    }

    pub fn scorecards_table(&self) -> PathBuf {
        self.root.join("scorecards.parquet")
    }

    pub fn scorecards_json(&self) -> PathBuf {
        self.root.join("scorecards.json")
    }

    pub fn report(&self) -> PathBuf {
        self.root.join("report.md")
    }

    /// The calls whose latest attempt failed, over all runs into this folder.
    pub fn failures(&self) -> PathBuf {
        self.root.join("failures.json")
    }
}

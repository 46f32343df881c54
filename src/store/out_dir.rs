//! The layout of an output folder, in one place: every path callqa reads or
//! writes under `--out` comes from here.
//!
//! ```text
//! transcripts/YYYY-MM-DD/<call>.json   one per call, by the call's day (undated/ without one)
//! failures/<call>.json                 one per call whose latest attempt failed
//! calls.parquet hits.parquet scorecards.parquet scorecards.json report.md failures.json
//! search-index/                        what anyone said, for `callqa search` (kept by `score`)
//! .callqa.lock                         who holds the folder (run, score, shard workers)
//! ```
//!
//! Folders of earlier versions kept every transcript directly in
//! `transcripts/` and the open failures only in `failures.json`: both are still
//! read (see `store::archive`).

use std::path::{Path, PathBuf};

use crate::transcript::Transcript;

/// An output folder: transcripts, the three tables, the report, the open failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutDir {
    root: PathBuf,
}

/// The transcript folder of calls whose day is not known.
pub const UNDATED: &str = "undated";

impl OutDir {
    /// The output folder at `root` (nothing is made until written to).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The transcript archive: one sub-folder per call date.
    pub fn transcripts_dir(&self) -> PathBuf {
        self.root.join("transcripts")
    }

    /// Where a call's transcript lives: under its day, so that no folder holds
    /// more than a day's calls (see [`Transcript::file_name`] for the name).
    pub fn transcript(&self, call_id: &str, started_at: Option<&str>) -> PathBuf {
        self.transcripts_dir()
            .join(day_folder(started_at))
            .join(Transcript::file_name(call_id))
    }

    /// The day folders of the transcript archive (none when it is new).
    pub fn day_folders(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut folders = Vec::new();
        match std::fs::read_dir(self.transcripts_dir()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
            Ok(entries) => {
                for entry in entries {
                    let entry = entry?;
                    if entry.file_type()?.is_dir() && !entry.file_name().as_encoded_bytes().starts_with(b".") {
                        folders.push(entry.path());
                    }
                }
            }
        }
        folders.sort();
        Ok(folders)
    }

    /// Where earlier versions kept a call's transcript (no day folder).
    pub fn flat_transcript(&self, call_id: &str) -> PathBuf {
        self.transcripts_dir().join(Transcript::file_name(call_id))
    }

    /// One file per call (or unusable input entry) whose latest attempt failed.
    pub fn failures_dir(&self) -> PathBuf {
        self.root.join("failures")
    }

    /// The failure file of a call (or of an input entry, by its location).
    pub fn failure(&self, key: &str) -> PathBuf {
        self.failures_dir().join(Transcript::file_name(key))
    }

    /// calls.parquet: one row per call.
    pub fn calls_table(&self) -> PathBuf {
        self.root.join("calls.parquet")
    }

    /// The input problems of the latest reading of the input, one list per
    /// shard (`failures/input/`).
    pub fn input_problems_dir(&self) -> PathBuf {
        self.failures_dir().join("input")
    }

    /// hits.parquet: one row per phrase found.
    pub fn hits_table(&self) -> PathBuf {
        self.root.join("hits.parquet")
    }

    /// scorecards.parquet: one row per agent and day.
    pub fn scorecards_table(&self) -> PathBuf {
        self.root.join("scorecards.parquet")
    }

    /// The scorecards as JSON, for scripts without Parquet.
    pub fn scorecards_json(&self) -> PathBuf {
        self.root.join("scorecards.json")
    }

    /// report.md, the report to read.
    pub fn report(&self) -> PathBuf {
        self.root.join("report.md")
    }

    /// The report as one page for a browser.
    pub fn report_html(&self) -> PathBuf {
        self.root.join("report.html")
    }

    /// The report's data, from which its pages are drawn again (`callqa report --html`).
    pub fn report_data(&self) -> PathBuf {
        self.root.join("report.json")
    }

    /// The open failures over all runs into this folder, as one list for people
    /// and scripts (written with the tables; `failures/` is the truth).
    pub fn failures(&self) -> PathBuf {
        self.root.join("failures.json")
    }

    /// QA staff's reviews (`callqa review import`), read by `score`.
    pub fn reviews_table(&self) -> PathBuf {
        self.root.join("reviews.parquet")
    }

    /// The center's recorded prompts learned from its calls (`prompts/`: one
    /// file per writer, so shard workers never overwrite each other's).
    pub fn prompts_dir(&self) -> PathBuf {
        self.root.join("prompts")
    }

    /// The agents' voices enrolled from their stereo calls (`voiceprints/`:
    /// one file per writer, as `prompts/`).
    pub fn voiceprints_dir(&self) -> PathBuf {
        self.root.join("voiceprints")
    }

    /// Each agent's enrolled voice print, as a table (`voiceprints.parquet`).
    pub fn voiceprints_table(&self) -> PathBuf {
        self.root.join("voiceprints.parquet")
    }

    /// The search index over the transcripts (`search`), kept by `score`.
    pub fn search_index(&self) -> PathBuf {
        self.root.join("search-index")
    }

    /// The file `run`, `score` and shard workers lock (see `files::lock_folder`).
    pub fn lock_file(&self) -> PathBuf {
        self.root.join(crate::files::LOCK_FILE)
    }
}

/// `YYYY-MM-DD` of a normalised `started_at`, or [`UNDATED`].
fn day_folder(started_at: Option<&str>) -> &str {
    started_at.and_then(crate::input::call_day).unwrap_or(UNDATED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_go_under_their_day() {
        let out = OutDir::new("/o");
        assert_eq!(
            out.transcript("c1", Some("2026-11-20T09:12:05")),
            PathBuf::from("/o/transcripts/2026-11-20/c1.json")
        );
        assert_eq!(
            out.transcript("c1", None),
            PathBuf::from("/o/transcripts/undated/c1.json")
        );
        // never a path built from something that is not a date
        assert_eq!(
            out.transcript("c1", Some("../../etc/x")),
            PathBuf::from("/o/transcripts/undated/c1.json")
        );
        assert_eq!(out.flat_transcript("c1"), PathBuf::from("/o/transcripts/c1.json"));
    }
}

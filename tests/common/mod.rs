//! Shared helpers for the integration tests: the binary, scratch folders, the
//! real model, and reading back the tables.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use assert_cmd::Command;
use polars::prelude::*;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn samples() -> PathBuf {
    repo().join("data-samples")
}

pub fn callqa() -> Command {
    let mut cmd = Command::cargo_bin("callqa").expect("the callqa binary is built");
    cmd.env_remove("CALLQA_MODEL").env_remove("CALLQA_LEXICONS");
    cmd
}

/// The default model. The suite's command (scripts/test.sh) installs it first.
pub fn model() -> PathBuf {
    let path = repo().join("models/ggml-base.bin");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Whisper runs use every core; two at once would only slow each other down.
pub fn whisper_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("callqa-test-")
        .tempdir()
        .expect("scratch folder")
}

pub fn read_parquet(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file)
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn column_names(df: &DataFrame) -> Vec<String> {
    df.columns().iter().map(|c| c.name().to_string()).collect()
}

pub fn strings(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    let ca = df.column(column).unwrap().str().unwrap().clone();
    (0..ca.len()).map(|i| ca.get(i).map(str::to_string)).collect()
}

/// Row index of a call in calls.parquet.
pub fn row_of(df: &DataFrame, call_id: &str) -> usize {
    strings(df, "call_id")
        .iter()
        .position(|c| c.as_deref() == Some(call_id))
        .unwrap_or_else(|| panic!("no row for {call_id}"))
}

pub fn transcript(out: &Path, call_id: &str) -> callqa::transcript::Transcript {
    callqa::transcript::Transcript::read(&out.join("transcripts").join(format!("{call_id}.json"))).unwrap()
}

//! Shared helpers for the integration tests: the binary, scratch folders, the
//! real model, and reading back the tables.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use assert_cmd::Command;
use callqa::transcript::{AgentChannel, Fingerprint, Segment, Speaker, Transcript};
use polars::prelude::*;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn samples() -> PathBuf {
    repo().join("data-samples")
}

/// The binary, speaking English: most tests read its words, and were written
/// in English. `language.rs` tests the Chinese default (with [`callqa_as_shipped`]).
pub fn callqa() -> Command {
    let mut cmd = callqa_as_shipped();
    cmd.env("CALLQA_LANG", "en");
    cmd
}

/// The binary as a user runs it: in the pack's language (Chinese by default).
pub fn callqa_as_shipped() -> Command {
    let mut cmd = Command::cargo_bin("callqa").expect("the callqa binary is built");
    cmd.env_remove("CALLQA_MODEL")
        .env_remove("CALLQA_LEXICONS")
        .env_remove("CALLQA_LANG");
    cmd
}

/// `callqa run` on the sample calls into `out` with the default model, one
/// worker, plain log lines; a process to spawn or wait for, output captured.
pub fn run_samples(out: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("callqa"));
    cmd.arg("run")
        .arg(samples())
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(model())
        .args(["--jobs", "1", "--no-progress"])
        .env("CALLQA_LANG", "en")
        .env_remove("CALLQA_MODEL")
        .env_remove("CALLQA_LEXICONS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// `callqa run` on a sample set's manifest into `out` with the default model,
/// as a user runs it; the run must finish with every call done (exit 0).
/// What it printed on stderr.
pub fn run_set(set: &Path, out: &Path) -> String {
    let output = callqa()
        .arg("run")
        .arg(set.join("manifest.csv"))
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(model())
        .arg("--no-progress")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    stderr_of(&output)
}

/// Runs a command that must succeed: what it printed on stdout.
pub fn stdout_ok(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// What a finished command printed on stderr.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The default model. The suite's command (scripts/test.sh) installs it first.
pub fn model() -> PathBuf {
    installed_model("ggml-base-q8_0.bin")
}

/// A model that scripts/setup.sh installs into models/.
pub fn installed_model(name: &str) -> PathBuf {
    let path = repo().join("models").join(name);
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

/// A call's transcript, wherever the archive keeps it.
pub fn transcript(out: &Path, call_id: &str) -> callqa::transcript::Transcript {
    let name = callqa::transcript::Transcript::file_name(call_id);
    let path = callqa::store::list_transcripts(&callqa::store::OutDir::new(out))
        .unwrap()
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == name))
        .unwrap_or_else(|| panic!("no transcript of {call_id} in {}", out.display()));
    callqa::transcript::Transcript::read(&path).unwrap()
}

fn segment(speaker: Speaker, start: f64, end: f64, text: &str) -> Segment {
    Segment {
        confidence: 0.9,
        ..Segment::new(speaker, start, end, text)
    }
}

/// A hand-made transcript of a stereo call (agent left) recorded in
/// data-samples/call-002.wav, for tests that score without transcribing.
pub fn stereo_transcript(
    call_id: &str,
    agent_id: &str,
    started_at: &str,
    duration_s: f64,
    segments: Vec<Segment>,
) -> Transcript {
    Transcript {
        call_id: call_id.into(),
        agent_id: agent_id.into(),
        audio_path: samples().join("call-002.wav"),
        started_at: Some(started_at.into()),
        duration_s,
        agent_channel: AgentChannel::Left,
        channels: 2,
        segments,
        extra: Default::default(),
        fingerprint: Fingerprint::default(),
        voice_prints: None,
        sounds: Vec::new(),
        prompts_checked: None,
        wordless_voice: Vec::new(),
        enrolled_voice: None,
    }
}

/// Saves `transcript` where the output folder `out` keeps it.
pub fn save_transcript(out: &Path, transcript: &Transcript) {
    transcript
        .write(&callqa::store::OutDir::new(out).transcript(&transcript.call_id, transcript.started_at.as_deref()))
        .unwrap();
}

/// Writes two hand-made transcripts (a good call and a rude one, traditional
/// characters included) plus one corrupt file into `out/transcripts`.
pub fn write_transcripts(out: &std::path::Path) {
    use Speaker::{Agent as A, Customer as C};
    let calls = [
        (
            "good",
            "A1",
            vec![
                segment(A, 0.9, 3.0, "您好，很高興為您服務，"),
                segment(A, 3.0, 4.5, "請問有什麼可以幫您？"),
                segment(C, 5.0, 7.0, "我不知道燃气费怎么交。"),
                segment(A, 7.5, 9.0, "请您收等，我帮您查一下。"),
                segment(A, 17.0, 19.0, "让您久等了，可以在营业厅交。"),
                segment(A, 19.5, 21.0, "感谢您的来电，再见。"),
            ],
        ),
        (
            "rude",
            "A2",
            vec![
                segment(A, 0.5, 1.5, "喂？"),
                segment(A, 3.0, 5.0, "我不大清楚，你选吧，我也不懂。"),
                segment(A, 5.5, 6.5, "我现在很忙。"),
            ],
        ),
    ];
    std::fs::create_dir_all(out.join("transcripts")).unwrap();
    for (call_id, agent, segments) in calls {
        let mut t = stereo_transcript(call_id, agent, "2026-11-20T10:00:00", 24.2, segments);
        t.extra = [("queue".to_string(), "billing".to_string())].into();
        save_transcript(out, &t);
    }
    std::fs::write(out.join("transcripts/broken.json"), b"{ \"call_id\": ").unwrap();
}

/// A copy of the default pack (`lexicons/`) in `to`, to change.
pub fn copy_pack(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(repo().join("lexicons")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

/// The tables sorted by their key columns (shards and a single run may list
/// the same rows in another order; the rows themselves must be equal).
pub fn sorted_table(path: &Path, by: &[&str]) -> DataFrame {
    read_parquet(path)
        .sort(by.iter().map(|s| s.to_string()).collect::<Vec<_>>(), Default::default())
        .unwrap()
}

/// Two output folders hold the same three tables, row for row.
pub fn assert_same_tables(a: &Path, b: &Path) {
    for (table, key) in [
        ("calls.parquet", &["call_id"][..]),
        ("hits.parquet", &["call_id", "start_s", "phrase_id", "speaker"]),
        ("scorecards.parquet", &["agent_id", "call_date"]),
    ] {
        let (x, y) = (sorted_table(&a.join(table), key), sorted_table(&b.join(table), key));
        assert!(x.equals_missing(&y), "{table} differs:\n{x}\n{y}");
    }
}

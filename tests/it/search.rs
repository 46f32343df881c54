//! A night run by the real model, then used the way trainers and managers
//! use it afterwards: from other folders, on a machine that sees the
//! recordings elsewhere.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::*;

/// The night, run once for every test here (in a folder under the build's
/// scratch space, made afresh by each run of the tests).
fn night() -> &'static Path {
    static NIGHT: OnceLock<PathBuf> = OnceLock::new();
    NIGHT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test_search-night");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        run_night(&dir);
        dir
    })
}

/// `callqa run rec --out out` from `dir`, with a relative input folder:
/// call-001 (a good call) and call-002 (a rude agent, a customer who says
/// 我要投诉你), named as folder mode reads them.
fn run_night(dir: &Path) {
    let rec = dir.join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    std::fs::copy(samples().join("call-001.wav"), rec.join("A001_20261120_091205.wav")).unwrap();
    std::fs::copy(samples().join("call-002.wav"), rec.join("A002_20261120_100340.wav")).unwrap();
    let _whisper = whisper_lock();
    let output = callqa()
        .current_dir(dir)
        .args(["run", "rec", "--out", "out", "--jobs", "1", "--no-progress", "--model"])
        .arg(model())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

/// The night's two calls: the rude one's customer says 我要投诉你 and 你这是什么态度.
#[test]
fn the_customer_who_threatens_to_complain_flags_the_call_for_managers() {
    let out = night().join("out");
    let calls = read_parquet(&out.join("calls.parquet"));
    let at_risk = calls.column("at_risk").unwrap().bool().unwrap();
    let phrases = calls.column("risk_phrases").unwrap().i32().unwrap();
    let (good, rude) = (
        row_of(&calls, "A001_20261120_091205"),
        row_of(&calls, "A002_20261120_100340"),
    );
    assert_eq!(at_risk.get(good), Some(false));
    assert_eq!(at_risk.get(rude), Some(true));
    assert!(phrases.get(rude).unwrap() >= 1);
    let first = calls
        .column("risk_first_phrase_s")
        .unwrap()
        .f64()
        .unwrap()
        .get(rude)
        .unwrap();
    assert!((15.0..19.0).contains(&first), "said at 15.5–18.2 s: {first}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let section = report
        .split("## Calls at risk")
        .nth(1)
        .expect("the report lists calls at risk");
    assert!(
        section.contains("A002_20261120_100340") && section.contains("投诉"),
        "{section}"
    );
    assert!(!section.contains("A001_"), "{section}");
    let cards = read_parquet(&out.join("scorecards.parquet"));
    let per_100 = cards.column("at_risk_per_100").unwrap().f64().unwrap();
    let agents = strings(&cards, "agent_id");
    for (i, agent) in agents.iter().enumerate() {
        let expected = if agent.as_deref() == Some("A002") { 100.0 } else { 0.0 };
        assert_eq!(per_100.get(i), Some(expected), "{agent:?}");
    }
    // the customer's words are the manager's pointer, not the agent's fault
    let hits = read_parquet(&out.join("hits.parquet"));
    let categories = strings(&hits, "category");
    let not_counted = strings(&hits, "not_counted");
    let risk_rows: Vec<usize> = (0..hits.height())
        .filter(|&i| categories[i].as_deref() == Some("risk"))
        .collect();
    assert!(!risk_rows.is_empty());
    assert!(risk_rows
        .iter()
        .all(|&i| not_counted[i].as_deref() == Some("risk_signal")));
}

#[test]
fn clips_are_cut_from_any_folder_and_from_recordings_mounted_elsewhere() {
    let night = night();
    let elsewhere = workdir();
    let examples = |out: &Path, extra: &[&str]| {
        callqa()
            .current_dir(elsewhere.path())
            .args(["examples", "--agent", "A002", "--out"])
            .arg(out)
            .arg("--clips")
            .arg(elsewhere.path().join("clips"))
            .args(extra)
            .output()
            .unwrap()
    };
    let clips = |output: &std::process::Output| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .count()
            .saturating_sub(1)
    };
    // `run` was given a relative folder; the clips are cut from another one
    let from_elsewhere = examples(&night.join("out"), &[]);
    assert_eq!(from_elsewhere.status.code(), Some(0), "{}", stderr_of(&from_elsewhere));
    assert!(
        clips(&from_elsewhere) >= 2,
        "the rude agent's lines: {}",
        String::from_utf8_lossy(&from_elsewhere.stdout)
    );

    // an archive whose pods saw the recordings under /pods/recordings: not here
    let dir = workdir();
    copy_folder(night, dir.path());
    let out = dir.path().join("out");
    for call_id in ["A001_20261120_091205", "A002_20261120_100340"] {
        let mut t = transcript(&out, call_id);
        t.audio_path = Path::new("/pods/recordings/2026-11-20").join(t.audio_path.file_name().unwrap());
        save_transcript(&out, &t);
    }
    callqa().args(["score", "--out"]).arg(&out).assert().success();
    let lost = examples(&out, &[]);
    assert_eq!(lost.status.code(), Some(1));
    let said = stderr_of(&lost);
    assert!(
        said.contains("/pods/recordings/2026-11-20/A002_20261120_100340.wav: no such audio file")
            && said.contains("--audio-root /pods/recordings/2026-11-20=FOLDER"),
        "the clip names the file and the option: {said}"
    );
    let here = night.join("rec");
    let wrong = examples(&out, &["--audio-root", "/pods/recordings=/nowhere"]);
    assert!(
        stderr_of(&wrong).contains(
            "/nowhere/2026-11-20/A002_20261120_100340.wav: no such audio file on this machine (recorded as /pods/"
        ),
        "{}",
        stderr_of(&wrong)
    );
    let mapped = examples(
        &out,
        &[
            "--audio-root",
            &format!("/pods/recordings/2026-11-20={}", here.display()),
        ],
    );
    assert_eq!(mapped.status.code(), Some(0), "{}", stderr_of(&mapped));
    assert_eq!(clips(&mapped), clips(&from_elsewhere));
}

/// `callqa search` over the night: the customer's 投诉 in CSV with its time,
/// found by sound too, and cut as a clip from another folder.
#[test]
fn search_finds_what_the_customer_said_with_times_and_clips() {
    let out = night().join("out");
    let elsewhere = workdir();
    let search = |args: &[&str]| {
        stdout_ok(
            callqa()
                .current_dir(elsewhere.path())
                .args(["search", "--out"])
                .arg(&out)
                .args(args),
        )
    };
    let rows = |csv: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let found = rows(&search(&["--speaker", "customer", "--format", "csv", "投诉"]));
    assert_eq!(found.len(), 1, "{found:?}");
    let row = &found[0];
    assert_eq!(
        (row[0].as_str(), row[1].as_str(), row[2].as_str()),
        ("A002_20261120_100340", "A002", "2026-11-20")
    );
    assert_eq!(row[4], "customer");
    let start: f64 = row[5].parse().unwrap();
    assert!((15.0..19.0).contains(&start), "said at 15.5–18.2 s: {row:?}");
    assert!(row[8].contains("投诉"), "{row:?}");
    // the agent said no 投诉; 投诉 OR 什么态度 is the customer's two lines
    assert!(rows(&search(&["--speaker", "agent", "--format", "csv", "投诉"])).is_empty());
    // by sound: 头诉 (what a bad line might have written) finds the same line
    let by_sound = rows(&search(&[
        "--speaker",
        "customer",
        "--match",
        "tolerant",
        "--format",
        "csv",
        "头诉",
    ]));
    assert_eq!(by_sound.len(), 1);
    assert_eq!(by_sound[0][5], row[5]);
    assert!(
        rows(&search(&["--format", "csv", "头诉"])).is_empty(),
        "not by characters"
    );

    let clips = elsewhere.path().join("clips");
    let table = search(&["--clips", clips.to_str().unwrap(), "投诉 NEAR/5 态度"]);
    assert!(
        table.contains("A002_20261120_100340") && table.contains("0:1"),
        "{table}"
    );
    let page = std::fs::read_to_string(clips.join("index.html")).unwrap();
    assert!(page.matches("<audio").count() >= 1, "a player per clause");
    let wavs = std::fs::read_dir(&clips)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "wav"))
        .count();
    assert_eq!(wavs, page.matches("<audio").count());
}

fn copy_folder(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

//! A night run by the real model, then used the way trainers and managers
//! use it afterwards: from other folders, on a machine that sees the
//! recordings elsewhere.

mod common;

use std::path::Path;

use common::*;

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

#[test]
fn clips_are_cut_from_any_folder_and_from_moved_recordings() {
    let dir = workdir();
    run_night(dir.path());
    let out = dir.path().join("out");
    let elsewhere = workdir();
    let examples = |extra: &[&str]| {
        callqa()
            .current_dir(elsewhere.path())
            .args(["examples", "--agent", "A002", "--out"])
            .arg(&out)
            .arg("--clips")
            .arg(elsewhere.path().join("clips"))
            .args(extra)
            .output()
            .unwrap()
    };
    let from_elsewhere = examples(&[]);
    assert_eq!(from_elsewhere.status.code(), Some(0), "{}", stderr_of(&from_elsewhere));
    let clips = |output: &std::process::Output| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .count()
            .saturating_sub(1)
    };
    assert!(
        clips(&from_elsewhere) >= 2,
        "the rude agent's lines: {}",
        String::from_utf8_lossy(&from_elsewhere.stdout)
    );

    // the recordings move (another machine's mount): the clip names the file and the option
    let recorded = dir.path().join("rec");
    let moved = dir.path().join("mounted-here");
    std::fs::rename(&recorded, &moved).unwrap();
    let lost = examples(&[]);
    assert_eq!(lost.status.code(), Some(1));
    let said = stderr_of(&lost);
    assert!(
        said.contains("A002_20261120_100340.wav: no such audio file")
            && said.contains(&format!("--audio-root {}=FOLDER", recorded.display())),
        "{said}"
    );
    let mapped = examples(&["--audio-root", &format!("{}={}", recorded.display(), moved.display())]);
    assert_eq!(mapped.status.code(), Some(0), "{}", stderr_of(&mapped));
    assert_eq!(clips(&mapped), clips(&from_elsewhere));
}

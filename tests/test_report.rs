//! `callqa report`: the readable report of an output folder.

mod common;

use common::*;
use predicates::str::contains;

#[test]
fn prints_the_report_and_the_scorecards_as_json() {
    let out = workdir();
    write_transcripts(out.path());
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    callqa()
        .args(["report", "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(contains("| A2 | 1 | 1 |"))
        .stdout(contains("rude"))
        .stdout(contains("我不大清楚"));
    let output = callqa()
        .args(["report", "--json", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let cards: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cards.as_array().unwrap().len(), 2);
}

#[test]
fn an_empty_folder_says_what_to_do() {
    let out = workdir();
    callqa()
        .args(["report", "--out"])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(contains("callqa run"));
}

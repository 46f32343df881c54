//! `callqa report`: the summary of an output folder, its HTML page, the scorecards as JSON.

use crate::common::*;
use predicates::str::contains;

#[test]
fn summarises_the_folder_and_writes_the_page() {
    let out = workdir();
    write_transcripts(out.path());
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    // scoring leaves the report in three forms
    let markdown = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(markdown.contains("| A2 | 1 | 1 |"), "{markdown}");
    assert!(markdown.contains("我不大清楚"), "{markdown}");
    assert!(out.path().join("report.json").is_file());
    assert!(out.path().join("report.html").is_file());

    let page = out.path().join("elsewhere/night.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    callqa()
        .args(["report", "--out"])
        .arg(out.path())
        .arg("--html")
        .arg(&page)
        .assert()
        .success()
        .stdout(contains("3 calls"))
        .stdout(contains("Lowest mean score (2 agents): A2"))
        .stdout(contains("forbidden phrase"))
        .stdout(contains("rude (agent A2"));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"agents-table\""));
    assert!(html.contains("<svg"), "charts are inline");
    for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(fetch), "nothing comes from the network: {fetch}");
    }
    assert!(
        html.contains("<mark>我不大清楚</mark>"),
        "the evidence marks what was said"
    );

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

//! `callqa examples`: the moments trainers teach from, filtered, with clips.

use crate::common::*;

fn scored() -> tempfile::TempDir {
    let out = workdir();
    write_transcripts(out.path());
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    out
}

/// `callqa examples --out OUT ARGS --format csv`, as rows of cells.
fn csv_rows(out: &std::path::Path, args: &[&str]) -> Vec<Vec<String>> {
    let printed = stdout_ok(
        callqa()
            .args(["examples", "--format", "csv", "--out"])
            .arg(out)
            .args(args),
    );
    csv::Reader::from_reader(printed.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn cuts_a_clip_per_bad_moment_with_a_page_and_an_index() {
    let out = scored();
    let clips = out.path().join("for-training");
    let table = stdout_ok(
        callqa()
            .args(["examples", "--out"])
            .arg(out.path())
            .arg("--clips")
            .arg(&clips),
    );
    // the rude call: 我不大清楚, 你选吧我也不懂 (forbidden), 我现在很忙 (nine-don't); the customer's 我不知道 is no example
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with("rude  A2"), "{table}");
    assert!(table.contains("0:03") && table.contains("「我不大清楚」"), "{table}");
    let index = std::fs::read_to_string(clips.join("index.csv")).unwrap();
    let rows: Vec<&str> = index.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{index}");
    let page = std::fs::read_to_string(clips.join("index.html")).unwrap();
    assert_eq!(page.matches("<audio").count(), 3, "a player per clip");
    for row in rows {
        let clip = row.rsplit(',').next().unwrap();
        assert!(
            clip.starts_with("00") && clip.contains("_rude_A2_0m0"),
            "a readable name: {clip}"
        );
        assert!(page.contains(clip), "{clip} is on the page");
        let reader = hound::WavReader::open(clips.join(clip)).unwrap();
        let seconds = reader.duration() as f64 / reader.spec().sample_rate as f64;
        assert_eq!(reader.spec().channels, 2);
        assert!((2.0..8.0).contains(&seconds), "{clip}: {seconds} s");
    }
}

#[test]
fn filters_pick_what_was_asked_for() {
    let out = scored();
    let phrase_of = |rows: &[Vec<String>]| rows.iter().map(|r| r[8].clone()).collect::<Vec<_>>();
    let all = csv_rows(out.path(), &[]);
    assert_eq!(all.len(), 3);
    let nine_dont = csv_rows(out.path(), &["--category", "nine_dont"]);
    assert_eq!(nine_dont.len(), 1);
    assert_eq!(nine_dont[0][10], "我现在很忙");
    let one_phrase = csv_rows(out.path(), &["--phrase", &all[0][8]]);
    assert_eq!(phrase_of(&one_phrase), [all[0][8].clone()]);
    assert!(
        csv_rows(out.path(), &["--agent", "A1"]).is_empty(),
        "the good agent has none"
    );
    assert_eq!(csv_rows(out.path(), &["--agent", "A2", "--limit", "2"]).len(), 2);
    assert_eq!(
        csv_rows(out.path(), &["--from", "2026-11-20", "--to", "2026-11-20"]).len(),
        3
    );
    assert!(csv_rows(out.path(), &["--from", "2026-11-21"]).is_empty());
    assert!(
        csv_rows(out.path(), &["--max-score", "10"]).is_empty(),
        "the rude call scores above 10"
    );
    assert_eq!(csv_rows(out.path(), &["--max-score", "80"]).len(), 3);
    let customer = csv_rows(out.path(), &["--speaker", "customer"]);
    assert_eq!(customer.len(), 1, "the customer's 我不知道: {customer:?}");
    assert_eq!(customer[0][11], "customer");
    // greetings are examples too when asked for: the good call's traditional-script greeting
    let greetings = csv_rows(out.path(), &["--category", "greeting", "--match", "exact"]);
    assert!(
        greetings.iter().all(|r| r[12] == "exact" && r[0] == "good"),
        "{greetings:?}"
    );

    let json = stdout_ok(
        callqa()
            .args(["examples", "--format", "json", "--limit", "1", "--out"])
            .arg(out.path()),
    );
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["call_id"], "rude");
    assert!((3.0..5.0).contains(&rows[0]["start_s"].as_f64().unwrap()), "{rows}");

    let bad_day = callqa()
        .args(["examples", "--from", "20-11-2026", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(bad_day.status.code(), Some(2));
    assert!(stderr_of(&bad_day).contains("YYYY-MM-DD"), "{}", stderr_of(&bad_day));
}

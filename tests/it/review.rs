//! `callqa review import`: QA staff's verdicts overrule the machine's, the
//! tables keep both, and the report measures the machine against them.

use crate::common::*;

fn floats(df: &polars::prelude::DataFrame, column: &str) -> Vec<Option<f64>> {
    let ca = df.column(column).unwrap().f64().unwrap().clone();
    (0..ca.len()).map(|i| ca.get(i)).collect()
}

fn bools(df: &polars::prelude::DataFrame, column: &str) -> Vec<Option<bool>> {
    let ca = df.column(column).unwrap().bool().unwrap().clone();
    (0..ca.len()).map(|i| ca.get(i)).collect()
}

#[test]
fn a_review_overturns_a_verdict_and_the_machine_is_measured() {
    let out = workdir();
    write_transcripts(out.path());
    std::fs::remove_file(out.path().join("transcripts/broken.json")).unwrap();
    stdout_ok(callqa().args(["score", "--quiet", "--out"]).arg(out.path()));
    let before = read_parquet(&out.path().join("calls.parquet"));
    let rude = row_of(&before, "rude");
    assert_eq!(strings(&before, "red_lines")[rude].as_deref(), Some("forbidden_phrase"));
    assert_eq!(bools(&before, "reviewed")[rude], Some(false));
    let machine_score = floats(&before, "score")[rude].unwrap();

    let sheet = out.path().join("wang.csv");
    std::fs::write(
        &sheet,
        "call_id,rule,verdict,note,reviewed_at\n\
         rude,forbidden_phrase,pass,客户先说的，坐席在复述,2026-11-21T09:00:00+08:00\n\
         rude,closing_missing,不合格,,2026-11-21T09:01:00+08:00\n\
         good,greeting_missing,pass,,2026-11-21T09:02:00+08:00\n",
    )
    .unwrap();
    let import = |sheet: &std::path::Path, by: &str| {
        callqa()
            .args(["review", "import"])
            .arg(sheet)
            .args(["--by", by, "--out"])
            .arg(out.path())
            .output()
            .unwrap()
    };
    let first = import(&sheet, "王芳");
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(
        stderr_of(&first).contains("3 verdicts read, 3 new"),
        "{}",
        stderr_of(&first)
    );

    let calls = read_parquet(&out.path().join("calls.parquet"));
    let rude = row_of(&calls, "rude");
    assert_eq!(bools(&calls, "reviewed")[rude], Some(true));
    assert_eq!(
        strings(&calls, "reviewed_rules")[rude].as_deref(),
        Some("forbidden_phrase;closing_missing")
    );
    assert_eq!(
        strings(&calls, "overturned_rules")[rude].as_deref(),
        Some("forbidden_phrase"),
        "the closing verdict was the machine's too"
    );
    assert_eq!(
        strings(&calls, "red_lines")[rude].as_deref(),
        Some(""),
        "the red line went with it"
    );
    assert_eq!(floats(&calls, "machine_score")[rude], Some(machine_score));
    assert!(floats(&calls, "score")[rude].unwrap() > machine_score);
    assert_eq!(bools(&calls, "machine_passed")[rude], Some(false));

    // the hits behind the overturned rule say why they no longer count
    let hits = read_parquet(&out.path().join("hits.parquet"));
    let (ids, categories, why) = (
        strings(&hits, "call_id"),
        strings(&hits, "category"),
        strings(&hits, "not_counted"),
    );
    let forbidden: Vec<usize> = (0..hits.height())
        .filter(|&i| ids[i].as_deref() == Some("rude") && categories[i].as_deref() == Some("forbidden"))
        .collect();
    assert!(!forbidden.is_empty());
    for i in forbidden {
        assert_eq!(why[i].as_deref(), Some("overturned_by_review"));
        assert_eq!(bools(&hits, "counted")[i], Some(false));
    }

    let cards = read_parquet(&out.path().join("scorecards.parquet"));
    let reviewed = cards.column("reviewed_calls").unwrap().i32().unwrap().clone();
    assert_eq!(reviewed.get(row_of_agent(&cards, "A2")), Some(1));

    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.contains("The machine against QA reviews (2 calls reviewed"),
        "{report}"
    );
    assert!(
        report.contains("| forbidden phrase (forbidden_phrase) | 1 | 0% | 1 | 0 | 0 |"),
        "one reviewed, one false fail: {report}"
    );
    assert!(
        report.contains("rude (agent A2), forbidden phrase: machine fail, 王芳 says pass: “客户先说的，坐席在复述”"),
        "{report}"
    );
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(page.contains("The machine against QA reviews") && page.contains("客户先说的"));
    assert!(
        page.contains("<td title=\"forbidden_phrase\">forbidden phrase</td>"),
        "rules under their names in the reader's language"
    );

    // the same sheet again changes nothing
    let again = import(&sheet, "王芳");
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert!(
        stderr_of(&again).contains("0 new, 3 already imported"),
        "{}",
        stderr_of(&again)
    );
    assert_eq!(read_parquet(&out.path().join("reviews.parquet")).height(), 3);

    // a second reviewer on the same verdict, agreeing with the machine
    let li = out.path().join("li.csv");
    std::fs::write(&li, "call_id,rule,machine,verdict\ngood,greeting_missing,pass,agree\n").unwrap();
    assert!(import(&li, "李强").status.success());
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.contains("Reviewers against each other: 100% agreed, over 1 verdicts given by two reviewers."),
        "{report}"
    );

    // what the pack does against the reviews, and a floor it falls below
    let tested = stdout_ok(callqa().args(["lexicon", "test", "--out"]).arg(out.path()));
    let forbidden = tested
        .lines()
        .find(|l| l.starts_with("forbidden phrase "))
        .expect(&tested);
    // columns are two spaces apart or more
    let cells: Vec<&str> = regex::Regex::new(r"\s{2,}").unwrap().split(forbidden.trim()).collect();
    assert_eq!(
        &cells[1..4],
        ["1", "0.00", "–"],
        "one machine fail, not upheld: {tested}"
    );
    assert!(
        !tested.contains("BELOW"),
        "one review is too few to judge a rule: {tested}"
    );
    let strict = out.path().join("strict-pack");
    copy_pack(&strict);
    let toml = std::fs::read_to_string(strict.join("pack.toml")).unwrap();
    std::fs::write(
        strict.join("pack.toml"),
        toml.replace("min_reviewed = 5", "min_reviewed = 1"),
    )
    .unwrap();
    let below = callqa()
        .args(["lexicon", "test", "--out"])
        .arg(out.path())
        .arg("--lexicons")
        .arg(&strict)
        .output()
        .unwrap();
    assert_eq!(below.status.code(), Some(1), "{}", stderr_of(&below));
    let said = String::from_utf8_lossy(&below.stdout);
    assert!(said.contains("BELOW: precision 0.00 < 0.80"), "{said}");

    // one bad line refuses the whole sheet, naming it
    let bad = out.path().join("bad.csv");
    std::fs::write(
        &bad,
        "call_id,rule,verdict\ngood,closing_missing,fail\nnobody,closing_missing,fail\n",
    )
    .unwrap();
    let refused = import(&bad, "王芳");
    assert_eq!(refused.status.code(), Some(2));
    let says = stderr_of(&refused);
    assert!(says.contains("bad.csv:3") && says.contains("\"nobody\""), "{says}");
    assert_eq!(
        read_parquet(&out.path().join("reviews.parquet")).height(),
        4,
        "nothing of it applied"
    );
}

fn row_of_agent(df: &polars::prelude::DataFrame, agent: &str) -> usize {
    strings(df, "agent_id")
        .iter()
        .position(|a| a.as_deref() == Some(agent))
        .unwrap_or_else(|| panic!("no agent {agent}"))
}

/// A reviewed verdict is whole: the columns derived from a rule and the
/// agent's rates follow the reviewers, and the later review wins by its
/// instant, whatever offset each was written in.
#[test]
fn a_reviewed_verdict_drives_every_column_and_the_latest_instant_wins() {
    let out = workdir();
    write_transcripts(out.path());
    std::fs::remove_file(out.path().join("transcripts/broken.json")).unwrap();
    stdout_ok(callqa().args(["score", "--quiet", "--out"]).arg(out.path()));
    let before = read_parquet(&out.path().join("calls.parquet"));
    let rude = row_of(&before, "rude");
    assert_eq!(bools(&before, "closing_ok")[rude], Some(false));
    assert_eq!(bools(&before, "greeting_ok")[rude], Some(false));
    let forbidden_before = before.column("forbidden_count").unwrap().i32().unwrap().get(rude);
    assert!(forbidden_before > Some(0));

    // 09:00+08:00 is 01:00Z, half an hour before 01:30Z: the pass is the later
    let sheet = out.path().join("sheet.csv");
    std::fs::write(
        &sheet,
        "call_id,rule,verdict,reviewed_at\n\
         rude,closing_missing,pass,2026-12-05T01:30:00Z\n\
         rude,closing_missing,fail,2026-12-05T09:00:00+08:00\n\
         rude,greeting_missing,pass,2026-12-05T01:31:00Z\n\
         rude,forbidden_phrase,pass,2026-12-05T01:32:00Z\n",
    )
    .unwrap();
    let imported = callqa()
        .args(["review", "import"])
        .arg(&sheet)
        .args(["--by", "王芳", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", stderr_of(&imported));

    let calls = read_parquet(&out.path().join("calls.parquet"));
    let rude = row_of(&calls, "rude");
    let failed = strings(&calls, "failed_rules")[rude].clone().unwrap_or_default();
    assert!(
        !failed.contains("closing_missing"),
        "the later review passes it: {failed}"
    );
    assert_eq!(
        bools(&calls, "closing_ok")[rude],
        Some(true),
        "closing_ok follows the review"
    );
    assert_eq!(
        bools(&calls, "greeting_ok")[rude],
        Some(true),
        "greeting_ok follows the review"
    );
    assert_eq!(
        calls.column("forbidden_count").unwrap().i32().unwrap().get(rude),
        Some(0),
        "no forbidden phrase counts once the reviewer passed the rule"
    );
    assert_eq!(
        calls.column("machine_passed").unwrap().bool().unwrap().get(rude),
        Some(false),
        "the machine's own verdict stays in its column"
    );

    let cards = read_parquet(&out.path().join("scorecards.parquet"));
    let a2 = row_of_agent(&cards, "A2");
    for rate in ["closing_rate", "greeting_rate"] {
        assert_eq!(
            floats(&cards, rate)[a2],
            Some(1.0),
            "{rate}: the scorecard counts the reviewed verdict"
        );
    }
    assert_eq!(floats(&cards, "forbidden_per_call")[a2], Some(0.0));
}

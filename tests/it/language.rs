//! What people read is in Simplified Chinese by default, in English with
//! `--lang en` or a pack that says `language = "en"`; rules and categories
//! carry the pack's own names; tables keep the stable ids.

use crate::common::*;

/// The English words that must not appear in a Chinese page or summary.
const ENGLISH: &[&str] = &[
    "did not pass",
    "Worst calls",
    "calls (",
    "agent ",
    "score ",
    "Agents",
    "could not be processed",
    "RED LINE",
    "forbidden phrase",
    "nine-don't",
];

fn assert_no_english(what: &str, text: &str) {
    for words in ENGLISH {
        assert!(!text.contains(words), "{what} holds {words:?}:\n{text}");
    }
}

/// The visible text of a page: no markup, scripts, styles or attribute values.
fn visible_text(page: &str) -> String {
    let page = regex::Regex::new(r"(?s)<script.*?</script>|<style.*?</style>")
        .unwrap()
        .replace_all(page, "");
    regex::Regex::new(r"(?s)<[^>]*>")
        .unwrap()
        .replace_all(&page, " ")
        .to_string()
}

#[test]
fn a_night_reads_in_chinese_by_default_and_in_english_on_request() {
    let dir = workdir();
    let out = dir.path().join("out");
    let run = {
        let _whisper = whisper_lock();
        callqa_as_shipped()
            .arg("run")
            .arg(samples())
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(model())
            .args(["--jobs", "1", "--no-progress"])
            .output()
            .unwrap()
    };
    let stderr = stderr_of(&run);
    assert!(run.status.success(), "{stderr}");
    // the batch's notes and summary
    assert!(stderr.contains("待处理 5 通电话"), "{stderr}");
    assert!(stderr.contains("已评分 5 通"), "{stderr}");
    assert!(stderr.contains("平均分最低"), "{stderr}");

    // report.md: Chinese, with the pack's titles and Chinese dates
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.starts_with("# callqa 质检报告"), "{md}");
    assert!(md.contains("共 5 通电话"), "{md}");
    assert!(md.contains("## 坐席"), "{md}");
    assert!(
        md.contains("禁用语（forbidden_phrase）"),
        "the pack's title, with the table's id: {md}"
    );
    assert!(md.contains("九不准"), "{md}");
    assert!(md.contains("——红线：禁用语"), "{md}");
    assert!(md.contains("年11月2"), "dates the Chinese way: {md}");
    assert_no_english("report.md", &md.replace("callqa", ""));

    // report.html: the page's language, titles, headings
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    let text = visible_text(&html);
    for words in ["各坐席最差的通话", "开场白缺失", "平均分", "不合格", "有投诉风险的通话"] {
        assert!(text.contains(words), "report.html lacks {words:?}");
    }
    assert_no_english("report.html", &text);

    // the tables keep the ids, whatever the language
    let calls = read_parquet(&out.join("calls.parquet"));
    let failed: Vec<String> = strings(&calls, "failed_rules").into_iter().flatten().collect();
    let failed = failed.join(" ");
    assert!(failed.contains("forbidden_phrase"), "{failed}");
    let report_json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report_json.contains("\"rule\":\"nine_dont_phrase\""), "JSON keeps ids");

    // the summary again, in Chinese; then in English on request
    let zh = stdout_ok(callqa_as_shipped().args(["report", "--out"]).arg(&out));
    assert!(zh.contains("最常未通过的规则"), "{zh}");
    assert_no_english("callqa report", &zh);
    let page = dir.path().join("en.html");
    let en = stdout_ok(
        callqa_as_shipped()
            .args(["--lang", "en", "report", "--out"])
            .arg(&out)
            .arg("--html")
            .arg(&page),
    );
    assert!(en.contains("5 calls ("), "{en}");
    assert!(en.contains("Rules failed most often"), "{en}");
    let en_page = std::fs::read_to_string(&page).unwrap();
    assert!(en_page.contains("<html lang=\"en\">"));
    // (an apostrophe is escaped in the page: &#x27;)
    assert!(visible_text(&en_page).contains("Each agent&#x27;s worst calls"));
    assert!(!visible_text(&en_page).contains("各坐席最差的通话"));

    // the examples table, in Chinese by default (the folder's language), English on request
    let table = stdout_ok(callqa_as_shipped().args(["examples", "--out"]).arg(&out));
    assert!(table.starts_with("通话"), "{table}");
    assert!(table.contains("禁用语"), "{table}");
    let table = stdout_ok(
        callqa_as_shipped()
            .args(["examples", "--lang", "en", "--out"])
            .arg(&out),
    );
    assert!(table.starts_with("call"), "{table}");
    assert!(table.contains("forbidden phrases"), "{table}");

    // a center that writes in English, and names a rule its own way
    let pack = dir.path().join("pack");
    copy_pack(&pack);
    let toml = std::fs::read_to_string(pack.join("pack.toml"))
        .unwrap()
        .replace("language = \"zh\"", "language = \"en\"")
        .replace("forbidden_phrase = \"禁用语\"", "forbidden_phrase = \"Banned words\"");
    std::fs::write(pack.join("pack.toml"), toml).unwrap();
    let scored = callqa_as_shipped()
        .args(["score", "--out"])
        .arg(&out)
        .arg("--lexicons")
        .arg(&pack)
        .output()
        .unwrap();
    let stderr = stderr_of(&scored);
    assert!(scored.status.success(), "{stderr}");
    assert!(stderr.contains("5 scored"), "{stderr}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.starts_with("# callqa report"), "{md}");
    assert!(md.contains("Banned words (forbidden_phrase)"), "{md}");
    assert!(md.contains("RED LINE: Banned words"), "{md}");
    // and `callqa report` now speaks the folder's language
    let en = stdout_ok(callqa_as_shipped().args(["report", "--out"]).arg(&out));
    assert!(en.contains("Banned words"), "{en}");
}

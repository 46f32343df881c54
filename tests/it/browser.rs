//! The manager's report and the trainer's clip page, opened in headless
//! Chromium after a real run on the sample calls: the page renders its
//! tables and charts, sorts, plays its clips, and logs nothing to the
//! console. Screenshots are kept in target/tmp/browser/ as artifacts.
//!
//! scripts/test.sh installs Chromium (Debian package `chromium`, with
//! `fonts-noto-cjk`) and sets CALLQA_BROWSER_TESTS=required, so there (and
//! wherever CI=true) a missing browser fails; elsewhere these tests skip, loudly.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// The browser, or None (after saying so) where it is not installed and not required.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        let required = std::env::var("CALLQA_BROWSER_TESTS").as_deref() == Ok("required")
            || std::env::var("CI").as_deref() == Ok("true");
        assert!(
            !required,
            "Chromium is required (CALLQA_BROWSER_TESTS=required or CI=true) but not installed"
        );
        eprintln!("\n\n######## BROWSER TESTS SKIPPED: no chromium on PATH (apt-get install chromium fonts-noto-cjk) ########\n\n");
    }
    found
}

/// A page as the browser left it: its DOM after scripts ran, and what it logged.
struct Loaded {
    dom: String,
    console: Vec<String>,
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Opens `page` (plus a `#fragment`) in headless Chromium with a profile of its
/// own, lets it run for a few seconds of virtual time and dumps the DOM;
/// a second pass takes a screenshot when asked.
fn open(browser: &Path, page: &Path, fragment: &str, screenshot: Option<&str>) -> Loaded {
    let profile = workdir();
    let url = format!("file://{}{fragment}", page.canonicalize().unwrap().display());
    let base = |cmd: &mut Command| {
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=8000",
            // the review test's page drives the review page in a frame
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let mut cmd = Command::new(browser);
    base(&mut cmd);
    let output = cmd.arg("--dump-dom").arg(&url).output().expect("chromium starts");
    assert!(output.status.success(), "chromium failed: {}", stderr_of(&output));
    let console = stderr_of(&output)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    if let Some(name) = screenshot {
        let png = artifacts().join(name);
        let mut cmd = Command::new(browser);
        base(&mut cmd);
        let shot = cmd
            .args(["--window-size=1280,2400", "--hide-scrollbars"])
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(shot.status.success(), "screenshot failed: {}", stderr_of(&shot));
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "{} is no picture",
            png.display()
        );
        eprintln!("screenshot: {}", png.display());
    }
    Loaded {
        dom: String::from_utf8(output.stdout).unwrap(),
        console,
    }
}

/// The inside of each `<td>` in column `col` of the table with this id, row by row.
fn cells<'a>(dom: &'a str, table_id: &str, col: usize) -> Vec<&'a str> {
    let table = dom.split(&format!("id=\"{table_id}\"")).nth(1).unwrap();
    let body = table.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
    body.split("<tr")
        .skip(1)
        .map(|row| row.split("<td").nth(col + 1).unwrap().split("</td>").next().unwrap())
        .collect()
}

/// The text of column `col`, row by row.
fn column(dom: &str, table_id: &str, col: usize) -> Vec<String> {
    cells(dom, table_id, col)
        .into_iter()
        .map(|cell| {
            cell.split_once('>')
                .unwrap()
                .1
                .split('<')
                .next()
                .unwrap()
                .trim()
                .to_string()
        })
        .collect()
}

/// The `data-v` of column `col` (the value it sorts by), row by row.
fn sort_values(dom: &str, table_id: &str, col: usize) -> Vec<f64> {
    cells(dom, table_id, col)
        .into_iter()
        .map(|cell| {
            let v = cell.split("data-v=\"").nth(1).unwrap().split('"').next().unwrap();
            v.parse().unwrap_or(f64::INFINITY)
        })
        .collect()
}

/// `callqa examples --clips` into `out/clips`: the folder of the clip page.
fn clip_page(out: &Path) -> PathBuf {
    let clips = out.join("clips");
    stdout_ok(callqa().args(["examples", "--out"]).arg(out).arg("--clips").arg(&clips));
    clips
}

#[test]
fn the_report_and_the_clip_page_work_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let out = workdir();
    {
        let _whisper = whisper_lock();
        let run = run_samples(out.path()).output().unwrap();
        assert!(run.status.success(), "{}", stderr_of(&run));
    }

    // the report page, as the manager opens it
    let html = out.path().join("night.html");
    let summary = stdout_ok(
        callqa()
            .args(["report", "--out"])
            .arg(out.path())
            .arg("--html")
            .arg(&html),
    );
    assert!(summary.contains("Lowest mean score"), "{summary}");
    assert!(summary.contains("call-002"), "the worst call is named: {summary}");
    let page = open(&browser, &html, "", Some("report.png"));
    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    assert_eq!(column(&page.dom, "agents-table", 0), ["A001", "A002", "A003"]);
    for chart in ["chart-agents", "chart-days", "chart-rules"] {
        let figure = page.dom.split(&format!("id=\"{chart}\"")).nth(1).unwrap();
        let svg = figure.split("</figure>").next().unwrap();
        assert!(svg.contains("<svg") && svg.contains("<rect"), "{chart} has no drawing");
    }
    let day_chart = page.dom.split("id=\"chart-days\"").nth(1).unwrap();
    assert!(
        day_chart.contains("2026-11-20") && day_chart.contains("2026-11-21"),
        "both days charted"
    );
    assert!(page.dom.contains("call-002"), "the worst call is listed");
    assert!(page.dom.contains("<mark>"), "its evidence marks what was said");

    // the table sorts: the order is in the address
    let by_agent_desc = open(&browser, &html, "#sort=agent-desc", None);
    assert_eq!(column(&by_agent_desc.dom, "agents-table", 0), ["A003", "A002", "A001"]);
    let by_mean = open(&browser, &html, "#sort=mean", None);
    let means = sort_values(&by_mean.dom, "agents-table", 3);
    assert!(means.windows(2).all(|w| w[0] <= w[1]), "{means:?}");
    let lowest = summary.split("agents): ").nth(1).unwrap().split(' ').next().unwrap();
    assert_eq!(
        column(&by_mean.dom, "agents-table", 0)[0],
        lowest,
        "the page and the terminal agree"
    );

    // the trainer's clip page
    let clips = clip_page(out.path());
    let index = clips.join("index.html");
    let page = open(&browser, &index, "", Some("examples.png"));
    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    let players = page.dom.matches("<audio").count();
    assert!(players >= 2, "call-002's forbidden phrases have players: {players}");
    let ready = page.dom.matches("data-state=\"ready\"").count();
    assert_eq!(ready, players, "every clip loads in the browser");
    assert!(page.dom.contains("call-002") && page.dom.contains("<mark>"));

    // a clip that went missing says so on the page
    let first = std::fs::read_dir(&clips)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .unwrap();
    std::fs::remove_file(first).unwrap();
    let page = open(&browser, &index, "", None);
    assert_eq!(page.dom.matches("data-state=\"missing\"").count(), 1);

    review_in_the_browser(&browser, out.path());
}

/// Drives the review page in a frame, as a reviewer would: disagrees with the
/// first failed verdict, writes a note, saves; then shows the saved CSV and
/// how many players loaded.
const REVIEWER: &str = r#"<!doctype html><meta charset="utf-8">
<iframe id="page" src="index.html" style="width:1200px;height:1600px"></iframe>
<pre id="saved"></pre><p id="players"></p><p id="count"></p>
<script>
const frame = document.getElementById("page");
frame.addEventListener("load", () => {
  const d = frame.contentDocument;
  const row = d.querySelector('tr.review-rule[data-machine="fail"]');
  row.querySelector('input[value="disagree"]').click();
  const note = row.querySelector(".note");
  note.value = "客户说的，不是坐席";
  note.dispatchEvent(new Event("input", { bubbles: true }));
  d.getElementById("save").click();
  document.getElementById("count").textContent = d.getElementById("count").textContent;
  const href = d.getElementById("download").getAttribute("href");
  document.getElementById("saved").textContent = decodeURIComponent(href.slice(href.indexOf(",") + 1));
  setTimeout(() => {
    const ready = d.querySelectorAll('.clip-state[data-state="ready"]').length;
    document.getElementById("players").textContent = ready + " of " + d.querySelectorAll("audio").length;
  }, 3000);
});
</script>"#;

/// Issue 22: QA staff pick calls, review them on the page, and the CSV it
/// saves imports and overturns the verdict, in the tables and the report.
fn review_in_the_browser(browser: &Path, out: &Path) {
    let dir = out.join("review-page");
    // as shipped: the page in Chinese
    let picked = callqa_as_shipped()
        .args(["review", "sample", "--out"])
        .arg(out)
        .args(["--n", "3", "--failed-first", "--seed", "5", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(picked.status.success(), "{}", stderr_of(&picked));
    let page = open(browser, &dir.join("index.html"), "", Some("review.png"));
    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    assert_eq!(page.dom.matches("class=\"review-call\"").count(), 3);
    assert!(page.dom.contains("data-machine=\"fail\""), "failed calls first");
    assert!(page.dom.contains("<html lang=\"zh-CN\">"));
    assert!(page.dom.contains("保存复核结果（CSV）") && page.dom.contains(" 不同意</label>"));

    std::fs::write(dir.join("reviewer.html"), REVIEWER).unwrap();
    let driven = open(browser, &dir.join("reviewer.html"), "", None);
    assert!(driven.console.is_empty(), "console: {:#?}", driven.console);
    let players = driven
        .dom
        .split("<p id=\"players\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(players, "3 of 3", "every call's audio plays");
    let count = driven
        .dom
        .split("<p id=\"count\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(count, "1 条判定", "the page counts the verdicts in Chinese");
    let saved = driven
        .dom
        .split("<pre id=\"saved\">")
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap();
    let csv = saved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "call_id,rule,machine,verdict,note,reviewed_at");
    assert_eq!(lines.len(), 2, "one verdict given: {csv}");
    let cells: Vec<&str> = lines[1].split(',').map(|c| c.trim_matches('"')).collect();
    let (call_id, rule) = (cells[0], cells[1]);
    assert_eq!((cells[2], cells[3], cells[4]), ("fail", "pass", "客户说的，不是坐席"));

    let sheet = dir.join("saved.csv");
    std::fs::write(&sheet, &csv).unwrap();
    let imported = callqa()
        .args(["review", "import"])
        .arg(&sheet)
        .args(["--by", "王芳", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", stderr_of(&imported));
    let calls = read_parquet(&out.join("calls.parquet"));
    let row = row_of(&calls, call_id);
    let overturned = strings(&calls, "overturned_rules")[row].clone().unwrap_or_default();
    assert!(overturned.split(';').any(|r| r == rule), "{call_id}: {overturned}");
    let report = open(browser, &out.join("report.html"), "", Some("report-reviewed.png"));
    assert!(report.console.is_empty(), "console: {:#?}", report.console);
    let calibration = report
        .dom
        .split("id=\"calibration\"")
        .nth(1)
        .expect("the agreement table");
    assert!(calibration.contains(rule) && calibration.contains("客户说的，不是坐席"));
}

#[test]
fn markup_in_ids_and_transcripts_stays_text_in_the_browser() {
    let Some(browser) = chromium() else { return };
    const PAYLOAD: &str = "<img src=x onerror=\"document.title='pwned'\">";
    let out = workdir();
    write_transcripts(out.path());
    // the rude call's agent id and words carry markup, as a hostile manifest or transcript could
    let path = out.path().join("transcripts/2026-11-20/rude.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("\"A2\"", &serde_json::to_string(&format!("A2{PAYLOAD}")).unwrap())
        .replace("我现在很忙", &format!("我现在很忙{}", PAYLOAD.replace('"', "\\\"")));
    std::fs::write(&path, text).unwrap();
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    let html = out.path().join("report.html");
    let clips = clip_page(out.path());
    let review = out.path().join("review-page");
    callqa()
        .args(["review", "sample", "--out"])
        .arg(out.path())
        .arg("--dir")
        .arg(&review)
        .assert()
        .success();
    for page in [html, clips.join("index.html"), review.join("index.html")] {
        let loaded = open(&browser, &page, "", None);
        assert!(loaded.console.is_empty(), "console: {:#?}", loaded.console);
        assert!(
            !loaded.dom.contains("<title>pwned"),
            "{} ran the payload",
            page.display()
        );
        assert!(!loaded.dom.contains("<img"), "{} made an element of it", page.display());
        assert!(
            loaded.dom.contains("&lt;img src=x"),
            "{} shows it as text",
            page.display()
        );
    }
}

//! Issue 23, as a user meets it: customers read out their mobile, ID and card
//! numbers (as digits, as Chinese numerals, mixed, in groups), their e-mail,
//! address and name, next to lines the rules count against the agent. None
//! of it reaches report.html, report.md, report.json, hits.parquet's context
//! or examples (CSV, JSON, table); the amounts and dates around them do; the
//! matching is untouched; every file is the owner's alone. `--show-pii`
//! keeps them, and the report says so at its top. A number whisper split
//! over two clauses is hidden in both, the review page's transcript and the
//! search's clauses too.

use crate::common::*;
use callqa::transcript::{Segment, Speaker};

/// What each customer said that must never be shown, as whisper wrote it.
const PERSONAL: &[&str] = &[
    "13812345678",
    "110105199003071239",
    "六二二二 零二一二 三四五六 七八九零 一二八",
    "幺三九，幺二三四，五六七八",
    "１３７ ００１３ ９９８８",
    "一三六一二三四八八九九",
    "11010519880214002X",
    "zhang.xiaoming@example.com",
    "朝阳区建国路88号",
    "张小明",
    "010-62345678",
    "15987654321",
];
/// Numbers that are not personal and must stay.
const KEPT: &[&str] = &[
    "128.50元",
    "2026年11月20日",
    "两个工作日",
    "5分钟",
    "18号",
    "订单号202611200054321000",
];

/// A clause of two seconds.
fn segment(speaker: Speaker, start: f64, text: &str) -> Segment {
    Segment::new(speaker, start, start + 2.0, text)
}

fn write_calls(out: &std::path::Path) {
    use Speaker::{Agent as A, Customer as C};
    // customers' lines hold 我不知道 too (recorded, not counted), and agents
    // read numbers back: both speakers' contexts carry them
    let calls = [
        (
            "pii-1",
            "A1",
            vec![
                segment(A, 0.5, "您好，很高兴为您服务，请问有什么可以帮您？"),
                segment(
                    C,
                    3.0,
                    "我不知道号码对不对，我的手机号是13812345678，身份证号是110105199003071239。",
                ),
                segment(A, 6.0, "您的手机号是13812345678对吗？我不知道，你自己去问。"),
                segment(
                    C,
                    9.0,
                    "卡号是六二二二 零二一二 三四五六 七八九零 一二八，我不知道，燃气费一共128.50元。",
                ),
                segment(A, 12.0, "我不知道，2026年11月20日交的，两个工作日到账。"),
                segment(
                    C,
                    15.0,
                    "我叫张小明，我家在朝阳区建国路88号，电话010-62345678，我不知道。",
                ),
                segment(A, 18.0, "真讨厌，订单号202611200054321000。"),
                segment(C, 21.0, "我不知道邮箱，是zhang.xiaoming@example.com。"),
                segment(A, 24.0, "感谢您的来电，再见。"),
            ],
        ),
        (
            "pii-2",
            "A2",
            vec![
                segment(A, 0.5, "您好，很高兴为您服务。"),
                segment(C, 3.0, "我不知道，号码是幺三九，幺二三四，五六七八，"),
                segment(A, 6.0, "幺三九，幺二三四，五六七八，我不知道，你5分钟后再打。"),
                segment(C, 9.0, "还有一个１３７ ００１３ ９９８８，我不知道，18号上门。"),
                segment(A, 12.0, "我不知道。"),
                segment(
                    C,
                    15.0,
                    "我不知道，我老婆的一三六一二三四八八九九，身份证11010519880214002X。",
                ),
                segment(A, 18.0, "我不知道，感谢您的来电，再见。"),
            ],
        ),
        (
            // whisper ends a clause in the middle of the number
            "pii-3",
            "A3",
            vec![
                segment(A, 0.5, "您好，很高兴为您服务。"),
                segment(C, 3.0, "我不知道，我的手机号是159"),
                segment(C, 5.0, "87654321，你记一下。"),
                segment(A, 8.0, "好的，感谢您的来电，再见。"),
            ],
        ),
    ];
    for (call_id, agent, segments) in calls {
        save_transcript(
            out,
            &stereo_transcript(call_id, agent, "2026-11-20T10:00:00+08:00", 27.0, segments),
        );
    }
}

/// Everything a person reads from the folder: the report in three forms, the
/// hits' context, and examples in every format.
fn shown(out: &std::path::Path) -> Vec<(String, String)> {
    let mut shown = Vec::new();
    for name in ["report.html", "report.md", "report.json"] {
        shown.push((name.to_string(), std::fs::read_to_string(out.join(name)).unwrap()));
    }
    let hits = read_parquet(&out.join("hits.parquet"));
    let contexts: Vec<String> = strings(&hits, "context").into_iter().flatten().collect();
    assert!(contexts.len() >= 8, "{contexts:?}");
    shown.push(("hits.parquet context".into(), contexts.join("\n")));
    for format in ["csv", "json", "table"] {
        let printed = stdout_ok(
            callqa()
                .args(["examples", "--all", "--format", format, "--out"])
                .arg(out),
        );
        shown.push((format!("examples --format {format}"), printed));
    }
    for query in ["手机号", "你记一下"] {
        let printed = stdout_ok(callqa().args(["search", query, "--format", "json", "--out"]).arg(out));
        assert!(printed.contains("pii-"), "search {query} finds clauses: {printed}");
        shown.push((format!("search {query}"), printed));
    }
    let review = out.join("review-page");
    stdout_ok(
        callqa()
            .args(["review", "sample", "--n", "3", "--out"])
            .arg(out)
            .arg("--dir")
            .arg(&review),
    );
    let page = std::fs::read_to_string(review.join("index.html")).unwrap();
    assert!(
        page.contains("我的手机号是"),
        "the split number's clause is on the page"
    );
    shown.push(("review page".into(), page));
    shown
}

#[test]
fn customers_numbers_never_reach_what_people_read() {
    let dir = workdir();
    let out = dir.path().join("out");
    write_calls(&out);
    let output = callqa().args(["score", "--out"]).arg(&out).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));

    for (what, text) in shown(&out) {
        for personal in PERSONAL {
            assert!(!text.contains(personal), "{what} shows {personal}:\n{text}");
        }
        // not even a readable piece of one
        for piece in [
            "12345678",
            "五六七八",
            "62345678",
            "9988",
            "1239",
            "八八九九",
            "87654321",
            "号是159",
        ] {
            assert!(!text.contains(piece), "{what} shows {piece}:\n{text}");
        }
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("【手机号】"), "{report}");
    assert!(!report.contains("Personal data shown"), "{report}");
    let contexts = shown(&out)
        .into_iter()
        .find(|(w, _)| w == "hits.parquet context")
        .unwrap()
        .1;
    for kept in KEPT {
        assert!(contexts.contains(kept), "{kept} is not personal: {contexts}");
    }
    for mark in [
        "【手机号】",
        "【身份证号】",
        "【银行卡号】",
        "【邮箱】",
        "【地址】",
        "【姓名】",
        "【电话】",
    ] {
        assert!(contexts.contains(mark), "{mark}: {contexts}");
    }

    // matching is untouched: every 我不知道 counted, the greeting and closing found
    let calls = read_parquet(&out.join("calls.parquet"));
    let nine_dont = calls.column("nine_dont_count").unwrap().i32().unwrap().clone();
    assert_eq!(nine_dont.get(row_of(&calls, "pii-1")), Some(3));
    assert_eq!(nine_dont.get(row_of(&calls, "pii-2")), Some(3));
    let greeting = calls.column("greeting_ok").unwrap().bool().unwrap().clone();
    assert_eq!(greeting.get(row_of(&calls, "pii-1")), Some(true));

    // every file the people above read is the owner's alone
    use std::os::unix::fs::PermissionsExt;
    for name in [
        "report.html",
        "report.md",
        "report.json",
        "hits.parquet",
        "calls.parquet",
    ] {
        let mode = std::fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}: {mode:o}");
    }

    // shown on purpose: the numbers are there, and the report says so first
    let output = callqa()
        .args(["score", "--show-pii", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let top: String = report.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(top.contains("Personal data shown"), "{top}");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("id=\"personal-data-shown\""));
    let contexts: Vec<String> = strings(&read_parquet(&out.join("hits.parquet")), "context")
        .into_iter()
        .flatten()
        .collect();
    assert!(contexts.iter().any(|c| c.contains("13812345678")), "{contexts:?}");
}

/// A trainer's clip of a moment next to a customer reading out a number:
/// where scoring placed the number, every channel plays the hiding tone (its
/// spectrum is one line at 1 kHz); everywhere else the clip is the recording.
#[test]
fn clips_play_a_tone_over_personal_data() {
    let dir = workdir();
    let out = dir.path().join("out");
    let audio = samples().join("call-002.wav");
    let t = stereo_transcript(
        "clip-pii",
        "A1",
        "2026-11-20T10:00:00+08:00",
        24.19,
        vec![
            segment(Speaker::Agent, 0.5, "您好，很高兴为您服务。"),
            segment(Speaker::Customer, 3.0, "我不知道，手机号13812345678"),
            segment(Speaker::Agent, 8.0, "感谢您的来电，再见。"),
        ],
    );
    save_transcript(&out, &t);
    let output = callqa().args(["score", "--out"]).arg(&out).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let calls = read_parquet(&out.join("calls.parquet"));
    let ranges = strings(&calls, "personal_data_s")[0].clone().unwrap();
    let (start, end) = ranges.split_once('-').unwrap();
    let (start, end): (f64, f64) = (start.parse().unwrap(), end.parse().unwrap());
    let margin = callqa::privacy::AUDIO_MARGIN_S;
    assert!(
        start > 3.0 && start < 4.2 && (end - (5.0 + margin)).abs() < 0.05,
        "{ranges}"
    );

    let clips = dir.path().join("clips");
    let output = callqa()
        .args(["examples", "--all", "--speaker", "customer", "--out"])
        .arg(&out)
        .arg("--clips")
        .arg(&clips)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let clip = std::fs::read_dir(&clips)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .expect("a clip");
    let read = |path: &std::path::Path| -> Vec<Vec<f64>> {
        let mut reader = hound::WavReader::open(path).unwrap();
        let channels = reader.spec().channels as usize;
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        (0..channels)
            .map(|c| {
                samples
                    .iter()
                    .skip(c)
                    .step_by(channels)
                    .map(|&s| f64::from(s))
                    .collect()
            })
            .collect()
    };
    let (clip, original) = (read(&clip), read(&audio));
    let rate = 8000.0;
    // the clip starts 2 s (the default context) before 我不知道 at 3.0 s
    let clip_start = 1.0;
    let at = |t: f64| ((t - clip_start) * rate) as usize;
    for (channel, samples) in clip.iter().enumerate() {
        // inside the range: one spectral line at 1 kHz holds the power
        let inside = &samples[at(start + 0.05)..at(end - 0.05).min(samples.len())];
        let power: f64 = inside.iter().map(|x| x * x).sum();
        let (re, im) = inside.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, x)| {
            let phase = std::f64::consts::TAU * 1000.0 * n as f64 / rate;
            (re + x * phase.cos(), im - x * phase.sin())
        });
        let at_1khz = 2.0 * (re * re + im * im) / inside.len() as f64;
        assert!(
            power > 0.0 && at_1khz / power > 0.95,
            "channel {channel}: {:.3} of the power at 1 kHz",
            at_1khz / power
        );
        // before it: the recording itself
        let from = (clip_start * rate) as usize;
        for n in 0..at(start - 0.05) {
            assert!(
                (samples[n] - original[channel][from + n]).abs() <= 2.0,
                "channel {channel}, sample {n}"
            );
        }
    }
}

/// Issue 23, measured with the sample voice (scripts/make_pii_samples.py):
/// customers read out mobile, ID card and bank card numbers digit by digit,
/// and agents say amounts, dates, times, durations and order numbers, on a
/// clean line and through AMR-NB with noise. Whisper's real transcripts are
/// redacted as the report and examples redact a hit's context, and as the
/// review page and the search show each clause; a spoken personal number
/// counts as hidden in text when no four of its digits in a row survive, and
/// in audio when the call's `personal_data_s` covers 90 % of the time it was
/// said. Another number counts as wrongly hidden when its turn shows a mark.
#[test]
fn spoken_personal_numbers_are_hidden_and_others_kept() {
    use callqa::privacy::{apply_recorded, digit_of, Redactor};
    let redactor = Redactor::new(&callqa::pack::builtin_pack().privacy);
    // (set, at least this share hidden in text and in audio, at most this share of other numbers hidden)
    // (floors a little under the README's figures: whisper's threads may decode a digit differently)
    for (set, min_text, min_audio, max_wrong) in [("clean", 0.95, 0.95, 0.02), ("line", 0.93, 0.93, 0.04)] {
        let dir = workdir();
        let folder = samples().join("pii").join(set);
        let output = {
            let _whisper = whisper_lock();
            callqa()
                .arg("run")
                .arg(&folder)
                .arg("--out")
                .arg(dir.path())
                .arg("--model")
                .arg(model())
                .arg("--no-progress")
                .output()
                .unwrap()
        };
        assert!(output.status.success(), "{}", stderr_of(&output));
        let calls = read_parquet(&dir.path().join("calls.parquet"));
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("expected.json")).unwrap()).unwrap();
        let (mut personal, mut in_text, mut in_audio, mut other, mut wrongly) = (0, 0, 0, 0, 0);
        for (call_id, call) in expected.as_object().unwrap() {
            let transcript = transcript(dir.path(), call_id);
            let recorded = strings(&calls, "redacted_spans")[row_of(&calls, call_id)]
                .clone()
                .unwrap_or_default();
            let hidden: Vec<(f64, f64)> = strings(&calls, "personal_data_s")[row_of(&calls, call_id)]
                .clone()
                .unwrap_or_default()
                .split_whitespace()
                .map(|r| {
                    let (a, b) = r.split_once('-').unwrap();
                    (a.parse().unwrap(), b.parse().unwrap())
                })
                .collect();
            for turn in call["turns"].as_array().unwrap() {
                let Some(number) = turn["numbers"].as_array().unwrap().first() else {
                    continue;
                };
                let speaker = match turn["speaker"].as_str().unwrap() {
                    "agent" => Speaker::Agent,
                    _ => Speaker::Customer,
                };
                let (start, end) = (turn["start_s"].as_f64().unwrap(), turn["end_s"].as_f64().unwrap());
                let heard: Vec<(usize, &str)> = transcript
                    .segments
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.speaker == speaker && s.end > start - 0.3 && s.start < end + 0.3)
                    .map(|(i, s)| (i, s.text.as_str()))
                    .collect();
                // as a hit's context shows the turn, and as the review page
                // and the search show each of its clauses (scoring's record)
                let joined: Vec<&str> = heard.iter().map(|(_, text)| *text).collect();
                let in_context = redactor.redact(&joined.join("\n")).into_owned();
                let by_clause: Vec<String> = heard
                    .iter()
                    .map(|&(i, text)| apply_recorded(&recorded, i, text).into_owned())
                    .collect();
                let shown = [in_context, by_clause.join("\n")];
                if number["personal"].as_bool().unwrap() {
                    personal += 1;
                    let digits = number["digits"].as_str().unwrap();
                    let leaks = shown.iter().any(|shown| {
                        let left: String = shown.chars().filter_map(digit_of).collect();
                        (0..=digits.len().saturating_sub(4)).any(|i| left.contains(&digits[i..i + 4]))
                    });
                    if !leaks {
                        in_text += 1;
                    } else {
                        eprintln!("{set} {call_id}: {digits} shown as {shown:?}");
                    }
                    let chars = turn["text"].as_str().unwrap().chars().count() as f64;
                    let at = |k: &str| start + (end - start) * number[k].as_f64().unwrap() / chars;
                    let (from, to) = (at("from"), at("to"));
                    let covered: f64 = hidden.iter().map(|&(a, b)| (b.min(to) - a.max(from)).max(0.0)).sum();
                    if covered >= 0.9 * (to - from) {
                        in_audio += 1;
                    } else {
                        eprintln!("{set} {call_id}: {digits} said {from:.2}-{to:.2} s, hidden {hidden:?}");
                    }
                } else {
                    other += 1;
                    if shown.iter().any(|shown| shown.contains('【')) {
                        wrongly += 1;
                        eprintln!("{set} {call_id}: not personal, shown as {shown:?}");
                    }
                }
            }
        }
        let rate = |n: usize, of: usize| n as f64 / of.max(1) as f64;
        eprintln!(
            "{set}: personal numbers hidden in text {in_text}/{personal} ({:.2}), in audio {in_audio}/{personal} ({:.2}); \
             other numbers hidden {wrongly}/{other} ({:.2})",
            rate(in_text, personal),
            rate(in_audio, personal),
            rate(wrongly, other)
        );
        assert!(personal >= 40 && other >= 25, "{personal} {other}");
        assert!(rate(in_text, personal) >= min_text, "{set}: text {in_text}/{personal}");
        assert!(
            rate(in_audio, personal) >= min_audio,
            "{set}: audio {in_audio}/{personal}"
        );
        assert!(
            rate(wrongly, other) <= max_wrong,
            "{set}: {wrongly}/{other} other numbers hidden"
        );
    }
}

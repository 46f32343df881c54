//! `callqa score`: tables from saved transcripts alone (hand-written here), no model.

use crate::common::*;

#[test]
fn scores_saved_transcripts_without_audio_or_model() {
    let out = workdir();
    write_transcripts(out.path());
    let output = callqa().args(["score", "--out"]).arg(out.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the corrupt transcript is a failure: {stderr}"
    );

    let calls = read_parquet(&out.path().join("calls.parquet"));
    assert_eq!(calls.height(), 3);
    let score = calls.column("score").unwrap().f64().unwrap().clone();
    assert_eq!(score.get(row_of(&calls, "good")), Some(100.0));
    let rude = row_of(&calls, "rude");
    assert!(score.get(rude).unwrap() < 80.0);
    // 禁用语 are a red line of the default pack
    assert_eq!(strings(&calls, "red_lines")[rude].as_deref(), Some("forbidden_phrase"));
    assert_eq!(
        strings(&calls, "red_lines")[row_of(&calls, "good")].as_deref(),
        Some("")
    );
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.contains("RED LINE: forbidden phrase"), "{report}");
    let broken = row_of(&calls, "broken");
    assert_eq!(strings(&calls, "status")[broken].as_deref(), Some("failed"));
    assert!(strings(&calls, "error")[broken]
        .as_deref()
        .unwrap()
        .contains("broken.json"));

    let hits = read_parquet(&out.path().join("hits.parquet"));
    let ids = strings(&hits, "phrase_id");
    let kinds = strings(&hits, "match");
    let speakers = strings(&hits, "speaker");
    let find = |id: &str| {
        (0..hits.height())
            .find(|&i| ids[i].as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no {id}"))
    };
    assert_eq!(
        kinds[find("hold_request.please_wait")].as_deref(),
        Some("tolerant"),
        "请您收等 is an ASR slip"
    );
    assert_eq!(
        kinds[find("greeting.glad_to_serve")].as_deref(),
        Some("exact"),
        "traditional characters match"
    );
    assert_eq!(
        speakers[find("nine_dont.dont_know")].as_deref(),
        Some("customer"),
        "recorded, but not counted"
    );
    let counted = calls
        .column("nine_dont_count")
        .unwrap()
        .i32()
        .unwrap()
        .get(row_of(&calls, "good"));
    assert_eq!(
        counted,
        Some(0),
        "the customer's 我不知道 does not count against the agent"
    );
}

#[test]
fn a_new_lexicon_pack_rescores_and_a_broken_one_is_refused() {
    let out = workdir();
    write_transcripts(out.path());
    let pack = workdir();
    copy_pack(pack.path());
    // a stricter house rule: saying 喂 is forbidden too
    let forbidden = pack.path().join("forbidden.txt");
    let mut text = std::fs::read_to_string(&forbidden).unwrap();
    text.push_str("forbidden.wei  喂\n");
    std::fs::write(&forbidden, text).unwrap();
    callqa()
        .args(["score", "--out"])
        .arg(out.path())
        .arg("--lexicons")
        .arg(pack.path())
        .assert()
        .code(1);
    let calls = read_parquet(&out.path().join("calls.parquet"));
    let forbidden_count = calls
        .column("forbidden_count")
        .unwrap()
        .i32()
        .unwrap()
        .get(row_of(&calls, "rude"));
    // 喂, 我不大清楚, 你选吧我也不懂 (its 我也不懂 is not counted again); 我现在很忙 is a nine-don't
    assert_eq!(forbidden_count, Some(3));

    std::fs::write(pack.path().join("closing.txt"), "closing.x  {oops}再见\n").unwrap();
    let before = std::fs::read(out.path().join("calls.parquet")).unwrap();
    callqa()
        .args(["score", "--out"])
        .arg(out.path())
        .arg("--lexicons")
        .arg(pack.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("closing.txt:1: unknown slot {oops}"));
    assert_eq!(
        std::fs::read(out.path().join("calls.parquet")).unwrap(),
        before,
        "a broken pack never rewrites the tables"
    );
}

/// A call whose latest attempt failed (failures.json) is a failed row, even
/// with an older transcript on disk: that transcript is from other audio or
/// another model, and its verdict would be stale.
#[test]
fn a_new_failure_is_not_hidden_behind_an_old_transcript() {
    let out = workdir();
    write_transcripts(out.path());
    std::fs::write(
        out.path().join("failures.json"),
        serde_json::json!([{
            "location": "night/good.wav",
            "call_id": "good",
            "agent_id": "A1",
            "audio_path": "night/good.wav",
            "started_at": "2026-11-21T09:00:00",
            "reason": "night/good.wav: empty file (0 bytes)"
        }])
        .to_string(),
    )
    .unwrap();
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    let calls = read_parquet(&out.path().join("calls.parquet"));
    let ids = strings(&calls, "call_id");
    assert_eq!(
        ids.iter().filter(|id| id.as_deref() == Some("good")).count(),
        1,
        "{ids:?}"
    );
    let good = row_of(&calls, "good");
    assert_eq!(strings(&calls, "status")[good].as_deref(), Some("failed"));
    assert!(strings(&calls, "error")[good]
        .as_deref()
        .unwrap()
        .contains("empty file"));
    assert!(
        out.path().join("transcripts/2026-11-20/good.json").is_file(),
        "nothing is deleted"
    );
}

/// Issue 23: what callqa writes holds what customers said, so it is the
/// owner's alone (files 0600, folders 0700), every file of the folder and
/// the report pages; `--group-readable` lets the group read.
#[test]
fn outputs_are_the_owners_alone_unless_the_group_may_read() {
    use std::os::unix::fs::PermissionsExt;
    let modes = |root: &std::path::Path| -> Vec<(String, u32)> {
        walkdir::WalkDir::new(root)
            .into_iter()
            .map(|e| e.unwrap())
            .map(|e| {
                let mode = e.metadata().unwrap().permissions().mode() & 0o777;
                (e.path().display().to_string(), mode)
            })
            .collect()
    };
    for (group, file_mode, folder_mode) in [(false, 0o600, 0o700), (true, 0o640, 0o750)] {
        let dir = workdir();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // a folder made by hand (or by an older callqa) is made private too
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        write_transcripts(&out);
        // transcripts written by an older callqa keep their mode: they are read, not written
        for entry in walkdir::WalkDir::new(&out) {
            let entry = entry.unwrap();
            let mode = if entry.file_type().is_dir() {
                folder_mode
            } else {
                file_mode
            };
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
        // a host's umask of 077 must not take the group's read back
        let with_group = |cmd: &mut assert_cmd::Command| {
            if group {
                cmd.arg("--group-readable");
            }
        };
        let mut score = std::process::Command::new(assert_cmd::cargo::cargo_bin("callqa"));
        score.args(["score", "--out"]).arg(&out);
        if group {
            use std::os::unix::process::CommandExt;
            score.arg("--group-readable");
            // SAFETY: umask is async-signal-safe, and the child only execs after it
            unsafe {
                score.pre_exec(|| {
                    libc::umask(0o077);
                    Ok(())
                });
            }
        }
        assert_eq!(score.output().unwrap().status.code(), Some(1));
        let mut report = callqa();
        report
            .args(["report", "--out"])
            .arg(&out)
            .arg("--html")
            .arg(out.join("pages/night.html"));
        with_group(&mut report);
        assert!(report.output().unwrap().status.success());
        assert!(out.join("report.html").is_file() && out.join("calls.parquet").is_file());
        for (path, mode) in modes(&out) {
            let want = if std::path::Path::new(&path).is_dir() {
                folder_mode
            } else {
                file_mode
            };
            assert_eq!(mode, want, "{path}: {mode:o}, not {want:o} (group readable: {group})");
        }
    }
}

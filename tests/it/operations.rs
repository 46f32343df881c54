//! Nightly operations: one process per output folder, shards sharing a folder,
//! the end-of-run summary, and faults at the folder level (a folder that
//! cannot be written, a full disk, a shard count that makes no sense).

use std::io::Read;
use std::path::Path;

use crate::common::*;

/// N workers at once on one folder, one of them told its shard by a Kubernetes
/// Indexed Job's environment and one by a Slurm array's, then `score`: every
/// call transcribed exactly once, and the tables equal a single run's.
#[test]
fn shard_workers_then_score_equal_a_single_run() {
    let _lock = whisper_lock();
    let dir = workdir();
    let single = dir.path().join("single");
    let output = run_samples(&single).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    let shared = dir.path().join("shared");
    let workers: Vec<std::process::Child> = (0..3)
        .map(|i| {
            let mut cmd = run_samples(&shared);
            cmd.arg("--json");
            match i {
                0 => cmd.args(["--shard", "0/3"]),
                1 => cmd.env("JOB_COMPLETION_INDEX", "1").env("JOB_COMPLETIONS", "3"),
                _ => cmd
                    .env("SLURM_ARRAY_TASK_ID", "7")
                    .env("SLURM_ARRAY_TASK_MIN", "5")
                    .env("SLURM_ARRAY_TASK_COUNT", "3"),
            };
            cmd.spawn().unwrap()
        })
        .collect();
    let mut transcribed = 0;
    let mut shards = Vec::new();
    for worker in workers {
        let output = worker.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        transcribed += summary["run"]["transcribed"].as_u64().unwrap();
        assert_eq!(summary["run"]["reused"], 0, "{summary}");
        assert!(summary.get("archive").is_none(), "a worker scores nothing: {summary}");
        shards.push(summary["shard"].as_str().unwrap().to_string());
        assert!(
            stderr_of(&output).contains("callqa score --out"),
            "says what comes next"
        );
    }
    shards.sort();
    assert_eq!(shards, ["0/3", "1/3", "2/3"]);
    assert_eq!(transcribed, 5, "every call exactly once");
    assert!(!shared.join("calls.parquet").exists(), "workers write no table");

    let output = callqa().args(["score", "--out"]).arg(&shared).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_same_tables(&single, &shared);
    assert_eq!(
        std::fs::read(single.join("report.md")).unwrap(),
        std::fs::read(shared.join("report.md")).unwrap()
    );
}

/// A second `run` or `score` on a folder in use refuses at once, names the
/// holder and exits 2; once the holder is killed, the folder is free again.
#[test]
fn one_process_per_output_folder() {
    let _lock = whisper_lock();
    let out = workdir();
    /// Kills the first run however the test ends.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut first = KillOnDrop(run_samples(out.path()).spawn().unwrap());
    let lock_file = out.path().join(".callqa.lock");
    let waited = std::time::Instant::now();
    while !std::fs::read_to_string(&lock_file).is_ok_and(|s| s.contains("callqa run")) {
        assert!(waited.elapsed().as_secs() < 60, "the first run never took the folder");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = format!("pid {}", first.0.id());
    let model = model();
    let samples = samples();
    let second_run = ["run", samples.to_str().unwrap(), "--model", model.to_str().unwrap()];
    for args in [&["score"][..], &second_run] {
        let started = std::time::Instant::now();
        let output = callqa()
            .args(args)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("in use by another callqa"), "{stderr}");
        assert!(
            stderr.contains("callqa run") && stderr.contains(&pid),
            "names the holder: {stderr}"
        );
        assert!(started.elapsed().as_secs() < 10, "refused within seconds");
    }
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let mut rest = String::new();
    let _ = first.0.stderr.take().unwrap().read_to_string(&mut rest);
    // killed mid-run: no stale lock
    let output = callqa().args(["score", "--out"]).arg(out.path()).output().unwrap();
    assert!(output.status.code().is_some_and(|c| c < 2), "{}", stderr_of(&output));
}

#[test]
fn shard_counts_that_make_no_sense_are_refused() {
    let out = workdir();
    for (args, env, expected) in [
        (&["--shard", "3/3"][..], &[][..], "0 to 2"),
        (&["--shard", "0/0"], &[], "at least 1"),
        (&["--shard", "one/two"], &[], "I/N"),
        (&[], &[("JOB_COMPLETION_INDEX", "1")], "JOB_COMPLETIONS"),
        (
            &[],
            &[("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_COUNT", "4")],
            "0 to 3",
        ),
    ] {
        let mut cmd = callqa();
        cmd.arg("run").arg(samples()).arg("--out").arg(out.path()).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_is_named() {
    let dir = workdir();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("out");
    for args in [&["score"][..], &["run", samples().to_str().unwrap()]] {
        let output = callqa().args(args).arg("--out").arg(&out).output().unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    }
}

/// `bash -c` with a file-size limit (and SIGXFSZ ignored, so a write past it
/// fails with "File too large" as on a full disk instead of killing the process).
fn with_file_size_limit(kib: u32, callqa_args: &[&str], out: &Path) -> std::process::Output {
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin("callqa"))
        .args(callqa_args)
        .arg("--out")
        .arg(out)
        .env_remove("CALLQA_MODEL")
        .env("CALLQA_LANG", "en")
        .output()
        .unwrap()
}

fn folder_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

/// A disk that fills up while the tables are written: a clear error naming
/// the file, the old tables untouched, no temporary file left behind.
#[test]
fn a_full_disk_while_scoring_leaves_the_old_tables() {
    let out = workdir();
    write_transcripts(out.path());
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    let before: Vec<(String, Vec<u8>)> = ["calls.parquet", "hits.parquet", "scorecards.parquet", "report.md"]
        .iter()
        .map(|t| (t.to_string(), std::fs::read(out.path().join(t)).unwrap()))
        .collect();
    let listing = folder_listing(out.path());

    let output = with_file_size_limit(1, &["score"], out.path());
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(stderr.contains(".parquet"), "names the file: {stderr}");
    for (table, bytes) in &before {
        assert_eq!(
            &std::fs::read(out.path().join(table)).unwrap(),
            bytes,
            "{table} changed"
        );
    }
    assert_eq!(folder_listing(out.path()), listing, "nothing left behind");
}

/// A disk that fills up mid-run stops the batch with a message naming the
/// file; what was done before stays; the next run carries on, and finds a
/// transcript of an older folder layout where earlier versions put it.
#[test]
fn a_full_disk_mid_run_stops_cleanly_and_the_next_run_goes_on() {
    let _lock = whisper_lock();
    let dir = workdir();
    let out = dir.path().join("out");
    // one call, named as the recorder names them: agent, day, time
    let call = dir.path().join("A003_20261120_091205_c4.wav");
    std::fs::copy(samples().join("call-004.wav"), &call).unwrap();
    let model = model();
    let args = [
        "run",
        call.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--no-progress",
    ];
    let output = with_file_size_limit(1, &args, &out);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("File too large") && stderr.contains("A003_20261120_091205_c4"),
        "{stderr}"
    );
    assert!(stderr.contains("the batch stopped"), "{stderr}");
    assert!(!out.join("calls.parquet").exists());
    let archive = callqa::store::OutDir::new(&out);
    assert!(callqa::store::list_transcripts(&archive).unwrap().is_empty());
    assert!(
        callqa::store::open_failures(&archive).unwrap().is_empty(),
        "the call did not fail: the disk did"
    );

    let output = callqa().args(args).arg("--out").arg(&out).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let saved = callqa::store::list_transcripts(&archive).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(
        saved[0],
        out.join("transcripts/2026-11-20/A003_20261120_091205_c4.json")
    );

    // an older version's layout: transcripts/<call>.json
    let flat = out.join("transcripts/A003_20261120_091205_c4.json");
    std::fs::rename(&saved[0], &flat).unwrap();
    let output = callqa()
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stderr_of(&output), "", "--quiet prints nothing but errors");
    assert!(!flat.exists(), "moved into its day folder");
    assert_eq!(callqa::store::list_transcripts(&archive).unwrap(), saved);
}

#[test]
fn score_prints_one_json_summary_for_scripts() {
    let out = workdir();
    write_transcripts(out.path());
    let output = callqa()
        .args(["score", "--json", "--quiet", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr_of(&output), "");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["command"], "score");
    assert_eq!(summary["archive"]["calls"], 3);
    assert_eq!(summary["archive"]["unprocessed"], 1);
    let lowest = summary["lowest_agents"].as_array().unwrap();
    assert_eq!(lowest[0]["agent_id"], "A2", "{summary}");
    assert!(summary["wall_s"].as_f64().unwrap() >= 0.0);
}

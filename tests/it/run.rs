//! `callqa run` end to end: real audio, the real whisper model, all outputs.

use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Instant;

use crate::common::*;
use callqa::store::{CALLS_SCHEMA, HITS_SCHEMA, SCORECARDS_SCHEMA};
use callqa::text::to_simplified;
use callqa::transcript::Speaker;

struct SamplesRun {
    out: tempfile::TempDir,
    stderr: String,
}

/// `callqa run data-samples` once for the whole file: it is the slow part.
fn samples_run() -> &'static SamplesRun {
    static RUN: OnceLock<SamplesRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let _lock = whisper_lock();
        let out = workdir();
        let output = callqa()
            .args(["run", samples().to_str().unwrap(), "--out"])
            .arg(out.path())
            .arg("--model")
            .arg(model())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        SamplesRun { out, stderr }
    })
}

/// OpenBLAS picks its kernels by CPU model and falls back to generic ones on a
/// CPU it does not know; callqa restarts itself with the kernels the CPU runs
/// (`asr::blas`), which the run names on its second line.
#[cfg(feature = "openblas")]
#[test]
fn the_encoder_runs_on_the_blas_kernels_this_cpu_can_run() {
    let run = samples_run();
    let kernels = run
        .stderr
        .split("encoder matrices by OpenBLAS (")
        .nth(1)
        .and_then(|rest| rest.split(" kernels)").next())
        .unwrap_or_else(|| panic!("the run names its BLAS kernels: {}", run.stderr));
    assert_eq!(
        callqa::asr::blas::better_kernels_for_this_cpu(kernels),
        None,
        "OpenBLAS runs its {kernels} kernels on a CPU that runs wider ones"
    );
}

#[test]
fn the_agent_greeting_opens_the_agent_channel_in_simplified_chinese() {
    let run = samples_run();
    for call in ["call-001", "call-003"] {
        let t = transcript(run.out.path(), call);
        let agent: Vec<_> = t.segments.iter().filter(|s| s.speaker == Speaker::Agent).collect();
        let opening: String = agent
            .iter()
            .take_while(|s| s.start < 4.0)
            .map(|s| s.text.as_str())
            .collect();
        assert!(opening.contains("很高兴为您服务"), "{call}: agent opening {opening:?}");
        assert!(agent[0].start < 2.5, "{call}: greeting starts at {}", agent[0].start);
        let customer: String = t
            .segments
            .iter()
            .filter(|s| s.speaker == Speaker::Customer)
            .map(|s| s.text.as_str())
            .collect();
        assert!(
            !customer.contains("很高兴为您服务"),
            "{call}: the greeting leaked into the customer channel"
        );
    }
    // call-003 has the agent on the right channel (manifest) and is G.711 µ-law
    assert_eq!(
        transcript(run.out.path(), "call-003").agent_channel,
        callqa::transcript::AgentChannel::Right
    );
}

#[test]
fn every_transcript_is_simplified_and_timed_on_the_call() {
    let run = samples_run();
    for call in ["call-001", "call-002", "call-003", "call-004", "call-005"] {
        let t = transcript(run.out.path(), call);
        assert!(!t.segments.is_empty(), "{call}");
        for s in &t.segments {
            assert_eq!(
                to_simplified(&s.text),
                s.text,
                "{call}: traditional characters in {:?}",
                s.text
            );
            assert!(
                0.0 <= s.start && s.start <= s.end && s.end <= t.duration_s + 0.01,
                "{call}: {s:?}"
            );
            assert!((0.0..=1.0).contains(&s.confidence), "{call}: {s:?}");
        }
    }
    let mono = transcript(run.out.path(), "call-005");
    assert!(
        mono.segments.iter().all(|s| s.speaker == Speaker::Unknown),
        "mono calls have unknown speakers"
    );
}

#[test]
fn hits_are_placed_within_a_second_of_when_they_were_said() {
    let run = samples_run();
    let hits = read_parquet(&run.out.path().join("hits.parquet"));
    let calls = strings(&hits, "call_id");
    let ids = strings(&hits, "phrase_id");
    let starts = hits.column("start_s").unwrap().f64().unwrap().clone();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples().join("expected.json")).unwrap()).unwrap();
    // (call, phrase id, words of the scripted turn that hold it, offset of the phrase in the turn)
    for (call, phrase_id, turn_text, chars_before) in [
        (
            "call-002",
            "forbidden.not_quite_sure",
            "我不大清楚，你自己去营业厅问吧。",
            0,
        ),
        ("call-002", "nine_dont.too_busy", "冷静一点，我现在很忙。", 5),
        (
            "call-004",
            "nine_dont.not_my_fault",
            "您的账单没有问题，那不是我的错。",
            9,
        ),
    ] {
        let turn = expected[call]["turns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["text"] == turn_text)
            .unwrap();
        let (t0, t1) = (turn["start_s"].as_f64().unwrap(), turn["end_s"].as_f64().unwrap());
        let said_at = t0 + (t1 - t0) * chars_before as f64 / turn_text.chars().count() as f64;
        let i = (0..hits.height())
            .find(|&i| calls[i].as_deref() == Some(call) && ids[i].as_deref() == Some(phrase_id))
            .unwrap_or_else(|| panic!("{call}: no hit for {phrase_id}"));
        let found_at = starts.get(i).unwrap();
        assert!(
            (found_at - said_at).abs() <= 1.0,
            "{call} {phrase_id}: found at {found_at:.2} s, said at {said_at:.2} s"
        );
    }
}

#[test]
fn the_tables_keep_their_contract_and_the_verdicts_match_the_scripts() {
    let run = samples_run();
    let out = run.out.path();
    for (file, schema) in [
        ("calls.parquet", CALLS_SCHEMA),
        ("hits.parquet", HITS_SCHEMA),
        ("scorecards.parquet", SCORECARDS_SCHEMA),
    ] {
        let df = read_parquet(&out.join(file));
        let names = column_names(&df);
        let fixed: Vec<&str> = schema.iter().map(|(n, _)| *n).collect();
        assert_eq!(&names[..fixed.len()], &fixed[..], "{file}");
    }
    let calls = read_parquet(&out.join("calls.parquet"));
    assert_eq!(calls.height(), 5);
    assert!(
        column_names(&calls).contains(&"queue".to_string()),
        "extra manifest columns are carried through"
    );
    let passed = calls.column("passed").unwrap().bool().unwrap().clone();
    let failed_rules = strings(&calls, "failed_rules");
    for (call, should_pass) in [
        ("call-001", true),
        ("call-002", false),
        ("call-003", true),
        ("call-004", false),
        ("call-005", true),
    ] {
        let row = row_of(&calls, call);
        assert_eq!(
            passed.get(row),
            Some(should_pass),
            "{call}: failed rules {:?}",
            failed_rules[row]
        );
    }
    let rules_002 = failed_rules[row_of(&calls, "call-002")].clone().unwrap();
    for rule in [
        "greeting_missing",
        "closing_missing",
        "forbidden_phrase",
        "nine_dont_phrase",
    ] {
        assert!(rules_002.contains(rule), "call-002: {rules_002}");
    }
    let holds = calls.column("holds").unwrap().i32().unwrap().clone();
    let holds_ok = calls.column("holds_ok").unwrap().i32().unwrap().clone();
    let r3 = row_of(&calls, "call-003");
    let r4 = row_of(&calls, "call-004");
    assert_eq!(
        (holds.get(r3), holds_ok.get(r3)),
        (Some(1), Some(1)),
        "call-003 holds politely"
    );
    assert_eq!(
        (holds.get(r4), holds_ok.get(r4)),
        (Some(1), Some(0)),
        "call-004 holds without a word"
    );
    let cards = read_parquet(&out.join("scorecards.parquet"));
    assert_eq!(
        strings(&cards, "agent_id")
            .iter()
            .flatten()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("call-002") && report.contains("我不大清楚"), "{report}");
    assert!(
        run.stderr.contains("[5/5]"),
        "plain progress lines without a terminal: {}",
        run.stderr
    );
}

#[test]
fn a_second_run_reuses_every_transcript() {
    let run = samples_run();
    let _lock = whisper_lock();
    let started = Instant::now();
    let output = callqa()
        .args(["run", samples().to_str().unwrap(), "--out"])
        .arg(run.out.path())
        .arg("--model")
        .arg(model())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("transcript reused").count(), 5, "{stderr}");
    eprintln!("rerun took {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn bad_inputs_are_reported_and_the_batch_goes_on() {
    let _lock = whisper_lock();
    let dir = workdir();
    let audio = dir.path().join("audio");
    std::fs::create_dir(&audio).unwrap();
    std::fs::copy(samples().join("call-004.wav"), audio.join("good.wav")).unwrap();
    std::fs::write(audio.join("empty.wav"), b"").unwrap();
    std::fs::write(audio.join("notes.wav"), "会议记录，不是录音。".as_bytes()).unwrap();
    let good = std::fs::read(samples().join("call-002.wav")).unwrap();
    std::fs::write(audio.join("truncated.wav"), &good[..good.len() / 4]).unwrap();
    std::fs::write(
        dir.path().join("manifest.csv"),
        "call_id,path,agent_id,started_at,queue\n\
         good,audio/good.wav,A1,2026-11-20T08:00:00,repair\n\
         empty,audio/empty.wav,A1,2026-11-20T08:05:00,repair\n\
         notes,audio/notes.wav,A2,2026-11-20T08:10:00,billing\n\
         truncated,audio/truncated.wav,A2,2026-11-20T08:15:00,billing\n\
         gone,audio/gone.wav,A3,2026-11-20T08:20:00,billing\n\
         anonymous,audio/good.wav,,2026-11-20T08:25:00,repair\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = callqa()
        .args([
            "run",
            dir.path().join("manifest.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .arg("--model")
        .arg(model())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a batch with failures exits 1: {stderr}");
    for (what, reason) in [
        ("empty.wav", "empty file"),
        ("notes.wav", "not a readable audio file"),
        ("truncated.wav", "truncated"),
        ("gone.wav", "does not exist"),
        ("manifest.csv:7", "missing agent id"),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(what) && l.contains(reason)),
            "{what} / {reason}:\n{stderr}"
        );
    }
    let calls = read_parquet(&out.join("calls.parquet"));
    let status = strings(&calls, "status");
    assert_eq!(calls.height(), 6, "every row is accounted for");
    assert_eq!(status.iter().filter(|s| s.as_deref() == Some("ok")).count(), 1);
    assert_eq!(status[row_of(&calls, "good")].as_deref(), Some("ok"));
    let errors = strings(&calls, "error");
    assert!(errors[row_of(&calls, "truncated")]
        .as_deref()
        .unwrap()
        .contains("truncated"));
    // a manifest row that failed keeps its call id, agent and day; where it
    // was is a column of its own
    let gone = row_of(&calls, "gone");
    assert_eq!(strings(&calls, "agent_id")[gone].as_deref(), Some("A3"));
    assert_eq!(
        strings(&calls, "started_at")[gone].as_deref(),
        Some("2026-11-20T08:20:00+08:00")
    );
    assert!(
        strings(&calls, "location")[gone]
            .as_deref()
            .unwrap()
            .ends_with("manifest.csv:6"),
        "{:?}",
        strings(&calls, "location")[gone]
    );
    assert_eq!(
        strings(&calls, "location")[row_of(&calls, "anonymous")]
            .as_deref()
            .map(|l| l.ends_with("manifest.csv:7")),
        Some(true)
    );
    // and a call that failed says at which stage
    assert_eq!(
        strings(&calls, "failed_stage")[row_of(&calls, "notes")].as_deref(),
        Some("probe")
    );
    assert_eq!(
        strings(&calls, "failed_stage")[row_of(&calls, "truncated")].as_deref(),
        Some("decode")
    );
}

/// A panic in any stage of one call is that call's failed row: the night goes
/// on, exits 1, and names the stage. The failure stands while the file is
/// unchanged (no retry every night) until `--retry-failed`.
#[test]
fn a_panic_in_one_call_is_one_failed_call() {
    let _lock = whisper_lock();
    let out = workdir();
    for stage in ["decode", "vad", "transcribe", "verify"] {
        // the others are transcribed once and reused; call-003 is tried again each time
        let output = run_samples(out.path())
            .arg("--retry-failed")
            .env("CALLQA_FAILPOINT", format!("{stage}:call-003"))
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{stage}: {stderr}");
        assert!(
            !stderr.contains("panicked at"),
            "{stage}: the panic is the call's, not printed: {stderr}"
        );
        let calls = read_parquet(&out.path().join("calls.parquet"));
        let row = row_of(&calls, "call-003");
        assert_eq!(strings(&calls, "status")[row].as_deref(), Some("failed"), "{stage}");
        assert_eq!(strings(&calls, "failed_stage")[row].as_deref(), Some(stage));
        assert!(
            strings(&calls, "error")[row]
                .as_deref()
                .unwrap()
                .contains(&format!("panic in {stage}")),
            "{stage}"
        );
        let ok = strings(&calls, "status")
            .iter()
            .filter(|s| s.as_deref() == Some("ok"))
            .count();
        assert_eq!(ok, 4, "{stage}: the other calls are scored");
    }
    // the same file, model and settings: the failure stands, not tried again
    let again = run_samples(out.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr_of(&again).contains("call-003: FAILED (as before"),
        "{}",
        stderr_of(&again)
    );
    // tried again on purpose, it goes through
    let retried = run_samples(out.path()).arg("--retry-failed").output().unwrap();
    assert!(retried.status.success(), "{}", stderr_of(&retried));
    let calls = read_parquet(&out.path().join("calls.parquet"));
    assert_eq!(
        strings(&calls, "status")[row_of(&calls, "call-003")].as_deref(),
        Some("ok")
    );
}

#[test]
fn a_killed_run_loses_nothing_and_resumes() {
    // Killed right after its first call is reported done (one worker): what
    // the assertions check does not depend on when the kill lands. Every call
    // reported done has its complete transcript; at most the one call in
    // flight may have one too; nothing is half-written; the rerun reuses
    // exactly the transcripts on disk and does the rest.
    use std::io::BufRead;
    let _lock = whisper_lock();
    let out = workdir();
    let mut child = run_samples(out.path()).stdout(Stdio::null()).spawn().unwrap();
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut reported: Vec<String> = Vec::new();
    let mut line = String::new();
    while reported.is_empty() && log.read_line(&mut line).unwrap() > 0 {
        // "[1/5] call-001: 36.8 s of audio in …"
        if let Some(rest) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
            reported.push(rest.1.split(':').next().unwrap().to_string());
        }
        line.clear();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let archive = callqa::store::OutDir::new(out.path());
    // (a kill during a write may leave a hidden temporary file, never a .json)
    let mut on_disk: Vec<String> = callqa::store::list_transcripts(&archive)
        .unwrap()
        .iter()
        .map(|p| callqa::transcript::Transcript::read(p).unwrap().call_id)
        .collect();
    on_disk.sort();
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        on_disk.contains(&reported[0]),
        "{reported:?} done but not on disk: {on_disk:?}"
    );
    assert!(
        on_disk.len() <= 2,
        "one worker: at most one call in flight: {on_disk:?}"
    );
    assert!(!out.path().join("calls.parquet").exists(), "no table from a killed run");

    let output = callqa()
        .args(["run", samples().to_str().unwrap(), "--out"])
        .arg(out.path())
        .arg("--model")
        .arg(model())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for call_id in &on_disk {
        assert!(
            stderr.contains(&format!("{call_id}: done before, transcript reused")),
            "{call_id}: {stderr}"
        );
    }
    assert_eq!(stderr.matches("transcript reused").count(), on_disk.len(), "{stderr}");
    assert_eq!(callqa::store::list_transcripts(&archive).unwrap().len(), 5);
}

#[test]
fn a_missing_model_says_how_to_get_one() {
    let out = workdir();
    callqa()
        .args(["run", samples().to_str().unwrap(), "--out"])
        .arg(out.path())
        .args(["--model", "/nowhere/ggml-base.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "whisper model not found at /nowhere/ggml-base.bin",
        ))
        .stderr(predicates::str::contains("scripts/setup.sh"));
}

/// Character error rate on real human speech (tests/fixtures/real-speech), so the
/// engine is not only tuned to one synthetic voice; reported per model.
#[test]
fn real_mandarin_speech_is_heard() {
    let speech = crate::common::repo().join("tests/fixtures/real-speech");
    let _lock = whisper_lock();
    // whisper base on whole clips scores 0.30 here (the clips' README)
    for (model_file, max_cer) in [("ggml-base-q8_0.bin", 0.29), ("ggml-base.bin", 0.30)] {
        let out = workdir();
        let output = callqa()
            .arg("run")
            .arg(&speech)
            .arg("--out")
            .arg(out.path())
            .arg("--model")
            .arg(installed_model(model_file))
            .args(["--name-pattern", r"^(?P<agent_id>[A-Z]+)"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let references = std::fs::read_to_string(speech.join("text")).unwrap();
        let (mut errors, mut total) = (0, 0);
        for line in references.lines() {
            let (id, words) = line.split_once(char::is_whitespace).unwrap();
            let reference: Vec<char> = words.chars().filter(|c| !c.is_whitespace()).collect();
            let t = transcript(out.path(), id);
            let heard = callqa::text::normalize(
                &t.segments.iter().map(|s| s.text.as_str()).collect::<String>(),
                &callqa::text::NormalizeOptions { ni_nin_alike: false },
            );
            let e = edit_distance(&reference, &heard.chars);
            eprintln!("{model_file} {id}: {e}/{} errors: {}", reference.len(), heard.text);
            errors += e;
            total += reference.len();
        }
        let cer = errors as f64 / total as f64;
        eprintln!("{model_file}: character error rate {cer:.3} ({errors}/{total})");
        assert!(cer <= max_cer, "{model_file}: CER {cer:.3}");
    }
}

/// The same calls through a phone line (AMR-NB, noise, babble, G.711):
/// data-samples/noisy, made by scripts/make_noisy_samples.py.
#[test]
fn phone_line_calls_are_heard_without_inventions() {
    let _lock = whisper_lock();
    let noisy = samples().join("noisy");
    let out = workdir();
    let output = callqa()
        .args(["run", noisy.to_str().unwrap(), "--out"])
        .arg(out.path())
        .arg("--model")
        .arg(model())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("no VAD model"),
        "the Silero VAD is installed and used: {stderr}"
    );

    let pack = callqa::pack::builtin_pack();
    let said = callqa::eval::phrase_counts(
        &callqa::eval::scripted_transcripts(&noisy.join("expected.json")).unwrap(),
        &pack,
    );
    let transcripts: Vec<_> = ["noisy-001", "noisy-002", "noisy-003", "noisy-004", "noisy-005"]
        .iter()
        .map(|id| transcript(out.path(), id))
        .collect();
    let found = callqa::eval::phrase_counts(&transcripts, &pack);
    let score = callqa::eval::PhraseScore::new(&said, &found);
    eprintln!(
        "phone-line calls: recall {}/{} = {:.2}, precision {:.2}; differences {:?}",
        score.matched,
        score.said,
        score.recall(),
        score.precision(),
        score.differences
    );
    // Noise, babble and codec must not make phrases out of nothing; recall is
    // below the clean calls' (0.91-0.94), and must not fall further. Measured
    // 26/34 on one machine and 25/34 on another: CPUs with different vector
    // units round whisper's floats differently, which flips a greedy decode or
    // two on these noisy lines. 24/34 since the audio context is rounded up to
    // 16 frames for llamafile's kernels: one more chunk of noisy-001 stops
    // after its first sentence. 25/34 again with OpenBLAS multiplying the
    // encoder's matrices in f32. The floor stays at 24, the lowest measured
    // with the current settings; it is not room for a loss.
    assert_eq!(score.precision(), 1.0, "{:?}", score.differences);
    // whisper drops noisy-001's 让您久等了，您的地址是幸福路十二号吗 from the
    // chunk it shares with the hold request, ending it unsure at 3.3
    // characters a voiced second; decoded again in halves, the line is heard
    assert!(
        found.contains_key(&("noisy-001".to_string(), "hold_return.kept_waiting".to_string())),
        "noisy-001's hold return: {:?}",
        score.differences
    );
    assert!(
        score.matched >= 24,
        "recall {}/{} = {:.2}",
        score.matched,
        score.said,
        score.recall()
    );
    for t in &transcripts {
        for s in &t.segments {
            assert!(
                !s.text.contains(['(', ')', '（', '）']) && !s.text.contains("普通话的句子"),
                "{}: a whisper invention survived: {}",
                t.call_id,
                s.text
            );
        }
    }
}

/// Without a VAD model beside the whisper model, `run` says so and finds
/// speech by energy instead.
#[test]
fn without_a_vad_model_the_energy_vad_takes_over() {
    let _lock = whisper_lock();
    let dir = workdir();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::os::unix::fs::symlink(model(), models.join("ggml-base-q8_0.bin")).unwrap();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        format!(
            "call_id,path,agent_id,agent_channel\ncall-004,{},A003,left\n",
            samples().join("call-004.wav").display()
        ),
    )
    .unwrap();
    // call-004 into the folder `out`, with the VAD model `vad` if one is named
    let run = |out: &str, vad: Option<&std::path::Path>| {
        let mut command = callqa();
        command
            .arg("run")
            .arg(&manifest)
            .arg("--out")
            .arg(dir.path().join(out))
            .arg("--model")
            .arg(models.join("ggml-base-q8_0.bin"));
        if let Some(vad) = vad {
            command.arg("--vad-model").arg(vad);
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run("out", None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("no VAD model at") && stderr.contains("energy"),
        "{stderr}"
    );
    let t = transcript(&dir.path().join("out"), "call-004");
    let agent: String = t.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(agent.contains("那不是我的错"), "{agent}");

    // A VAD model named on the command line must exist
    let (code, stderr) = run("out2", Some(&dir.path().join("missing-vad.bin")));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("VAD model not found"), "{stderr}");

    // and be one: the whisper model in its place is refused with the reason
    let (code, stderr) = run("out3", Some(&models.join("ggml-base-q8_0.bin")));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot load the VAD model: ") && stderr.contains("no model type where silero-16k belongs"),
        "{stderr}"
    );
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Two calls whose ids differ only in characters a file name cannot hold are
/// two transcripts and two rows, never one.
#[test]
fn call_ids_that_look_alike_on_disk_stay_two_calls() {
    let _lock = whisper_lock();
    let dir = workdir();
    let manifest = dir.path().join("manifest.csv");
    let audio = samples().join("call-004.wav");
    std::fs::write(
        &manifest,
        format!(
            "call_id,path,agent_id\na/b,{},A003\na_b,{},A003\n",
            audio.display(),
            audio.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = callqa()
        .arg("run")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(model())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        callqa::store::list_transcripts(&callqa::store::OutDir::new(&out))
            .unwrap()
            .len(),
        2
    );
    let calls = read_parquet(&out.join("calls.parquet"));
    let mut ids = strings(&calls, "call_id");
    ids.sort();
    assert_eq!(ids, [Some("a/b".to_string()), Some("a_b".to_string())]);
}

/// Issue 21, run as a user would: two manifest rows with one call id (two
/// recordings), and a call id of 90 Chinese characters (270 bytes, more
/// than a file name can hold). Every row ends in calls.parquet or
/// failures.json; the long id is one call like any other; and once the
/// manifest is fixed, the duplicate's failure goes with it (no ghost).
#[test]
fn every_manifest_row_is_accounted_for() {
    let dir = workdir();
    let manifest = dir.path().join("manifest.csv");
    let (first, second) = (samples().join("call-004.wav"), samples().join("call-002.wav"));
    let long_id = "北京市朝阳区燃气客服中心二〇二六年十一月十九日晚间投诉回访录音".repeat(3);
    assert!(long_id.chars().count() >= 90 && long_id.len() >= 270);
    let write = |rows: &[(&str, &Path)]| {
        let mut text = String::from("call_id,path,agent_id\n");
        for (id, path) in rows {
            text.push_str(&format!("{id},{},A003\n", path.display()));
        }
        std::fs::write(&manifest, text).unwrap();
    };
    write(&[("dup", &first), ("dup", &second), (&long_id, &first)]);
    let out = dir.path().join("out");
    let run = || run_folder(&manifest, &out, &["--no-progress"]);
    let output = run();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "the duplicate is a failure: {stderr}");
    assert!(
        !stderr.contains("File name too long") && !stderr.contains("Free space"),
        "{stderr}"
    );
    let calls = read_parquet(&out.join("calls.parquet"));
    let (ids, status) = (strings(&calls, "call_id"), strings(&calls, "status"));
    let rows: Vec<(String, String)> = ids
        .iter()
        .zip(&status)
        .map(|(i, s)| (i.clone().unwrap_or_default(), s.clone().unwrap_or_default()))
        .collect();
    assert!(rows.contains(&(long_id.clone(), "ok".into())), "{rows:?}");
    assert!(
        rows.contains(&("dup".into(), "ok".into())),
        "the first row is the call: {rows:?}"
    );
    let failures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("failures.json")).unwrap()).unwrap();
    let failures = failures.as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0]["reason"]
            .as_str()
            .unwrap()
            .contains("duplicate call id dup"),
        "{failures:?}"
    );
    assert!(
        failures[0]["location"].as_str().unwrap().ends_with("manifest.csv:3"),
        "{failures:?}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("1 could not be processed"), "{report}");

    // the manifest fixed: the next run reuses both calls and the duplicate is gone
    write(&[("dup", &first), (&long_id, &first)]);
    let output = run();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let failures = std::fs::read_to_string(out.join("failures.json")).unwrap();
    assert_eq!(failures.trim(), "[]");
    let score = callqa().args(["score", "--out"]).arg(&out).output().unwrap();
    assert_eq!(
        score.status.code(),
        Some(0),
        "no ghost of the old row: {}",
        stderr_of(&score)
    );
}

/// Issue 21, time zones as a user meets them: a manifest in UTC with
/// fractions of a second, read on a machine whose own clock is New York's.
/// The day is the center's (Shanghai by the default pack). Then the center's
/// zone is corrected to UTC: each call moves to its UTC day, its transcript
/// moved with it, not transcribed again, and no copy left under the old day.
#[test]
fn the_day_is_the_centers_and_a_corrected_day_moves_the_call() {
    let dir = workdir();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        format!(
            "call_id,path,agent_id,started_at\nc4,{},A003,2026-11-19T20:00:00.000Z\nc2,{},A002,2026-11-19 23:30:00+08:00\n",
            samples().join("call-004.wav").display(),
            samples().join("call-002.wav").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = |zone: Option<&str>| {
        let _whisper = whisper_lock();
        let mut cmd = callqa();
        cmd.arg("run")
            .arg(&manifest)
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(model());
        cmd.args(["--no-progress"]).env("TZ", "America/New_York");
        if let Some(zone) = zone {
            cmd.args(["--time-zone", zone]);
        }
        cmd.output().unwrap()
    };
    let days = || {
        let calls = read_parquet(&out.join("calls.parquet"));
        let mut rows: Vec<(String, String)> = strings(&calls, "call_id")
            .into_iter()
            .zip(strings(&calls, "started_at"))
            .map(|(id, at)| (id.unwrap(), at.unwrap()))
            .collect();
        rows.sort();
        rows
    };
    let output = run(None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        days(),
        [
            ("c2".to_string(), "2026-11-19T23:30:00+08:00".to_string()),
            ("c4".to_string(), "2026-11-20T04:00:00+08:00".to_string())
        ]
    );
    let transcripts = out.join("transcripts");
    assert!(transcripts.join("2026-11-20/c4.json").is_file());
    assert!(transcripts.join("2026-11-19/c2.json").is_file());

    let output = run(Some("UTC"));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("0 transcribed, 2 reused"),
        "moved, not redone: {stderr}"
    );
    assert_eq!(
        days(),
        [
            ("c2".to_string(), "2026-11-19T15:30:00+00:00".to_string()),
            ("c4".to_string(), "2026-11-19T20:00:00+00:00".to_string())
        ]
    );
    assert!(transcripts.join("2026-11-19/c4.json").is_file());
    assert!(
        !transcripts.join("2026-11-20/c4.json").exists(),
        "no copy left under the old day"
    );
    assert_eq!(
        callqa::store::list_transcripts(&callqa::store::OutDir::new(&out))
            .unwrap()
            .len(),
        2
    );
    let calls = read_parquet(&out.join("calls.parquet"));
    let date = calls
        .column("call_date")
        .unwrap()
        .cast(&polars::prelude::DataType::String)
        .unwrap();
    let date = polars::prelude::DataFrame::new(date.len(), vec![date]).unwrap();
    assert_eq!(
        strings(&date, "call_date"),
        [Some("2026-11-19".into()), Some("2026-11-19".into())]
    );
}

/// Night after night into one output folder: a call whose audio breaks is
/// failed, not scored from its old transcript; calls of earlier nights stay,
/// and so do their open failures, until they are processed again.
#[test]
fn no_stale_verdicts_across_runs() {
    let _lock = whisper_lock();
    let dir = workdir();
    let out = dir.path().join("out");
    let run = |rows: &str| {
        let manifest = dir.path().join("manifest.csv");
        std::fs::write(&manifest, format!("call_id,path,agent_id\n{rows}")).unwrap();
        callqa()
            .arg("run")
            .arg(&manifest)
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(model())
            .output()
            .unwrap()
    };
    let status_of = |call_id: &str| {
        let calls = read_parquet(&out.join("calls.parquet"));
        let ids = strings(&calls, "call_id");
        assert_eq!(
            ids.iter().filter(|id| id.as_deref() == Some(call_id)).count(),
            1,
            "{ids:?}"
        );
        strings(&calls, "status")[row_of(&calls, call_id)].clone().unwrap()
    };
    let good = samples().join("call-004.wav");
    let broken = dir.path().join("broken.wav");
    std::fs::write(&broken, b"").unwrap();

    assert_eq!(run(&format!("c4,{},A003\n", good.display())).status.code(), Some(0));
    assert_eq!(status_of("c4"), "ok");
    // the same call, its audio now broken: failed, though its old transcript is there
    assert_eq!(run(&format!("c4,{},A003\n", broken.display())).status.code(), Some(1));
    assert_eq!(status_of("c4"), "failed");
    // another night, another call: c4's failure stays open, and run says so
    let output = run(&format!("c2,{},A002\n", samples().join("call-002.wav").display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("calls of earlier runs"), "{stderr}");
    assert_eq!((status_of("c2").as_str(), status_of("c4").as_str()), ("ok", "failed"));
    // c4 fixed: scored again, its failure closed
    assert_eq!(run(&format!("c4,{},A003\n", good.display())).status.code(), Some(0));
    assert_eq!(status_of("c4"), "ok");
    let failures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("failures.json")).unwrap()).unwrap();
    assert_eq!(failures.as_array().unwrap().len(), 0, "{failures}");
}

/// Calls re-timed to break one timing rule each, and one to pass the hold
/// check-in rule with check-ins in a long hold (scripts/make_timing_samples.py):
/// what the construction put there is what callqa measures.
#[test]
fn timing_rules_measure_calls_built_for_them() {
    let timing = samples().join("timing");
    let out = workdir();
    let run = run_folder(&timing, out.path(), &["--jobs", "1", "--no-progress"]);
    assert!(run.status.success(), "{}", stderr_of(&run));
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(timing.join("expected.json")).unwrap()).unwrap();
    let calls = read_parquet(&out.path().join("calls.parquet"));
    let hits = read_parquet(&out.path().join("hits.parquet"));
    let float = |column: &str, row: usize| calls.column(column).unwrap().f64().unwrap().get(row);
    let count = |column: &str, row: usize| calls.column(column).unwrap().i32().unwrap().get(row);
    let hit_rows: Vec<(Option<String>, Option<String>)> = strings(&hits, "call_id")
        .into_iter()
        .zip(strings(&hits, "phrase_id"))
        .collect();
    for (call_id, call) in expected.as_object().unwrap() {
        let row = row_of(&calls, call_id);
        let figures = &call["timing"];
        // seconds from speech detection: a few hundred ms either way
        for column in ["first_response_s", "longest_dead_air_s", "longest_talk_over_s"] {
            if let Some(want) = figures[column].as_f64() {
                let got = float(column, row).unwrap_or_else(|| panic!("{call_id}: no {column}"));
                assert!(
                    (got - want).abs() <= 0.6,
                    "{call_id}: {column} {got:.2}, built as {want}"
                );
            }
        }
        for column in ["dead_air_count", "talk_over_count", "hold_checkins_missed"] {
            if let Some(want) = figures[column].as_i64() {
                assert_eq!(count(column, row), Some(want as i32), "{call_id}: {column}");
            }
        }
        if figures["speech_rate"] == "fast" {
            let pace = float("agent_chars_per_min", row).unwrap();
            assert!(pace > 330.0, "{call_id}: {pace:.0} characters a minute");
        }
        let failed = strings(&calls, "failed_rules")[row].clone().unwrap_or_default();
        // rules the call was built to pass (a long hold with check-ins)
        for rule in figures["passed_rules"].as_array().into_iter().flatten() {
            let rule = rule.as_str().unwrap();
            assert!(
                !failed.split(';').any(|r| r == rule),
                "{call_id}: {rule} failed: {failed}"
            );
        }
        for rule in figures["failed_rules"].as_array().unwrap() {
            let rule = rule.as_str().unwrap();
            assert!(
                failed.split(';').any(|r| r == rule),
                "{call_id}: {rule} not in {failed}"
            );
            let phrase_id = format!("acoustic.{rule}");
            assert!(
                hit_rows
                    .iter()
                    .any(|(c, p)| c.as_deref() == Some(call_id) && p.as_deref() == Some(&phrase_id)),
                "{call_id}: no {phrase_id} row in hits.parquet"
            );
        }
    }
}

/// Stereo sample calls mixed down to one channel, and the two recorded mono
/// (scripts/make_mono_samples.py): who said each segment is known from the
/// stereo original, and callqa tells it from the voices.
#[test]
fn mono_calls_are_attributed_to_agent_and_customer() {
    use callqa::lexicon::Matcher;
    use callqa::pack::builtin_pack;
    let mono = samples().join("mono");
    let out = workdir();
    let run = run_folder(&mono, out.path(), &["--no-progress"]);
    assert!(run.status.success(), "{}", stderr_of(&run));
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(mono.join("expected.json")).unwrap()).unwrap();
    let pack = builtin_pack();
    let matcher = Matcher::new(&pack.lexicon);
    let calls = read_parquet(&out.path().join("calls.parquet"));
    let (mut right, mut wrong, mut unsure) = (0, 0, 0);
    let mut report = String::new();
    for (call_id, call) in expected.as_object().unwrap() {
        let turns: Vec<(Speaker, f64, f64, &str)> = call["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let who = if t["speaker"] == "agent" {
                    Speaker::Agent
                } else {
                    Speaker::Customer
                };
                (
                    who,
                    t["start_s"].as_f64().unwrap(),
                    t["end_s"].as_f64().unwrap(),
                    t["text"].as_str().unwrap(),
                )
            })
            .collect();
        let transcript = transcript(out.path(), call_id);
        assert!(transcript.voice_prints.is_some(), "{call_id}: no voice prints");
        let (attributed, attribution, _) = callqa::rules::speakers_as_told(&transcript, &matcher, &pack.rule_book());
        let (mut call_right, mut call_n) = (0, 0);
        for segment in &attributed.segments {
            let Some(truth) = who_said(segment, &turns) else {
                continue;
            };
            call_n += 1;
            match segment.speaker {
                Speaker::Unknown => unsure += 1,
                said if said == truth => {
                    right += 1;
                    call_right += 1;
                }
                _ => {
                    wrong += 1;
                    report.push_str(&format!(
                        "  {call_id} {:.1}-{:.1} {:?} given to {:?}: {}\n",
                        segment.start, segment.end, truth, segment.speaker, segment.text
                    ));
                }
            }
        }
        let row = row_of(&calls, call_id);
        let column = calls.column("speaker_confidence").unwrap().f64().unwrap().get(row);
        assert_eq!(
            column, attribution.confidence,
            "{call_id}: the column is the attribution's"
        );
        assert_eq!(
            strings(&calls, "speakers_from")[row].as_deref(),
            Some(attribution.from.as_str()),
            "{call_id}: the column is the attribution's"
        );
        assert_ne!(attribution.from, callqa::rules::SpeakersFrom::Channels, "{call_id}");
        report.push_str(&format!(
            "{call_id}: {call_right}/{call_n} right, confidence {:?}, {:?}\n",
            attribution.confidence, attribution.note
        ));
    }
    let total = right + wrong + unsure;
    eprintln!("{report}attributed right: {right}/{total}, wrong {wrong}, unsure {unsure}");
    // Issue 9 asks for 90 % right; measured 167/181 (92 %) right, 5 wrong,
    // 9 left unknown (the same with one call decoded at a time)
    assert!(right * 100 >= total * 90, "{right}/{total} right\n{report}");
    assert!(wrong * 100 <= total * 5, "{wrong}/{total} wrong\n{report}");

    // no customer phrase is charged to the agent: every nine-don't or forbidden
    // phrase hit lies in what its speaker said; mono-010 and mono-011 have the
    // customer say six of them (scripts/make_mono_dialogues.py), the agent none
    let hits = read_parquet(&out.path().join("hits.parquet"));
    let starts = hits.column("start_s").unwrap().f64().unwrap();
    let mut charged_to_customer = 0;
    for (i, ((call_id, category), speaker)) in strings(&hits, "call_id")
        .into_iter()
        .zip(strings(&hits, "category"))
        .zip(strings(&hits, "speaker"))
        .enumerate()
    {
        let (call_id, category, speaker) = (call_id.unwrap(), category.unwrap(), speaker.unwrap());
        if !["nine_dont", "forbidden"].contains(&category.as_str()) {
            continue;
        }
        let at = starts.get(i).unwrap();
        let said_by = expected[&call_id]["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["start_s"].as_f64().unwrap() - 0.5 <= at && at <= t["end_s"].as_f64().unwrap() + 0.5)
            .map(|t| t["speaker"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        let charged_to = if speaker == "customer" { "customer" } else { "agent" };
        assert!(
            said_by.iter().any(|s| s == charged_to),
            "{call_id}: a {category} hit at {at:.1} s charged to the {speaker}, said by {said_by:?}"
        );
        if charged_to == "customer" && expected[&call_id]["made_from"] == "spoken mono" {
            charged_to_customer += 1;
        }
    }
    eprintln!(
        "customers' nine-don't and forbidden lines heard and charged to the customer: {charged_to_customer} of 6"
    );
    assert!(
        charged_to_customer >= 4,
        "the customers' lines of mono-010/011: {charged_to_customer} of 6 heard as the customer's"
    );
}

/// Who said a segment, by the script: whisper's times drift a second or two
/// inside a stretch of speech, so time alone misleads. The speaker whose line
/// near the segment (2 s either way) shares the most characters with it, in
/// order (a bag of characters gives 是等 to 让您久等了…是… rather than to 是的);
/// a tie goes to the line it overlaps longer. `None` for text in no line.
fn who_said(segment: &callqa::transcript::Segment, turns: &[(Speaker, f64, f64, &str)]) -> Option<Speaker> {
    let chars = |text: &str| text.chars().filter(|c| c.is_alphanumeric()).collect::<Vec<char>>();
    let in_order = |a: &[char], b: &[char]| {
        // longest common subsequence, one row at a time
        let mut row = vec![0usize; b.len() + 1];
        for &x in a {
            let mut diagonal = 0;
            for (j, &y) in b.iter().enumerate() {
                let above = row[j + 1];
                row[j + 1] = if x == y { diagonal + 1 } else { above.max(row[j]) };
                diagonal = above;
            }
        }
        row[b.len()]
    };
    let said = chars(&segment.text);
    let mut best: Vec<(Speaker, (usize, f64))> = Vec::new();
    for &(who, start, end, text) in turns {
        if end < segment.start - 2.0 || start > segment.end + 2.0 {
            continue;
        }
        let shared = in_order(&said, &chars(text));
        let overlap = (end.min(segment.end) - start.max(segment.start)).max(0.0);
        best.push((who, (shared, overlap)));
    }
    best.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(b.1 .1.total_cmp(&a.1 .1)));
    match best.as_slice() {
        [(_, (0, _)), ..] | [] => None,
        [(a, first), (b, second), ..] if a != b && first == second => None,
        [(who, _), ..] => Some(*who),
    }
}

/// `callqa run FOLDER --out OUT` with the default model, one whisper test at a time.
fn run_folder(folder: &std::path::Path, out: &std::path::Path, args: &[&str]) -> std::process::Output {
    let _whisper = whisper_lock();
    callqa()
        .arg("run")
        .arg(folder)
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(model())
        .args(args)
        .output()
        .unwrap()
}

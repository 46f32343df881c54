//! Re-scoring speed and memory: the `callqa score` binary over generated
//! transcripts of realistic length (a 4–6 minute call: 50–70 clauses, agent and
//! customer taking turns; greeting and closing in most calls, phrases and ASR
//! slips now and then; 200 agents over 28 days, stored by day as `run` stores
//! them), against the floor of just reading and parsing the same JSON files,
//! in the same run, printed beside it as a ratio. Peak memory is each `score`
//! process's own maximum resident set; with several sizes in one run, each
//! size's peak is also given against the smallest's (memory should not grow
//! with the archive).
//!
//! The search index in the same run: `score --no-index` against `score` keeping
//! an up-to-date index (the overhead a nightly re-score pays for search), the
//! first build of the index, and `callqa search` answering warm queries over the
//! whole archive (process start, index open, candidates, verification, output).
//!
//!     cargo bench --bench rescore               (100,000 calls)
//!     CALLS=10000,50000,100000 cargo bench --bench rescore   (each size, one table)
//!     CALLS=1000000 ROUNDS=1 cargo bench --bench rescore
//!     CALLS=20000 ROUNDS=3 BENCH_DIR=/big/disk cargo bench --bench rescore
//!     ARCHIVE=/big/disk/m CALLS=1000000 cargo bench --bench rescore   (kept in m/1000000 for the next run)

use std::path::Path;
use std::time::Instant;

use callqa::store::{list_transcripts, OutDir};
use callqa::transcript::{AgentChannel, Fingerprint, Segment, Speaker, Transcript};
use rayon::prelude::*;

/// Opening and closing lines, said in most calls.
const OPENINGS: &[&str] = &[
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "您好，请问有什么可以帮到您？",
    "喂，您好。",
];
const CLOSINGS: &[&str] = &[
    "请问还有什么可以帮助您的吗？",
    "感谢您的来电，祝您生活愉快，再见。",
    "好的，再见。",
];
/// The middle of a call: mostly business, now and then a lexicon phrase or an ASR slip.
const AGENT: &[&str] = &[
    "好的，我明白您的意思。",
    "您的地址是幸福路十二号吗？",
    "我们会安排维修人员两个小时内上门。",
    "燃气表的读数是三百二十一。",
    "您上个月的用气量是四十二立方。",
    "麻烦您把户号再说一遍。",
    "这个费用包含了上门服务费。",
    "维修师傅会先给您打电话。",
    "您可以通过微信公众号缴费。",
    "我这边已经帮您登记好了。",
    "嗯，对，是这样的。",
    "请您稍等，我帮您查询一下。",
    "请您收等，我看一下系统。",
    "让您久等了，",
    "我能理解您的感受。",
    "我不大清楚，您可以去营业厅问一下。",
];
const CUSTOMER: &[&str] = &[
    "你好，我家的燃气好像有问题。",
    "对，是的。",
    "上个月的费用怎么这么高？",
    "我不知道怎么看燃气表。",
    "好的，谢谢。",
    "那大概什么时候能到？",
    "没有了。",
    "我的户号是一二三四五六。",
];
/// Now and then a customer threatens to complain: what the search queries look for.
const ANGRY: &[&str] = &["你们这样我要投诉。", "我要打12315投诉你们。", "找你们领导来。"];
/// The queries timed against the archive: a word, a phrase, OR, NOT, NEAR, tolerant.
const QUERIES: &[&[&str]] = &[
    &["投诉"],
    &["\"燃气表的读数\""],
    &["12315", "OR", "领导"],
    &["投诉", "NOT", "12315"],
    &["投诉", "NEAR/30", "久等"],
    &["--match", "tolerant", "投苏"],
    &["--speaker", "customer", "--order", "worst", "投诉"],
];

/// One size's figures, medians over the rounds.
struct Figures {
    calls: usize,
    parse_s: f64,
    score_s: f64,
    unindexed_s: f64,
    first_build_s: f64,
    query_s: f64,
    slowest_query_s: f64,
    /// The largest resident set of one `score` run (keeping the index), in MB.
    peak_mb: f64,
}

fn main() -> anyhow::Result<()> {
    // CALLS=10000,50000 measures each size in one run (ratios side by side)
    let sizes: Vec<usize> = std::env::var("CALLS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .map(|c| c.trim().parse())
        .collect::<Result<_, _>>()?;
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|c| c.parse().ok()).unwrap_or(3);
    // ARCHIVE=DIR keeps the generated calls there (DIR/<calls>) for the next
    // run (a million take minutes to write); otherwise temporary folders under BENCH_DIR.
    let temporary = tempfile::tempdir_in(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )?;
    let base = std::env::var_os("ARCHIVE").map_or_else(|| temporary.path().to_path_buf(), std::path::PathBuf::from);
    let mut all = Vec::new();
    for &calls in &sizes {
        let out = base.join(calls.to_string());
        std::fs::create_dir_all(&out)?;
        all.push(measure(&out, calls, rounds)?);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{cores} cores, {rounds} rounds (medians); the floor is reading and parsing the same JSON files on every core, in the same run:");
    println!("     calls   floor s   score s  score/floor  --no-index s  index kept  first build s  peak MB  peak / smallest's");
    let smallest_peak = all.first().map_or(f64::NAN, |f| f.peak_mb);
    for f in &all {
        println!(
            "{:>10} {:>9.2} {:>9.2} {:>11.2}x {:>13.2} {:>+10.0}% {:>14.2} {:>8.0} {:>17.2}x",
            f.calls,
            f.parse_s,
            f.score_s,
            f.score_s / f.parse_s,
            f.unindexed_s,
            (f.score_s / f.unindexed_s - 1.0) * 100.0,
            f.first_build_s,
            f.peak_mb,
            f.peak_mb / smallest_peak
        );
    }
    for f in &all {
        println!(
            "{} calls: one million at this rate {:.0} s; callqa search, warm ({} queries x {rounds} rounds): median {:.2} s, slowest {:.2} s",
            f.calls,
            f.score_s * 1e6 / f.calls as f64,
            QUERIES.len(),
            f.query_s,
            f.slowest_query_s
        );
    }
    Ok(())
}

/// Generates `calls` transcripts in `out` (once) and measures them.
fn measure(out: &Path, calls: usize, rounds: usize) -> anyhow::Result<Figures> {
    let done = out.join(format!(".generated-{calls}"));
    if !done.exists() {
        let started = Instant::now();
        let bytes: u64 = (0..calls)
            .into_par_iter()
            .map(|i| write_call(out, i))
            .sum::<anyhow::Result<u64>>()?;
        std::fs::write(&done, b"")?;
        eprintln!(
            "generated {calls} transcripts ({:.0} MB) in {:.1} s",
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }

    let callqa = |args: &[&str]| -> anyhow::Result<(f64, std::process::Output, f64)> {
        let started = Instant::now();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_callqa"));
        command.args(args).arg("--out").arg(out);
        let (output, peak_mb) = run_measured(command)?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            output.status.success(),
            "callqa {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok((seconds, output, peak_mb))
    };
    // The first build of the index, from nothing (kept for the rounds below).
    std::fs::remove_dir_all(out.join("search-index")).or_else(ignore_missing)?;
    let (first_build_s, _, _) = callqa(&["score", "--quiet"])?;
    eprintln!("score building the search index from nothing: {first_build_s:.2} s");

    let (mut parse_times, mut score_times, mut unindexed_times) = (Vec::new(), Vec::new(), Vec::new());
    let mut query_times = Vec::new();
    let mut peak_mb: f64 = 0.0;
    for round in 0..rounds {
        let started = Instant::now();
        let segments: usize = list_transcripts(&OutDir::new(out))?
            .into_par_iter()
            .map(|p| Transcript::read(&p).map(|t| t.segments.len()).unwrap_or(0))
            .sum();
        parse_times.push(started.elapsed().as_secs_f64());
        let (seconds, _, _) = callqa(&["score", "--quiet", "--no-index"])?;
        unindexed_times.push(seconds);
        let (seconds, output, peak) = callqa(&["score", "--json", "--quiet"])?;
        score_times.push(seconds);
        peak_mb = peak_mb.max(peak);
        let mut found = Vec::new();
        for query in QUERIES {
            let mut args = vec!["search", "--format", "json", "--limit", "20"];
            args.extend_from_slice(query);
            let (seconds, output, _) = callqa(&args)?;
            query_times.push(seconds);
            let results: serde_json::Value = serde_json::from_slice(&output.stdout)?;
            found.push(format!(
                "{} {:.2} s ({} shown)",
                query.join(" "),
                seconds,
                results.as_array().map_or(0, Vec::len)
            ));
        }
        eprintln!("round {}: queries: {}", round + 1, found.join("; "));
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let hits = summary["archive"]["hits"].as_u64().unwrap_or(0);
        eprintln!(
            "round {}: parse {:.2} s ({segments} segments), score {:.2} s without index, {:.2} s keeping it ({hits} hits, {:.1} per call), peak {peak_mb:.0} MB",
            round + 1,
            parse_times[round],
            unindexed_times[round],
            score_times[round],
            hits as f64 / calls as f64
        );
    }
    let slowest_query_s = query_times.iter().copied().fold(0.0, f64::max);
    Ok(Figures {
        calls,
        parse_s: median(&mut parse_times),
        score_s: median(&mut score_times),
        unindexed_s: median(&mut unindexed_times),
        first_build_s,
        query_s: median(&mut query_times),
        slowest_query_s,
        peak_mb,
    })
}

/// Runs `command` to the end, its output captured, and its own largest
/// resident set in MB (wait4 on the one child, not the maximum over all
/// children so far: the first build of the index is not a re-score).
fn run_measured(mut command: std::process::Command) -> anyhow::Result<(std::process::Output, f64)> {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let (mut stdout, mut stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let errors = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr.read_to_end(&mut bytes).map(|_| bytes)
    });
    let mut out = Vec::new();
    stdout.read_to_end(&mut out)?;
    let err = errors.join().expect("the stderr reader does not panic")?;
    let mut status = 0;
    // SAFETY: wait4 only writes into the two values it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    anyhow::ensure!(waited > 0, "waiting for callqa: {}", std::io::Error::last_os_error());
    Ok((
        std::process::Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: out,
            stderr: err,
        },
        usage.ru_maxrss as f64 / 1024.0, // kilobytes on Linux
    ))
}

fn ignore_missing(error: std::io::Error) -> std::io::Result<()> {
    match error.kind() {
        std::io::ErrorKind::NotFound => Ok(()),
        _ => Err(error),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One generated call; deterministic per index.
fn write_call(out: &Path, i: usize) -> anyhow::Result<u64> {
    let mut seed = (i as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut t = 0.8;
    let mut segments = Vec::with_capacity(64);
    let n = 50 + next(20);
    for k in 0..n {
        let (speaker, line) = if k == 0 {
            (Speaker::Agent, OPENINGS[next(OPENINGS.len())])
        } else if k + 2 >= n {
            (Speaker::Agent, CLOSINGS[next(CLOSINGS.len())])
        } else if k % 2 == 1 && next(400) == 0 {
            (Speaker::Customer, ANGRY[next(ANGRY.len())])
        } else if k % 2 == 1 {
            (Speaker::Customer, CUSTOMER[next(CUSTOMER.len())])
        } else {
            (Speaker::Agent, AGENT[next(AGENT.len())])
        };
        let length = line.chars().count() as f64 * 0.25;
        segments.push(Segment {
            speaker,
            start: t,
            end: t + length,
            text: line.to_string(),
            confidence: 0.9,
            voice: None,
            checks: Vec::new(),
            prompt: None,
            voice_vector: None,
        });
        t += length + 0.3 + if next(20) == 0 { 8.0 } else { 0.0 };
    }
    let transcript = Transcript {
        call_id: format!("c{i:07}"),
        agent_id: format!("A{:03}", i % 200),
        audio_path: format!("/calls/c{i:07}.wav").into(),
        started_at: Some(format!("2026-11-{:02}T09:00:00", 1 + i % 28)),
        duration_s: t + 1.0,
        agent_channel: AgentChannel::Left,
        channels: 2,
        segments,
        extra: Default::default(),
        fingerprint: Fingerprint::default(),
        voice_prints: None,
        sounds: Vec::new(),
        prompts_checked: None,
        wordless_voice: Vec::new(),
        enrolled_voice: None,
    };
    let path = callqa::store::OutDir::new(out).transcript(&transcript.call_id, transcript.started_at.as_deref());
    transcript.write(&path)?;
    Ok(std::fs::metadata(&path)?.len())
}

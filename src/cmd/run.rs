//! `callqa run`: the nightly job. Calls in → transcripts → scores, tables, report.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::asr::{DecodeSettings, Engine};
use crate::audio::vad::{default_vad_model_path, SileroVad, SpeechDetector, VadError};
use crate::cli::RunArgs;
use crate::cmd::score::print_summary;
use crate::cmd::{load_lexicons, Outcome};
use crate::input::{discover, DiscoverOptions, FailedItem};
use crate::pipeline::{transcribe_batch, CallOutcome};
use crate::scoring::{read_failures, score_folder};
use crate::store::{extra_column_name, write_atomic, OutDir};

pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    // A broken pack must stop the night before any audio is touched.
    let pack = load_lexicons(args.lexicons.lexicons.as_deref())?;
    let options = DiscoverOptions::new(&args.name_pattern, args.agent_channel)?;
    let discovery = discover(&args.input, &options)?;
    eprintln!(
        "{}: {} calls to process, {} unusable entries",
        discovery.source,
        discovery.calls.len(),
        discovery.problems.len()
    );
    for problem in &discovery.problems {
        eprintln!("  skipped {}: {}", problem.location, problem.reason);
    }
    let renamed: std::collections::BTreeSet<&str> = discovery
        .calls
        .iter()
        .flat_map(|c| c.extra.keys())
        .map(String::as_str)
        .filter(|name| extra_column_name(name) != *name)
        .collect();
    for name in renamed {
        eprintln!(
            "note: the manifest column {name:?} is also a column of calls.parquet: it is kept there as {:?}",
            extra_column_name(name)
        );
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores).max(1);
    if jobs > cores {
        eprintln!("note: --jobs {jobs} is more than the {cores} cores; using {cores} (whisper threads spin, oversubscribing only slows down)");
    }
    let jobs = jobs.min(cores);
    // Thread budget: workers × whisper threads per chunk never exceeds the cores.
    let settings = DecodeSettings {
        threads_per_chunk: (cores / jobs).max(1),
        dtw_token_times: args.dtw_timing,
        ..DecodeSettings::default()
    };
    let detector = speech_detector(&args)?;
    let engine = Engine::load(&args.model, detector, settings)?;
    let model_bytes = std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let model_blake3 = blake3::hash(&model_bytes).to_hex().to_string();
    drop(model_bytes);
    let out = OutDir::new(&args.out);
    std::fs::create_dir_all(out.transcripts_dir()).with_context(|| format!("creating {}", out.root().display()))?;

    let progress = Progress::new(
        discovery.calls.len(),
        !args.no_progress && std::io::stderr().is_terminal(),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting worker threads")?;
    let started = Instant::now();
    let outcomes = pool.install(|| {
        transcribe_batch(&engine, &model_blake3, &discovery.calls, &out, args.force, &|o| {
            progress.done(o)
        })
    });
    progress.finish(started.elapsed().as_secs_f64());

    let mut failures: Vec<FailedItem> = discovery.problems;
    failures.extend(outcomes.into_iter().filter_map(|o: CallOutcome| o.result.err()));
    // Earlier runs' failures stay open until their call is processed again:
    // this run settles every call it was given, and only those.
    let this_run: std::collections::HashSet<&str> = discovery
        .calls
        .iter()
        .map(|c| c.call_id.as_str())
        .chain(failures.iter().map(FailedItem::key))
        .collect();
    let earlier: Vec<FailedItem> = read_failures(&out)?
        .into_iter()
        .filter(|f| !this_run.contains(f.key()))
        .collect();
    let earlier_transcripts = count_earlier_transcripts(&out, &this_run);
    if earlier_transcripts + earlier.len() > 0 {
        eprintln!(
            "{} calls of earlier runs in {} ({earlier_transcripts} transcribed, {} failed) are kept and scored \
             with this night's: the output folder is an archive",
            earlier_transcripts + earlier.len(),
            out.root().display(),
            earlier.len()
        );
    }
    let open_failures: Vec<&FailedItem> = earlier.iter().chain(&failures).collect();
    let json = serde_json::to_vec_pretty(&open_failures).expect("failures serialise");
    write_atomic(&out.failures(), &json).context("writing the failure list")?;

    let summary = score_folder(&out, &pack)?;
    print_summary(&out, &summary);
    if failures.is_empty() {
        Ok(Outcome::Success)
    } else {
        eprintln!(
            "{} item(s) failed (listed above and in {})",
            failures.len(),
            out.failures().display()
        );
        Ok(Outcome::SomeFailed)
    }
}

/// Transcripts in `out` of calls that are not part of this run.
fn count_earlier_transcripts(out: &OutDir, this_run: &std::collections::HashSet<&str>) -> usize {
    let Ok(entries) = std::fs::read_dir(out.transcripts_dir()) else {
        return 0;
    };
    let this_run_files: std::collections::HashSet<std::path::PathBuf> =
        this_run.iter().map(|id| out.transcript(id)).collect();
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !this_run_files.contains(p))
        .count()
}

/// Silero VAD when its model is there (given, or beside the whisper model);
/// the energy VAD when asked for, or, with a warning, when no model is found.
fn speech_detector(args: &RunArgs) -> anyhow::Result<SpeechDetector> {
    if args.energy_vad {
        return Ok(SpeechDetector::Energy);
    }
    let (path, explicit) = match &args.vad_model {
        Some(path) => (path.clone(), true),
        None => (default_vad_model_path(&args.model), false),
    };
    match SileroVad::load(&path) {
        Ok(silero) => Ok(SpeechDetector::Silero(silero)),
        Err(VadError::Missing { .. }) if !explicit => {
            eprintln!(
                "warning: no VAD model at {}: finding speech by energy, which is slower and misses more on noisy \
                 lines (scripts/setup.sh installs the VAD model)",
                path.display()
            );
            Ok(SpeechDetector::Energy)
        }
        Err(e) => Err(e.into()),
    }
}

/// A progress bar on a terminal; plain log lines otherwise (cron, CI, pipes).
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
    audio_ms: AtomicU64,
    log: Mutex<()>,
}

impl Progress {
    fn new(total: usize, interactive: bool) -> Self {
        let bar = interactive.then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls · {msg} · ETA {eta}",
                )
                .expect("valid template"),
            );
            bar.set_message("0.00 h audio");
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            total,
            done: AtomicUsize::new(0),
            audio_ms: AtomicU64::new(0),
            log: Mutex::new(()),
        }
    }

    fn done(&self, outcome: &CallOutcome) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        let audio_s = outcome.result.as_ref().map_or(0.0, |t| t.transcript.duration_s);
        let total_ms = self.audio_ms.fetch_add((audio_s * 1000.0) as u64, Ordering::SeqCst) + (audio_s * 1000.0) as u64;
        let line = match &outcome.result {
            Ok(t) if t.reused => format!("{}: done before, transcript reused", outcome.call_id),
            Ok(t) => format!(
                "{}: {:.1} s of audio in {:.1} s ({:.1}× real time), {} segments",
                outcome.call_id,
                audio_s,
                t.elapsed_s,
                audio_s / t.elapsed_s.max(1e-6),
                t.transcript.segments.len()
            ),
            Err(f) => format!("{}: FAILED: {}", outcome.call_id, f.reason),
        };
        match &self.bar {
            Some(bar) => {
                bar.set_message(format!("{:.2} h audio", total_ms as f64 / 3.6e6));
                bar.inc(1);
                if outcome.result.is_err() {
                    bar.println(line);
                }
            }
            None => {
                let _guard = self.log.lock().unwrap_or_else(|p| p.into_inner());
                eprintln!("[{n}/{}] {line}", self.total);
            }
        }
    }

    fn finish(&self, elapsed_s: f64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let audio_s = self.audio_ms.load(Ordering::SeqCst) as f64 / 1000.0;
        eprintln!(
            "transcribed {} calls, {:.2} h of audio, in {:.1} s",
            self.done.load(Ordering::SeqCst),
            audio_s / 3600.0,
            elapsed_s
        );
    }
}

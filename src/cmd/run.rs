//! `callqa run`: the nightly job. Calls in → transcripts → scores, tables, report.
//!
//! Alone on its output folder (an exclusive lock), or, with `--shard I/N`, one
//! of N workers sharing it: a worker writes its calls' transcripts and
//! failures, and leaves the tables to `callqa score`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use std::collections::HashSet;

use crate::asr::{DecodeSettings, Engine};
use crate::audio::landmarks::{Prompt, PromptLibrary};
use crate::audio::vad::{default_vad_model_path, SileroVad, SpeechDetector, VadError};
use crate::audio::voice_vector::VoiceEncoder;
use crate::budget::{BudgetSource, ThreadBudget};
use crate::cli::RunArgs;
use crate::cmd::{load_lexicons_showing, BatchSummary, Console, Outcome, RunFigures};
use crate::files::{lock_folder, LockMode};
use crate::i18n::{Lang, Messages};
use crate::input::{discover, CallSpec, DiscoverOptions, FailedItem};
use crate::msg;
use crate::pack::Pack;
use crate::pipeline::{
    fill_prompt_texts, learn_prompts, transcribe_batch, BatchOptions, CallOutcome, Workers, PROMPT_MIN_CALLS,
};
use crate::scoring::score_archive;
use crate::shard::Shard;
use crate::store::{
    enrol_voices, extra_column_name, read_prompts, record_input_problems, write_prompts, OutDir, TranscriptArchive,
};
use crate::transcript::Transcript;

pub fn run(args: RunArgs, lang: Option<Lang>, budget: &ThreadBudget) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    // A broken pack must stop the night before any audio is touched.
    let pack = load_lexicons_showing(args.lexicons.lexicons.as_deref(), lang, args.show_pii)?;
    let console = Console::new(&args.output, pack.language);
    let m = console.messages;
    let shard = match args.shard {
        Some(shard) => Some(shard),
        None => Shard::from_env(|name| std::env::var(name).ok())?,
    };
    let out = OutDir::new(&args.out);
    let (mode, holder) = match shard {
        Some(shard) => (LockMode::Shared, format!("callqa run --shard {shard}")),
        None => (LockMode::Exclusive, "callqa run".to_string()),
    };
    let _lock = lock_folder(out.root(), mode, &holder)?;
    let options = DiscoverOptions::new(&args.name_pattern, args.agent_channel)?
        .with_zone(args.time_zone.unwrap_or(pack.time_zone));
    let discovery = discover_calls(&args.input, &options, shard, console)?;
    let plan = worker_plan(&args, budget, console);
    let detector = speech_detector(&args, console)?;
    let voices = voice_encoder(&args, console)?;
    let engine = Engine::load(&args.model, detector, plan.settings.clone())?;
    let matrices = crate::asr::blas::encoder_matrices();
    console.say(msg!(
        m,
        "run-transcribing",
        model = args.model.display().to_string(),
        vad = engine.detector_name(),
        jobs = plan.calls_at_once,
        threads = budget.threads,
        source = budget_source(budget, m),
        matrices = matrices.to_string()
    ));
    let model_blake3 = model_hash(&args.model)?;
    let shard_name = shard.map(|s| s.to_string());
    record_input_problems(&out, shard_name.as_deref(), &discovery.problems)
        .with_context(|| format!("writing {}", out.input_problems_dir().display()))?;
    let progress = Progress::new(
        discovery.calls.len(),
        !args.no_progress && !console.quiet && std::io::stderr().is_terminal(),
        console,
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.pool_threads)
        .thread_name(|i| format!("callqa-whisper-{i}"))
        .build()
        .context("starting worker threads")?;
    let transcribing = Instant::now();
    let max_call_s = Some(pack.audio.max_call_minutes * 60.0);
    let mut prompts =
        pool.install(|| center_prompts(&engine, voices.as_ref(), &discovery.calls, &out, max_call_s, console))?;
    let library = PromptLibrary::of(prompts.clone());
    let matcher = crate::lexicon::Matcher::new(&pack.lexicon);
    let options = BatchOptions {
        force: args.force,
        retry_failed: args.retry_failed,
        verify: (!args.no_verify).then_some(&matcher),
        max_call_s,
        prompts: Some(&library),
        voices: voices.as_ref(),
    };
    let workers = Workers {
        pool: &pool,
        calls_at_once: plan.calls_at_once,
    };
    let outcomes = transcribe_batch(&engine, &model_blake3, &discovery.calls, &out, options, workers, &|o| {
        progress.done(o)
    });
    progress.finish(transcribing.elapsed().as_secs_f64());
    let outcomes = outcomes?;
    let heard: Vec<&Transcript> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|t| &t.transcript))
        .collect();
    fill_prompt_texts(&mut prompts, &heard);
    let writer = shard.map_or("all".to_string(), |s| {
        format!("shard-{}", s.to_string().replace('/', "-of-"))
    });
    write_prompts(&out, &writer, &prompts).with_context(|| format!("writing {}", out.prompts_dir().display()))?;
    enrol_voices(&out, &writer, &heard).with_context(|| format!("writing {}", out.voiceprints_dir().display()))?;

    let run = run_figures(&outcomes, discovery.calls.len(), transcribing.elapsed().as_secs_f64());
    let mut failures: Vec<FailedItem> = discovery.problems;
    failures.extend(outcomes.into_iter().filter_map(|o: CallOutcome| o.result.err()));
    let run = RunFigures {
        failed: failures.len(),
        ..run
    };

    let summary = match shard {
        // a worker among others: the tables are `callqa score`'s, once all are done
        Some(shard) => BatchSummary {
            shard: Some(shard.to_string()),
            run: Some(run),
            ..BatchSummary::new("run", &out, started.elapsed().as_secs_f64())
        },
        None => {
            let scored = score_this_folder(&out, &discovery.calls, &pack, console)?;
            BatchSummary {
                run: Some(run),
                ..BatchSummary::new("run", &out, started.elapsed().as_secs_f64())
            }
            .with_scores(&scored)
        }
    };
    console.summary(&summary);
    if failures.is_empty() {
        Ok(Outcome::Success)
    } else {
        console.error(msg!(
            m,
            "run-items-failed",
            n = failures.len(),
            dir = out.failures_dir().display().to_string(),
            file = out.failures().display().to_string()
        ));
        Ok(Outcome::SomeFailed)
    }
}

/// The run's figures from its calls' outcomes (`failed` left to the caller,
/// who adds the input's problems).
fn run_figures(outcomes: &[CallOutcome], calls: usize, transcribing_s: f64) -> RunFigures {
    let (mut transcribed, mut reused, mut audio_s, mut transcribed_s) = (0, 0, 0.0, 0.0);
    for t in outcomes.iter().filter_map(|o| o.result.as_ref().ok()) {
        audio_s += t.transcript.duration_s;
        if t.reused {
            reused += 1;
        } else {
            transcribed += 1;
            transcribed_s += t.transcript.duration_s;
        }
    }
    let transcribing_s = transcribing_s.max(1e-6);
    RunFigures {
        calls,
        transcribed,
        reused,
        failed: 0,
        audio_hours: audio_s / 3600.0,
        times_real_time: transcribed_s / transcribing_s,
        calls_per_hour: transcribed as f64 * 3600.0 / transcribing_s,
    }
}

/// An unsharded run scores the whole folder: this night's calls and those
/// kept from earlier runs, which it says.
fn score_this_folder(
    out: &OutDir,
    calls: &[CallSpec],
    pack: &Pack,
    console: Console,
) -> anyhow::Result<crate::scoring::ScoreSummary> {
    let archive = TranscriptArchive::open(out)?;
    let this_run: HashSet<String> = calls
        .iter()
        .map(|c| Transcript::file_name(&c.call_id))
        .filter(|name| archive.holds(name))
        .collect();
    let earlier = archive.len() - this_run.len();
    if earlier > 0 {
        console.say(msg!(
            console.messages,
            "run-earlier-calls",
            calls = earlier,
            out = out.root().display().to_string()
        ));
    }
    score_archive(out, &archive, pack)
}

/// The calls of the input (a folder or a manifest) this worker processes,
/// announced with the entries that could not be used.
fn discover_calls(
    input: &std::path::Path,
    options: &DiscoverOptions,
    shard: Option<Shard>,
    console: Console,
) -> anyhow::Result<crate::input::Discovery> {
    let m = console.messages;
    let mut discovery = discover(input, options)?;
    if let Some(shard) = shard {
        let listed = discovery.calls.len();
        discovery.calls.retain(|c| shard.owns(&c.call_id));
        discovery.problems.retain(|p| shard.owns(p.key()));
        console.say(msg!(
            m,
            "run-shard-owns",
            shard = shard.to_string(),
            calls = discovery.calls.len(),
            listed = listed
        ));
    }
    console.say(msg!(
        m,
        "run-found",
        source = discovery.source.to_string(),
        calls = discovery.calls.len(),
        problems = discovery.problems.len()
    ));
    for problem in &discovery.problems {
        console.error(msg!(
            m,
            "run-skipped",
            location = problem.location.to_string(),
            reason = problem.reason.to_string()
        ));
    }
    let renamed: std::collections::BTreeSet<&str> = discovery
        .calls
        .iter()
        .flat_map(|c| c.extra.keys())
        .map(String::as_str)
        .filter(|name| extra_column_name(name) != *name)
        .collect();
    for name in renamed {
        console.say(msg!(
            m,
            "run-column-renamed",
            column = name,
            kept_as = extra_column_name(name).to_string()
        ));
    }
    Ok(discovery)
}

/// The center's recorded prompts: those the folder's runs learned, and any
/// new ones this night's calls hold (`pipeline::learn_prompts`), said.
fn center_prompts(
    engine: &Engine,
    voices: Option<&VoiceEncoder>,
    calls: &[crate::input::CallSpec],
    out: &OutDir,
    max_call_s: Option<f64>,
    console: Console,
) -> anyhow::Result<Vec<Prompt>> {
    let mut prompts = read_prompts(out)?;
    let learned = learn_prompts(engine, voices, calls, &PromptLibrary::of(prompts.clone()), max_call_s);
    let m = console.messages;
    if !learned.is_empty() {
        let ids: Vec<&str> = learned.iter().map(|p| p.id.as_str()).collect();
        console.say(msg!(
            m,
            "run-prompts-learned",
            n = learned.len(),
            ids = m.list(&ids),
            min = PROMPT_MIN_CALLS
        ));
    }
    prompts.extend(learned);
    Ok(prompts)
}

/// How a run spends its thread budget.
struct WorkerPlan {
    /// Calls in flight (each holds its audio and transcript in memory).
    calls_at_once: usize,
    /// Threads decoding chunks, shared by the calls in flight: the budget
    /// over the whisper threads each chunk takes.
    pool_threads: usize,
    settings: DecodeSettings,
}

/// The budget's threads decode chunks one whisper thread each (more threads
/// per chunk only spin between the decoder's small operations: slower on
/// every machine measured, README "Nightly at scale"), shared by the calls
/// in flight; `--jobs` says how many calls that is, within the budget.
fn worker_plan(args: &RunArgs, budget: &ThreadBudget, console: Console) -> WorkerPlan {
    let threads = budget.threads.max(1);
    let jobs = args.jobs.unwrap_or(threads).max(1);
    if jobs > threads {
        console.say(msg!(
            console.messages,
            "run-jobs-capped",
            jobs = jobs,
            threads = threads
        ));
    }
    let threads_per_chunk = args.threads_per_chunk.clamp(1, threads);
    WorkerPlan {
        calls_at_once: jobs.min(threads),
        pool_threads: (threads / threads_per_chunk).max(1),
        settings: DecodeSettings {
            threads_per_chunk,
            dtw_token_times: args.dtw_timing,
            ..DecodeSettings::default()
        },
    }
}

/// Where the budget came from, in the reader's words.
fn budget_source(budget: &ThreadBudget, m: &Messages) -> String {
    match budget.source {
        BudgetSource::Asked => m.text("budget-source-threads"),
        BudgetSource::Slurm => m.text("budget-source-slurm"),
        BudgetSource::CgroupQuota => m.text("budget-source-cgroup"),
        BudgetSource::Affinity => m.text("budget-source-affinity"),
        BudgetSource::Machine => m.text("budget-source-machine"),
    }
}

/// The model file's BLAKE3, streamed: a large model is gigabytes, read once
/// per shard worker.
fn model_hash(model: &std::path::Path) -> anyhow::Result<String> {
    let reading = || format!("reading {}", model.display());
    let file = std::fs::File::open(model).with_context(reading)?;
    let mut hasher = blake3::Hasher::new();
    std::io::copy(&mut std::io::BufReader::with_capacity(1 << 20, file), &mut hasher).with_context(reading)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Silero VAD when its model is there (given, or beside the whisper model);
/// the energy VAD when asked for, or, with a warning, when no model is found.
fn speech_detector(args: &RunArgs, console: Console) -> anyhow::Result<SpeechDetector> {
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
            console.say(msg!(console.messages, "run-no-vad", path = path.display().to_string()));
            Ok(SpeechDetector::Energy)
        }
        Err(e) => Err(e.into()),
    }
}

/// The voice encoder when its model is there (given, or beside the whisper
/// model); without it, with a note, mono calls are told apart by pitch.
fn voice_encoder(args: &RunArgs, console: Console) -> anyhow::Result<Option<VoiceEncoder>> {
    let (path, explicit) = match &args.voice_model {
        Some(path) => (path.clone(), true),
        None => (VoiceEncoder::default_path(&args.model), false),
    };
    if !explicit && !path.is_file() {
        console.say(msg!(
            console.messages,
            "run-no-voice-model",
            path = path.display().to_string()
        ));
        return Ok(None);
    }
    Ok(Some(VoiceEncoder::load(&path)?))
}

/// A progress bar on a terminal; plain log lines otherwise (cron, CI, pipes).
struct Progress {
    console: Console,
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
    audio_ms: AtomicU64,
    log: Mutex<()>,
}

impl Progress {
    fn new(total: usize, interactive: bool, console: Console) -> Self {
        let bar = interactive.then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(&console.messages.text("progress-template")).expect("valid template"),
            );
            bar.set_message(msg!(console.messages, "progress-audio", hours = "0.00"));
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self {
            console,
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
        let m = self.console.messages;
        let line = match &outcome.result {
            Ok(t) if t.reused => msg!(m, "progress-reused", call = outcome.call_id.as_str()),
            Ok(t) => msg!(
                m,
                "progress-call",
                call = outcome.call_id.as_str(),
                audio = format!("{audio_s:.1}"),
                took = format!("{:.1}", t.elapsed_s),
                speed = format!("{:.1}", audio_s / t.elapsed_s.max(1e-6)),
                segments = t.transcript.segments.len()
            ),
            Err(f) if outcome.failed_before => msg!(
                m,
                "progress-failed-before",
                call = outcome.call_id.as_str(),
                reason = f.reason.to_string()
            ),
            Err(f) => msg!(
                m,
                "progress-failed",
                call = outcome.call_id.as_str(),
                reason = f.reason.to_string()
            ),
        };
        match &self.bar {
            Some(bar) => {
                bar.set_message(msg!(
                    m,
                    "progress-audio",
                    hours = format!("{:.2}", total_ms as f64 / 3.6e6)
                ));
                bar.inc(1);
                if outcome.result.is_err() {
                    bar.println(line);
                }
            }
            None => {
                let _guard = self.log.lock().unwrap_or_else(|p| p.into_inner());
                if outcome.result.is_err() {
                    self.console.error(format_args!("[{n}/{}] {line}", self.total));
                } else {
                    self.console.say(format_args!("[{n}/{}] {line}", self.total));
                }
            }
        }
    }

    fn finish(&self, elapsed_s: f64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let audio_s = self.audio_ms.load(Ordering::SeqCst) as f64 / 1000.0;
        let m = self.console.messages;
        self.console.say(msg!(
            m,
            "progress-finished",
            calls = self.done.load(Ordering::SeqCst),
            audio = m.hours(audio_s / 3600.0),
            wall = m.seconds(elapsed_s)
        ));
    }
}

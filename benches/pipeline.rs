//! Transcription throughput and phrase recall, on clean and on phone-line
//! calls, against the tool a call center would script instead: faster-whisper
//! (int8, with its Silero VAD) on the same whisper base weights, then phrase
//! search (`benches/baseline_faster_whisper.py`).
//!
//! Everything runs in the same process run, rounds interleaved (callqa with the
//! Silero VAD, callqa with the energy VAD, faster-whisper), medians reported.
//! Throughput is channel-audio seconds per wall second (a stereo call of 30 s
//! is 60 s of channel audio). Recall and precision count the lexicon phrases
//! the scripts really say (`expected.json`), found by callqa's matcher in each
//! tool's transcripts; for faster-whisper also by exact search, as the script
//! a call center would write finds them. callqa is measured as it runs by
//! default (near phrases checked against the audio), and without the checks
//! (`--no-verify`), to show what hearing on bad lines costs.
//!
//! Sets (`SETS`, comma-separated; default all four): the clean sample calls,
//! `noisy` (AMR-NB, noise, babble, G.711), `lines-a` (the set the
//! verifier's thresholds were tuned on) and `lines-b` (held out: GSM 06.10 /
//! IMA ADPCM, street noise, weak or clipped agents, packet loss).
//!
//!     cargo bench --bench pipeline                       (needs models/: scripts/setup.sh)
//!     ROUNDS=5 cargo bench --bench pipeline
//!     SETS=data-samples/lines-a,data-samples/lines-b cargo bench --bench pipeline
//!     MODEL=models/ggml-base.bin cargo bench --bench pipeline      (the f16 model)
//!
//! faster-whisper is run with `FASTER_WHISPER_PYTHON` (default
//! `.venv-fw/bin/python`; make it with `python3 -m venv .venv-fw &&
//! .venv-fw/bin/pip install faster-whisper`). Without it, callqa alone is measured.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::vad::{default_vad_model_path, SileroVad, SpeechDetector};
use callqa::audio::{decode_file, speaker_tracks};
use callqa::eval::{phrase_counts, scripted_transcripts, PhraseScore};
use callqa::input::{discover, DiscoverOptions, DEFAULT_NAME_PATTERN};
use callqa::lexicon::{MatchSettings, Matcher};
use callqa::pack::{builtin_pack, Pack};
use callqa::pipeline::{transcribe_batch, BatchOptions, Workers};
use callqa::store::OutDir;
use callqa::transcript::{AgentChannel, Transcript};

struct Contender {
    name: &'static str,
    times_s: Vec<f64>,
    transcripts: Vec<Transcript>,
}

fn main() -> anyhow::Result<()> {
    callqa::asr::blas::restart_with_cpu_kernels(); // as the callqa binary does
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::env::var_os("MODEL").map_or_else(|| repo.join("models/ggml-base-q8_0.bin"), Into::into);
    anyhow::ensure!(model.is_file(), "{} missing: run scripts/setup.sh", model.display());
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let python =
        std::env::var_os("FASTER_WHISPER_PYTHON").map_or_else(|| repo.join(".venv-fw/bin/python"), PathBuf::from);
    let ct2 = repo.join("models/ct2-whisper-base");
    let faster_whisper = (python.is_file() && ct2.is_dir()).then_some((python, ct2));
    if faster_whisper.is_none() {
        eprintln!("faster-whisper not found (see the header of benches/pipeline.rs): measuring callqa alone");
    }

    // Ours: VAD chunks, shrunk audio context, calls in parallel, one thread each.
    let settings = DecodeSettings {
        threads_per_chunk: 1,
        ..Default::default()
    };
    let silero = Engine::load(
        &model,
        SpeechDetector::Silero(SileroVad::load(&default_vad_model_path(&model))?),
        settings.clone(),
    )?;
    let energy = Engine::load(&model, SpeechDetector::Energy, settings)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(cores).build()?;
    let pack = builtin_pack();
    let matcher = Matcher::new(&pack.lexicon);
    let mut exact_pack: Pack = pack.clone();
    exact_pack.lexicon.matching = MatchSettings {
        tolerant: false,
        ..pack.lexicon.matching.clone()
    };

    println!("{} cores, {rounds} rounds, medians; model {}", cores, model.display());
    println!("whisper.cpp: {}", whisper_rs::print_system_info().trim());
    println!("encoder matrices: {}", callqa::asr::blas::encoder_matrices());
    let sets: Vec<String> = std::env::var("SETS").map_or_else(
        |_| {
            [
                "data-samples",
                "data-samples/noisy",
                "data-samples/lines-a",
                "data-samples/lines-b",
            ]
            .map(String::from)
            .to_vec()
        },
        |s| s.split(',').map(String::from).collect(),
    );
    for set in &sets {
        let dir = repo.join(set);
        let options = DiscoverOptions::new(DEFAULT_NAME_PATTERN, AgentChannel::Left)?;
        let calls = discover(&dir, &options)?.calls;
        let mut channel_audio_s = 0.0;
        for call in &calls {
            let audio = decode_file(&call.audio_path)?;
            let duration_s = audio.duration_s();
            channel_audio_s += duration_s * speaker_tracks(audio, call.agent_channel)?.len() as f64;
        }

        let mut contenders = vec![
            Contender {
                name: "callqa (Silero VAD, the default)",
                times_s: Vec::new(),
                transcripts: Vec::new(),
            },
            Contender {
                name: "callqa without the audio checks",
                times_s: Vec::new(),
                transcripts: Vec::new(),
            },
            Contender {
                name: "callqa with the energy VAD",
                times_s: Vec::new(),
                transcripts: Vec::new(),
            },
        ];
        if faster_whisper.is_some() {
            contenders.push(Contender {
                name: "faster-whisper int8 + Silero VAD",
                times_s: Vec::new(),
                transcripts: Vec::new(),
            });
        }
        for round in 0..rounds {
            let runs = [(&silero, Some(&matcher)), (&silero, None), (&energy, Some(&matcher))];
            for ((engine, verify), contender) in runs.into_iter().zip(contenders.iter_mut()) {
                let out = tempfile::tempdir()?;
                let started = Instant::now();
                let options = BatchOptions {
                    force: true,
                    verify,
                    ..BatchOptions::default()
                };
                let workers = Workers {
                    pool: &pool,
                    calls_at_once: cores,
                };
                let outcomes = transcribe_batch(
                    engine,
                    "bench",
                    &calls,
                    &OutDir::new(out.path()),
                    options,
                    workers,
                    &|_| {},
                )?;
                contender.times_s.push(started.elapsed().as_secs_f64());
                contender.transcripts = outcomes
                    .into_iter()
                    .filter_map(|o| o.result.ok().map(|t| t.transcript))
                    .collect();
            }
            if let Some((python, ct2)) = &faster_whisper {
                let out = tempfile::tempdir()?;
                let seconds = run_faster_whisper(repo, python, &dir.join("manifest.csv"), ct2, out.path())?;
                let contender = &mut contenders[3];
                contender.times_s.push(seconds);
                contender.transcripts = read_transcripts(&out.path().join("transcripts"))?;
            }
            let line: Vec<String> = contenders
                .iter()
                .map(|c| format!("{} {:.2} s", c.name, c.times_s[round]))
                .collect();
            eprintln!("{set} round {}: {}", round + 1, line.join(", "));
        }

        let said = phrase_counts(&scripted_transcripts(&dir.join("expected.json"))?, &pack);
        println!(
            "\n{set}: {} calls, {channel_audio_s:.1} s of channel audio, {} phrase occurrences said",
            calls.len(),
            said.values().sum::<usize>()
        );
        let reference_s = contenders.get(3).map(|c| median(&c.times_s));
        for c in &contenders {
            let seconds = median(&c.times_s);
            let score = PhraseScore::new(&said, &phrase_counts(&c.transcripts, &pack));
            let versus = reference_s.map_or(String::new(), |r| {
                format!(", {:.2}x faster-whisper's speed", r / seconds)
            });
            println!(
                "  {:<34} {seconds:6.2} s = {:5.1}x real time{versus}; recall {}/{} = {:.2}, precision {:.2}",
                c.name,
                channel_audio_s / seconds,
                score.matched,
                score.said,
                score.recall(),
                score.precision()
            );
            if c.name.starts_with("faster-whisper") {
                // what the scripted tool would find: exact search, no sound-alikes
                let exact = PhraseScore::new(&said, &phrase_counts(&c.transcripts, &exact_pack));
                println!(
                    "  {:<34} {:>40} recall {}/{} = {:.2}, precision {:.2}",
                    "  ... with exact phrase search",
                    "",
                    exact.matched,
                    exact.said,
                    exact.recall(),
                    exact.precision()
                );
            }
            if std::env::var_os("SHOW_MISSES").is_some() {
                for (call, phrase, said, found) in &score.differences {
                    println!("      {call} {phrase}: said {said}, found {found}");
                }
            }
        }
    }
    Ok(())
}

/// One round of the faster-whisper script; its own timing of the transcription
/// loop (model loading excluded, as for callqa).
fn run_faster_whisper(repo: &Path, python: &Path, manifest: &Path, ct2: &Path, out: &Path) -> anyhow::Result<f64> {
    let output = Command::new(python)
        .arg(repo.join("benches/baseline_faster_whisper.py"))
        .args([manifest, ct2, out])
        .env("ROUNDS", "1")
        .output()
        .context("running benches/baseline_faster_whisper.py")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "faster-whisper failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "... s of channel audio in 9.41 s (median of 1) = ..."
    stdout
        .split(" in ")
        .nth(1)
        .and_then(|rest| rest.split(" s").next())
        .and_then(|s| s.trim().parse().ok())
        .with_context(|| format!("no time in faster-whisper's output: {stdout}"))
}

fn read_transcripts(dir: &Path) -> anyhow::Result<Vec<Transcript>> {
    std::fs::read_dir(dir)?
        .map(|e| Ok(Transcript::read(&e?.path())?))
        .collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

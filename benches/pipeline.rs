//! Transcription throughput and phrase recall on data-samples/, against the
//! baseline a call center would script: plain whisper over each whole channel,
//! one call at a time (all cores to that one call), then exact phrase search.
//!
//! Both run in the same process on the same model, several rounds, medians
//! reported. Throughput is channel-audio seconds per wall second (a stereo call
//! of 30 s is 60 s of channel audio). Recall counts the lexicon phrases the
//! scripts really say (data-samples/expected.json) that are found in the
//! transcripts.
//!
//!     cargo bench --bench pipeline            (needs models/: scripts/setup.sh)
//!     ROUNDS=5 cargo bench --bench pipeline
//!     MODEL=models/ggml-base.bin cargo bench --bench pipeline      (the f16 model)
//!
//! With `FASTER_WHISPER_TRANSCRIPTS=DIR`, the recall of faster-whisper's
//! transcripts (made by `benches/baseline_faster_whisper.py`) is measured too.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::{decode_file, speaker_tracks};
use callqa::input::{discover, DiscoverOptions, DEFAULT_NAME_PATTERN};
use callqa::lexicon::{builtin_pack, Matcher, Pack};
use callqa::pipeline::transcribe_batch;
use callqa::transcript::{AgentChannel, Segment, Speaker, Transcript};

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::env::var_os("MODEL").map_or_else(|| repo.join("models/ggml-base-q8_0.bin"), Into::into);
    anyhow::ensure!(model.is_file(), "{} missing: run scripts/setup.sh", model.display());
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = DiscoverOptions::new(DEFAULT_NAME_PATTERN, AgentChannel::Left)?;
    let calls = discover(&repo.join("data-samples"), &options)?.calls;

    let mut channel_audio_s = 0.0;
    let mut decoded = Vec::new();
    for call in &calls {
        let audio = decode_file(&call.audio_path)?;
        channel_audio_s += audio.duration_s() * speaker_tracks(&audio, call.agent_channel)?.len() as f64;
        decoded.push((call, audio));
    }

    // Baseline: whole channel, full 30 s windows, every core on one call at a time.
    let baseline_engine = Engine::load(
        &model,
        DecodeSettings {
            threads_per_chunk: cores,
            dtw_token_times: false,
            ..Default::default()
        },
    )?;
    // Ours: VAD chunks, shrunk audio context, calls in parallel, one thread each.
    let engine = Engine::load(
        &model,
        DecodeSettings {
            threads_per_chunk: 1,
            ..Default::default()
        },
    )?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(cores).build()?;
    let model_id = "bench";

    let mut baseline_times = Vec::new();
    let mut pipeline_times = Vec::new();
    let mut baseline_transcripts = Vec::new();
    let mut pipeline_transcripts = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        baseline_transcripts.clear();
        for (call, audio) in &decoded {
            let mut segments = Vec::new();
            for track in speaker_tracks(audio, call.agent_channel)? {
                let mut found = baseline_engine.transcribe_whole(&track.samples)?;
                found.iter_mut().for_each(|s| s.speaker = track.speaker);
                segments.extend(found);
            }
            baseline_transcripts.push(Transcript::from_segments(&call.call_id, segments));
        }
        baseline_times.push(started.elapsed().as_secs_f64());

        let out = tempfile::tempdir()?;
        let started = Instant::now();
        let outcomes = pool.install(|| transcribe_batch(&engine, model_id, &calls, out.path(), true, &|_| {}));
        pipeline_times.push(started.elapsed().as_secs_f64());
        pipeline_transcripts = outcomes
            .into_iter()
            .filter_map(|o| o.result.ok().map(|t| t.transcript))
            .collect();
        eprintln!(
            "round {}: baseline {:.2} s, pipeline {:.2} s",
            round + 1,
            baseline_times[round],
            pipeline_times[round]
        );
    }
    let baseline_s = median(&mut baseline_times);
    let pipeline_s = median(&mut pipeline_times);
    println!(
        "data-samples: {} calls, {:.1} s of channel audio, {cores} cores, {rounds} rounds (medians)",
        calls.len(),
        channel_audio_s
    );
    println!(
        "  baseline (whole channel, 30 s windows, one call at a time): {:6.2} s = {:5.1}x real time",
        baseline_s,
        channel_audio_s / baseline_s
    );
    println!(
        "  callqa pipeline (VAD chunks, shrunk audio_ctx, parallel):   {:6.2} s = {:5.1}x real time",
        pipeline_s,
        channel_audio_s / pipeline_s
    );
    println!("  speed-up: {:.2}x", baseline_s / pipeline_s);

    let truth = said_phrases(repo)?;
    // Transcripts made by benches/baseline_faster_whisper.py, if given: the tool a
    // call center would otherwise script.
    let faster_whisper: Vec<Transcript> = match std::env::var_os("FASTER_WHISPER_TRANSCRIPTS") {
        Some(dir) => std::fs::read_dir(Path::new(&dir).join("transcripts"))?
            .map(|e| Ok(Transcript::read(&e?.path())?))
            .collect::<anyhow::Result<_>>()?,
        None => Vec::new(),
    };
    let pack = builtin_pack();
    let exact_only = Pack {
        matching: callqa::lexicon::MatchSettings {
            tolerant: false,
            ..pack.matching.clone()
        },
        ..pack.clone()
    };
    println!(
        "phrase recall against the scripts ({} phrase occurrences said):",
        truth.values().sum::<usize>()
    );
    let mut comparisons = vec![(
        "baseline transcripts + exact search",
        &baseline_transcripts,
        &exact_only,
    )];
    if !faster_whisper.is_empty() {
        comparisons.push(("faster-whisper int8+VAD + exact search", &faster_whisper, &exact_only));
    }
    comparisons.extend([
        ("callqa transcripts + exact search", &pipeline_transcripts, &exact_only),
        ("callqa transcripts + callqa matcher", &pipeline_transcripts, &pack),
    ]);
    for (name, transcripts, pack) in comparisons {
        let found = found_phrases(transcripts, pack);
        let hit: usize = truth
            .iter()
            .map(|(k, n)| (*n).min(found.get(k).copied().unwrap_or(0)))
            .sum();
        let total: usize = truth.values().sum();
        println!(
            "  {name:<38} {hit:>3}/{total} = {:.0}%",
            100.0 * hit as f64 / total as f64
        );
        if std::env::var_os("SHOW_MISSES").is_some() {
            for (key, n) in &truth {
                let got = found.get(key).copied().unwrap_or(0);
                if got < *n {
                    println!("      missed {key:?}: said {n}, found {got}");
                }
            }
        }
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// (call, phrase id) → how often the scripts really say it.
fn said_phrases(repo: &Path) -> anyhow::Result<BTreeMap<(String, String), usize>> {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("data-samples/expected.json"))?)?;
    let mut truth = BTreeMap::new();
    let matcher = Matcher::new(&builtin_pack());
    for (call_id, call) in expected.as_object().unwrap() {
        let segments = call["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let speaker = match t["speaker"].as_str() {
                    Some("agent") => Speaker::Agent,
                    Some("customer") => Speaker::Customer,
                    _ => Speaker::Unknown,
                };
                Segment::new(
                    speaker,
                    t["start_s"].as_f64().unwrap(),
                    t["end_s"].as_f64().unwrap(),
                    t["text"].as_str().unwrap(),
                )
            })
            .collect();
        for hit in matcher.find(&Transcript::from_segments(call_id, segments)) {
            *truth.entry((call_id.clone(), hit.phrase_id)).or_insert(0) += 1;
        }
    }
    Ok(truth)
}

fn found_phrases(transcripts: &[Transcript], pack: &Pack) -> BTreeMap<(String, String), usize> {
    let matcher = Matcher::new(pack);
    let mut found = BTreeMap::new();
    for t in transcripts {
        for hit in matcher.find(t) {
            *found.entry((t.call_id.clone(), hit.phrase_id)).or_insert(0) += 1;
        }
    }
    found
}

//! Dev tool: how much of a set's channel audio the speech detector hands to
//! whisper, against the speech its script says is there (`expected.json`),
//! per call and channel: where a set's decoding time goes.
//!     cargo run --release --example speech_budget -- data-samples/SET
use std::path::Path;

use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::vad::{SileroVad, SpeechDetector};
use callqa::audio::{decode_file, speaker_tracks, WHISPER_RATE_HZ};
use callqa::transcript::AgentChannel;

fn main() -> anyhow::Result<()> {
    let set = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: speech_budget SET_DIR"))?;
    let set = Path::new(&set);
    let expected: serde_json::Value = serde_json::from_slice(&std::fs::read(set.join("expected.json"))?)?;
    let vad = SileroVad::load(Path::new("models/ggml-silero-vad.bin"))?;
    let engine = Engine::load(
        Path::new("models/ggml-base-q8_0.bin"),
        SpeechDetector::Silero(vad),
        DecodeSettings::default(),
    )?;
    let mut manifest = csv::Reader::from_path(set.join("manifest.csv"))?;
    let (mut channel_s, mut decoded_s, mut scripted_s, mut chunks_n) = (0.0, 0.0, 0.0, 0usize);
    let mut missed = 0.0;
    for row in manifest.records() {
        let row = row?;
        let (id, path, side) = (&row[0], &row[1], &row[3]);
        let audio = decode_file(&set.join(path))?;
        let agent_channel = match side {
            "right" => AgentChannel::Right,
            "mono" => AgentChannel::Mono,
            _ => AgentChannel::Left,
        };
        let tracks = speaker_tracks(audio, agent_channel)?;
        let turns = expected[id]["turns"].as_array().cloned().unwrap_or_default();
        for track in &tracks {
            let speaker = format!("{:?}", track.speaker).to_lowercase();
            let script: f64 = turns
                .iter()
                .filter(|t| agent_channel == AgentChannel::Mono || t["speaker"] == speaker.as_str())
                .map(|t| t["end_s"].as_f64().unwrap_or(0.0) - t["start_s"].as_f64().unwrap_or(0.0))
                .sum();
            let chunks = engine.find_speech(track);
            let decoded: f64 = chunks.iter().map(|c| (c.end - c.start) as f64).sum::<f64>() / WHISPER_RATE_HZ as f64;
            let length = track.samples.len() as f64 / WHISPER_RATE_HZ as f64;
            // scripted speech outside every chunk: what whisper never hears
            let mut missed_here = 0.0;
            for t in turns
                .iter()
                .filter(|t| agent_channel == AgentChannel::Mono || t["speaker"] == speaker.as_str())
            {
                let (a, b) = (t["start_s"].as_f64().unwrap_or(0.0), t["end_s"].as_f64().unwrap_or(0.0));
                let mut x = a;
                while x < b {
                    let sample = (x * WHISPER_RATE_HZ as f64) as usize;
                    if !chunks.iter().any(|c| c.start <= sample && sample < c.end) {
                        missed_here += 0.01;
                    }
                    x += 0.01;
                }
            }
            if missed_here > 0.2 {
                println!("{id} {speaker}: {missed_here:.2} s of scripted speech not decoded");
            }
            missed += missed_here;
            println!(
                "{id} {speaker:8} channel {length:6.1} s  decoded {decoded:6.1} s in {:3} chunks  scripted {script:6.1} s",
                chunks.len()
            );
            channel_s += length;
            decoded_s += decoded;
            scripted_s += script;
            chunks_n += chunks.len();
        }
    }
    println!(
        "total: channel {channel_s:.1} s, decoded {decoded_s:.1} s ({:.2} of it) in {chunks_n} chunks, scripted {scripted_s:.1} s (decoded / scripted {:.2}), scripted not decoded {missed:.1} s",
        decoded_s / channel_s,
        decoded_s / scripted_s
    );
    Ok(())
}

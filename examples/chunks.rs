//! Dev tool: the VAD chunks of one channel of a call, and what whisper makes of each.
//!     cargo run --release --example chunks -- AUDIO CHANNEL
use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::vad::{SileroVad, SpeechDetector};
use callqa::audio::{decode_file, speaker_tracks};
use callqa::transcript::AgentChannel;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let audio = decode_file(std::path::Path::new(&args[1]))?;
    let channel: usize = args[2].parse()?;
    let tracks = speaker_tracks(audio, AgentChannel::Left)?;
    let track = &tracks[channel];
    let engine = Engine::load(
        std::path::Path::new("models/ggml-base-q8_0.bin"),
        SpeechDetector::Silero(SileroVad::load(std::path::Path::new("models/ggml-silero-vad.bin"))?),
        DecodeSettings::default(),
    )?;
    let chunks = engine.find_speech(track);
    for c in &chunks {
        let voiced: Vec<String> = c
            .voiced
            .iter()
            .map(|(a, b)| {
                format!(
                    "{:.2}-{:.2}",
                    (c.start + a) as f64 / 16000.0,
                    (c.start + b) as f64 / 16000.0
                )
            })
            .collect();
        println!(
            "chunk {:.2}-{:.2} voiced {}",
            c.start as f64 / 16000.0,
            c.end as f64 / 16000.0,
            voiced.join(" ")
        );
    }
    let plan = callqa::audio::plan::plan_track(track, chunks, &Default::default());
    for s in &plan.sounds {
        println!("  sound {:?} {:.2}-{:.2}", s.kind, s.start, s.end);
    }
    for s in engine.transcribe(track, &plan.chunks, None)? {
        println!("  {:.2}-{:.2} {}", s.start, s.end, s.text);
    }
    Ok(())
}

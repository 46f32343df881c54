//! Dev tool: how much of a set's channel audio the speech detector hands to
//! whisper, against the speech its script says is there (`expected.json`),
//! per call and channel: where a set's decoding time goes.
//!     cargo run --release --example speech_budget -- data-samples/SET
use std::path::Path;

use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::vad::{SileroVad, SpeechDetector};
use callqa::audio::{decode_file, speaker_tracks, WHISPER_RATE_HZ};
use callqa::eval::scripted_transcripts;
use callqa::input::{discover, DiscoverOptions, DEFAULT_NAME_PATTERN};
use callqa::transcript::{AgentChannel, Speaker};

fn main() -> anyhow::Result<()> {
    let set = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: speech_budget SET_DIR"))?;
    let set = Path::new(&set);
    let scripts = scripted_transcripts(&set.join("expected.json"))?;
    let calls = discover(set, &DiscoverOptions::new(DEFAULT_NAME_PATTERN, AgentChannel::Left)?)?.calls;
    let engine = Engine::load(
        Path::new("models/ggml-base-q8_0.bin"),
        SpeechDetector::Silero(SileroVad::load(Path::new("models/ggml-silero-vad.bin"))?),
        DecodeSettings::default(),
    )?;
    let seconds = |samples: usize| samples as f64 / f64::from(WHISPER_RATE_HZ);
    let (mut channel_s, mut decoded_s, mut scripted_s, mut missed_s, mut chunks_n) = (0.0, 0.0, 0.0, 0.0, 0);
    for call in &calls {
        let script = scripts.iter().find(|s| s.call_id == call.call_id);
        for track in speaker_tracks(decode_file(&call.audio_path)?, call.agent_channel)? {
            // a mixed track's script is every turn
            let turns: Vec<(f64, f64)> = script
                .iter()
                .flat_map(|s| &s.segments)
                .filter(|t| track.speaker == Speaker::Unknown || t.speaker == track.speaker)
                .map(|t| (t.start, t.end))
                .collect();
            let chunks: Vec<(f64, f64)> = engine
                .find_speech(&track)
                .iter()
                .map(|c| (seconds(c.start), seconds(c.end)))
                .collect();
            // scripted speech outside every chunk: what whisper never hears
            // (the detector's chunks never overlap)
            let missed: f64 = turns
                .iter()
                .map(|&(a, b)| {
                    let heard: f64 = chunks.iter().map(|&(s, e)| (e.min(b) - s.max(a)).max(0.0)).sum();
                    b - a - heard
                })
                .sum();
            let decoded: f64 = chunks.iter().map(|(s, e)| e - s).sum();
            let scripted: f64 = turns.iter().map(|(s, e)| e - s).sum();
            let length = seconds(track.samples.len());
            println!(
                "{} {:8} channel {length:6.1} s  decoded {decoded:6.1} s in {:3} chunks  scripted {scripted:6.1} s, \
                 {missed:.2} s of it not decoded",
                call.call_id,
                track.speaker.as_str(),
                chunks.len()
            );
            channel_s += length;
            decoded_s += decoded;
            scripted_s += scripted;
            missed_s += missed;
            chunks_n += chunks.len();
        }
    }
    println!(
        "total: channel {channel_s:.1} s, decoded {decoded_s:.1} s ({:.2} of it) in {chunks_n} chunks, \
         scripted {scripted_s:.1} s (decoded / scripted {:.2}), scripted not decoded {missed_s:.1} s",
        decoded_s / channel_s,
        decoded_s / scripted_s
    );
    Ok(())
}

//! `callqa model import`: the real default model converts to whisper.cpp's layout.

use crate::common::*;

#[test]
fn the_installed_models_have_the_reference_sizes() {
    // scripts/setup.sh makes them with `callqa model import`: the f16 one must be
    // the size of the published ggml-base.bin, the q8_0 one that of whisper.cpp's
    // own q8_0 quantization of it.
    assert_eq!(
        std::fs::metadata(installed_model("ggml-base.bin")).unwrap().len(),
        147_951_465
    );
    assert_eq!(std::fs::metadata(model()).unwrap().len(), 81_768_585);
}

#[test]
fn both_conversions_transcribe_the_same_greeting() {
    let _lock = whisper_lock();
    for name in ["ggml-base.bin", "ggml-base-q8_0.bin"] {
        let out = workdir();
        callqa()
            .args(["run", samples().join("manifest.csv").to_str().unwrap(), "--out"])
            .arg(out.path())
            .arg("--model")
            .arg(installed_model(name))
            .assert()
            .success();
        let t = transcript(out.path(), "call-001");
        let opening: String = t
            .segments
            .iter()
            .take_while(|s| s.start < 6.0)
            .map(|s| s.text.as_str())
            .collect();
        assert!(
            opening.contains("很高兴为您服务") && opening.contains("请问有什么可以帮您"),
            "{name}: {opening}"
        );
    }
}

#[test]
fn import_reports_a_folder_that_is_not_a_model() {
    let dir = workdir();
    callqa()
        .args(["model", "import"])
        .arg(dir.path())
        .arg("-o")
        .arg(dir.path().join("out.bin"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("model.bin"));
    assert!(!dir.path().join("out.bin").exists());
}

#[test]
fn a_file_that_is_not_a_ggml_model_is_refused_clearly() {
    let dir = workdir();
    let fake = dir.path().join("model.bin");
    std::fs::write(&fake, vec![0u8; 4096]).unwrap();
    callqa()
        .args(["run", samples().to_str().unwrap(), "--out"])
        .arg(dir.path().join("out"))
        .arg("--model")
        .arg(&fake)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a whisper.cpp ggml model"));
}

/// Mean Silero speech probability inside and outside the agent's scripted
/// turns, on the agent channel of a sample call.
fn agent_speech_probabilities(
    vad: &callqa::audio::vad::SileroVad,
    dir: &str,
    call_id: &str,
    agent_channel: callqa::transcript::AgentChannel,
) -> (f32, f32) {
    use callqa::audio::{decode_file, speaker_tracks, WHISPER_RATE_HZ};
    use callqa::transcript::Speaker;
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples().join(dir).join("expected.json")).unwrap()).unwrap();
    let turns = expected[call_id]["turns"].as_array().unwrap();
    let file = std::fs::read_dir(samples().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().is_some_and(|s| s == call_id))
        .unwrap();
    let audio = decode_file(&file).unwrap();
    let tracks = speaker_tracks(audio, agent_channel).unwrap();
    let agent = tracks.iter().find(|t| t.speaker == Speaker::Agent).unwrap();
    let probabilities = vad.probabilities(&agent.samples);
    let frame_s = 512.0 / WHISPER_RATE_HZ as f64;
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for (i, p) in probabilities.iter().enumerate() {
        let t = i as f64 * frame_s;
        let in_turn = |margin: f64| {
            turns.iter().any(|turn| {
                turn["speaker"] == "agent"
                    && t >= turn["start_s"].as_f64().unwrap() - margin
                    && t <= turn["end_s"].as_f64().unwrap() + margin
            })
        };
        if in_turn(-0.2) {
            inside.push(*p);
        } else if !in_turn(0.5) {
            outside.push(*p);
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    (mean(&inside), mean(&outside))
}

#[test]
fn the_silero_vad_converts_to_the_installed_file_and_hears_speech_where_it_was_said() {
    use callqa::audio::vad::SileroVad;
    let source = installed_model("silero_vad_16k.safetensors");
    let dir = workdir();
    let out = dir.path().join("vad.bin");
    callqa()
        .args(["model", "import"])
        .arg(&source)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicates::str::contains("Silero VAD"));
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(installed_model("ggml-silero-vad.bin")).unwrap(),
        "the conversion is deterministic and matches the installed model"
    );

    // The values are right only if whisper.cpp's network, run on them, tells the
    // agent's speech from the silence of the customer's turns: a transposed or
    // misplaced tensor gives noise here.
    // (Babble is speech to it too: calls with loud babble are left out here.)
    use callqa::transcript::AgentChannel::{Left, Right};
    let vad = SileroVad::load(&out).unwrap();
    for (dir, call_id, agent_channel, min_inside, max_outside) in [
        ("", "call-001", Left, 0.8, 0.1),
        ("", "call-003", Right, 0.8, 0.1),
        ("", "call-004", Left, 0.8, 0.1),
        ("noisy", "noisy-001", Left, 0.7, 0.2),
        ("noisy", "noisy-003", Right, 0.7, 0.2),
        ("noisy", "noisy-004", Left, 0.7, 0.2),
    ] {
        let (inside, outside) = agent_speech_probabilities(&vad, dir, call_id, agent_channel);
        eprintln!("{call_id}: speech probability {inside:.2} in the agent's turns, {outside:.2} outside");
        assert!(
            inside >= min_inside && outside <= max_outside,
            "{call_id}: {inside:.2} / {outside:.2}"
        );
    }
}

#[test]
fn the_vad_is_not_quantized_and_not_made_from_other_files() {
    let dir = workdir();
    callqa()
        .args(["model", "import"])
        .arg(installed_model("silero_vad_16k.safetensors"))
        .arg("-o")
        .arg(dir.path().join("vad.bin"))
        .args(["--quantize", "q8_0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("whisper models only"));
    let fake = dir.path().join("other.safetensors");
    std::fs::write(&fake, b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ").unwrap();
    callqa()
        .args(["model", "import"])
        .arg(&fake)
        .arg("-o")
        .arg(dir.path().join("vad.bin"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not the 16 kHz Silero VAD"));
    assert!(!dir.path().join("vad.bin").exists());
}

/// callqa runs the Silero network itself (`audio::silero`, batched over
/// windows); whisper.cpp's own VAD, on the same file, is the reference it
/// must agree with, frame by frame.
#[test]
fn the_vad_network_gives_whisper_cpps_probabilities() {
    use callqa::audio::vad::SileroVad;
    use callqa::audio::{decode_file, speaker_tracks};
    use callqa::transcript::AgentChannel;
    let model = installed_model("ggml-silero-vad.bin");
    let ours = SileroVad::load(&model).unwrap();
    let mut params = whisper_rs::WhisperVadContextParams::new();
    params.set_n_threads(1);
    params.set_use_gpu(false);
    let mut reference = whisper_rs::WhisperVadContext::new(model.to_str().unwrap(), params).unwrap();
    let (mut frames, mut flipped, mut worst) = (0usize, 0usize, 0f32);
    for file in [
        "call-001.wav",
        "call-005.flac",
        "noisy/noisy-002.wav",
        "noisy/noisy-005.flac",
        "mono/mono-001.flac",
    ] {
        let audio = decode_file(&samples().join(file)).unwrap();
        let agent_channel = if file.starts_with("mono") {
            AgentChannel::Mono
        } else {
            AgentChannel::Left
        };
        for track in speaker_tracks(audio, agent_channel).unwrap() {
            reference.detect_speech(&track.samples).unwrap();
            let want = reference.probabilities().to_vec();
            let got = ours.probabilities(&track.samples);
            assert_eq!(got.len(), want.len(), "{file}: frame count");
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((g - w).abs());
                flipped += usize::from((*g >= 0.5) != (*w >= 0.5));
            }
            frames += want.len();
        }
    }
    eprintln!("{frames} frames: largest difference {worst:.5}, {flipped} on the other side of 0.5");
    assert!(frames > 5000, "the sample calls were read: {frames} frames");
    assert!(worst < 0.01, "largest difference {worst}");
    assert!(flipped * 1000 <= frames, "{flipped} of {frames} frames change sides");
}

/// 16 kHz mono 16-bit samples as floats (int16 / 32768, as the reference script reads them).
fn clip_samples(path: &std::path::Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(path).unwrap();
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

#[test]
fn the_voice_encoder_matches_the_reference_implementation() {
    // resemblyzer's pretrained.pt, converted by `callqa model import`, run by
    // callqa's own network on four real clips, against what resemblyzer
    // (PyTorch) gave on the same samples: scripts/voice_reference.py wrote
    // tests/fixtures/voice-reference.json.
    use callqa::audio::voice_vector::{similarity, VoiceEncoder};
    let dir = workdir();
    let out = dir.path().join("voice.safetensors");
    callqa()
        .args(["model", "import"])
        .arg(installed_model("ge2e-pretrained.pt"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicates::str::contains("GE2E voice encoder"));
    let encoder = VoiceEncoder::load(&out).unwrap();
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("tests/fixtures/voice-reference.json")).unwrap()).unwrap();
    let mut vectors = Vec::new();
    for clip in reference.as_array().unwrap() {
        let path = repo().join(clip["clip"].as_str().unwrap());
        let want: Vec<f32> = clip["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got = encoder.embed(&clip_samples(&path)).unwrap();
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        let cosine = similarity(&got, &want);
        assert!(
            cosine > 0.9999 && worst < 1e-3,
            "{}: cosine {cosine}, largest difference {worst}",
            path.display()
        );
        vectors.push(got);
    }
    // and the vectors carry who spoke: four different people, none alike
    for (i, a) in vectors.iter().enumerate() {
        for b in &vectors[i + 1..] {
            assert!(similarity(a, b) < 0.7, "two speakers alike: {}", similarity(a, b));
        }
    }
}

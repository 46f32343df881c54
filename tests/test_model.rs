//! `callqa model import`: the real default model converts to whisper.cpp's layout.

mod common;

use common::*;

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

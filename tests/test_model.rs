//! `callqa model import`: the real default model converts to whisper.cpp's layout.

mod common;

use common::*;

#[test]
fn the_installed_default_model_has_the_reference_size() {
    // scripts/setup.sh makes it with `callqa model import`; the published
    // ggml-base.bin is 147,951,465 bytes, and so must ours be.
    assert_eq!(std::fs::metadata(model()).unwrap().len(), 147_951_465);
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

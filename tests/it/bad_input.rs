//! Files a careless or hostile upload holds: one bad file never stops the
//! night. Mutants of every audio format callqa reads (truncated, header bytes
//! flipped or set to extremes, garbage bodies, headers spliced onto noise),
//! the crashers fuzzing found (`tests/fixtures/fuzz/`), and a bounded fuzz
//! run of the decoder and the input readers.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A small deterministic generator (xorshift), so a failing mutant is the
/// same one on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The audio fixtures mutated: seven formats (PCM of four widths, float,
/// G.711 µ-law and A-law, FLAC, Ogg Vorbis, MP3).
const SEEDS: &[&str] = &[
    "pcm_s16.wav",
    "pcm_u8.wav",
    "float32.wav",
    "ulaw.wav",
    "alaw.wav",
    "tone.flac",
    "tone.ogg",
    "tone.mp3",
];

/// `per_seed` mutants of each seed file, named by what was done to them.
fn mutants(per_seed: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for name in SEEDS {
        let good = std::fs::read(repo().join("tests/fixtures/audio").join(name)).unwrap();
        let header = good.len().min(64);
        for i in 0..per_seed {
            let mut bytes = good.clone();
            let kind = match i % 6 {
                0 => {
                    bytes.truncate(rng.below(good.len()));
                    "truncated"
                }
                1 => {
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(header);
                        bytes[at] ^= 1 << rng.below(8);
                    }
                    "header-flipped"
                }
                2 => {
                    let at = rng.below(header);
                    let len = 1 + rng.below(4).min(bytes.len() - at - 1);
                    let extreme = if rng.below(2) == 0 { 0x00 } else { 0xff };
                    bytes[at..at + len].fill(extreme);
                    "header-extreme"
                }
                3 => {
                    let body = bytes.len() - header;
                    bytes.truncate(header);
                    bytes.extend(rng.bytes(body));
                    "garbage-body"
                }
                4 => {
                    let keep = 4 + rng.below(header - 4);
                    bytes.truncate(keep);
                    let noise = 2000 + rng.below(20_000);
                    bytes.extend(rng.bytes(noise));
                    "header-on-noise"
                }
                _ => {
                    for _ in 0..1 + rng.below(16) {
                        let at = rng.below(bytes.len());
                        bytes[at] = rng.next() as u8;
                    }
                    "bytes-changed"
                }
            };
            let ext = name.rsplit('.').next().unwrap();
            let stem = name.split('.').next().unwrap().replace('_', "");
            out.push((format!("{stem}-{kind}-{i}.{ext}"), bytes));
        }
    }
    out
}

/// The crashers and oddities kept from fuzzing and from users' reports.
fn kept_corpus(kind: &str) -> Vec<PathBuf> {
    let dir = repo().join("tests/fixtures/fuzz").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with("README"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// Every kept audio crasher, every mutant: decoded or refused, never a panic.
/// The ID3v2.4 tag that panicked symphonia 0.5.5 is among the kept ones.
#[test]
fn the_decoder_never_panics_on_the_corpus_or_its_mutants() {
    let mut inputs: Vec<(String, Vec<u8>)> = kept_corpus("audio")
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    // FUZZ_MUTANTS=N (per seed file) for a longer run; the seed varies with FUZZ_SEED
    let per_seed = std::env::var("FUZZ_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(250);
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5eed_cafe);
    inputs.extend(mutants(per_seed, seed));
    let mut decoded = 0;
    for (name, bytes) in &inputs {
        let path = Path::new(name);
        let result = std::panic::catch_unwind(|| callqa::audio::decode_bytes(bytes.clone(), path, Some(3600.0)));
        match result {
            Ok(Ok(_)) => decoded += 1,
            Ok(Err(e)) => assert!(
                e.to_string().contains(name.as_str()),
                "{name}: the error names no file: {e}"
            ),
            Err(_) => panic!("{name}: the decoder panicked (keep it in tests/fixtures/fuzz/audio)"),
        }
    }
    // the mutants are not all refused: a damaged packet in a good file is skipped, as players do
    assert!(
        decoded > 0 && decoded < inputs.len(),
        "{decoded} of {} decoded",
        inputs.len()
    );
}

/// Manifests and file names from fuzzing: rows become calls or problems with
/// their line, never a panic.
#[test]
fn the_input_readers_never_panic_on_the_corpus() {
    let options = callqa::input::DiscoverOptions::new(callqa::input::DEFAULT_NAME_PATTERN, Default::default()).unwrap();
    for file in kept_corpus("manifest") {
        let dir = workdir();
        let manifest = dir
            .path()
            .join(format!("manifest.{}", file.extension().unwrap().to_string_lossy()));
        std::fs::copy(&file, &manifest).unwrap();
        let found = std::panic::catch_unwind(|| callqa::input::discover(&manifest, &options));
        let found = found.unwrap_or_else(|_| panic!("{}: the manifest reader panicked", file.display()));
        if let Ok(discovery) = found {
            for problem in &discovery.problems {
                assert!(problem.location.contains("manifest"), "{problem:?}");
            }
        }
    }
}

/// The bar of the issue: the crafted files and 280 mutants beside a good call
/// give exit 1 twice in a row, no panic, a row per file, and the good call scored.
#[test]
fn a_night_of_bad_files_beside_a_good_call_finishes_twice() {
    let _whisper = whisper_lock();
    let dir = workdir();
    let calls = dir.path().join("calls");
    std::fs::create_dir(&calls).unwrap();
    std::fs::copy(
        samples().join("call-001.wav"),
        calls.join("A001_20261120_091205_good.wav"),
    )
    .unwrap();
    let mut files = 1;
    for (i, path) in kept_corpus("audio").into_iter().enumerate() {
        let ext = path
            .extension()
            .map_or("wav".into(), |e| e.to_string_lossy().into_owned());
        std::fs::copy(&path, calls.join(format!("K{i:02}_20261120_000000_kept.{ext}"))).unwrap();
        files += 1;
    }
    for (i, (name, bytes)) in mutants(35, 0xbad_f11e).into_iter().enumerate() {
        let ext = name.rsplit('.').next().unwrap();
        let stem = name.rsplit_once('.').unwrap().0;
        std::fs::write(calls.join(format!("M{i:03}_20261120_000000_{stem}.{ext}")), bytes).unwrap();
        files += 1;
    }
    assert!(files >= 280 + 2, "{files} files");
    let out = dir.path().join("out");
    let run = || {
        callqa()
            .args([
                "run",
                calls.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--no-progress",
            ])
            .arg("--model")
            .arg(model())
            .output()
            .unwrap()
    };
    for attempt in ["first", "second"] {
        let output = run();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{attempt} run: {stderr}");
        assert!(!stderr.contains("panicked"), "{attempt} run: {stderr}");
        let calls = read_parquet(&out.join("calls.parquet"));
        assert_eq!(calls.height(), files, "{attempt} run: a row per file");
        let good = row_of(&calls, "A001_20261120_091205_good");
        assert_eq!(strings(&calls, "status")[good].as_deref(), Some("ok"), "{attempt} run");
        let scores = calls.column("score").unwrap().f64().unwrap().clone();
        assert!(scores.get(good).is_some(), "{attempt} run: the good call is scored");
        if attempt == "second" {
            // the failures stand, not retried: the files did not change
            assert!(stderr.contains("FAILED (as before"), "{stderr}");
        }
    }
    // every failed row says what failed, and where
    let calls = read_parquet(&out.join("calls.parquet"));
    for (status, stage) in strings(&calls, "status").iter().zip(strings(&calls, "failed_stage")) {
        if status.as_deref() == Some("failed") {
            assert!(
                matches!(stage.as_deref(), Some("probe" | "decode" | "resample")),
                "{stage:?}"
            );
        }
    }
}

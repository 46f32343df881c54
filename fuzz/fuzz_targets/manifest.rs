//! Any bytes as a CSV or JSONL manifest, and any text as a recording's file
//! name: calls, or problems with their file and line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let dir = tempfile::tempdir().expect("scratch folder");
    let options =
        callqa::input::DiscoverOptions::new(callqa::input::DEFAULT_NAME_PATTERN, Default::default()).expect("pattern");
    match first % 3 {
        0 | 1 => {
            let name = if first % 3 == 0 { "manifest.csv" } else { "manifest.jsonl" };
            let manifest = dir.path().join(name);
            std::fs::write(&manifest, rest).expect("scratch manifest");
            std::fs::write(dir.path().join("x.wav"), b"RIFF").expect("scratch audio");
            if let Ok(found) = callqa::input::discover(&manifest, &options) {
                for problem in &found.problems {
                    assert!(problem.location.contains("manifest"), "{problem:?}");
                }
            }
        }
        _ => {
            // a file name: the text up to the first byte a name cannot hold
            let text = String::from_utf8_lossy(rest);
            let stem: String = text.chars().take_while(|c| *c != '/' && *c != '\0').take(200).collect();
            if stem.is_empty() || stem == "." || stem == ".." {
                return;
            }
            let file = dir.path().join(format!("{stem}.wav"));
            if std::fs::write(&file, b"RIFF").is_ok() {
                let _ = callqa::input::discover(&file, &options);
            }
        }
    }
});

//! Phrase recall and precision of an output folder's transcripts against a
//! sample set's scripts (dev tool).
//!     cargo run --release --example recall -- OUT_DIR data-samples/lines-a
use std::path::Path;

use callqa::eval::{phrase_counts, scripted_transcripts, PhraseScore};
use callqa::pack::builtin_pack;
use callqa::store::{list_transcripts, OutDir};
use callqa::transcript::Transcript;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = OutDir::new(&args[1]);
    let set = Path::new(&args[2]);
    let pack = builtin_pack();
    let transcripts: Vec<Transcript> = list_transcripts(&out)?
        .iter()
        .map(|p| Transcript::read(p))
        .collect::<Result<_, _>>()?;
    let said = phrase_counts(&scripted_transcripts(&set.join("expected.json"))?, &pack);
    let found = phrase_counts(&transcripts, &pack);
    let score = PhraseScore::new(&said, &found);
    println!(
        "recall {}/{} = {:.3}, precision {:.3}",
        score.matched,
        score.said,
        score.recall(),
        score.precision()
    );
    for (call, phrase, s, f) in &score.differences {
        println!("  {call} {phrase}: said {s}, found {f}");
    }
    Ok(())
}

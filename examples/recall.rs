//! Phrase recall and precision of an output folder's transcripts against a
//! sample set's scripts (dev tool).
//!     cargo run --release --example recall -- OUT_DIR data-samples/lines-a [--agent]
//! `--agent`: the agent's phrases only (the IVR sets: a prompt's phrase
//! credited to the agent is a false one).
use std::path::Path;

use callqa::eval::{agent_phrase_counts, phrase_counts, scripted_transcripts, PhraseScore};
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
    let scripts = scripted_transcripts(&set.join("expected.json"))?;
    let (said, found) = if args.iter().any(|a| a == "--agent") {
        (
            agent_phrase_counts(&scripts, &pack),
            agent_phrase_counts(&transcripts, &pack),
        )
    } else {
        (phrase_counts(&scripts, &pack), phrase_counts(&transcripts, &pack))
    };
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

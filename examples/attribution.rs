//! Who-said-what on mono calls, against the truth of how they were made:
//! segments attributed right, wrong and left unknown, and the agent's lines
//! charged to the right person (`callqa::eval::attribution_figures`).
//!
//! ```text
//! callqa run data-samples/respoken-1 --out /tmp/r1
//! cargo run --release --example attribution -- [--pitch-only] /tmp/r1 data-samples/respoken-1/expected.json
//! ```
//! Re-attributes the saved transcripts with the current rules and the
//! folder's enrolled voices (no audio is heard again), so a change to
//! `rules::speakers` is measured in seconds. `--pitch-only` sets the voice
//! vectors and prints aside: callqa before the voice encoder.

use callqa::pack::builtin_pack;

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let pitch_only = args.iter().any(|a| a == "--pitch-only");
    args.retain(|a| a != "--pitch-only");
    // --call ID: every segment of one call, as told and as said
    let call = args.iter().position(|a| a == "--call").map(|i| {
        let id = args.get(i + 1).cloned().unwrap_or_default();
        args.drain(i..(i + 2).min(args.len()));
        id
    });
    let [out, expected] = &args[..] else {
        anyhow::bail!("usage: attribution [--pitch-only] [--call ID] OUT_DIR EXPECTED_JSON");
    };
    let f = callqa::eval::attribution_figures(out.as_ref(), expected.as_ref(), &builtin_pack(), pitch_only)?;
    for (call_id, start, end, truth, told, text) in f.told.iter().filter(|t| Some(&t.0) == call.as_ref()) {
        println!("  {call_id} {start:.1}-{end:.1} said by {truth:?}, told {told:?}: {text}");
    }
    for (call_id, start, end, truth, text) in f.wrong.iter().filter(|_| call.is_none()) {
        println!("  {call_id} {start:.1}-{end:.1} {truth:?} given to the other speaker: {text}");
    }
    for (call_id, phrase) in f.agent_phrases_missed.iter().filter(|_| call.is_none()) {
        println!("  {call_id} {phrase}: not credited to the agent");
    }
    println!(
        "agent's phrases credited to the agent {}/{} ({:.3}), phrases charged to the agent that it did not say {}; \
         at best (each segment holding some of an agent's turn given to the agent) {} ({:.3})",
        f.agent_phrases_credited,
        f.agent_phrases,
        f.agent_phrase_share(),
        f.phrases_charged_wrongly,
        f.agent_phrases_at_best,
        f.agent_phrase_share_at_best()
    );
    println!(
        "segments right {}/{} ({:.3}), wrong {}, unknown {}; agent's lines given to the agent {}/{} ({:.3}); customer lines charged to the agent {}",
        f.right,
        f.segments,
        f.right_share(),
        f.wrong.len(),
        f.unknown,
        f.agent_right,
        f.agent_segments,
        f.agent_share(),
        f.customer_to_agent
    );
    Ok(())
}

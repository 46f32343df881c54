//! Dev tool: every audio check on the scripted stretches of sample sets, as TSV
//! (eval::check_scripted_stretches), for tuning the verifier's thresholds.
//!     cargo run --release --example stretch_checks -- data-samples/lines-a data-samples/noisy > checks.tsv
use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::vad::{SileroVad, SpeechDetector};
use callqa::eval::check_scripted_stretches;
use callqa::lexicon::Matcher;
use callqa::pack::builtin_pack;

fn main() -> anyhow::Result<()> {
    callqa::asr::blas::restart_with_cpu_kernels();
    let mut pack = builtin_pack();
    if let Ok(b) = std::env::var("NEAR_BUDGET") {
        pack.lexicon.verify.near_budget_per_char = b.parse()?;
    }
    let matcher = Matcher::new(&pack.lexicon);
    let vad = SileroVad::load(std::path::Path::new("models/ggml-silero-vad.bin"))?;
    let engine = Engine::load(
        std::path::Path::new("models/ggml-base-q8_0.bin"),
        SpeechDetector::Silero(vad),
        DecodeSettings::default(),
    )?;
    println!("set\tcall\tsnr\tstretch\tpositive\tphrase\theard\tgap\tweakest\tmean\tmargin\trival\tverdict\tsaid\tchannel\tstart_s\tend_s\tchecked\theard_mean");
    for set in std::env::args().skip(1) {
        for c in check_scripted_stretches(&engine, &matcher, std::path::Path::new(&set))? {
            println!(
                "{set}\t{}\t{}\t{:?}\t{}\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{}\t{}\t{:?}\t{}\t{}\t{:.2}\t{:.2}\t{}\t{}",
                c.call_id,
                c.snr_db.map_or("clean".into(), |s| s.to_string()),
                c.stretch,
                c.positive,
                c.phrase_id,
                c.check.heard,
                c.check.gap_per_char,
                c.check.weakest,
                c.check.mean,
                c.check.margin.map_or("".into(), |m| format!("{m:.2}")),
                c.check.rival.clone().unwrap_or_default(),
                c.verdict,
                c.said,
                c.channel,
                c.start_s,
                c.end_s,
                c.check.phrase,
                c.check.heard_mean.map_or("".into(), |m| format!("{m:.3}"))
            );
        }
    }
    Ok(())
}

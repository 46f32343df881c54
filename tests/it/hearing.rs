//! Hearing on bad phone lines (issue 20): phrases whisper's transcript only
//! nearly holds are checked against the audio with whisper's own decoder.
//! Measured on `data-samples/lines-b` (GSM 06.10 / IMA ADPCM, street noise
//! and hum, weak or clipped agents, packet loss), a set the thresholds were
//! not tuned on (scripts/make_line_samples.py).

use crate::common::*;
use callqa::asr::{DecodeSettings, Engine};
use callqa::audio::vad::{SileroVad, SpeechDetector};
use callqa::eval::{check_scripted_stretches, phrase_counts, scripted_transcripts, PhraseScore};
use callqa::lexicon::{MatchKind, Matcher};
use callqa::pack::builtin_pack;

/// The whole path, run as a user runs it: the night's calls through
/// `callqa run`, then the tables, the report and `examples`.
#[test]
fn phone_line_phrases_are_verified_against_the_audio() {
    let _lock = whisper_lock();
    let set = samples().join("lines-b");
    let out = workdir();
    run_set(&set, out.path());

    // recall over what the scripts say, with and without the audio checks
    // (the same transcripts, their checks dropped)
    let pack = builtin_pack();
    let scripts = scripted_transcripts(&set.join("expected.json")).unwrap();
    let said = phrase_counts(&scripts, &pack);
    let ids: Vec<String> = (1..=12).map(|i| format!("b-{i:02}")).collect();
    let heard: Vec<_> = ids.iter().map(|id| transcript(out.path(), id)).collect();
    let unchecked: Vec<_> = heard
        .iter()
        .cloned()
        .map(|mut t| {
            t.segments.iter_mut().for_each(|s| s.checks.clear());
            t
        })
        .collect();
    let with = PhraseScore::new(&said, &phrase_counts(&heard, &pack));
    let without = PhraseScore::new(&said, &phrase_counts(&unchecked, &pack));
    eprintln!(
        "lines-b: recall {}/{} = {:.3} (without the audio checks {:.3}), precision {:.3}; differences {:?}",
        with.matched,
        with.said,
        with.recall(),
        without.recall(),
        with.precision(),
        with.differences
    );
    // measured 0.933, precision 1.00 (0.889 and 0.988 before the second
    // acceptance tier and the checks' mutual rivalry; 0.78 before
    // verification; 0.756 before this chunking changes)
    assert!(with.recall() >= 0.9, "recall {:.3}", with.recall());
    assert!(
        with.matched >= without.matched + 4,
        "the audio checks add phrases: {} against {}",
        with.matched,
        without.matched
    );
    assert!(
        with.precision() >= 0.98,
        "precision {:.3}: {:?}",
        with.precision(),
        with.differences
    );

    // the greeting verdicts against the scripts' own (b-03's agent opens with
    // 喂，什么事, b-08's greets late): the bar is 18 of 20
    let matcher = Matcher::new(&pack.lexicon);
    let calls = read_parquet(&out.path().join("calls.parquet"));
    let greeting = calls.column("greeting_ok").unwrap().bool().unwrap().clone();
    let wrong: Vec<&str> = scripts
        .iter()
        .filter(|script| {
            let scripted = callqa::rules::judge(script, &matcher, &pack.rule_book()).0.greeting_ok;
            greeting.get(row_of(&calls, &script.call_id)) != Some(scripted)
        })
        .map(|script| script.call_id.as_str())
        .collect();
    assert!(wrong.len() <= 1, "greeting verdicts unlike the scripts' in {wrong:?}");

    // hits.parquet: verified hits carry their score, above the pack's bars
    let lowest_accepted = f64::from(
        pack.lexicon
            .verify
            .accept_gap_per_char
            .min(pack.lexicon.verify.likely_gap_per_char),
    );
    let hits = read_parquet(&out.path().join("hits.parquet"));
    let kinds = strings(&hits, "match");
    let score_column = hits.column("score").unwrap().f64().unwrap().clone();
    let scores: Vec<Option<f64>> = (0..hits.height()).map(|i| score_column.get(i)).collect();
    let verified: Vec<usize> = (0..hits.height())
        .filter(|&i| kinds[i].as_deref() == Some("verified"))
        .collect();
    assert!(verified.len() >= 4, "{} verified hits", verified.len());
    for (i, kind) in kinds.iter().enumerate() {
        match kind.as_deref() {
            Some("verified") => assert!(
                scores[i].is_some_and(|s| s >= lowest_accepted),
                "row {i}: {:?}",
                scores[i]
            ),
            Some("uncertain") => assert!(
                scores[i].is_some_and(|s| (-2.5..0.0).contains(&s)),
                "row {i}: {:?}",
                scores[i]
            ),
            _ => assert_eq!(scores[i], None, "row {i}: only audio checks have a score"),
        }
    }

    // examples: the trainer sees what was heard and what it was verified as
    let listed = stdout_ok(
        callqa()
            .args([
                "examples", "--match", "verified", "--format", "csv", "--limit", "100", "--out",
            ])
            .arg(out.path()),
    );
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    // (by default examples are the agents' bad moments: forbidden and nine-don't phrases)
    let speakers = strings(&hits, "speaker");
    let categories = strings(&hits, "category");
    let bad_verified = verified
        .iter()
        .filter(|&&i| speakers[i].as_deref() != Some("customer"))
        .filter(|&&i| matches!(categories[i].as_deref(), Some("forbidden" | "nine_dont")))
        .count();
    assert!(bad_verified >= 2, "{listed}");
    assert_eq!(rows.len(), bad_verified, "each verified bad moment once: {listed}");
    assert!(rows.iter().all(|r| r.contains("verified")), "{listed}");
    let table = stdout_ok(
        callqa()
            .args(["examples", "--match", "verified", "--limit", "100", "--out"])
            .arg(out.path()),
    );
    assert_eq!(table.matches("verified as 「").count(), bad_verified, "{table}");
    // and the report says how each of those moments was found
    for page in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(out.path().join(page)).unwrap();
        assert!(
            text.contains("verified against the audio as 「我找不到人问」"),
            "{page}"
        );
    }
}

/// No phrase is confirmed that was not said: every scripted stretch of the
/// held-out set (agent turns, customer turns, and the babble the agent's
/// line carries while the customer speaks) checked against every phrase
/// the near search proposes there, with a search wider than the pack's, so
/// that more near misses are put to the audio than a run ever puts.
#[test]
fn no_phrase_is_verified_that_was_not_said() {
    let _lock = whisper_lock();
    let model = model();
    let vad = SileroVad::load(&callqa::audio::vad::default_vad_model_path(&model)).unwrap();
    let engine = Engine::load(&model, SpeechDetector::Silero(vad), DecodeSettings::default()).unwrap();
    let mut pack = builtin_pack();
    pack.lexicon.verify.near_budget_per_char = 0.7; // the default is 0.55
    let matcher = Matcher::new(&pack.lexicon);
    let checks = check_scripted_stretches(&engine, &matcher, &samples().join("lines-b")).unwrap();
    let (positives, negatives): (Vec<_>, Vec<_>) = checks.iter().partition(|c| c.positive);
    let accepted =
        |set: &[&callqa::eval::StretchCheck]| set.iter().filter(|c| c.verdict == Some(MatchKind::Verified)).count();
    let false_accepts: Vec<String> = negatives
        .iter()
        .filter(|c| c.verdict == Some(MatchKind::Verified))
        .map(|c| {
            format!(
                "{} {:?} {} heard {} ({:.2})",
                c.call_id, c.stretch, c.phrase_id, c.check.heard, c.check.gap_per_char
            )
        })
        .collect();
    eprintln!(
        "lines-b stretches: {} of {} phrases said verified; {} of {} not said",
        accepted(&positives),
        positives.len(),
        false_accepts.len(),
        negatives.len()
    );
    // measured: 18 of 25 said, 0 of 274 not said
    assert!(
        negatives.len() >= 200,
        "only {} negatives were put to the audio",
        negatives.len()
    );
    assert!(false_accepts.is_empty(), "verified but not said: {false_accepts:?}");
    assert!(
        accepted(&positives) * 3 >= positives.len(),
        "{} of {}",
        accepted(&positives),
        positives.len()
    );
}

/// Issue 36: on agent lines full of what sounds like a forbidden or
/// nine-don't phrase and is not (户号是 for 不好意思, 我知道 for 我不知道,
/// 那是我的工作 for 那不是我的工作), no moment is left open and none counts:
/// an open moment there would ask a person to listen for nothing
/// (data-samples/near-miss, scripts/make_near_miss_samples.py; 12 such
/// moments were left open before).
#[test]
fn sound_alikes_of_forbidden_phrases_are_not_left_open() {
    let _lock = whisper_lock();
    let set = samples().join("near-miss");
    let out = workdir();
    run_set(&set, out.path());
    let hits = read_parquet(&out.path().join("hits.parquet"));
    let (categories, kinds, heard, speakers) = (
        strings(&hits, "category"),
        strings(&hits, "match"),
        strings(&hits, "matched_text"),
        strings(&hits, "speaker"),
    );
    // the agents' (a customer may say 不行: theirs are not the agent's faults)
    let must_not: Vec<String> = (0..hits.height())
        .filter(|&i| speakers[i].as_deref() == Some("agent"))
        .filter(|&i| matches!(categories[i].as_deref(), Some("forbidden" | "nine_dont")))
        .map(|i| format!("{:?} {:?} {:?}", categories[i], kinds[i], heard[i]))
        .collect();
    assert!(must_not.is_empty(), "must-not phrases found or left open: {must_not:?}");
    let calls = read_parquet(&out.path().join("calls.parquet"));
    let open = strings(&calls, "uncertain_rules");
    assert!(
        open.iter()
            .flatten()
            .all(|r| !r.contains("forbidden") && !r.contains("nine_dont")),
        "{open:?}"
    );
}

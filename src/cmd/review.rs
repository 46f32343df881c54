//! `callqa review`: a sample of calls on one page for QA staff to review, and
//! their verdicts imported into the output folder, then scored, so
//! calls.parquet, the scorecards and the report show them.

use std::collections::{HashMap, HashSet};

use anyhow::Context;

use crate::cli::{ReviewImportArgs, ReviewSampleArgs};
use crate::cmd::{load_lexicons, load_lexicons_showing, BatchSummary, Console, Outcome};
use crate::files::{create_dir_all, lock_folder, write_atomic, LockMode};
use crate::i18n::{Lang, Messages};
use crate::input::AudioRoots;
use crate::lexicon::Matcher;
use crate::msg;
use crate::pack::Titles;
use crate::privacy::Redactor;
use crate::report::{
    clip_file_name, cut_clips, review_page, said_of, why_not_counted, Moment, ReviewCall, ReviewEvidence, ReviewLine,
    ReviewPage, ReviewRule,
};
use crate::review::{append, pick, read_sheet, Known, SampleSpec};
use crate::rules::speakers_as_told;
use crate::rules::{Rule, RULE_IDS};
use crate::scoring::score_archive;
use crate::store::{find_transcript, read_calls, CallRecord, HitRecord, OutDir, ScoredTables, TranscriptArchive};
use crate::transcript::{Speaker, Transcript};

pub fn import(args: ReviewImportArgs, lang: Option<Lang>) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let pack = load_lexicons(args.lexicons.lexicons.as_deref(), lang)?;
    let console = Console::new(&args.output, pack.language);
    let m = console.messages;
    let out = OutDir::new(&args.out);
    if !out.calls_table().is_file() {
        anyhow::bail!(
            "{}: no calls.parquet (run `callqa run` or `callqa score` first: reviews name its calls)",
            out.root().display()
        );
    }
    // alone on the folder: no score may read reviews.parquet half-replaced
    let _lock = lock_folder(out.root(), LockMode::Exclusive, "callqa review import")?;
    let calls: HashSet<String> = read_calls(&out)
        .with_context(|| format!("reading {}", out.calls_table().display()))?
        .into_keys()
        .collect();
    let known = Known {
        calls: &calls,
        rules: RULE_IDS,
    };
    let imported_at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let reviews = read_sheet(&args.file, &args.by, &known, &imported_at)?;
    let read = reviews.len();
    let imported = append(&out, reviews)?;
    console.say(msg!(
        m,
        "review-imported",
        file = args.file.display().to_string(),
        read = read,
        added = imported.added,
        already = imported.already_there
    ));
    if args.no_score {
        console.say(m.text("review-not-scored"));
        return Ok(Outcome::Success);
    }
    let scored = score_archive(&out, &TranscriptArchive::open(&out)?, &pack)?;
    console.summary(&BatchSummary::new("review import", &out, started.elapsed().as_secs_f64()).with_scores(&scored));
    Ok(if scored.failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

pub fn sample(args: ReviewSampleArgs, lang: Option<Lang>) -> anyhow::Result<Outcome> {
    let pack = load_lexicons_showing(args.lexicons.lexicons.as_deref(), lang, args.show_pii)?;
    let m = Messages::of(pack.language);
    let out = OutDir::new(&args.out);
    let tables = ScoredTables::open(&out)?;
    let calls = tables.calls()?;
    let spec = SampleSpec {
        n: args.n,
        per_agent: args.per_agent,
        failed_first: args.failed_first,
        seed: args.seed,
    };
    let picked = pick(&calls, &spec);
    if picked.is_empty() {
        anyhow::bail!("{}: no scored call to review", out.calls_table().display());
    }
    let wanted: HashSet<&str> = picked.iter().map(String::as_str).collect();
    let mut hits: HashMap<String, Vec<HitRecord>> = HashMap::new();
    for hit in tables.hits(|h| wanted.contains(h.call_id.as_str()))? {
        hits.entry(hit.call_id.clone()).or_default().push(hit);
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| out.root().join("review").join(format!("seed-{}", args.seed)));
    let audio_dir = dir.join("audio");
    create_dir_all(&audio_dir).with_context(|| format!("creating {}", audio_dir.display()))?;
    let matcher = Matcher::new(&pack.lexicon);
    let redactor = pack.privacy.redact.then(|| Redactor::new(&pack.privacy));
    let roots = args.audio_roots.roots();
    let mut failed = 0;
    let mut page_calls = Vec::with_capacity(picked.len());
    for (i, call_id) in picked.iter().enumerate() {
        let call = &calls[call_id];
        let (audio, audio_problem) = match whole_call_audio(call_id, call, i + 1, &audio_dir, &roots, m) {
            Ok(name) => (Some(format!("audio/{name}")), String::new()),
            Err(problem) => {
                failed += 1;
                eprintln!("{call_id}: {problem}");
                (None, problem)
            }
        };
        let lines = match find_transcript(&out, call_id, call.started_at.as_deref()) {
            Some(t) => lines_as_scored(t, call, &matcher, &pack, redactor.as_ref()),
            None => {
                eprintln!(
                    "{}",
                    msg!(
                        m,
                        "review-no-transcript",
                        call = call_id.as_str(),
                        dir = out.transcripts_dir().display().to_string()
                    )
                );
                Vec::new()
            }
        };
        let call_hits = hits.get(call_id).map_or(&[][..], Vec::as_slice);
        page_calls.push(ReviewCall {
            index: i + 1,
            call_id: call_id.clone(),
            agent_id: call.agent_id.clone(),
            call_date: call.call_date.clone(),
            score: call.score,
            passed: call.passed.unwrap_or(false),
            audio,
            audio_problem,
            lines,
            rules: rules_to_review(call, call_hits, &pack.titles, m),
        });
    }
    let mut how = vec![msg!(
        m,
        "review-how-agents",
        agents = page_calls.iter().map(|c| &c.agent_id).collect::<HashSet<_>>().len()
    )];
    if let Some(k) = args.per_agent {
        how.push(msg!(m, "review-how-per-agent", n = k));
    }
    if args.failed_first {
        how.push(m.text("review-how-failed-first"));
    }
    how.push(msg!(m, "review-how-seed", seed = args.seed.to_string()));
    let page = review_page(
        &ReviewPage {
            title: out.root().display().to_string(),
            how: m.list(&how),
            page_key: format!("{} seed {}", out.root().display(), args.seed),
            csv_name: format!("review-seed-{}.csv", args.seed),
            calls: page_calls,
        },
        m,
        &pack.titles,
    )?;
    let index = dir.join("index.html");
    write_atomic(&index, page.as_bytes()).with_context(|| format!("writing {}", index.display()))?;
    eprintln!(
        "{}",
        msg!(
            m,
            "review-page-written",
            n = picked.len(),
            page = index.display().to_string(),
            out = out.root().display().to_string()
        )
    );
    Ok(if failed > 0 {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

/// The rules a call is reviewed on, in the pack's order, each with the
/// machine's verdict and the hits behind it.
/// A call's lines for the review page as scoring decided them: each
/// segment's speaker and its redaction as recorded in calls.parquet (this
/// pack's only where scoring recorded none).
fn lines_as_scored(
    t: Transcript,
    call: &CallRecord,
    matcher: &Matcher,
    pack: &crate::pack::Pack,
    redactor: Option<&Redactor>,
) -> Vec<ReviewLine> {
    // (recorded of this very transcript: as many segments as scoring told)
    let same = call.segment_speakers.as_ref().map(|t| t.chars().count()) == Some(t.segments.len());
    let recorded = match (&call.redacted_spans, redactor) {
        (Some(Some(recorded)), Some(_)) if same => Some(recorded.as_str()),
        _ => None,
    };
    let redact = |i: usize, text: &str| -> String {
        match (recorded, redactor) {
            (Some(recorded), _) => crate::privacy::apply_recorded(recorded, i, text).into_owned(),
            (None, Some(r)) => r.redact(text).into_owned(),
            (None, None) => text.to_string(),
        }
    };
    review_lines(&as_scored(t, call, matcher, pack), redact)
}

/// The transcript with each segment's speaker as scoring told it
/// (calls.parquet's `segment_speakers`): decided once, there. A folder scored
/// by an older callqa, or a transcript changed since, is told again with
/// this pack.
fn as_scored(mut transcript: Transcript, call: &CallRecord, matcher: &Matcher, pack: &crate::pack::Pack) -> Transcript {
    match &call.segment_speakers {
        Some(told) if told.chars().count() == transcript.segments.len() => {
            for (segment, letter) in transcript.segments.iter_mut().zip(told.chars()) {
                segment.speaker = Speaker::of_letter(letter);
            }
            transcript
        }
        _ => speakers_as_told(&transcript, matcher, &pack.rule_book()).0.into_owned(),
    }
}

/// A call's lines for the review page (`redact`: segment index and text → the
/// text people may read): its segments, by their decided
/// speaker (a system line keeps its prompt id), with its music and tones
/// between them, in time order.
fn review_lines(transcript: &Transcript, redact: impl Fn(usize, &str) -> String) -> Vec<ReviewLine> {
    let words = transcript.segments.iter().enumerate().map(|(i, s)| ReviewLine {
        speaker: s.speaker.as_str(),
        start_s: s.start,
        text: redact(i, &s.text),
        prompt: s.prompt.clone(),
        sound: None,
    });
    let sounds = transcript.sounds.iter().map(|s| ReviewLine {
        speaker: Speaker::System.as_str(),
        start_s: s.start,
        text: String::new(),
        prompt: None,
        sound: Some(s.kind.as_str()),
    });
    let mut lines: Vec<ReviewLine> = words.chain(sounds).collect();
    lines.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    lines
}

fn rules_to_review(call: &CallRecord, hits: &[HitRecord], titles: &Titles, m: &Messages) -> Vec<ReviewRule> {
    let has = |list: &[String], rule: &str| list.iter().any(|r| r == rule);
    // every reviewed call shows the rules a QA form always asks about, and
    // those the machine failed or left open
    RULE_IDS
        .iter()
        .filter(|rule| {
            Rule::parse(rule).is_some_and(Rule::always_reviewed)
                || has(&call.failed_rules, rule)
                || has(&call.uncertain_rules, rule)
                || has(&call.overturned_rules, rule)
        })
        .map(|&rule| ReviewRule {
            rule: rule.to_string(),
            title: titles.rule_in(m, rule),
            // the machine's own verdict, also on a call reviewed before
            machine: match (has(&call.failed_rules, rule), has(&call.overturned_rules, rule)) {
                (true, false) | (false, true) => "fail",
                _ if has(&call.uncertain_rules, rule) => "open",
                _ => "pass",
            },
            evidence: hits
                .iter()
                .filter(|h| h.verdict.rule.as_deref() == Some(rule))
                .map(|h| ReviewEvidence {
                    start_s: h.start_s,
                    matched_text: said_of(m, &h.category, &h.phrase_id, &h.matched_text, h.start_s, h.end_s),
                    counted: h.verdict.counted,
                    why: h.verdict.not_counted.map(|n| why_not_counted(m, n)).unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// The whole call cut to a WAV in `dir` (personal data under a tone), named
/// for the page; or why it could not be.
fn whole_call_audio(
    call_id: &str,
    call: &CallRecord,
    rank: usize,
    dir: &std::path::Path,
    roots: &AudioRoots,
    m: &Messages,
) -> Result<String, String> {
    let audio = call.audio_path.as_ref().ok_or_else(|| m.text("audio-path-missing"))?;
    let here = roots.locate(audio);
    if !here.is_file() {
        return Err(roots.not_found_hint(audio));
    }
    let name = clip_file_name(rank, call_id, &call.agent_id, 0.0, "call", "review");
    let moment = Moment {
        start_s: 0.0,
        end_s: call.duration_s.unwrap_or(f64::MAX / 4.0),
        file_name: &name,
        hidden: call.personal_data_s.as_deref().unwrap_or(&[]),
    };
    cut_clips(&here, &[moment], 0.0, dir).map_err(|e| e.to_string())?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_the_machines_own_verdict_also_on_a_reviewed_call() {
        let owned = |rules: &[&str]| rules.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        let call = CallRecord {
            // a reviewer passed the forbidden phrase the machine had failed
            failed_rules: owned(&["closing_missing", "dead_air"]),
            overturned_rules: owned(&["forbidden_phrase"]),
            uncertain_rules: owned(&["greeting_missing"]),
            ..CallRecord::default()
        };
        let zh = Messages::of(Lang::Zh);
        let rules = rules_to_review(&call, &[], &crate::pack::builtin_pack().titles, zh);
        let machine = |id: &str| rules.iter().find(|r| r.rule == id).map(|r| r.machine);
        assert_eq!(machine("forbidden_phrase"), Some("fail"));
        assert_eq!(machine("closing_missing"), Some("fail"));
        assert_eq!(machine("greeting_missing"), Some("open"));
        assert_eq!(machine("nine_dont_phrase"), Some("pass"));
        assert_eq!(machine("dead_air"), Some("fail"), "a failed rule is always shown");
        assert_eq!(machine("talk_over"), None, "a passed rule off the form is not");
        assert_eq!(rules[0].title, "开场白缺失");
    }
}

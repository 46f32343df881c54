//! Tests of reviews: sampling, sheets, agreement.

use std::collections::HashSet;

use super::agreement::{cohen_kappa, ReviewerAgreement};
use super::*;
use crate::rules::ReviewerVerdict;

const RULES: &[&str] = &["greeting_missing", "nine_dont_phrase", "closing_missing"];

fn known_calls() -> HashSet<String> {
    ["call-001", "call-002"].iter().map(|s| s.to_string()).collect()
}

fn sheet(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reviews.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn read(text: &str) -> Result<Vec<Review>, ImportError> {
    let (_dir, path) = sheet(text);
    let calls = known_calls();
    let known = Known {
        calls: &calls,
        rules: RULES,
    };
    read_sheet(&path, "王芳", &known, "2026-12-01T08:00:00+08:00")
}

#[test]
fn a_sheet_reads_in_english_or_as_qa_forms_write_it() {
    let reviews = read(
        "\u{feff}call_id,rule,verdict,note,reviewed_at\n\
         call-001,greeting_missing,pass,\"line was bad, greeting is there\",2026-11-30T21:05:00+08:00\n\
         call-002,nine_dont_phrase,不合格,,\n\
         call-002,closing_missing,,,\n",
    )
    .unwrap();
    assert_eq!(reviews.len(), 2, "a line without a verdict is not a review");
    assert_eq!(reviews[0].verdict, RuleVerdict::Pass);
    assert_eq!(reviews[0].note, "line was bad, greeting is there");
    assert_eq!(reviews[0].reviewer, "王芳");
    assert!(reviews[0].source.ends_with("reviews.csv:2"), "{}", reviews[0].source);
    assert_eq!(reviews[1].verdict, RuleVerdict::Fail);
    assert_eq!(reviews[1].reviewed_at, "");
}

#[test]
fn agree_and_disagree_are_read_against_the_machine_column() {
    let reviews = read(
        "call_id,rule,machine,verdict,reviewer\n\
         call-001,greeting_missing,fail,disagree,李强\n\
         call-002,nine_dont_phrase,fail,同意,\n",
    )
    .unwrap();
    assert_eq!(reviews[0].verdict, RuleVerdict::Pass);
    assert_eq!(reviews[0].reviewer, "李强");
    assert_eq!(reviews[1].verdict, RuleVerdict::Fail);
    assert_eq!(reviews[1].reviewer, "王芳");
}

#[test]
fn one_bad_line_refuses_the_sheet_naming_the_line() {
    let cases = [
        ("call-009,greeting_missing,pass\n", "call \"call-009\""),
        ("call-001,be_nice,pass\n", "rule \"be_nice\""),
        ("call-001,greeting_missing,maybe\n", "verdict \"maybe\""),
        (
            "call-001,greeting_missing,pass,yesterday\n",
            "reviewed_at \"yesterday\"",
        ),
    ];
    for (line, says) in cases {
        let text = format!("call_id,rule,verdict,reviewed_at\ncall-002,nine_dont_phrase,fail,\n{line}");
        let error = read(&text).unwrap_err().to_string();
        assert!(error.contains("reviews.csv:3:"), "{error}");
        assert!(error.contains(says), "{error}");
        assert!(error.contains("nothing of this file was imported"), "{error}");
    }
    let error = read("call,rule,verdict\n").unwrap_err().to_string();
    assert!(error.contains("no call_id column"), "{error}");
}

#[test]
fn importing_a_sheet_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutDir::new(dir.path());
    let text = "call_id,rule,verdict,note\ncall-001,greeting_missing,pass,heard it\ncall-002,nine_dont_phrase,fail,\n";
    let first = append(&out, read(text).unwrap()).unwrap();
    assert_eq!(
        first,
        Imported {
            added: 2,
            already_there: 0
        }
    );
    let again = append(&out, read(text).unwrap()).unwrap();
    assert_eq!(
        again,
        Imported {
            added: 0,
            already_there: 2
        }
    );
    let book = ReviewBook::open(&out).unwrap();
    assert_eq!(book.calls().map(|call| book.of_call(call).len()).sum::<usize>(), 2);
    assert_eq!(book.of_call("call-001")[0].note, "heard it");
    assert_eq!(book.of_call("call-001")[0].verdict, RuleVerdict::Pass);
}

#[test]
fn the_latest_review_comes_last_whatever_the_order_of_import() {
    let review = |at: &str, verdict| Review {
        call_id: "c".into(),
        rule: "greeting_missing".into(),
        verdict,
        reviewer: "x".into(),
        note: String::new(),
        reviewed_at: at.into(),
        imported_at: "2026-12-01T00:00:00Z".into(),
        source: String::new(),
    };
    let book = ReviewBook::of(vec![
        review("2026-11-30T10:00:00+08:00", RuleVerdict::Fail),
        review("2026-11-29T10:00:00+08:00", RuleVerdict::Pass),
    ]);
    assert_eq!(book.of_call("c").last().unwrap().verdict, RuleVerdict::Fail);
}

#[test]
fn kappa_is_agreement_beyond_chance() {
    // the textbook table: 20 both yes, 5 + 10 disagree, 15 both no → 0.4
    let kappa = cohen_kappa(20, 5, 10, 15).unwrap();
    assert!((kappa - 0.4).abs() < 1e-9, "{kappa}");
    assert_eq!(cohen_kappa(3, 0, 0, 3), Some(1.0));
    assert_eq!(cohen_kappa(4, 0, 0, 0), None, "one verdict only: undefined");
    assert_eq!(cohen_kappa(0, 0, 0, 0), None);
}

#[test]
fn the_book_counts_false_fails_passes_and_reviewers_against_each_other() {
    let review = |machine, human, reviewers: &[(&str, RuleVerdict)]| RuleReview {
        rule: "nine_dont_phrase".into(),
        machine,
        human,
        by_reviewer: reviewers
            .iter()
            .map(|&(name, verdict)| ReviewerVerdict {
                reviewer: name.into(),
                verdict,
                note: format!("{name}'s note"),
            })
            .collect(),
    };
    use RuleVerdict::{Fail, Pass};
    let mut book = AgreementBook::default();
    book.add("c1", "A1", &[review(Some(Fail), Pass, &[("王", Pass)])]);
    book.add("c2", "A1", &[review(Some(Fail), Fail, &[("王", Fail), ("李", Fail)])]);
    book.add("c3", "A2", &[review(Some(Pass), Pass, &[("王", Pass), ("李", Fail)])]);
    book.add("c4", "A2", &[review(None, Fail, &[("李", Fail)])]);
    book.add("c5", "A2", &[]);
    let book = book.finish(&["greeting_missing", "nine_dont_phrase"]);
    assert_eq!(book.reviewed_calls, 4);
    let rule = &book.rules[0];
    assert_eq!(
        (
            rule.reviewed,
            rule.agreed,
            rule.false_fails,
            rule.false_passes,
            rule.left_open
        ),
        (4, 2, 1, 0, 1)
    );
    assert_eq!(rule.rate, Some(0.5));
    assert_eq!(
        book.reviewers,
        ReviewerAgreement {
            pairs: 2,
            agreed: 1,
            rate: Some(0.5)
        }
    );
    assert_eq!(book.disputes_total, 2);
    assert_eq!(book.disputes[0].call_id, "c1");
    assert_eq!(book.disputes[0].note, "王's note");
    assert_eq!(book.disputes[1].machine, None);
}

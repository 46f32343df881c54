//! Tests of pack loading: every mistake reported with its file and line.

use super::*;
use crate::lexicon::Role;

#[test]
fn the_builtin_pack_is_valid_and_complete() {
    let pack = load_pack(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons"))).unwrap();
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Watch) {
        assert!(pack.lexicon.categories.iter().any(|c| c.role == role), "{role:?}");
    }
    let count = |cat: &str| pack.lexicon.phrases.iter().filter(|p| p.category == cat).count();
    assert_eq!(count("nine_do"), 9);
    assert_eq!(count("nine_dont"), 9);
    assert_eq!(
        builtin_pack(),
        Pack {
            source: PathBuf::from("<built-in lexicons>"),
            ..pack
        }
    );
}

#[test]
fn every_problem_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pack.toml"),
        "[categories.greeting]\nfile = \"g.txt\"\n\n[categories.greetings]\nfile = \"g.txt\"\n\n\
         [center]\ntime_zone = \"Beijing\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("g.txt"),
        "# ok\ng.a  您好\ng.b  {nope}好\ng.a  再见\ng.c\n",
    )
    .unwrap();
    let err = load_pack(dir.path()).unwrap_err();
    let text: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(text.len(), 5, "{text:#?}");
    for (place, says) in [
        ("pack.toml:4", "unknown category \"greetings\""),
        ("pack.toml:8", "time zone \"Beijing\" is not an IANA zone name"),
        ("g.txt:3", "unknown slot"),
        ("g.txt:4", "duplicate id g.a (first at"),
        ("g.txt:5", "no phrase"),
    ] {
        assert!(
            text.iter().any(|t| t.contains(place) && t.contains(says)),
            "{place} {says}: {text:#?}"
        );
    }
}

/// A pack of one greeting phrase and `toml`, loaded: its problems.
fn problems_of(toml: &str) -> PackError {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.txt"), "g.a  您好\n").unwrap();
    std::fs::write(dir.path().join("pack.toml"), toml).unwrap();
    load_pack(dir.path()).unwrap_err()
}

#[test]
fn rules_and_categories_have_the_packs_titles() {
    let pack = builtin_pack();
    // read in the pack's own language, Chinese
    let zh = crate::i18n::Messages::of(crate::i18n::Lang::Zh);
    assert_eq!(pack.titles.rule_in(zh, "nine_dont_phrase"), "九不准");
    assert_eq!(pack.titles.category_in(zh, "forbidden"), "禁用语");
    assert_eq!(
        pack.titles.rule_in(zh, "made_up"),
        "made_up",
        "an id without a title is itself"
    );
    for rule in RULE_IDS {
        assert!(
            pack.titles.rules.contains_key(*rule),
            "{rule} has a title in the default pack"
        );
    }
    let err = problems_of(
        "[categories.greeting]\nfile = \"g.txt\"\n\n[rule_titles]\ngreeting_missing = \"未问候\"\nbe_nice = \"礼貌\"\n",
    );
    assert_eq!(err.problems.len(), 1, "{err}");
    assert_eq!(err.problems[0].line, Some(6), "{err}");
    assert!(err.to_string().contains("\"be_nice\" is not a rule"), "{err}");
}

#[test]
fn a_rule_reads_in_the_readers_language() {
    use crate::i18n::{Lang, Messages};
    let (zh, en) = (Messages::of(Lang::Zh), Messages::of(Lang::En));
    let mut titles = builtin_pack().titles;
    titles.rules.insert("forbidden_phrase".into(), "服务禁语".into());
    titles.categories.insert("vip".into(), "贵宾".into());
    // the pack's own words in its language, callqa's names in the other
    assert_eq!(titles.rule_in(zh, "forbidden_phrase"), "服务禁语");
    assert_eq!(titles.rule_in(en, "forbidden_phrase"), "forbidden phrase");
    assert_eq!(titles.category_in(en, "nine_dont"), "nine don'ts");
    // a category of the center's own keeps its title: callqa has no name for it
    assert_eq!(titles.category_in(en, "vip"), "贵宾");
    assert_eq!(titles.category_in(en, "made_up"), "made_up");
    // a pack written in English is read in its own words
    titles.language = Lang::En;
    titles.rules.insert("forbidden_phrase".into(), "Banned words".into());
    assert_eq!(titles.rule_in(en, "forbidden_phrase"), "Banned words");
    assert_eq!(titles.rule_in(zh, "forbidden_phrase"), "禁用语");
    let err = problems_of("[center]\nlanguage = \"fr\"\n\n[categories.greeting]\nfile = \"g.txt\"\n");
    assert_eq!(err.problems[0].line, Some(2), "{err}");
    assert!(err.to_string().contains("center.language"), "{err}");
}

#[test]
fn toml_mistakes_point_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pack.toml"),
        "[categories.greeting]\nfile = \"g.txt\"\n[rules]\ngreeting_within = 3\n",
    )
    .unwrap();
    let err = load_pack(dir.path()).unwrap_err();
    assert_eq!(err.problems[0].line, Some(4), "{err}");
    assert!(err.to_string().contains("greeting_within"), "{err}");
}

/// Every number of pack.toml, wrong in the ways a hand edit goes wrong:
/// each is refused at its own line.
#[test]
fn every_number_is_checked_at_its_line() {
    let cases = [
        ("rules", "greeting_within_s", "-1.0"),
        ("rules", "closing_within_s", "nan"),
        ("rules", "hold_min_silence_s", "inf"),
        ("rules", "hold_request_window_s", "-0.5"),
        ("rules", "hold_return_window_s", "nan"),
        ("rules", "utterance_gap_s", "-inf"),
        ("rubric", "pass_mark", "101.0"),
        ("rubric", "greeting_missing", "-15.0"),
        ("rubric", "greeting_late", "nan"),
        ("rubric", "closing_missing", "inf"),
        ("rubric", "hold_per_bad_hold", "-10.0"),
        ("rubric", "hold_cap", "-20.0"),
        ("rubric", "forbidden_per_hit", "nan"),
        ("rubric", "forbidden_cap", "-40.0"),
        ("rubric", "nine_dont_per_hit", "1000.0"),
        ("rubric", "nine_dont_cap", "-1.0"),
        ("rubric", "nine_do_bonus_per_hit", "nan"),
        ("rubric", "nine_do_bonus_cap", "-6.0"),
        ("matching", "tolerant_min_chars", "1"),
        ("rubric", "red_lines", "[\"forbidden_phrase\", \"rude_tone\"]"),
        ("verify", "accept_gap_per_char", "0.3"),
        ("verify", "accept_margin", "3.0"),
        ("verify", "likely_mean", "0.5"),
        ("verify", "likely_weakest", "nan"),
        ("verify", "likely_gap_per_char", "-2.0"),
        ("verify", "uncertain_gap_per_char", "-4.0"),
        ("verify", "must_not_open_heard_mean", "0.5"),
        ("verify", "must_not_open_mean", "nan"),
        ("verify", "must_not_open_gap_per_char", "1.0"),
        ("verify", "near_budget_per_char", "1.5"),
    ];
    for (section, key, value) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("g.txt"), "g.a  您好\n").unwrap();
        // the key on line 5, after the category and a comment
        let toml =
            format!("[categories.greeting]\nfile = \"g.txt\"\n[{section}]\n# changed by hand\n{key} = {value}\n");
        std::fs::write(dir.path().join("pack.toml"), toml).unwrap();
        let err = load_pack(dir.path()).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{key} = {value}: {err}");
        let problem = &err.problems[0];
        assert_eq!(problem.line, Some(5), "{key} = {value}: {problem}");
        assert!(problem.to_string().contains(key), "{problem}");
    }
}

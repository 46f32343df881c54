//! Tests of the catalogues: every message asked for exists in both languages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;

/// Each message of a catalogue and the arguments it shows, read from its
/// text. (An argument that only picks an English plural, `{ $n -> …}`, is
/// not shown: Chinese needs no plural.)
fn messages_of(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    let (_, text) = lang.catalogue();
    let variable = regex::Regex::new(r"\{\s*\$([a-z_]+)\s*\}").unwrap();
    let mut messages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let (id, _) = line.split_once('=').expect("a message line");
            let id = id.trim().to_string();
            assert!(!messages.contains_key(&id), "{lang}: {id} twice");
            messages.insert(id.clone(), BTreeSet::new());
            current = Some(id);
        }
        let id = current.as_ref().expect("a message first");
        let vars = messages.get_mut(id).unwrap();
        vars.extend(variable.captures_iter(line).map(|c| c[1].to_string()));
    }
    messages
}

#[test]
fn both_catalogues_parse() {
    for lang in Lang::ALL {
        let (file, text) = lang.catalogue();
        if let Err((_, errors)) = FluentResource::try_new(text.to_string()) {
            panic!("{file}: {errors:?}");
        }
        // loading panics on a message given twice
        assert_eq!(Messages::of(lang).lang(), lang);
    }
}

/// A message in one language only, or one whose arguments differ between the
/// two (an English plural on `$n` the Chinese forgot), fails here.
#[test]
fn every_message_exists_in_both_languages_with_the_same_arguments() {
    let zh = messages_of(Lang::Zh);
    let en = messages_of(Lang::En);
    let only_zh: Vec<&String> = zh.keys().filter(|id| !en.contains_key(*id)).collect();
    let only_en: Vec<&String> = en.keys().filter(|id| !zh.contains_key(*id)).collect();
    assert!(only_zh.is_empty(), "only in zh-CN.ftl: {only_zh:?}");
    assert!(only_en.is_empty(), "only in en.ftl: {only_en:?}");
    for (id, zh_vars) in &zh {
        if id.starts_with("fmt-") {
            // the ways of writing a date, a duration: each language takes the parts it writes
            continue;
        }
        assert_eq!(
            zh_vars, &en[id],
            "{id}: the arguments differ between zh-CN.ftl and en.ftl"
        );
    }
    assert!(zh.len() > 200, "{} messages", zh.len());
}

/// Every source file and template of the crate, with its text.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    walkdir::WalkDir::new(&root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file() && (name.ends_with(".rs") || name.ends_with(".html") || name.ends_with(".js"))
        })
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            (e.path().display().to_string(), text)
        })
        .collect()
}

/// The ids made at run time from data: rule ids, categories, reasons…
const MADE_AT_RUN_TIME: &[&str] = &[
    "rule-",
    "category-",
    "not-counted-",
    "speaker-",
    "sound-",
    "match-",
    "verdict-",
    "col-precision",
    "col-recall",
];

/// Every message the code asks for is in the catalogues, and every message of
/// the catalogues is asked for somewhere: no English sentence left in a page
/// by a typo, no dead message.
#[test]
fn the_code_and_the_catalogues_name_the_same_messages() {
    let catalogue: BTreeSet<String> = messages_of(Lang::Zh).into_keys().collect();
    let asked = regex::Regex::new(
        r#"(?s)(?:msg!\(\s*[a-z_.]+,\s*|\.text\(\s*|\.lookup\(\s*|\bt\(\s*|more\([^;]*?,\s*)"([a-z][a-z0-9_-]*[a-z0-9_])"\s*[,)]"#,
    )
    .unwrap();
    let listed = regex::Regex::new(r#""((?:col|more|fmt)-[a-z0-9_-]+)""#).unwrap();
    let mut used = BTreeSet::new();
    for (path, text) in sources() {
        if path.ends_with("i18n/tests.rs") {
            continue;
        }
        for c in asked.captures_iter(&text).chain(listed.captures_iter(&text)) {
            let id = c[1].to_string();
            assert!(
                catalogue.contains(&id),
                "{path} asks for {id:?}, which no catalogue has"
            );
            used.insert(id);
        }
    }
    let unused: Vec<&String> = catalogue
        .iter()
        .filter(|id| !used.contains(*id) && !MADE_AT_RUN_TIME.iter().any(|p| id.starts_with(p)))
        .collect();
    assert!(unused.is_empty(), "messages nothing asks for: {unused:?}");
}

/// The names made from data are all there: each rule, each reason a hit did
/// not count, each speaker and match kind, in both languages.
#[test]
fn names_made_from_data_are_in_both_catalogues() {
    use crate::lexicon::{MatchKind, NotCounted};
    let kinds = [
        MatchKind::Exact,
        MatchKind::Tolerant,
        MatchKind::Verified,
        MatchKind::Uncertain,
    ];
    let pack = crate::pack::builtin_pack();
    let mut ids: Vec<String> = crate::rules::RULE_IDS.iter().map(|r| format!("rule-{r}")).collect();
    ids.extend(NotCounted::ALL.iter().map(|r| format!("not-counted-{}", r.as_str())));
    ids.extend(kinds.iter().map(|k| format!("match-{}", k.as_str())));
    ids.extend(["agent", "customer", "unknown", "system"].map(|s| format!("speaker-{s}")));
    ids.extend(["fail", "pass", "open"].map(|v| format!("verdict-{v}")));
    use crate::transcript::SoundKind;
    let sounds = [SoundKind::Music, SoundKind::Ringback, SoundKind::Busy, SoundKind::Dtmf];
    ids.extend(sounds.iter().map(|k| format!("sound-{}", k.as_str())));
    ids.extend(pack.lexicon.categories.iter().map(|c| format!("category-{}", c.name)));
    for lang in Lang::ALL {
        let m = Messages::of(lang);
        for id in &ids {
            assert!(m.has(id), "{lang}: no {id}");
        }
    }
}

#[test]
fn dates_durations_and_plurals_as_each_language_writes_them() {
    let (zh, en) = (Messages::of(Lang::Zh), Messages::of(Lang::En));
    assert_eq!(zh.date("2026-11-05"), "2026年11月5日");
    assert_eq!(en.date("2026-11-05"), "2026-11-05");
    assert_eq!(zh.date("not a day"), "not a day");
    assert_eq!(zh.short_date("2026-11-05"), "11月5日");
    assert_eq!(zh.hours(0.25), "15 分钟");
    assert_eq!(zh.hours(2.54), "2.5 小时");
    assert_eq!(en.hours(2.54), "2.5 h");
    assert_eq!(zh.seconds(3.25), "3.2 秒");
    let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(9, 5, 0)
        .unwrap();
    assert_eq!(zh.date_time(at), "2026年12月1日 09:05");
    assert_eq!(zh.list(&["a", "b"]), "a、b");
    assert_eq!(en.list(&["a", "b"]), "a, b");
    assert_eq!(msg!(en, "examples-count", n = 1), "1 example");
    assert_eq!(msg!(en, "examples-count", n = 2), "2 examples");
    assert_eq!(msg!(zh, "examples-count", n = 2), "2 个示例");
    // no invisible direction marks around arguments
    assert!(!msg!(en, "filter-agent", agent = "A1").contains('\u{2068}'));
    // the progress bar's template keeps indicatif's braces
    assert!(en
        .text("progress-template")
        .starts_with("{spinner} [{elapsed_precise}]"));
    assert!(zh.text("progress-template").contains("{pos}/{len} 通"));
}

#[test]
fn a_language_reads_from_its_usual_spellings() {
    assert_eq!(Lang::parse("zh"), Some(Lang::Zh));
    assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
    assert_eq!(Lang::parse("zh_Hans"), Some(Lang::Zh));
    assert_eq!(Lang::parse("EN-us"), Some(Lang::En));
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!(Lang::default(), Lang::Zh);
}

//! Search over a small archive built here: the index `score` keeps, the
//! query language, filters, sounds, and an index that follows the archive.

use super::*;
use crate::pack::builtin_pack;
use crate::scoring::{index_archive, score_archive};
use crate::store::TranscriptArchive;
use crate::transcript::AgentChannel;

use Speaker::{Agent as A, Customer as C};

fn call(id: &str, agent: &str, started_at: &str, lines: &[(Speaker, f64, &str)]) -> Transcript {
    let segments = lines
        .iter()
        .map(|&(speaker, start, text)| Segment::new(speaker, start, start + 2.0, text))
        .collect();
    let mut t = Transcript::from_segments(id, segments);
    t.agent_id = agent.into();
    t.started_at = Some(started_at.into());
    t.agent_channel = AgentChannel::Left;
    t
}

fn save(out: &OutDir, t: &Transcript) {
    t.write(&out.transcript(&t.call_id, t.started_at.as_deref())).unwrap();
}

fn night() -> (tempfile::TempDir, OutDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = OutDir::new(dir.path());
    for t in [
        call(
            "angry",
            "A1",
            "2026-11-20T10:00:00+08:00",
            &[
                (A, 0.5, "您好，很高兴为您服务。"),
                (C, 3.0, "我要退款！"),
                (A, 6.0, "不行，这个没办法。"),
                (C, 30.0, "那我要投訴你們，打12315。"),
            ],
        ),
        call(
            "misheard",
            "A2",
            "2026-11-21T09:00:00+08:00",
            &[
                (A, 0.5, "您好。"),
                (C, 3.0, "我要头诉你。"),
                (A, 20.0, "我要投诉的话怎么办？"),
            ],
        ),
        call(
            "calm",
            "A1",
            "2026-11-22T11:00:00+08:00",
            &[
                (A, 0.5, "您好。"),
                (C, 3.0, "谢谢，我想退款。"),
                (A, 40.0, "好的，没办法。"),
                (A, 45.0, "感谢您的来电，祝您生活愉快，再见。"),
            ],
        ),
    ] {
        save(&out, &t);
    }
    score(&out);
    (dir, out)
}

fn score(out: &OutDir) {
    score_archive(out, &TranscriptArchive::open(out).unwrap(), &builtin_pack()).unwrap();
}

/// (call, speaker, start) of what `query` finds, in the order given.
fn find(out: &OutDir, query: &str, filter: &SearchFilter) -> Vec<(String, Speaker, f64)> {
    let index = SearchIndex::open(out).unwrap();
    index
        .search(&query.parse().unwrap(), filter, None, 100)
        .unwrap()
        .into_iter()
        .map(|f| (f.call_id, f.speaker, f.start_s))
        .collect()
}

fn calls(found: &[(String, Speaker, f64)]) -> Vec<&str> {
    let mut ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    ids.dedup();
    ids
}

#[test]
fn words_are_found_in_any_script_newest_call_first() {
    let (_dir, out) = night();
    let all = SearchFilter::default();
    // 投訴你們 was written in traditional characters: found by the simplified word
    assert_eq!(
        find(&out, "投诉", &all),
        [("misheard".into(), A, 20.0), ("angry".into(), C, 30.0)]
    );
    assert_eq!(find(&out, "12315", &all), [("angry".into(), C, 30.0)]);
    assert_eq!(calls(&find(&out, "退款", &all)), ["calm", "angry"], "newest first");
    let customers = SearchFilter {
        speakers: vec![C],
        ..Default::default()
    };
    assert_eq!(find(&out, "投诉", &customers), [("angry".into(), C, 30.0)]);
    // a phrase does not match across a clause break, nor a word that is not there
    assert!(find(&out, "没办法那我", &all).is_empty());
    assert!(find(&out, "燃气", &all).is_empty());
}

#[test]
fn the_worst_calls_come_first_when_asked_without_reading_every_document() {
    let (_dir, out) = night();
    // calm and angry both hold 退款; angry (不行, 没办法 to a complaining customer) scores lower
    let scores = crate::store::read_scores(&out, call_key).unwrap();
    assert!(scores[&call_key("angry")] < scores[&call_key("calm")], "{scores:?}");
    let score_of = |key: u64| scores.get(&key).copied();
    let index = SearchIndex::open(&out).unwrap();
    let query: Query = "退款".parse().unwrap();
    let worst: Vec<String> = index
        .search(&query, &SearchFilter::default(), Some(&score_of), 100)
        .unwrap()
        .into_iter()
        .map(|f| f.call_id)
        .collect();
    assert_eq!(worst, ["angry", "calm"]);
    // a call the tables do not know (not scored yet) comes last
    let none = |_: u64| None;
    let unknown = index.search(&query, &SearchFilter::default(), Some(&none), 1).unwrap();
    assert_eq!(unknown[0].call_id, "calm", "then newest first");
}

#[test]
fn tolerant_search_hears_homophones() {
    let (_dir, out) = night();
    let customers = |tolerant| SearchFilter {
        speakers: vec![C],
        tolerant,
        ..Default::default()
    };
    assert_eq!(calls(&find(&out, "投诉", &customers(false))), ["angry"]);
    assert_eq!(
        calls(&find(&out, "投诉", &customers(true))),
        ["misheard", "angry"],
        "头诉 sounds like 投诉"
    );
}

#[test]
fn operators_combine_calls_and_near_counts_seconds() {
    let (_dir, out) = night();
    let all = SearchFilter::default();
    assert_eq!(calls(&find(&out, "退款 AND 没办法", &all)), ["calm", "angry"]);
    assert_eq!(calls(&find(&out, "退款 NOT 投诉", &all)), ["calm"]);
    assert_eq!(calls(&find(&out, "12315 OR 头诉", &all)), ["misheard", "angry"]);
    // the angry call's 不行…没办法 answers the 退款 within 3 s; the calm one's 37 s later
    let near = find(&out, "退款 NEAR/10 没办法", &all);
    assert_eq!(near, [("angry".into(), C, 3.0), ("angry".into(), A, 6.0)]);
    assert_eq!(calls(&find(&out, "退款 NEAR/60 没办法", &all)), ["calm", "angry"]);
    assert_eq!(
        calls(&find(&out, "(投诉 OR 退款) 您好", &all)),
        ["calm", "misheard", "angry"]
    );
}

#[test]
fn what_is_excluded_is_excluded_only_where_it_was_said() {
    // the angry call's 退款 is said within 10 s of 没办法, the calm call's 37 s
    // after: both calls hold both words, only one is excluded; the angry
    // call's 投訴 sounds like 头诉 but is not it
    let (_dir, out) = night();
    let all = SearchFilter::default();
    assert_eq!(calls(&find(&out, "您好 NOT 头诉", &all)), ["calm", "angry"]);
    assert_eq!(
        calls(&find(&out, "您好 NOT (退款 NEAR/10 没办法)", &all)),
        ["calm", "misheard"]
    );
    let tolerant = SearchFilter {
        tolerant: true,
        ..Default::default()
    };
    assert_eq!(calls(&find(&out, "您好 NOT 头诉", &tolerant)), ["calm"]);
}

#[test]
fn filters_by_agent_and_day() {
    let (_dir, out) = night();
    let of = |agent: Option<&str>, from: Option<&str>, to: Option<&str>| SearchFilter {
        agent: agent.map(Into::into),
        from: from.map(Into::into),
        to: to.map(Into::into),
        ..Default::default()
    };
    assert_eq!(
        calls(&find(&out, "您好", &of(Some("A1"), None, None))),
        ["calm", "angry"]
    );
    assert_eq!(
        calls(&find(&out, "您好", &of(None, Some("2026-11-21"), None))),
        ["calm", "misheard"]
    );
    assert_eq!(
        calls(&find(&out, "您好", &of(None, Some("2026-11-21"), Some("2026-11-21")))),
        ["misheard"]
    );
}

#[test]
fn the_index_follows_the_archive_and_a_lost_one_is_rebuilt() {
    let (_dir, out) = night();
    let all = SearchFilter::default();
    let pack = builtin_pack();
    // nothing changed since the score: nothing indexed again
    let change = index_archive(&out, &pack).unwrap();
    assert_eq!(change, IndexChange::default());

    // a call's transcript changes, another arrives, a third leaves the archive
    let mut calm = call("calm", "A1", "2026-11-22T11:00:00+08:00", &[(C, 3.0, "我要投诉。")]);
    save(&out, &calm);
    save(
        &out,
        &call("new", "A3", "2026-11-23T08:00:00+08:00", &[(C, 1.0, "我要投诉。")]),
    );
    std::fs::remove_file(out.transcript("misheard", Some("2026-11-21T09:00:00+08:00"))).unwrap();
    score(&out);
    assert_eq!(calls(&find(&out, "投诉", &all)), ["new", "calm", "angry"]);
    assert!(
        find(&out, "退款 NOT 投诉", &all).is_empty(),
        "the calm call's old words are gone"
    );

    // a transcript changed since the last score is not shown as it was
    calm.segments = vec![Segment::new(C, 3.0, 5.0, "谢谢。")];
    save(&out, &calm);
    assert_eq!(calls(&find(&out, "投诉", &all)), ["new", "angry"]);

    // stamps lost: the index cannot be trusted, and is built afresh
    for entry in std::fs::read_dir(out.search_index()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("stamps-") {
            std::fs::remove_file(path).unwrap();
        }
    }
    assert!(matches!(SearchIndex::open(&out), Err(SearchError::Missing(_))));
    let rebuilt = index_archive(&out, &pack).unwrap();
    assert!(rebuilt.rebuilt && rebuilt.indexed == 3, "{rebuilt:?}");
    assert_eq!(calls(&find(&out, "投诉", &all)), ["new", "angry"]);
}

#[test]
fn the_index_never_joins_words_across_a_clause_or_a_segment() {
    let (_dir, out) = night();
    let index = SearchIndex::open(&out).unwrap();
    let searcher = index.reader.searcher();
    let candidates = |words: &str, tolerant: bool| {
        let filter = SearchFilter {
            tolerant,
            ..SearchFilter::default()
        };
        let query: Query = words.parse().unwrap();
        let mut found: Vec<u64> = index
            .candidates(&searcher, &query, &filter)
            .unwrap()
            .calls
            .into_keys()
            .collect();
        found.sort_unstable();
        found
    };
    // "calm": 谢谢，我想退款 (a comma between) and 好的，没办法 / 感谢… (two segments)
    assert_eq!(candidates("谢我", false), Vec::<u64>::new(), "across a comma");
    assert_eq!(candidates("谢我", true), Vec::<u64>::new(), "across a comma, by sound");
    assert_eq!(candidates("法感", false), Vec::<u64>::new(), "across two segments");
    assert_eq!(candidates("谢谢", false), vec![call_key("calm")]);
    assert_eq!(candidates("想退款", true), vec![call_key("calm")]);
}

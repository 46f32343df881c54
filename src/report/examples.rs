//! Picking the examples a trainer asked for out of the hits table: filters
//! on the hit and on its call, worst call first.

use std::collections::HashMap;

use serde::Serialize;

use crate::i18n::Messages;
use crate::lexicon::MatchKind;
use crate::msg;
use crate::pack::Titles;
use crate::store::{CallRecord, HitRecord};
use crate::transcript::Speaker;

/// Which hits make examples. Empty lists and `None`s do not filter.
#[derive(Debug, Clone, Default)]
pub struct ExampleFilter {
    pub categories: Vec<String>,
    pub phrase_id: Option<String>,
    pub agent_id: Option<String>,
    /// First and last day, `YYYY-MM-DD`, inclusive; calls without a date are left out by either.
    pub from: Option<String>,
    pub to: Option<String>,
    pub speakers: Vec<Speaker>,
    /// Only calls scoring below this.
    pub max_score: Option<f64>,
    /// Only this kind; `None`: every kind of phrase found (not `uncertain`).
    pub kind: Option<MatchKind>,
    /// Only hits that counted in their call's verdict.
    pub counted_only: bool,
    pub limit: Option<usize>,
}

impl ExampleFilter {
    /// Does the filter keep this hit of this call?
    pub fn keeps(&self, hit: &HitRecord, call: &CallRecord) -> bool {
        let date = call.call_date.as_deref();
        (self.categories.is_empty() || self.categories.contains(&hit.category))
            && self.phrase_id.as_ref().is_none_or(|p| *p == hit.phrase_id)
            && self.agent_id.as_ref().is_none_or(|a| *a == hit.agent_id)
            && self.from.as_deref().is_none_or(|from| date.is_some_and(|d| d >= from))
            && self.to.as_deref().is_none_or(|to| date.is_some_and(|d| d <= to))
            && (self.speakers.is_empty() || self.speakers.contains(&hit.speaker))
            && self.max_score.is_none_or(|mark| call.score.is_some_and(|s| s < mark))
            && self.kind.map_or(hit.kind.is_found(), |k| k == hit.kind)
            && (!self.counted_only || hit.verdict.counted)
    }

    /// The filter in a few words, for page titles: "forbidden, nine_dont; agent A2; from 2026-11-01".
    pub fn describe(&self, m: &Messages, titles: &Titles) -> String {
        let mut parts = Vec::new();
        if !self.categories.is_empty() {
            let names: Vec<String> = self.categories.iter().map(|c| titles.category_in(m, c)).collect();
            parts.push(m.list(&names));
        }
        if let Some(p) = &self.phrase_id {
            parts.push(msg!(m, "filter-phrase", phrase = p.as_str()));
        }
        if let Some(a) = &self.agent_id {
            parts.push(msg!(m, "filter-agent", agent = a.as_str()));
        }
        if let Some(f) = &self.from {
            parts.push(msg!(m, "filter-from", day = m.date(f)));
        }
        if let Some(t) = &self.to {
            parts.push(msg!(m, "filter-to", day = m.date(t)));
        }
        if !self.speakers.is_empty() {
            let s: Vec<String> = self
                .speakers
                .iter()
                .map(|s| m.text(&format!("speaker-{}", s.as_str())))
                .collect();
            parts.push(msg!(m, "filter-speakers", speakers = m.list(&s)));
        }
        if let Some(score) = self.max_score {
            parts.push(msg!(m, "filter-below", score = score.to_string()));
        }
        if let Some(k) = self.kind {
            parts.push(msg!(m, "filter-kind", kind = m.text(&format!("match-{}", k.as_str()))));
        }
        parts.join(&m.text("fmt-clause-separator"))
    }
}

/// One example: a hit and what is known of its call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    #[serde(flatten)]
    pub hit: HitRecord,
    pub call_date: Option<String>,
    pub call_score: Option<f64>,
    #[serde(skip)]
    pub audio_path: Option<std::path::PathBuf>,
}

/// The hits `filter` keeps, worst call first (lowest score, unscored last),
/// then by call and time; at most `filter.limit`.
pub fn select_examples(
    hits: impl IntoIterator<Item = HitRecord>,
    calls: &HashMap<String, CallRecord>,
    filter: &ExampleFilter,
) -> Vec<Example> {
    let unknown = CallRecord::default();
    let mut examples: Vec<Example> = hits
        .into_iter()
        .filter_map(|hit| {
            let call = calls.get(&hit.call_id).unwrap_or(&unknown);
            filter.keeps(&hit, call).then(|| Example {
                call_date: call.call_date.clone(),
                call_score: call.score,
                audio_path: call.audio_path.clone(),
                hit,
            })
        })
        .collect();
    examples.sort_by(|a, b| {
        let score = |e: &Example| e.call_score.unwrap_or(f64::INFINITY);
        score(a)
            .total_cmp(&score(b))
            .then_with(|| a.hit.call_id.cmp(&b.hit.call_id))
            .then(a.hit.start_s.total_cmp(&b.hit.start_s))
    });
    if let Some(limit) = filter.limit {
        examples.truncate(limit);
    }
    examples
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::{HitVerdict, NotCounted};

    fn hit(call: &str, agent: &str, category: &str, phrase: &str, speaker: Speaker, at: f64) -> HitRecord {
        HitRecord {
            call_id: call.into(),
            agent_id: agent.into(),
            category: category.into(),
            phrase_id: phrase.into(),
            phrase: "我不大清楚".into(),
            matched_text: "我不大清楚".into(),
            speaker,
            start_s: at,
            end_s: at + 1.0,
            kind: if at > 100.0 {
                MatchKind::Tolerant
            } else {
                MatchKind::Exact
            },
            score: None,
            context: "嗯，我不大清楚".into(),
            verdict: if speaker == Speaker::Customer {
                HitVerdict::not_counted(Some("forbidden_phrase"), NotCounted::CustomersWords)
            } else {
                HitVerdict::counted("forbidden_phrase")
            },
        }
    }

    fn calls() -> HashMap<String, CallRecord> {
        let facts = |agent: &str, day: &str, score: f64| CallRecord {
            agent_id: agent.into(),
            call_date: Some(day.into()),
            score: Some(score),
            ..CallRecord::default()
        };
        HashMap::from([
            ("good".to_string(), facts("A1", "2026-11-01", 90.0)),
            ("bad".to_string(), facts("A2", "2026-11-02", 40.0)),
            ("worse".to_string(), facts("A1", "2026-11-03", 20.0)),
        ])
    }

    fn hits() -> Vec<HitRecord> {
        vec![
            hit("good", "A1", "forbidden", "f.1", Speaker::Agent, 5.0),
            hit("bad", "A2", "forbidden", "f.2", Speaker::Agent, 7.0),
            hit("bad", "A2", "nine_dont", "n.1", Speaker::Agent, 3.0),
            hit("bad", "A2", "forbidden", "f.1", Speaker::Customer, 9.0),
            hit("worse", "A1", "forbidden", "f.1", Speaker::Unknown, 130.0),
            hit("worse", "A1", "greeting", "g.1", Speaker::Agent, 1.0),
        ]
    }

    /// (call, phrase, at) of what `filter` selects.
    fn pick(filter: ExampleFilter) -> Vec<(String, String, f64)> {
        select_examples(hits(), &calls(), &filter)
            .into_iter()
            .map(|e| (e.hit.call_id, e.hit.phrase_id, e.hit.start_s))
            .collect()
    }

    /// (call, phrase, at) as a case writes them.
    type Picked<'a> = Vec<(&'a str, &'a str, f64)>;

    fn ids(list: &[(&str, &str, f64)]) -> Vec<(String, String, f64)> {
        list.iter()
            .map(|(c, p, t)| (c.to_string(), p.to_string(), *t))
            .collect()
    }

    #[test]
    fn each_filter_keeps_what_it_says_worst_call_first() {
        // the default: what counted in the verdicts (never the customer's words)
        let bad = |categories: &[&str]| ExampleFilter {
            categories: categories.iter().map(|c| c.to_string()).collect(),
            counted_only: true,
            ..Default::default()
        };
        let cases: Vec<(&str, ExampleFilter, Picked)> = vec![
            (
                "default",
                bad(&["forbidden", "nine_dont"]),
                vec![
                    ("worse", "f.1", 130.0),
                    ("bad", "n.1", 3.0),
                    ("bad", "f.2", 7.0),
                    ("good", "f.1", 5.0),
                ],
            ),
            ("one category", bad(&["nine_dont"]), vec![("bad", "n.1", 3.0)]),
            (
                "phrase",
                ExampleFilter {
                    phrase_id: Some("f.1".into()),
                    ..bad(&[])
                },
                vec![("worse", "f.1", 130.0), ("good", "f.1", 5.0)],
            ),
            (
                "agent",
                ExampleFilter {
                    agent_id: Some("A2".into()),
                    ..bad(&["forbidden"])
                },
                vec![("bad", "f.2", 7.0)],
            ),
            (
                "days",
                ExampleFilter {
                    from: Some("2026-11-02".into()),
                    to: Some("2026-11-02".into()),
                    ..bad(&["forbidden", "nine_dont"])
                },
                vec![("bad", "n.1", 3.0), ("bad", "f.2", 7.0)],
            ),
            (
                "customer",
                ExampleFilter {
                    speakers: vec![Speaker::Customer],
                    ..Default::default()
                },
                vec![("bad", "f.1", 9.0)],
            ),
            (
                "every hit, counted or not",
                ExampleFilter {
                    counted_only: false,
                    ..bad(&["forbidden"])
                },
                vec![
                    ("worse", "f.1", 130.0),
                    ("bad", "f.2", 7.0),
                    ("bad", "f.1", 9.0),
                    ("good", "f.1", 5.0),
                ],
            ),
            (
                "below a mark",
                ExampleFilter {
                    max_score: Some(40.0),
                    ..bad(&["forbidden"])
                },
                vec![("worse", "f.1", 130.0)],
            ),
            (
                "tolerant",
                ExampleFilter {
                    kind: Some(MatchKind::Tolerant),
                    ..bad(&[])
                },
                vec![("worse", "f.1", 130.0)],
            ),
            (
                "limit",
                ExampleFilter {
                    limit: Some(2),
                    ..bad(&["forbidden", "nine_dont"])
                },
                vec![("worse", "f.1", 130.0), ("bad", "n.1", 3.0)],
            ),
        ];
        for (name, filter, expected) in cases {
            assert_eq!(pick(filter), ids(&expected), "{name}");
        }
    }

    #[test]
    fn a_filter_describes_itself() {
        let filter = ExampleFilter {
            categories: vec!["forbidden".into()],
            agent_id: Some("A2".into()),
            from: Some("2026-11-01".into()),
            ..Default::default()
        };
        let titles = crate::pack::builtin_pack().titles;
        let en = Messages::of(crate::i18n::Lang::En);
        assert_eq!(
            filter.describe(en, &titles),
            "forbidden phrases; agent A2; from 2026-11-01"
        );
        let zh = Messages::of(crate::i18n::Lang::Zh);
        assert_eq!(filter.describe(zh, &titles), "禁用语；坐席 A2；自 2026年11月1日");
    }
}

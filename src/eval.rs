//! Measuring callqa against what was really said.
//!
//! The sample calls come with `expected.json`: per call, the scripted turns
//! (speaker, start, end, text). Running the matcher over the script gives the
//! lexicon phrases really said; running it over transcripts gives the phrases
//! found. Recall is the share of said phrases found (per call and phrase id,
//! occurrences counted), precision the share of found phrases really said.
//! Benchmarks and tests use these figures, so both measure the same thing.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::lexicon::{Matcher, Pack};
use crate::transcript::{Segment, Speaker, Transcript};

/// (call id, phrase id) → occurrences.
pub type PhraseCounts = BTreeMap<(String, String), usize>;

#[derive(Debug, Deserialize)]
struct ScriptedCall {
    turns: Vec<ScriptedTurn>,
}

#[derive(Debug, Deserialize)]
struct ScriptedTurn {
    speaker: Speaker,
    start_s: f64,
    end_s: f64,
    text: String,
}

/// The scripts of `expected.json` as transcripts, one per call id.
pub fn scripted_transcripts(expected_json: &Path) -> anyhow::Result<Vec<Transcript>> {
    let text =
        std::fs::read_to_string(expected_json).with_context(|| format!("reading {}", expected_json.display()))?;
    let calls: BTreeMap<String, ScriptedCall> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", expected_json.display()))?;
    Ok(calls
        .into_iter()
        .map(|(call_id, call)| {
            let segments = call
                .turns
                .into_iter()
                .map(|t| Segment::new(t.speaker, t.start_s, t.end_s, &t.text))
                .collect();
            Transcript::from_segments(&call_id, segments)
        })
        .collect())
}

/// Phrase occurrences the matcher finds in `transcripts`.
pub fn phrase_counts(transcripts: &[Transcript], pack: &Pack) -> PhraseCounts {
    let matcher = Matcher::new(pack);
    let mut counts = PhraseCounts::new();
    for t in transcripts {
        for hit in matcher.find(t) {
            *counts.entry((t.call_id.clone(), hit.phrase_id)).or_insert(0) += 1;
        }
    }
    counts
}

/// How found phrases compare with said ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhraseScore {
    pub said: usize,
    pub found: usize,
    /// Occurrences both said and found.
    pub matched: usize,
    /// (call, phrase id, said, found) where the two differ.
    pub differences: Vec<(String, String, usize, usize)>,
}

impl PhraseScore {
    pub fn new(said: &PhraseCounts, found: &PhraseCounts) -> Self {
        let mut score = PhraseScore {
            said: said.values().sum(),
            found: found.values().sum(),
            ..Self::default()
        };
        let keys: std::collections::BTreeSet<&(String, String)> = said.keys().chain(found.keys()).collect();
        for key in keys {
            let (s, f) = (
                said.get(key).copied().unwrap_or(0),
                found.get(key).copied().unwrap_or(0),
            );
            score.matched += s.min(f);
            if s != f {
                score.differences.push((key.0.clone(), key.1.clone(), s, f));
            }
        }
        score
    }

    pub fn recall(&self) -> f64 {
        self.matched as f64 / self.said.max(1) as f64
    }

    /// 1.0 when nothing was found: nothing claimed, nothing wrong.
    pub fn precision(&self) -> f64 {
        if self.found == 0 {
            1.0
        } else {
            self.matched as f64 / self.found as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(entries: &[(&str, &str, usize)]) -> PhraseCounts {
        entries
            .iter()
            .map(|(c, p, n)| ((c.to_string(), p.to_string()), *n))
            .collect()
    }

    #[test]
    fn recall_and_precision_count_occurrences() {
        let said = counts(&[("a", "greeting.x", 1), ("a", "forbidden.y", 2), ("b", "closing.z", 1)]);
        let found = counts(&[("a", "greeting.x", 1), ("a", "forbidden.y", 1), ("b", "nine_dont.w", 1)]);
        let score = PhraseScore::new(&said, &found);
        assert_eq!((score.said, score.found, score.matched), (4, 3, 2));
        assert_eq!(score.recall(), 0.5);
        assert!((score.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(score.differences.len(), 3);
        assert_eq!(PhraseScore::new(&said, &PhraseCounts::new()).precision(), 1.0);
    }

    #[test]
    fn the_sample_scripts_say_what_the_samples_claim() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pack = crate::lexicon::builtin_pack();
        for dir in ["data-samples", "data-samples/noisy"] {
            let scripts = scripted_transcripts(&repo.join(dir).join("expected.json")).unwrap();
            assert_eq!(scripts.len(), 5, "{dir}");
            let said = phrase_counts(&scripts, &pack);
            assert_eq!(said.values().sum::<usize>(), 34, "{dir}");
        }
    }
}

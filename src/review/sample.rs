//! Which calls to review: a sample spread over the agents, the same for the
//! same seed, so two reviewers (or a calibration session) can be handed the
//! same calls.

use std::collections::{BTreeMap, HashMap};

use crate::store::CallRecord;

/// How to pick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleSpec {
    /// Calls in all.
    pub n: usize,
    /// At most this many per agent (None: as many as the round-robin reaches).
    pub per_agent: Option<usize>,
    /// Each agent's calls that did not pass come first.
    pub failed_first: bool,
    pub seed: u64,
}

/// Picks scored calls: agents take turns (in an order the seed shuffles), each
/// giving its next call (the seed shuffles each agent's calls; with
/// `failed_first`, those that did not pass come first), until `n` are picked
/// or no agent has calls left. Calls that could not be scored are not picked.
pub fn pick(calls: &HashMap<String, CallRecord>, spec: &SampleSpec) -> Vec<String> {
    let key = |what: &str| {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&spec.seed.to_le_bytes());
        hasher.update(what.as_bytes());
        u64::from_le_bytes(hasher.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
    };
    let mut by_agent: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    for (id, call) in calls {
        if let Some(passed) = call.passed {
            by_agent
                .entry(call.agent_id.as_str())
                .or_default()
                .push((id.as_str(), passed));
        }
    }
    let mut queues: Vec<(u64, std::vec::IntoIter<&str>)> = by_agent
        .into_iter()
        .map(|(agent, mut calls)| {
            calls.sort_by_key(|&(id, passed)| (spec.failed_first && passed, key(id), id));
            let limit = spec.per_agent.unwrap_or(usize::MAX);
            let ids: Vec<&str> = calls.into_iter().take(limit).map(|(id, _)| id).collect();
            (key(&format!("agent {agent}")), ids.into_iter())
        })
        .collect();
    queues.sort_by_key(|(order, _)| *order);
    let mut picked = Vec::with_capacity(spec.n);
    while picked.len() < spec.n {
        let before = picked.len();
        for (_, queue) in &mut queues {
            if picked.len() == spec.n {
                break;
            }
            if let Some(id) = queue.next() {
                picked.push(id.to_string());
            }
        }
        if picked.len() == before {
            break;
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls() -> HashMap<String, CallRecord> {
        let mut calls = HashMap::new();
        for agent in ["A1", "A2", "A3"] {
            for i in 0..10 {
                let record = CallRecord {
                    agent_id: agent.into(),
                    passed: Some(i % 4 != 0),
                    ..CallRecord::default()
                };
                calls.insert(format!("{agent}-{i}"), record);
            }
        }
        calls.insert("broken".into(), CallRecord::default());
        calls
    }

    fn spec(n: usize) -> SampleSpec {
        SampleSpec {
            n,
            per_agent: None,
            failed_first: false,
            seed: 7,
        }
    }

    #[test]
    fn agents_take_turns_and_a_seed_gives_the_same_calls() {
        let calls = calls();
        let picked = pick(&calls, &spec(6));
        assert_eq!(picked, pick(&calls, &spec(6)));
        for agent in ["A1", "A2", "A3"] {
            assert_eq!(
                picked.iter().filter(|id| id.starts_with(agent)).count(),
                2,
                "{picked:?}"
            );
        }
        assert_ne!(picked, pick(&calls, &SampleSpec { seed: 8, ..spec(6) }));
        assert!(
            !picked.contains(&"broken".to_string()),
            "an unscored call is not reviewed"
        );
    }

    #[test]
    fn per_agent_caps_and_failed_calls_come_first_when_asked() {
        let calls = calls();
        let capped = pick(
            &calls,
            &SampleSpec {
                per_agent: Some(2),
                ..spec(100)
            },
        );
        assert_eq!(capped.len(), 6);
        let failed = pick(
            &calls,
            &SampleSpec {
                failed_first: true,
                ..spec(9)
            },
        );
        // each agent has 3 calls that did not pass (0, 4, 8)
        assert!(failed.iter().all(|id| calls[id].passed == Some(false)), "{failed:?}");
        assert_eq!(pick(&calls, &spec(1000)).len(), 30, "every scored call, once");
    }
}

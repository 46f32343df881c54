//! Shards: one night's calls split among worker processes, on one machine or
//! on a cluster, with no coordinator.
//!
//! A call belongs to shard `hash(call_id) mod N`, a stable hash (BLAKE3), so
//! every worker that reads the same input agrees on who does what, whatever
//! the order of the files, and a rerun of shard I redoes exactly its calls.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count`, counted from 0 (as Kubernetes counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("--shard {0:?}: expected I/N, the shard I (counted from 0) of N, for example 0/4")]
    Syntax(String),
    #[error("{0}: the shard count must be at least 1")]
    NoShards(String),
    #[error("{what}: shard {index} does not exist among {count} (they are 0 to {})", count.saturating_sub(1))]
    OutOfRange { what: String, index: u64, count: u32 },
    #[error("{set} is set but {missing} is not: set it (the number of shards), or pass --shard I/N")]
    Incomplete { set: &'static str, missing: &'static str },
    #[error("{name}={value:?} is not a whole number")]
    NotANumber { name: &'static str, value: String },
}

impl Shard {
    /// Does this shard take the call (or unusable input entry) `key`?
    pub fn owns(&self, key: &str) -> bool {
        let hash = blake3::hash(key.as_bytes());
        let first = u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"));
        first % u64::from(self.count) == u64::from(self.index)
    }

    fn new(index: u64, count: u64, what: impl Into<String>) -> Result<Self, ShardError> {
        let what = what.into();
        let count = u32::try_from(count).map_err(|_| ShardError::Syntax(what.clone()))?;
        if count == 0 {
            return Err(ShardError::NoShards(what));
        }
        if index >= u64::from(count) {
            return Err(ShardError::OutOfRange { what, index, count });
        }
        Ok(Self {
            index: index as u32,
            count,
        })
    }

    /// The shard a cluster gave this process through its environment:
    /// a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, with the job's
    /// `JOB_COMPLETIONS` set in the pod spec) or a Slurm job array
    /// (`SLURM_ARRAY_TASK_ID` from `SLURM_ARRAY_TASK_MIN` in steps of
    /// `SLURM_ARRAY_TASK_STEP`, `SLURM_ARRAY_TASK_COUNT` tasks). None outside both.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ShardError> {
        let number = |name: &'static str| -> Result<Option<u64>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(value) => value
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| ShardError::NotANumber { name, value }),
            }
        };
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = number("JOB_COMPLETIONS")?.ok_or(ShardError::Incomplete {
                set: "JOB_COMPLETION_INDEX",
                missing: "JOB_COMPLETIONS",
            })?;
            return Self::new(
                index,
                count,
                format!("JOB_COMPLETION_INDEX={index}, JOB_COMPLETIONS={count}"),
            )
            .map(Some);
        }
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let count = number("SLURM_ARRAY_TASK_COUNT")?.ok_or(ShardError::Incomplete {
                set: "SLURM_ARRAY_TASK_ID",
                missing: "SLURM_ARRAY_TASK_COUNT",
            })?;
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let what = format!("SLURM_ARRAY_TASK_ID={id} (from {min} by {step}), SLURM_ARRAY_TASK_COUNT={count}");
            if count == 0 {
                return Err(ShardError::NoShards(what));
            }
            let count_u32 = u32::try_from(count).map_err(|_| ShardError::Syntax(what.clone()))?;
            if id < min || (id - min) % step != 0 {
                return Err(ShardError::OutOfRange {
                    what,
                    index: id,
                    count: count_u32,
                });
            }
            return Self::new((id - min) / step, count, what).map(Some);
        }
        Ok(None)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (index, count) = s.split_once('/').ok_or_else(|| ShardError::Syntax(s.into()))?;
        let parse = |n: &str| n.trim().parse::<u64>().map_err(|_| ShardError::Syntax(s.into()));
        Self::new(parse(index)?, parse(count)?, format!("--shard {s}"))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_has_exactly_one_shard_and_shares_are_even() {
        for count in [1, 2, 3, 7] {
            let shards: Vec<Shard> = (0..count).map(|i| Shard { index: i, count }).collect();
            let mut sizes = vec![0usize; count as usize];
            for n in 0..7000 {
                let id = format!("A{:03}_20261120_{n:06}", n % 200);
                let owners: Vec<&Shard> = shards.iter().filter(|s| s.owns(&id)).collect();
                assert_eq!(owners.len(), 1, "{id} among {count}");
                sizes[owners[0].index as usize] += 1;
            }
            let even = 7000 / count as usize;
            assert!(sizes.iter().all(|&s| s.abs_diff(even) < even / 5 + 30), "{sizes:?}");
        }
        // stable: the same answer on every machine and every release
        assert!(Shard { index: 1, count: 2 }.owns("call-001") != Shard { index: 0, count: 2 }.owns("call-001"));
    }

    #[test]
    fn shards_from_the_command_line() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        // each refusal says what is wrong with that input
        for (bad, says) in [
            ("4/4", "shard 4 does not exist among 4 (they are 0 to 3)"),
            ("0/0", "--shard 0/0: the shard count must be at least 1"),
            ("1", "--shard \"1\": expected I/N"),
            ("a/b", "--shard \"a/b\": expected I/N"),
            ("-1/3", "--shard \"-1/3\": expected I/N"),
            ("1/4294967296", "expected I/N"),
            ("", "--shard \"\": expected I/N"),
        ] {
            let err = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

    /// Environment variables, and the shard they give or a piece of the error.
    type EnvCase<'a> = (&'a [(&'a str, &'a str)], Result<Option<Shard>, &'a str>);

    #[test]
    fn shards_from_kubernetes_and_slurm() {
        let table: &[EnvCase] = &[
            (&[], Ok(None)),
            (
                &[("JOB_COMPLETION_INDEX", "3"), ("JOB_COMPLETIONS", "8")],
                Ok(Some(Shard { index: 3, count: 8 })),
            ),
            (&[("JOB_COMPLETION_INDEX", "3")], Err("JOB_COMPLETIONS is not")),
            (
                &[("JOB_COMPLETION_INDEX", "8"), ("JOB_COMPLETIONS", "8")],
                Err("0 to 7"),
            ),
            (
                &[("JOB_COMPLETION_INDEX", "x"), ("JOB_COMPLETIONS", "8")],
                Err("whole number"),
            ),
            (
                &[
                    ("SLURM_ARRAY_TASK_ID", "11"),
                    ("SLURM_ARRAY_TASK_MIN", "10"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ],
                Ok(Some(Shard { index: 1, count: 4 })),
            ),
            (
                // --array=0-6:2 → tasks 0, 2, 4, 6
                &[
                    ("SLURM_ARRAY_TASK_ID", "6"),
                    ("SLURM_ARRAY_TASK_MIN", "0"),
                    ("SLURM_ARRAY_TASK_STEP", "2"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ],
                Ok(Some(Shard { index: 3, count: 4 })),
            ),
            (&[("SLURM_ARRAY_TASK_ID", "1")], Err("SLURM_ARRAY_TASK_COUNT is not")),
            (
                &[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "0")],
                Err("at least 1"),
            ),
            (
                // a task below the array's first, in an empty array: a clear error, no overflow
                &[
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_MIN", "5"),
                    ("SLURM_ARRAY_TASK_COUNT", "0"),
                ],
                Err("SLURM_ARRAY_TASK_COUNT=0: the shard count must be at least 1"),
            ),
            (
                &[
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_MIN", "5"),
                    ("SLURM_ARRAY_TASK_COUNT", "2"),
                ],
                Err("shard 3 does not exist among 2 (they are 0 to 1)"),
            ),
        ];
        for (vars, expected) in table {
            match (Shard::from_env(env(vars)), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{vars:?}"),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{vars:?}: {e}"),
                (got, want) => panic!("{vars:?}: got {got:?}, expected {want:?}"),
            }
        }
    }
}

//! The thread budget: how many threads this process may keep busy, and who said so.
//!
//! On a cluster node the machine's cores are not ours: Slurm gives a task
//! `--cpus-per-task`, Kubernetes a CPU request and maybe a quota, a shared
//! host an affinity mask. whisper.cpp's threads spin while they wait, so a
//! process that runs more busy threads than it gets cores does not merely
//! share: it collapses (two runs of 1 worker × 2 whisper threads on one
//! 2-core machine took 39× a normal run). Every thread callqa computes on
//! (the transcription workers and the scoring pool) comes out of this one
//! number, taken from, in order:
//!
//! 1. `--threads N` (or `CALLQA_THREADS`, which the Kubernetes Jobs fill from
//!    the pod's CPU request by the downward API);
//! 2. the scheduler's allocation: `SLURM_CPUS_PER_TASK`, then the cgroup's CPU
//!    quota (`cpu.max`, or cgroup v1's `cfs_quota_us / cfs_period_us`), then the
//!    CPU affinity mask (`sched_getaffinity`), each only where it is fewer than
//!    the machine's cores;
//! 3. the machine's cores.

use std::path::Path;

/// Where the budget came from, for the run's second line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetSource {
    /// `--threads` or `CALLQA_THREADS`.
    Asked,
    /// `SLURM_CPUS_PER_TASK`.
    Slurm,
    /// The cgroup's CPU quota (a container's CPU limit).
    CgroupQuota,
    /// The CPU affinity mask (`taskset`, a scheduler's binding).
    Affinity,
    /// All of the machine's cores.
    Machine,
}

impl BudgetSource {
    /// Short id, for logs and `--json`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BudgetSource::Asked => "threads",
            BudgetSource::Slurm => "slurm",
            BudgetSource::CgroupQuota => "cgroup",
            BudgetSource::Affinity => "affinity",
            BudgetSource::Machine => "machine",
        }
    }
}

/// How many threads to compute on, and why that many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadBudget {
    /// At least one.
    pub threads: usize,
    /// Who decided it.
    pub source: BudgetSource,
    /// The machine's cores, for comparison.
    pub machine_cores: usize,
}

/// What the budget is read from: this process's environment and the files
/// the kernel shows it (a test gives its own).
pub struct Allocation<'a> {
    /// `--threads` / `CALLQA_THREADS`.
    pub asked: Option<usize>,
    /// An environment variable's value.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The cgroup file system's root (`/sys/fs/cgroup`) and this process's cgroup file (`/proc/self/cgroup`).
    pub cgroup_root: &'a Path,
    /// The contents of `/proc/self/cgroup`.
    pub own_cgroup: Option<String>,
    /// CPUs in the affinity mask.
    pub affinity: Option<usize>,
    /// The machine's online cores.
    pub machine_cores: usize,
}

impl ThreadBudget {
    /// The budget of this process: `asked` (`--threads`) when given, else its allocation.
    pub fn of_this_process(asked: Option<usize>) -> Self {
        let env = |name: &str| std::env::var(name).ok();
        Self::from(&Allocation {
            asked,
            env: &env,
            cgroup_root: Path::new("/sys/fs/cgroup"),
            own_cgroup: std::fs::read_to_string("/proc/self/cgroup").ok(),
            affinity: affinity_cpus(),
            machine_cores: machine_cores(),
        })
    }

    /// The budget an allocation gives.
    pub fn from(a: &Allocation) -> Self {
        let machine_cores = a.machine_cores.max(1);
        let budget = |threads: usize, source| Self {
            threads: threads.max(1),
            source,
            machine_cores,
        };
        if let Some(n) = a.asked.filter(|&n| n > 0) {
            return budget(n, BudgetSource::Asked);
        }
        if let Some(n) = (a.env)("SLURM_CPUS_PER_TASK").and_then(|v| v.trim().parse::<usize>().ok()) {
            if n > 0 {
                return budget(n, BudgetSource::Slurm);
            }
        }
        if let Some(quota) = cgroup_quota(a.cgroup_root, a.own_cgroup.as_deref()) {
            // a quota of 1.5 CPUs keeps one thread and a half busy: round up, at least one
            let n = quota.ceil() as usize;
            if n < machine_cores {
                return budget(n, BudgetSource::CgroupQuota);
            }
        }
        if let Some(n) = a.affinity.filter(|&n| n > 0 && n < machine_cores) {
            return budget(n, BudgetSource::Affinity);
        }
        budget(machine_cores, BudgetSource::Machine)
    }

    /// Makes the budget the size of rayon's global pool (the scoring pool):
    /// once, before any parallel work.
    pub fn apply_to_global_pool(&self) {
        // an error means a pool exists already (a test harness, a second call): keep it
        let _ = rayon::ThreadPoolBuilder::new().num_threads(self.threads).build_global();
    }
}

/// Online cores of the machine, whatever this process may use.
fn machine_cores() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as usize
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// CPUs this process may run on.
fn affinity_cpus() -> Option<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        let n = libc::CPU_COUNT(&set);
        (n > 0).then_some(n as usize)
    }
}

/// The CPU quota of this process's cgroup (and its ancestors: the tightest
/// wins), in CPUs; None when unlimited or unknown.
fn cgroup_quota(root: &Path, own_cgroup: Option<&str>) -> Option<f64> {
    let own = own_cgroup?;
    let mut tightest: Option<f64> = None;
    let mut keep = |quota: Option<f64>| {
        if let Some(q) = quota.filter(|q| *q > 0.0) {
            tightest = Some(tightest.map_or(q, |t: f64| t.min(q)));
        }
    };
    for line in own.lines() {
        // `hierarchy-id:controllers:path`; v2 is `0::/path`
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        if controllers.is_empty() {
            for dir in ancestors(&root.join(relative), root) {
                keep(read_cpu_max(&dir.join("cpu.max")));
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            for base in [root.join("cpu,cpuacct"), root.join("cpu")] {
                for dir in ancestors(&base.join(relative), &base) {
                    keep(read_cfs_quota(dir));
                }
            }
        }
    }
    tightest
}

/// `dir` and its parents up to `root`, inclusive.
fn ancestors<'a>(dir: &'a Path, root: &'a Path) -> impl Iterator<Item = &'a Path> {
    dir.ancestors().take_while(move |d| d.starts_with(root))
}

/// cgroup v2's `cpu.max`: `max 100000` (no limit) or `150000 100000`.
fn read_cpu_max(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut fields = text.split_whitespace();
    let quota: f64 = fields.next()?.parse().ok()?;
    let period: f64 = fields.next()?.parse().ok()?;
    (period > 0.0).then(|| quota / period)
}

/// cgroup v1's `cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`.
fn read_cfs_quota(dir: &Path) -> Option<f64> {
    let read = |name: &str| -> Option<f64> { std::fs::read_to_string(dir.join(name)).ok()?.trim().parse().ok() };
    let quota = read("cpu.cfs_quota_us")?;
    let period = read("cpu.cfs_period_us")?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget_of(
        asked: Option<usize>,
        env: &[(&str, &str)],
        cgroup: Option<(&str, &str)>,
        affinity: Option<usize>,
    ) -> ThreadBudget {
        let root = tempfile::tempdir().unwrap();
        let own_cgroup = cgroup.map(|(path, cpu_max)| {
            let dir = root.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("cpu.max"), cpu_max).unwrap();
            format!("0::{path}\n")
        });
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        ThreadBudget::from(&Allocation {
            asked,
            env: &lookup,
            cgroup_root: root.path(),
            own_cgroup,
            affinity,
            machine_cores: 64,
        })
    }

    #[test]
    fn the_budget_comes_from_the_first_source_that_says() {
        let slurm = [("SLURM_CPUS_PER_TASK", "8")];
        let pod = Some(("/kubepods/pod1/c1", "400000 100000"));
        let cases: &[(ThreadBudget, usize, BudgetSource)] = &[
            (budget_of(Some(3), &slurm, pod, Some(2)), 3, BudgetSource::Asked),
            (budget_of(None, &slurm, pod, Some(2)), 8, BudgetSource::Slurm),
            (budget_of(None, &[], pod, Some(2)), 4, BudgetSource::CgroupQuota),
            (
                budget_of(None, &[], Some(("/c", "150000 100000")), None),
                2,
                BudgetSource::CgroupQuota,
            ),
            (
                budget_of(None, &[], Some(("/c", "max 100000")), Some(6)),
                6,
                BudgetSource::Affinity,
            ),
            (budget_of(None, &[], None, Some(64)), 64, BudgetSource::Machine),
            (
                budget_of(None, &[("SLURM_CPUS_PER_TASK", "")], None, None),
                64,
                BudgetSource::Machine,
            ),
        ];
        for (i, (budget, threads, source)) in cases.iter().enumerate() {
            assert_eq!((budget.threads, &budget.source), (*threads, source), "case {i}");
        }
    }

    #[test]
    fn a_parent_cgroup_s_quota_binds_its_children() {
        let root = tempfile::tempdir().unwrap();
        let parent = root.path().join("kubepods/pod1");
        let child = parent.join("c1");
        std::fs::create_dir_all(&child).unwrap();
        std::fs::write(parent.join("cpu.max"), "200000 100000").unwrap();
        std::fs::write(child.join("cpu.max"), "max 100000").unwrap();
        assert_eq!(cgroup_quota(root.path(), Some("0::/kubepods/pod1/c1\n")), Some(2.0));
    }

    #[test]
    fn this_process_has_a_budget_of_at_least_one() {
        let budget = ThreadBudget::of_this_process(None);
        assert!(budget.threads >= 1 && budget.machine_cores >= 1);
        assert_eq!(ThreadBudget::of_this_process(Some(5)).threads, 5);
    }
}

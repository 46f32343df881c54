//! deploy/: the Kubernetes and Slurm files say what callqa reads.

use crate::common::*;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The value after `key:` on the first line that has it.
fn yaml_value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key}"))
        .trim()
}

#[test]
fn the_indexed_job_tells_callqa_its_shard_count() {
    let job = read("deploy/kubernetes/shards-job.yaml");
    assert_eq!(yaml_value(&job, "completionMode"), "Indexed");
    let completions = yaml_value(&job, "completions");
    assert_eq!(yaml_value(&job, "parallelism"), completions);
    let count = job
        .lines()
        .skip_while(|l| !l.contains("name: JOB_COMPLETIONS"))
        .nth(1)
        .and_then(|l| l.trim().strip_prefix("value:"))
        .expect("JOB_COMPLETIONS has a value");
    assert_eq!(
        count.trim().trim_matches('"'),
        completions,
        "JOB_COMPLETIONS = completions"
    );
    for file in ["shards-job.yaml", "score-job.yaml", "volume.yaml"] {
        let text = read(&format!("deploy/kubernetes/{file}"));
        assert!(!text.contains('\t'), "{file}: tabs are not YAML");
        assert!(text.contains("callqa-data"), "{file}: the shared volume");
    }
    let score = read("deploy/kubernetes/score-job.yaml");
    assert!(score.contains("callqa score --out /data/out"));
    // each pod computes on its CPU request, not on the node's cores
    for text in [&job, &score] {
        let budget = text
            .lines()
            .skip_while(|l| !l.contains("name: CALLQA_THREADS"))
            .take(3)
            .collect::<String>();
        assert!(budget.contains("resource: requests.cpu"), "{budget}");
    }
    assert!(
        job.contains("--out /data/out"),
        "shards and score share the output folder"
    );
}

#[test]
fn the_scripts_are_valid_shell_and_use_the_array_for_shards() {
    for script in [
        "deploy/kubernetes/nightly.sh",
        "deploy/slurm/nightly.sh",
        "deploy/slurm/shards.sbatch",
        "deploy/slurm/score.sbatch",
    ] {
        let status = std::process::Command::new("bash")
            .arg("-n")
            .arg(repo().join(script))
            .status()
            .unwrap();
        assert!(status.success(), "{script} does not parse");
    }
    let shards = read("deploy/slurm/shards.sbatch");
    assert!(shards.contains("#SBATCH --array="));
    assert!(
        !shards.contains("--shard"),
        "the shard comes from the array's environment"
    );
    assert!(read("deploy/slurm/nightly.sh").contains("--dependency=afterany"));
}

/// The image's runtime stage installs the package of every shared library the
/// binary links beyond what debian:bookworm-slim has (OpenBLAS, with its
/// Fortran runtime as a dependency).
#[test]
fn the_runtime_image_has_the_libraries_the_binary_links() {
    let dockerfile = read("deploy/Dockerfile");
    let runtime: String = dockerfile
        .split("FROM debian:bookworm-slim")
        .nth(1)
        .expect("a bookworm-slim runtime stage")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let ldd = std::process::Command::new("ldd")
        .arg(assert_cmd::cargo::cargo_bin("callqa"))
        .output()
        .unwrap();
    let linked = String::from_utf8_lossy(&ldd.stdout);
    assert!(linked.contains("libc.so"), "ldd lists the libraries: {linked}");
    // (library name prefix, the package that brings it; None: in the base image)
    let packages = [
        ("linux-vdso", None),
        ("ld-linux", None),
        ("libc.", None),
        ("libm.", None),
        ("libgcc_s", None),
        ("libstdc++", None),
        ("libopenblas", Some("libopenblas0")),
        ("libgfortran", Some("libopenblas0")),
        ("libquadmath", Some("libopenblas0")),
    ];
    for library in linked.lines().filter_map(|l| l.split_whitespace().next()) {
        let name = library.rsplit('/').next().unwrap_or(library);
        let package = packages
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .unwrap_or_else(|| panic!("callqa links {name}: which package brings it into the runtime image?"))
            .1;
        if let Some(package) = package {
            assert!(
                runtime.contains(package),
                "the runtime stage installs {package} for {name}"
            );
        }
    }
}

/// A real one-node Slurm (scripts/slurm-cluster.sh: slurmctld, slurmd and
/// munged of their own, in a scratch folder), stopped however the test ends.
struct SlurmCluster {
    dir: std::path::PathBuf,
    conf: std::path::PathBuf,
}

impl SlurmCluster {
    fn start(dir: std::path::PathBuf) -> Result<Self, String> {
        let output = std::process::Command::new(repo().join("scripts/slurm-cluster.sh"))
            .arg("start")
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(Self {
            conf: dir.join("slurm.conf"),
            dir,
        })
    }

    /// A Slurm command against this cluster.
    fn command(&self, program: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env("SLURM_CONF", &self.conf);
        cmd
    }

    /// Waits for a job to end; its final state.
    fn wait(&self, job: &str, timeout: std::time::Duration) -> String {
        let started = std::time::Instant::now();
        loop {
            let shown = self.command("scontrol").args(["show", "job", job]).output().unwrap();
            let text = String::from_utf8_lossy(&shown.stdout);
            let state = text
                .split_whitespace()
                .find_map(|w| w.strip_prefix("JobState="))
                .unwrap_or("UNKNOWN")
                .to_string();
            if !matches!(
                state.as_str(),
                "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING" | "UNKNOWN"
            ) {
                return state;
            }
            assert!(started.elapsed() < timeout, "job {job} still {state} after {timeout:?}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for SlurmCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(repo().join("scripts/slurm-cluster.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// The night as a Slurm site runs it: `deploy/slurm/nightly.sh` with an array
/// of 3 shards and one CPU per task on a real one-node cluster, then the score
/// job. The tables equal a single run's, and the night takes at most 3× a
/// single run's time measured just before (a shard that took the whole node's
/// threads on one CPU ran at 0.2× real time). scripts/test.sh installs Slurm and
/// munge and requires this test; elsewhere, without root, it says why it did not run.
#[test]
fn a_night_on_a_real_slurm_equals_a_single_run() {
    let _lock = whisper_lock();
    let required = std::env::var("CALLQA_SLURM_TESTS").as_deref() == Ok("required")
        || std::env::var("CI").as_deref() == Ok("true");
    let dir = workdir();
    let cluster = match SlurmCluster::start(dir.path().join("slurm")) {
        Ok(cluster) => cluster,
        Err(why) if !required => {
            eprintln!("SKIPPED: no Slurm cluster could be started here (scripts/test.sh installs one): {why}");
            return;
        }
        Err(why) => {
            panic!("a Slurm cluster is required (CALLQA_SLURM_TESTS=required or CI=true) but did not start: {why}")
        }
    };

    let single = dir.path().join("single");
    let started = std::time::Instant::now();
    let output = run_samples(&single).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let single_s = started.elapsed().as_secs_f64();

    let shared = dir.path().join("shared");
    let bin = assert_cmd::cargo::cargo_bin("callqa");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let started = std::time::Instant::now();
    let submitted = cluster
        .command(repo().join("deploy/slurm/nightly.sh").to_str().unwrap())
        .args(["-c", "1", "--mem=3G", "--array=0-2"])
        .env("CALLQA_INPUT", samples())
        .env("CALLQA_OUT", &shared)
        .env("CALLQA_MODEL", model())
        .env("CALLQA_LANG", "en")
        .env("PATH", path)
        .env_remove("CALLQA_THREADS")
        .env_remove("CALLQA_LEXICONS")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(submitted.status.success(), "{}", stderr_of(&submitted));
    let score_job = String::from_utf8_lossy(&submitted.stdout)
        .trim()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let state = cluster.wait(&score_job, std::time::Duration::from_secs(600));
    let slurm_s = started.elapsed().as_secs_f64();
    let logs: String = [
        "callqa-shard-0.log",
        "callqa-shard-1.log",
        "callqa-shard-2.log",
        "callqa-score.log",
    ]
    .iter()
    .map(|log| {
        format!(
            "== {log}\n{}",
            std::fs::read_to_string(dir.path().join(log)).unwrap_or_default()
        )
    })
    .collect();
    assert_eq!(state, "COMPLETED", "{logs}");
    eprintln!("a single run: {single_s:.1} s; the Slurm night (3 shards, 1 CPU each, then score): {slurm_s:.1} s");
    // each shard computed on the one CPU it was given
    for shard in 0..3 {
        let log = std::fs::read_to_string(dir.path().join(format!("callqa-shard-{shard}.log"))).unwrap();
        assert!(log.contains("on 1 thread(s) (--threads)"), "shard {shard}: {log}");
    }
    assert_same_tables(&single, &shared);
    assert!(
        slurm_s <= 3.0 * single_s,
        "the Slurm night took {slurm_s:.1} s, a single run {single_s:.1} s\n{logs}"
    );
}

//! deploy/: the Kubernetes and Slurm files say what callqa reads.

use crate::common::repo;

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

//! `callqa examples`: clips of bad moments for trainers.

mod common;

use common::*;

#[test]
fn cuts_a_clip_per_bad_moment_with_an_index() {
    let out = workdir();
    write_transcripts(out.path());
    callqa().args(["score", "--out"]).arg(out.path()).assert().code(1);
    callqa().args(["examples", "--out"]).arg(out.path()).assert().success();
    let index = std::fs::read_to_string(out.path().join("examples/index.csv")).unwrap();
    let rows: Vec<&str> = index.lines().skip(1).collect();
    // the rude call: 我不大清楚, 你选吧我也不懂 (forbidden), 我现在很忙 (nine-don't); the customer's 我不知道 is no example
    assert_eq!(rows.len(), 3, "{index}");
    assert!(rows.iter().all(|r| r.starts_with("rude,A2,")), "{index}");
    for row in rows {
        let clip = row.rsplit(',').next().unwrap();
        let reader = hound::WavReader::open(out.path().join("examples").join(clip)).unwrap();
        let seconds = reader.duration() as f64 / reader.spec().sample_rate as f64;
        assert_eq!(reader.spec().channels, 2);
        assert!((2.0..8.0).contains(&seconds), "{clip}: {seconds} s");
    }
}

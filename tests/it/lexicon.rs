//! `callqa lexicon check`.

use crate::common::*;
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn the_default_pack_checks_clean() {
    callqa()
        .args(["lexicon", "check"])
        .arg(repo().join("lexicons"))
        .assert()
        .success()
        .stdout(contains("ok"))
        .stdout(contains("nine_dont"));
    callqa()
        .args(["lexicon", "check"])
        .assert()
        .success()
        .stdout(contains("<built-in lexicons>"));
}

#[test]
fn every_mistake_is_shown_with_file_and_line() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("pack.toml"),
        "[categories.greeting]\nfile = \"greeting.txt\"\n\n[categories.farewell]\nfile = \"greeting.txt\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("greeting.txt"),
        "# greetings\ng.one  您好\ng.two  {slot}您好\ng.one  再见\ng.empty   |\n",
    )
    .unwrap();
    callqa()
        .args(["lexicon", "check"])
        .arg(dir.path())
        .assert()
        .code(2)
        // the exit-status contract: a broken pack stops the work (2); no colour off a terminal
        .stderr(contains("4 problem(s)"))
        .stderr(contains("\x1b[").not())
        .stdout(contains("pack.toml:4: unknown category \"farewell\""))
        .stdout(contains("greeting.txt:3: unknown slot {slot}"))
        .stdout(contains("greeting.txt:4: duplicate id g.one"))
        .stdout(contains("greeting.txt:5: empty phrase"));
}

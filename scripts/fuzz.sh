#!/usr/bin/env bash
# The nightly fuzz job: each fuzz target (fuzz/) for SECONDS seconds (60 by
# default), coverage-guided by libFuzzer through cargo-fuzz, starting from the
# kept corpus. A crasher lands in fuzz/artifacts/<target>/; keep it in
# tests/fixtures/fuzz/<audio|manifest>/ (the test suite replays that folder on
# every run) and fix what it shows.
#
# cargo-fuzz needs a nightly compiler's -Z flags; with the stable toolchain
# alone, RUSTC_BOOTSTRAP=1 unlocks them. The first build instruments callqa and
# its dependencies (about 20 minutes on 2 cores); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in audio manifest; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  case $target in
    audio) seeds=(tests/fixtures/fuzz/audio/* tests/fixtures/audio/*) ;;
    manifest) seeds=(tests/fixtures/fuzz/manifest/*) ;;
  esac
  for seed in "${seeds[@]}"; do
    case $seed in *README*) ;; *) cp -n "$seed" "$corpus/" ;; esac
  done
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s" >&2
  cargo fuzz run --release --sanitizer none "$target" "$corpus" -- \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 -timeout=20
done

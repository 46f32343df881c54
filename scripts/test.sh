#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs first
# (scripts/setup.sh; then Chromium and CJK fonts for the browser tests), then
# runs unit, integration and doc tests against the real whisper model and the
# sample calls, after `cargo fmt --check` and with clippy's lints denied. One
# build profile (release) for everything.
set -euo pipefail
cd "$(dirname "$0")/.."

# The house kept tidy, in CI and not only on one machine: formatting, and
# clippy with every warning (rustc's, missing docs among them) an error.
# Clippy lints callqa's own code as it is compiled for the tests:
# clippy-driver stands in for rustc on this package only (what `cargo clippy`
# does, with the dependencies built once, for the tests too, not checked a
# second time; a separate `cargo clippy` took 10 minutes more on a fresh
# 2-core machine). Set here, before setup.sh builds the binary, so that build
# is the one the tests use.
cargo fmt --check
if clippy_driver="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"; then
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
else
  echo "################################################################" >&2
  echo "test: clippy-driver not found (rustup component add clippy): lints NOT checked" >&2
  echo "################################################################" >&2
fi

scripts/setup.sh

# What the tests need beyond setup: Chromium and CJK fonts (the browser tests
# open the HTML report, clip and review pages in headless Chromium), and Slurm
# with munge (a real one-node cluster runs deploy/slurm/nightly.sh).
test_pkgs=()
for pkg in chromium fonts-noto-cjk slurm-wlm munge; do
  dpkg -s "$pkg" >/dev/null 2>&1 || test_pkgs+=("$pkg")
done
if ((${#test_pkgs[@]})); then
  echo "test: installing Debian packages: ${test_pkgs[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${test_pkgs[@]}" >/dev/null; }; then
    echo "test: could not install ${test_pkgs[*]}: the tests that need them will FAIL" >&2
  fi
fi
# Required here, so a broken install fails the suite instead of reading green
# (run alone, `cargo test` skips them with a note when the tools are missing).
export CALLQA_BROWSER_TESTS=required
export CALLQA_SLURM_TESTS=required
cargo test --release

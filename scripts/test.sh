#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs first
# (scripts/setup.sh; then Chromium and CJK fonts for the browser tests), then
# runs unit, integration and doc tests against the real whisper model and the
# sample calls, after `cargo fmt --check`. One build profile (release) for everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# The browser tests open the HTML report and clip page in headless Chromium.
browser_pkgs=()
for pkg in chromium fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || browser_pkgs+=("$pkg")
done
if ((${#browser_pkgs[@]})); then
  echo "test: installing Debian packages: ${browser_pkgs[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${browser_pkgs[@]}" >/dev/null; }; then
    echo "################################################################" >&2
    echo "test: could not install ${browser_pkgs[*]}: the browser tests will be SKIPPED" >&2
    echo "################################################################" >&2
  fi
fi
if command -v chromium >/dev/null 2>&1; then
  export CALLQA_BROWSER_TESTS=required
fi
# The house kept tidy: formatting holds in CI, not only on one machine. (Clippy
# is run before a commit, not here: its check build of polars took 10 minutes
# on a fresh 2-core machine, on top of the release build.)
cargo fmt --check
cargo test --release

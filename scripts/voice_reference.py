"""Reference output of the GE2E voice encoder (resemblyzer 0.1.4, PyTorch) on
real clips, for the test that checks callqa's own network against it
(`audio::voice_vector`, tests `matches_the_reference_implementation`).

Run once, by hand, in a venv with torch, librosa and the resemblyzer wheel:
    python scripts/voice_reference.py tests/fixtures/real-speech/*.wav \
        > tests/fixtures/voice-reference.json
The clip is loaded as 16 kHz float samples (int16 / 32768), its volume raised
to -30 dBFS when quieter (resemblyzer's normalize_volume, increase only), and
embedded with embed_utterance (rate 1.3, min_coverage 0.75). Silence trimming
(webrtcvad) is left out on purpose: callqa embeds VAD-cut segments.
"""
import json
import sys
import wave

import numpy as np
from resemblyzer import VoiceEncoder, audio


def load(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


encoder = VoiceEncoder("cpu", verbose=False)
out = []
for path in sys.argv[1:]:
    wav = audio.normalize_volume(load(path), -30, increase_only=True)
    mel = audio.wav_to_mel_spectrogram(wav)
    embed, partials, slices = encoder.embed_utterance(wav, return_partials=True)
    out.append({
        "clip": path,
        "mel_frames": int(mel.shape[0]),
        "mel_first_frames": [[round(float(v), 7) for v in row] for row in mel[:3]],
        "partials": len(partials),
        "first_partial": [round(float(v), 6) for v in partials[0]],
        "embedding": [round(float(v), 6) for v in embed],
    })
json.dump(out, sys.stdout, indent=None)
print()

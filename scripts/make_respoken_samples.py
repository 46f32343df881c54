#!/usr/bin/env python3
"""Make mono calls re-spoken as people speak: data-samples/respoken-<seed>/.

The mono sample calls (scripts/make_mono_samples.py) are mixdowns of the
stereo sample calls, whose two voices differ by a steady pitch. People's
pitch moves from line to line with emotion and emphasis, and their pace with
it. Here every turn of the stereo original is spoken again on its own
channel: its pitch moved by up to ±1.2 semitones and its pace by up to ±4 %
(sox pitch and tempo, each turn drawn anew), then the call is mixed down to
one channel as a mixing recorder keeps it. The turns' times in expected.json
follow the new lengths.

With --formants, the customer's turns are also moved towards the agent's
pitch (up by 3 semitones of their 3.5) while their spectral envelope is
stretched down by 12 % (a longer vocal tract: another person of the same
sex), by the WORLD vocoder (pyworld): two voices that pitch cannot tell
apart.

    apt-get install sox
    .venv-tts/bin/pip install numpy scipy pyworld   # pyworld for --formants only
    .venv-tts/bin/python scripts/make_respoken_samples.py data-samples 1
    .venv-tts/bin/python scripts/make_respoken_samples.py data-samples 2 --formants
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

# (new call id suffix, folder under data-samples, source call id)
SOURCES = [
    ("001", ".", "call-001"),
    ("002", ".", "call-002"),
    ("003", ".", "call-003"),
    ("004", ".", "call-004"),
    ("005", "noisy", "noisy-001"),
    ("006", "noisy", "noisy-002"),
    ("007", "noisy", "noisy-003"),
    ("008", "noisy", "noisy-004"),
    ("009", "timing", "timing-002"),
]
RATE = 8000
PITCH_CENTS = 120
TEMPO = 0.04


def read_stereo(path, tmp):
    wav = os.path.join(tmp, "in.wav")
    subprocess.run(["sox", path, "-b", "16", "-r", str(RATE), wav], check=True)
    rate, data = wavfile.read(wav)
    assert rate == RATE and data.ndim == 2, path
    return data.astype(np.float32) / 32768.0


def sox_turn(audio, effects, tmp):
    src, dst = os.path.join(tmp, "turn.wav"), os.path.join(tmp, "turn-out.wav")
    wavfile.write(src, RATE, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
    subprocess.run(["sox", src, dst, *effects], check=True)
    return wavfile.read(dst)[1].astype(np.float32) / 32768.0


def other_person(audio):
    """The same words by a voice of the same pitch range and another vocal tract."""
    import pyworld

    x = audio.astype(np.float64)
    f0, sp, ap = pyworld.wav2world(x, RATE)
    bins = sp.shape[1]
    # envelope stretched down by 12 %: what sat at f now sits at 0.88 f
    source = np.minimum(np.arange(bins) / 0.88, bins - 1)
    warped = np.array([np.interp(source, np.arange(bins), frame) for frame in sp])
    y = pyworld.synthesize(f0, warped, ap, RATE)
    return (y[: len(x)] * (np.sqrt(np.mean(x**2)) / max(np.sqrt(np.mean(y**2)), 1e-9))).astype(np.float32)


def respeak(channels, agent_col, turns, rng, formants, tmp):
    out = channels.copy()
    new_turns = []
    for turn in turns:
        col = agent_col if turn["speaker"] == "agent" else 1 - agent_col
        a = max(0, int((turn["start_s"] - 0.05) * RATE))
        b = min(len(channels), int((turn["end_s"] + 0.15) * RATE))
        cents = int(rng.integers(-PITCH_CENTS, PITCH_CENTS + 1))
        tempo = float(1.0 + rng.uniform(-TEMPO, TEMPO))
        piece = channels[a:b, col]
        if formants and turn["speaker"] == "customer":
            piece = other_person(sox_turn(piece, ["pitch", "300"], tmp))
        spoken = sox_turn(piece, ["pitch", str(cents), "tempo", "-s", f"{tempo:.3f}"], tmp)
        out[a:b, col] = 0.0
        end = min(len(out), a + len(spoken))
        out[a:end, col] += spoken[: end - a]
        length = (turn["end_s"] - turn["start_s"]) / tempo
        new_turns.append({**turn, "end_s": round(turn["start_s"] + length, 2), "pitch_cents": cents, "tempo": round(tempo, 3)})
    return out, new_turns


def main(samples, seed, formants):
    out_dir = os.path.join(samples, f"respoken-{seed}")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(int(seed))
    expected, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, folder, source_id in SOURCES:
            src_dir = os.path.join(samples, folder)
            with open(os.path.join(src_dir, "manifest.csv"), newline="") as f:
                source = next(r for r in csv.DictReader(f) if r["call_id"] == source_id)
            truth = json.load(open(os.path.join(src_dir, "expected.json")))[source_id]
            channels = read_stereo(os.path.join(src_dir, source["path"]), tmp)
            agent_col = 0 if source["agent_channel"] == "left" else 1
            spoken, turns = respeak(channels, agent_col, truth["turns"], rng, formants, tmp)
            call_id = f"respoken{seed}-{suffix}"
            mono = (np.clip(spoken.mean(axis=1), -1, 1) * 32767).astype(np.int16)
            wav = os.path.join(tmp, "mono.wav")
            wavfile.write(wav, RATE, mono)
            subprocess.run(["sox", wav, os.path.join(out_dir, f"{call_id}.flac")], check=True)
            expected[call_id] = {"made_from": f"{folder}/{source['path']}".lstrip("./"), "duration_s": truth["duration_s"], "turns": turns}
            rows.append([call_id, f"{call_id}.flac", source["agent_id"], "mono", source["started_at"], source["queue"]])
    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["call_id", "path", "agent_id", "agent_channel", "started_at", "queue"])
        w.writerows(rows)
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--formants"]
    if len(args) != 2:
        sys.exit(__doc__)
    main(args[0], args[1], "--formants" in sys.argv)

#!/usr/bin/env python3
"""Make phone-line versions of the sample calls: data-samples/noisy/.

A real line does more to a call than the clean samples show: the mobile codec
(AMR-NB, 4.75-12.2 kbit/s), background noise at each end, colleagues talking in
the call center (babble), and G.711 storage. Each clean call of data-samples/
is put through such a line, each with different settings (listed in the
manifest's `line` column), so tests and benchmarks measure callqa on both.

Per channel (each end of the line has its own room):
  1. pink noise at the given SNR, measured against that channel's speech (the
     scripted turns of expected.json, so silence does not dilute the figure);
  2. babble: three other speakers' channels from the other sample calls, time
     reversed (the sound of speech with no words to transcribe) and summed, at
     the given SNR; none for the calls marked so;
  3. an AMR-NB round trip at the given mode (sox -t amr-nb -C 0..7);
  4. stored as 16-bit PCM, G.711 mu-law or A-law WAV, or FLAC (the mono call).
The timeline is unchanged, so expected.json is the clean one under new call ids.

Set-up (only to remake the files): sox with AMR-NB (Debian: sox libsox-fmt-all)
and numpy:
    apt-get install sox libsox-fmt-all
    python3 -m venv .venv-noisy && .venv-noisy/bin/pip install numpy
    .venv-noisy/bin/python scripts/make_noisy_samples.py data-samples data-samples/noisy
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SR = 8000
# AMR-NB modes: -C 0 = 4.75 kbit/s ... -C 7 = 12.2 kbit/s
AMR_KBPS = {0: 4.75, 1: 5.15, 2: 5.9, 3: 6.7, 4: 7.4, 5: 7.95, 6: 10.2, 7: 12.2}
LINES = {
    # clean call: (AMR mode, pink-noise SNR dB, babble SNR dB or None, storage)
    "call-001": (0, 12.0, 15.0, "wav16"),
    "call-002": (7, 18.0, 12.0, "wav16"),
    "call-003": (5, 10.0, None, "ulaw"),
    "call-004": (2, 15.0, 18.0, "alaw"),
    "call-005": (3, 14.0, 16.0, "flac"),
}


def sox(*args):
    subprocess.run(["sox", *args], check=True)


def read_channels(path, tmp):
    """Any audio file → list of float32 channels at 8 kHz."""
    channels = int(subprocess.run(["soxi", "-c", path], check=True, capture_output=True, text=True).stdout)
    raw = os.path.join(tmp, "in.f32")
    sox(path, "-t", "f32", "-r", str(SR), raw)
    data = np.fromfile(raw, dtype=np.float32)
    return [data[i::channels].copy() for i in range(channels)]


def pink_noise(n, rng):
    """1/f noise by shaping white noise's spectrum, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    freqs[0] = freqs[1]
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return (noise / np.sqrt(np.mean(noise ** 2))).astype(np.float32)


def speech_power(channel, turns):
    powers = [np.mean(channel[int(t["start_s"] * SR):int(t["end_s"] * SR)] ** 2) for t in turns]
    return float(np.mean(powers)) if powers else float(np.mean(channel ** 2)) or 1e-6


def amr_round_trip(channel, mode, tmp):
    raw, amr, back = (os.path.join(tmp, n) for n in ("ch.f32", "ch.amr", "back.f32"))
    np.clip(channel, -1, 1).astype(np.float32).tofile(raw)
    sox("-t", "f32", "-r", str(SR), "-c", "1", raw, "-t", "amr-nb", "-C", str(mode), amr)
    sox(amr, "-t", "f32", "-r", str(SR), "-c", "1", back)
    out = np.fromfile(back, dtype=np.float32)
    fitted = np.zeros_like(channel)  # codec framing may add or drop a few samples
    fitted[:min(len(out), len(channel))] = out[:len(channel)]
    return fitted


def main(clean_dir, out_dir):
    rng = np.random.default_rng(2026)
    os.makedirs(out_dir, exist_ok=True)
    expected = json.load(open(os.path.join(clean_dir, "expected.json"), encoding="utf-8"))
    calls = list(csv.DictReader(open(os.path.join(clean_dir, "manifest.csv"), encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        audio = {c["call_id"]: read_channels(os.path.join(clean_dir, c["path"]), tmp) for c in calls}
        talkers = [(cid, ch) for cid, chans in audio.items() for ch in chans]
        rows, noisy_expected = [], {}
        for call in calls:
            cid = call["call_id"]
            mode, pink_snr, babble_snr, storage = LINES[cid]
            turns = expected[cid]["turns"]
            channels = audio[cid]
            if len(channels) == 2:
                agent_index = 1 if call["agent_channel"] == "right" else 0
                speakers = ["agent", "customer"] if agent_index == 0 else ["customer", "agent"]
            else:
                speakers = [None]
            degraded = []
            for channel, speaker in zip(channels, speakers):
                own_turns = [t for t in turns if speaker is None or t["speaker"] == speaker]
                power = speech_power(channel, own_turns)
                n = len(channel)
                noisy = channel + pink_noise(n, rng) * np.sqrt(power / 10 ** (pink_snr / 10))
                if babble_snr is not None:
                    others = [ch for other, ch in talkers if other != cid]
                    picks = rng.choice(len(others), size=3, replace=False)
                    babble = np.zeros(n, np.float32)
                    for p in picks:
                        voice = others[p][::-1]
                        voice = np.roll(np.resize(voice, n), int(rng.integers(0, n)))
                        babble += voice
                    babble_power = float(np.mean(babble ** 2)) or 1.0
                    noisy = noisy + babble * np.sqrt(power / 10 ** (babble_snr / 10) / babble_power)
                peak = float(np.max(np.abs(noisy)))
                if peak > 0.95:
                    noisy *= 0.95 / peak
                degraded.append(amr_round_trip(noisy.astype(np.float32), mode, tmp))
            name = cid.replace("call-", "noisy-")
            ext = "flac" if storage == "flac" else "wav"
            path = f"{name}.{ext}"
            raw = os.path.join(tmp, "out.f32")
            np.stack(degraded, axis=1).astype(np.float32).tofile(raw)
            encoding = {
                "wav16": ["-b", "16", "-e", "signed-integer"],
                "ulaw": ["-b", "8", "-e", "u-law"],
                "alaw": ["-b", "8", "-e", "a-law"],
                "flac": ["-b", "16"],
            }[storage]
            sox("-t", "f32", "-r", str(SR), "-c", str(len(degraded)), raw, *encoding, os.path.join(out_dir, path))
            line = f"amr-nb {AMR_KBPS[mode]} kbit/s, pink noise {pink_snr:g} dB"
            line += f", babble {babble_snr:g} dB" if babble_snr is not None else ", no babble"
            line += {"wav16": "", "ulaw": ", G.711 mu-law", "alaw": ", G.711 A-law", "flac": ", FLAC"}[storage]
            rows.append([name, path, call["agent_id"], call["agent_channel"], call["started_at"], call["queue"], line])
            noisy_expected[name] = expected[cid]
            print(f"{name}: {line}", file=sys.stderr)
    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["call_id", "path", "agent_id", "agent_channel", "started_at", "queue", "line"])
        w.writerows(rows)
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(noisy_expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data-samples",
         sys.argv[2] if len(sys.argv) > 2 else "data-samples/noisy")

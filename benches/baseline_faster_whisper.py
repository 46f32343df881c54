#!/usr/bin/env python3
"""The bar callqa measures itself against: faster-whisper (int8, with its Silero
VAD) on the same whisper base weights, as a call center would script it.

Transcribes every call of a manifest, each stereo channel on its own (agent and
customer, like callqa), prints the throughput in channel-audio seconds per wall
second, and writes callqa-format transcripts so `cargo bench --bench pipeline`
can measure their phrase recall in the same run:

    python3 -m venv .venv-fw && .venv-fw/bin/pip install faster-whisper
    .venv-fw/bin/python benches/baseline_faster_whisper.py data-samples/manifest.csv models/ct2-whisper-base /tmp/fw
    FASTER_WHISPER_TRANSCRIPTS=/tmp/fw cargo bench --bench pipeline

Decoding matches callqa's: greedy (beam 1), language zh, the same initial prompt,
no temperature fallback; all cores to one call at a time.
"""
import csv
import json
import os
import sys
import time

from faster_whisper import WhisperModel, decode_audio

PROMPT = "以下是普通话的句子。"


def main(manifest, ct2_dir, out_dir, rounds=3):
    base = os.path.dirname(os.path.abspath(manifest))
    calls = list(csv.DictReader(open(manifest, encoding="utf-8")))
    model = WhisperModel(ct2_dir, device="cpu", compute_type="int8", cpu_threads=os.cpu_count())
    os.makedirs(os.path.join(out_dir, "transcripts"), exist_ok=True)
    times = []
    channel_audio_s = 0.0
    for r in range(rounds):
        channel_audio_s = 0.0
        started = time.perf_counter()
        for call in calls:
            path = os.path.join(base, call["path"])
            mono = call.get("agent_channel") == "mono"
            channels = [decode_audio(path)] if mono else list(decode_audio(path, split_stereo=True))
            if mono:
                speakers = ["unknown"]
            elif call.get("agent_channel") == "right":
                speakers = ["customer", "agent"]
            else:
                speakers = ["agent", "customer"]
            segments = []
            for speaker, audio in zip(speakers, channels):
                channel_audio_s += len(audio) / 16000
                found, _ = model.transcribe(
                    audio, language="zh", beam_size=1, best_of=1, temperature=0.0,
                    initial_prompt=PROMPT, vad_filter=True, condition_on_previous_text=False,
                )
                for s in found:
                    segments.append({"speaker": speaker, "start": s.start, "end": s.end,
                                     "text": s.text.strip(), "confidence": 1.0})
            segments.sort(key=lambda s: s["start"])
            transcript = {
                "call_id": call["call_id"], "agent_id": call["agent_id"], "audio_path": path,
                "started_at": call.get("started_at"), "duration_s": len(channels[0]) / 16000,
                "agent_channel": call.get("agent_channel") or "left", "channels": len(channels),
                "segments": segments,
            }
            with open(os.path.join(out_dir, "transcripts", call["call_id"] + ".json"), "w", encoding="utf-8") as f:
                json.dump(transcript, f, ensure_ascii=False)
        times.append(time.perf_counter() - started)
        print(f"round {r + 1}: {times[-1]:.2f} s", file=sys.stderr)
    median = sorted(times)[len(times) // 2]
    print(f"faster-whisper int8 + Silero VAD: {channel_audio_s:.1f} s of channel audio in {median:.2f} s "
          f"(median of {rounds}) = {channel_audio_s / median:.1f}x real time")


if __name__ == "__main__":
    main(*sys.argv[1:4], rounds=int(os.environ.get("ROUNDS", "3")))

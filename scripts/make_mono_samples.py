#!/usr/bin/env python3
"""Make mono sample calls for speaker attribution: data-samples/mono/.

Many call recorders keep one mixed channel. These are the stereo sample calls
(clean, phone-line and one with talk-over) mixed down to one channel, as such a
recorder would store them, so who said what is known from the stereo original
and written to expected.json (the original's turns, speaker and times).

The two calls that were mono to begin with (call-005, noisy-005, the same
dialogue) are listed in the manifest from where they are, with their turns from
their own expected.json and each turn's speaker from the script that made them
(scripts/make_samples.py).

The calls spoken mono on purpose (customers saying the agent's nine-don't lines,
scripts/make_mono_dialogues.py, which needs the TTS) are listed from the
dialogues.json it leaves in the mono folder.

Only the standard library and sox:
    apt-get install sox
    python3 scripts/make_mono_samples.py data-samples data-samples/mono
"""
import ast
import csv
import json
import os
import subprocess
import sys

# (new call id, folder under data-samples, source call id, source file)
MIXED = [
    ("mono-001", ".", "call-001", "call-001.wav"),
    ("mono-002", ".", "call-002", "call-002.wav"),
    ("mono-003", ".", "call-003", "call-003.wav"),
    ("mono-004", ".", "call-004", "call-004.wav"),
    ("mono-005", "noisy", "noisy-001", "noisy-001.wav"),
    ("mono-006", "noisy", "noisy-002", "noisy-002.wav"),
    ("mono-007", "noisy", "noisy-003", "noisy-003.wav"),
    ("mono-008", "noisy", "noisy-004", "noisy-004.wav"),
    ("mono-009", "timing", "timing-002", "timing-002.flac"),
]
# recorded mono in the first place: listed where they are, with the script's call
NATIVE = [
    (".", "call-005", "call-005"),
    ("noisy", "noisy-005", "call-005"),
]


def scripted_speakers(call_id):
    """Who speaks each turn of a call, from make_samples.py's CALLS (a literal)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_samples.py")
    for node in ast.parse(open(script).read()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CALLS":
            calls = ast.literal_eval(node.value)
            return [turn[0] for turn in next(c for c in calls if c["call_id"] == call_id)["turns"]]
    raise SystemExit(f"{script}: no CALLS")


def manifest_rows(folder):
    with open(os.path.join(folder, "manifest.csv"), newline="") as f:
        return {row["call_id"]: row for row in csv.DictReader(f)}


def main(samples, out):
    os.makedirs(out, exist_ok=True)
    expected, rows = {}, []
    for call_id, folder, source_id, file in MIXED:
        src_dir = os.path.join(samples, folder)
        source = manifest_rows(src_dir)[source_id]
        target = f"{call_id}.flac"
        # `channels 1` averages the two channels, as a mixing recorder does
        subprocess.run(
            ["sox", os.path.join(src_dir, file), "-b", "16", "-r", "8000", os.path.join(out, target), "channels", "1"],
            check=True,
        )
        truth = json.load(open(os.path.join(src_dir, "expected.json")))[source_id]
        expected[call_id] = {
            "made_from": f"{folder}/{file}".lstrip("./"),
            "duration_s": truth["duration_s"],
            "turns": truth["turns"],
        }
        rows.append([call_id, target, source["agent_id"], "mono", source["started_at"], source["queue"]])
    for folder, source_id, script_id in NATIVE:
        src_dir = os.path.join(samples, folder)
        source = manifest_rows(src_dir)[source_id]
        truth = json.load(open(os.path.join(src_dir, "expected.json")))[source_id]
        speakers = scripted_speakers(script_id)
        assert len(speakers) == len(truth["turns"]), source_id
        for turn, speaker in zip(truth["turns"], speakers):
            turn["speaker"] = speaker
        path = os.path.relpath(os.path.join(src_dir, source["path"]), out)
        expected[source_id] = {"made_from": "recorded mono", "duration_s": truth["duration_s"], "turns": truth["turns"]}
        rows.append([source_id, path, source["agent_id"], "mono", source["started_at"], source["queue"]])
    spoken = os.path.join(out, "dialogues.json")
    for call_id, call in (json.load(open(spoken)) if os.path.exists(spoken) else {}).items():
        expected[call_id] = {"made_from": "spoken mono", "duration_s": call["duration_s"], "turns": call["turns"]}
        rows.append([call_id, f"{call_id}.flac", call["agent_id"], "mono", call["started_at"], call["queue"]])
    with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["call_id", "path", "agent_id", "agent_channel", "started_at", "queue"])
        w.writerows(rows)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

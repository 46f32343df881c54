#!/usr/bin/env python3
"""How far transcript times are from the truth: the median error of turn starts.

For each scripted turn of a sample folder's expected.json, the segment that
begins it is the one within 3 s of the turn's start, of the same speaker (or
unknown, on mono calls), whose first characters best match the turn's first
four (in order, at least two); its start is compared with the turn's.

    callqa run data-samples --out /tmp/out
    python3 scripts/turn_start_error.py /tmp/out data-samples
"""
import glob
import json
import statistics
import sys


def in_order(a, b):
    """Longest common subsequence of two sequences."""
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b):
            above = row[j + 1]
            row[j + 1] = diagonal + 1 if x == y else max(above, row[j])
            diagonal = above
    return row[len(b)]


def chars(text):
    return [c for c in text if c.isalnum()]


def main(out, folder):
    expected = json.load(open(f"{folder}/expected.json"))
    errors = []
    for call_id, call in expected.items():
        found = glob.glob(f"{out}/transcripts/*/{glob.escape(call_id)}.json")
        if not found:
            continue
        segments = json.load(open(found[0]))["segments"]
        for turn in call["turns"]:
            head = chars(turn["text"])[:4]
            best = None
            for s in segments:
                if abs(s["start"] - turn["start_s"]) > 3 or s["speaker"] not in ("unknown", turn["speaker"]):
                    continue
                shared = in_order(chars(s["text"])[:5], head)
                key = (shared, -abs(s["start"] - turn["start_s"]))
                if shared >= 2 and (best is None or key > best[0]):
                    best = (key, s)
            if best:
                errors.append(abs(best[1]["start"] - turn["start_s"]))
    if not errors:
        sys.exit("no turn found in the transcripts")
    late = sum(e > 0.5 for e in errors)
    print(f"{len(errors)} turns: median start error {statistics.median(errors):.2f} s, "
          f"mean {statistics.mean(errors):.2f} s, {late} more than 0.5 s off")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

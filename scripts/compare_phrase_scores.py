#!/usr/bin/env python3
"""Cross-checks callqa's phrase verifier against the reference scorer.

Reads the TSV of `cargo run --release --example stretch_checks -- SET...`
(every audio check callqa made on the scripted stretches of a sample set,
with where each stretch was cut), scores the same phrase on the same stretch
with ../shared/tools/phrase_score.py (CTranslate2, the same whisper base
weights, teacher-forced), and prints how the two agree: the correlation of
the per-character gaps, and how often both say "accept" (gap >= -0.8).

The scorers differ on purpose in what they score (callqa: the rewritten span
and two tokens after it, whisper.cpp q8_0; the reference: the whole rewritten
decode and its end, CTranslate2 int8), and each makes its own free decode,
so agreement is expected to be close, not exact.

    python3 scripts/compare_phrase_scores.py checks.tsv [N]      (N checks, default 40)
Needs .venv-fw (faster-whisper) and models/ct2-whisper-base.
"""
import csv
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-fw/bin/python"
TOOL = ROOT.parent / "shared/tools/phrase_score.py"
CT2 = ROOT / "models/ct2-whisper-base"
ACCEPT = -0.8


def reference_gap(audio, channel, start, end, phrase):
    out = subprocess.run(
        [str(PYTHON), str(TOOL), str(CT2), str(audio), str(channel), str(start), str(end), phrase],
        capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"gap per character ([-+][0-9.]+)", out)
    return float(m.group(1)) if m else None


def main(tsv, n):
    rows = list(csv.DictReader(open(tsv, encoding="utf-8"), delimiter="\t"))
    # slot phrases ({any}, {num}, {name}) have no one text for the reference to score
    rows = [r for r in rows if "{" not in r["checked"]]
    random.Random(7).shuffle(rows)
    # as many accepted-by-callqa as possible, then the rest: the decision is what matters
    rows.sort(key=lambda r: float(r["gap"]) < ACCEPT)
    rows = rows[:n]
    pairs = []
    for r in rows:
        audio = ROOT / r["set"] / f"{r['call']}.wav"
        if not audio.exists():
            audio = next((ROOT / r["set"]).glob(f"{r['call']}.*"))
        ref = reference_gap(audio, r["channel"], r["start_s"], r["end_s"], r["checked"])
        if ref is None:
            continue
        ours = float(r["gap"])
        said = r["positive"] == "true"
        pairs.append((ours, ref, said))
        print(f"{r['call']} {r['stretch']:12} {'said' if said else 'not said':8} {r['checked']:10} heard {r['heard']:12} "
              f"callqa {ours:+.2f}  reference {ref:+.2f}")
    if not pairs:
        sys.exit("no checks compared")
    xs, ys, _ = zip(*pairs)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y, _ in pairs)
    sx = sum((x - mx) ** 2 for x in xs) ** 0.5
    sy = sum((y - my) ** 2 for y in ys) ** 0.5
    both = sum((x >= ACCEPT) == (y >= ACCEPT) for x, y, _ in pairs)
    print(f"\n{len(pairs)} checks: correlation of gaps {cov / (sx * sy):.2f}; "
          f"same accept decision at {ACCEPT} in {both} ({both / len(pairs):.0%}); "
          f"median |difference| {sorted(abs(x - y) for x, y, _ in pairs)[len(pairs) // 2]:.2f}")
    for name, keep in [("said", True), ("not said", False)]:
        group = [(x, y) for x, y, said in pairs if said == keep]
        print(f"  {name}: {len(group)} checks, accepted by callqa {sum(x >= ACCEPT for x, _ in group)}, "
              f"by the reference {sum(y >= ACCEPT for _, y in group)}, by both {sum(x >= ACCEPT and y >= ACCEPT for x, y in group)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40)

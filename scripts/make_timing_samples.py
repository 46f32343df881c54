#!/usr/bin/env python3
"""Make sample calls that exercise the timing rules: data-samples/timing/.

Each is a clean sample call re-timed (its scripted turns and audio moved,
silence inserted, or the whole call sped up), so what the timing rules must
measure is known from the construction and written to expected.json:

  timing-001  call-001 answered 3 s late, with 14 s of dead air after the
              customer's first line        -> first_response_late, dead_air
  timing-002  call-002 with the agent's 冷静一点，我现在很忙 moved to start while
              the customer is still speaking -> talk_over (about 1.7 s)
  timing-003  call-001 with its hold (请您稍等 ... 让您久等了) stretched to 45 s
              and no check-in              -> hold_checkin
  timing-004  call-003 played 1.6x faster -> speech_rate (too fast)
  timing-005  call-001 with its hold stretched to 70 s and the agent checking in
              twice (seed 003's 对不起，您的问题我还在给您咨询，请您稍候, spoken
              into lines/checkin.wav by speak_line.py) -> no hold_checkin

Only the standard library and sox (to read the G.711 call and change tempo; the
check-in line of timing-005 was spoken once by speak_line.py, which needs the TTS):
    apt-get install sox
    python3 scripts/make_timing_samples.py data-samples data-samples/timing
"""
import array
import csv
import json
import os
import subprocess
import sys
import tempfile
import wave

SR = 8000


def pcm16(path, channels):
    """A recording as 16-bit samples at SR, interleaved when `channels` is 2."""
    with tempfile.TemporaryDirectory() as tmp:
        pcm = os.path.join(tmp, "pcm.wav")
        subprocess.run(
            ["sox", path, "-b", "16", "-e", "signed-integer", "-r", str(SR), "-c", str(channels), pcm], check=True
        )
        with wave.open(pcm) as w:
            return array.array("h", w.readframes(w.getnframes()))


def load(path):
    """The call as two lists of 16-bit samples (left, right)."""
    frames = pcm16(path, 2)
    return frames[0::2], frames[1::2]


def load_mono(path):
    """A one-channel recording as a list of 16-bit samples."""
    return pcm16(path, 1)


def save(path, left, right):
    """A stereo FLAC (lossless; the inserted silence costs next to nothing)."""
    frames = array.array("h", [0]) * (2 * len(left))
    frames[0::2] = left
    frames[1::2] = right
    with tempfile.TemporaryDirectory() as tmp:
        pcm = os.path.join(tmp, "pcm.wav")
        with wave.open(pcm, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(frames.tobytes())
        subprocess.run(["sox", pcm, path], check=True)


def at(seconds):
    return int(round(seconds * SR))


def silence(seconds):
    return array.array("h", [0]) * at(seconds)


def insert_silence(channels, cut_s, seconds):
    return tuple(ch[: at(cut_s)] + silence(seconds) + ch[at(cut_s):] for ch in channels)


def shifted(turns, cut_s, seconds):
    """Turns after `cut_s` moved later by `seconds`."""
    out = []
    for t in turns:
        d = seconds if t["start_s"] >= cut_s else 0.0
        out.append(dict(t, start_s=round(t["start_s"] + d, 2), end_s=round(t["end_s"] + d, 2)))
    return out


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    expected_all = json.load(open(os.path.join(src, "expected.json")))
    manifest = {row["call_id"]: row for row in csv.DictReader(open(os.path.join(src, "manifest.csv")))}
    out_rows, out_expected = [], {}

    def emit(call_id, source, channels, turns, duration_s, figures, what):
        save(os.path.join(dst, call_id + ".flac"), *channels)
        row = dict(manifest[source], call_id=call_id, path=call_id + ".flac")
        out_rows.append(row)
        out_expected[call_id] = {
            "made_from": source,
            "what": what,
            "duration_s": round(duration_s, 2),
            "turns": turns,
            "timing": figures,
        }

    # timing-001: answered 3 s late; 14 s of silence after the customer's first line
    c1 = load(os.path.join(src, "call-001.wav"))
    turns1 = expected_all["call-001"]["turns"]
    late = tuple(silence(3.0) + ch for ch in c1)
    late_turns = shifted(turns1, 0.0, 3.0)
    cut = 3.0 + (turns1[1]["end_s"] + turns1[2]["start_s"]) / 2  # between the customer's line and the agent's reply
    dead = insert_silence(late, cut, 14.0)
    dead_turns = shifted(late_turns, cut, 14.0)
    emit(
        "timing-001",
        "call-001",
        dead,
        dead_turns,
        len(dead[0]) / SR,
        {
            "first_response_s": dead_turns[0]["start_s"],
            "dead_air_count": 1,
            "longest_dead_air_s": round(dead_turns[2]["start_s"] - dead_turns[1]["end_s"], 2),
            "talk_over_count": 0,
            "hold_checkins_missed": 0,
            "failed_rules": ["first_response_late", "dead_air"],
        },
        "answered 3 s late; 14 s of silence after the customer's first line",
    )

    # timing-002: the agent's last line moved to start while the customer still speaks
    c2 = load(os.path.join(src, "call-002.wav"))
    turns2 = expected_all["call-002"]["turns"]
    agent_index = 0 if manifest["call-002"]["agent_channel"] == "left" else 1
    customer_turn, agent_turn = turns2[5], turns2[6]  # 你这是什么态度？我要投诉你。 / 冷静一点，我现在很忙。
    new_start = customer_turn["start_s"] + 1.0
    a, b = at(agent_turn["start_s"] - 0.1), at(agent_turn["end_s"] + 0.1)
    agent = array.array("h", c2[agent_index])
    clip = agent[a:b]
    agent[a:b] = array.array("h", [0]) * (b - a)
    start = at(new_start - 0.1)
    agent[start : start + len(clip)] = clip
    channels = [c2[0], c2[1]]
    channels[agent_index] = agent
    moved = dict(agent_turn, start_s=round(new_start, 2), end_s=round(new_start + agent_turn["end_s"] - agent_turn["start_s"], 2))
    turns_talk = turns2[:6] + [moved] + turns2[7:]
    emit(
        "timing-002",
        "call-002",
        channels,
        turns_talk,
        len(agent) / SR,
        {
            "talk_over_count": 1,
            "longest_talk_over_s": round(customer_turn["end_s"] - new_start, 2),
            "dead_air_count": 0,
            "failed_rules": ["talk_over"],
        },
        "the agent's 冷静一点，我现在很忙 starts 1 s into the customer's complaint",
    )

    # timing-003: a 45 s hold, no check-in
    hold_cut = (turns1[2]["end_s"] + turns1[3]["start_s"]) / 2  # after 请您稍等…, before 让您久等了
    stretch = 45.0 - (turns1[3]["start_s"] - turns1[2]["end_s"])
    held = insert_silence(c1, hold_cut, stretch)
    held_turns = shifted(turns1, hold_cut, stretch)
    emit(
        "timing-003",
        "call-001",
        held,
        held_turns,
        len(held[0]) / SR,
        {
            "hold_checkins_missed": 1,
            "dead_air_count": 0,
            "talk_over_count": 0,
            "failed_rules": ["hold_checkin"],
        },
        "the hold after 请您稍等 lasts 45 s with no check-in",
    )

    # timing-004: call-003 at 1.6x speed
    with tempfile.TemporaryDirectory() as tmp:
        fast_path = os.path.join(tmp, "fast.wav")
        subprocess.run(["sox", os.path.join(src, "call-003.wav"), "-b", "16", "-e", "signed-integer", fast_path, "tempo", "-s", "1.6"], check=True)
        fast = load(fast_path)
    fast_turns = [dict(t, start_s=round(t["start_s"] / 1.6, 2), end_s=round(t["end_s"] / 1.6, 2)) for t in expected_all["call-003"]["turns"]]
    emit(
        "timing-004",
        "call-003",
        fast,
        fast_turns,
        len(fast[0]) / SR,
        {
            "speech_rate": "fast",
            "talk_over_count": 0,
            "failed_rules": ["speech_rate"],
        },
        "call-003 played 1.6x faster: the agent speaks too fast",
    )

    # timing-005: a 70 s hold with two check-ins, none of its stretches over 30 s
    line = load_mono(os.path.join(dst, "lines", "checkin.wav"))
    line_s = len(line) / SR
    hold_s = 70.0
    long_hold = insert_silence(c1, hold_cut, hold_s - (turns1[3]["start_s"] - turns1[2]["end_s"]))
    long_turns = shifted(turns1, hold_cut, hold_s - (turns1[3]["start_s"] - turns1[2]["end_s"]))
    agent_index = 0 if manifest["call-001"]["agent_channel"] == "left" else 1
    agent = array.array("h", long_hold[agent_index])
    checkins = []
    for after_s in (22.0, 45.0):
        start_s = turns1[2]["end_s"] + after_s
        agent[at(start_s) : at(start_s) + len(line)] = line
        checkins.append({"speaker": "agent", "start_s": round(start_s, 2), "end_s": round(start_s + line_s, 2),
                         "text": "对不起，您的问题我还在给您咨询，请您稍候。"})
    channels = list(long_hold)
    channels[agent_index] = agent
    emit(
        "timing-005",
        "call-001",
        channels,
        long_turns[:3] + checkins + long_turns[3:],
        len(agent) / SR,
        {
            "hold_checkins_missed": 0,
            "dead_air_count": 0,
            "talk_over_count": 0,
            "failed_rules": [],
            "passed_rules": ["hold_checkin", "dead_air", "hold_etiquette"],
        },
        "the hold after 请您稍等 lasts 70 s, with check-ins 22 s and 45 s in",
    )

    with open(os.path.join(dst, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(out_rows[0].keys()))
        w.writeheader()
        w.writerows(out_rows)
    with open(os.path.join(dst, "expected.json"), "w") as f:
        json.dump(out_expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

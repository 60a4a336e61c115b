"""The outbox: nothing lost, RetryAfter honoured, restarts survived, rates respected."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text, update
from telegram import Bot

from bot.db import MIGRATIONS, Database
from bot.models import OutboxMessage
from bot.services.outbox import Outbox, RateLimits, enqueue
from bot.telegram.sender import OutboxSender
from bot.testing import FakeBotAPI, FakeRequest
from tests.conftest import BotHarness

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def queue(bot: BotHarness, chat_ids: list[int], kind: str = "notice") -> None:
    with bot.services.db.session() as s:
        for i, chat in enumerate(chat_ids):
            enqueue(s, chat, f"pesan <b>{i}</b>", kind=kind)


def statuses(bot: BotHarness) -> list[str]:
    with bot.services.db.session() as s:
        return list(s.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


async def test_retry_after_is_honoured_and_nothing_is_lost(bot: BotHarness) -> None:
    queue(bot, [1, 2, 3])
    bot.api.fail_next("sendMessage", 429, retry_after=1)
    first = await bot.sender.drain(bot.app.bot, budget_seconds=0.5)
    assert first.retried == 1
    with bot.services.db.session() as s:
        row = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert row.status == "pending" and row.next_attempt_at is not None
    # the whole sender pauses for retry_after, then everything goes out
    later = await bot.sender.drain(bot.app.bot, budget_seconds=4)
    assert first.sent + later.sent == 3
    assert statuses(bot) == ["sent"] * 3
    assert sorted(bot.api.texts(c)[0] for c in (1, 2, 3)) == [
        "pesan <b>0</b>",
        "pesan <b>1</b>",
        "pesan <b>2</b>",
    ]


async def test_the_sender_starts_however_late_a_busy_start_up_reaches_it(bot: BotHarness) -> None:
    # a loaded machine: the event loop is held for longer than APScheduler's one second
    # of grace between the sender's scheduled start and the scheduler getting to it
    queue(bot, [5])
    await bot.app.start()
    try:
        time.sleep(1.6)  # blocks the loop, as a slow start-up does
        for _ in range(200):
            if bot.api.texts(5):
                break
            await asyncio.sleep(0.05)
        assert bot.api.texts(5) == ["pesan <b>0</b>"]
        assert statuses(bot) == ["sent"]
    finally:
        await bot.app.stop()


async def test_network_errors_back_off_then_deliver(bot: BotHarness) -> None:
    queue(bot, [7])
    bot.api.fail_next("sendMessage", 500)
    result = await bot.sender.drain(bot.app.bot, budget_seconds=0.3)
    assert result.retried == 1 and statuses(bot) == ["pending"]
    with bot.services.db.session() as s:  # the backoff is stored, not slept through
        s.execute(update(OutboxMessage).values(next_attempt_at=dt.datetime.now(dt.UTC)))
    # the chat got a (failed) try a moment ago: its one-a-second pace still holds
    await bot.sender.drain(bot.app.bot, budget_seconds=2.5)
    assert statuses(bot) == ["sent"] and bot.api.texts(7) == ["pesan <b>0</b>"]


async def test_restart_during_delivery_sends_again_at_most_once(bot: BotHarness) -> None:
    queue(bot, [11, 12])
    # a process died after claiming row 1 (status 'sending') and before recording it
    with bot.services.db.session() as s:
        first = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        first.status = "sending"
    fresh = OutboxSender(Outbox(bot.services.db))  # the restarted process
    assert fresh.outbox.recover() == 1
    await fresh.drain(bot.app.bot, budget_seconds=3)
    assert statuses(bot) == ["sent", "sent"]
    assert bot.api.texts(11) == ["pesan <b>0</b>"] and bot.api.texts(12) == ["pesan <b>1</b>"]


async def test_dedupe_key_queues_once(bot: BotHarness) -> None:
    with bot.services.db.session() as s:
        assert enqueue(s, 5, "a", dedupe_key="reminder:1:2026-11-25") is not None
    with bot.services.db.session() as s:
        assert enqueue(s, 5, "a", dedupe_key="reminder:1:2026-11-25") is None
    assert len(statuses(bot)) == 1


async def test_rate_limits_overall_and_per_chat(bot: BotHarness) -> None:
    queue(bot, [100 + i for i in range(12)] + [200, 200, 200])
    sender = OutboxSender(Outbox(bot.services.db, RateLimits(overall_per_second=10, per_chat_per_second=1)))
    await sender.drain(bot.app.bot, budget_seconds=10)
    sends = [c for c in bot.api.calls if c.method == "sendMessage"]
    assert len(sends) == 15
    times = [c.time for c in sends]
    for i in range(len(times)):
        in_window = [t for t in times if times[i] <= t < times[i] + 1.0]
        assert len(in_window) <= 10 + 1  # +1: a send exactly on the window edge
    same_chat = [c.time for c in sends if c.params["chat_id"] == 200]
    assert all(b - a >= 0.95 for a, b in zip(same_chat, same_chat[1:], strict=False))


class RoundTrip(FakeRequest):
    """The fake Bot API as far away as Telegram can be: every call takes `seconds`."""

    def __init__(self, api: FakeBotAPI, seconds: float) -> None:
        super().__init__(api)
        self.seconds = seconds

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        answer = await super().do_request(url, method, *args, **kwargs)
        await asyncio.sleep(self.seconds)
        return answer


@pytest.mark.parametrize("chats", [10, 100])
async def test_the_pace_holds_when_every_call_takes_a_quarter_second(bot: BotHarness, chats: int) -> None:
    """Calls overlap: at 250 ms a call, one at a time would send 4 a second. Ten chats
    get their one message a second each (the per-chat limit is the ceiling: about 10/s),
    a hundred chats the overall rate (25/s), and neither limit is exceeded."""
    queue(bot, [7000 + i % chats for i in range(min(6 * chats, 150))])
    sender = OutboxSender(Outbox(bot.services.db, RateLimits(overall_per_second=25, per_chat_per_second=1)))
    slow = Bot(bot.app.bot.token, request=RoundTrip(bot.api, 0.25))
    async with slow:
        await sender.drain(slow, budget_seconds=4.0)
    times = sorted(c.time for c in bot.api.calls if c.method == "sendMessage" and c.ok)
    ceiling = min(25, chats * 1)
    # generous: 70 % of the ceiling over the four seconds, where one at a time is 16 %
    # (per-chat ceiling) or 40 % (overall)
    assert len(times) >= 0.7 * ceiling * 4.0, (len(times), ceiling)
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 1.0) <= 25 + 1  # +1: the window edge
    by_chat: dict[int, list[float]] = {}
    for call in bot.api.calls:
        if call.method == "sendMessage" and call.ok:
            by_chat.setdefault(int(call.params["chat_id"]), []).append(call.time)
    assert all(b - a >= 0.95 for sent in by_chat.values() for a, b in zip(sent, sent[1:], strict=False))


async def test_bad_request_fails_without_retry(bot: BotHarness) -> None:
    with bot.services.db.session() as s:
        enqueue(s, 9, "<b>unclosed")
    result = await bot.sender.drain(bot.app.bot, budget_seconds=1)
    assert result.failed == 1 and statuses(bot) == ["failed"]


async def test_a_status_change_overtakes_a_queued_broadcast(bot: BotHarness) -> None:
    queue(bot, [300 + i for i in range(40)], kind="broadcast")
    queue(bot, [300 + i for i in range(40, 60)], kind="reminder_exporter")
    queue(bot, [400], kind="status")
    queue(bot, [401], kind="ticket_reply")
    sender = OutboxSender(Outbox(bot.services.db, RateLimits(overall_per_second=20, per_chat_per_second=1)))
    await sender.drain(bot.app.bot, budget_seconds=0.5)
    sent = [c.params["chat_id"] for c in bot.api.calls if c.method == "sendMessage"]
    # queued last, sent first; the bulk rows keep their own order behind them
    assert sent[:2] == [400, 401] and sent[2:] == list(range(300, 300 + len(sent) - 2))
    await sender.drain(bot.app.bot, budget_seconds=5)
    assert statuses(bot) == ["sent"] * 62


def test_upgrading_a_database_ranks_its_queued_broadcasts_behind(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:  # a database of the previous release
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0006")
        for chat, kind in ((1, "broadcast"), (2, "reminder_exporter"), (3, "status")):
            connection.execute(
                text(
                    "INSERT INTO outbox (chat_id, text, kind, status, attempts, next_attempt_at, "
                    "created_at) VALUES (:c, 'x', :k, 'pending', 0, :t, :t)"
                ),
                {"c": chat, "k": kind, "t": dt.datetime.now(dt.UTC)},
            )
    db.migrate()
    with db.session() as s:
        assert [
            (m.chat_id, m.priority) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ] == [(1, 1), (2, 1), (3, 0)]
    db.dispose()

"""Updates from different people are handled at the same time, one person's in order."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from bot.app import PerSenderUpdates
from bot.config import ConfigError, parse_settings
from bot.services import build_services
from bot.testing import FakeBotAPI
from tests.conftest import BotHarness, make_settings, start_harness

API = FakeBotAPI()


def update_from(user_id: int, text: str) -> Update:
    return Update.de_json(API.message(user_id, text), None)


class Journal:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def handle(self, name: str, seconds: float = 0.0) -> None:
        self.events.append(f"start {name}")
        await asyncio.sleep(seconds)
        self.events.append(f"end {name}")

    def before(self, first: str, second: str) -> bool:
        return self.events.index(first) < self.events.index(second)


async def test_one_senders_updates_keep_their_order_while_others_go_on() -> None:
    processor = PerSenderUpdates(16)
    journal = Journal()
    await asyncio.gather(
        processor.process_update(update_from(1, "slow question"), journal.handle("a1", 0.05)),
        processor.process_update(update_from(1, "follow-up"), journal.handle("a2")),
        processor.process_update(update_from(2, "other exporter"), journal.handle("b1")),
    )
    # the follow-up waits for the first message of the same exporter ...
    assert journal.before("end a1", "start a2")
    # ... while another exporter is answered meanwhile
    assert journal.before("end b1", "end a1")
    assert not processor._last  # nothing is kept once everyone was handled


async def test_a_cancelled_waiter_does_not_let_the_next_one_jump_the_queue() -> None:
    processor = PerSenderUpdates(16)
    journal = Journal()
    first = asyncio.create_task(processor.process_update(update_from(1, "one"), journal.handle("a1", 0.05)))
    await asyncio.sleep(0)
    second = asyncio.create_task(processor.process_update(update_from(1, "two"), journal.handle("a2")))
    await asyncio.sleep(0)
    third = asyncio.create_task(processor.process_update(update_from(1, "three"), journal.handle("a3")))
    await asyncio.sleep(0.01)
    second.cancel()
    await asyncio.gather(first, third, return_exceptions=True)
    assert second.cancelled()
    assert "start a2" not in journal.events
    assert journal.before("end a1", "start a3")


async def test_polling_with_concurrency_answers_everyone_in_their_own_order(database_url: str) -> None:
    """Through the real Application as `run` polls: three exporters, a /cek check each,
    their answers interleaved in one getUpdates batch; each check takes its own answers in
    order and every question is answered."""
    settings = make_settings(database_url, telegram={"concurrent_updates": 8})
    services = build_services(settings)
    app, api = await start_harness(settings, services)
    exporters = (3001, 3002, 3003)
    try:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        for user in exporters:
            api.push_update(api.message(user, "/cek"))
        for user in exporters:
            api.push_update(api.message(user, f"PT Kayu {user}"))
        for user in exporters:
            api.push_update(api.message(user, "/batal"))
            api.push_update(api.message(user, "berapa lama proses ska"))

        async def settled() -> None:
            while any(len(api.sent(user)) < 4 for user in exporters) or api.pending_updates:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(settled(), timeout=120)
    finally:
        api.release_polls()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        services.close()
    for user in exporters:
        texts = [str(c.params.get("text")) for c in api.sent(user)]
        assert len(texts) == 4, texts
        # the check asked; it (not the FAQ) took the typed text and asked again for a
        # button; it was cancelled; then the question got the FAQ's answer
        assert "(1/15)" in texts[0] and "(1/15)" in texts[1], texts
        assert "(1/15)" not in texts[2] and "(1/15)" not in texts[3], texts
        assert "hari kerja" in texts[3], texts


@pytest.mark.parametrize("value", [0, 2.5, "many", 1000])
def test_concurrent_updates_setting_is_validated(value: object) -> None:
    with pytest.raises(ConfigError, match="telegram.concurrent_updates"):
        parse_settings({"telegram": {"concurrent_updates": value}}, env={})


async def test_updates_are_handled_concurrently_by_default(bot: BotHarness) -> None:
    """One at a time, a 100 ms round trip to Telegram capped the bot at ten replies a
    second; the Application built from the default configuration handles 64 senders'
    updates side by side, each sender's in order."""
    assert parse_settings({}, env={}).telegram.concurrent_updates == 64
    processor = bot.app.update_processor
    assert isinstance(processor, PerSenderUpdates)
    assert processor.max_concurrent_updates == 64

"""`run` builds the matcher while its first getUpdates waits (bot/services/pending.py): a
question that comes first is answered as the built matcher answers it, and a reload of
the knowledge base meanwhile is not undone by the late build."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from bot.app import build_application, finish_start_up, post_shutdown
from bot.services import build_services
from bot.services.pending import PendingMatcher
from bot.testing import FakeBotAPI, FakeRequest
from knowledge.matcher import Matcher
from tests.conftest import make_settings

QUESTIONS = ("berapa lama ska terbit", "halo", "syarat form e ke china", "harga cabai hari ini")


def test_a_question_before_the_matcher_is_built_gets_the_same_reply(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'ska.db'}")
    later, now = build_services(settings, matcher_later=True), build_services(settings)
    try:
        assert isinstance(later.answers.matcher, PendingMatcher)
        for question in QUESTIONS:
            assert later.answers.ask(question, "id", log=False) == now.answers.ask(question, "id", log=False)
        asyncio.run(finish_start_up(later))
        assert isinstance(later.answers.matcher, Matcher)
        assert later.pending_matcher is None
    finally:
        later.close()
        now.close()


def test_a_reload_before_the_build_is_kept(tmp_path: Path) -> None:
    svc = build_services(make_settings(f"sqlite:///{tmp_path / 'ska.db'}"), matcher_later=True)
    try:
        svc.answers.reload(svc.answers.kb)  # an FAQ approval swaps in a new knowledge base
        reloaded = svc.answers.matcher
        asyncio.run(finish_start_up(svc))
        assert svc.answers.matcher is reloaded
    finally:
        svc.close()


def test_starting_the_application_builds_it(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'ska.db'}")
    svc = build_services(settings, matcher_later=True)
    api = FakeBotAPI()
    app = build_application(settings, request=FakeRequest(api), services=svc)

    async def start_and_stop() -> None:
        async with app:
            await app.start()
            for _ in range(500):
                if svc.pending_matcher is None:
                    break
                await asyncio.sleep(0.01)
            await app.stop()

    try:
        asyncio.run(start_and_stop())
        assert isinstance(svc.answers.matcher, Matcher)
    finally:
        svc.close()


def test_the_start_up_heap_leaves_the_collectors_sight_until_shutdown(tmp_path: Path) -> None:
    gc.unfreeze()
    settings = make_settings(f"sqlite:///{tmp_path / 'ska.db'}")
    svc = build_services(settings, matcher_later=True)
    app = build_application(settings, request=FakeRequest(FakeBotAPI()), services=svc)
    try:
        asyncio.run(finish_start_up(svc))
        assert gc.get_freeze_count() > 100_000  # the knowledge base, the matcher, modules
    finally:
        asyncio.run(post_shutdown(app))  # closes the services too
    assert gc.get_freeze_count() == 0


def test_run_sets_the_command_menus_once_updates_are_being_fetched(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'ska.db'}")
    svc = build_services(settings, matcher_later=True)
    api = FakeBotAPI()
    app = build_application(settings, request=FakeRequest(api), services=svc)

    def menus() -> set[tuple[str | None, str | None]]:
        return {
            (str(c.params.get("scope")), c.params.get("language_code"))
            for c in api.calls
            if c.method == "setMyCommands"
        }

    async def start_and_stop() -> None:
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            assert not menus()  # a round trip each: none before polling starts
            await app.start()
            for _ in range(500):
                # everyone's, the group's, the officer's, the admin's alone and in the group
                if len(menus()) >= 5 * 3:  # without a language, in Indonesian, in English
                    break
                await asyncio.sleep(0.01)
            await app.stop()

    try:
        asyncio.run(start_and_stop())
    finally:
        svc.close()
    assert len(menus()) == 5 * 3


def test_stopping_does_not_wait_for_menus_telegram_keeps_refusing(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'ska.db'}")
    svc = build_services(settings, matcher_later=True)
    api = FakeBotAPI()
    api.fail_next("setMyCommands", 502, count=1000)
    app = build_application(settings, request=FakeRequest(api), services=svc)

    async def start_and_stop() -> float:
        async with app:
            await app.start()
            for _ in range(500):
                if any(c.method == "setMyCommands" for c in api.calls):
                    break
                await asyncio.sleep(0.01)
            # retried for telegram.startup_retry_seconds (300 s): stop cuts that short
            loop = asyncio.get_running_loop()
            started = loop.time()
            await asyncio.wait_for(app.stop(), timeout=30)
            return loop.time() - started

    try:
        assert asyncio.run(start_and_stop()) < 5
    finally:
        svc.close()
    assert any(c.method == "setMyCommands" for c in api.calls)

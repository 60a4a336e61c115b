"""Fixtures: settings per database backend, and the real Application on a fake Bot API."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import build_application, post_init
from bot.config import Settings, parse_settings
from bot.services import Services, build_services
from bot.telegram.context import sender_of
from bot.telegram.sender import OutboxSender
from bot.testing import Call, EmptiedSchema, FakeBotAPI, FakeRequest, SqliteTemplate, pg_schema
from tests.knowledge_once import knowledge_once

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("SKA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OFFICER_ID = 9001
ADMIN_ID = 9002
OFFICERS_CHAT = -100777


@pytest.fixture(scope="session", autouse=True)
def _knowledge_once() -> Iterator[None]:
    with knowledge_once():
        yield


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema keeps a test (and developers' data) apart."""
    with pg_schema(POSTGRES_URL) as url:
        if url is None:
            pytest.skip(f"no PostgreSQL reachable at {POSTGRES_URL}")
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[EmptiedSchema]:
    """One schema for the run; see bot/testing/databases.py."""
    with postgres_schema() as url:
        schema = EmptiedSchema(url)
        yield schema
        schema.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own, empty, for the tests only PostgreSQL can run (several
    processes on one database)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that stores data runs on SQLite and on PostgreSQL, starting from a
    database at the newest schema with nothing in it."""
    if request.param == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("_sqlite_template")
        return template.copy(tmp_path / "ska.db")
    schema: EmptiedSchema = request.getfixturevalue("_postgres_schema")
    return schema.empty()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table yet, for what migrations do."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ska.db'}"
        return
    with postgres_schema() as url:
        yield url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    raw: dict[str, Any] = {
        "database": {"url": database_url},
        # without the national calendar: tests that count business time from "now" must
        # not change on a holiday (tests/test_calendar.py checks the national calendar)
        "office": {
            "name": "IPSKA Disdagperin Kalteng",
            "address": "Jl. Contoh 1",
            "phone": "0536-000000",
            "national_holidays": False,
        },
        "officers": {"chat_id": OFFICERS_CHAT, "user_ids": [OFFICER_ID]},
        "admins": {"user_ids": [ADMIN_ID]},
        # flows post many group messages within a minute; the group's pace has its own tests
        "outbox": {"group_per_minute": 600},
    }
    raw.update(overrides)
    return parse_settings(raw, env={})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    yield svc
    svc.close()


@dataclass
class BotHarness:
    """Drives the real Application: send what a user sends, read what the bot said."""

    app: Application
    api: FakeBotAPI
    services: Services

    @property
    def sender(self) -> OutboxSender:
        """The Application's outbox sender (its job is not running in these tests)."""
        return sender_of(self.app)

    async def feed(self, update: dict[str, Any]) -> list[Call]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return [c for c in self.api.calls[before:] if c.method.startswith(("send", "edit"))]

    async def say(self, text: str, user_id: int = 1001, **kw: Any) -> list[Call]:
        return await self.feed(self.api.message(user_id, text, **kw))

    async def press(
        self, data: str, user_id: int = 1001, message_id: int | None = None, **kw: Any
    ) -> list[Call]:
        """Press a button; by default on the bot's last message in that chat."""
        if message_id is None:
            chat = kw.get("chat_id", user_id)
            mine = [c for c in self.api.sent(chat) if isinstance(c.result, dict)]
            message_id = int(mine[-1].result["message_id"]) if mine else 1
        return await self.feed(self.api.callback(user_id, data, message_id=message_id, **kw))

    def answers_to_callbacks(self) -> list[Call]:
        return [c for c in self.api.calls if c.method == "answerCallbackQuery"]


def text_of(calls: list[Call]) -> str:
    return "\n".join(str(c.params.get("text") or c.params.get("caption") or "") for c in calls)


def buttons_of(calls: list[Call]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for call in calls:
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for b in row:
                found.append((b["text"], b.get("callback_data") or b.get("url") or ""))
    return found


async def start_harness(
    settings: Settings, services: Services, api: FakeBotAPI | None = None
) -> tuple[Application, FakeBotAPI]:
    api = api or FakeBotAPI()
    app = build_application(
        settings, request=FakeRequest(api), updates_request=FakeRequest(api), services=services
    )
    await app.initialize()
    await post_init(app)
    return app, api


@pytest.fixture
async def bot(settings: Settings, services: Services) -> AsyncIterator[BotHarness]:
    app, api = await start_harness(settings, services)
    try:
        yield BotHarness(app, api, services)
    finally:
        await app.shutdown()


@contextlib.asynccontextmanager
async def harness_with(database_url: str, **overrides: Any) -> AsyncIterator[BotHarness]:
    """A harness on settings with these overrides (make_settings), shut down afterwards."""
    services = build_services(make_settings(database_url, **overrides))
    app, api = await start_harness(services.settings, services)
    try:
        yield BotHarness(app, api, services)
    finally:
        await app.shutdown()
        services.close()


@pytest.fixture
async def unthrottled(database_url: str) -> AsyncIterator[BotHarness]:
    """The harness with the flood throttle out of the way: a test that opens every page,
    or runs several checks in a row, would trip it."""
    async with harness_with(database_url, throttle={"messages": 1000}) as bot:
        yield bot


async def restarted(bot: BotHarness) -> BotHarness:
    """The same database and Telegram, a new process: new services, new Application."""
    await bot.app.shutdown()
    bot.services.close()
    services = build_services(bot.services.settings)
    app, api = await start_harness(services.settings, services, bot.api)
    return BotHarness(app, api, services)


# the suites that start `python -m bot run` processes and time what they do
PROCESS_SUITES = (
    "test_faults",
    "test_e2e",
    "test_webhook",
    "test_multiprocess",
    "test_concurrency",
    "test_startup",
    "test_outage",
)


def _scope(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return "processes" if Path(module).stem in PROCESS_SUITES else module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pyproject.toml runs the suite on two pytest-xdist workers with ``--dist loadscope``
    (a module's tests stay together): here the process-level suites are one scope, so
    they run one after the other on one worker, as they would alone, while the other
    worker takes the rest. They start first (see below): they are the longest."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]  # no stubs

    class ProcessesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    config.option.loadscopereorder = False  # in collection order, processes first
    return ProcessesTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        items.sort(key=lambda item: _scope(item.nodeid) != "processes")

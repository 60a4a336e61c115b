"""What the tests, the bench scripts and the terminal chat share to run the bot without
Telegram: the fake Bot API (``bot.testing.fakeapi``) and throwaway databases."""

from bot.testing.databases import EmptiedSchema, SqliteTemplate, pg_schema
from bot.testing.fakeapi import (
    ApiError,
    Call,
    FakeBotAPI,
    FakeRequest,
    FakeTelegramServer,
    MessageOptions,
    SimulatedTimeout,
    bad_request,
    serve_http,
)

__all__ = [
    "ApiError",
    "bad_request",
    "Call",
    "EmptiedSchema",
    "FakeBotAPI",
    "FakeRequest",
    "FakeTelegramServer",
    "MessageOptions",
    "pg_schema",
    "serve_http",
    "SimulatedTimeout",
    "SqliteTemplate",
]

"""A fake Telegram Bot API for the tests, the terminal chat mode and end-to-end runs.

One :class:`FakeBotAPI` holds a bot's Telegram side (``state``: chats, messages, files;
``updates``: the queue getUpdates reads; ``methods``: the Bot API methods the bot calls,
checking what Telegram checks). :class:`FakeRequest` plugs it into python-telegram-bot
in-process (``request``); :func:`serve_http` serves the same fake over HTTP for a real
bot process (``server``).
"""

from bot.testing.fakeapi.api import FakeBotAPI
from bot.testing.fakeapi.request import FakeRequest
from bot.testing.fakeapi.server import FakeTelegramServer, serve_http
from bot.testing.fakeapi.state import ApiError, Call, SimulatedTimeout, bad_request
from bot.testing.fakeapi.updates import MessageOptions

__all__ = [
    "ApiError",
    "Call",
    "FakeBotAPI",
    "FakeRequest",
    "FakeTelegramServer",
    "MessageOptions",
    "SimulatedTimeout",
    "bad_request",
    "serve_http",
]

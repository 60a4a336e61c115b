"""Start-up against a Telegram that may not answer yet: retries with backoff."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError

log = logging.getLogger("bot.app")


class StartupError(Exception):
    """Telegram could not be reached within telegram.startup_retry_seconds."""


async def retry_startup(what: str, call: Callable[[], Awaitable[Any]], budget: float) -> Any:
    """Telegram unreachable at start-up (a network blip, a 5xx) is retried with backoff,
    one log line per retry, for `budget` seconds; a refused token is not retried."""
    deadline = time.monotonic() + budget
    delay = 1.0
    while True:
        try:
            return await call()
        except (InvalidToken, BadRequest):
            raise
        except RetryAfter as exc:
            retry = exc.retry_after
            wait = retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)
            error: TelegramError = exc
        except (NetworkError, TelegramError) as exc:
            wait, error = delay, exc
            delay = min(delay * 2, 30.0)
        left = deadline - time.monotonic()
        if left <= 0:
            raise StartupError(
                f"Telegram did not answer {what} for {budget:g} s (last error: {error})"
            ) from None
        wait = min(wait, left)
        log.warning("start-up: %s failed (%s); retrying in %.0f s", what, error, wait)
        await asyncio.sleep(wait)

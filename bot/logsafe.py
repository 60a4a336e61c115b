"""Secrets never reach a log: every log record is scrubbed as it is created.

Bot API URLs carry the token (https://api.telegram.org/bot<TOKEN>/getMe), and httpx
logs every URL at INFO; PTB puts the token in InvalidToken's message. Raising the
level of a few loggers only works until someone turns on DEBUG, and a filter on a
handler misses every other handler (pytest's, journald's). A record factory sees every
record of every logger, before any handler does.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

MASK = "***"
# shorter pieces could be ordinary words; a bot token's secret part is 35 characters
MIN_LENGTH = 8

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def protect(*secrets: str | None) -> None:
    """Mask these values (and a bot token's secret part after ':') in all later records."""
    global _installed
    pieces = set()
    for secret in secrets:
        if not secret:
            continue
        pieces.add(secret)
        if ":" in secret:
            pieces.add(secret.split(":", 1)[1])
    pieces = {p for p in pieces if len(p) >= MIN_LENGTH}
    with _lock:
        _secrets.update(pieces)
        if _installed or not _secrets:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _scrub(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True


def redact(text: str) -> str:
    # longest first: the whole token before its secret part
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _leaks(text: str) -> bool:
    return any(secret in text for secret in _secrets)


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it when it is emitted
        return record
    if _leaks(message):
        record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if _leaks(text):
            # formatters print exc_text when it is set instead of formatting exc_info again
            record.exc_text = redact(text)
    if record.stack_info and _leaks(record.stack_info):
        record.stack_info = redact(record.stack_info)
    return record

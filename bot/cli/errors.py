"""Failures of a command, said in one or two plain lines that name what to fix.

The admin at the terminal needs the setting or file to fix, not a traceback; the
traceback goes to the log at debug level (SKA_LOG_LEVEL=DEBUG shows it).
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.db import safe_url as safe_url  # re-exported: the URL as it may be shown
from bot.db import url_secrets

log = logging.getLogger("bot")
DEBUG_HINT = "details: SKA_LOG_LEVEL=DEBUG"

# (pattern in the driver's message, what to tell the admin)
_DATABASE_REASONS = (
    (r"connection refused", "connection refused (is the server running, at that host and port?)"),
    (r"password authentication failed|authentication failed", "the server refused the user or password"),
    (r"no password supplied", "the server wants a password; put it in the URL"),
    (r'database "[^"]+" does not exist', None),
    (r'role "[^"]+" does not exist', None),
    (
        r"could not translate host name|name or service not known|nodename nor servname",
        "the host name is not known",
    ),
    (r"timeout|timed out", "no answer from the server (timed out)"),
    (
        r"unable to open database file",
        "cannot open the SQLite file (does its folder exist, and may this user write there?)",
    ),
    (r"database is locked", "the SQLite file is locked by another process"),
    (r"file is not a database|file is encrypted", "the file is not an SQLite database"),
    (r"permission denied", "permission denied"),
)


def database_problem(exc: SQLAlchemyError, url: str) -> str:
    """One line: which database could not be used and why, without the password."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    message = str(orig or exc)
    reason = None
    for pattern, text in _DATABASE_REASONS:
        found = re.search(pattern, message, re.IGNORECASE)
        if found:
            reason = text or found.group(0)
            break
    if reason is None:
        first = message.strip().splitlines()[0] if message.strip() else type(orig).__name__
        reason = first[:200]
    # a driver may quote the connection string; never show its password
    for password in url_secrets(url):
        reason = reason.replace(password, "***")
    return f"database error: cannot use {safe_url(url)}: {reason}; check database.url (or SKA_DATABASE_URL)"


def unexpected(exc: BaseException, command: str) -> str:
    """For what nothing else explains: the kind of failure, and where the details are."""
    log.debug("%s failed", command, exc_info=exc)
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"error: {command} failed: {type(exc).__name__}{': ' + text if text else ''} ({DEBUG_HINT})"

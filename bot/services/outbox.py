"""The persistent outbox: every notification is a row first, then a Telegram message.

Rows are written in the same transaction as the change they announce, so a crash can
never lose a notification. The sender marks a row `sending` before the Bot API call and
`sent` after it: a process that dies between the two leaves a `sending` row, which is
sent again after restart (at most one duplicate per crash, never a loss).

Several processes may drain one PostgreSQL outbox: each claims a small batch with
`SELECT ... FOR UPDATE SKIP LOCKED`, so a row is claimed by exactly one of them. A claim
lasts CLAIM_SECONDS (stored in next_attempt_at); a claim that outlives it belongs to a
dead process and any process takes the row again. SQLite has no SKIP LOCKED: there the
claim's conditional UPDATE ... RETURNING is what keeps two drains apart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.db import Database
from bot.models import OutboxMessage, User, utcnow

log = logging.getLogger(__name__)
PENDING, SENDING, SENT, FAILED, UNREACHABLE = "pending", "sending", "sent", "failed", "unreachable"
MAX_ATTEMPTS = 8
# longer than any one send with PTB's timeouts, so a live process never loses its claim
CLAIM_SECONDS = 60.0


def priority_of(kind: str) -> int:
    """Bulk messages go after everything else: an exporter waiting for a status change or
    an officer's reply must not wait behind a broadcast to every exporter."""
    return 1 if kind == "broadcast" or kind.startswith("reminder_") else 0


def enqueue(session: Session, chat_id: int, text: str, *, kind: str = "notice",
            markup: InlineKeyboardMarkup | None = None, dedupe_key: str | None = None,
            not_before: dt.datetime | None = None) -> OutboxMessage | None:
    """Queue a message in the caller's transaction; None if dedupe_key was queued before."""
    if dedupe_key is not None:
        exists = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    row = OutboxMessage(
        chat_id=chat_id, text=text, kind=kind, priority=priority_of(kind),
        dedupe_key=dedupe_key,
        reply_markup=json.dumps(markup.to_dict()) if markup is not None else None,
        next_attempt_at=not_before or utcnow(),
    )
    session.add(row)
    return row


@dataclass
class RateLimits:
    overall_per_second: float = 25.0
    per_chat_per_second: float = 1.0


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    retried: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    """Drains due rows at the configured rate; safe to call again at any time."""

    def __init__(self, db: Database, limits: RateLimits | None = None,
                 clock: Callable[[], dt.datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.limits = limits or RateLimits()
        self.clock = clock
        self.monotonic = monotonic
        self._last_global = 0.0
        self._last_by_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        # called as (session, row, final status) when a row ends unreachable or failed,
        # so features can react (e.g. tell officers a ticket reply was not delivered)
        self.listeners: list[Callable[[Session, OutboxMessage, str], None]] = []
        # per kind: given now, the time a row of that kind must wait for, or None. Checked
        # when the row is sent, not only when queued: a backlog must not carry a reminder
        # into the exporters' night
        self.holds: dict[str, Callable[[dt.datetime], dt.datetime | None]] = {}

    def recover(self) -> int:
        """At start-up: rows left `sending` by a dead process go out again.

        Only expired claims: another live process may be sending the others right now.
        """
        with self.db.session() as s:
            result = s.execute(update(OutboxMessage).where(
                OutboxMessage.status == SENDING, OutboxMessage.next_attempt_at <= self.clock())
                .values(status=PENDING))
            return result.rowcount or 0

    def backlog(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_((PENDING, SENDING)))) or 0

    def _claim(self, limit: int) -> list[OutboxMessage]:
        """Take up to `limit` due rows for this process (status `sending`, claim expiry)."""
        now = self.clock()
        due = and_(or_(OutboxMessage.status == PENDING, OutboxMessage.status == SENDING),
                   OutboxMessage.next_attempt_at <= now)
        with self.db.session() as s:
            pick = (select(OutboxMessage.id).where(due)
                    .order_by(OutboxMessage.priority, OutboxMessage.id).limit(limit))
            if s.get_bind().dialect.name == "postgresql":
                # rows another process is claiming right now are skipped, not waited for
                pick = pick.with_for_update(skip_locked=True)
            ids = list(s.scalars(pick))
            if not ids:
                return []
            claimed = list(s.scalars(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
                .values(status=SENDING, attempts=OutboxMessage.attempts + 1,
                        next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS))
                .returning(OutboxMessage.id)))
            return list(s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                                  .order_by(OutboxMessage.priority, OutboxMessage.id)))

    def _release(self, row_ids: list[int]) -> None:
        """Claimed rows the budget did not reach go back, as if never tried."""
        if not row_ids:
            return
        with self.db.session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(row_ids),
                                                  OutboxMessage.status == SENDING)
                      .values(status=PENDING, attempts=OutboxMessage.attempts - 1,
                              next_attempt_at=self.clock()))

    async def _pace(self, chat_id: int) -> None:
        """Wait until both the overall and the per-chat rate allow one more message."""
        gap = 1.0 / self.limits.overall_per_second
        chat_gap = 1.0 / self.limits.per_chat_per_second
        while True:
            now = self.monotonic()
            wait = max(self._paused_until - now, self._last_global + gap - now,
                       self._last_by_chat.get(chat_id, -1e9) + chat_gap - now)
            if wait <= 0:
                self._last_global = now
                self._last_by_chat[chat_id] = now
                return
            await asyncio.sleep(wait)

    async def drain(self, bot: Bot, budget_seconds: float = 5.0, batch: int = 200) -> DrainResult:
        """Send what is due for up to `budget_seconds`; returns what happened."""
        result = DrainResult()
        if self._lock.locked():
            return result
        async with self._lock:
            deadline = self.monotonic() + budget_seconds
            while self.monotonic() < deadline:
                # claim no more than the rate lets out before the deadline: the rest stays
                # free for other processes
                room = math.ceil(self.limits.overall_per_second
                                 * (deadline - self.monotonic()))
                rows = self._claim(max(1, min(batch, room)))
                if not rows:
                    break
                # a chat that got a message less than a second ago waits its turn, others go
                rows.sort(key=lambda r: (r.priority, self._last_by_chat.get(r.chat_id, -1e9)))
                for index, row in enumerate(rows):
                    if self.monotonic() >= deadline:
                        self._release([r.id for r in rows[index:]])
                        break
                    hold = self.holds.get(row.kind)
                    now = self.clock()
                    until = hold(now) if hold is not None else None
                    if until is not None:
                        self._finish(row.id, PENDING, error=f"held until {until:%Y-%m-%d %H:%M}Z",
                                     delay=(until - now).total_seconds(), count_attempt=False)
                        result.held += 1
                        continue
                    await self._pace(row.chat_id)
                    await self._send_one(bot, row, result)
        return result

    async def _send_one(self, bot: Bot, row: OutboxMessage, result: DrainResult) -> None:
        markup = (InlineKeyboardMarkup.de_json(json.loads(row.reply_markup), bot)
                  if row.reply_markup else None)
        try:
            message = await bot.send_message(row.chat_id, row.text, parse_mode=ParseMode.HTML,
                                             reply_markup=markup, disable_web_page_preview=True)
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            self._paused_until = self.monotonic() + delay
            self._finish(row.id, PENDING, error=f"retry after {delay:g}s", delay=delay,
                         count_attempt=False)
            result.retried += 1
        except Forbidden as exc:
            self._finish(row.id, UNREACHABLE, error=str(exc))
            self._mark_blocked(row.chat_id)
            result.unreachable += 1
        except BadRequest as exc:       # before NetworkError: BadRequest subclasses it
            self._finish(row.id, FAILED, error=str(exc))
            result.failed += 1
            result.errors.append(str(exc))
        except (NetworkError, TelegramError) as exc:
            attempts = row.attempts         # the claim counted this one
            if attempts >= MAX_ATTEMPTS:
                self._finish(row.id, FAILED, error=str(exc))
                result.failed += 1
            else:
                self._finish(row.id, PENDING, error=str(exc), delay=min(2.0 ** attempts, 300.0))
                result.retried += 1
        else:
            with self.db.session() as s:
                s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                    status=SENT, sent_at=self.clock(), telegram_message_id=message.message_id,
                    last_error=None))
            result.sent += 1

    def _finish(self, row_id: int, status: str, *, error: str, delay: float = 0.0,
                count_attempt: bool = True) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error[:500],
                                  "next_attempt_at": self.clock() + dt.timedelta(seconds=delay)}
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        with self.db.session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))
            if status in (FAILED, UNREACHABLE) and self.listeners:
                row = s.get(OutboxMessage, row_id)
                for listener in self.listeners:
                    listener(s, row, status)

    def _mark_blocked(self, chat_id: int) -> None:
        with self.db.session() as s:
            s.execute(update(User).where(User.id == chat_id, User.blocked_at.is_(None))
                      .values(blocked_at=self.clock()))


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)

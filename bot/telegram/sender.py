"""The outbox sender: claims rows from the queue (bot/services/outbox.py), makes their Bot
API calls at Telegram's pace and records what became of each.

Sends overlap: each Bot API call is a round trip to Telegram (often 100 ms or more), so
one at a time could never reach the configured rate. The pace is decided when a call
starts (the overall rate, each chat's limit); up to `max_in_flight` calls (half a
second's worth of the overall rate) are under way at once, never two to the same chat,
so a chat's messages still arrive in order. A chat that must wait is left out of the
claim instead of holding up the others. The price: a crash may send again up to
`max_in_flight` rows that were sent but not yet recorded (a row is never lost).

Rows are Telegram HTML by the outbox's contract, so every call names the parse mode
itself: the sender may be handed a Bot without the Application's defaults (bench, tools).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.models import OutboxMessage
from bot.services.outbox import MEDIA_METHODS, WAKEUPS, Keyboard, Outbox, Pacer
from bot.telegram import api

log = logging.getLogger(__name__)
# a claim takes about a second's worth of rows: a reply queued meanwhile waits at most that
CLAIM_SLICE_SECONDS = 1.0
# how often an idle sender looks for rows queued by other processes or due for a retry
IDLE_POLL_SECONDS = 1.0
# a row put back by a RetryAfter becomes due a moment after the pause it caused has ended
PAUSE_GRACE_SECONDS = 1.0
# calls under way at once: this many seconds' worth of the overall rate keeps the full
# rate up to that round-trip time to Telegram
IN_FLIGHT_SECONDS = 0.5
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# a keyboard kind's arguments -> its buttons (bot/telegram/keyboards.py::OUTBOX)
KeyboardRenderer = Callable[[Mapping[str, Any]], InlineKeyboardMarkup]


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    retried: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)


class _Unresolved(Exception):
    """The message a row edits is not known yet (its card is still on its way)."""


class OutboxSender:
    """Drains due rows at the configured pace; safe to call again at any time."""

    def __init__(self, outbox: Outbox, keyboards: Mapping[str, KeyboardRenderer] | None = None) -> None:
        self.outbox = outbox
        self.keyboards = dict(keyboards or {})
        self.max_in_flight = max_in_flight(outbox.limits.overall_per_second)
        self._lock = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # calls under way (started by a drain, awaited by whoever needs them finished)
        # and their chats: a chat gets its next row only once the last one is recorded
        self._in_flight: set[asyncio.Task[None]] = set()
        self._sending: set[int] = set()

    @property
    def pacer(self) -> Pacer:
        return self.outbox.pacer

    # -- waking ----------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were committed (in any thread): the running sender looks at once."""
        loop, event_ = self._loop, self._wake
        if loop is None or event_ is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(event_.set)
        except RuntimeError:
            pass  # the loop is shutting down

    async def run(self, bot: Bot, running: Callable[[], bool]) -> None:
        """The sender of a running bot: sends whatever is due, sleeps when nothing is."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        WAKEUPS.add(self.wake)
        try:
            while running():
                self._wake.clear()
                try:
                    # its calls may still be under way when it returns: the next slice
                    # starts sending meanwhile
                    started = await self._drain(bot, budget_seconds=1.0, result=DrainResult())
                except Exception:
                    log.exception("outbox: drain failed; trying again")
                    started = 0
                if started:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
                except TimeoutError:
                    pass
        finally:
            WAKEUPS.remove(self.wake)
            self._wake = None
            await self.settled()

    # -- pacing ----------------------------------------------------------------------------

    async def _pace(self, chat_id: int, deadline: float) -> float | None:
        """Wait until the overall limit allows one more message and count it for the
        chat; the time it was counted at. None: the chat must wait (it got a message
        meanwhile: its row goes back rather than hold up the others), or the overall
        pace allows nothing more before the deadline (which has come when this returns)."""
        monotonic, pacer = self.outbox.monotonic, self.pacer
        while True:
            now = monotonic()
            if chat_id in self._sending or pacer.chat_ready_at(chat_id, now) > now:
                return None
            at = pacer.ready_at(chat_id, now)
            if at <= now:
                pacer.record(chat_id, now)
                return now
            await asyncio.sleep(min(at, deadline) - now)
            if at >= deadline:
                return None

    def _busy(self, now: float) -> dict[int, float]:
        """Chats that may not be claimed now: their limit is spent, or a call to them is
        under way (the time given for those is a guess; they are looked at again)."""
        busy = self.pacer.busy_chats(now)
        for chat_id in self._sending:
            busy.setdefault(chat_id, now + 0.05)
        return busy

    def _wait_for_pace(self, busy: dict[int, float], now: float) -> float | None:
        """Seconds until a row that only the pace holds back may go: the first chat that
        must wait and has a row due, or a row put back by the pause Telegram asked for
        (RetryAfter); None when no row waits for either."""
        waits: list[float] = []
        if busy and self.outbox.waiting_in(busy):
            waits.append(min(busy.values()) - now)
        pause = self.pacer.paused_until - now
        if pause > -PAUSE_GRACE_SECONDS:
            after = self.outbox.seconds_to_next(max(pause, 0.0) + PAUSE_GRACE_SECONDS)
            if after is not None:
                waits.append(max(after, pause))
        return max(0.0, min(waits)) if waits else None

    # -- sending ---------------------------------------------------------------------------

    async def drain(self, bot: Bot, budget_seconds: float = 5.0, batch: int = 200) -> DrainResult:
        """Send what is due for up to `budget_seconds`, waiting for the pace (a chat's
        limit, a RetryAfter) within it; returns what happened, once every call it
        started was answered and recorded."""
        result = DrainResult()
        await self._drain(bot, budget_seconds, result, batch)
        await self.settled()
        return result

    async def settled(self) -> None:
        """Wait until every call under way was answered and recorded."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _drain(self, bot: Bot, budget_seconds: float, result: DrainResult, batch: int = 200) -> int:
        """Start the calls of what is due for up to `budget_seconds`; how many started."""
        if self._lock.locked():
            return 0
        started = 0
        async with self._lock:
            monotonic = self.outbox.monotonic
            deadline = monotonic() + budget_seconds
            while True:
                now = monotonic()
                if now >= deadline:
                    break
                busy = self._busy(now)
                room = math.ceil(
                    self.outbox.limits.overall_per_second * min(CLAIM_SLICE_SECONDS, deadline - now)
                )
                rows = self.outbox.claim(max(1, min(batch, room)), exclude=busy)
                if not rows:
                    wait = self._wait_for_pace(busy, now)
                    if wait is None and self._in_flight:
                        # a call under way may still end in a pause (RetryAfter) or a retry
                        # that falls due within the budget: see how it ends first
                        await asyncio.wait(
                            set(self._in_flight), timeout=deadline - now, return_when=asyncio.FIRST_COMPLETED
                        )
                        continue
                    if wait is None:
                        break
                    await asyncio.sleep(min(wait, deadline - now))
                    continue
                for index, row in enumerate(rows):
                    if self.outbox.hold(row):
                        result.held += 1
                        continue
                    while len(self._in_flight) >= self.max_in_flight:
                        await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                    stamp = await self._pace(row.chat_id, deadline)
                    if stamp is None and monotonic() >= deadline:
                        self.outbox.release([r.id for r in rows[index:]])
                        break
                    if stamp is None:
                        self.outbox.release([row.id])
                        continue
                    self._start(bot, row, result, stamp)
                    started += 1
        return started

    def _start(self, bot: Bot, row: OutboxMessage, result: DrainResult, stamp: float) -> None:
        self._sending.add(row.chat_id)
        task = asyncio.create_task(self._send_one(bot, row, result, stamp))
        self._in_flight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._in_flight.discard(finished)
            self._sending.discard(row.chat_id)
            if not finished.cancelled() and finished.exception() is not None:
                # the row stays claimed until its claim expires, then goes out again
                log.error("outbox row %d: sending failed", row.id, exc_info=finished.exception())

        task.add_done_callback(done)

    async def flush(self, bot: Bot, chat_ids: Iterable[int]) -> DrainResult:
        """One direct try for what is due in these chats, as far as the pace allows right
        now: a handler's own notices leave at once; what must wait stays for the sender."""
        result = DrainResult()
        now = self.outbox.monotonic()
        ready = [c for c in set(chat_ids) if c not in self._sending and self.pacer.can_take(c, now)]
        if not ready:
            return result
        for row in self.outbox.claim(len(ready), only=ready):
            if self.outbox.hold(row):
                result.held += 1
                continue
            stamp = self.outbox.monotonic()
            if row.chat_id in self._sending or not self.pacer.try_take(row.chat_id, stamp):
                self.outbox.release([row.id])
                continue
            self._sending.add(row.chat_id)
            try:
                await self._send_one(bot, row, result, stamp)
            finally:
                self._sending.discard(row.chat_id)
        return result

    def markup(self, row: OutboxMessage) -> InlineKeyboardMarkup | None:
        """The buttons a row is sent with."""
        if not row.reply_markup:
            return None
        stored = json.loads(row.reply_markup)
        keyboard = Keyboard.from_stored(stored)
        if keyboard is None:
            # queued before keyboards were data: Telegram's own JSON
            return InlineKeyboardMarkup.de_json(stored, None)
        render = self.keyboards.get(keyboard.kind)
        if render is None:
            # the text still matters more than its buttons
            log.error("outbox row %d: no renderer for keyboard %r; sent without it", row.id, keyboard.kind)
            return None
        return render(keyboard.args)

    async def _call(self, bot: Bot, row: OutboxMessage, payload: dict[str, Any]) -> int | None:
        """The Bot API call of one row; the message id it made (None: nothing to do)."""
        markup = self.markup(row)
        targets = self.outbox.targets(row, payload)
        reply = (
            ReplyParameters(message_id=targets.reply_to, allow_sending_without_reply=True)
            if targets.reply_to is not None
            else None
        )
        if row.method == "editMessageText":
            if targets.edit is None:
                raise _Unresolved()
            try:
                await bot.edit_message_text(
                    row.text,
                    chat_id=row.chat_id,
                    message_id=targets.edit,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                )
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
            return targets.edit
        if row.method in MEDIA_METHODS:
            send = bot.send_photo if row.method == "sendPhoto" else bot.send_document
            message = await send(
                row.chat_id,
                payload["file_id"],
                caption=row.text or None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=reply,
            )
            return message.message_id
        if row.method == "copyMessage":
            # our own caption (HTML) replaces the sender's, which would read as the bot's words
            copied = await bot.copy_message(
                row.chat_id,
                payload["from_chat_id"],
                payload["message_id"],
                caption=row.text or None,
                parse_mode=ParseMode.HTML,
                reply_parameters=reply,
            )
            return copied.message_id
        # Telegram's answer is read for the message id only (see bot/telegram/api.py)
        return await api.send_text(bot, row.chat_id, row.text, markup, targets.reply_to)

    async def _send_one(self, bot: Bot, row: OutboxMessage, result: DrainResult, stamp: float) -> None:
        payload: dict[str, Any] = json.loads(row.payload) if row.payload else {}
        outbox = self.outbox
        try:
            try:
                message_id = await self._call(bot, row, payload)
            finally:
                self.pacer.settle(row.chat_id, stamp, outbox.monotonic())
        except _Unresolved:
            if outbox.edit_target_missing(row):
                result.held += 1
            else:
                result.failed += 1
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            # the row first: it is due by the time the pause ends (see _wait_for_pace)
            outbox.retry_after(row, delay)
            self.pacer.paused_until = outbox.monotonic() + delay
            result.retried += 1
        except ChatMigrated as exc:
            # a group upgraded to a supergroup has a new id: nothing reaches the old one
            outbox.failed(row, str(exc))
            result.failed += 1
            log.error(
                "the group %d is now the supergroup %d: set officers.chat_id to %d and restart;"
                " outbox row %d not sent",
                row.chat_id,
                exc.new_chat_id,
                exc.new_chat_id,
                row.id,
            )
        except Forbidden as exc:
            outbox.unreachable(row, str(exc))
            result.unreachable += 1
            _lost_in_group(row, str(exc))
        except BadRequest as exc:  # before NetworkError: BadRequest subclasses it
            outbox.failed(row, str(exc))
            result.failed += 1
            result.errors.append(str(exc))
            _lost_in_group(row, str(exc))
        except (NetworkError, TelegramError) as exc:
            if outbox.retry_later(row, str(exc)):
                result.retried += 1
            else:
                result.failed += 1
                _lost_in_group(row, str(exc))
        else:
            outbox.sent(row, message_id, payload)
            result.sent += 1


def _lost_in_group(row: OutboxMessage, error: str) -> None:
    """A message to a group that Telegram refused for good: the officers' group is where
    tickets are worked, and a wrong officers.chat_id, or a bot removed from the group,
    would otherwise silence the help desk without a word to the admin."""
    if row.chat_id < 0:
        log.error(
            "outbox row %d (%s) to the group %d failed for good: %s", row.id, row.kind, row.chat_id, error
        )


def max_in_flight(overall_per_second: float) -> int:
    """Calls the sender has under way at most (and so the rows a crash may send twice)."""
    return max(1, math.ceil(overall_per_second * IN_FLIGHT_SECONDS))


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)

"""The persistent outbox: every message that is not the direct answer to an update is a
row first, then a Telegram message.

Rows are written in the same transaction as the change they announce, so a crash can
never lose a notification. The sender marks a row `sending` before the Bot API call and
`sent` after it: a process that dies between the two leaves a `sending` row, which is
sent again after restart (at most one duplicate per call under way at the crash, never
a loss).

A row is any Bot API call the bot makes on its own: a text (split into parts that fit
Telegram's limits when it is queued), a document or photo with its caption, a copy of an
exporter's message, or the edit of a ticket card. Rows with the same `coalesce_key` that
are still pending are one message: the newest text replaces the older.

Order and fairness: a claim takes at most one row per chat, the oldest of its highest
priority, and only when that row is due: messages leave in the order they were queued,
a retry included (per private chat and per ticket in a group, see `Outbox.claim`). It
skips the chats that may not receive a message yet. One chat's backlog therefore never
holds up another chat's message, and the pace is Telegram's: overall `rate_per_second`,
one message a second per chat, `group_per_minute` in a group.

Several processes may drain one PostgreSQL outbox: a claim is a conditional UPDATE of
rows still due, so a row is claimed by exactly one of them. A claim lasts CLAIM_SECONDS
(stored in next_attempt_at); a claim that outlives it belongs to a dead process and any
process takes the row again.

This module is the queue (what is due, in which order, at which pace, what became of a
row) and holds no Telegram: bot/telegram/sender.py claims rows from :class:`Outbox`, makes
the Bot API calls and records each outcome here. Buttons under a queued message are
stored as plain data (:class:`Keyboard`), which the sender renders when it sends the row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    String,
    and_,
    case,
    event,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import OutboxMessage, User, as_utc, utcnow
from bot.textsplit import TEXT_LIMIT, fit_caption, split_html

log = logging.getLogger(__name__)
PENDING, SENDING, SENT, FAILED, UNREACHABLE = "pending", "sending", "sent", "failed", "unreachable"
MAX_ATTEMPTS = 8
# longer than any one send with PTB's timeouts, so a live process never loses its claim
CLAIM_SECONDS = 60.0
# an edit whose card is still on its way waits this long before it looks again
UNRESOLVED_DELAY = 3.0
MEDIA_METHODS = ("sendDocument", "sendPhoto")
WINDOW_SLACK = 0.03
# round trips whose shortest tells how early a message may have arrived (Pacer.settle)
ROUND_TRIPS_KEPT = 50


def priority_of(kind: str) -> int:
    """Bulk messages go after everything else: an exporter waiting for a status change or
    an officer's reply must not wait behind a broadcast to every exporter."""
    return 1 if kind == "broadcast" or kind.startswith("reminder_") else 0


@dataclass(frozen=True)
class Keyboard:
    """Buttons under a queued message, as plain data: a kind and the JSON values it needs
    (a ticket id, a language). The sender renders it with the renderer registered for
    the kind (bot/app.py), so the button format lives with the Telegram code only."""

    kind: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"keyboard": self.kind, "args": dict(self.args)})

    @classmethod
    def from_stored(cls, data: Any) -> Keyboard | None:
        """The keyboard of a row's stored JSON; None for anything else (rows queued before
        keyboards were data hold Telegram's own reply_markup JSON)."""
        if isinstance(data, dict) and isinstance(data.get("keyboard"), str):
            args = data.get("args")
            return cls(data["keyboard"], args if isinstance(args, dict) else {})
        return None


class _Wakeups:
    """Senders waiting for new rows; rows queued in any thread wake them on commit."""

    def __init__(self) -> None:
        self._senders: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def add(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._senders.append(wake)

    def remove(self, wake: Callable[[], None]) -> None:
        with self._lock:
            if wake in self._senders:
                self._senders.remove(wake)

    def notify(self, _session: Session | None = None) -> None:
        with self._lock:
            senders = list(self._senders)
        for wake in senders:
            wake()


WAKEUPS = _Wakeups()


def _on_commit(session: Session) -> None:
    if not event.contains(session, "after_commit", WAKEUPS.notify):
        event.listen(session, "after_commit", WAKEUPS.notify, once=True)


def enqueue(
    session: Session,
    chat_id: int,
    text: str,
    *,
    kind: str = "notice",
    markup: Keyboard | None = None,
    dedupe_key: str | None = None,
    not_before: dt.datetime | None = None,
    method: str = "sendMessage",
    payload: dict[str, Any] | None = None,
    coalesce_key: str | None = None,
    ref: str | None = None,
) -> OutboxMessage | None:
    """Queue a message in the caller's transaction; None if dedupe_key was queued before.

    A text longer than Telegram allows becomes several rows, each valid HTML; the
    keyboard goes under the last, which is returned. A caption that does not fit keeps
    its first part and the rest follows as texts. A pending row with the same
    `coalesce_key` is updated instead of queueing another.
    """
    if dedupe_key is not None:
        found = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if found is not None:
            return None
    _on_commit(session)
    markup_json = markup.to_json() if markup is not None else None
    if coalesce_key is not None:
        pending = replace_pending(session, coalesce_key, text, markup, method)
        if pending is not None:
            return pending
    values, main = row_values(
        chat_id,
        text,
        kind=kind,
        markup_json=markup_json,
        dedupe_key=dedupe_key,
        due=not_before or utcnow(),
        method=method,
        payload=payload,
        coalesce_key=coalesce_key,
        ref=ref,
    )
    rows = [OutboxMessage(**v) for v in values]
    session.add_all(rows)
    return rows[main]


def row_values(
    chat_id: int,
    text: str,
    *,
    kind: str,
    markup_json: str | None,
    dedupe_key: str | None,
    due: dt.datetime,
    method: str = "sendMessage",
    payload: dict[str, Any] | None = None,
    coalesce_key: str | None = None,
    ref: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The outbox rows one message becomes, as column values, and the index of the one
    that carries the keyboard, the keys and the hooks; `enqueue` adds them one by one, a
    bulk writer (the reminder pass) inserts many messages' rows at once."""
    texts: list[str]
    if method == "sendMessage":
        texts = split_html(text)
    elif method in MEDIA_METHODS:
        caption, extra = fit_caption(text)
        texts = [caption] + extra
    elif method == "editMessageText":
        # an edit cannot grow into two messages: whoever renders a card keeps it short
        texts = [split_html(text, TEXT_LIMIT)[0]]
    else:
        texts = [text]
    # the part that carries the keyboard, the keys and the hooks: a text's last part, a
    # document's caption
    main = 0 if method in MEDIA_METHODS else len(texts) - 1
    follow = {"reply_to": payload["reply_to"]} if payload and "reply_to" in payload else None
    values: list[dict[str, Any]] = []
    for index, part in enumerate(texts):
        is_main = index == main
        part_payload = payload if is_main else follow
        values.append(
            {
                "chat_id": chat_id,
                "text": part,
                "kind": kind,
                "priority": priority_of(kind),
                "method": method if is_main or method == "sendMessage" else "sendMessage",
                "dedupe_key": dedupe_key if is_main else None,
                "reply_markup": markup_json if is_main else None,
                "payload": json.dumps(part_payload) if part_payload else None,
                "coalesce_key": coalesce_key if is_main else None,
                "ref": ref,
                "next_attempt_at": due,
            }
        )
    return values, main


def replace_pending(
    session: Session, coalesce_key: str, text: str, markup: Keyboard | None, method: str | None = None
) -> OutboxMessage | None:
    """The newest pending row with this key (and method) takes the new text and buttons;
    None if there is none. A pending row is one message: it leaves with the latest state."""
    query = select(OutboxMessage).where(
        OutboxMessage.coalesce_key == coalesce_key, OutboxMessage.status == PENDING
    )
    if method is not None:
        query = query.where(OutboxMessage.method == method)
    if session.get_bind().dialect.name == "postgresql":
        # a drain that claims it meanwhile waits for this transaction, then sends the new
        # text; one that claimed it first makes this query find nothing
        query = query.with_for_update()
    pending = session.scalars(query.order_by(OutboxMessage.id.desc())).first()
    if pending is not None:
        # one message, whatever it is: an edit or a card's post never grows into two
        pending.text = split_html(text)[0] if pending.method != "copyMessage" else text
        pending.reply_markup = markup.to_json() if markup is not None else None
    return pending


@dataclass
class RateLimits:
    overall_per_second: float = 25.0
    per_chat_per_second: float = 1.0
    group_per_minute: float = 20.0


class _Window:
    """At most `count` events in any `period` seconds (a sliding window)."""

    def __init__(self, count: int, period: float) -> None:
        self.count = count
        self.period = period
        self.times: deque[float] = deque()

    def ready_at(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        return now if len(self.times) < self.count else self.times[0] + self.period

    def record(self, now: float) -> None:
        self.times.append(now)

    def settle(self, stamp: float, arrived: float) -> None:
        """The send counted at `stamp` arrived (at the latest) at `arrived`: count it
        from then."""
        for i in range(len(self.times) - 1, -1, -1):
            if self.times[i] == stamp:
                self.times[i] = max(stamp, arrived)
                return


class Pacer:
    """Telegram's limits, in this process: overall, per private chat, per group.

    Group chats have negative ids on Telegram: a private chat gets one message every
    1/per_chat_per_second seconds, a group `group_per_minute` in any minute.
    """

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        rate = limits.overall_per_second
        count = max(1, math.floor(rate))
        # the window is the guarantee (never more than the rate in any second); the gap
        # spreads the messages over the second instead of sending them in one burst
        # 30 ms more per window: Telegram counts when a message arrives, and arrival
        # times jitter by a few milliseconds around our send times
        self._global = _Window(count, count / rate + WINDOW_SLACK)
        self._gap = 1.0 / rate
        self._next = 0.0
        self._chats: dict[int, list[_Window]] = {}
        self.paused_until = 0.0
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)

    def _windows(self, chat_id: int) -> list[_Window]:
        windows = self._chats.get(chat_id)
        if windows is None:
            if chat_id < 0:
                per_minute = self.limits.group_per_minute
                count = max(1, math.floor(per_minute))
                windows = [_Window(count, 60.0 * count / per_minute + WINDOW_SLACK)]
            else:
                windows = [_Window(1, 1.0 / self.limits.per_chat_per_second + WINDOW_SLACK)]
            self._chats[chat_id] = windows
        return windows

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        windows = self._chats.get(chat_id)
        if windows is None:
            return now
        return max(w.ready_at(now) for w in windows)

    def ready_at(self, chat_id: int, now: float) -> float:
        return max(
            self.paused_until, self._next, self._global.ready_at(now), self.chat_ready_at(chat_id, now)
        )

    def settle(self, chat_id: int, stamp: float, done: float) -> None:
        """The send counted when it started (`stamp`) was answered at `done`.

        Telegram counts a message when it arrives, somewhere between the two. Counting
        it at `done` would be safe but costs a whole round trip in every window (at
        100 ms, a tenth of the rate); counting it at `stamp` trusts the network to be
        as fast for the next message as for this one. It is counted at `done` less the
        shortest recent round trip: the answer took at least that long to come back
        and the next message takes at least that long to arrive, so a message that was
        slow to arrive still holds back the next one, and on a steady network the
        pace is the configured one."""
        self._round_trips.append(done - stamp)
        arrived = done - min(self._round_trips)
        self._global.settle(stamp, arrived)
        for window in self._chats.get(chat_id, ()):
            window.settle(stamp, arrived)

    def record(self, chat_id: int, now: float) -> None:
        # a send a little late lets the next one catch up by one gap, no more: the rate
        # is kept on average without drifting below it
        self._next = max(self._next, now - self._gap) + self._gap
        self._global.record(now)
        for window in self._windows(chat_id):
            window.record(now)

    def can_take(self, chat_id: int, now: float, overall: bool = True) -> bool:
        """Whether one message may go now, without the smoothing gap (a handler's own
        message is never held for a fraction of a second); `overall=False` is for direct
        replies, which Telegram counts per chat only."""
        limits = [self.chat_ready_at(chat_id, now), self.paused_until]
        if overall:
            limits.append(self._global.ready_at(now))
        return max(limits) <= now

    def try_take(self, chat_id: int, now: float, overall: bool = True) -> bool:
        """Count one message now if can_take allows it; never waits."""
        if not self.can_take(chat_id, now, overall):
            return False
        if overall:
            self.record(chat_id, now)
        else:
            for window in self._windows(chat_id):
                window.record(now)
        return True

    def busy_chats(self, now: float) -> dict[int, float]:
        """Chats that may not get a message yet, with the time they may."""
        busy: dict[int, float] = {}
        for chat_id in list(self._chats):
            at = self.chat_ready_at(chat_id, now)
            if at > now:
                busy[chat_id] = at
            elif all(not w.times for w in self._chats[chat_id]):
                del self._chats[chat_id]  # forgotten once idle: memory stays flat
        return busy


Resolver = Callable[[Session, OutboxMessage, int], int | None]
SentHook = Callable[[Session, OutboxMessage, int, int], None]


@dataclass(frozen=True)
class Targets:
    """The messages a row refers to, found when it is sent: the one it replies to and the
    one it edits (a card posted after the row was queued)."""

    reply_to: int | None
    edit: int | None


class Outbox:
    """The queue the sender drains: claims (fair across chats), Telegram's pace, and what
    became of each row. Safe to use from several processes on one database."""

    def __init__(
        self,
        db: Database,
        limits: RateLimits | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.limits = limits or RateLimits()
        self.clock = clock
        self.monotonic = monotonic
        self.pacer = Pacer(self.limits)
        # called as (session, row, final status) when a row ends unreachable or failed,
        # so features can react (e.g. tell officers a ticket reply was not delivered)
        self.listeners: list[Callable[[Session, OutboxMessage, str], None]] = []
        # per kind: given now, the time a row of that kind must wait for, or None. Checked
        # when the row is sent, not only when queued: a backlog must not carry a reminder
        # into the exporters' night
        self.holds: dict[str, Callable[[dt.datetime], dt.datetime | None]] = {}
        # payload {"reply_to": {name: value}} / {"edit": {name: value}}: name -> the
        # message id in the row's chat, found when the row is sent (a card posted after
        # the row was queued)
        self.resolvers: dict[str, Resolver] = {}
        # payload {"on_sent": [name, value]}: name -> hook(session, row, value, message id)
        self.on_sent: dict[str, SentHook] = {}
        # users this process just found blocked: their next message (which means they
        # unblocked the bot) refreshes their account at once
        self.marked_blocked: set[int] = set()
        # chats with a message of theirs waiting here for a retry: a direct reply to them
        # queues behind it rather than overtake it (see `behind`)
        self._lagging: set[int] = set()

    # -- the table -------------------------------------------------------------------------

    def recover(self) -> int:
        """At start-up: rows left `sending` by a dead process go out again.

        Only expired claims: another live process may be sending the others right now.
        """
        with self.db.session() as s:
            result = cast(
                CursorResult[Any],
                s.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.status == SENDING, OutboxMessage.next_attempt_at <= self.clock())
                    .values(status=PENDING)
                ),
            )
            return result.rowcount or 0

    def backlog(self) -> int:
        with self.db.session() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_((PENDING, SENDING)))
                )
                or 0
            )

    def _due(self, now: dt.datetime) -> Any:
        return and_(
            or_(OutboxMessage.status == PENDING, OutboxMessage.status == SENDING),
            OutboxMessage.next_attempt_at <= now,
        )

    def claim(
        self, limit: int, exclude: Iterable[int] = (), only: Iterable[int] | None = None
    ) -> list[OutboxMessage]:
        """Take up to `limit` due rows, at most one per chat: the first of a line, and
        only when that one is due.

        Messages leave in the order they were queued, a retry included: a row waiting to
        be tried again (or in flight in another process) holds back the rows behind it in
        its line, so a follow-up never overtakes its ticket card after a Telegram
        failure. A private chat is one line (the exporter reads one conversation); in a
        group each ticket is a line of its own (`ref`), so one failing message does not
        stall the officers' whole group, and a row without a ref waits for nobody; the
        group's turn goes to its shortest line first (a flood in one ticket waits). Bulk
        rows (broadcasts, reminders) hold back nothing while they wait: a reminder held
        for the night must not hold back an officer's broadcast."""
        now = self.clock()
        where = [
            OutboxMessage.status.in_((PENDING, SENDING)),
            or_(OutboxMessage.priority == 0, OutboxMessage.next_attempt_at <= now),
        ]
        excluded = list(exclude)
        if excluded:
            where.append(OutboxMessage.chat_id.not_in(excluded))
        if only is not None:
            where.append(OutboxMessage.chat_id.in_(list(only)))
        line = case(
            (OutboxMessage.chat_id > 0, literal("")),
            else_=func.coalesce(OutboxMessage.ref, sql_cast(OutboxMessage.id, String)),
        )
        order = (OutboxMessage.priority, OutboxMessage.id)
        place = func.row_number().over(partition_by=(OutboxMessage.chat_id, line), order_by=order)
        waiting = func.count().over(partition_by=(OutboxMessage.chat_id, line))
        lined = (
            select(
                OutboxMessage.id,
                OutboxMessage.chat_id,
                OutboxMessage.priority,
                OutboxMessage.next_attempt_at,
                place.label("place"),
                waiting.label("waiting"),
            )
            .where(*where)
            .subquery()
        )
        # the heads of the lines that may go now, then the first of them in each chat: the
        # shortest line first, so that one exporter flooding a ticket does not hold every
        # other ticket's card behind it at the group's 20 a minute
        turn = func.row_number().over(
            partition_by=lined.c.chat_id, order_by=(lined.c.priority, lined.c.waiting, lined.c.id)
        )
        heads = (
            select(lined.c.id, lined.c.priority, turn.label("turn"))
            .where(lined.c.place == 1, lined.c.next_attempt_at <= now)
            .subquery()
        )
        pick = select(heads.c.id).where(heads.c.turn == 1).order_by(heads.c.priority, heads.c.id).limit(limit)
        due = self._due(now)
        with self.db.session() as s:
            ids = list(s.scalars(pick))
            if not ids:
                return []
            # still due: another process may have claimed some of them since
            claimed = list(
                s.scalars(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), due)
                    .values(
                        status=SENDING,
                        attempts=OutboxMessage.attempts + 1,
                        next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS),
                    )
                    .returning(OutboxMessage.id)
                )
            )
            rows = list(
                s.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id.in_(claimed))
                    .order_by(OutboxMessage.priority, OutboxMessage.id)
                )
            )
            s.expunge_all()
            return rows

    def waiting_in(self, chats: Iterable[int]) -> bool:
        """Whether any of these chats has a row due now."""
        with self.db.session() as s:
            return bool(
                s.scalar(
                    select(exists().where(self._due(self.clock()), OutboxMessage.chat_id.in_(list(chats))))
                )
            )

    def seconds_to_next(self, within: float) -> float | None:
        """Seconds until the next pending row that is not due yet becomes due, if that is
        within `within` seconds; None otherwise."""
        now = self.clock()
        with self.db.session() as s:
            first = as_utc(
                s.scalar(
                    select(func.min(OutboxMessage.next_attempt_at)).where(
                        OutboxMessage.status == PENDING,
                        OutboxMessage.next_attempt_at > now,
                        OutboxMessage.next_attempt_at <= now + dt.timedelta(seconds=within),
                    )
                )
            )
        if first is None:
            return None
        return max(0.0, (first - now).total_seconds())

    def release(self, row_ids: list[int]) -> None:
        """Claimed rows the budget did not reach go back, as if never tried."""
        if not row_ids:
            return
        with self.db.session() as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == SENDING)
                .values(status=PENDING, attempts=OutboxMessage.attempts - 1, next_attempt_at=self.clock())
            )

    def hold(self, row: OutboxMessage) -> bool:
        """Put a row back until its kind may be sent (quiet hours); False if it may go now."""
        hold = self.holds.get(row.kind)
        now = self.clock()
        until = hold(now) if hold is not None else None
        if until is None:
            return False
        self._finish(
            row.id,
            PENDING,
            error=f"held until {until:%Y-%m-%d %H:%M}Z",
            delay=(until - now).total_seconds(),
            count_attempt=False,
        )
        return True

    def targets(self, row: OutboxMessage, payload: Mapping[str, Any]) -> Targets:
        if "reply_to" not in payload and "edit" not in payload:
            return Targets(None, None)  # most rows: no transaction for nothing
        with self.db.session() as s:
            reply_to = self._resolve(s, row, payload.get("reply_to"))
            edit = self._resolve(s, row, payload["edit"]) if "edit" in payload else None
        return Targets(reply_to, edit)

    def _resolve(self, s: Session, row: OutboxMessage, spec: Any) -> int | None:
        if isinstance(spec, int):
            return spec
        if isinstance(spec, dict) and len(spec) == 1:
            ((name, value),) = spec.items()
            resolver = self.resolvers.get(name)
            if resolver is not None and isinstance(value, int):
                return resolver(s, row, value)
        return None

    def fell_behind(self, chat_id: int) -> None:
        """A message to this private chat waits here for a retry (in a group, a direct
        reply answers an officer's command: it is in no ticket's line)."""
        if chat_id > 0 and len(self._lagging) < 100_000:
            self._lagging.add(chat_id)

    def behind(self, chat_id: int) -> bool:
        """Whether a message to this chat still waits here (queued, retried or in flight),
        so that the next one must queue behind it to arrive in order. Asks the database
        only for chats this process saw fall behind: a reply to anyone else costs nothing."""
        if chat_id not in self._lagging:
            return False
        with self.db.session() as s:
            waiting = s.scalar(
                select(
                    exists().where(
                        OutboxMessage.chat_id == chat_id,
                        OutboxMessage.status.in_((PENDING, SENDING)),
                        OutboxMessage.priority == 0,
                    )
                )
            )
        if not waiting:
            self._lagging.discard(chat_id)
        return bool(waiting)

    # -- what became of a row ----------------------------------------------------------------

    def sent(self, row: OutboxMessage, message_id: int | None, payload: Mapping[str, Any]) -> None:
        with self.db.session() as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status=SENT, sent_at=self.clock(), telegram_message_id=message_id, last_error=None)
            )
            hook = payload.get("on_sent")
            if message_id is not None and isinstance(hook, list) and len(hook) == 2:
                found = self.on_sent.get(hook[0])
                if found is not None:
                    found(s, row, hook[1], message_id)

    def retry_after(self, row: OutboxMessage, seconds: float) -> None:
        """Telegram asked to wait: the row waits as long, without using up a try."""
        self._finish(row.id, PENDING, error=f"retry after {seconds:g}s", delay=seconds, count_attempt=False)
        if row.priority == 0:
            self.fell_behind(row.chat_id)

    def unreachable(self, row: OutboxMessage, error: str) -> None:
        """The chat blocked the bot (or is gone): the row ends, the user is marked."""
        self._finish(row.id, UNREACHABLE, error=error)
        if row.chat_id > 0 and len(self.marked_blocked) < 100_000:
            self.marked_blocked.add(row.chat_id)
        with self.db.session() as s:
            s.execute(
                update(User)
                .where(User.id == row.chat_id, User.blocked_at.is_(None))
                .values(blocked_at=self.clock())
            )

    def failed(self, row: OutboxMessage, error: str) -> None:
        """Refused for good (a bad request): never tried again."""
        self._finish(row.id, FAILED, error=error)

    def retry_later(self, row: OutboxMessage, error: str) -> bool:
        """A passing failure (5xx, a timeout): tried again after a growing pause, until
        MAX_ATTEMPTS; False once the row has failed for good."""
        attempts = row.attempts  # the claim counted this one
        if attempts >= MAX_ATTEMPTS:
            self._finish(row.id, FAILED, error=error)
            return False
        self._finish(row.id, PENDING, error=error, delay=min(2.0**attempts, 300.0))
        if row.priority == 0:
            self.fell_behind(row.chat_id)
        return True

    def edit_target_missing(self, row: OutboxMessage) -> bool:
        """The message a row edits is not known yet; False once the row has failed for good."""
        if self._target_on_its_way(row):
            # the card is still being posted (a 5xx, a 429 may hold it for minutes):
            # the edit waits for it without using up its tries
            self._finish(
                row.id,
                PENDING,
                error="waiting for the message to edit",
                delay=UNRESOLVED_DELAY,
                count_attempt=False,
            )
            return True
        if row.attempts >= MAX_ATTEMPTS:
            self._finish(row.id, FAILED, error="the message to edit was never posted")
            return False
        self._finish(row.id, PENDING, error="waiting for the message to edit", delay=UNRESOLVED_DELAY)
        return True

    def _target_on_its_way(self, row: OutboxMessage) -> bool:
        """Whether the message this edit changes is still queued (same coalesce key)."""
        if row.coalesce_key is None:
            return False
        with self.db.session() as s:
            return bool(
                s.scalar(
                    select(
                        exists().where(
                            OutboxMessage.coalesce_key == row.coalesce_key,
                            OutboxMessage.method == "sendMessage",
                            OutboxMessage.status.in_((PENDING, SENDING)),
                        )
                    )
                )
            )

    def _finish(
        self, row_id: int, status: str, *, error: str, delay: float = 0.0, count_attempt: bool = True
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "last_error": error[:500],
            "next_attempt_at": self.clock() + dt.timedelta(seconds=delay),
        }
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        with self.db.session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))
            if status in (FAILED, UNREACHABLE) and self.listeners:
                row = s.get(OutboxMessage, row_id)
                if row is not None:
                    for listener in self.listeners:
                        listener(s, row, status)

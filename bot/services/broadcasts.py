"""Officers' announcements to exporters: draft, audience, preview, queue, summary."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.i18n import t
from bot.models import Broadcast, OutboxMessage, SkaApplication, User, utcnow
from bot.services.applications import OPEN_STATUSES
from bot.services.notemarks import marked_line
from bot.services.outbox import FAILED, PENDING, SENDING, SENT, UNREACHABLE, enqueue
from bot.services.users import EXPORTER
from bot.text import escape as esc
from bot.text import format_number

ALL, OPEN, COMMODITY = "all", "open", "commodity"
DRAFT, QUEUED, DONE, CANCELLED = "draft", "queued", "done", "cancelled"
MAX_TEXT = 3500  # the header and escaping must still fit in 4096 characters
MAX_COMMODITIES = 8


class BroadcastError(Exception):
    """A refusal; `key`/`values` render it from the catalog, an int is a count (see text)."""

    def __init__(self, key: str, **values: str | int) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def text(self, lang: str) -> str:
        """The refusal in the reader's language, its counts written that language's way
        (7.199 / 7,199)."""
        values = {k: format_number(v, lang, 0) if isinstance(v, int) else v for k, v in self.values.items()}
        return t(self.key, lang, **values)


@dataclass(frozen=True)
class BroadcastView:
    id: int
    author_id: int
    chat_id: int
    text: str
    audience: str
    commodity: str | None
    commodities: tuple[str, ...]
    status: str
    reachable: int  # who would get it now (or got it queued)
    blocked: int  # who blocked the bot earlier: counted as unreachable


@dataclass(frozen=True)
class Summary:
    sent: int
    failed: int
    unreachable: int
    pending: int


class BroadcastService:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def _audience(self, s: Session, b: Broadcast) -> list[tuple[int, str, bool]]:
        """(user id, language, blocked?) of every exporter in the broadcast's audience."""
        query = select(User.id, User.language, User.blocked_at.is_not(None)).where(User.role == EXPORTER)
        if b.audience == OPEN:
            query = query.where(
                User.company_id.in_(
                    select(SkaApplication.company_id).where(SkaApplication.status.in_(OPEN_STATUSES))
                )
            )
        elif b.audience == COMMODITY:
            query = query.where(
                User.company_id.in_(
                    select(SkaApplication.company_id).where(
                        func.lower(SkaApplication.commodity) == (b.commodity or "").lower()
                    )
                )
            )
        return [(uid, lang, bool(blocked)) for uid, lang, blocked in s.execute(query.order_by(User.id))]

    def _view(self, s: Session, b: Broadcast) -> BroadcastView:
        if b.status == DRAFT:
            people = self._audience(s, b)
            reachable = sum(1 for p in people if not p[2])
            blocked = len(people) - reachable
        else:
            reachable, blocked = b.recipients, b.skipped_blocked
        return BroadcastView(
            b.id,
            b.author_id,
            b.chat_id,
            b.text,
            b.audience,
            b.commodity,
            tuple(json.loads(b.commodities)),
            b.status,
            reachable,
            blocked,
        )

    def _own(self, s: Session, broadcast_id: int, author_id: int) -> Broadcast:
        b = s.get(Broadcast, broadcast_id, with_for_update=True)
        if b is None:
            raise BroadcastError("bc_button_invalid")
        if b.author_id != author_id:
            raise BroadcastError("bc_not_yours")
        if b.status != DRAFT:
            raise BroadcastError("bc_not_draft")
        return b

    def draft(self, author_id: int, chat_id: int, text: str) -> BroadcastView:
        text = text.strip()
        # invisible characters alone (zero-width, direction marks) would go out as a blank
        if not any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
            raise BroadcastError("bc_usage")
        if marked_line(text) is not None:
            # officers learn on tickets that // keeps a line in the office: here it would
            # reach every exporter
            raise BroadcastError("bc_internal")
        if len(text) > MAX_TEXT:
            raise BroadcastError("bc_too_long", limit=MAX_TEXT, length=len(text))
        with self.db.session() as s:
            # the most frequent commodities become buttons; frozen here so a button's index
            # means the same commodity however the data changes before it is pressed
            names = s.execute(
                select(SkaApplication.commodity, func.count())
                .where(SkaApplication.commodity != "")
                .group_by(SkaApplication.commodity)
                .order_by(func.count().desc(), SkaApplication.commodity)
                .limit(MAX_COMMODITIES)
            )
            b = Broadcast(
                author_id=author_id,
                chat_id=chat_id,
                text=text,
                audience=ALL,
                commodities=json.dumps([n for n, _ in names]),
                created_at=self.clock(),
            )
            s.add(b)
            s.flush()
            return self._view(s, b)

    def choose(self, broadcast_id: int, author_id: int, choice: str) -> tuple[BroadcastView, bool]:
        """choice: 'all', 'open' or 'c<index of the commodity button>'; with whether the
        audience changed (the option already chosen changes nothing)."""
        with self.db.session() as s:
            b = self._own(s, broadcast_id, author_id)
            commodities = json.loads(b.commodities)
            before = (b.audience, b.commodity)
            if choice in (ALL, OPEN):
                b.audience, b.commodity = choice, None
            elif choice[:1] == "c" and choice[1:].isdecimal() and int(choice[1:]) < len(commodities):
                b.audience, b.commodity = COMMODITY, commodities[int(choice[1:])]
            else:
                raise BroadcastError("bc_button_invalid")
            s.flush()
            return self._view(s, b), (b.audience, b.commodity) != before

    def cancel(self, broadcast_id: int, author_id: int) -> BroadcastView:
        with self.db.session() as s:
            b = self._own(s, broadcast_id, author_id)
            b.status = CANCELLED
            return self._view(s, b)

    def send(self, broadcast_id: int, author_id: int) -> BroadcastView:
        """Queue one outbox row per reachable recipient, in one transaction with the status."""
        with self.db.session() as s:
            b = self._own(s, broadcast_id, author_id)
            # a second press (or a second process) finds the status already changed
            claimed = cast(
                CursorResult[Any],
                s.execute(
                    update(Broadcast)
                    .where(Broadcast.id == b.id, Broadcast.status == DRAFT)
                    .values(status=QUEUED, queued_at=self.clock())
                ),
            )
            if claimed.rowcount != 1:
                raise BroadcastError("bc_not_draft")
            s.refresh(b)
            texts: dict[str, str] = {}
            reachable = blocked = 0
            for uid, lang, was_blocked in self._audience(s, b):
                if was_blocked:
                    blocked += 1
                    continue
                if lang not in texts:
                    texts[lang] = f"{t('bc_header', lang)}\n\n{esc(b.text)}"
                if enqueue(s, uid, texts[lang], kind="broadcast", dedupe_key=f"bc:{b.id}:{uid}") is not None:
                    reachable += 1
            b.recipients, b.skipped_blocked = reachable, blocked
            s.flush()
            return self._view(s, b)

    def summary(self, broadcast_id: int) -> Summary:
        with self.db.session() as s:
            b = s.get(Broadcast, broadcast_id)
            if b is None:
                raise BroadcastError("bc_button_invalid")
            return self._summary(s, b)

    def _summary(self, s: Session, b: Broadcast) -> Summary:
        counts = dict(
            s.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.dedupe_key.like(f"bc:{b.id}:%"))
                .group_by(OutboxMessage.status)
            ).all()
        )
        return Summary(
            counts.get(SENT, 0),
            counts.get(FAILED, 0),
            counts.get(UNREACHABLE, 0) + b.skipped_blocked,
            counts.get(PENDING, 0) + counts.get(SENDING, 0),
        )

    def finish(self) -> list[int]:
        """Job: broadcasts with nothing left to send are done; their author gets a summary."""
        finished: list[int] = []
        with self.db.session() as s:
            for b in s.scalars(select(Broadcast).where(Broadcast.status == QUEUED)):
                summary = self._summary(s, b)
                if summary.pending:
                    continue
                done = cast(
                    CursorResult[Any],
                    s.execute(
                        update(Broadcast)
                        .where(Broadcast.id == b.id, Broadcast.status == QUEUED)
                        .values(status=DONE, done_at=self.clock())
                    ),
                )
                if done.rowcount != 1:
                    continue
                lang = s.scalar(select(User.language).where(User.id == b.author_id)) or "id"
                enqueue(
                    s,
                    b.chat_id,
                    t(
                        "bc_summary",
                        lang,
                        id=b.id,
                        sent=summary.sent,
                        failed=summary.failed,
                        unreachable=summary.unreachable,
                    ),
                    kind="broadcast_summary",
                    dedupe_key=f"bc-summary:{b.id}",
                )
                finished.append(b.id)
        return finished

"""Where an exporter's next private message belongs, decided by one query.

Every private message an exporter sends is either a FAQ question or part of something
already open: a /cek check waiting on an answer, an open ticket, a rating comment. The
three are read together, in one statement without a transaction around it, because this
runs for every message and each round trip to PostgreSQL costs about 0.4 ms here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, bindparam, exists, select

from bot.db import Database
from bot.models import PrecheckSession, Ticket, as_utc, utcnow
from bot.services.precheck import waiting_step
from bot.services.tickets import ACTIVE


@dataclass(frozen=True)
class Conversation:
    check_step: str | None  # the question an open /cek check waits on
    open_ticket: int | None  # the exporter's open ticket that takes follow-ups
    comment_pending: bool  # a rated ticket waits for the optional comment


class ConversationLookup:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        user = bindparam("user_id", type_=BigInteger)
        open_ticket = (
            select(Ticket.id)
            .where(Ticket.user_id == user, Ticket.status.in_(ACTIVE), Ticket.exporter_attached.is_(True))
            .order_by(Ticket.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        comment = exists().where(Ticket.user_id == user, Ticket.rating_comment == "")
        check = (
            select(PrecheckSession.step, PrecheckSession.updated_at)
            .where(PrecheckSession.user_id == user)
            .subquery()
        )
        # built once: constructing it is most of the cost of running it on SQLite
        self._query = db.prepare(
            select(
                open_ticket.label("ticket"),
                comment.label("comment"),
                select(check.c.step).scalar_subquery().label("step"),
                select(check.c.updated_at).scalar_subquery().label("step_at"),
            )
        )

    def of(self, user_id: int) -> Conversation:
        row = self._query.one(user_id=user_id)
        assert row is not None  # a SELECT of scalar subqueries always has its one row
        ticket, comment, step, step_at = row
        waiting = waiting_step(step, as_utc(step_at), self.clock()) if step else None
        return Conversation(waiting, ticket, bool(comment))

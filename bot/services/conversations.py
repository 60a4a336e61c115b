"""Where an exporter's next private message belongs, decided by one query.

Every private message an exporter sends is either a FAQ question or part of something
already open: a /cek check waiting on an answer, an open ticket, a rating comment. The
three are read together, in one statement without a transaction around it, because this
runs for every message and each round trip to PostgreSQL costs about 0.4 ms here. On
PostgreSQL the same read reserves the message's question-log id (see DeferredLog).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Sequence, bindparam, func, select

from bot.db import Database
from bot.models import PrecheckSession, QueryLog, Ticket, as_utc, utcnow
from bot.services.precheck import waiting_step
from bot.services.tickets import ACTIVE


@dataclass(frozen=True)
class Conversation:
    check_step: str | None  # the question an open /cek check waits on
    open_ticket: int | None  # the exporter's open ticket that takes follow-ups
    # a rated ticket waits for the optional comment: when that ticket was closed
    comment_closed_at: dt.datetime | None
    # PostgreSQL: a query_log id reserved for the message, should it be a question (its
    # row is then written with the update id, after the reply: AnswerService._log)
    query_id: int | None = None


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
        comment = (
            select(func.max(Ticket.closed_at))
            .where(Ticket.user_id == user, Ticket.rating_comment == "")
            .scalar_subquery()
        )
        check = (
            select(PrecheckSession.step, PrecheckSession.updated_at)
            .where(PrecheckSession.user_id == user)
            .subquery()
        )
        columns = [
            open_ticket.label("ticket"),
            comment.label("comment"),
            select(check.c.step).scalar_subquery().label("step"),
            select(check.c.updated_at).scalar_subquery().label("step_at"),
        ]
        if not db.local:
            # most messages are questions, and a question's log row needs an id before
            # the reply (the 👍/👎 buttons name it): taken here, in the same round trip,
            # the row can wait to be written with the update id (one round trip saved)
            columns.append(Sequence(f"{QueryLog.__tablename__}_id_seq").next_value().label("query_id"))
        # built once: constructing it is most of the cost of running it on SQLite
        self._query = db.prepare(select(*columns))

    def of(self, user_id: int) -> Conversation:
        row = self._query.one(user_id=user_id)
        assert row is not None  # a SELECT of scalar subqueries always has its one row
        ticket, comment, step, step_at = row[:4]
        waiting = waiting_step(step, as_utc(step_at), self.clock()) if step else None
        return Conversation(waiting, ticket, as_utc(comment), row[4] if len(row) > 4 else None)

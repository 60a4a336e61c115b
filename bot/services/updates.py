"""Telegram delivers updates at least once: remember handled update ids for a while.

An id is checked before the handlers (`seen`) and recorded after them (`first_time`), on
PostgreSQL together with the update's question-log row (one round trip for both).
Telegram learns that an update arrived only once it was handled (a polled batch is
confirmed then, a webhook request answered then), so an update cut off by a crash comes
again and is handled again, and a copy of a handled one is skipped. See
bot.app.HelpDeskApplication.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, func, insert, select

from bot.db import Database
from bot.models import ProcessedUpdate, QueryLog, utcnow

# Telegram keeps an unconfirmed update for 24 hours; twice that is safely past redelivery
KEEP = dt.timedelta(hours=48)
# the column is a BIGINT; Telegram's ids are positive and far below this
MAX_ID = 2**63 - 1


def valid_id(update_id: object) -> bool:
    """Whether an update id is what Telegram sends: a whole number in the column's range.
    A forged webhook body may say "abc" or 2**70; stored, the first broke every later
    duplicate check (text compared with numbers), the second could not be stored."""
    return isinstance(update_id, int) and not isinstance(update_id, bool) and 0 <= update_id <= MAX_ID


class UpdateLog:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        # built once, run for every update (building it cost more than running it)
        record = (
            db.insert(ProcessedUpdate)
            .values(update_id=bindparam("update_id"), at=bindparam("at"))
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(ProcessedUpdate.update_id)
        )
        self._record = db.prepare(record)
        # PostgreSQL: the update's question-log row in the same statement (a data-modifying
        # CTE), so an FAQ question costs one write round trip, not two
        self._record_with_question = None
        if not db.local:
            columns = QueryLog.__table__.c
            logged = insert(QueryLog).values(**{c.name: bindparam(f"q_{c.name}") for c in columns})
            self._record_with_question = db.prepare(record.add_cte(logged.cte("logged")))
        # Telegram's update ids only grow: an id above the highest this process has seen
        # recorded cannot be a duplicate, which spares one query for nearly every update
        self._highest: int | None = None

    @property
    def records_questions(self) -> bool:
        """Whether first_time can write a question-log row with the id."""
        return self._record_with_question is not None

    def first_time(self, update_id: int, question: Mapping[str, Any] | None = None) -> bool:
        """Record the id, and with it (records_questions) the update's question-log row,
        written whether or not the id was new; False if the id was recorded before (a
        duplicate delivery)."""
        # RETURNING, not rowcount: psycopg reports -1 for this INSERT on PostgreSQL
        if question is not None:
            assert self._record_with_question is not None
            values = {f"q_{name}": value for name, value in question.items()}
            inserted = self._record_with_question.one(update_id=update_id, at=self.clock(), **values)
        else:
            inserted = self._record.one(update_id=update_id, at=self.clock())
        if inserted is not None and self._highest is not None:
            self._highest = max(self._highest, update_id)
        return inserted is not None

    def seen(self, update_id: int) -> bool:
        """Whether the id was recorded (handled) before."""
        if self._highest is not None and update_id > self._highest:
            return False  # no connection needed: nearly every update leaves here
        with self.db.session() as s:
            if self._highest is None:
                # a row an earlier version stored from a forged body ("abc": on SQLite a
                # text sorts above every number) must not stand as the highest id
                highest = select(func.max(ProcessedUpdate.update_id)).where(
                    ProcessedUpdate.update_id.between(0, MAX_ID)
                )
                found = s.scalar(highest)
                self._highest = found if isinstance(found, int) else 0
            if update_id > self._highest:
                return False
            return s.get(ProcessedUpdate, update_id) is not None

    def prune(self, keep: dt.timedelta = KEEP) -> int:
        with self.db.session() as s:
            result = cast(
                CursorResult[Any],
                s.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < self.clock() - keep)),
            )
            return result.rowcount or 0

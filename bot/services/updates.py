"""Telegram delivers updates at least once: remember handled update ids for a while.

The id is recorded before the handlers run, not after: PTB confirms a polled batch to
Telegram as soon as it fetched it (and a webhook answers 200 on receipt), so an update
cut off by a crash is not delivered again anyway; recording first is what stops two
processes (or a redelivery racing the first copy) from both handling it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import Database
from bot.models import ProcessedUpdate, utcnow

# Telegram keeps an unconfirmed update for 24 hours; twice that is safely past redelivery
KEEP = dt.timedelta(hours=48)


class UpdateLog:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert

    def first_time(self, update_id: int) -> bool:
        """Record the id; False if it was recorded before (a duplicate delivery)."""
        with self.db.session() as s:
            # RETURNING, not rowcount: psycopg reports -1 for this INSERT on PostgreSQL
            inserted = s.scalar(self._insert(ProcessedUpdate)
                                .values(update_id=update_id, at=self.clock())
                                .on_conflict_do_nothing(index_elements=["update_id"])
                                .returning(ProcessedUpdate.update_id))
            return inserted is not None

    def prune(self, keep: dt.timedelta = KEEP) -> int:
        with self.db.session() as s:
            result = s.execute(delete(ProcessedUpdate).where(
                ProcessedUpdate.at < self.clock() - keep))
            return result.rowcount or 0

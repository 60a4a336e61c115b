"""Job leases: a periodic job runs in one process per period, whichever process wins.

Several bot processes may share one PostgreSQL database. Each job asks for a named lease
before it works; the lease is a row (name, holder, expires_at) taken with one atomic
INSERT ... ON CONFLICT DO NOTHING or a conditional UPDATE, so exactly one process gets
it until it expires. A lease is not released at the end of a run: keeping it until it
expires is what makes the job run once per period. A dead holder's lease simply expires.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update

from bot.db import Database
from bot.models import JobLease, utcnow
from bot.models import as_utc as _aware

# one identity per process: a restarted process is a new holder and waits for expiry
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leases:
    def __init__(self, db: Database, holder: str = HOLDER, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.holder = holder
        self.clock = clock

    def acquire(self, name: str, seconds: float) -> bool:
        """True if this holder now has the lease `name` for `seconds` from now."""
        now = self.clock()
        until = now + dt.timedelta(seconds=seconds)
        with self.db.session() as s:
            created = s.scalar(
                self.db.insert(JobLease)
                .values(name=name, holder=self.holder, expires_at=until)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(JobLease.name)
            )
            if created is not None:
                return True
            # PostgreSQL re-checks this WHERE after waiting for a concurrent taker's row
            # lock, so two processes cannot both see the old lease as expired
            taken = cast(
                CursorResult[Any],
                s.execute(
                    update(JobLease)
                    .where(
                        JobLease.name == name, or_(JobLease.expires_at <= now, JobLease.holder == self.holder)
                    )
                    .values(holder=self.holder, expires_at=until)
                ),
            )
            return taken.rowcount == 1

    def holder_of(self, name: str) -> str | None:
        with self.db.session() as s:
            lease = s.get(JobLease, name)
            if lease is None or _aware(lease.expires_at) <= self.clock():
                return None
            return lease.holder

"""One open check per user, kept in the database so it survives restarts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete

from bot.db import Database
from bot.models import PrecheckSession, utcnow
from bot.services.precheck.model import SUMMARY

# an open check stops claiming the user's text after a day of silence: they moved on
IDLE_LIMIT = dt.timedelta(hours=24)
# A step's follow-up question (after «Other country», "which country?") is stored in the
# step column as "destination:other_country": it is part of the question the check waits
# on, so it lives and ends with that step. A flag kept beside the check (it was a
# user_state key) outlived it: after «Other country» and /batal, the next check took
# any misspelt country as a name typed on purpose.
_FOLLOW_UP = ":"


def waiting_step(step: str, updated_at: dt.datetime, now: dt.datetime) -> str | None:
    """The question a check waits on: none once it reached the summary or went idle
    (then the user's text is a question for the FAQ again)."""
    step = step.partition(_FOLLOW_UP)[0]
    if step == SUMMARY or now - updated_at > IDLE_LIMIT:
        return None
    return step


@dataclass(frozen=True)
class CheckState:
    step: str
    answers: dict[str, str]
    updated_at: dt.datetime
    # a follow-up question of `step` the next text answers (flow.OTHER_COUNTRY), if any
    follow_up: str | None = None


class PrecheckStore:
    """The PrecheckSession table: survives restarts, one row per user."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: int) -> CheckState | None:
        with self.db.session() as s:
            row = s.get(PrecheckSession, user_id)
            if row is None:
                return None
            updated = row.updated_at
            if updated.tzinfo is None:  # SQLite hands back naive UTC
                updated = updated.replace(tzinfo=dt.UTC)
            step, _, follow_up = row.step.partition(_FOLLOW_UP)
            if waiting_step(step, updated, utcnow()) is None:
                # an idle (or paused) check is resumed with its step's own question
                follow_up = ""
            return CheckState(step, json.loads(row.answers or "{}"), updated, follow_up or None)

    def save(self, user_id: int, step: str, answers: Mapping[str, str], follow_up: str | None = None) -> None:
        """Store the question the check waits on. Every save without `follow_up` ends
        the one before: a new check, a resumed one, the next step or an edited one."""
        with self.db.session() as s:
            row = s.get(PrecheckSession, user_id)
            if row is None:
                row = PrecheckSession(user_id=user_id)
                s.add(row)
            row.step = step if follow_up is None else f"{step}{_FOLLOW_UP}{follow_up}"
            row.answers = json.dumps(dict(answers), ensure_ascii=False)
            row.updated_at = utcnow()

    def pause(self, user_id: int) -> bool:
        """Stop an open check from taking the chat's texts, as an idle one does: /cek
        resumes it where it was. Used when a ticket opens, whose messages come first."""
        with self.db.session() as s:
            row = s.get(PrecheckSession, user_id)
            if row is None or row.step == SUMMARY:
                return False
            # resumed with /cek, the step asks its own question again
            row.step = row.step.partition(_FOLLOW_UP)[0]
            row.updated_at = utcnow() - IDLE_LIMIT - dt.timedelta(minutes=1)
            return True

    def delete(self, user_id: int) -> bool:
        with self.db.session() as s:
            # a DELETE's result is a cursor result, which SQLAlchemy's stubs do not infer
            result = cast(
                CursorResult[Any],
                s.execute(delete(PrecheckSession).where(PrecheckSession.user_id == user_id)),
            )
            return result.rowcount > 0

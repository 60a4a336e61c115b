"""Linking a Telegram account to a company with a one-time code."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from bot.db import Database
from bot.models import Company, LinkAttempt, LinkCode, SkaApplication, User, utcnow
from bot.models import as_utc as _aware

# no 0/O, 1/I/L: codes are read aloud on the phone and typed on small keyboards
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_FAILURES = 5
LOCK_WINDOW = dt.timedelta(hours=1)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@dataclass(frozen=True)
class LinkResult:
    outcome: str  # linked | invalid | expired | used | locked
    company: str | None = None
    locked_until: dt.datetime | None = None


class LinkService:
    def __init__(self, db: Database, code_ttl: dt.timedelta = dt.timedelta(days=7), clock=utcnow) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.code_ttl = code_ttl
        self.clock = clock

    def create_code(self, nib: str, created_by: int | None) -> tuple[str, Company] | None:
        """A new single-use code for the company with that NIB (None if unknown)."""
        with self.db.session() as s:
            company = s.scalar(select(Company).where(Company.nib == nib.strip()))
            if company is None:
                return None
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            now = self.clock()
            s.add(
                LinkCode(
                    code_hash=hash_code(code),
                    company_id=company.id,
                    created_by=created_by,
                    created_at=now,
                    expires_at=now + self.code_ttl,
                )
            )
            return code, company

    def locked_until(self, user_id: int) -> dt.datetime | None:
        now = self.clock()
        with self.db.session() as s:
            failures = list(
                s.scalars(
                    select(LinkAttempt.at)
                    .where(LinkAttempt.user_id == user_id, LinkAttempt.at > now - LOCK_WINDOW)
                    .order_by(LinkAttempt.at)
                )
            )
        if len(failures) < MAX_FAILURES:
            return None
        until = _aware(failures[MAX_FAILURES - 1]) + LOCK_WINDOW
        return until if until > now else None

    def redeem(self, user_id: int, code: str) -> LinkResult:
        """Link the account if the code is valid, unused and unexpired and not locked out."""
        until = self.locked_until(user_id)
        if until is not None:
            return LinkResult("locked", locked_until=until)
        now = self.clock()
        with self.db.session() as s:
            row = s.scalar(select(LinkCode).where(LinkCode.code_hash == hash_code(code)).with_for_update())
            outcome = (
                "invalid"
                if row is None
                else "used"
                if row.used_at is not None
                else "expired"
                if _aware(row.expires_at) <= now
                else "linked"
            )
            if outcome == "used" and row is not None and row.used_by == user_id:
                # the exporter opened their own invitation again: no failed attempt
                user = s.get(User, user_id)
                if user is not None and user.company_id == row.company_id:
                    return LinkResult("already", company=s.get_one(Company, row.company_id).name)
            if outcome != "linked":
                s.add(LinkAttempt(user_id=user_id, at=now))
            else:
                assert row is not None
                # the code's company exists: a foreign key keeps it
                company = s.get_one(Company, row.company_id)
                row.used_at, row.used_by = now, user_id
                user = s.get(User, user_id) or User(id=user_id)
                user.company_id, user.linked_at = company.id, now
                s.add(user)
                s.execute(delete(LinkAttempt).where(LinkAttempt.user_id == user_id))
                return LinkResult("linked", company=company.name)
        if outcome != "linked" and self.locked_until(user_id) is not None:
            return LinkResult(outcome, locked_until=self.locked_until(user_id))
        return LinkResult(outcome)

    def unlink(self, user_id: int) -> str | None:
        """Remove the link; returns the company name it had, if any."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or user.company_id is None:
                return None
            name = s.get_one(Company, user.company_id).name
            s.execute(update(User).where(User.id == user_id).values(company_id=None, linked_at=None))
            return name

    def linked_count_by_ref(self, ref: str) -> int:
        """How many accounts a status change of this application reaches."""
        with self.db.session() as s:
            company_id = select(SkaApplication.company_id).where(SkaApplication.ref == ref).scalar_subquery()
            return s.scalar(select(func.count()).select_from(User).where(User.company_id == company_id)) or 0

"""Linking a Telegram account to a company with a one-time code."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import Company, LinkAttempt, LinkCode, SkaApplication, User, utcnow
from bot.models import as_utc as _aware

log = logging.getLogger(__name__)

# no 0/O, 1/I/L: codes are read aloud on the phone and typed on small keyboards
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_FAILURES = 5
LOCK_WINDOW = dt.timedelta(hours=1)
# what people put inside a code: spaces (typed in groups of five, copied from WhatsApp,
# with the invisible zero-width ones a copy may bring along), dots and dashes (also the
# long ones a phone keyboard makes of "-"); none is in ALPHABET, so taking them out never
# turns one code into another
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u200b-\u200d\u2060\ufeff]+")
_CODE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")


def normalize_code(text: str) -> str:
    """A code as typed or pasted, in the form it was issued: separators out, capitals.
    Folding the case is safe: the alphabet has capitals only, and without I, L and O no
    small letter could stand for another character."""
    return _SEPARATORS.sub("", text).upper()


def looks_like_code(text: str) -> bool:
    """Whether a message is a link code and nothing else (pasted without /link): of the
    codes' alphabet and length once separators are out, with a digit and a letter as
    every code has (new_code). Pure, no database. A word ("pembayaran", "PERUSAHAAN")
    has no digit and a number has no letter, so neither is taken for a code."""
    code = normalize_code(text)
    return (
        _CODE.fullmatch(code) is not None
        and any(ch.isdigit() for ch in code)
        and any(ch.isalpha() for ch in code)
    )


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def new_code() -> str:
    """A random code with at least one digit and one letter, so that a bare code can be
    told from a word or a number (one draw in twenty is drawn again: under a tenth of a
    bit of the code's 49)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if looks_like_code(code):
            return code


@dataclass(frozen=True)
class LinkResult:
    # linked | already | confirm (the account is another company's: move it?) | moved |
    # kept (the move was declined) | invalid | expired | used | locked
    outcome: str
    company: str | None = None
    locked_until: dt.datetime | None = None
    # confirm, kept: the company the account is linked to; moved: the one it left
    previous: str | None = None
    # confirm: the code the move button names (checked against the presser)
    code_id: int | None = None


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
            code = new_code()
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
        """Link the account if the code is valid, unused and unexpired and not locked out.
        An account linked to another company is not moved yet: "confirm" asks first."""
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
                user = s.get(User, user_id)
                if user is not None and user.company_id not in (None, row.company_id):
                    # an account sees one company's data: leaving the one it has (and its
                    # status pushes) is the exporter's choice, asked with a button that
                    # names this code; only this account's press counts (offered_to), and
                    # the code stays unused until then
                    row.offered_to = user_id
                    return LinkResult(
                        "confirm",
                        company=s.get_one(Company, row.company_id).name,
                        previous=s.get_one(Company, user.company_id).name,
                        code_id=row.id,
                    )
                return self._link(s, row, user_id, now)
        if outcome != "linked" and self.locked_until(user_id) is not None:
            return LinkResult(outcome, locked_until=self.locked_until(user_id))
        return LinkResult(outcome)

    def confirm_move(self, user_id: int, code_id: int) -> LinkResult:
        """The exporter pressed "move" under the question redeem's "confirm" asked:
        "invalid" unless the code was offered to this account (a forged or a stale
        button); pressed again once done (its answer lost on the way), the same answer."""
        now = self.clock()
        with self.db.session() as s:
            row = self._offered(s, code_id, user_id)
            if isinstance(row, LinkResult):
                return row
            if _aware(row.expires_at) <= now:
                return LinkResult("expired")
            return self._link(s, row, user_id, now)

    def _offered(self, s: Session, code_id: int, user_id: int) -> LinkCode | LinkResult:
        """The code offered to this account as a move (locked), or the answer when the
        press decides nothing: "invalid" for a forged or stale button, the move's own
        outcome when it was done already (a second press after a lost answer)."""
        row = s.get(LinkCode, code_id, with_for_update=True)
        if row is None or row.offered_to != user_id:
            return LinkResult("invalid")
        if row.used_at is not None:
            return self._done_before(s, row, user_id)
        return row

    def cancel_move(self, user_id: int, code_id: int) -> LinkResult:
        """The exporter declined the move: nothing changes, the code stays unused (and
        its move button no longer works)."""
        with self.db.session() as s:
            # "move" pressed first: what happened is said rather than "nothing changed"
            row = self._offered(s, code_id, user_id)
            if isinstance(row, LinkResult):
                return row
            row.offered_to = None
            user = s.get(User, user_id)
            current = s.get(Company, user.company_id) if user is not None and user.company_id else None
            return LinkResult("kept", previous=current.name if current else None)

    def _done_before(self, s: Session, row: LinkCode, user_id: int) -> LinkResult:
        """A code this account already used, pressed again: the move's answer once more."""
        user = s.get(User, user_id)
        if row.used_by != user_id or user is None or user.company_id != row.company_id:
            return LinkResult("used")
        company = s.get_one(Company, row.company_id).name
        left = s.get(Company, row.replaced_company_id) if row.replaced_company_id else None
        if left is None:
            return LinkResult("already", company=company)
        return LinkResult("moved", company=company, previous=left.name)

    def _link(self, s: Session, row: LinkCode, user_id: int, now: dt.datetime) -> LinkResult:
        """Spend the code on this account; the company it leaves, if any, is kept with the
        code (link_codes is the record of who linked to which company, when, from where)."""
        # the code's company exists: a foreign key keeps it
        company = s.get_one(Company, row.company_id)
        user = s.get(User, user_id) or User(id=user_id)
        left = s.get(Company, user.company_id) if user.company_id not in (None, company.id) else None
        row.used_at, row.used_by = now, user_id
        row.replaced_company_id = left.id if left is not None else None
        user.company_id, user.linked_at = company.id, now
        s.add(user)
        s.execute(delete(LinkAttempt).where(LinkAttempt.user_id == user_id))
        if left is None:
            return LinkResult("linked", company=company.name)
        log.info(
            "account %d moved from company %d to company %d (link code %d)",
            user_id,
            left.id,
            company.id,
            row.id,
        )
        return LinkResult("moved", company=company.name, previous=left.name)

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

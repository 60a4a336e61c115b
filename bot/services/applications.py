"""SKA applications: statuses and their rules, what exporters may see, status pushes."""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.i18n import t
from bot.models import Company, SkaApplication, StatusEvent, User, utcnow
from bot.services.notemarks import marked_line, visible
from bot.services.outbox import enqueue
from bot.text import escape, format_number

SUBMITTED, IN_REVIEW, RETURNED = "submitted", "in_review", "returned"
APPROVED, ISSUED, REJECTED, CANCELLED = "approved", "issued", "rejected", "cancelled"
STATUSES = (SUBMITTED, IN_REVIEW, RETURNED, APPROVED, ISSUED, REJECTED, CANCELLED)
OPEN_STATUSES = (SUBMITTED, IN_REVIEW, RETURNED, APPROVED)
# What e-SKA allows an application to become next; issued, rejected, cancelled are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    SUBMITTED: (IN_REVIEW, RETURNED, APPROVED, REJECTED, CANCELLED),
    IN_REVIEW: (RETURNED, APPROVED, REJECTED, CANCELLED),
    RETURNED: (SUBMITTED, IN_REVIEW, REJECTED, CANCELLED),
    APPROVED: (ISSUED, CANCELLED),
    ISSUED: (),
    REJECTED: (),
    CANCELLED: (),
}


# the exporter is told to follow the officer's note on these: there must be one
REASON_REQUIRED = (RETURNED, REJECTED)
# as the import's note column; with it the push stays short enough to read on a phone
NOTE_MAX = 1000


class TransitionError(ValueError):
    """An illegal status change; `key`/`values` render the reason from the catalog, an
    int is a count (see transition_text)."""

    def __init__(self, key: str, **values: str | int) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


# What officers type besides the codes and the two labels: the Indonesian words of the
# office (the CSV import reads the same), one word each so `/setstatus REF kata note` works
STATUS_WORDS: dict[str, str] = {
    "diajukan": SUBMITTED,
    "ajukan": SUBMITTED,
    "baru": SUBMITTED,
    "diverifikasi": IN_REVIEW,
    "verifikasi": IN_REVIEW,
    "diperiksa": IN_REVIEW,
    "review": IN_REVIEW,
    "dikembalikan": RETURNED,
    "kembali": RETURNED,
    "revisi": RETURNED,
    "perbaikan": RETURNED,
    "disetujui": APPROVED,
    "setuju": APPROVED,
    "terbit": ISSUED,
    "diterbitkan": ISSUED,
    "ditolak": REJECTED,
    "tolak": REJECTED,
    "dibatalkan": CANCELLED,
    "batal": CANCELLED,
    "canceled": CANCELLED,
    "in review": IN_REVIEW,
}
# labels the catalog used before ("Diverifikasi", "In review") stay in STATUS_WORDS, so
# imports and commands written with them are still read


def lacks_reason(status: str, note: str) -> bool:
    """Returned and rejected tell the exporter to act on the officer's note: one that is
    empty (or only invisible characters) leaves them nothing to act on."""
    return status in REASON_REQUIRED and not visible(note).strip()


def label(status: str, lang: str) -> str:
    return t(f"status_{status}", lang)


def parse_status(text: str) -> str | None:
    """'in_review', 'in-review', 'Disetujui', 'dikembalikan', 'approved' -> the status id."""
    wanted = " ".join(text.strip().lower().replace("-", "_").split())
    if wanted in STATUSES:
        return wanted
    if wanted.replace(" ", "_") in STATUSES:
        return wanted.replace(" ", "_")
    if wanted in STATUS_WORDS:
        return STATUS_WORDS[wanted]
    for status in STATUSES:
        if wanted in (label(status, "id").lower(), label(status, "en").lower()):
            return status
    return None


def split_status(words: list[str]) -> tuple[str | None, int]:
    """The status at the start of `words` (a label may be several words, e.g.
    'Dikembalikan untuk perbaikan') and how many words it took; (None, 0) if none."""
    for n in range(min(len(words), 4), 0, -1):
        status = parse_status(" ".join(words[:n]))
        if status is not None:
            return status, n
    return None, 0


def status_list(lang: str) -> str:
    """The statuses as an officer may type them, in the reader's language."""
    return ", ".join(typed(s, lang) for s in STATUSES)


def typed(status: str, lang: str) -> str:
    """A status as an officer types it: the code in English, one Indonesian word."""
    return status if lang == "en" else STATUS_HINTS[status]


# the one-word Indonesian form shown in usage lines
STATUS_HINTS = {
    SUBMITTED: "diajukan",
    IN_REVIEW: "diverifikasi",
    RETURNED: "dikembalikan",
    APPROVED: "disetujui",
    ISSUED: "terbit",
    REJECTED: "ditolak",
    CANCELLED: "dibatalkan",
}


def transition_text(exc: TransitionError, lang: str) -> str:
    """The refusal in the reader's language: status codes become their labels, counts are
    written its way (1.001 / 1,001)."""
    words = {k: v for k, v in exc.values.items() if isinstance(v, str)}
    values = {k: escape(v) for k, v in words.items()}
    values.update({k: format_number(v, lang, 0) for k, v in exc.values.items() if isinstance(v, int)})
    for key in ("old", "new", "status"):
        if words.get(key) in STATUSES:
            values[key] = label(words[key], lang)
    if words.get("word") in STATUSES:
        values["word"] = typed(words["word"], lang)
    if "allowed" in words:
        codes = [c for c in words["allowed"].split(", ") if c in STATUSES]
        values["allowed"] = ", ".join(label(c, lang) for c in codes) or "-"
    return t(exc.key, lang, **values)


@dataclass(frozen=True)
class AppView:
    """An application as shown to a person (never the ORM object)."""

    ref: str
    company: str
    nib: str
    commodity: str
    hs_code: str
    destination: str
    form: str
    status: str
    note: str
    volume_tonnes: Decimal | None
    value_usd: Decimal | None
    submitted_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class EventView:
    from_status: str | None
    to_status: str
    note: str
    actor: str
    at: dt.datetime


def by_ref(s: Session, ref: str, *where: ColumnElement[bool], lock: bool = False) -> SkaApplication | None:
    """The application with this reference as typed in any case (people type e-SKA refs in
    lower case); the exact spelling wins when stored refs differ only by case, and two
    such refs without an exact match are found as none rather than guessed."""
    wanted = ref.strip()
    query = select(SkaApplication).where(*where)
    if lock:
        query = query.with_for_update()
    exact = s.scalar(query.where(SkaApplication.ref == wanted))
    if exact is not None:
        return exact
    alike = s.scalars(query.where(func.lower(SkaApplication.ref) == wanted.lower()).limit(2)).all()
    return alike[0] if len(alike) == 1 else None


def _view(app: SkaApplication, company: Company) -> AppView:
    return AppView(
        app.ref,
        company.name,
        company.nib,
        app.commodity,
        app.hs_code,
        app.destination,
        app.form,
        app.status,
        app.note,
        app.volume_tonnes,
        app.value_usd,
        app.submitted_at,
        app.updated_at,
    )


class ApplicationService:
    def __init__(self, db: Database, render_change) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        # render_change(view, old_status, lang) -> text: the notification, in one language
        self.render_change = render_change

    # -- what exporters may see ----------------------------------------------------------

    def company_of(self, user_id: int) -> Company | None:
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or user.company_id is None:
                return None
            return s.get(Company, user.company_id)

    def for_company(self, company_id: int, limit: int = 20) -> list[AppView]:
        with self.db.session() as s:
            company = s.get(Company, company_id)
            rows = s.scalars(
                select(SkaApplication)
                .where(SkaApplication.company_id == company_id)
                .order_by(SkaApplication.submitted_at.desc(), SkaApplication.id.desc())
                .limit(limit)
            )
            return [_view(a, company) for a in rows] if company else []

    def open_for_company(self, company_id: int, offset: int = 0, limit: int = 20) -> list[AppView]:
        """The applications still in progress, the ones waiting on the exporter first
        (returned needs their action), then the newest; a page of them."""
        with self.db.session() as s:
            company = s.get(Company, company_id)
            if company is None:
                return []
            rows = s.scalars(
                select(SkaApplication)
                .where(SkaApplication.company_id == company_id, SkaApplication.status.in_(OPEN_STATUSES))
                .order_by(
                    case((SkaApplication.status == RETURNED, 0), else_=1),
                    SkaApplication.submitted_at.desc(),
                    SkaApplication.id.desc(),
                )
                .offset(offset)
                .limit(limit)
            )
            return [_view(a, company) for a in rows]

    def open_count(self, company_id: int) -> int:
        with self.db.session() as s:
            return int(
                s.scalar(
                    select(func.count(SkaApplication.id)).where(
                        SkaApplication.company_id == company_id, SkaApplication.status.in_(OPEN_STATUSES)
                    )
                )
                or 0
            )

    def closed_counts(self, company_id: int) -> dict[str, int]:
        """How many applications ended in each final status (issued, rejected, cancelled)."""
        with self.db.session() as s:
            rows = s.execute(
                select(SkaApplication.status, func.count(SkaApplication.id))
                .where(SkaApplication.company_id == company_id, SkaApplication.status.not_in(OPEN_STATUSES))
                .group_by(SkaApplication.status)
            )
            return {status: int(n) for status, n in rows}

    def closed_for_company(
        self, company_id: int, status: str, offset: int = 0, limit: int = 10
    ) -> list[AppView]:
        """One page of the applications with a final status, newest change first."""
        with self.db.session() as s:
            company = s.get(Company, company_id)
            rows = s.scalars(
                select(SkaApplication)
                .where(SkaApplication.company_id == company_id, SkaApplication.status == status)
                .order_by(SkaApplication.updated_at.desc(), SkaApplication.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_view(a, company) for a in rows] if company else []

    def one_for_company(self, company_id: int, ref: str) -> tuple[AppView, list[EventView]] | None:
        """One application with its history, only if it belongs to that company."""
        with self.db.session() as s:
            app = by_ref(s, ref, SkaApplication.company_id == company_id)
            if app is None:
                return None
            return _view(app, s.get_one(Company, app.company_id)), self._history(s, app.id)

    # -- what officers see ---------------------------------------------------------------

    def find(self, ref: str) -> tuple[AppView, list[EventView]] | None:
        with self.db.session() as s:
            app = by_ref(s, ref)
            if app is None:
                return None
            return _view(app, s.get_one(Company, app.company_id)), self._history(s, app.id)

    def refs_alike(self, ref: str, limit: int = 5) -> builtins.list[str]:
        """The stored refs that differ from `ref` only by case (what by_ref declines to guess)."""
        with self.db.session() as s:
            rows = s.scalars(
                select(SkaApplication.ref)
                .where(func.lower(SkaApplication.ref) == ref.strip().lower())
                .limit(limit)
            )
            # sorted here: a database's collation may order case either way
            return sorted(rows)

    def list(self, status: str | None = None, limit: int = 30, offset: int = 0) -> list[AppView]:
        """One page of the open applications, or of those with one status, newest change first."""
        with self.db.session() as s:
            query = select(SkaApplication, Company).join(Company).where(self._listed(status))
            query = (
                query.order_by(SkaApplication.updated_at.desc(), SkaApplication.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_view(a, c) for a, c in s.execute(query)]

    def count(self, status: str | None = None) -> int:
        """How many applications `list` pages through."""
        with self.db.session() as s:
            return int(s.scalar(select(func.count(SkaApplication.id)).where(self._listed(status))) or 0)

    @staticmethod
    def _listed(status: str | None) -> ColumnElement[bool]:
        if status is not None:
            return SkaApplication.status == status
        return SkaApplication.status.in_(OPEN_STATUSES)

    @staticmethod
    def _history(s: Session, app_id: int) -> builtins.list[EventView]:  # list: the method
        rows = s.scalars(
            select(StatusEvent)
            .where(StatusEvent.application_id == app_id)
            .order_by(StatusEvent.at, StatusEvent.id)
        )
        return [EventView(e.from_status, e.to_status, e.note, e.actor, e.at) for e in rows]

    # -- changes -------------------------------------------------------------------------

    def set_status(self, ref: str, status: str, note: str, actor: str) -> AppView:
        """Validate and apply an officer's status change; every linked exporter is notified.
        The note goes to the exporter as it is: it must fit, carry nothing marked internal,
        and be there when the exporter is told to follow it."""
        note = note.strip()
        if len(note) > NOTE_MAX:
            raise TransitionError("desk_note_too_long", length=len(note), limit=NOTE_MAX)
        if marked_line(note) is not None:
            raise TransitionError("desk_note_internal")
        with self.db.session() as s:
            app = by_ref(s, ref, lock=True)
            if app is None:
                raise TransitionError("app_not_found", ref=ref)
            return self.change(s, app, status, note, actor, reason_required=True)

    def change(
        self,
        s: Session,
        app: SkaApplication,
        status: str,
        note: str,
        actor: str,
        *,
        reason_required: bool = False,
    ) -> AppView:
        """Apply a change inside the caller's transaction (officer command or import)."""
        if status not in STATUSES:
            raise TransitionError("status_unknown", status=status)
        old = app.status
        if status == old:
            raise TransitionError("status_same", status=status)
        if status not in TRANSITIONS[old]:
            allowed = ", ".join(TRANSITIONS[old]) or "-"
            raise TransitionError("status_illegal", old=old, new=status, allowed=allowed)
        if reason_required and lacks_reason(status, note):
            raise TransitionError("desk_reason_required", status=status, ref=app.ref, word=status)
        app.status = status
        app.note = note
        app.updated_at = utcnow()
        s.add(StatusEvent(application_id=app.id, from_status=old, to_status=status, note=note, actor=actor))
        s.flush()
        view = _view(app, s.get_one(Company, app.company_id))
        self.notify(s, app.company_id, view, old)
        return view

    def notify(self, s: Session, company_id: int, view: AppView, old: str | None) -> int:
        """Queue the change for every linked exporter of the company, each in their language."""
        users = s.scalars(select(User).where(User.company_id == company_id))
        count = 0
        for user in users:
            enqueue(s, user.id, self.render_change(view, old, user.language), kind="status")
            count += 1
        return count

"""Missing-document reminders: who is due today, queued once per application, chat and day.

The pass is idempotent: its state is the `reminders` table and the outbox's unique
dedupe keys, so it may run again after a restart, from cron, or in two processes on
one PostgreSQL database without sending anything twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from bot.config import ReminderSettings
from bot.db import Database
from bot.i18n import t
from bot.models import (
    ChecklistItem,
    Company,
    OutboxMessage,
    Reminder,
    SkaApplication,
    User,
    utcnow,
)
from bot.services.applications import IN_REVIEW, RETURNED, SUBMITTED
from bot.services.calendar import OfficeCalendar
from bot.services.documents import OUTSTANDING, DocumentService, upload_markup
from bot.services.outbox import WAKEUPS, row_values
from bot.text import escape as esc

# approved, issued, rejected and cancelled applications need no more documents
REMIND_STATUSES = (SUBMITTED, IN_REVIEW, RETURNED)
EXPORTER, ALERT = "exporter", "alert"
REMINDER_KIND = f"reminder_{EXPORTER}"  # the outbox kind of an exporter's reminder
# applications read (and reminders written) per transaction: memory stays flat
PAGE = 1000


@dataclass(slots=True)
class _Due:
    app_id: int
    ref: str
    company_id: int
    items: list[tuple[str, str, str]]  # outstanding documents: doc, status, reason
    since: dt.datetime  # when the oldest of them became outstanding
    users: list[tuple[int, str, bool]] = field(default_factory=list)  # id, lang, enabled
    # reminders it had: chat, kind, office day, queued at
    sent: list[tuple[int, str, dt.date, dt.datetime]] = field(default_factory=list)


_Job = tuple[_Due, int, str, str]  # application, chat, lang, kind


@dataclass
class PassReport:
    local_date: dt.date
    working_day: bool
    queued: int = 0
    alerts: int = 0
    opted_out: int = 0
    already: int = 0
    lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.working_day:
            return f"{self.local_date}: not a working day of the office; nothing queued"
        return (
            f"{self.local_date}: queued {self.queued} reminder(s), {self.alerts} officers' "
            f"alert(s); skipped {self.opted_out} opted out, {self.already} already queued"
        )


class ReminderService:
    def __init__(
        self,
        db: Database,
        documents: DocumentService,
        calendar: OfficeCalendar,
        settings: ReminderSettings,
        tz: ZoneInfo,
        officers_chat_id: int | list[int] | None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db = db
        self.documents = documents
        self.calendar = calendar
        self.settings = settings
        self.tz = tz
        # the officers' group, or (without one) each officer in private
        self.officer_chats = (
            []
            if officers_chat_id is None
            else [officers_chat_id]
            if isinstance(officers_chat_id, int)
            else list(officers_chat_id)
        )
        self.clock = clock
        self.page_size = PAGE

    # -- settings per person -------------------------------------------------------------

    def set_enabled(self, user_id: int, enabled: bool) -> None:
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                user = User(id=user_id)
                s.add(user)
            user.reminders_enabled = enabled

    # -- time ----------------------------------------------------------------------------

    def quiet(self, moment: dt.time) -> bool:
        """Inside the quiet hours (reminders.quiet_hours, default 20:00-07:00 office time)."""
        start, end = self.settings.quiet_from, self.settings.quiet_until
        if start == end:
            return False
        if start > end:  # across midnight, the usual case
            return moment >= start or moment < end
        return start <= moment < end

    def not_before(self, now: dt.datetime) -> dt.datetime | None:
        """Queued during the quiet hours: delivered when they end (07:00 by default)."""
        local = now.astimezone(self.tz)
        if not self.quiet(local.time()):
            return None
        end = self.settings.quiet_until
        day = local.date() + dt.timedelta(days=1 if local.time() >= end else 0)
        return dt.datetime.combine(day, end, tzinfo=self.tz).astimezone(dt.UTC)

    def missed_today(self) -> bool:
        """At start-up: today's pass time has passed on a working day (the pass is idempotent)."""
        local = self.clock().astimezone(self.tz)
        return (
            self.calendar.is_working_day(local.date())
            and self.settings.time <= local.time()
            and not self.quiet(local.time())
        )

    # -- the pass ------------------------------------------------------------------------

    def run_pass(self, force: bool = False) -> PassReport:
        """Queue today's reminders; `force` treats every application as due (not opt-outs).

        The applications are read a page at a time (keyset on the id) and each page's
        reminders are written in one transaction, so memory stays flat and the pass takes
        a few statements per page whatever the number of applications."""
        now = self.clock()
        today = now.astimezone(self.tz).date()
        report = PassReport(today, force or self.calendar.is_working_day(today))
        if not report.working_day:
            return report
        not_before = self.not_before(now)
        for page in self._pages():
            self._queue(self._jobs(page, today, now, force, report), today, now, not_before, report)
        return report

    def _jobs(
        self, page: list[_Due], today: dt.date, now: dt.datetime, force: bool, report: PassReport
    ) -> list[_Job]:
        """Who gets what today: the cadence, the maximum and the officers' alert."""
        jobs: list[_Job] = []
        for app in page:
            since = app.since
            cycle = [r for r in app.sent if r[3] >= since]
            dates = sorted({r[2] for r in cycle if r[1] == EXPORTER})
            reminded_today = {r[0] for r in app.sent if r[2] == today}
            if force:
                remind, alert = True, False
            elif not dates:
                hours = dt.timedelta(hours=self.settings.first_after_hours)
                remind, alert = now >= since + hours, False
            else:
                waited = self.calendar.working_days_between(dates[-1], today)
                remind = len(dates) < self.settings.max_times and waited >= self.settings.every_working_days
                alert = (
                    len(dates) >= self.settings.max_times
                    and waited >= self.settings.every_working_days
                    and not any(r[1] == ALERT for r in cycle)
                )
            if remind:
                for user_id, lang, enabled in app.users:
                    if not enabled:
                        report.opted_out += 1
                    elif user_id in reminded_today:
                        report.already += 1
                    else:
                        jobs.append((app, user_id, lang, EXPORTER))
            if alert:
                jobs.extend((app, chat_id, "id", ALERT) for chat_id in self.officer_chats)
        return jobs

    def _pages(self) -> Iterator[list[_Due]]:
        """Applications that miss documents, a page at a time, each with its outstanding
        documents, the exporters to remind and the reminders it already had."""
        after = 0
        while True:
            with self.db.statement() as c:
                last, page = self._page(c, after, self.page_size)
            if last is None:
                return
            if page:
                yield page
            after = last

    def _page(self, c: Connection, after: int, size: int) -> tuple[int | None, list[_Due]]:
        """The next `size` applications in a status that needs documents (the last id read,
        None at the end) and those of them that miss some. Every read is a range of ids
        on an index, so a page costs the same at the start and at the end of the table,
        whatever the planner thinks of the tables' sizes."""
        app = SkaApplication
        candidates = c.execute(
            select(app.id, app.ref, app.company_id)
            .where(app.id > after, app.status.in_(REMIND_STATUSES))
            .order_by(app.id)
            .limit(size)
        ).all()
        if not candidates:
            return None, []
        first, last = candidates[0][0], candidates[-1][0]
        items: dict[int, list[tuple[str, str, str]]] = {}
        since: dict[int, dt.datetime] = {}
        # by id range: an item of an application outside the page is skipped below
        for app_id, doc_id, status, reason, changed_at in c.execute(
            select(
                ChecklistItem.application_id,
                ChecklistItem.doc_id,
                ChecklistItem.status,
                ChecklistItem.reason,
                ChecklistItem.changed_at,
            )
            .where(ChecklistItem.application_id.between(first, last), ChecklistItem.status.in_(OUTSTANDING))
            .order_by(ChecklistItem.application_id, ChecklistItem.id)
        ).all():
            items.setdefault(app_id, []).append((doc_id, status, reason))
            # the cycle starts when the longest-outstanding document became missing/rejected
            # (UTCDateTime columns come back aware on SQLite too)
            since[app_id] = min(since.get(app_id, changed_at), changed_at)
        due = {
            app_id: _Due(app_id, ref, company_id, items[app_id], since[app_id])
            for app_id, ref, company_id in candidates
            if app_id in items
        }
        if not due:
            return last, []
        users: dict[int, list[tuple[int, str, bool]]] = {}
        for uid, company_id, lang, enabled in c.execute(
            select(User.id, User.company_id, User.language, User.reminders_enabled)
            .where(User.company_id.in_({d.company_id for d in due.values()}), User.blocked_at.is_(None))
            .order_by(User.id)
        ).all():
            if company_id is not None:
                users.setdefault(company_id, []).append((uid, lang, enabled))
        for one in due.values():
            one.users = users.get(one.company_id, [])
        for app_id, chat_id, kind, day, created in c.execute(
            select(
                Reminder.application_id,
                Reminder.chat_id,
                Reminder.kind,
                Reminder.local_date,
                Reminder.created_at,
            ).where(Reminder.application_id.between(first, last))
        ).all():
            if app_id in due:
                due[app_id].sent.append((chat_id, kind, day, created))
        return last, list(due.values())

    def _queue(
        self,
        jobs: list[_Job],
        today: dt.date,
        now: dt.datetime,
        not_before: dt.datetime | None,
        report: PassReport,
    ) -> None:
        if not jobs:
            return
        texts: dict[tuple[int, str, str], str] = {}
        try:
            with self.db.engine.begin() as c:
                done = self._write(c, jobs, today, now, not_before, texts)
        except IntegrityError:
            # another process queued some of these at the same moment: go one by one,
            # and whatever it already queued is skipped silently
            done = []
            for job in jobs:
                try:
                    with self.db.engine.begin() as c:
                        done += self._write(c, [job], today, now, not_before, texts)
                except IntegrityError:
                    done.append(False)
        if any(done):
            WAKEUPS.notify()
        for (app, chat_id, _, kind), queued in zip(jobs, done, strict=True):
            if not queued:
                report.already += 1
                continue
            if kind == ALERT:
                report.alerts += 1
            else:
                report.queued += 1
            docs = ", ".join(d for d, _, _ in app.items)
            report.lines.append(f"{kind} {app.ref} -> {chat_id}: {docs}")

    def _queued_ids(self, c: Connection, keys: list[str]) -> dict[str, int]:
        """The outbox ids of these dedupe keys (one indexed lookup per PAGE keys)."""
        found: dict[str, int] = {}
        for i in range(0, len(keys), PAGE):
            found.update(
                (key, row_id)
                for row_id, key in c.execute(
                    select(OutboxMessage.id, OutboxMessage.dedupe_key).where(
                        OutboxMessage.dedupe_key.in_(keys[i : i + PAGE])
                    )
                )
                if key is not None
            )
        return found

    def _already_queued(self, c: Connection, keys: list[str]) -> set[str]:
        """Which of these outbox dedupe keys are taken (by an earlier pass today)."""
        return set(self._queued_ids(c, keys))

    def _write(
        self,
        c: Connection,
        jobs: list[_Job],
        today: dt.date,
        now: dt.datetime,
        not_before: dt.datetime | None,
        texts: dict[tuple[int, str, str], str],
    ) -> list[bool]:
        """Outbox rows and their reminder rows in the caller's transaction: two lookups and
        two executemany INSERTs, the outbox rows shaped by outbox.row_values as enqueue's are."""
        keys = [
            f"{'reminder' if kind == EXPORTER else 'reminder-alert'}:{app.app_id}:"
            f"{chat_id}:{today.isoformat()}"
            for app, chat_id, _, kind in jobs
        ]
        taken = self._already_queued(c, keys)
        rows: list[dict[str, Any]] = []
        queued: list[bool] = []
        companies: dict[int, str] = {}
        for (app, chat_id, lang, kind), key in zip(jobs, keys, strict=True):
            if key in taken:
                queued.append(False)
                continue
            text_key = (app.app_id, lang, kind)
            if text_key not in texts:
                texts[text_key] = (
                    self._alert_text(c, app, companies) if kind == ALERT else self._text(app, lang)
                )
            markup = upload_markup(app.app_id, lang).to_json() if kind == EXPORTER else None
            values, _ = row_values(
                chat_id,
                texts[text_key],
                kind=f"reminder_{kind}",
                markup_json=markup,
                dedupe_key=key,
                # due as of the pass's own clock (not the wall clock of the insert)
                due=(not_before if kind == EXPORTER else None) or now,
            )
            rows.extend(values)
            queued.append(True)
        if rows:
            c.execute(insert(OutboxMessage), rows)
            # a reply to a reminder leads back to its application through the outbox id
            ids = self._queued_ids(c, [key for key, new in zip(keys, queued, strict=True) if new])
            c.execute(
                insert(Reminder),
                [
                    {
                        "application_id": app.app_id,
                        "chat_id": chat_id,
                        "kind": kind,
                        "local_date": today,
                        "outbox_id": ids[key],
                        "created_at": now,
                    }
                    for (app, chat_id, _, kind), key, new in zip(jobs, keys, queued, strict=True)
                    if new
                ],
            )
        return queued

    def _text(self, app: _Due, lang: str) -> str:
        catalog = self.documents.catalog
        lines = [t("rem_title", lang, ref=esc(app.ref)), t("rem_intro", lang)]
        confirm = False
        for doc_id, status, reason in sorted(app.items, key=lambda i: catalog.order(i[0])):
            spec = catalog.specs.get(doc_id)
            name = esc(catalog.name(doc_id, lang)) + (" (*)" if spec and spec.confirm else "")
            confirm = confirm or bool(spec and spec.confirm)
            why = self.documents.reason_text(reason, lang)
            state = t(f"doc_status_{status}", lang) + (f": {esc(why)}" if why else "")
            lines.append(f"• <b>{name}</b> - {state}")
            if spec:
                lines.append(f"  <i>{esc(spec.hint[lang])}</i>")
        if confirm:
            lines.append(t("rem_confirm", lang))
        lines.append("")
        lines.append(t("rem_how", lang))
        return "\n".join(lines)

    def _alert_text(self, c: Connection, app: _Due, companies: dict[int, str]) -> str:
        if app.company_id not in companies:
            companies[app.company_id] = (
                c.scalar(select(Company.name).where(Company.id == app.company_id)) or ""
            )
        docs = ", ".join(esc(self.documents.catalog.name(d, "id")) for d, _, _ in app.items)
        return t(
            "rem_alert",
            "id",
            ref=esc(app.ref),
            company=esc(companies[app.company_id]),
            times=self.settings.max_times,
            docs=docs,
        )

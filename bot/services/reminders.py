"""Missing-document reminders: who is due today, queued once per application, chat and day.

The pass is idempotent: its state is the `reminders` table and the outbox's unique
dedupe keys, so it may run again after a restart, from cron, or in two processes on
one PostgreSQL database without sending anything twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import ReminderSettings
from bot.db import Database
from bot.i18n import t
from bot.models import ChecklistItem, Company, Reminder, SkaApplication, User, utcnow
from bot.models import as_utc as _aware
from bot.services.applications import IN_REVIEW, RETURNED, SUBMITTED
from bot.services.calendar import OfficeCalendar
from bot.services.documents import OUTSTANDING, DocumentService, upload_markup
from bot.services.outbox import enqueue
from bot.services.presenters import esc

# approved, issued, rejected and cancelled applications need no more documents
REMIND_STATUSES = (SUBMITTED, IN_REVIEW, RETURNED)
EXPORTER, ALERT = "exporter", "alert"
REMINDER_KIND = f"reminder_{EXPORTER}"      # the outbox kind of an exporter's reminder
CHUNK = 500


@dataclass
class _Due:
    app_id: int
    ref: str
    company_id: int
    items: list[tuple[str, str, str]] = field(default_factory=list)   # doc, status, reason
    since: dt.datetime | None = None


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
        return (f"{self.local_date}: queued {self.queued} reminder(s), {self.alerts} officers' "
                f"alert(s); skipped {self.opted_out} opted out, {self.already} already queued")


class ReminderService:
    def __init__(self, db: Database, documents: DocumentService, calendar: OfficeCalendar,
                 settings: ReminderSettings, tz: ZoneInfo, officers_chat_id: int | list[int] | None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.documents = documents
        self.calendar = calendar
        self.settings = settings
        self.tz = tz
        # the officers' group, or (without one) each officer in private
        self.officer_chats = ([] if officers_chat_id is None else [officers_chat_id]
                              if isinstance(officers_chat_id, int) else list(officers_chat_id))
        self.clock = clock

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
        if start > end:             # across midnight, the usual case
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
        return (self.calendar.is_working_day(local.date())
                and self.settings.time <= local.time() and not self.quiet(local.time()))

    # -- the pass ------------------------------------------------------------------------

    def run_pass(self, force: bool = False) -> PassReport:
        """Queue today's reminders; `force` treats every application as due (not opt-outs)."""
        now = self.clock()
        today = now.astimezone(self.tz).date()
        report = PassReport(today, force or self.calendar.is_working_day(today))
        if not report.working_day:
            return report
        with self.db.session() as s:
            due, users, sent = self._load(s)
        jobs: list[tuple[_Due, int, str, str]] = []       # application, chat, lang, kind
        for app in due.values():
            cycle = [r for r in sent.get(app.app_id, ()) if _aware(r[3]) >= app.since]
            dates = sorted({r[2] for r in cycle if r[1] == EXPORTER})
            reminded_today = {r[0] for r in sent.get(app.app_id, ()) if r[2] == today}
            if force:
                remind, alert = True, False
            elif not dates:
                hours = dt.timedelta(hours=self.settings.first_after_hours)
                remind, alert = now >= app.since + hours, False
            else:
                waited = self.calendar.working_days_between(dates[-1], today)
                remind = len(dates) < self.settings.max_times and \
                    waited >= self.settings.every_working_days
                alert = (len(dates) >= self.settings.max_times
                         and waited >= self.settings.every_working_days
                         and not any(r[1] == ALERT for r in cycle))
            if remind:
                for user_id, lang, enabled in users.get(app.company_id, ()):
                    if not enabled:
                        report.opted_out += 1
                    elif user_id in reminded_today:
                        report.already += 1
                    else:
                        jobs.append((app, user_id, lang, EXPORTER))
            if alert:
                jobs.extend((app, chat_id, "id", ALERT) for chat_id in self.officer_chats)
        self._queue(jobs, today, now, report)
        return report

    def _load(self, s: Session) -> tuple[dict[int, _Due], dict[int, list[tuple[int, str, bool]]],
                                         dict[int, list[tuple]]]:
        """Three queries whatever the number of applications (measured in bench/)."""
        outstanding = (select(ChecklistItem.application_id)
                       .join(SkaApplication, SkaApplication.id == ChecklistItem.application_id)
                       .where(ChecklistItem.status.in_(OUTSTANDING),
                              SkaApplication.status.in_(REMIND_STATUSES)))
        due: dict[int, _Due] = {}
        rows = s.execute(
            select(SkaApplication.id, SkaApplication.ref, SkaApplication.company_id,
                   ChecklistItem.doc_id, ChecklistItem.status, ChecklistItem.reason,
                   ChecklistItem.changed_at)
            .join(ChecklistItem, ChecklistItem.application_id == SkaApplication.id)
            .where(ChecklistItem.status.in_(OUTSTANDING),
                   SkaApplication.status.in_(REMIND_STATUSES))
            .order_by(SkaApplication.id))
        for app_id, ref, company_id, doc_id, status, reason, changed_at in rows:
            app = due.setdefault(app_id, _Due(app_id, ref, company_id))
            app.items.append((doc_id, status, reason))
            # the cycle starts when the longest-outstanding document became missing/rejected
            changed = _aware(changed_at)
            app.since = changed if app.since is None else min(app.since, changed)
        users: dict[int, list[tuple[int, str, bool]]] = {}
        for uid, company_id, lang, enabled in s.execute(
                select(User.id, User.company_id, User.language, User.reminders_enabled)
                .where(User.company_id.in_(select(SkaApplication.company_id)
                                           .where(SkaApplication.id.in_(outstanding))),
                       User.blocked_at.is_(None))):
            users.setdefault(company_id, []).append((uid, lang, enabled))
        sent: dict[int, list[tuple]] = {}
        for app_id, chat_id, kind, day, created in s.execute(
                select(Reminder.application_id, Reminder.chat_id, Reminder.kind,
                       Reminder.local_date, Reminder.created_at)
                .where(Reminder.application_id.in_(outstanding))):
            sent.setdefault(app_id, []).append((chat_id, kind, day, created))
        return due, users, sent

    def _queue(self, jobs: list[tuple[_Due, int, str, str]], today: dt.date,
               now: dt.datetime, report: PassReport) -> None:
        not_before = self.not_before(now)
        texts: dict[tuple[int, str, str], str] = {}
        it = iter(jobs)
        while chunk := list(islice(it, CHUNK)):
            try:
                with self.db.session() as s:
                    done = self._chunk(s, chunk, today, now, not_before, texts)
            except IntegrityError:
                # another process queued some of these at the same moment: go one by one,
                # and whatever it already queued is skipped silently
                done = []
                for job in chunk:
                    try:
                        with self.db.session() as s:
                            done += self._chunk(s, [job], today, now, not_before, texts)
                    except IntegrityError:
                        done.append(False)
            for (app, chat_id, _, kind), queued in zip(chunk, done, strict=True):
                if not queued:
                    report.already += 1
                    continue
                if kind == ALERT:
                    report.alerts += 1
                else:
                    report.queued += 1
                docs = ", ".join(d for d, _, _ in app.items)
                report.lines.append(f"{kind} {app.ref} -> {chat_id}: {docs}")

    def _chunk(self, s: Session, jobs: list[tuple[_Due, int, str, str]], today: dt.date,
               now: dt.datetime, not_before: dt.datetime | None,
               texts: dict[tuple[int, str, str], str]) -> list[bool]:
        """Outbox rows and their reminder rows in the caller's transaction; two flushes."""
        rows = []
        # without autoflush each enqueue's lookup would flush the row before it: one
        # INSERT per reminder instead of one batch (the keys of one pass never repeat)
        with s.no_autoflush:
            for app, chat_id, lang, kind in jobs:
                key = (app.app_id, lang, kind)
                if key not in texts:
                    texts[key] = self._alert_text(s, app) if kind == ALERT \
                        else self._text(app, lang)
                prefix = "reminder" if kind == EXPORTER else "reminder-alert"
                rows.append(enqueue(
                    s, chat_id, texts[key], kind=f"reminder_{kind}",
                    markup=upload_markup(app.app_id, lang) if kind == EXPORTER else None,
                    dedupe_key=f"{prefix}:{app.app_id}:{chat_id}:{today.isoformat()}",
                    # due by this pass's clock, like everything else it decides
                    not_before=(not_before or now) if kind == EXPORTER else now))
        s.flush()           # outbox ids: a reply to a reminder leads back to its application
        for (app, chat_id, _, kind), row in zip(jobs, rows, strict=True):
            if row is not None:
                s.add(Reminder(application_id=app.app_id, chat_id=chat_id, kind=kind,
                               local_date=today, outbox_id=row.id, created_at=now))
        s.flush()
        return [row is not None for row in rows]

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

    def _alert_text(self, s: Session, app: _Due) -> str:
        company = s.get(Company, app.company_id)
        docs = ", ".join(esc(self.documents.catalog.name(d, "id")) for d, _, _ in app.items)
        return t("rem_alert", "id", ref=esc(app.ref), company=esc(company.name if company else ""),
                 times=self.settings.max_times, docs=docs)



"""What the reports read from the database: issued SKAs summed in SQL, help-desk rows.

An SKA counts in a period by the moment of its 'issued' status event (its last one, if it
was issued twice), or by its last change when it was issued before events were recorded.
Periods and months are office-calendar days: their bounds are computed in Python as UTC
moments and compared in SQL, so SQLite (which has no time zones) and PostgreSQL bucket
every SKA the same way, daylight saving or not.

Volume and value are summed as whole thousandths of a tonne and cents: SQLite keeps
NUMERIC as floating point, whose sums drift; integers add up exactly on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Select, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from bot.models import (
    Company,
    DocumentUpload,
    OutboxMessage,
    QueryLog,
    Reminder,
    SkaApplication,
    StatusEvent,
    Ticket,
)
from bot.services.applications import ISSUED
from bot.services.documents import ACCEPTED, RECEIVED, REJECTED
from bot.services.reminders import EXPORTER
from bot.services.reports.aggregate import Group, MonthSum
from bot.services.reports.model import Issued
from bot.services.reports.period import Period

# uploads that reached the office (not abandoned while choosing the document type)
SENT_DOCUMENTS = (RECEIVED, ACCEPTED, REJECTED)
# decimal places of applications.volume_tonnes NUMERIC(14, 3) and value_usd NUMERIC(16, 2)
PLACES = (3, 2)

Commodity = str | Sequence[str] | None


def _issued(period: Period, tz: ZoneInfo, commodity: Commodity
            ) -> tuple[ColumnElement[dt.datetime], Callable[..., Select[Any]]]:
    """The moment each SKA was issued, and a SELECT over the SKAs issued in the period."""
    lo, hi = period.bounds(tz)
    issued_at = (select(StatusEvent.application_id, func.max(StatusEvent.at).label("at"))
                 .where(StatusEvent.to_status == ISSUED)
                 .group_by(StatusEvent.application_id).subquery())
    # applications issued before events were recorded fall back to their last change
    when = func.coalesce(issued_at.c.at, SkaApplication.updated_at)

    def query(*columns: Any) -> Select[Any]:
        q = (select(*columns).select_from(SkaApplication)
             .outerjoin(issued_at, issued_at.c.application_id == SkaApplication.id)
             .where(SkaApplication.status == ISSUED, when >= lo, when < hi))
        if isinstance(commodity, str):
            q = q.where(func.lower(SkaApplication.commodity) == commodity.casefold())
        elif commodity is not None:
            # the recorded spellings of one commodity (args.CommodityNames)
            q = q.where(func.lower(SkaApplication.commodity).in_(
                [name.casefold() for name in commodity] or [""]))
        return q

    return when, query


def issued_records(s: Session, period: Period, tz: ZoneInfo,
                   commodity: Commodity = None) -> list[Issued]:
    """Every SKA issued in the period, one record each."""
    when, query = _issued(period, tz, commodity)
    rows = s.execute(query(Company.name, SkaApplication.commodity, SkaApplication.destination,
                           SkaApplication.volume_tonnes, SkaApplication.value_usd, when)
                     .join(Company, Company.id == SkaApplication.company_id))
    return [Issued(*row) for row in rows]


def _whole(column: ColumnElement[Decimal | None], places: int) -> ColumnElement[Any]:
    """SUM of a NUMERIC column in units of its last decimal place."""
    return func.sum(cast(func.round(column * 10 ** places), BigInteger))


def export_sums(s: Session, period: Period, tz: ZoneInfo, commodity: Commodity = None
                ) -> tuple[list[Group], list[MonthSum]]:
    """Issued SKAs of the period summed per exporter, recorded commodity and destination,
    and per month of the office calendar (two GROUP BY queries), in whole units of
    PLACES; a sum over missing figures only is NULL, which the report counts as 0."""
    when, query = _issued(period, tz, commodity)
    app = SkaApplication
    volume = _whole(app.volume_tonnes, PLACES[0])
    value = _whole(app.value_usd, PLACES[1])
    missing = func.sum(case((or_(app.volume_tonnes.is_(None), app.value_usd.is_(None)), 1),
                            else_=0))
    rows = s.execute(query(app.company_id, app.commodity, app.destination, volume, value,
                           func.count(), missing, func.min(app.id))
                     .group_by(app.company_id, app.commodity, app.destination)).all()
    names = dict(s.execute(select(Company.id, Company.name)
                           .where(Company.id.in_({row[0] for row in rows}))).all()) \
        if rows else {}
    groups: list[Group] = [
        (names[company_id], raw, destination, int(vol or 0), int(val or 0), count, int(gaps),
         first)
        for company_id, raw, destination, vol, val, count, gaps, first in rows]
    # month of the office calendar: the last month start at or before the moment
    starts = period.month_starts(tz)
    month: ColumnElement[int] = case(
        *[(when < start, index) for index, start in enumerate(starts[1:])],
        else_=len(starts) - 1) if len(starts) > 1 else literal(0)
    bucket = month.label("month")
    months: list[MonthSum] = [
        (int(index), int(vol or 0), int(val or 0), count)
        for index, vol, val, count in s.execute(
            query(bucket, volume, value, func.count()).group_by(bucket))]
    return groups, months


def recorded_commodities(s: Session) -> list[str]:
    """Every commodity name recorded in the applications, once each."""
    seen: dict[str, str] = {}
    for name in s.scalars(select(SkaApplication.commodity).distinct()):
        if name and name.strip():
            seen.setdefault(name.strip().casefold(), name.strip())
    return sorted(seen.values())


HelpdeskRows = tuple[list[Any], list[Any], int, int]


def helpdesk_rows(s: Session, since: dt.datetime, until: dt.datetime) -> HelpdeskRows:
    """Questions, tickets, reminders that reached exporters and documents sent after one."""
    queries = s.execute(
        select(QueryLog.user_id, QueryLog.text, QueryLog.matched_id, QueryLog.outcome,
               QueryLog.feedback, QueryLog.created_at)
        .where(QueryLog.created_at >= since, QueryLog.created_at < until)).all()
    tickets = s.execute(
        select(Ticket.user_id, Ticket.created_at, Ticket.status,
               Ticket.first_response_seconds, Ticket.resolution_seconds,
               Ticket.sla_breached_at, Ticket.rating)
        .where(Ticket.created_at >= since, Ticket.created_at < until)).all()
    # a reminder counts once Telegram took it (its outbox row was sent)
    reminders = s.scalar(
        select(func.count(Reminder.id))
        .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
        .where(Reminder.kind == EXPORTER, OutboxMessage.sent_at >= since,
               OutboxMessage.sent_at < until)) or 0
    reminded = (select(Reminder.application_id, func.min(OutboxMessage.sent_at).label("at"))
                .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
                .where(Reminder.kind == EXPORTER, OutboxMessage.sent_at.is_not(None))
                .group_by(Reminder.application_id).subquery())
    # files sent for an application after its first reminder reached the exporter
    documents = s.scalar(
        select(func.count(DocumentUpload.id))
        .join(reminded, reminded.c.application_id == DocumentUpload.application_id)
        .where(DocumentUpload.status.in_(SENT_DOCUMENTS),
               DocumentUpload.created_at > reminded.c.at,
               DocumentUpload.created_at >= since, DocumentUpload.created_at < until)) or 0
    return list(queries), list(tickets), reminders, documents

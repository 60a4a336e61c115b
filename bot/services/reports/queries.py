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
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
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


def _issued(period: Period, tz: ZoneInfo, commodity: Commodity) -> Subquery:
    """One row per SKA issued in the period: its columns and `at`, when it was issued.

    Applications are read in id order and each one's events found through their index
    (GROUP BY the primary key needs no sort); the issue moment is the last 'issued'
    event, or the last change of an application issued before events were recorded."""
    lo, hi = period.bounds(tz)
    app, event = SkaApplication, StatusEvent
    at = func.coalesce(func.max(event.at), app.updated_at)
    q = (
        select(
            app.id,
            app.company_id,
            app.commodity,
            app.destination,
            app.volume_tonnes,
            app.value_usd,
            at.label("at"),
        )
        .outerjoin(event, and_(event.application_id == app.id, event.to_status == ISSUED))
        .where(app.status == ISSUED)
        .group_by(app.id)
        .having(at >= lo, at < hi)
    )
    if isinstance(commodity, str):
        q = q.where(func.lower(app.commodity) == commodity.casefold())
    elif commodity is not None:
        # the recorded spellings of one commodity (args.CommodityNames)
        q = q.where(func.lower(app.commodity).in_([name.casefold() for name in commodity] or [""]))
    return q.subquery("issued")


def issued_records(s: Session, period: Period, tz: ZoneInfo, commodity: Commodity = None) -> list[Issued]:
    """Every SKA issued in the period, one record each."""
    issued = _issued(period, tz, commodity)
    rows = s.execute(
        select(
            Company.name,
            issued.c.commodity,
            issued.c.destination,
            issued.c.volume_tonnes,
            issued.c.value_usd,
            issued.c.at,
        ).join(Company, Company.id == issued.c.company_id)
    )
    return [Issued(*row) for row in rows]


def _units(column: ColumnElement[Any], places: int) -> ColumnElement[int]:
    """A NUMERIC value in whole units of its last decimal place."""
    return cast(func.round(column * 10**places), BigInteger)


def export_sums(
    s: Session, period: Period, tz: ZoneInfo, commodity: Commodity = None
) -> tuple[list[Group], list[MonthSum]]:
    """Issued SKAs of the period summed per exporter, recorded commodity and destination,
    and per month of the office calendar, in whole units of PLACES; a sum over missing
    figures only is NULL, which the report counts as 0.

    One statement: the SKAs of the period are read once (a CTE, which both databases
    materialise when it is used twice) and grouped twice."""
    issued = _issued(period, tz, commodity)
    # month of the office calendar: the last month start at or before the moment
    starts = period.month_starts(tz)
    month: ColumnElement[int] = (
        case(*[(issued.c.at < start, index) for index, start in enumerate(starts[1:])], else_=len(starts) - 1)
        if len(starts) > 1
        else literal(0)
    )
    rows = select(
        issued.c.id,
        issued.c.company_id,
        issued.c.commodity,
        issued.c.destination,
        _units(issued.c.volume_tonnes, PLACES[0]).label("volume"),
        _units(issued.c.value_usd, PLACES[1]).label("value"),
        case((or_(issued.c.volume_tonnes.is_(None), issued.c.value_usd.is_(None)), 1), else_=0).label(
            "missing"
        ),
        month.label("month"),
    ).cte("rows")
    sums = (func.sum(rows.c.volume), func.sum(rows.c.value), func.count(), func.sum(rows.c.missing))
    groups = select(
        literal(0).label("part"),
        rows.c.company_id,
        rows.c.commodity,
        rows.c.destination,
        *sums,
        func.min(rows.c.id),
    ).group_by(rows.c.company_id, rows.c.commodity, rows.c.destination)
    months = select(literal(1), rows.c.month, null(), null(), *sums, null()).group_by(rows.c.month)
    found = s.execute(union_all(groups, months)).all()
    names = dict(
        s.execute(
            select(Company.id, Company.name).where(Company.id.in_({row[1] for row in found if row[0] == 0}))
        ).all()
    )
    return (
        [
            (names[key], raw, destination, int(vol or 0), int(val or 0), count, int(gaps), first)
            for part, key, raw, destination, vol, val, count, gaps, first in found
            if part == 0
        ],
        [
            (int(key), int(vol or 0), int(val or 0), count)
            for part, key, _, _, vol, val, count, _, _ in found
            if part == 1
        ],
    )


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
        select(
            QueryLog.user_id,
            QueryLog.text,
            QueryLog.matched_id,
            QueryLog.outcome,
            QueryLog.feedback,
            QueryLog.created_at,
        ).where(QueryLog.created_at >= since, QueryLog.created_at < until)
    ).all()
    tickets = s.execute(
        select(
            Ticket.user_id,
            Ticket.created_at,
            Ticket.status,
            Ticket.first_response_seconds,
            Ticket.resolution_seconds,
            Ticket.sla_breached_at,
            Ticket.rating,
        ).where(Ticket.created_at >= since, Ticket.created_at < until)
    ).all()
    # a reminder counts once Telegram took it (its outbox row was sent)
    reminders = (
        s.scalar(
            select(func.count(Reminder.id))
            .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
            .where(Reminder.kind == EXPORTER, OutboxMessage.sent_at >= since, OutboxMessage.sent_at < until)
        )
        or 0
    )
    reminded = (
        select(Reminder.application_id, func.min(OutboxMessage.sent_at).label("at"))
        .join(OutboxMessage, OutboxMessage.id == Reminder.outbox_id)
        .where(Reminder.kind == EXPORTER, OutboxMessage.sent_at.is_not(None))
        .group_by(Reminder.application_id)
        .subquery()
    )
    # files sent for an application after its first reminder reached the exporter
    documents = (
        s.scalar(
            select(func.count(DocumentUpload.id))
            .join(reminded, reminded.c.application_id == DocumentUpload.application_id)
            .where(
                DocumentUpload.status.in_(SENT_DOCUMENTS),
                DocumentUpload.created_at > reminded.c.at,
                DocumentUpload.created_at >= since,
                DocumentUpload.created_at < until,
            )
        )
        or 0
    )
    return list(queries), list(tickets), reminders, documents

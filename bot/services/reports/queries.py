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
    CTE,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
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

    The issue moment is the last 'issued' event, or the last change of an application
    issued before events were recorded. The last events are found in one pass over the
    'issued' events grouped by application, joined to the applications by their key (on
    PostgreSQL two hashes, where grouping each application's joined row needed a sort)."""
    lo, hi = period.bounds(tz)
    app, event = SkaApplication, StatusEvent
    last = (
        select(event.application_id, func.max(event.at).label("at"))
        .where(event.to_status == ISSUED)
        .group_by(event.application_id)
        .subquery("last_issued")
    )
    at = func.coalesce(last.c.at, app.updated_at)
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
        .outerjoin(last, last.c.application_id == app.id)
        .where(app.status == ISSUED, at >= lo, at < hi)
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


def _total(column: ColumnElement[int]) -> ColumnElement[int]:
    """SUM as a plain integer, 0 over no figures: PostgreSQL sums BIGINT as NUMERIC, which
    the driver would turn into a Decimal for each of tens of thousands of groups."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def _month(
    at: ColumnElement[dt.datetime], starts: Sequence[dt.datetime], first: int = 0
) -> ColumnElement[int]:
    """Index of the month `at` falls in, the months beginning at `first`: `starts` are the
    beginnings of the months after it. A binary search, so a year costs every SKA four
    comparisons instead of up to eleven."""
    if not starts:
        return literal(first)
    mid = len(starts) // 2
    return case(
        (at < starts[mid], _month(at, starts[:mid], first)),
        else_=_month(at, starts[mid + 1 :], first + mid + 1),
    )


def export_sums(
    s: Session, period: Period, tz: ZoneInfo, commodity: Commodity = None
) -> tuple[list[Group], list[MonthSum]]:
    """Issued SKAs of the period summed per exporter, recorded commodity and destination,
    and per month of the office calendar, in whole units of PLACES; missing figures count
    as 0.

    One statement that reads the SKAs of the period once and groups them both ways:
    PostgreSQL in one pass (GROUPING SETS), SQLite, which has none, from a CTE that it
    materialises and groups twice."""
    issued = _issued(period, tz, commodity)
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
        # month of the office calendar: the last month start at or before the moment
        _month(issued.c.at, period.month_starts(tz)[1:]).label("month"),
    )
    statement: Select[Any] | CompoundSelect[Any]
    if s.get_bind().dialect.name == "postgresql":
        one = rows.subquery("rows")
        keys = (one.c.company_id, one.c.commodity, one.c.destination)
        statement = select(one.c.month, *keys, *_sums(one), func.min(one.c.id)).group_by(
            func.grouping_sets(tuple_(*keys), tuple_(one.c.month))
        )
    else:
        cte = rows.cte("rows")
        keys = (cte.c.company_id, cte.c.commodity, cte.c.destination)
        statement = union_all(
            select(null(), *keys, *_sums(cte), func.min(cte.c.id)).group_by(*keys),
            select(cte.c.month, null(), null(), null(), *_sums(cte), null()).group_by(cte.c.month),
        )
    # (month, company, commodity, destination, volume, value, count, missing, first): a
    # month's row has no company, a company's row no month. Run as Core: through the ORM
    # session every one of tens of thousands of rows would pass an entity loader.
    found = s.connection().execute(statement).all()
    companies = {key for month, key, *_ in found if month is None}
    names = dict(s.execute(select(Company.id, Company.name).where(Company.id.in_(companies))).all())
    return (
        [
            (names[key], raw, destination, volume, value, count, missing, first)
            for month, key, raw, destination, volume, value, count, missing, first in found
            if month is None
        ],
        [
            (month, volume, value, count)
            for month, _, _, _, volume, value, count, _, _ in found
            if month is not None
        ],
    )


def _sums(rows: Subquery | CTE) -> tuple[ColumnElement[int], ...]:
    """Volume, value, count and SKAs with a missing figure of a group of `rows`."""
    return (
        _total(rows.c.volume).label("volume"),
        _total(rows.c.value).label("value"),
        func.count().label("count"),
        _total(rows.c.missing).label("missing"),
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

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
# SQLite sums a period of up to this many months month by month, each a range of the index
# (a longer one groups its SKAs by month, which sorts them)
RANGED_MONTHS = 36

Commodity = str | Sequence[str] | None


def _issued(period: Period, tz: ZoneInfo, commodity: Commodity) -> Subquery:
    """One row per SKA issued in the period: its columns and `at`, when it was issued."""
    return _issued_between(*period.bounds(tz), commodity)


def _issued_between(lo: dt.datetime, hi: dt.datetime, commodity: Commodity) -> Subquery:
    """One row per SKA issued from `lo` until before `hi`.

    The issue moment is the last 'issued' event, or the last change of an application
    issued before events were recorded: `applications.issued_at`, which the database keeps
    (migration 0013). On SQLite its index holds every column read here, so a period is one
    range of the index."""
    app = SkaApplication
    q = select(
        app.id,
        app.company_id,
        app.commodity,
        app.destination,
        app.volume_tonnes,
        app.value_usd,
        app.issued_at.label("at"),
    ).where(app.status == ISSUED, app.issued_at >= lo, app.issued_at < hi)
    if isinstance(commodity, str):
        q = q.where(func.lower(app.commodity) == commodity.casefold())
    elif commodity is not None:
        # the recorded spellings of one commodity (args.CommodityNames)
        q = q.where(func.lower(app.commodity).in_([name.casefold() for name in commodity] or [""]))
    return q.subquery("issued")


def issued_records(s: Session, period: Period, tz: ZoneInfo, commodity: Commodity = None) -> list[Issued]:
    """Every SKA issued in the period, one record each, in the order they were recorded."""
    issued = _issued(period, tz, commodity)
    rows = s.execute(
        select(
            Company.name,
            issued.c.commodity,
            issued.c.destination,
            issued.c.volume_tonnes,
            issued.c.value_usd,
            issued.c.at,
        )
        .join(Company, Company.id == issued.c.company_id)
        # in the order they were recorded: a commodity is named as its first SKA spells it
        .order_by(issued.c.id)
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

    One statement that groups the SKAs of the period both ways: PostgreSQL in one pass
    (GROUPING SETS). SQLite, which has none and groups by sorting, sorts the period's
    range of the index for the exporter, commodity and destination groups, and sums each
    month from that month's own range, which needs no sort (a period longer than
    RANGED_MONTHS groups by month)."""
    lo, hi = period.bounds(tz)
    issued = _issued_between(lo, hi, commodity)
    # month of the office calendar: the last month start at or before the moment
    starts = period.month_starts(tz)
    month = _month(issued.c.at, starts[1:])
    statement: Select[Any] | CompoundSelect[Any]
    if s.get_bind().dialect.name == "postgresql":
        volume, value, missing = _figures(issued)
        one = select(
            issued.c.id,
            issued.c.company_id,
            issued.c.commodity,
            issued.c.destination,
            volume.label("volume"),
            value.label("value"),
            missing.label("missing"),
            month.label("month"),
        ).subquery("rows")
        keys = (one.c.company_id, one.c.commodity, one.c.destination)
        statement = select(
            one.c.month, *keys, *_sums(one.c.volume, one.c.value, one.c.missing), func.min(one.c.id)
        ).group_by(func.grouping_sets(tuple_(*keys), tuple_(one.c.month)))
    else:
        keys = (issued.c.company_id, issued.c.commodity, issued.c.destination)
        per_key = select(null(), *keys, *_sums(*_figures(issued)), func.min(issued.c.id)).group_by(*keys)
        per_month: list[Select[*tuple[Any, ...]]]
        if len(starts) <= RANGED_MONTHS:
            # each month its own range (SQLite would keep to one range of several on a
            # column); an aggregate without GROUP BY: a row even for an empty month, dropped
            # below
            per_month = []
            for i, (start, end) in enumerate(zip(starts, [*starts[1:], hi], strict=True)):
                days = _issued_between(max(lo, start), end, commodity)
                per_month.append(select(literal(i), null(), null(), null(), *_sums(*_figures(days)), null()))
        else:
            figures = _figures(issued)
            per_month = [select(month, null(), null(), null(), *_sums(*figures), null()).group_by(month)]
        statement = union_all(per_key, *per_month)
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
            if month is not None and count
        ],
    )


def _figures(issued: Subquery) -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    """Volume and value of each of `issued` in whole units of PLACES, and 1 when either
    is missing."""
    return (
        _units(issued.c.volume_tonnes, PLACES[0]),
        _units(issued.c.value_usd, PLACES[1]),
        case((or_(issued.c.volume_tonnes.is_(None), issued.c.value_usd.is_(None)), 1), else_=0),
    )


def _sums(
    volume: ColumnElement[int], value: ColumnElement[int], missing: ColumnElement[int]
) -> tuple[ColumnElement[int], ...]:
    """Volume, value, count and SKAs with a missing figure of a group of rows."""
    return (
        _total(volume).label("volume"),
        _total(value).label("value"),
        func.count().label("count"),
        _total(missing).label("missing"),
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

"""Turning issued SKAs and logged questions into the figures of a report.

The database sums the issued SKAs (queries.py: GROUP BY exporter, recorded commodity and
destination, and by month); `combine` folds those partial sums into the office's table,
so what stays in Python is a few hundred groups whatever the number of applications.
`aggregate` does the same from single records: the reference the queries are tested
against, and what a caller with records in hand uses.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.reports.model import (
    TOP,
    ZERO,
    Bucket,
    ExportLine,
    ExportReport,
    HelpdeskStats,
    Issued,
    Spread,
)
from bot.services.reports.period import Period

# an answered question counts as escalated when its asker opens a ticket within this time
ESCALATION_WINDOW = dt.timedelta(hours=1)
ANSWERED = ("answer", "ask_destination")


# -- export realisation -------------------------------------------------------------------


def aware(moment: dt.datetime) -> dt.datetime:
    """Aware UTC: SQLite hands back naive UTC, and a record may be built by hand."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


Number = int | Decimal
# Issued SKAs of one exporter with one recorded commodity spelling and one destination:
# (exporter, commodity as recorded, destination, volume, value, count, of them without
# volume or value, order of the first of them). Missing figures count as 0. The SQL sums
# arrive in whole units of the columns' last decimal place, single records as Decimals.
Group = tuple[str, str, str, Number, Number, int, int, int]
MonthSum = tuple[int, Number, Number, int]  # (index into Period.months(), volume, value, count)


def _buckets(
    sums: dict[str, list[Number]],
    decimal: Callable[[Number, int], Decimal],
    keys: Iterable[str] | None = None,
) -> tuple[Bucket, ...]:
    if keys is None:
        keys = sorted(sums, key=lambda k: (-sums[k][1], -sums[k][0], k))
    return tuple(
        Bucket(k, decimal(sums[k][0], 0), decimal(sums[k][1], 1), int(sums[k][2]))
        if k in sums
        else Bucket(k, ZERO, ZERO, 0)
        for k in keys
    )


def _add(sums: dict[Any, list[Number]], key: Any, volume: Number, value: Number, count: Number) -> None:
    found = sums.get(key)
    if found is None:
        sums[key] = [volume, value, count]
    else:
        found[0] += volume
        found[1] += value
        found[2] += count


def combine(
    groups: Iterable[Group],
    months: Iterable[MonthSum],
    period: Period,
    canonical: Callable[[str], str] = lambda name: name,
    commodity: str | None = None,
    places: tuple[int, int] | None = None,
) -> ExportReport:
    """Per exporter and commodity, per commodity, destination and month, from partial sums.

    `places`: the sums are whole units of that many decimal places (volume, value);
    None: they are Decimals already."""

    def decimal(units: Number, which: int) -> Decimal:
        return Decimal(units) if places is None else Decimal(units).scaleb(-places[which])

    # the hot loop runs once per group (tens of thousands at 100,000 SKAs): per line only,
    # with destinations as recorded; per commodity and per country is folded from those
    lines: dict[tuple[str, str], list[Any]] = {}  # volume, value, count, {destination: value}
    by_recorded: dict[str, list[Number]] = {}  # per destination as recorded
    first_spelling: dict[str, str] = {}
    spelling: dict[str, str] = {}
    missing = 0
    for exporter, raw, destination, volume, value, count, gaps, _ in sorted(groups, key=itemgetter(7)):
        missing += gaps
        # one spelling per commodity: the first one seen, compared case-insensitively
        name = spelling.get(raw)
        if name is None:
            stripped = raw.strip()
            name = spelling[raw] = first_spelling.setdefault(stripped.casefold(), stripped)
        line = lines.get((exporter, name))
        if line is None:
            lines[(exporter, name)] = [volume, value, count, {destination: value}]
        else:
            line[0] += volume
            line[1] += value
            line[2] += count
            dests = line[3]
            dests[destination] = dests.get(destination, 0) + value
        _add(by_recorded, destination, volume, value, count)
    by_commodity: dict[str, list[Number]] = {}
    for (_, name), (volume, value, count, _) in lines.items():
        _add(by_commodity, name, volume, value, count)
    by_destination: dict[str, list[Number]] = {}
    for recorded, sums in by_recorded.items():
        _add(by_destination, canonical(recorded) if recorded else "-", *sums)
    keys = period.months()
    by_month: dict[str, list[Number]] = {}
    for index, volume, value, count in months:
        _add(by_month, keys[index], volume, value, count)
    rows = [
        ExportLine(
            exporter,
            name,
            decimal(volume, 0),
            decimal(value, 1),
            # by value, largest first, equal values by name (a stable sort on a sorted list)
            tuple(d for d in sorted(sorted(dests), key=dests.__getitem__, reverse=True) if d),
            int(count),
        )
        for (exporter, name), (volume, value, count, dests) in lines.items()
    ]
    rows.sort(key=lambda x: (-x.value_usd, -x.volume_tonnes, x.exporter, x.commodity))
    return ExportReport(
        period,
        commodity,
        tuple(rows),
        _buckets(by_commodity, decimal),
        _buckets(by_destination, decimal),
        _buckets(by_month, decimal, keys),
        missing,
    )


def aggregate(
    records: Iterable[Issued],
    period: Period,
    tz: ZoneInfo,
    canonical: Callable[[str], str] = lambda name: name,
    commodity: str | None = None,
) -> ExportReport:
    """The same report from single records (each one a group of one)."""
    # month starts as UTC moments: a bisect per record instead of a time-zone conversion
    starts = period.month_starts(tz)
    groups: list[Group] = []
    months: list[MonthSum] = []
    for i, r in enumerate(records):
        volume = Decimal(r.volume_tonnes or 0)
        value = Decimal(r.value_usd or 0)
        missing = int(r.volume_tonnes is None or r.value_usd is None)
        groups.append((r.exporter, r.commodity, r.destination, volume, value, 1, missing, i))
        index = bisect_right(starts, aware(r.issued_at)) - 1
        if 0 <= index:
            months.append((index, volume, value, 1))
    return combine(groups, months, period, canonical, commodity)


# -- help-desk figures --------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def normalise_question(text: str) -> str:
    """Group the same unanswered question typed slightly differently."""
    return _SPACES.sub(" ", text.casefold()).strip(" ?!.,")


def helpdesk_stats(
    queries: Iterable[tuple[int | None, str, str | None, str, int | None, dt.datetime]],
    tickets: Iterable[
        tuple[int, dt.datetime, str, float | None, float | None, dt.datetime | None, int | None]
    ],
    reminders_sent: int,
    days: int,
    since: dt.datetime,
    until: dt.datetime,
    documents_after_reminder: int | None = None,
) -> HelpdeskStats:
    """queries: (user, text, topic, outcome, feedback, at); tickets: (user, created, status,
    first response s, resolution s, SLA breached at, rating)."""
    ticket_rows = list(tickets)
    opened: dict[int, list[dt.datetime]] = defaultdict(list)
    for user, created, *_ in ticket_rows:
        opened[user].append(aware(created))
    for times in opened.values():
        times.sort()
    outcomes: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    deflected = 0
    for asker, text, topic, outcome, feedback, asked_at in queries:
        if outcome == "smalltalk":
            continue
        outcomes[outcome] += 1
        if outcome in ANSWERED:
            if topic:
                topics[topic] += 1
            if feedback == -1:
                continue
            tickets_of = opened.get(asker) if asker is not None else None
            at = aware(asked_at)
            if tickets_of:
                i = bisect_left(tickets_of, at)
                if i < len(tickets_of) and tickets_of[i] - at <= ESCALATION_WINDOW:
                    continue
            deflected += 1
        elif outcome == "no_match":
            key = normalise_question(text)
            if key:
                unanswered[key] += 1
    first = [row[3] for row in ticket_rows if row[3] is not None]
    resolved = [row[4] for row in ticket_rows if row[4] is not None]
    ratings = [row[6] for row in ticket_rows if row[6] is not None]
    return HelpdeskStats(
        days=days,
        since=since,
        until=until,
        questions=sum(outcomes.values()),
        answered=sum(outcomes[o] for o in ANSWERED),
        suggested=outcomes["suggest"],
        no_match=outcomes["no_match"],
        deflected=deflected,
        tickets=len(ticket_rows),
        tickets_closed=sum(1 for row in ticket_rows if row[2] == "closed"),
        first_response=Spread.of(first),
        resolution=Spread.of(resolved),
        sla_breaches=sum(1 for row in ticket_rows if row[5] is not None),
        ratings=len(ratings),
        rating_avg=sum(ratings) / len(ratings) if ratings else None,
        top_topics=tuple(sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]),
        top_unanswered=tuple(sorted(unanswered.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]),
        reminders_sent=reminders_sent,
        documents_after_reminder=documents_after_reminder,
    )

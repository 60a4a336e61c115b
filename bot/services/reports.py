"""Reports for the office: export realisation by SKA issuance, and help-desk figures.

Aggregation is plain Python over rows read once from the database, so the same code
serves /report, /stats, the CLI and the bench; charts and workbooks are rendered from
the aggregates in reports_charts.py and reports_xlsx.py.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func, select

from bot.db import Database
from bot.i18n import t
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
from bot.models import as_utc as _aware
from bot.services.answers import format_number
from bot.services.applications import ISSUED
from bot.services.documents import ACCEPTED, RECEIVED, REJECTED
from bot.services.presenters import ZONE_LABELS, esc
from bot.services.reminders import EXPORTER
from bot.services.report_args import CommodityNames
from knowledge.loader import ExportRow, Knowledge

ZERO = Decimal(0)
TOP = 5
# an answered question counts as escalated when its asker opens a ticket within this time
ESCALATION_WINDOW = dt.timedelta(hours=1)
ANSWERED = ("answer", "ask_destination")
MAX_DAYS = 366
# uploads that reached the office (not abandoned while choosing the document type)
SENT_DOCUMENTS = (RECEIVED, ACCEPTED, REJECTED)

CountryName = Callable[[str, str], str]     # (stored name, lang) -> name in that language


class ReportArgsError(ValueError):
    """The command's arguments do not name a period; the message key says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# -- periods -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date                # inclusive

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """UTC moments of the first office-zone midnight and of the one after `end`."""
        lo = dt.datetime.combine(self.start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(),
                                 tzinfo=tz).astimezone(dt.UTC)
        return lo, hi

    def months(self) -> list[str]:
        keys, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            keys.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return keys

    def label(self, lang: str) -> str:
        s, e = self.start, self.end
        if (s.month, s.day, e.month, e.day) == (1, 1, 12, 31) and s.year == e.year:
            return str(s.year)
        if s.day == 1 and (s.year, s.month) == (e.year, e.month) and _month_end(s) == e:
            return month_name(f"{s.year:04d}-{s.month:02d}", lang)
        if s == e:      # "kemarin": one day, its month named in the reader's language
            return format_date(s, "d MMMM y", locale=lang)
        if s.day == 1 and s.year == e.year and s.month % 3 == 1 and e.month == s.month + 2 \
                and _month_end(e) == e:
            return t("rep_quarter", lang, q=(s.month + 2) // 3, year=s.year)
        return t("rep_period_range", lang, start=f"{s:%d-%m-%Y}", end=f"{e:%d-%m-%Y}")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def _date_span(token: str) -> tuple[dt.date, dt.date] | None:
    """'2025' -> the year, '2025-03' -> the month, '2025-03-07' -> that day."""
    m = _DATE_RE.match(token)
    if m is None:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        first = dt.date(year, int(month), int(day or 1))
    except ValueError:
        return None
    return (first, first) if day else (first, _month_end(first))


def parse_report_args(args: Sequence[str], today: dt.date) -> tuple[Period, str | None]:
    """`[year|from to] [commodity]`: the period (this year by default) and a commodity."""
    words = list(args)
    spans = []
    while words and len(spans) < 2 and (span := _date_span(words[0])) is not None:
        spans.append(span)
        words.pop(0)
    if not spans and words and words[0][:1].isdigit():
        raise ReportArgsError("rep_bad_period")
    if not spans:
        period = Period.year(today.year)
    else:
        period = Period(spans[0][0], spans[-1][1])
    if period.end < period.start:
        raise ReportArgsError("rep_bad_period")
    commodity = " ".join(words).strip() or None
    return period, commodity[:120] if commodity else None


# -- export realisation -------------------------------------------------------------------

@dataclass(frozen=True)
class Issued:
    """One issued SKA as the report needs it."""

    exporter: str
    commodity: str
    destination: str
    volume_tonnes: Decimal | None
    value_usd: Decimal | None
    issued_at: dt.datetime


@dataclass(frozen=True)
class ExportLine:
    """One row of the office's table: an exporter and a commodity."""

    exporter: str
    commodity: str
    volume_tonnes: Decimal
    value_usd: Decimal
    destinations: tuple[str, ...]          # as recorded, largest value first
    count: int


@dataclass(frozen=True)
class Bucket:
    key: str
    volume_tonnes: Decimal
    value_usd: Decimal
    count: int


@dataclass(frozen=True)
class ExportReport:
    period: Period
    commodity: str | None
    lines: tuple[ExportLine, ...]
    by_commodity: tuple[Bucket, ...]
    by_destination: tuple[Bucket, ...]     # key: the country's English name
    by_month: tuple[Bucket, ...]           # key: YYYY-MM, every month of the period
    missing_figures: int                   # issued SKAs without volume or value
    published: Published | None = None     # the office's printed totals, when they apply

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def total_volume(self) -> Decimal:
        return sum((line.volume_tonnes for line in self.lines), ZERO)

    @property
    def total_value(self) -> Decimal:
        return sum((line.value_usd for line in self.lines), ZERO)

    @property
    def exporters(self) -> int:
        return len({line.exporter for line in self.lines})


@dataclass(frozen=True)
class Published:
    """Totals printed in the office's publication for one year."""

    year: int
    volume_tonnes: Decimal
    value_usd: Decimal


class _Sum:
    __slots__ = ("volume", "value", "count")

    def __init__(self) -> None:
        self.volume, self.value, self.count = ZERO, ZERO, 0

    def add(self, volume: Decimal, value: Decimal) -> None:
        self.volume += volume
        self.value += value
        self.count += 1


def _buckets(sums: dict[str, _Sum], keys: Iterable[str] | None = None) -> tuple[Bucket, ...]:
    if keys is None:
        keys = sorted(sums, key=lambda k: (-sums[k].value, -sums[k].volume, k))
    return tuple(Bucket(k, sums[k].volume, sums[k].value, sums[k].count) if k in sums
                 else Bucket(k, ZERO, ZERO, 0) for k in keys)


def aggregate(records: Iterable[Issued], period: Period, tz: ZoneInfo,
              canonical: Callable[[str], str] = lambda name: name,
              commodity: str | None = None) -> ExportReport:
    """Sum issued SKAs per exporter and commodity, per commodity, destination and month."""
    lines: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
    line_dest: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    by_commodity: dict[str, _Sum] = defaultdict(_Sum)
    by_destination: dict[str, _Sum] = defaultdict(_Sum)
    by_month: dict[str, _Sum] = defaultdict(_Sum)
    names: dict[str, str] = {}
    countries: dict[str, str] = {}
    # month starts as UTC moments: a bisect per record instead of a time-zone conversion
    months = period.months()
    starts = [dt.datetime(int(k[:4]), int(k[5:]), 1, tzinfo=tz).astimezone(dt.UTC)
              for k in months]
    missing = 0
    for r in records:
        if r.volume_tonnes is None or r.value_usd is None:
            missing += 1
        volume = Decimal(r.volume_tonnes or 0)
        value = Decimal(r.value_usd or 0)
        # one spelling per commodity: the first one seen, compared case-insensitively
        name = names.setdefault(r.commodity.strip().casefold(), r.commodity.strip())
        key = (r.exporter, name)
        lines[key].add(volume, value)
        dests = line_dest[key]
        dests[r.destination] = dests.get(r.destination, ZERO) + value
        by_commodity[name].add(volume, value)
        country = countries.get(r.destination)
        if country is None:
            country = countries[r.destination] = \
                canonical(r.destination) if r.destination else "-"
        by_destination[country].add(volume, value)
        when = r.issued_at if r.issued_at.tzinfo else r.issued_at.replace(tzinfo=dt.UTC)
        index = bisect_right(starts, when) - 1
        if 0 <= index:
            by_month[months[index]].add(volume, value)
    rows = [
        ExportLine(exporter, name, s.volume, s.value,
                   tuple(d for d, _ in sorted(line_dest[(exporter, name)].items(),
                                              key=lambda kv: (-kv[1], kv[0])) if d),
                   s.count)
        for (exporter, name), s in lines.items()
    ]
    rows.sort(key=lambda x: (-x.value_usd, -x.volume_tonnes, x.exporter, x.commodity))
    return ExportReport(period, commodity, tuple(rows), _buckets(by_commodity),
                        _buckets(by_destination), _buckets(by_month, months), missing)


# -- help-desk figures --------------------------------------------------------------------

@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile (nearest rank) of durations in seconds."""

    n: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        return cls(len(ordered), statistics.median(ordered),
                   ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class HelpdeskStats:
    days: int
    since: dt.datetime
    until: dt.datetime
    questions: int                 # every question except greetings and thanks
    answered: int                  # the bot gave an answer (not "did you mean")
    suggested: int
    no_match: int
    deflected: int                 # answered, not marked unhelpful, no ticket soon after
    tickets: int                   # escalated to an officer
    tickets_closed: int
    first_response: Spread
    resolution: Spread
    sla_breaches: int
    ratings: int
    rating_avg: float | None
    top_topics: tuple[tuple[str, int], ...]
    top_unanswered: tuple[tuple[str, int], ...]
    reminders_sent: int
    # None while the documents feature does not record received documents
    documents_after_reminder: int | None = None
    topic_titles: dict[str, str] = field(default_factory=dict)

    @property
    def deflection_rate(self) -> float | None:
        return self.deflected / self.questions if self.questions else None


_SPACES = re.compile(r"\s+")


def normalise_question(text: str) -> str:
    """Group the same unanswered question typed slightly differently."""
    return _SPACES.sub(" ", text.casefold()).strip(" ?!.,")




def helpdesk_stats(queries: Iterable[tuple[int | None, str, str | None, str, int | None,
                                           dt.datetime]],
                   tickets: Iterable[tuple[int, dt.datetime, str, float | None, float | None,
                                           dt.datetime | None, int | None]],
                   reminders_sent: int, days: int, since: dt.datetime, until: dt.datetime,
                   documents_after_reminder: int | None = None) -> HelpdeskStats:
    """queries: (user, text, topic, outcome, feedback, at); tickets: (user, created, status,
    first response s, resolution s, SLA breached at, rating)."""
    ticket_rows = list(tickets)
    opened: dict[int, list[dt.datetime]] = defaultdict(list)
    for user, created, *_ in ticket_rows:
        opened[user].append(_aware(created))
    for times in opened.values():
        times.sort()
    outcomes: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    deflected = 0
    for user, text, topic, outcome, feedback, at in queries:
        if outcome == "smalltalk":
            continue
        outcomes[outcome] += 1
        if outcome in ANSWERED:
            if topic:
                topics[topic] += 1
            if feedback == -1:
                continue
            times = opened.get(user) if user is not None else None
            at = _aware(at)
            if times:
                i = bisect_left(times, at)
                if i < len(times) and times[i] - at <= ESCALATION_WINDOW:
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
        days=days, since=since, until=until,
        questions=sum(outcomes.values()),
        answered=sum(outcomes[o] for o in ANSWERED),
        suggested=outcomes["suggest"], no_match=outcomes["no_match"],
        deflected=deflected, tickets=len(ticket_rows),
        tickets_closed=sum(1 for row in ticket_rows if row[2] == "closed"),
        first_response=Spread.of(first), resolution=Spread.of(resolved),
        sla_breaches=sum(1 for row in ticket_rows if row[5] is not None),
        ratings=len(ratings),
        rating_avg=sum(ratings) / len(ratings) if ratings else None,
        top_topics=tuple(sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]),
        top_unanswered=tuple(sorted(unanswered.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]),
        reminders_sent=reminders_sent, documents_after_reminder=documents_after_reminder,
    )


# -- the published table ------------------------------------------------------------------

@dataclass(frozen=True)
class TableCheck:
    rows: int
    volume_tonnes: Decimal
    value_usd: Decimal
    published_volume: Decimal | None
    published_value: Decimal | None

    def differences(self) -> list[tuple[str, Decimal, Decimal]]:
        """(what, published, sum of rows) for every total that disagrees with its rows."""
        found = []
        if self.published_volume is not None and self.published_volume != self.volume_tonnes:
            found.append(("volume_tonnes", self.published_volume, self.volume_tonnes))
        if self.published_value is not None and self.published_value != self.value_usd:
            found.append(("value_usd", self.published_value, self.value_usd))
        return found


def published_totals(kb: Knowledge) -> Published | None:
    """The printed totals kept with the export-statistics entry (data.published)."""
    entry = kb.entries.get("export-statistics")
    data = entry.data if entry is not None else {}
    printed = data.get("published") or {}
    if not data.get("year") or "value_usd" not in printed or "volume_tonnes" not in printed:
        return None
    return Published(int(data["year"]), Decimal(str(printed["volume_tonnes"])),
                     Decimal(str(printed["value_usd"])))


def check_table(rows: Sequence[ExportRow], published_volume: Decimal | None,
                published_value: Decimal | None) -> TableCheck:
    return TableCheck(len(rows), sum((r.volume_tonnes for r in rows), ZERO),
                      sum((r.value_usd for r in rows), ZERO), published_volume, published_value)


def compare_rows(published: Sequence[ExportRow], report: ExportReport) -> list[str]:
    """Rows of a published table that the issued applications do not reproduce."""
    ours = {(line.exporter.casefold(), line.commodity.casefold()): line for line in report.lines}
    problems = []
    for row in published:
        key = (row.exporter.casefold(), row.commodity.casefold())
        line = ours.pop(key, None)
        if line is None:
            problems.append(f"{row.exporter} / {row.commodity}: no issued applications")
            continue
        if line.volume_tonnes != row.volume_tonnes:
            problems.append(f"{row.exporter} / {row.commodity}: volume {row.volume_tonnes} "
                            f"published, {line.volume_tonnes} issued")
        if line.value_usd != row.value_usd:
            problems.append(f"{row.exporter} / {row.commodity}: value {row.value_usd} "
                            f"published, {line.value_usd} issued")
        if set(line.destinations) != set(row.destinations):
            problems.append(f"{row.exporter} / {row.commodity}: destinations "
                            f"{';'.join(row.destinations)} published, "
                            f"{';'.join(line.destinations)} issued")
    for line in ours.values():
        problems.append(f"{line.exporter} / {line.commodity}: issued but not in the table")
    return problems


# -- reading the database -----------------------------------------------------------------

@dataclass(frozen=True)
class Rendered:
    """What a report command sends: the summary text and, when there is data, the files."""

    summary: str                  # Telegram HTML
    png: bytes | None = None
    xlsx: bytes | None = None
    filename: str = ""
    report: ExportReport | None = None
    stats: HelpdeskStats | None = None
    empty: bool = False


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40] or "x"


def period_slug(period: Period) -> str:
    if period == Period.year(period.start.year):
        return str(period.start.year)
    return f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"


class ReportService:
    def __init__(self, db: Database, tz: ZoneInfo, country_name: CountryName,
                 published: Published | None = None,
                 topic_title: Callable[[str, str], str] = lambda tid, _lang: tid,
                 commodity_names: CommodityNames | None = None) -> None:
        self.db = db
        self.tz = tz
        # what officers may type for a commodity (knowledge/hs_codes.yaml)
        self.commodity_names = commodity_names or CommodityNames(())
        self._country_name = country_name
        self.published = published
        self.topic_title = topic_title
        self.zone = ZONE_LABELS.get(tz.key, tz.key)

    def country_name(self, name: str, lang: str) -> str:
        # the knowledge base says "the United States" to fit in sentences; a label drops it
        found = self._country_name(name, lang)
        return found[4:] if found.startswith("the ") else found

    def canonical(self, name: str) -> str:
        """One key per country however it was written (USA, United States)."""
        return self.country_name(name, "en")

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    def issued(self, period: Period, commodity: str | Sequence[str] | None = None
               ) -> list[Issued]:
        """Issued SKAs whose issuance (the 'issued' status event) falls in the period."""
        lo, hi = period.bounds(self.tz)
        issued_at = (select(StatusEvent.application_id, func.max(StatusEvent.at).label("at"))
                     .where(StatusEvent.to_status == ISSUED)
                     .group_by(StatusEvent.application_id).subquery())
        # applications issued before events were recorded fall back to their last change
        when = func.coalesce(issued_at.c.at, SkaApplication.updated_at)
        query = (select(Company.name, SkaApplication.commodity, SkaApplication.destination,
                        SkaApplication.volume_tonnes, SkaApplication.value_usd, when)
                 .join(Company, Company.id == SkaApplication.company_id)
                 .outerjoin(issued_at, issued_at.c.application_id == SkaApplication.id)
                 .where(SkaApplication.status == ISSUED, when >= lo, when < hi))
        if isinstance(commodity, str):
            query = query.where(func.lower(SkaApplication.commodity) == commodity.casefold())
        elif commodity is not None:
            # the recorded spellings of one commodity (report_args.CommodityNames)
            query = query.where(func.lower(SkaApplication.commodity).in_(
                [name.casefold() for name in commodity] or [""]))
        with self.db.session() as s:
            return [Issued(*row) for row in s.execute(query)]

    def commodities(self) -> list[str]:
        """Every commodity name recorded in the applications, once each."""
        with self.db.session() as s:
            names = s.scalars(select(SkaApplication.commodity).distinct())
            seen: dict[str, str] = {}
            for name in names:
                if name and name.strip():
                    seen.setdefault(name.strip().casefold(), name.strip())
            return sorted(seen.values())

    def export(self, period: Period, commodity: str | None = None,
               names: Sequence[str] | None = None) -> ExportReport:
        """`names`: the recorded names that `commodity` (then only a label) stands for."""
        report = aggregate(self.issued(period, commodity if names is None else names), period,
                           self.tz, self.canonical, commodity)
        if commodity and len(report.by_commodity) == 1:
            # show the commodity as recorded, not as typed
            report = replace(report, commodity=report.by_commodity[0].key)
        pub = self.published
        if pub and commodity is None and period == Period.year(pub.year):
            report = replace(report, published=pub)
        return report

    def stats(self, days: int, now: dt.datetime | None = None,
              since: dt.datetime | None = None) -> HelpdeskStats:
        """The last `days` up to `now`, or from `since` (a named period) up to `now`."""
        until = now or dt.datetime.now(dt.UTC)
        since = since or until - dt.timedelta(days=days)
        with self.db.session() as s:
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
            reminded = (select(Reminder.application_id,
                               func.min(OutboxMessage.sent_at).label("at"))
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
        return helpdesk_stats(queries, tickets, reminders, days, since, until, documents)

    # -- what a command sends ---------------------------------------------------------------

    def export_files(self, period: Period, commodity: str | None, lang: str,
                     office: str, names: Sequence[str] | None = None) -> Rendered:
        """Summary, chart and workbook of one export report (blocking: run it in a thread)."""
        # imported here: matplotlib takes a moment to load and only reports need it
        from bot.services.reports_charts import export_chart
        from bot.services.reports_xlsx import export_workbook

        report = self.export(period, commodity, names)
        summary = self.export_summary(report, lang)
        if not report.lines:
            return Rendered(summary, report=report)
        stem = t("rep_file_stem", lang) + "-" + period_slug(period)
        if commodity:
            stem += "-" + slug(commodity)
        return Rendered(summary, export_chart(report, lang, self.country_name),
                        export_workbook(report, lang, office, self.country_name,
                                        self.when(dt.datetime.now(dt.UTC))),
                        stem + ".xlsx", report)

    def stats_files(self, days: int, lang: str, office: str, chart: bool = False,
                    workbook: bool = False, now: dt.datetime | None = None,
                    period: str | None = None, since: dt.datetime | None = None) -> Rendered:
        """Summary of the help-desk figures, with the chart or workbook when asked for."""
        from bot.services.reports_charts import stats_chart
        from bot.services.reports_xlsx import stats_workbook

        st = self.stats(days, now, since)
        titles = {tid: self.topic_title(tid, lang) for tid, _ in st.top_topics}
        summary = self.stats_summary(st, lang, titles, period)
        empty = not st.questions and not st.tickets
        png = stats_chart(st, lang, titles) if chart and not empty else None
        period = t("rep_period_range", lang, start=self.when(st.since), end=self.when(st.until))
        xlsx = stats_workbook(st, lang, titles, office, period) if workbook and not empty \
            else None
        name = f"{t('stats_file_stem', lang)}-{days}.xlsx"
        return Rendered(summary, png, xlsx, name, stats=st, empty=empty)

    # -- text for people ------------------------------------------------------------------

    def when(self, moment: dt.datetime) -> str:
        return f"{_aware(moment).astimezone(self.tz):%d-%m-%Y %H:%M} {self.zone}"

    def export_summary(self, report: ExportReport, lang: str) -> str:
        """The short message that goes with the chart and the workbook."""
        head = t("rep_title", lang, period=report.period.label(lang))
        if report.commodity:
            head += "\n" + t("rep_commodity_filter", lang, commodity=esc(report.commodity))
        if not report.lines:
            return head + "\n" + t("rep_none", lang)
        total = report.total_value
        lines = [head, t("rep_totals", lang, count=report.count,
                         tonnes=format_number(report.total_volume, lang),
                         value=format_number(total, lang), exporters=report.exporters,
                         countries=len(report.by_destination))]
        lines.append(t("rep_by_commodity", lang))
        for b in report.by_commodity[:TOP]:
            lines.append(t("rep_share_line", lang, name=esc(b.key),
                           value=format_number(b.value_usd, lang), share=_share(b, total, lang)))
        lines.append(t("rep_by_destination", lang))
        for b in report.by_destination[:TOP]:
            lines.append(t("rep_share_line", lang, name=esc(self.country_name(b.key, lang)),
                           value=format_number(b.value_usd, lang), share=_share(b, total, lang)))
        pub = report.published
        if pub is not None:
            for key, printed, ours in (("rep_published_volume", pub.volume_tonnes,
                                        report.total_volume),
                                       ("rep_published_value", pub.value_usd, total)):
                if printed != ours:
                    lines.append(t(key, lang, published=format_number(printed, lang),
                                   gap=format_number(abs(printed - ours), lang)))
        if report.missing_figures:
            lines.append(t("rep_missing_figures", lang, count=report.missing_figures))
        return "\n".join(lines)

    def stats_summary(self, st: HelpdeskStats, lang: str, titles: dict[str, str],
                      period: str | None = None) -> str:
        rate = "-" if st.deflection_rate is None else \
            format_number(Decimal(st.deflection_rate * 100), lang, 1) + "%"
        title = t("stats_title", lang, days=st.days, since=self.when(st.since),
                  until=self.when(st.until)) if period is None else \
            t("stats_title_period", lang, period=period, since=self.when(st.since),
              until=self.when(st.until))
        lines = [
            title,
            t("stats_questions", lang, count=st.questions, answered=st.answered,
              suggested=st.suggested, no_match=st.no_match),
            t("stats_deflection", lang, count=st.deflected, rate=rate),
            t("stats_escalated", lang, count=st.tickets, closed=st.tickets_closed),
            t("stats_first_response", lang, median=duration(st.first_response.median, lang),
              p90=duration(st.first_response.p90, lang), n=st.first_response.n),
            t("stats_resolution", lang, median=duration(st.resolution.median, lang),
              p90=duration(st.resolution.p90, lang), n=st.resolution.n),
            t("stats_sla", lang, count=st.sla_breaches),
            t("stats_rating", lang, n=st.ratings,
              avg="-" if st.rating_avg is None
              else format_number(Decimal(st.rating_avg), lang, 1)),
            t("stats_reminders", lang, count=st.reminders_sent,
              documents="-" if st.documents_after_reminder is None
              else st.documents_after_reminder),
        ]
        if st.top_topics:
            lines.append(t("stats_top_topics", lang))
            lines += [f"• {esc(titles.get(tid, tid))}: {n}" for tid, n in st.top_topics]
        if st.top_unanswered:
            lines.append(t("stats_top_unanswered", lang))
            lines += [f"• <i>{esc(text[:80])}</i>: {n}" for text, n in st.top_unanswered]
        if period is None:
            lines.append(t("stats_more", lang, days=st.days))
        return "\n".join(lines)


def _share(bucket: Bucket, total: Decimal, lang: str) -> str:
    if not total:
        return "-"
    return format_number(bucket.value_usd * 100 / total, lang, 1) + "%"


def duration(seconds: float | None, lang: str) -> str:
    """Business time as hours and minutes: 5400 -> '1 j 30 m' / '1 h 30 m'."""
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    return t("stats_duration", lang, h=minutes // 60, m=minutes % 60)


def month_name(key: str, lang: str) -> str:
    """'2025-03' -> 'Maret 2025' / 'March 2025'."""
    year, month = key.split("-")
    return f"{t('rep_months', lang).split(',')[int(month) - 1]} {year}"

"""What the report sections hand each other: the figures of a report, nothing that renders."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.services.reports.period import Period

ZERO = Decimal(0)
TOP = 5

CountryName = Callable[[str, str], str]  # (stored name, lang) -> name in that language


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
    destinations: tuple[str, ...]  # as recorded, largest value first
    count: int


@dataclass(frozen=True)
class Bucket:
    key: str
    volume_tonnes: Decimal
    value_usd: Decimal
    count: int


@dataclass(frozen=True)
class Published:
    """Totals printed in the office's publication for one year."""

    year: int
    volume_tonnes: Decimal
    value_usd: Decimal


@dataclass(frozen=True)
class ExportReport:
    period: Period
    commodity: str | None
    lines: tuple[ExportLine, ...]
    by_commodity: tuple[Bucket, ...]
    by_destination: tuple[Bucket, ...]  # key: the country's English name
    by_month: tuple[Bucket, ...]  # key: YYYY-MM, every month of the period
    missing_figures: int  # issued SKAs without volume or value
    published: Published | None = None  # the office's printed totals, when they apply

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
        return cls(len(ordered), statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class HelpdeskStats:
    days: int
    since: dt.datetime
    until: dt.datetime
    questions: int  # every question except greetings and thanks
    answered: int  # the bot gave an answer (not "did you mean")
    suggested: int
    no_match: int
    deflected: int  # answered, not marked unhelpful, no ticket soon after
    tickets: int  # escalated to an officer
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


# -- what a command sends -----------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """What a report command sends: the summary text and, when there is data, the files."""

    summary: str  # Telegram HTML
    png: bytes | None = None
    xlsx: bytes | None = None
    filename: str = ""
    report: ExportReport | None = None
    stats: HelpdeskStats | None = None
    empty: bool = False

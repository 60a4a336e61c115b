"""The period a report covers: office-calendar days, their UTC bounds, months and labels.

The command line names a period as `2025`, `2025-03` or `2025-03-07` (one or two of
them); what officers type in Telegram is read by `args.py` into the same `Period`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot import text
from bot.i18n import t


class ReportArgsError(ValueError):
    """The command's arguments do not name a period; the message key says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """UTC moments of the first office-zone midnight and of the one after `end`."""
        lo = dt.datetime.combine(self.start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        return lo, hi

    def months(self) -> list[str]:
        keys, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            keys.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return keys

    def month_starts(self, tz: ZoneInfo) -> list[dt.datetime]:
        """The UTC moment each month of `months()` begins in the office zone."""
        return [dt.datetime(int(k[:4]), int(k[5:]), 1, tzinfo=tz).astimezone(dt.UTC) for k in self.months()]

    def label(self, lang: str) -> str:
        s, e = self.start, self.end
        if (s.month, s.day, e.month, e.day) == (1, 1, 12, 31) and s.year == e.year:
            return str(s.year)
        if s.day == 1 and (s.year, s.month) == (e.year, e.month) and month_end(s) == e:
            return month_name(f"{s.year:04d}-{s.month:02d}", lang)
        if s == e:  # "kemarin": one day, its month named in the reader's language
            return format_date(s, "d MMMM y", locale=lang)
        if (
            s.day == 1
            and s.year == e.year
            and s.month % 3 == 1
            and e.month == s.month + 2
            and month_end(e) == e
        ):
            return t("rep_quarter", lang, q=(s.month + 2) // 3, year=s.year)
        return t("rep_period_range", lang, start=f"{s:%d-%m-%Y}", end=f"{e:%d-%m-%Y}")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))


def month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def month_name(key: str, lang: str) -> str:
    """'2025-03' -> 'Maret 2025' / 'March 2025'."""
    year, month = key.split("-")
    return f"{text.month_name(int(month), lang)} {year}"


def period_slug(period: Period) -> str:
    """The period in a file name: '2025', or '20250101-20250630'."""
    if period == Period.year(period.start.year):
        return str(period.start.year)
    return f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"


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
    return (first, first) if day else (first, month_end(first))


def parse_report_args(args: Sequence[str], today: dt.date) -> tuple[Period, str | None]:
    """`[year|from to] [commodity]`: the period (this year by default) and a commodity."""
    words = list(args)
    spans: list[tuple[dt.date, dt.date]] = []
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

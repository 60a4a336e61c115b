"""The office calendar: working days, opening hours and business time (office time zone)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import OfficeSettings

if TYPE_CHECKING:
    import holidays

_ONE_DAY = dt.timedelta(days=1)


class OfficeCalendar:
    """Working days are weekdays with counter hours in the config that are neither national
    holidays (with Indonesia's cuti bersama, from the `holidays` library) nor the office's
    own closures (office.holidays)."""

    def __init__(self, office: OfficeSettings, tz: ZoneInfo) -> None:
        if not office.hours:
            # every search for "the next working day" would never end
            raise ValueError("office.hours: the office has no opening hours on any weekday")
        self.office = office
        self.tz = tz

    @cached_property
    def national(self) -> holidays.HolidayBase | None:
        """The national holidays, built on first use (`run` builds them once polling has
        started) and filled year by year as they are asked for (expand), so no year is
        ever missing."""
        if not self.office.holiday_country:
            return None
        import holidays  # here: the library imports all its countries for one, a tenth of start-up

        return holidays.country_holidays(
            self.office.holiday_country, categories=self.office.holiday_categories, language="id"
        )

    def holiday(self, day: dt.date) -> str | None:
        """Why the office is closed that day (the holiday's name), or None."""
        if day in self.office.holidays:
            return "office"
        if self.national is not None:
            return self.national.get(day)
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.office.hours and self.holiday(day) is None

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (before it when n < 0); n == 0 returns `day`."""
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        left = abs(n)
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after `a` up to and including `b`.

        0 when a == b; negative (minus the count from b to a) when b is before a, so
        the result always says how far b lies from a in working days.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a
        while day < b:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a time zone-aware datetime is required")
        return moment.astimezone(self.tz)

    def _span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """Opening and closing moment of `day`, or None when the office is closed."""
        if not self.is_working_day(day):
            return None
        start, end = self.office.hours[day.weekday()]
        return (
            dt.datetime.combine(day, start, tzinfo=self.tz),
            dt.datetime.combine(day, end, tzinfo=self.tz),
        )

    def is_open(self, moment: dt.datetime) -> bool:
        local = self._local(moment)
        span = self._span(local.date())
        return span is not None and span[0] <= local < span[1]

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """When the office next opens, in the office zone; `moment` itself if open then."""
        local = self._local(moment)
        if self.is_open(local):
            return local
        day = local.date()
        span = self._span(day)
        if span is not None and local < span[0]:
            return span[0]
        day = self.add_working_days(day, 1)
        span = self._span(day)
        assert span is not None  # add_working_days only returns working days for n > 0
        return span[0]

    def business_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of opening hours between two moments; 0 when end is not after start."""
        start, end = self._local(start), self._local(end)
        if end <= start:
            return 0.0
        total = 0.0
        day = start.date()
        while day <= end.date():
            span = self._span(day)
            if span is not None:
                lo, hi = max(start, span[0]), min(end, span[1])
                if hi > lo:
                    # subtract in UTC: wall-clock subtraction would be wrong across a DST change
                    total += (hi.astimezone(dt.UTC) - lo.astimezone(dt.UTC)).total_seconds()
            day += _ONE_DAY
        return total

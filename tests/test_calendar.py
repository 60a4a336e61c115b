"""The office calendar: working days, hours and business time, in WIB."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse_settings
from bot.services.calendar import OfficeCalendar

WIB = ZoneInfo("Asia/Jakarta")
HOLIDAY = dt.date(2025, 3, 31)  # a Monday (Idul Fitri 1446 H)


def calendar(**office: object) -> OfficeCalendar:
    # the arithmetic below is checked on the office's own closures alone; the national
    # calendar has tests of its own at the end
    office = {"national_holidays": False, **office}
    settings = parse_settings({"office": {"holidays": [HOLIDAY.isoformat()], **office}}, env={})
    return OfficeCalendar(settings.office, settings.timezone)


def wib(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=WIB)


CAL = calendar()
THU, FRI, SAT, SUN = (dt.date(2025, 3, d) for d in (27, 28, 29, 30))
TUE = dt.date(2025, 4, 1)


def test_weekend_and_holiday_are_not_working_days() -> None:
    assert CAL.is_working_day(THU) and CAL.is_working_day(FRI) and CAL.is_working_day(TUE)
    assert not CAL.is_working_day(SAT) and not CAL.is_working_day(SUN)
    assert not CAL.is_working_day(HOLIDAY)


def test_add_working_days_skips_weekend_and_holiday() -> None:
    assert CAL.add_working_days(THU, 1) == FRI
    assert CAL.add_working_days(FRI, 1) == TUE  # Sat, Sun, holiday Monday
    assert CAL.add_working_days(TUE, -1) == FRI
    assert CAL.add_working_days(SAT, 0) == SAT
    assert CAL.add_working_days(SAT, 1) == TUE


def test_working_days_between_counts_after_a_up_to_b() -> None:
    assert CAL.working_days_between(FRI, FRI) == 0
    assert CAL.working_days_between(FRI, TUE) == 1
    assert CAL.working_days_between(THU, dt.date(2025, 4, 3)) == 4  # Fri, Tue, Wed, Thu
    assert CAL.working_days_between(TUE, FRI) == -1
    assert CAL.working_days_between(SAT, SUN) == 0


def test_is_open_follows_hours_and_friday_closes_later() -> None:
    assert not CAL.is_open(wib(2025, 3, 27, 7, 29))
    assert CAL.is_open(wib(2025, 3, 27, 7, 30))
    assert not CAL.is_open(wib(2025, 3, 27, 16, 15))  # Thursday closes 16:00
    assert CAL.is_open(wib(2025, 3, 28, 16, 15))  # Friday closes 16:30
    assert not CAL.is_open(wib(2025, 3, 28, 16, 30))
    assert not CAL.is_open(wib(2025, 3, 29, 10))  # Saturday
    assert not CAL.is_open(wib(2025, 3, 31, 10))  # holiday


def test_utc_input_is_read_in_wib_which_has_no_dst() -> None:
    # 00:30 UTC is 07:30 WIB all year round
    for month in (1, 7):
        assert CAL.is_open(dt.datetime(2025, month, 2, 0, 30, tzinfo=dt.UTC))
        assert wib(2025, month, 2).utcoffset() == dt.timedelta(hours=7)
    with pytest.raises(ValueError):
        CAL.is_open(dt.datetime(2025, 3, 27, 10))  # naive: which zone?


def test_next_opening() -> None:
    assert CAL.next_opening(wib(2025, 3, 27, 6)) == wib(2025, 3, 27, 7, 30)
    assert CAL.next_opening(wib(2025, 3, 27, 10)) == wib(2025, 3, 27, 10)  # open already
    assert CAL.next_opening(wib(2025, 3, 27, 16)) == wib(2025, 3, 28, 7, 30)
    # Friday evening -> past the weekend and the holiday Monday
    opening = CAL.next_opening(dt.datetime(2025, 3, 28, 12, 0, tzinfo=dt.UTC))  # 19:00 WIB
    assert opening == wib(2025, 4, 1, 7, 30) and opening.tzinfo == WIB


def test_business_seconds_across_midnight_weekend_and_holiday() -> None:
    hour = 3600
    assert CAL.business_seconds_between(wib(2025, 3, 27, 9), wib(2025, 3, 27, 10)) == hour
    # Thursday 15:00 -> Friday 09:00: one hour on Thursday, 1.5 h on Friday
    assert CAL.business_seconds_between(wib(2025, 3, 27, 15), wib(2025, 3, 28, 9)) == 2.5 * hour
    # Friday 16:00 -> Tuesday 08:30: half an hour on Friday (closes 16:30), one hour Tuesday
    assert CAL.business_seconds_between(wib(2025, 3, 28, 16), wib(2025, 4, 1, 8, 30)) == 1.5 * hour
    assert CAL.business_seconds_between(wib(2025, 3, 29, 8), wib(2025, 3, 31, 17)) == 0
    assert CAL.business_seconds_between(wib(2025, 3, 28, 10), wib(2025, 3, 27, 10)) == 0
    # a whole Friday is 9 hours
    assert CAL.business_seconds_between(wib(2025, 3, 28), wib(2025, 3, 29)) == 9 * hour


def test_configured_hours_are_used_and_an_office_never_open_is_refused() -> None:
    cal = calendar(hours={"sat": "08:00-12:00"})
    assert cal.is_working_day(SAT) and not cal.is_working_day(THU)
    with pytest.raises(ValueError):
        calendar(hours={"mon": "closed"})


def test_national_holidays_and_cuti_bersama_are_closed_days() -> None:
    cal = OfficeCalendar(parse_settings({}, env={}).office, WIB)
    assert not cal.is_working_day(dt.date(2026, 3, 20))  # cuti bersama Idul Fitri
    assert not cal.is_working_day(dt.date(2026, 8, 17))  # Hari Kemerdekaan (a Monday)
    assert not cal.is_working_day(dt.date(2026, 12, 24))  # cuti bersama Natal
    assert cal.is_working_day(dt.date(2026, 12, 23))
    assert "Natal" in (cal.holiday(dt.date(2026, 12, 24)) or "")
    # Lebaran week 2026: Fri 20 March to Tue 24 March closed; Wed 25 is the next working day
    assert cal.add_working_days(dt.date(2026, 3, 19) - dt.timedelta(days=1), 1) == dt.date(2026, 3, 25)


def test_public_only_keeps_cuti_bersama_open_and_office_closures_add_up() -> None:
    office = parse_settings(
        {"office": {"holiday_categories": ["public"], "holidays": ["2026-12-23"]}}, env={}
    ).office
    cal = OfficeCalendar(office, WIB)
    assert cal.is_working_day(dt.date(2026, 12, 24))
    assert not cal.is_working_day(dt.date(2026, 12, 23))
    assert not cal.is_working_day(dt.date(2026, 12, 25))


@pytest.mark.parametrize(
    ("office", "key"),
    [
        ({"national_holidays": "XX"}, "office.national_holidays"),
        ({"holiday_categories": ["bank"]}, "office.holiday_categories"),
    ],
)
def test_bad_holiday_settings_name_the_key(office: dict[str, object], key: str) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match=key):
        parse_settings({"office": office}, env={})


def test_the_default_national_calendar_is_offered_by_the_holidays_library() -> None:
    """A config that keeps the defaults is not checked against the library at start-up
    (bot/config_schema.py, DEFAULT_HOLIDAYS): this is where they are checked."""
    import holidays

    from bot.config_schema import DEFAULT_HOLIDAYS

    country, categories = DEFAULT_HOLIDAYS
    assert country in holidays.list_supported_countries()
    assert set(categories) <= set(holidays.country_holidays(country).supported_categories)
    settings = parse_settings({}, env={})
    assert (settings.office.holiday_country, settings.office.holiday_categories) == DEFAULT_HOLIDAYS

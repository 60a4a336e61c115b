"""Quiet hours and the national calendar from the configuration; quiet idle logs."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.cli import setup_logging
from bot.config import ConfigError, load_settings, parse_settings
from bot.services import Services, build_services

ROOT = Path(__file__).resolve().parent.parent
WIB = dt.timezone(dt.timedelta(hours=7))


def test_quiet_hours_come_from_the_configuration(tmp_path: Path) -> None:
    settings = parse_settings(
        {"database": {"url": f"sqlite:///{tmp_path / 'a.db'}"}, "reminders": {"quiet_hours": "21:30-06:00"}},
        env={},
    )
    svc: Services = build_services(settings)
    try:
        late = dt.datetime(2026, 12, 1, 21, 0, tzinfo=WIB)
        assert svc.reminders.not_before(late) is None  # 21:00 is not quiet now
        later = dt.datetime(2026, 12, 1, 22, 0, tzinfo=WIB)
        assert svc.reminders.not_before(later) == dt.datetime(2026, 12, 2, 6, 0, tzinfo=WIB)
        early = dt.datetime(2026, 12, 2, 5, 0, tzinfo=WIB)
        assert svc.reminders.not_before(early) == dt.datetime(2026, 12, 2, 6, 0, tzinfo=WIB)
    finally:
        svc.close()


@pytest.mark.parametrize(
    "raw",
    [
        {"quiet_hours": "20:00"},
        {"quiet_hours": "25:00-07:00"},
        {"quiet_hours": "08:00-17:00", "time": "09:00"},
    ],
)
def test_bad_quiet_hours_are_refused_with_the_key(raw: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"reminders\.(quiet_hours|time)"):
        parse_settings({"reminders": raw}, env={})


def test_the_example_configuration_loads() -> None:
    settings = load_settings(ROOT / "config.example.yaml", env={})
    assert settings.office.holiday_country == "ID"
    assert "government" in settings.office.holiday_categories
    assert settings.reminders.quiet_from == dt.time(20, 0)


def test_the_scheduler_is_quiet_at_idle() -> None:
    setup_logging()
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler").level == logging.WARNING

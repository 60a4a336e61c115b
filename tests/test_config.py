"""config.yaml validated as a whole: unknown keys, every problem at once, secrets kept."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import TOKEN_ENV, ConfigError, load_settings, parse_settings
from tests.conftest import ROOT

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ"


def problems(raw: object, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, env=env or {})  # type: ignore[arg-type]
    return caught.value.problems


def test_the_example_config_loads_with_its_documented_defaults() -> None:
    settings = load_settings(ROOT / "config.example.yaml", env={})
    assert settings.database_url == "sqlite:///ska-helpdesk.db"
    assert settings.telegram.token is None and settings.telegram.webhook is None
    assert settings.office.hours[4] == (dt.time(7, 30), dt.time(16, 30))
    assert dt.date(2026, 5, 20) in settings.office.holidays  # an office closure
    assert settings.office.holiday_country == "ID"  # national days from the library
    assert settings.matcher.answer_threshold == 58.5 and settings.throttle.messages == 20
    assert settings.reminders.time == dt.time(9, 0)
    assert settings.telegram.startup_retry_seconds == 300 and settings.outbox.group_per_minute == 20


def test_misspelt_keys_are_refused_with_the_nearest_key_all_at_once() -> None:
    found = problems({"tokn": TOKEN, "databse": {"url": "sqlite://"}, "matcher": {"answer_treshold": 1}})
    assert "databse: unknown key; did you mean `database`?" in found
    assert "matcher.answer_treshold: unknown key; did you mean `answer_threshold`?" in found
    assert "tokn: unknown key; did you mean `telegram.token`?" in found
    assert len(found) == 3
    # the misspelt token's value is not repeated anywhere
    assert not any(TOKEN in line for line in found)


def test_every_type_and_range_problem_is_listed_with_its_path() -> None:
    found = problems(
        {
            "telegram": {"concurrent_updates": 2.5},
            "office": {"hours": {"mon": "9-5", "mondy": "07:00-15:00"}, "holidays": ["2025-13-01"]},
            "officers": {"chat_id": "group", "user_ids": [1, "abc"]},
            "matcher": {"answer_threshold": 300, "min_gap": "wide"},
            "timezone": "Mars/Olympus",
            "outbox": [1, 2],
        }
    )
    text = "\n".join(found)
    for expected in (
        "telegram.concurrent_updates: must be a whole number, got 2.5",
        "office.hours.mon: expected 'HH:MM-HH:MM', got '9-5'",
        "office.hours.mondy: unknown key; did you mean `mon`?",
        "office.holidays[0]: '2025-13-01' is not a date",
        "officers.chat_id: must be a whole number, got 'group'",
        "officers.user_ids[1]: must be a whole number, got 'abc'",
        "matcher.answer_threshold: must be between 0 and 100, got 300",
        "matcher.min_gap: must be a number, got 'wide'",
        "timezone: unknown time zone 'Mars/Olympus'",
        "outbox: must be a mapping of settings",
    ):
        assert expected in text, text
    assert len(found) == 10


def test_an_unquoted_time_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("reminders:\n  time: 9:30\n")  # YAML 1.1: 9 * 60 + 30 = 570
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.problems == [
        'reminders.time: write the time in quotes, e.g. "09:00" (YAML read 570 as a number)'
    ]


def test_booleans_are_not_numbers_and_empty_keys_mean_the_default() -> None:
    assert problems({"throttle": {"messages": True}}) == [
        "throttle.messages: must be a whole number, got True"
    ]
    settings = parse_settings(
        {"matcher": {"answer_threshold": None}, "telegram": None, "office": {"phone": 536123}}, env={}
    )
    assert settings.matcher.answer_threshold == 58.5
    assert settings.office.phone == "536123"  # YAML read the phone number as a number


def test_the_token_is_a_secret_and_an_environment_value_is_named_as_such() -> None:
    settings = parse_settings({}, env={TOKEN_ENV: f" {TOKEN} "})
    assert settings.require_token() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.telegram.token)
    found = problems({}, {TOKEN_ENV: TOKEN + "!"})
    assert found == [f"{TOKEN_ENV}: does not look like a bot token (digits:letters)"]
    found = problems({"telegram": {"token": TOKEN + "!"}})
    assert found == ["telegram.token: does not look like a bot token (digits:letters)"]


def test_the_database_url_from_the_environment_overrides_the_file() -> None:
    settings = parse_settings(
        {"database": {"url": "sqlite:///file.db"}}, env={"SKA_DATABASE_URL": "sqlite:///env.db"}
    )
    assert settings.database_url == "sqlite:///env.db"
    assert problems({}, {"SKA_DATABASE_URL": "ska.db"})[0].startswith(
        "SKA_DATABASE_URL: the value is not a database URL"
    )


@pytest.mark.parametrize(
    ("raw", "env", "secret"),
    [
        ({"telegram": TOKEN}, {}, TOKEN),  # the section written as the token itself
        ({"database": "postgresql+psycopg://ska:Sup3rS3cret@127.0.0.1/ska"}, {}, "Sup3rS3cret"),
        ({"telegram": {"webhook": "SECRETWEBHOOKabc"}}, {}, "SECRETWEBHOOKabc"),
        ({}, {"SKA_DATABASE_URL": "postgresql+psycopg:/ska:Sup3rS3cret@127.0.0.1/ska"}, "Sup3rS3cret"),
        ({"database": {"url": "ska:Sup3rS3cret@127.0.0.1:5432/ska"}}, {}, "Sup3rS3cret"),
        ({"database": {"url": 12345}}, {}, "12345"),
    ],
)
def test_a_config_error_never_quotes_a_secret(raw: object, env: dict[str, str], secret: str) -> None:
    found = problems(raw, env)
    assert found and not any(secret in line for line in found), found


def test_a_billion_laughs_config_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="aliases"):
        load_settings(path, env={})
    assert time.monotonic() - started < 1


def test_a_huge_config_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("office:\n  name: " + "x" * 300_000 + "\n")
    with pytest.raises(ConfigError, match="too large"):
        load_settings(path, env={})


def test_the_command_line_prints_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("tokn: x\ndatabse: {url: 'sqlite://'}\nmatcher: {answer_treshold: 1}\n")
    assert main(["--config", str(path), "ask", "halo"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("config error: ") for line in lines)
    assert "config error: databse: unknown key; did you mean `database`?" in lines


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ({"telegram": {"base_url": "api.telegram.org/bot"}}, "telegram.base_url: must start with http://"),
        ({"telegram": {"base_url": 5}}, "telegram.base_url: must start with http://"),
        (
            {"database": {"url": "postgresql+psycopg://ska:pw@[::1/ska"}},
            "database.url: the value is not a valid database URL",
        ),
    ],
)
def test_an_address_that_cannot_work_is_refused_when_the_config_is_read(raw: object, line: str) -> None:
    found = problems(raw)
    assert len(found) == 1 and found[0].startswith(line)


def test_working_addresses_pass() -> None:
    settings = parse_settings(
        {"telegram": {"base_url": "http://127.0.0.1:8081/bot"}, "database": {"url": "sqlite:///x.db"}}, env={}
    )
    assert settings.database_url == "sqlite:///x.db"

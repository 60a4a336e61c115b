"""Settings: YAML file + environment -> one validated, typed object."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from knowledge.matcher import Thresholds

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
DATABASE_ENV = "SKA_DATABASE_URL"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
# what Telegram accepts as X-Telegram-Bot-Api-Secret-Token
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{2,}$")
_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Secret:
    """Keeps the token out of reprs, tracebacks and logs."""

    value: str

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class WebhookSettings:
    """Telegram posts updates to `url`; the bot listens on listen:port at `path`."""

    url: str
    secret_token: Secret
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = ""


@dataclass(frozen=True)
class HealthSettings:
    listen: str = "127.0.0.1"
    port: int | None = None          # None: no health endpoint


@dataclass(frozen=True)
class TelegramSettings:
    token: Secret | None = None
    base_url: str | None = None
    base_file_url: str | None = None
    bot_username: str | None = None
    webhook: WebhookSettings | None = None
    # updates handled at the same time (different senders; one sender's stay in order)
    concurrent_updates: int = 1


@dataclass(frozen=True)
class OutboxSettings:
    rate_per_second: float = 25.0
    per_chat_per_second: float = 1.0


@dataclass(frozen=True)
class ThrottleSettings:
    """Flood control per user: at most `messages` updates in any `window_seconds`."""

    messages: int = 20
    window_seconds: float = 10.0


@dataclass(frozen=True)
class ReminderSettings:
    """Missing-document reminders: daily pass time (office zone) and cadence."""

    time: dt.time = dt.time(9, 0)
    first_after_hours: float = 24.0
    every_working_days: int = 2
    max_times: int = 3


@dataclass(frozen=True)
class OfficeSettings:
    name: str = "IPSKA Disdagperin Provinsi Kalimantan Tengah"
    address: str = ""
    phone: str = ""
    # weekday index (0 = Monday) -> (open, close); days absent are closed
    hours: dict[int, tuple[dt.time, dt.time]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    # False while `hours` are the built-in default: the calendar needs some week, but
    # the bot must not tell exporters unconfirmed counter hours as the office's own
    hours_set: bool = False


@dataclass(frozen=True)
class MatcherSettings:
    answer_threshold: float = 58.5
    suggest_threshold: float = 42.0
    min_gap: float = 1.0
    anchored_threshold: float = 50.0
    anchored_gap: float = 6.0

    def thresholds(self) -> Thresholds:
        return Thresholds(self.answer_threshold, self.suggest_threshold, self.min_gap,
                          self.anchored_threshold, self.anchored_gap)


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings
    database_url: str
    timezone: ZoneInfo
    office: OfficeSettings
    officers_chat_id: int | None
    officer_ids: frozenset[int]
    admin_ids: frozenset[int]
    matcher: MatcherSettings
    knowledge_dir: Path
    outbox: OutboxSettings = OutboxSettings()
    link_code_days: float = 7.0
    reminders: ReminderSettings = ReminderSettings()
    tickets_first_response_minutes: float = 120.0
    throttle: ThrottleSettings = ThrottleSettings()
    health: HealthSettings = HealthSettings()
    source: Path | None = None

    def require_token(self) -> str:
        if self.telegram.token is None:
            raise ConfigError(
                f"telegram.token: no bot token; set the environment variable {TOKEN_ENV} "
                "(or try `python -m bot chat`, which needs none)"
            )
        return self.telegram.token.value


DEFAULT_HOURS = {
    "mon": "07:30-16:00",
    "tue": "07:30-16:00",
    "wed": "07:30-16:00",
    "thu": "07:30-16:00",
    "fri": "07:30-16:30",
}
DEFAULT_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a mapping of settings, got {type(value).__name__}")
    return value


def _int_list(value: Any, key: str) -> frozenset[int]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ConfigError(f"{key}: must be a list of numeric Telegram user ids")
    return frozenset(value)


def _str(value: Any, key: str, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ConfigError(f"{key}: must be text")
    return str(value)


def _hours(raw: Any) -> dict[int, tuple[dt.time, dt.time]]:
    if raw is None:
        raw = DEFAULT_HOURS
    if not isinstance(raw, dict):
        raise ConfigError("office.hours: must map weekdays (mon..sun) to 'HH:MM-HH:MM'")
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    for day, span in raw.items():
        key = f"office.hours.{day}"
        if day not in WEEKDAYS:
            raise ConfigError(f"{key}: unknown weekday; use one of {', '.join(WEEKDAYS)}")
        if span in (None, "", "closed"):
            continue
        m = _HOURS_RE.match(str(span))
        if not m:
            raise ConfigError(f"{key}: expected 'HH:MM-HH:MM', got {span!r}")
        try:
            start = dt.time(int(m[1]), int(m[2]))
            end = dt.time(int(m[3]), int(m[4]))
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        if end <= start:
            raise ConfigError(f"{key}: closing time must be after opening time")
        hours[WEEKDAYS.index(day)] = (start, end)
    return hours


def _holidays(raw: Any) -> frozenset[dt.date]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise ConfigError("office.holidays: must be a list of dates (YYYY-MM-DD)")
    days = set()
    for item in raw:
        if isinstance(item, dt.date):
            days.add(item)
            continue
        try:
            days.add(dt.date.fromisoformat(str(item)))
        except ValueError:
            raise ConfigError(f"office.holidays: {item!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)


def _number(value: Any, key: str, default: float, lo: float, hi: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: must be a number")
    if not lo <= value <= hi:
        raise ConfigError(f"{key}: must be between {lo:g} and {hi:g}, got {value}")
    return float(value)


def _whole(value: Any, key: str, default: int, lo: int, hi: int) -> int:
    number = _number(value, key, default, lo, hi)
    if number != int(number):
        raise ConfigError(f"{key}: must be a whole number, got {number:g}")
    return int(number)


def _reminders(raw: dict[str, Any]) -> ReminderSettings:
    text = _str(raw.get("time"), "reminders.time", "09:00")
    m = re.match(r"^(\d{1,2}):(\d{2})$", text.strip())
    when = dt.time(int(m[1]), int(m[2])) if m and int(m[1]) < 24 and int(m[2]) < 60 else None
    # reminders never go out between 20:00 and 07:00 (office time)
    if when is None or not dt.time(7, 0) <= when < dt.time(20, 0):
        raise ConfigError(f"reminders.time: expected 'HH:MM' between 07:00 and 19:59, got {text!r}")
    whole = {}
    for key, default, hi in (("every_working_days", 2, 60), ("max_times", 3, 50)):
        value = _number(raw.get(key), f"reminders.{key}", default, 1, hi)
        if value != int(value):
            raise ConfigError(f"reminders.{key}: must be a whole number, got {value:g}")
        whole[key] = int(value)
    return ReminderSettings(
        time=when,
        first_after_hours=_number(raw.get("first_after_hours"), "reminders.first_after_hours",
                                  24.0, 0.0, 24.0 * 60),
        every_working_days=whole["every_working_days"], max_times=whole["max_times"])


def _port(value: Any, key: str, default: int | None) -> int | None:
    port = _number(value, key, default or 0, 1, 65535) if value is not None else default
    if port is not None and port != int(port):
        raise ConfigError(f"{key}: must be a whole number")
    return None if port is None else int(port)


def _health(raw: dict[str, Any]) -> HealthSettings:
    return HealthSettings(listen=_str(raw.get("listen"), "health.listen", "127.0.0.1"),
                          port=_port(raw.get("port"), "health.port", None))


def _webhook(raw: Any, env: dict[str, str]) -> WebhookSettings | None:
    """telegram.webhook: absent or without url = long polling."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("telegram.webhook: must be a mapping (url, listen, port, path, ...)")
    url = _str(raw.get("url"), "telegram.webhook.url").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError(f"telegram.webhook.url: {url!r} is not an http(s) URL")
    secret = env.get(WEBHOOK_SECRET_ENV) or _str(raw.get("secret_token"),
                                                  "telegram.webhook.secret_token")
    where = WEBHOOK_SECRET_ENV if env.get(WEBHOOK_SECRET_ENV) else "telegram.webhook.secret_token"
    if not secret:
        # without it anyone who finds the URL could post fake updates
        raise ConfigError(f"telegram.webhook.secret_token: required in webhook mode; set "
                          f"{WEBHOOK_SECRET_ENV}")
    if not _SECRET_RE.match(secret):
        raise ConfigError(f"{where}: 1-256 characters of A-Z, a-z, 0-9, _ and - only")
    path = _str(raw.get("path"), "telegram.webhook.path") or parts.path
    return WebhookSettings(
        url=url, secret_token=Secret(secret),
        listen=_str(raw.get("listen"), "telegram.webhook.listen", "127.0.0.1"),
        port=_port(raw.get("port"), "telegram.webhook.port", 8443) or 8443,
        path=path.strip("/"),
    )


def parse_settings(raw: dict[str, Any] | None, env: dict[str, str] | None = None,
                   source: Path | None = None) -> Settings:
    """Validate a raw mapping (from YAML) and the environment into Settings."""
    env = dict(os.environ) if env is None else env
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ConfigError("config: the file must contain a mapping of sections")

    tg = _section(raw, "telegram")
    token_value = env.get(TOKEN_ENV) or _str(tg.get("token"), "telegram.token") or None
    if token_value is not None:
        token_value = token_value.strip()
        if not _TOKEN_RE.match(token_value):
            where = TOKEN_ENV if env.get(TOKEN_ENV) else "telegram.token"
            raise ConfigError(f"{where}: does not look like a bot token (digits:letters)")
    telegram = TelegramSettings(
        token=Secret(token_value) if token_value else None,
        base_url=_str(tg.get("base_url"), "telegram.base_url") or None,
        base_file_url=_str(tg.get("base_file_url"), "telegram.base_file_url") or None,
        bot_username=(_str(tg.get("bot_username"), "telegram.bot_username").lstrip("@")
                      or None),
        webhook=_webhook(tg.get("webhook"), env),
        concurrent_updates=_whole(tg.get("concurrent_updates"), "telegram.concurrent_updates",
                                  1, 1, 256),
    )

    db = _section(raw, "database")
    database_url = env.get(DATABASE_ENV) or _str(db.get("url"), "database.url")
    database_url = database_url or "sqlite:///ska-helpdesk.db"
    if "://" not in database_url:
        raise ConfigError(f"database.url: {database_url!r} is not a database URL "
                          "(e.g. sqlite:///ska.db or postgresql+psycopg://user@host/db)")

    tz_name = _str(raw.get("timezone"), "timezone", "Asia/Jakarta")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {tz_name!r}") from None

    off = _section(raw, "office")
    office = OfficeSettings(
        name=_str(off.get("name"), "office.name", OfficeSettings.name),
        address=_str(off.get("address"), "office.address"),
        phone=_str(off.get("phone"), "office.phone"),
        hours=_hours(off.get("hours")),
        holidays=_holidays(off.get("holidays")),
        hours_set=off.get("hours") is not None,
    )

    officers = _section(raw, "officers")
    chat_id = officers.get("chat_id")
    if chat_id is not None and (isinstance(chat_id, bool) or not isinstance(chat_id, int)):
        raise ConfigError("officers.chat_id: must be the numeric id of the officers' group")
    admins = _section(raw, "admins")

    m = _section(raw, "matcher")
    matcher = MatcherSettings(
        answer_threshold=_number(m.get("answer_threshold"), "matcher.answer_threshold",
                                 MatcherSettings.answer_threshold, 0, 100),
        suggest_threshold=_number(m.get("suggest_threshold"), "matcher.suggest_threshold",
                                  MatcherSettings.suggest_threshold, 0, 100),
        min_gap=_number(m.get("min_gap"), "matcher.min_gap", MatcherSettings.min_gap, 0, 100),
        anchored_threshold=_number(m.get("anchored_threshold"), "matcher.anchored_threshold",
                                   MatcherSettings.anchored_threshold, 0, 100),
        anchored_gap=_number(m.get("anchored_gap"), "matcher.anchored_gap",
                             MatcherSettings.anchored_gap, 0, 100),
    )
    if matcher.suggest_threshold > matcher.answer_threshold:
        raise ConfigError("matcher.suggest_threshold: must not be above matcher.answer_threshold")
    if not matcher.suggest_threshold <= matcher.anchored_threshold <= matcher.answer_threshold:
        raise ConfigError("matcher.anchored_threshold: must lie between "
                          "matcher.suggest_threshold and matcher.answer_threshold")

    ob = _section(raw, "outbox")
    outbox = OutboxSettings(
        rate_per_second=_number(ob.get("rate_per_second"), "outbox.rate_per_second", 25.0,
                                0.1, 30.0),
        per_chat_per_second=_number(ob.get("per_chat_per_second"), "outbox.per_chat_per_second",
                                    1.0, 0.01, 30.0),
    )
    link = _section(raw, "linking")
    link_days = _number(link.get("code_days"), "linking.code_days", 7.0, 0.01, 365.0)

    tickets = _section(raw, "tickets")
    first_response = _number(tickets.get("first_response_minutes"),
                             "tickets.first_response_minutes", 120.0, 1.0, 10080.0)

    reminders = _reminders(_section(raw, "reminders"))

    th = _section(raw, "throttle")
    messages = _number(th.get("messages"), "throttle.messages", 20, 1, 1000)
    if messages != int(messages):
        raise ConfigError(f"throttle.messages: must be a whole number, got {messages:g}")
    throttle = ThrottleSettings(
        messages=int(messages),
        window_seconds=_number(th.get("window_seconds"), "throttle.window_seconds", 10.0,
                               0.1, 3600.0))

    kdir = Path(_str(raw.get("knowledge_dir"), "knowledge_dir") or DEFAULT_KNOWLEDGE)
    if source is not None and not kdir.is_absolute():
        kdir = (source.parent / kdir).resolve()
    if not kdir.is_dir():
        raise ConfigError(f"knowledge_dir: {kdir} is not a directory")

    return Settings(
        telegram=telegram,
        database_url=database_url,
        timezone=timezone,
        office=office,
        officers_chat_id=chat_id,
        officer_ids=_int_list(officers.get("user_ids"), "officers.user_ids"),
        admin_ids=_int_list(admins.get("user_ids"), "admins.user_ids"),
        matcher=matcher,
        knowledge_dir=kdir,
        outbox=outbox,
        link_code_days=link_days,
        reminders=reminders,
        tickets_first_response_minutes=first_response,
        throttle=throttle,
        health=_health(_section(raw, "health")),
        source=source,
    )


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the YAML file (if any) and validate it; a missing default file is fine."""
    raw: dict[str, Any] | None = None
    source: Path | None = None
    if path is not None:
        source = Path(path)
        if not source.is_file():
            raise ConfigError(f"--config: file {source} not found")
    elif Path("config.yaml").is_file():
        source = Path("config.yaml")
    if source is not None:
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            raise ConfigError(f"config: {source} is not valid YAML{where}") from None
    return parse_settings(raw, env, source)

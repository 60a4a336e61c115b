"""Settings: YAML file + environment -> one validated, typed object."""

from __future__ import annotations

import copy
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import SecretStr, ValidationError

from bot import config_schema as schema
from bot.safeload import InputFileError, load_file
from knowledge.verdict import Thresholds

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
DATABASE_ENV = "SKA_DATABASE_URL"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a config file is a few KB; anything near this is not one
MAX_CONFIG_BYTES = 256 * 1024


class ConfigError(Exception):
    """Settings are missing or invalid: one line per problem, each naming its key."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class Secret(SecretStr):
    """pydantic's SecretStr (masked in reprs, tracebacks and logs) with `.value`."""

    @property
    def value(self) -> str:
        return self.get_secret_value()


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
    port: int | None = None  # None: no health endpoint


@dataclass(frozen=True)
class TelegramSettings:
    token: Secret | None = None
    base_url: str | None = None
    base_file_url: str | None = None
    bot_username: str | None = None
    webhook: WebhookSettings | None = None
    # updates handled at the same time (different senders; one sender's stay in order);
    # a crash may repeat the replies of up to this many
    concurrent_updates: int = schema.DEFAULT_CONCURRENT_UPDATES
    # how long start-up keeps retrying Telegram (getMe, setMyCommands, the first
    # getUpdates) before it gives up
    startup_retry_seconds: float = 300.0


@dataclass(frozen=True)
class OutboxSettings:
    rate_per_second: float = 25.0
    per_chat_per_second: float = 1.0
    # Telegram allows about 20 messages a minute in one group
    group_per_minute: float = 20.0


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
    # nothing reaches an exporter between these (office time); may cross midnight
    quiet_from: dt.time = dt.time(20, 0)
    quiet_until: dt.time = dt.time(7, 0)


@dataclass(frozen=True)
class OfficeSettings:
    name: str = "IPSKA Disdagperin Provinsi Kalimantan Tengah"
    address: str = ""
    phone: str = ""
    # weekday index (0 = Monday) -> (open, close); days absent are closed
    hours: dict[int, tuple[dt.time, dt.time]] = field(default_factory=dict)
    # the office's own closures, on top of the national calendar below
    holidays: frozenset[dt.date] = frozenset()
    # national holidays from the `holidays` library: country code (None: none) and the
    # categories ("public"; "government" adds Indonesia's cuti bersama)
    holiday_country: str | None = "ID"
    holiday_categories: tuple[str, ...] = ("public", "government")
    # False while `hours` are the built-in default: the calendar needs some week, but
    # the bot must not tell exporters unconfirmed counter hours as the office's own
    hours_set: bool = False


@dataclass(frozen=True)
class SpikeSettings:
    """One alert when `people` exporters ask about the same thing within `window_minutes`."""

    people: int = 5
    window_minutes: float = 15.0
    # how alike two unanswered questions must be (rapidfuzz token_set_ratio, 0-100)
    similarity: float = 75.0
    # the same trouble after this long without such questions is a new spike
    quiet_minutes: float = 120.0


@dataclass(frozen=True)
class ChatSettings:
    """`python -m bot chat`: where the charts and workbooks the bot sends are saved."""

    files_dir: Path = Path("chat-files")


@dataclass(frozen=True)
class MatcherSettings:
    answer_threshold: float = 58.5
    suggest_threshold: float = 42.0
    min_gap: float = 1.0
    anchored_threshold: float = 50.0
    anchored_gap: float = 6.0

    def thresholds(self) -> Thresholds:
        return Thresholds(
            self.answer_threshold,
            self.suggest_threshold,
            self.min_gap,
            self.anchored_threshold,
            self.anchored_gap,
        )


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
    chat: ChatSettings = ChatSettings()
    spikes: SpikeSettings = SpikeSettings()
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
# where a value came from when the environment overrides the file
_ENV_KEYS = {
    TOKEN_ENV: ("telegram", "token"),
    DATABASE_ENV: ("database", "url"),
    WEBHOOK_SECRET_ENV: ("telegram", "webhook", "secret_token"),
}


def _with_environment(raw: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The file's mapping with the environment's overrides put in; path -> variable name."""
    merged = copy.deepcopy(raw)
    renamed: dict[str, str] = {}
    for name, path in _ENV_KEYS.items():
        value = env.get(name)
        if not value:
            continue
        node = merged
        for key in path[:-1]:
            if node.get(key) is None:
                node[key] = {}
            node = node[key]
            if not isinstance(node, dict):
                break  # the file's own shape error is reported instead
        else:
            node[path[-1]] = value
            renamed[".".join(path)] = name
    return merged, renamed


def _knowledge_dir(raw: dict[str, Any], source: Path | None) -> tuple[Path, str | None]:
    value = raw.get("knowledge_dir")
    text = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    kdir = Path(text) if text else DEFAULT_KNOWLEDGE
    if source is not None and not kdir.is_absolute():
        kdir = (source.parent / kdir).resolve()
    if not kdir.is_dir():
        return kdir, f"knowledge_dir: {kdir} is not a directory"
    return kdir, None


def _webhook(f: schema.WebhookFile) -> WebhookSettings | None:
    url = f.url.strip()
    if not url or f.secret_token is None:
        return None
    path = f.path or urlsplit(url).path
    return WebhookSettings(
        url=url,
        secret_token=Secret(f.secret_token.get_secret_value()),
        listen=f.listen,
        port=f.port,
        path=path.strip("/"),
    )


def _hours(f: schema.HoursFile | None) -> dict[int, tuple[dt.time, dt.time]]:
    if f is None:
        f = schema.HoursFile.model_validate(DEFAULT_HOURS)
    return {i: span for i, day in enumerate(WEEKDAYS) if (span := getattr(f, day)) is not None}


def _settings(f: schema.ConfigFile, kdir: Path, source: Path | None) -> Settings:
    tg, m, r = f.telegram, f.matcher, f.reminders
    token = tg.token.get_secret_value() if tg.token is not None else None
    return Settings(
        telegram=TelegramSettings(
            token=Secret(token) if token else None,
            base_url=tg.base_url or None,
            base_file_url=tg.base_file_url or None,
            bot_username=tg.bot_username.lstrip("@") or None,
            webhook=_webhook(tg.webhook),
            concurrent_updates=tg.concurrent_updates,
            startup_retry_seconds=tg.startup_retry_seconds,
        ),
        database_url=f.database.url or "sqlite:///ska-helpdesk.db",
        timezone=ZoneInfo(f.timezone),
        office=OfficeSettings(
            name=f.office.name,
            address=f.office.address,
            phone=f.office.phone,
            hours=_hours(f.office.hours),
            holidays=frozenset(f.office.holidays),
            holiday_country=f.office.national_holidays,
            holiday_categories=tuple(f.office.holiday_categories),
            hours_set=f.office.hours is not None,
        ),
        officers_chat_id=f.officers.chat_id,
        officer_ids=frozenset(f.officers.user_ids),
        admin_ids=frozenset(f.admins.user_ids),
        matcher=MatcherSettings(
            m.answer_threshold, m.suggest_threshold, m.min_gap, m.anchored_threshold, m.anchored_gap
        ),
        knowledge_dir=kdir,
        outbox=OutboxSettings(
            f.outbox.rate_per_second, f.outbox.per_chat_per_second, f.outbox.group_per_minute
        ),
        link_code_days=f.linking.code_days,
        reminders=ReminderSettings(
            time=r.time,
            first_after_hours=r.first_after_hours,
            every_working_days=r.every_working_days,
            max_times=r.max_times,
            quiet_from=r.quiet_hours[0],
            quiet_until=r.quiet_hours[1],
        ),
        tickets_first_response_minutes=f.tickets.first_response_minutes,
        throttle=ThrottleSettings(f.throttle.messages, f.throttle.window_seconds),
        health=HealthSettings(f.health.listen, f.health.port),
        spikes=SpikeSettings(
            people=f.spikes.people,
            window_minutes=f.spikes.window_minutes,
            similarity=f.spikes.similarity,
            quiet_minutes=f.spikes.quiet_minutes,
        ),
        chat=ChatSettings(files_dir=Path(f.chat.files_dir or "chat-files")),
        source=source,
    )


def parse_settings(
    raw: dict[str, Any] | None, env: dict[str, str] | None = None, source: Path | None = None
) -> Settings:
    """Validate a raw mapping (from YAML) and the environment into Settings.

    Every problem is collected before anything is refused, so one run names them all."""
    env = dict(os.environ) if env is None else env
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ConfigError("config: the file must contain a mapping of sections")
    merged, renamed = _with_environment(raw, env)
    kdir, kdir_problem = _knowledge_dir(raw, source)
    found: list[str] = []
    try:
        parsed = schema.ConfigFile.model_validate(merged)
    except ValidationError as exc:
        found = schema.problems(exc, renamed)
    if kdir_problem and not any(p.startswith("knowledge_dir") for p in found):
        found.append(kdir_problem)
    if found:
        raise ConfigError(*found)
    return _settings(parsed, kdir, source)


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the YAML file (if any) and validate it; a missing default file is fine."""
    raw: Any = None
    source: Path | None = None
    if path is not None:
        source = Path(path)
        if not source.is_file():
            raise ConfigError(f"--config: file {source} not found")
    elif Path("config.yaml").is_file():
        source = Path("config.yaml")
    if source is not None:
        try:
            raw = load_file(source, MAX_CONFIG_BYTES)
        except InputFileError as exc:
            raise ConfigError(f"config: {exc}") from None
    return parse_settings(raw, env, source)

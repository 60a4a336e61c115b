"""The layout of config.yaml as pydantic models: every key, its type and its range.

Validated as a whole, so one run lists every problem; unknown keys are refused (a
misspelt key would otherwise leave the default in force without a word). bot/config.py
turns the validated file into the Settings object the rest of the code uses.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{2,}$")
# what Telegram accepts as X-Telegram-Bot-Api-Secret-Token
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# updates handled at the same time unless configured: every reply waits a round trip to
# Telegram, and one at a time answered about 10 a second at 100 ms (README "Running in
# production" states the crash trade-off)
DEFAULT_CONCURRENT_UPDATES = 64


def _text(value: Any) -> Any:
    """YAML reads `phone: 0536123` as a number: numbers are fine where text is wanted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        raise PydanticCustomError("whole", "must be a whole number, got {got}", {"got": f"{value:g}"})
    return value


def between(lo: float, hi: float) -> AfterValidator:
    def check(value: float) -> float:
        if not lo <= value <= hi:
            raise PydanticCustomError(
                "range",
                "must be between {lo} and {hi}, got {got}",
                {"lo": f"{lo:g}", "hi": f"{hi:g}", "got": f"{value:g}"},
            )
        return value

    return AfterValidator(check)


def _token(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    token = value.get_secret_value().strip()
    if not token:
        return None
    if not _TOKEN_RE.match(token):
        # never echo the value: a near-miss token is still mostly the secret
        raise PydanticCustomError("token", "does not look like a bot token (digits:letters)")
    return SecretStr(token)


Text = Annotated[str, BeforeValidator(_text)]
Number = float
Whole = Annotated[int, BeforeValidator(_whole)]
UserIds = list[Annotated[int, Field(strict=True)]]


class Section(BaseModel):
    """A mapping of settings: unknown keys refused, an empty value is the default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        # `key:` with nothing after it (or a commented-out section) means "the default"
        if data is None:
            return {}
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class WebhookFile(Section):
    url: Text = ""
    listen: Text = "127.0.0.1"
    port: Annotated[Whole, between(1, 65535)] = 8443
    path: Text = ""
    secret_token: SecretStr | None = None

    @model_validator(mode="after")
    def _secret_in_webhook_mode(self) -> WebhookFile:
        url = self.url.strip()
        if not url:
            return self  # long polling: nothing else here matters
        if not re.match(r"^https?://[^/\s]+", url):
            raise PydanticCustomError("webhook_url", "url: {url} is not an http(s) URL", {"url": repr(url)})
        secret = self.secret_token.get_secret_value() if self.secret_token else ""
        if not secret:
            # without it anyone who finds the URL could post fake updates
            raise PydanticCustomError(
                "secret_required", "secret_token: required in webhook mode; set TELEGRAM_WEBHOOK_SECRET"
            )
        if not SECRET_RE.match(secret):
            raise PydanticCustomError(
                "secret_chars", "secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and - only"
            )
        return self


def _http_url(value: str) -> str:
    if value and not re.match(r"https?://[^/\s]+", value):
        # else every getMe fails for startup_retry_seconds before one line says why
        raise PydanticCustomError("http_url", "must start with http:// or https:// and a host")
    return value


class TelegramFile(Section):
    token: Annotated[SecretStr | None, AfterValidator(_token)] = None
    base_url: Annotated[Text, AfterValidator(_http_url)] = ""
    base_file_url: Annotated[Text, AfterValidator(_http_url)] = ""
    bot_username: Text = ""
    webhook: WebhookFile = WebhookFile()
    concurrent_updates: Annotated[Whole, between(1, 256)] = DEFAULT_CONCURRENT_UPDATES
    startup_retry_seconds: Annotated[Number, between(0, 86400)] = 300.0


class DatabaseFile(Section):
    url: Annotated[Text, AfterValidator(_database_url)] = ""


_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def _span(value: Any) -> Any:
    """'07:30-16:00' -> (open, close); '' or 'closed' -> None (closed that day)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "closed")):
        return None
    m = _HOURS_RE.match(str(value).strip())
    if not m:
        raise PydanticCustomError("hours", "expected 'HH:MM-HH:MM', got {got}", {"got": repr(value)})
    try:
        start, end = dt.time(int(m[1]), int(m[2])), dt.time(int(m[3]), int(m[4]))
    except ValueError as exc:
        raise PydanticCustomError("hours", "{why}", {"why": str(exc)}) from None
    if end <= start:
        raise PydanticCustomError("hours", "closing time must be after opening time")
    return (start, end)


def _clock(value: Any) -> Any:
    """reminders.time: 'HH:MM' (outside the quiet hours: checked with them)."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 9:30 as the number 570 (base 60)
        raise PydanticCustomError(
            "clock",
            'write the time in quotes, e.g. "09:00" (YAML read {got} as a number)',
            {"got": str(value)},
        )
    text = str(value).strip()
    m = re.match(r"^(\d{1,2}):(\d{2})$", text)
    when = dt.time(int(m[1]), int(m[2])) if m and int(m[1]) < 24 and int(m[2]) < 60 else None
    if when is None:
        raise PydanticCustomError("clock", "expected 'HH:MM', got {got}", {"got": repr(text)})
    return when


def _quiet(value: Any) -> Any:
    """reminders.quiet_hours: 'HH:MM-HH:MM', may run past midnight (20:00-07:00)."""
    if isinstance(value, tuple):
        return value
    text = str(value).strip()
    start, _, end = text.partition("-")
    try:
        span = (_clock(start), _clock(end)) if end else None
    except PydanticCustomError:
        span = None
    if span is None:
        raise PydanticCustomError(
            "quiet", "expected 'HH:MM-HH:MM' (e.g. 20:00-07:00), got {got}", {"got": repr(text)}
        )
    return span


def in_span(moment: dt.time, start: dt.time, end: dt.time) -> bool:
    if start > end:
        return moment >= start or moment < end
    return start <= moment < end


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError("zone", "unknown time zone {got}", {"got": repr(value)}) from None
    return value


def _database_url(value: str) -> str:
    if value and "://" not in value:
        # a malformed URL may still carry a password ("ska:pw@host", "postgresql:/ska:pw@"),
        # which must not reach the terminal or a log: it is not quoted back
        raise PydanticCustomError(
            "db_url",
            "the value is not a database URL (e.g. sqlite:///ska.db or postgresql+psycopg://user@host/db)",
        )
    if value:
        from sqlalchemy.engine import make_url  # here: `ask` and `kb` read the config without a database
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value).port  # noqa: B018 (reading it parses host and port)
        except (ValueError, ArgumentError):
            # "[::1/ska", "host:port5432": unreadable here rather than a ValueError at start-up
            raise PydanticCustomError(
                "db_url", "the value is not a valid database URL (its host or port cannot be read)"
            ) from None
    return value


_DAY = Annotated[tuple[dt.time, dt.time] | None, BeforeValidator(_span)]


class HoursFile(Section):
    mon: _DAY = None
    tue: _DAY = None
    wed: _DAY = None
    thu: _DAY = None
    fri: _DAY = None
    sat: _DAY = None
    sun: _DAY = None


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError(
                "date", "{got} is not a date (YYYY-MM-DD)", {"got": repr(value)}
            ) from None
    return value


# The national calendar of the defaults. tests/test_calendar.py checks it against the
# installed `holidays` library, so a config that keeps it is not checked again at every
# start-up: the library imports all its countries to offer one, a tenth of `run`'s start-up.
DEFAULT_HOLIDAYS = ("ID", ("public", "government"))


def _country(value: Any) -> Any:
    """office.national_holidays: a country code of the `holidays` library, or false."""
    if value in (None, False, ""):
        return None
    country = str(value).strip().upper()
    if country == DEFAULT_HOLIDAYS[0]:
        return country
    import holidays as holiday_lib  # here: only the office calendar needs it

    if country not in holiday_lib.list_supported_countries():
        raise PydanticCustomError(
            "country",
            "{got} is not a country code of the holidays library (e.g. ID), or false for none",
            {"got": repr(value)},
        )
    return country


class OfficeFile(Section):
    name: Text = "IPSKA Disdagperin Provinsi Kalimantan Tengah"
    address: Text = ""
    phone: Text = ""
    hours: HoursFile | None = None
    holidays: list[Annotated[dt.date, BeforeValidator(_date)]] = []
    national_holidays: Annotated[str | None, BeforeValidator(_country)] = DEFAULT_HOLIDAYS[0]
    holiday_categories: list[Text] = list(DEFAULT_HOLIDAYS[1])

    @model_validator(mode="after")
    def _categories_offered(self) -> OfficeFile:
        if self.national_holidays is None:
            return self
        if (self.national_holidays, tuple(self.holiday_categories)) == DEFAULT_HOLIDAYS:
            return self
        import holidays as holiday_lib

        if not self.holiday_categories:
            raise PydanticCustomError(
                "categories", "holiday_categories: must be a list such as [public, government]"
            )
        known = set(holiday_lib.country_holidays(self.national_holidays).supported_categories)
        unknown = [c for c in self.holiday_categories if c not in known]
        if unknown:
            raise PydanticCustomError(
                "categories",
                "holiday_categories: {got} is not offered for {country}; choose from {known}",
                {
                    "got": repr(unknown[0]),
                    "country": self.national_holidays,
                    "known": ", ".join(sorted(known)),
                },
            )
        return self


class PeopleFile(Section):
    user_ids: UserIds = []


class OfficersFile(PeopleFile):
    chat_id: Annotated[int, Field(strict=True)] | None = None


Score = Annotated[Number, between(0, 100)]


class MatcherFile(Section):
    answer_threshold: Score = 58.5
    suggest_threshold: Score = 42.0
    min_gap: Score = 1.0
    anchored_threshold: Score = 50.0
    anchored_gap: Score = 6.0

    @model_validator(mode="after")
    def _bands_in_order(self) -> MatcherFile:
        if self.suggest_threshold > self.answer_threshold:
            raise PydanticCustomError(
                "bands", "suggest_threshold: must not be above matcher.answer_threshold"
            )
        if not self.suggest_threshold <= self.anchored_threshold <= self.answer_threshold:
            raise PydanticCustomError(
                "bands",
                "anchored_threshold: must lie between matcher.suggest_threshold and matcher.answer_threshold",
            )
        return self


class OutboxFile(Section):
    rate_per_second: Annotated[Number, between(0.1, 30)] = 25.0
    per_chat_per_second: Annotated[Number, between(0.01, 30)] = 1.0
    group_per_minute: Annotated[Number, between(1, 600)] = 20.0


class LinkingFile(Section):
    code_days: Annotated[Number, between(0.01, 365)] = 7.0


class TicketsFile(Section):
    first_response_minutes: Annotated[Number, between(1, 10080)] = 120.0


class RemindersFile(Section):
    time: Annotated[dt.time, BeforeValidator(_clock)] = dt.time(9, 0)
    first_after_hours: Annotated[Number, between(0, 24 * 60)] = 24.0
    every_working_days: Annotated[Whole, between(1, 60)] = 2
    max_times: Annotated[Whole, between(1, 50)] = 3
    quiet_hours: Annotated[tuple[dt.time, dt.time], BeforeValidator(_quiet)] = (dt.time(20, 0), dt.time(7, 0))

    @model_validator(mode="after")
    def _time_outside_quiet_hours(self) -> RemindersFile:
        # the daily pass must fall outside the quiet hours, or nothing would ever go out
        start, end = self.quiet_hours
        if in_span(self.time, start, end):
            raise PydanticCustomError(
                "clock",
                "time: expected 'HH:MM' outside the quiet hours ({start}-{end}), got {got}",
                {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "got": repr(f"{self.time:%H:%M}")},
            )
        return self


class SpikesFile(Section):
    people: Annotated[Whole, between(2, 1000)] = 5
    window_minutes: Annotated[Number, between(1, 1440)] = 15.0
    similarity: Annotated[Number, between(50, 100)] = 75.0
    quiet_minutes: Annotated[Number, between(1, 10080)] = 120.0


class ChatFile(Section):
    files_dir: Text = "chat-files"


class ThrottleFile(Section):
    messages: Annotated[Whole, between(1, 1000)] = 20
    window_seconds: Annotated[Number, between(0.1, 3600)] = 10.0


class HealthFile(Section):
    listen: Text = "127.0.0.1"
    port: Annotated[Whole, between(1, 65535)] | None = None


class ConfigFile(Section):
    """The whole file. Keys follow config.example.yaml, which documents each one."""

    telegram: TelegramFile = TelegramFile()
    database: DatabaseFile = DatabaseFile()
    timezone: Annotated[Text, AfterValidator(_zone)] = "Asia/Jakarta"
    office: OfficeFile = OfficeFile()
    officers: OfficersFile = OfficersFile()
    admins: PeopleFile = PeopleFile()
    matcher: MatcherFile = MatcherFile()
    outbox: OutboxFile = OutboxFile()
    linking: LinkingFile = LinkingFile()
    tickets: TicketsFile = TicketsFile()
    reminders: RemindersFile = RemindersFile()
    throttle: ThrottleFile = ThrottleFile()
    health: HealthFile = HealthFile()
    spikes: SpikesFile = SpikesFile()
    chat: ChatFile = ChatFile()
    knowledge_dir: Text = ""


# -- error messages ------------------------------------------------------------------------

_PLAIN = {
    "model_type": "must be a mapping of settings (key: value)",
    "dict_type": "must be a mapping of settings (key: value)",
    "list_type": "must be a list",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
}


def _fields(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Each key of a section, with its sub-section's model when it is one."""
    out: dict[str, type[BaseModel] | None] = {}
    for name, info in model.model_fields.items():
        ann = info.annotation
        candidates = getattr(ann, "__args__", None) or (ann,)
        sub = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        out[name] = sub
    return out


def _all_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, sub in _fields(model).items():
        path = f"{prefix}{name}"
        paths.append(path)
        if sub is not None:
            paths += _all_paths(sub, path + ".")
    return paths


def _suggest(loc: tuple[Any, ...]) -> str:
    """'; did you mean `database`?' for the nearest known key (siblings first)."""
    model: type[BaseModel] | None = ConfigFile
    for part in loc[:-1]:
        model = _fields(model).get(str(part)) if model is not None else None
    key = str(loc[-1])
    if model is not None:
        near = difflib.get_close_matches(key, list(_fields(model)), n=1, cutoff=0.6)
        if near:
            return f"; did you mean `{near[0]}`?"
    # `tokn:` at the top level most likely meant telegram.token
    paths = _all_paths(ConfigFile)
    leaves = {p.rsplit(".", 1)[-1]: p for p in reversed(paths)}
    near = difflib.get_close_matches(key, list(leaves), n=1, cutoff=0.75)
    if near:
        return f"; did you mean `{leaves[near[0]]}`?"
    return ""


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> str | None:
    if isinstance(value, str | int | float | bool | dt.date) and len(repr(value)) <= 60:
        return repr(value)
    return None


def problems(exc: ValidationError, renamed: dict[str, str]) -> list[str]:
    """One line per problem: the key's path (or the environment variable it came from)."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        msg = err["msg"]
        if kind == "extra_forbidden":
            lines.append(f"{_dotted(loc)}: unknown key{_suggest(loc)}")
            continue
        if msg.startswith(
            (
                "url: ",
                "secret_token: ",
                "suggest_threshold: ",
                "anchored_threshold: ",
                "holiday_categories: ",
                "time: ",
            )
        ):
            # a check across keys names the key itself
            key, _, msg = msg.partition(": ")
            loc = (*loc, key)
        path = _dotted(loc)
        path = renamed.get(path, path)
        if kind in _PLAIN:
            msg = _PLAIN[kind]
            got = _shown(err.get("input"))
            # the telegram and database sections hold the token, the webhook secret and
            # the database password: a value there (or one written in their place) is
            # never quoted back, whatever its key
            secret = loc[:1] in (("telegram",), ("database",)) or any(
                word in path.lower() for word in ("token", "secret", "password", "url")
            )
            if got is not None and not secret:
                msg += f", got {got}"
        lines.append(f"{path}: {msg}")
    return lines

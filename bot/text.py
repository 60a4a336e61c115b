"""Text the bot shows or reads: HTML escaping, numbers, moments, month names and plurals.

One place for each, on the standard library and Babel (CLDR data for Indonesian and
English), so a number reads the same in a reply, a chart and a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_month_names
from babel.numbers import NumberFormatError, format_decimal, parse_decimal

# -- HTML ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text from users or data as Telegram HTML (quotes need no escaping outside tags)."""
    return html.escape(text, quote=False)


_TAG = re.compile(r"</?[a-z]+>")


def plain(text: str) -> str:
    """Catalog HTML (<b>, <i>, <code>, <u>) as terminal text."""
    return html.unescape(_TAG.sub("", text))


# -- numbers ------------------------------------------------------------------------------


def format_number(value: Decimal | int, lang: str, places: int = 2) -> str:
    """240795.83 -> '240.795,83' (id) or '240,795.83' (en), rounded half to even; a count
    with places=0: 7199 -> '7.199' (id) or '7,199' (en)."""
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    return format_decimal(value, format=pattern, locale=lang)


@dataclass(frozen=True)
class Number:
    """A number as someone wrote it: its value and the convention it was written in."""

    value: Decimal
    style: str  # plain | id (1.234,56) | en (1,234.56) | ambiguous (1.234 / 1,234)
    decimals: int
    alternative: Decimal | None = None  # the decimal reading of an ambiguous number

    def english(self, decimals: int | None = None) -> str:
        """As the SKA form wants it: 1,234.56."""
        return format_number(self.value, "en", self.decimals if decimals is None else decimals)


# digits with separators, then an exponent as spreadsheets write large values (1E+30)
_NUMBER_RE = re.compile(r"(\d+(?:[.,]\d+)*)(?:[eE]([-+]?\d+))?")
_DECIMAL_SEP = {"id": ",", "en": "."}


def _grouped(parts: list[str]) -> bool:
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def _read(digits: str, decimal_sep: str) -> tuple[Decimal, int] | None:
    """digits read with `decimal_sep` as the decimal separator and the other one as the
    thousands separator, which must group by three; None when it does not fit."""
    group = "," if decimal_sep == "." else "."
    whole, dot, frac = digits.partition(decimal_sep)
    if decimal_sep in frac or group in frac:
        return None
    if group in whole and not _grouped(whole.split(group)):
        return None
    return Decimal(whole.replace(group, "") + ("." + frac if dot else "")), len(frac)


def parse_number(text: str, style: str | None = None) -> Number | None:
    """'240.795,83' and '240,795.83' -> 240795.83; None unless `text` is one number.

    Without `style` the separators decide: a comma and a point, or a separator used twice,
    tell the convention; one separator before three digits (1.234) is 'ambiguous', read
    as thousands with the decimal reading kept as `alternative`. With `style` ('id' or
    'en', e.g. decided for a whole file) every number is read in that convention.
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    m = _NUMBER_RE.fullmatch(s)
    if m is None:
        return None
    digits, exponent = m[1], m[2]
    number = _styled(digits, style) if style is not None else _detected(digits)
    if number is None or exponent is None:
        return number
    # built from text, not scaled: no context precision or overflow on the way
    return Number(Decimal(f"{number.value}E{exponent}"), number.style, 0)


def _styled(digits: str, style: str) -> Number | None:
    read = _read(digits, _DECIMAL_SEP[style])
    if read is None:
        return None
    value, decimals = read
    return Number(value, "plain" if digits.isdigit() else style, decimals)


def _detected(digits: str) -> Number | None:
    seps = [ch for ch in digits if ch in ".,"]
    if not seps:
        return Number(Decimal(digits), "plain", 0)
    if len(set(seps)) == 2:
        read = _read(digits, seps[-1])  # the last separator is the decimal one
        style = "id" if seps[-1] == "," else "en"
    elif len(seps) > 1:  # used twice: it groups thousands
        read = _read(digits, "," if seps[0] == "." else ".")
        style = "id" if seps[0] == "." else "en"
    else:
        whole, frac = digits.split(seps[0])
        if len(frac) == 3 and whole != "0":
            # 1.234 is 1234 in an Indonesian document and 1.234 in an English one
            return Number(Decimal(whole + frac), "ambiguous", 0, Decimal(f"{whole}.{frac}"))
        read = _read(digits, seps[0])
        style = "en" if seps[0] == "." else "id"
    if read is None:
        return None
    return Number(read[0], style, read[1])


@dataclass(frozen=True)
class Written:
    """A number as written in a file, read in each convention where it is well formed.

    Babel reads it with CLDR's Indonesian and English symbols and checks the grouping
    (strict), so '1.500' is 1500 in one and 1.5 in the other, '1,5' only Indonesian and
    '1,500.25' only English."""

    text: str
    readings: dict[str, Decimal]  # lang -> value; empty when it is no number at all

    @property
    def style(self) -> str | None:
        """'id' or 'en' when only that convention reads it, 'plain' when both read the
        same value (1500, 12, NaN), 'ambiguous' when they differ (1.500), None: no number."""
        if not self.readings:
            return None
        if len(self.readings) == 1:
            return next(iter(self.readings))
        first, second = self.readings.values()
        # NaN is no evidence of a style (and compares unequal even to itself)
        if not (first.is_finite() and second.is_finite()) or first == second:
            return "plain"
        return "ambiguous"


def read_written(text: str) -> Written:
    """A cell's number in the conventions of both languages (spaces dropped: 12 500)."""
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if s.isascii() and s.isdigit():  # the common case, and the same in every convention
        return Written(s, dict.fromkeys(_DECIMAL_SEP, Decimal(s)))
    readings: dict[str, Decimal] = {}
    for lang in _DECIMAL_SEP:
        try:
            readings[lang] = parse_decimal(s, locale=lang, strict=True)
        except NumberFormatError:
            continue
    return Written(s, readings)


# -- moments -----------------------------------------------------------------------------


def local_time(moment: dt.datetime, tz: ZoneInfo, zone: str) -> str:
    """A stored moment as the office reads it: '07-12-2026 09:30 WIB' (day first, in
    both languages; SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(tz):%d-%m-%Y %H:%M} {zone}"


# -- months -------------------------------------------------------------------------------

# spellings people still type that CLDR does not list
_OLD_MONTH_SPELLINGS = {
    "pebruari": 2,
    "peb": 2,
    "agt": 8,
    "agu": 8,
    "agus": 8,
    "sept": 9,
    "okt": 10,
    "nop": 11,
    "nopember": 11,
    "des": 12,
    "mei": 5,
}


def month_name(month: int, lang: str) -> str:
    """1 -> 'Januari' (id) / 'January' (en)."""
    return str(get_month_names("wide", "format", lang)[month])


@lru_cache(maxsize=1)
def month_numbers() -> dict[str, int]:
    """Lower-case month names and abbreviations of both languages -> month number."""
    words = dict(_OLD_MONTH_SPELLINGS)
    for lang in ("id", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, "format", lang).items():
                words[str(name).casefold().rstrip(".")] = int(number)
    return words


# -- plurals ------------------------------------------------------------------------------


@cache
def plural_categories(lang: str) -> frozenset[str]:
    """The CLDR plural categories a language distinguishes ('other' is always one)."""
    return frozenset(Locale.parse(lang).plural_form.tags) | {"other"}


_PLAIN_COUNT = re.compile(r"\d+(?:\.\d+)?")


def plural_category(count: object, lang: str) -> str:
    """CLDR's category of a count: 1 is 'one' in English, 1.5 and 2 are 'other';
    Indonesian has 'other' only. Anything but a finite number or its digits is 'other'."""
    number: int | float | Decimal
    if isinstance(count, int | Decimal) and not isinstance(count, bool):
        number = count
    elif isinstance(count, float):
        number = Decimal(str(count))
    elif isinstance(count, str) and _PLAIN_COUNT.fullmatch(count):
        number = Decimal(count)
    else:
        return "other"
    if isinstance(number, Decimal) and not number.is_finite():
        return "other"
    return str(Locale.parse(lang).plural_form(number))

"""Reading answers as typed: measures, dates, HS codes, company names."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bot.services.precheck.model import Diff
from bot.text import Number, month_numbers, parse_number

LEGAL_FORMS = frozenset({"PT", "CV", "UD", "CO", "LTD"})
# a number inside a measure; no exponent: "1e5 kg" is not how weights are typed
_MEASURE_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# the minus signs typed before an amount: the hyphen, the minus sign, and the dash a
# phone's keyboard may turn a hyphen into. Read as one, so "-5 kg" is not taken for 5 kg
MINUS_SIGNS = "-\u2212\u2013"
# a sign before the number, at the start or after a space: in "PCS-100" the hyphen
# joins a unit to the number, it is no sign
_SIGN_BEFORE = re.compile(rf"(?:^|\s)[{MINUS_SIGNS}]\s*$")
# an amount as an invoice shows it, with at most a currency before or after it: any
# other letter ("1,5 juta", "1e6") means the amount is not the invoice's figure
_MONEY = re.compile(
    rf"(?P<before>[A-Za-z]{{1,3}}\$|Rp\.?|[A-Za-z]{{3}}|[$€¥])?\s*(?P<sign>[{MINUS_SIGNS}])?\s*"
    r"(?P<amount>\d[\d.,\s]*?)\s*(?P<after>[A-Za-z]{3}|[$€¥])?",
    re.IGNORECASE,
)
# what exporters type instead of the currency's code
CURRENCY_WORDS = {
    **dict.fromkeys(("rp", "rp.", "rupiah", "idr"), "IDR"),
    # a bare "dollar" or "$" stays a question: Singapore, Australian, US?
    **dict.fromkeys(("us$", "usd", "dollar as", "dolar as", "us dollar", "dolar amerika"), "USD"),
    **dict.fromkeys(("€", "euro", "eur"), "EUR"),
    **dict.fromkeys(("¥", "yen", "jpy"), "JPY"),
    **dict.fromkeys(("yuan", "rmb", "renminbi", "cny"), "CNY"),
}


def _negative(number: Number | None) -> Number | None:
    if number is None:
        return None
    alternative = None if number.alternative is None else -number.alternative
    return replace(number, value=-number.value, alternative=alternative)


def parse_measure(text: str) -> tuple[Number | None, str]:
    """'25.400 kg' -> (25400, 'kg'); the unit is what remains around the number;
    '-5 kg' -> (-5, 'kg')."""
    m = _MEASURE_NUMBER.search(text)
    if m is None:
        return None, ""
    before = text[: m.start()]
    number = parse_number(m.group())
    if _SIGN_BEFORE.search(before):
        number = _negative(number)
    unit = (before + " " + text[m.end() :]).strip(" .,:;()" + MINUS_SIGNS)
    return number, " ".join(unit.split())


def parse_money(text: str) -> Number | None:
    """'USD 240.795,83' -> 240795.83: a currency code or sign beside it is not part of it;
    'USD -100' -> -100."""
    m = _MONEY.fullmatch(text.strip())
    if m is None:
        return None
    number = parse_number(m["amount"])
    return _negative(number) if m["sign"] else number


def money_currency(text: str) -> str | None:
    """The currency written with an amount ('Rp 1.500.000' -> 'IDR'; '$' -> '$'), if any."""
    m = _MONEY.fullmatch(text.strip())
    written = (m["before"] or m["after"]) if m else None
    if written is None:
        return None
    return CURRENCY_WORDS.get(written.lower(), written.upper())


KG_PER_UNIT: dict[str, int | Decimal] = {
    "kg": 1,
    "kgs": 1,
    "kilo": 1,
    "kilogram": 1,
    "kilograms": 1,
    "t": 1000,
    "ton": 1000,
    "tons": 1000,
    "tonne": 1000,
    "tonnes": 1000,
    "mt": 1000,
    "g": Decimal("0.001"),
    "gr": Decimal("0.001"),
    "gram": Decimal("0.001"),
}

_TODAY_WORDS = ("today", "hari ini", "sekarang")


def parse_date(value: Any, today: dt.date | None = None) -> dt.date | None:
    """28-03-2025, 28/03/2025, 2025-03-28, 28 Maret 2025 (day first, as in Indonesia)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = " ".join(str(value).strip().lower().split())
    if today is not None and text in _TODAY_WORDS:
        return today
    months = month_numbers()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if (m := re.fullmatch(r"(\d{1,2})[ -]([a-z]+)\.?[ -](\d{4})", text)) and m[2] in months:
            return dt.date(int(m[3]), months[m[2]], int(m[1]))
    except ValueError:  # 31-02-2025
        return None
    return None


def hs_digits(text: str) -> str | None:
    """'4412.31' -> '441231'; None unless 4 to 10 digits with optional dots."""
    s = text.strip().replace(" ", "")
    if not re.fullmatch(r"\d+(?:\.\d+)*", s):
        return None
    digits = s.replace(".", "")
    return digits if 4 <= len(digits) <= 10 else None


def format_heading(digits: str) -> str:
    """'440131' -> '4401.31' (as headings are written)."""
    return digits[:4] + "".join(f".{digits[i : i + 2]}" for i in range(4, len(digits), 2))


def normalise_name(name: str) -> str:
    """Upper case, no punctuation, no legal forms: 'PT. Kayu Jaya, Ltd' -> 'KAYU JAYA'."""
    return " ".join(w for w in name_words(name) if w not in LEGAL_FORMS)


def name_words(name: str) -> list[str]:
    # dots vanish rather than split, so P.T. reads as PT and Co. as CO
    return re.sub(r"[^0-9A-Z]+", " ", name.upper().replace(".", "")).split()


def mark_differences(a: str, b: str) -> tuple[Diff, Diff]:
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            left.append((a[i1:i2], not same))
        if j2 > j1:
            right.append((b[j1:j2], not same))
    return Diff(tuple(left)), Diff(tuple(right))

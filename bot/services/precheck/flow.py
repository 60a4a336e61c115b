"""Answers one at a time (the bot's flow): which question is next, what an answer stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from bot.services.precheck.knowledge import PrecheckKB
from bot.services.precheck.model import STEPS, SUMMARY, Msg, answer_text
from bot.services.precheck.parsing import CURRENCY_WORDS, hs_digits, parse_date, parse_measure, parse_money

MAX_ANSWER_CHARS = 200
CURRENCIES = ("USD", "EUR", "JPY", "CNY", "IDR")
# the destination step's follow-up after «Other country»: the next text names the country
OTHER_COUNTRY = "other_country"
MAX_COUNTRY_CHARS = 60


def next_step(answers: Mapping[str, Any]) -> str:
    return next((s for s in STEPS if not answer_text(answers, s)), SUMMARY)


def _choice(find: Callable[[str], str | None], unknown: str = "pc_bad_choice") -> Callable[[str], str | Msg]:
    def accept(text: str) -> str | Msg:
        return find(text) or Msg(unknown)

    return accept


def _hs(text: str) -> str | Msg:
    return text.strip() if hs_digits(text) else Msg("pc_bad_hs", {"text": text})


def _name(text: str) -> str | Msg:
    return text.strip() if any(ch.isalpha() for ch in text) else Msg("pc_bad_name")


def _not_positive(text: str) -> Msg:
    # no document states a quantity, a weight or a value of zero or less: a typing
    # mistake the exporter corrects now, not a finding left for the summary
    return Msg("pc_bad_not_positive", {"text": " ".join(text.split())})


def _measure(text: str) -> str | Msg:
    number, _ = parse_measure(text)
    if number is None:
        return Msg("pc_bad_measure")
    return " ".join(text.split()) if number.value > 0 else _not_positive(text)


def _money(text: str) -> str | Msg:
    number = parse_money(text)
    if number is None:
        return Msg("pc_bad_number")
    return text.strip() if number.value > 0 else _not_positive(text)


def _currency(text: str) -> str | Msg:
    word = " ".join(text.lower().replace(".", " ").split())
    code = CURRENCY_WORDS.get(word) or word.upper()
    # ISO 4217 codes only (Babel's list): "YEN" or "RPS" is no currency a document carries
    return code if code in _iso_currencies() else Msg("pc_bad_currency")


@cache
def _iso_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def named_country(text: str) -> str | None:
    """A country the check does not know, named after «Other country»: kept as typed
    (the summary says its form was not checked), when it reads like a name."""
    name = " ".join(text.split())
    if any(ch.isalpha() for ch in name) and len(name) <= MAX_COUNTRY_CHARS:
        return name
    return None


def accept(step: str, text: str, kb: PrecheckKB, today: dt.date) -> str | Msg:
    """The value to store for an answer, or the message that asks again."""
    if len(text) > MAX_ANSWER_CHARS:
        return Msg("pc_bad_long", {"limit": MAX_ANSWER_CHARS})
    if not text.strip():
        return Msg("pc_bad_empty")
    if step in ("shipment_date", "application_date"):
        day = parse_date(text, today if step == "application_date" else None)
        return day.isoformat() if day else Msg("pc_bad_date", {"text": text})
    accepts: dict[str, Callable[[str], str | Msg]] = {
        "commodity": _choice(kb.find_commodity),
        "destination": _choice(kb.find_destination, "pc_bad_destination"),
        "form": _choice(kb.find_form),
        "hs_code": _hs,
        "currency": _currency,
        "quantity": _measure,
        "gross_weight": _measure,
        "net_weight": _measure,
        "invoice_value": _money,
    }
    return accepts.get(step, _name)(text)

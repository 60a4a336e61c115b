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


def _measure(text: str) -> str | Msg:
    number, _ = parse_measure(text)
    return " ".join(text.split()) if number is not None else Msg("pc_bad_measure")


def _money(text: str) -> str | Msg:
    return text.strip() if parse_money(text) is not None else Msg("pc_bad_number")


def _currency(text: str) -> str | Msg:
    word = " ".join(text.lower().replace(".", " ").split())
    code = CURRENCY_WORDS.get(word) or word.upper()
    # ISO 4217 codes only (Babel's list): "YEN" or "RPS" is no currency a document carries
    return code if code in _iso_currencies() else Msg("pc_bad_currency")


@cache
def _iso_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


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

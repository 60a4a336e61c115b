"""Message catalog: every user-facing string, in Indonesian and English.

An entry with `plural: NAME` gives a language's text as CLDR plural forms
({one: ..., other: ...}); the value NAME decides which one is shown (1 ticket, 2 tickets).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.safeload import loads
from bot.text import plural_categories, plural_category

LANGS = ("id", "en")
DEFAULT_LANG = "id"
_FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Plural:
    """The forms of one entry: the value that picks one, and per language CLDR category
    -> text ('other' always there)."""

    count: str
    forms: dict[str, dict[str, str]]


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, dict[str, str]], dict[str, Plural]]:
    merged: dict[str, dict[str, str]] = {}
    plurals: dict[str, Plural] = {}
    for path in sorted(_FOLDER.glob("*.yaml")):
        data: dict[str, Any] = loads(path.read_text(encoding="utf-8"), path.name) or {}
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"{path.name}: message key {key!r} defined twice")
            entry = dict(value)
            count = entry.pop("plural", None)
            forms = {lang: _forms(path.name, key, lang, text) for lang, text in entry.items()}
            merged[key] = {lang: texts["other"] for lang, texts in forms.items()}
            if count is not None:
                plurals[key] = Plural(str(count), forms)
    return merged, plurals


def _forms(file: str, key: str, lang: str, text: Any) -> dict[str, str]:
    if not isinstance(text, dict):
        return {"other": str(text)}
    known = plural_categories(lang)
    if "other" not in text or not set(text) <= known:
        raise ValueError(
            f"{file}: {key}.{lang}: plural forms must be among {', '.join(sorted(known))} and include other"
        )
    return {category: str(form) for category, form in text.items()}


def catalog() -> dict[str, dict[str, str]]:
    """All *.yaml catalogs of this folder (one per feature); a key may appear only once.
    A plural entry appears with its 'other' form."""
    return _load()[0]


def plurals() -> dict[str, Plural]:
    """The entries with plural forms."""
    return _load()[1]


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None, **values: Any) -> str:
    """The text for `key` in `lang`, with {placeholders} filled from `values`."""
    lang = lang_or_default(lang)
    plural = plurals().get(key)
    if plural is not None and plural.count in values:
        forms = plural.forms[lang]
        text = forms.get(plural_category(values[plural.count], lang), forms["other"])
    else:
        text = catalog()[key][lang]
    return text.format(**values) if values else text


def language_of(telegram_code: str | None) -> str:
    """Telegram's language_code -> our language: English speakers get English."""
    return "en" if (telegram_code or "").lower().startswith("en") else DEFAULT_LANG

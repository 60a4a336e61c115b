"""Message catalog: every user-facing string, in Indonesian and English."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.safeload import loads

LANGS = ("id", "en")
DEFAULT_LANG = "id"
_FOLDER = Path(__file__).parent


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """All *.yaml catalogs of this folder (one per feature); a key may appear only once."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_FOLDER.glob("*.yaml")):
        data: dict[str, Any] = loads(path.read_text(encoding="utf-8"), path.name) or {}
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"{path.name}: message key {key!r} defined twice")
            merged[key] = {lang: str(text) for lang, text in value.items()}
    return merged


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None, **values: Any) -> str:
    """The text for `key` in `lang`, with {placeholders} filled from `values`."""
    text = catalog()[key][lang_or_default(lang)]
    return text.format(**values) if values else text


def language_of(telegram_code: str | None) -> str:
    """Telegram's language_code -> our language: English speakers get English."""
    return "en" if (telegram_code or "").lower().startswith("en") else DEFAULT_LANG

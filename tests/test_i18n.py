"""The message catalog: every key in both languages, every key used exists."""

from __future__ import annotations

import re

from bot.i18n import LANGS, catalog, t
from tests.conftest import ROOT

_USED = re.compile(r"""\bt\(\s*f?["']([a-z0-9_{}]+)["']""")


def test_every_message_has_indonesian_and_english() -> None:
    for key, texts in catalog().items():
        for lang in LANGS:
            assert texts.get(lang, "").strip(), f"{key} has no {lang} text"


def test_placeholders_match_between_languages() -> None:
    for key, texts in catalog().items():
        names = {lang: set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in LANGS}
        assert names["id"] == names["en"], key


def test_every_key_used_in_code_exists() -> None:
    keys = catalog()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "handlers").rglob("*.py")):
        for used in _USED.findall(path.read_text(encoding="utf-8")):
            if "{" in used:
                prefix = used.split("{", 1)[0]
                assert any(k.startswith(prefix) for k in keys), f"{path.name}: {used}"
            else:
                assert used in keys, f"{path.name} uses unknown message {used!r}"


def test_unknown_language_falls_back_to_indonesian() -> None:
    assert t("cmd_help", "fr") == t("cmd_help", "id")


# the exporters' commands each language names (both spellings work everywhere)
_OWN_COMMANDS = {"id": ("batal", "cek", "petugas"), "en": ("cancel", "check", "officer")}


def test_each_language_names_its_own_commands() -> None:
    """An English reader is told /cancel, /check, /officer; an Indonesian one /batal,
    /cek, /petugas: never the other language's, even where both would work."""
    for key, texts in catalog().items():
        for lang, other in (("id", "en"), ("en", "id")):
            named = set(re.findall(r"(?<![\w/])/([a-z]+)\b", texts[lang]))
            wrong = named & set(_OWN_COMMANDS[other])
            assert not wrong, f"{key} ({lang}) names /{', /'.join(sorted(wrong))}"

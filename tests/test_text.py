"""bot/text.py: escaping, numbers, month names and plural forms in Indonesian and English."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bot.i18n import LANGS, plurals, t
from bot.text import (
    escape,
    format_number,
    month_name,
    month_numbers,
    parse_number,
    plain,
    plural_category,
    read_written,
)


def test_escape_leaves_quotes_and_plain() -> None:
    assert escape('<b>"PT A&B"</b>') == '&lt;b&gt;"PT A&amp;B"&lt;/b&gt;'
    assert plain("<b>1 &lt; 2</b> &amp; <i>x</i>") == "1 < 2 & x"


@pytest.mark.parametrize(
    "value, lang, places, shown",
    [
        ("240795.83", "id", 2, "240.795,83"),
        ("240795.83", "en", 2, "240,795.83"),
        ("-1234.5", "id", 1, "-1.234,5"),
        ("0.125", "en", 2, "0.12"),
        ("0.135", "en", 2, "0.14"),
        ("1234567.5", "en", 0, "1,234,568"),
        ("12", "id", 3, "12,000"),
    ],
)
def test_format_number_groups_and_rounds_half_to_even(value: str, lang: str, places: int, shown: str) -> None:
    assert format_number(Decimal(value), lang, places) == shown


@pytest.mark.parametrize(
    "raw, style, value",
    [
        ("1.234", "id", "1234"),
        ("1.234", "en", "1.234"),
        ("1,234", "id", "1.234"),
        ("1,234", "en", "1234"),
        ("240.795,83", "id", "240795.83"),
        ("1E+30", "en", "1E+30"),
        ("1e400", None, "1E+400"),
        ("12 500", None, "12500"),
    ],
)
def test_parse_number_in_a_given_style(raw: str, style: str | None, value: str) -> None:
    number = parse_number(raw, style)
    assert number is not None and number.value == Decimal(value)


@pytest.mark.parametrize(
    "raw, style",
    [
        ("240.795,83", "en"),
        ("1,234.5", "id"),
        ("NaN", None),
        ("Infinity", "en"),
        ("-5", None),
        ("12,34.5", "en"),
    ],
)
def test_parse_number_refuses_what_does_not_fit(raw: str, style: str | None) -> None:
    assert parse_number(raw, style) is None


@pytest.mark.parametrize(
    "raw, style, id_value, en_value",
    [
        ("1.500", "ambiguous", "1500", "1.5"),
        ("25.000", "ambiguous", "25000", "25"),
        ("1,500", "ambiguous", "1.5", "1500"),
        ("1,5", "id", "1.5", None),
        ("1.500.000", "id", "1500000", None),
        ("1.500,25", "id", "1500.25", None),
        ("1.5", "en", None, "1.5"),
        ("1,500.25", "en", None, "1500.25"),
        ("1,500,000", "en", None, "1500000"),
        ("1234.567", "en", None, "1234.567"),  # 1234 is no group of thousands
        ("12 500", "plain", "12500", "12500"),
        ("1500", "plain", "1500", "1500"),
        ("ten", None, None, None),
        ("12,34.5", None, None, None),
    ],
)
def test_a_written_number_is_read_in_each_convention_it_fits(
    raw: str, style: str | None, id_value: str | None, en_value: str | None
) -> None:
    written = read_written(raw)
    assert written.style == style
    expected = {lang: Decimal(v) for lang, v in (("id", id_value), ("en", en_value)) if v is not None}
    assert written.readings == expected


def test_month_names_and_words_come_from_cldr() -> None:
    assert [month_name(m, "id") for m in (3, 8)] == ["Maret", "Agustus"]
    assert [month_name(m, "en") for m in (3, 8)] == ["March", "August"]
    words = month_numbers()
    assert (words["mei"], words["may"], words["agu"], words["nopember"], words["des"]) == (5, 5, 8, 11, 12)


@pytest.mark.parametrize(
    "count, lang, category",
    [
        (1, "en", "one"),
        (0, "en", "other"),
        (2, "en", "other"),
        ("1", "en", "one"),
        (Decimal("1.0"), "en", "other"),
        (1, "id", "other"),
        ("15", "en", "other"),
        ("1.5 jam", "en", "other"),
        (True, "en", "other"),
    ],
)
def test_plural_category_follows_cldr(count: object, lang: str, category: str) -> None:
    assert plural_category(count, lang) == category


def test_english_counts_read_singular_for_one() -> None:
    assert t("stats_sla", "en", count=1) == "• SLA breached: 1 ticket"
    assert t("stats_sla", "en", count=3) == "• SLA breached: 3 tickets"
    assert t("stats_sla", "id", count=1) == "• Melewati SLA: 1 tiket"
    assert t("status_closed_line", "en", status="Issued", count=1) == "Issued: 1 application"
    assert t("status_closed_line", "en", status="Issued", count=2) == "Issued: 2 applications"


def test_every_plural_form_has_the_same_placeholders() -> None:
    assert plurals(), "no catalog entry uses plural forms"
    for key, plural in plurals().items():
        texts = [text for lang in LANGS for text in plural.forms[lang].values()]
        names = [set(re.findall(r"\{(\w+)\}", text)) for text in texts]
        assert all(n == names[0] for n in names), key
        assert plural.count in names[0], f"{key} does not show {plural.count}"

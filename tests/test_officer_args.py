"""What officers type: Indonesian status words and /report, /stats periods and commodities."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.applications import parse_status, split_status
from bot.services.demo import load_demo
from bot.services.reports.args import ArgsError, Reading, read_period, read_report, read_stats
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, text_of
from tests.test_reports_flow import by_method, methods
from tests.test_status import seed

TODAY = dt.date(2026, 12, 1)
RECORDED = ["Plywood", "Veneer Keruing", "Wood Pellet", "Finger Joint", "Chopsticks"]


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("dikembalikan", "returned"),
        ("Dikembalikan untuk perbaikan", "returned"),
        ("terbit", "issued"),
        ("disetujui", "approved"),
        ("in-review", "in_review"),
        ("Diverifikasi", "in_review"),
        ("batal", "cancelled"),
        ("ditolak", "rejected"),
    ],
)
def test_status_words(typed: str, status: str) -> None:
    assert parse_status(typed) == status


def test_a_multi_word_label_is_split_from_the_note() -> None:
    assert split_status("Dikembalikan untuk perbaikan berat beda".split()) == ("returned", 3)
    assert split_status("terbit ok".split()) == ("issued", 1)
    assert split_status("entah".split()) == (None, 0)


async def test_setstatus_with_the_indonesian_word_and_a_refusal_wholly_in_indonesian(bot: BotHarness) -> None:
    seed(bot)
    body = text_of(await bot.say("/setstatus SKA-900 dikembalikan foto buram", user_id=OFFICER_ID))
    assert "SKA-900 sekarang Dikembalikan untuk perbaikan" in body
    found = bot.services.applications.find("SKA-900")
    assert found is not None and found[0].note == "foto buram"
    body = text_of(await bot.say("/setstatus SKA-001 terbit", user_id=OFFICER_ID))
    assert "Perubahan Diajukan → Terbit tidak diizinkan" in body
    for code in ("submitted", "issued", "in_review", "approved"):
        assert code not in body
    await bot.say("/lang en", user_id=OFFICER_ID)
    body = text_of(await bot.say("/setstatus SKA-001 issued", user_id=OFFICER_ID))
    assert "Submitted → Issued is not allowed" in body


async def test_status_card_names_the_country_in_the_readers_language(bot: BotHarness) -> None:
    seed(bot)
    body = text_of(await bot.say("/app SKA-001", user_id=OFFICER_ID))
    assert "Jepang" in body and "Japan" not in body
    await bot.say("/lang en", user_id=OFFICER_ID)
    body = text_of(await bot.say("/app SKA-001", user_id=OFFICER_ID))
    assert "Japan" in body


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        ("kemarin", dt.date(2026, 11, 30), dt.date(2026, 11, 30)),
        ("bulan ini", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("bulan lalu", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        ("last month", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("Q4 2025", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        ("triwulan 2 2025", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
        ("maret 2025", dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
        ("August 2025", dt.date(2025, 8, 1), dt.date(2025, 8, 31)),
        ("jan - jun 2025", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("2025-01 sampai 2025-06-15", dt.date(2025, 1, 1), dt.date(2025, 6, 15)),
        ("7 maret 2025", dt.date(2025, 3, 7), dt.date(2025, 3, 7)),
        ("tahun lalu", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ],
)
def test_periods(words: str, start: dt.date, end: dt.date) -> None:
    reading = read_period(words.split(), TODAY)
    assert reading.span is not None and reading.rest == ()
    assert (reading.span.start, reading.span.end) == (start, end)


@pytest.mark.parametrize(
    ("words", "spaced", "start", "end"),
    [
        ("januari-maret 2026", "januari - maret 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("jan-mar 2026", "jan - mar 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("Januari–Maret 2026", "januari – maret 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("jan—mar 2026", "jan — mar 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),  # a phone's "--"
        ("januari- maret 2026", "januari - maret 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("januari -maret 2026", "januari - maret 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("jan-mar-2026", "jan - mar 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("jan 2025-mar 2026", "jan 2025 - mar 2026", dt.date(2025, 1, 1), dt.date(2026, 3, 31)),
        ("des 2025-mar-2026", "des 2025 - mar 2026", dt.date(2025, 12, 1), dt.date(2026, 3, 31)),
        ("2025-01-2025-06", "2025-01 - 2025-06", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("2025-01-2025-06-15", "2025-01 - 2025-06-15", dt.date(2025, 1, 1), dt.date(2025, 6, 15)),
        ("2025-q1-2025-q2", "2025-q1 - 2025-q2", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("q1-2025-q2-2025", "q1 2025 - q2 2025", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("2024-2025", "2024 - 2025", dt.date(2024, 1, 1), dt.date(2025, 12, 31)),
        ("01/01/2026-31/03/2026", "01/01/2026 - 31/03/2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2026-maret", "2026 s/d maret", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    ],
)
def test_a_range_written_as_one_word_reads_as_the_spaced_one(
    words: str, spaced: str, start: dt.date, end: dt.date
) -> None:
    reading = read_period(words.split(), TODAY)
    assert reading == read_period(spaced.split(), TODAY)
    assert reading.span is not None and reading.rest == ()
    assert (reading.span.start, reading.span.end) == (start, end)


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        ("2026-01-15", dt.date(2026, 1, 15), dt.date(2026, 1, 15)),
        ("2026-03", dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        ("2026-3-7", dt.date(2026, 3, 7), dt.date(2026, 3, 7)),
        ("2025-q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("q1-2025", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        # a month of a year as spreadsheets write it, not March to the end of 2026
        ("mar-2026", dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        ("Maret-2026", dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    ],
)
def test_a_word_with_a_dash_that_is_one_period_is_not_cut(words: str, start: dt.date, end: dt.date) -> None:
    reading = read_period(words.split(), TODAY)
    assert reading.span is not None and reading.rest == ()
    assert (reading.span.start, reading.span.end) == (start, end)


@pytest.mark.parametrize(
    ("words", "rest"),
    [
        ("finger-joint", ("finger-joint",)),
        ("2025-13", ("2025-13",)),
        ("2025-02-30", ("2025-02-30",)),
        ("-5", ("-5",)),
        ("-", ("-",)),
    ],
)
def test_a_word_with_a_dash_that_holds_no_period_is_kept_as_typed(words: str, rest: tuple[str, ...]) -> None:
    assert read_period(words.split(), TODAY) == Reading(None, rest)


@pytest.mark.parametrize(
    ("words", "key", "word"),
    [
        ("maret-januari 2026", "rep_bad_period", ""),  # the start after the end, as spaced
        ("jan-mar-2026-2027", "args_not_understood", "jan-mar-2026-2027"),  # named as typed
    ],
)
def test_a_range_word_that_cannot_be_read_is_refused(
    bot: BotHarness, words: str, key: str, word: str
) -> None:
    with pytest.raises(ArgsError) as caught:
        read_report(words.split(), TODAY, bot.services.reports.commodity_names, RECORDED)
    assert (caught.value.key, caught.value.word) == (key, word)


def test_stats_reads_a_range_written_as_one_word() -> None:
    q = read_stats("januari-maret 2026 grafik".split(), TODAY, 30, 366)
    assert q.span is not None and (q.span.start, q.span.end, q.chart) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
        True,
    )


@pytest.mark.parametrize(
    ("words", "label", "names"),
    [
        ("2025 Kayu lapis", "Plywood", ("Plywood",)),
        ("plywood 2025", "Plywood", ("Plywood",)),
        ("bulan lalu veneer", "Veneer Keruing", ("Veneer Keruing",)),
        ("pelet kayu q2 2025", "Wood Pellet", ("Wood Pellet",)),
        ("sumpit", "Chopsticks", ("Chopsticks",)),
        ("plywod", "Plywood", ("Plywood",)),
    ],
)
def test_commodities_in_both_languages(
    bot: BotHarness, words: str, label: str, names: tuple[str, ...]
) -> None:
    query = read_report(words.split(), TODAY, bot.services.reports.commodity_names, RECORDED)
    assert (query.commodity, query.names) == (label, names)


@pytest.mark.parametrize(
    ("words", "key", "word"),
    [
        ("2025 xyz", "args_not_understood", "xyz"),
        ("kayu lapis foo", "args_not_understood", "foo"),
        ("2025-13", "rep_bad_period", "2025-13"),
        ("2026 2025", "rep_bad_period", ""),
    ],
)
def test_unreadable_report_words_are_named(bot: BotHarness, words: str, key: str, word: str) -> None:
    with pytest.raises(ArgsError) as caught:
        read_report(words.split(), TODAY, bot.services.reports.commodity_names, RECORDED)
    assert (caught.value.key, caught.value.word) == (key, word)


def test_stats_words() -> None:
    q = read_stats("7 hari grafik".split(), TODAY, 30, 366)
    assert (q.days, q.span, q.chart, q.workbook) == (7, None, True, False)
    q = read_stats("bulan lalu excel".split(), TODAY, 30, 366)
    assert q.span is not None and q.span.start == dt.date(2026, 11, 1) and q.workbook
    with pytest.raises(ArgsError):
        read_stats(["pdf"], TODAY, 30, 366)


async def test_report_understands_what_an_officer_types(bot: BotHarness) -> None:
    load_demo(bot.services.db, bot.services.answers.kb.exports)
    calls = await bot.say("/report 2025 Kayu lapis", user_id=OFFICER_ID)
    assert methods(calls) == ["sendMessage", "sendPhoto", "sendDocument"]
    summary = text_of(by_method(calls, "sendMessage"))
    assert "Komoditas: Plywood" in summary and "USD 30.986.633,82" in summary
    body = text_of(await bot.say("/report kemarin", user_id=OFFICER_ID))
    assert "Tidak ada SKA terbit" in body and "Komoditas" not in body.split("\n")[1]
    body = text_of(await bot.say("/report 2025 kayu jati", user_id=OFFICER_ID))
    assert "tidak mengerti «kayu jati»" in body and "Coba:" in body
    assert "Kayu lapis (plywood)" in body  # the commodities it knows
    await bot.say("/lang en", user_id=OFFICER_ID)
    body = text_of(await bot.say("/report 2025 teak", user_id=OFFICER_ID))
    assert "I don't understand “teak”" in body and "Try:" in body


async def test_stats_for_a_named_period(bot: BotHarness) -> None:
    body = text_of(await bot.say("/stats bulan lalu", user_id=OFFICER_ID))
    assert "Layanan help desk:" in body and "hari terakhir" not in body.split("\n")[0]
    body = text_of(await bot.say("/stats minggu depan", user_id=OFFICER_ID))
    assert "tidak mengerti «minggu depan»" in body and "/stats" in body


def test_period_labels_in_the_readers_language() -> None:
    from bot.services.reports import Period

    assert Period(dt.date(2026, 11, 30), dt.date(2026, 11, 30)).label("id") == "30 November 2026"
    assert Period(dt.date(2026, 8, 17), dt.date(2026, 8, 17)).label("id") == "17 Agustus 2026"
    assert Period(dt.date(2026, 8, 17), dt.date(2026, 8, 17)).label("en") == "17 August 2026"
    assert Period(dt.date(2025, 1, 1), dt.date(2025, 3, 31)).label("id") == "Triwulan 1 2025"
    assert Period(dt.date(2025, 10, 1), dt.date(2025, 12, 31)).label("en") == "Q4 2025"


@pytest.mark.parametrize("typed", ["januari-maret 2025", "jan-mar 2025", "januari–maret 2025"])
async def test_report_of_a_range_written_as_one_word(bot: BotHarness, typed: str) -> None:
    load_demo(bot.services.db, bot.services.answers.kb.exports)
    calls = await bot.say(f"/report {typed}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    summary = text_of(by_method(calls, "sendMessage"))
    assert "tidak mengerti" not in summary, summary[:200]
    assert methods(calls) == ["sendMessage", "sendPhoto", "sendDocument"]
    assert "penerbitan SKA</b>: Triwulan 1 2025" in summary
    spaced = await bot.say("/report januari - maret 2025", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert summary == text_of(by_method(spaced, "sendMessage"))

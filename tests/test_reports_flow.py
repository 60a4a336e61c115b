"""/report and /stats through the real Application on the fake Bot API."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.models import QueryLog
from bot.services.demo import load_demo
from bot.testing import Call
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, BotHarness, text_of
from tests.test_reports import png_size


async def download(bot: BotHarness, file_id: str) -> bytes:
    """What Telegram stored for an upload, fetched the way any client would."""
    file = await bot.app.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


def by_method(calls: list[Call], method: str) -> list[Call]:
    return [c for c in calls if c.method == method]


def methods(calls: list[Call]) -> list[str]:
    """What the user sees arrive (the "sending a file..." status aside)."""
    return [c.method for c in calls if c.method != "sendChatAction"]


async def test_officer_gets_summary_chart_and_workbook(bot: BotHarness) -> None:
    load_demo(bot.services.db, bot.services.answers.kb.exports)
    calls = await bot.say("/report 2025", user_id=OFFICER_ID)
    assert methods(calls) == ["sendMessage", "sendPhoto", "sendDocument"]
    summary = text_of(by_method(calls, "sendMessage"))
    assert "SKA terbit: 17 (5 eksportir, 13 negara tujuan)" in summary
    assert "240.795,83 ton" in summary and "USD 48.996.166,36" in summary
    assert "Plywood: USD 30.986.633,82 (63,2%)" in summary
    assert "Jepang: USD 9.315.549,91 (19,0%)" in summary
    assert "selisih USD 4.000,00" in summary
    photo = by_method(calls, "sendPhoto")[0]
    png = await download(bot, photo.result["photo"][-1]["file_id"])
    assert png_size(png)[0] >= 900 and "2025" in photo.params["caption"]
    doc = by_method(calls, "sendDocument")[0].result["document"]
    assert doc["file_name"] == "realisasi-ekspor-2025.xlsx"
    wb = load_workbook(io.BytesIO(await download(bot, doc["file_id"])))
    assert wb.sheetnames == ["Realisasi", "Per Komoditas", "Per Negara", "Per Bulan"]
    total = next(r for r in wb["Realisasi"].iter_rows(values_only=True) if r[1] == "JUMLAH")
    assert round(total[3], 2) == 240795.83 and round(total[4], 2) == 48996166.36


async def test_report_in_english_for_one_commodity_and_period(bot: BotHarness) -> None:
    load_demo(bot.services.db, bot.services.answers.kb.exports)
    calls = await bot.say(
        "/report 2025-01 2025-12 veneer keruing",
        user_id=OFFICER_ID,
        language_code="en",
        chat_id=OFFICERS_CHAT,
        chat_type="supergroup",
    )
    summary = text_of(by_method(calls, "sendMessage"))
    assert "Commodity: Veneer Keruing" in summary
    assert "83,455.20 tonnes" in summary and "USD 14,985,519.15" in summary
    assert "published" not in summary  # only the whole year has a printed total
    doc = by_method(calls, "sendDocument")[0].result["document"]
    assert doc["file_name"] == "export-realisation-2025-veneer-keruing.xlsx"


async def test_empty_period_and_bad_arguments(bot: BotHarness) -> None:
    load_demo(bot.services.db, bot.services.answers.kb.exports)
    calls = await bot.say("/report 2024", user_id=OFFICER_ID)
    assert methods(calls) == ["sendMessage"]
    assert "Tidak ada SKA terbit pada periode ini" in text_of(calls)
    calls = await bot.say("/report 2025-13", user_id=OFFICER_ID)
    assert "Periode tidak dikenali" in text_of(calls) and "/report" in text_of(calls)
    assert "Format" in text_of(await bot.say("/stats minggu", user_id=OFFICER_ID))


async def test_non_officers_are_refused(bot: BotHarness) -> None:
    load_demo(bot.services.db, bot.services.answers.kb.exports)
    for command in ("/report 2025", "/stats", "/stats 30 excel"):
        calls = await bot.say(command, user_id=1001)
        assert methods(calls) == ["sendMessage"], command
        assert "hanya untuk petugas" in text_of(calls), command
        assert "240.795" not in text_of(calls)


async def test_stats_summary_then_chart_and_workbook_on_request(bot: BotHarness) -> None:
    await bot.say("alamat kantor ipska dimana?", user_id=1001)
    await bot.say("siapa juara piala dunia 2022", user_id=1002)
    with bot.services.db.session() as s:
        logged = s.query(QueryLog).count()
    calls = await bot.say("/stats 7", user_id=OFFICER_ID)
    assert methods(calls) == ["sendMessage"]
    assert f"Pertanyaan: {logged}" in text_of(calls) and "7 hari terakhir" in text_of(calls)
    calls = await bot.say("/stats 7 grafik", user_id=OFFICER_ID)
    assert methods(calls) == ["sendMessage", "sendPhoto"]
    png = await download(bot, by_method(calls, "sendPhoto")[0].result["photo"][-1]["file_id"])
    assert png_size(png)[0] >= 900
    # an admin whose Telegram speaks English gets the English workbook
    calls = await bot.say("/stats 7 excel", user_id=ADMIN_ID, language_code="en")
    assert methods(calls) == ["sendMessage", "sendDocument"]
    wb = load_workbook(
        io.BytesIO(await download(bot, by_method(calls, "sendDocument")[0].result["document"]["file_id"]))
    )
    assert wb.sheetnames == ["Summary", "Topics", "Unanswered"]


async def test_a_question_with_a_control_character_does_not_break_the_workbook(bot: BotHarness) -> None:
    await bot.say("kontainer\x1b gudang dinas bisa dititipkan?", user_id=1002)
    calls = await bot.say("/stats 7 excel", user_id=OFFICER_ID)
    assert methods(calls) == ["sendMessage", "sendDocument"]
    wb = load_workbook(
        io.BytesIO(await download(bot, by_method(calls, "sendDocument")[0].result["document"]["file_id"]))
    )
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any("kontainer\ufffd gudang dinas" in v for v in cells)

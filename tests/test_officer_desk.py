"""The officers' desk: nothing meant for the office reaches an exporter, status notes
arrive whole or not at all, references in any case, /apps in pages, plain usage lines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import OutboxMessage, SkaApplication
from bot.telegram_html import parse_html
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, BotHarness, text_of
from tests.test_status import invite, seed
from tests.test_tickets import card_id, drain, open_ticket

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EXPORTER = 1001
COLLEAGUE = ADMIN_ID
HEADER = (
    "ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,"
    "submitted_at,volume_tonnes,value_usd\n"
)


async def linked(bot: BotHarness) -> None:
    seed(bot)
    sent = await bot.say(f"/link {await invite(bot)}", user_id=EXPORTER)
    assert "PT Kayu Lapis Satu" in text_of(sent)


async def officer(bot: BotHarness, text: str, user_id: int = OFFICER_ID) -> str:
    return text_of(await bot.say(text, user_id=user_id, chat_id=OFFICERS_CHAT))


def status_of(bot: BotHarness, ref: str) -> tuple[str, str]:
    with bot.services.db.session() as s:
        app = s.scalars(select(SkaApplication).where(SkaApplication.ref == ref)).one()
        return app.status, app.note


def exporter_texts(bot: BotHarness) -> str:
    return "\n".join(bot.api.texts(EXPORTER))


@pytest.mark.parametrize(
    "note",
    [
        "// jangan diproses dulu, direktur perusahaan ini sedang diperiksa polisi",
        "/note jangan diproses dulu",
        "foto buram\n// jangan diproses dulu, direktur diperiksa",
        "／／ jangan diproses dulu",
        # pasted from WhatsApp or Word: a zero-width character in front hides nothing
        "Perbaiki.\n\u200b/note jangan diproses dulu",
        "\ufeff// jangan diproses dulu",
    ],
)
async def test_a_status_note_marked_internal_is_refused_and_nothing_changes(
    bot: BotHarness, note: str
) -> None:
    await linked(bot)
    body = await officer(bot, f"/setstatus SKA-001 dikembalikan {note}")
    assert "tidak boleh ada di sini" in body and "Tidak ada yang diubah" in body
    assert status_of(bot, "SKA-001") == ("submitted", "")
    await drain(bot)
    assert "jangan diproses" not in exporter_texts(bot)
    assert "jangan diproses" not in text_of(await bot.say("/status SKA-001", user_id=EXPORTER))


@pytest.mark.parametrize(
    "typed",
    [
        "/notes rahasia D",
        "/ / rahasia H",
        "#note rahasia G",
        "\\\\ rahasia F",
        "／／ rahasia E",
        "/catatan rahasia",
        "Baik, sudah kami cek.\n// rahasia: direktur diperiksa",
        "/internal/ rahasia jangan kasih tau",
        "Catatan internal: rahasia, jangan diberitahu",
        "[note] rahasia cek ulang",
        "(internal) rahasia abaikan",
    ],
)
async def test_a_mistyped_note_in_a_ticket_reply_is_not_relayed(bot: BotHarness, typed: str) -> None:
    ticket = await open_ticket(bot)
    card = card_id(bot, ticket)
    sent = await bot.say(typed, user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, reply_to_message_id=card)
    body = text_of(sent)
    assert "Tidak dikirim ke eksportir" in body and "<code>//</code>" in body
    assert f"/reply {ticket} teks" in body
    sent = await bot.say(f"/reply {ticket} {typed}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "Tidak dikirim ke eksportir" in text_of(sent)
    await drain(bot)
    assert "rahasia" not in exporter_texts(bot)
    # a plain answer still goes out
    await bot.say("Silakan ke loket 2.", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, reply_to_message_id=card)
    await drain(bot)
    assert "Silakan ke loket 2." in bot.api.texts(EXPORTER)[-1]


async def test_a_status_note_keeps_its_line_breaks_and_a_too_long_one_is_refused(bot: BotHarness) -> None:
    await linked(bot)
    body = await officer(bot, "/setstatus SKA-001 dikembalikan Mohon perbaiki:\n1. invoice\n2. packing list")
    assert "SKA-001 sekarang Dikembalikan" in body
    await drain(bot)
    assert "Mohon perbaiki:\n1. invoice\n2. packing list" in bot.api.texts(EXPORTER)[-1]

    body = await officer(bot, "/setstatus SKA-001 diajukan " + "x" * 7199)
    assert "7.199 karakter, paling banyak 1.000" in body and "Tidak ada yang diubah" in body
    assert status_of(bot, "SKA-001")[0] == "returned"
    await bot.say("/lang en", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = await officer(bot, "/setstatus SKA-001 diajukan " + "x" * 1001)
    assert "1,001 characters, at most 1,000" in body
    await bot.say("/lang id", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)

    note = ("<b>&amp; PEB</b> & <asli> " * 40)[:1000]
    assert "sekarang Diajukan" in await officer(bot, f"/setstatus SKA-001 diajukan {note}")
    await drain(bot)
    with bot.services.db.session() as s:
        assert set(s.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "status"))) == {"sent"}
    pushes = [c for c in bot.api.sent(EXPORTER) if "asli" in str(c.params.get("text"))]
    assert pushes and all(c.ok for c in pushes)  # the fake, as Telegram, refuses bad HTML and > 4096
    assert note.strip() in " ".join(parse_html(c.params["text"])[0] for c in pushes)


async def test_returned_and_rejected_need_a_reason(bot: BotHarness) -> None:
    await linked(bot)
    body = await officer(bot, "/setstatus SKA-001 dikembalikan")
    assert "perlu alasan" in body and "Tidak ada yang diubah" in body
    assert "Contoh: <code>/setstatus SKA-001 dikembalikan " in body
    assert status_of(bot, "SKA-001")[0] == "submitted"
    await bot.say("/lang en", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = await officer(bot, "/setstatus SKA-001 rejected   ")
    assert "needs a reason" in body and "Example: <code>/setstatus SKA-001 rejected " in body
    assert status_of(bot, "SKA-001")[0] == "submitted"
    body = await officer(bot, "/setstatus SKA-001 rejected \u200b\u2060")  # invisible is no reason
    assert "needs a reason" in body and status_of(bot, "SKA-001")[0] == "submitted"
    await drain(bot)
    assert "Status pengajuan" not in exporter_texts(bot)
    # other statuses still need none
    assert "SKA-001 is now" in await officer(bot, "/setstatus SKA-001 in_review")


async def test_references_are_found_in_any_case_the_exact_one_first(bot: BotHarness) -> None:
    await linked(bot)
    assert "SKA-001 sekarang Sedang diverifikasi" in await officer(bot, "/setstatus ska-001 diverifikasi")
    assert "<b>SKA-001</b> - Sedang diverifikasi" in await officer(bot, "/app ska-001")
    assert "<b>SKA-001</b>" in text_of(await bot.say("/status ska-001", user_id=EXPORTER))
    assert "<b>SKA-001</b>" in text_of(await bot.say("/upload Ska-001", user_id=EXPORTER))
    # another company's stays unknown to the exporter in any case
    assert "tidak ditemukan" in text_of(await bot.say("/status ska-900", user_id=EXPORTER))
    # two refs that differ only by case (stored before imports refused that): the exact
    # spelling wins
    with bot.services.db.session() as s:
        s.scalars(select(SkaApplication).where(SkaApplication.ref == "SKA-900")).one().ref = "ska-001"
    assert "CV Lain Sekali" in await officer(bot, "/app ska-001")
    assert "PT Kayu Lapis Satu" in await officer(bot, "/app SKA-001")
    for command in ("/app Ska-001", "/setstatus Ska-001 diverifikasi"):
        body = await officer(bot, command)
        assert "<code>SKA-001</code>, <code>ska-001</code>. Tulis nomornya persis" in body


async def test_a_forged_upload_button_gets_a_clean_refusal(bot: BotHarness) -> None:
    await linked(bot)
    with bot.services.db.session() as s:
        other = s.scalars(select(SkaApplication.id).where(SkaApplication.ref == "SKA-900")).one()
    await bot.press(f"up:{other}", user_id=EXPORTER)
    refusal = bot.answers_to_callbacks()[-1].params.get("text")
    assert refusal == "Tombol ini sudah tidak berlaku."


async def test_apps_says_how_many_and_pages_through_them(bot: BotHarness) -> None:
    rows = "".join(
        f"SKA-{n:03d},1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-20,,\n"
        for n in range(1, 66)
    )
    assert bot.services.importer.import_text(HEADER + rows).created == 65
    body = await officer(bot, "/apps")
    assert "1–30 dari 65" in body and body.count("• <b>SKA-") == 30
    assert "Berikutnya: <code>/apps 2</code>" in body
    body = await officer(bot, "/apps diajukan 3")
    assert "61–65 dari 65" in body and body.count("• <b>SKA-") == 5 and "Berikutnya" not in body
    assert "/apps diajukan 2" in await officer(bot, "/apps diajukan")
    assert "Halaman 4 kosong: hanya ada 3 halaman" in await officer(bot, "/apps 4")
    await bot.say("/lang en", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "SKA-065 is now" in await officer(bot, "/setstatus SKA-065 in_review")
    assert "Page 2 is empty: there is only 1 page." in await officer(bot, "/apps in_review 2")
    await bot.say("/lang id", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    shown = set()
    for page in (1, 2, 3):
        shown |= {line.split("</b>")[0] for line in (await officer(bot, f"/apps {page}")).split("\n")}
    assert {f"• <b>SKA-{n:03d}" for n in range(1, 66)} <= shown


async def test_usage_lines_say_what_is_wrong_and_mine_counts_the_others(bot: BotHarness) -> None:
    body = await officer(bot, "/close abc")
    assert "/close NOMOR [ringkasan]" in body
    body = await officer(bot, "/apps foo")
    assert "Status foo tidak dikenal" in body and "/apps [status]" in body
    assert "Tidak ada tiket terbuka. 🎉" in await officer(bot, "/mine")
    ticket = await open_ticket(bot)
    await bot.press(
        f"tk:c:{ticket}", user_id=COLLEAGUE, chat_id=OFFICERS_CHAT, message_id=card_id(bot, ticket)
    )
    await open_ticket(bot, user_id=1002)
    body = await officer(bot, "/mine")
    assert "Tidak ada tiket terbuka atas nama Anda" in body and "ada 2 tiket terbuka" in body


async def test_docs_doc_and_note_usage_lines_name_a_ref_and_show_the_command_as_code(bot: BotHarness) -> None:
    body = await officer(bot, "/docs")
    assert "<code>/docs REF</code>" in body and "NOMOR" not in body
    body = await officer(bot, "/doc SKA-001")
    assert "<code>/doc REF DOKUMEN sesuai|ditolak|kurang [alasan]</code>" in body and "NOMOR" not in body
    body = await officer(bot, "/note")
    assert "<code>/note NOMOR catatan</code>" in body and "<code>/note 12 cek dulu ke kabid</code>" in body
    await bot.say("/lang en", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "<code>/docs REF</code>" in await officer(bot, "/docs")
    assert "<code>/doc REF DOCUMENT " in await officer(bot, "/doc")
    assert "<code>/note NUMBER text</code>" in await officer(bot, "/note")


async def test_a_pasted_note_stays_internal_and_exporters_commands_go_out(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    card = card_id(bot, ticket)
    for pasted in ("\u200b// rahasia C", "\u034f// rahasia C", "\u3164// rahasia C", "/note/ rahasia C"):
        sent = await bot.say(pasted, user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, reply_to_message_id=card)
        assert "Catatan internal" in text_of(sent)
    # an answer may tell the exporter which of their commands to type, or a path
    answer = (
        "Cek status dengan:\n/status SKA-001\nlalu kirim file lewat\n/upload SKA-001\n/ska/2026/SKA-001.pdf"
    )
    await bot.say(answer, user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, reply_to_message_id=card)
    await drain(bot)
    assert "rahasia" not in exporter_texts(bot)
    assert "/upload SKA-001" in bot.api.texts(EXPORTER)[-1]


async def test_a_mistyped_command_in_the_group_is_answered_with_the_nearest_one(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    for typed, meant in (
        ("replay", "reply"),
        ("cliam", "claim"),
        ("clsoe", "close"),
        ("setstatsu", "setstatus"),
    ):
        said = await officer(bot, f"/{typed} {ticket} Silakan datang ke loket")
        assert f"/{typed}" in said and f"Maksud Anda /{meant}?" in said
    # nothing happened to the ticket, and the exporter heard nothing
    assert "Silakan datang" not in exporter_texts(bot)
    # a command for another bot, and a non-officer's typo, get no answer in the group
    assert text_of(await bot.say("/replay@OtherBot 1 x", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)) == ""
    assert text_of(await bot.say("/replay 1 x", user_id=EXPORTER, chat_id=OFFICERS_CHAT)) == ""


async def test_the_card_buttons_words_work_as_commands(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    assert f"Tiket #{ticket} diambil oleh" in await officer(bot, f"/ambil {ticket}")
    await officer(bot, f"/balas {ticket} Silakan lampirkan invoice asli")
    await drain(bot)
    assert "Silakan lampirkan invoice asli" in exporter_texts(bot)
    await officer(bot, f"/tutup {ticket} selesai")
    await drain(bot)
    assert "ditutup" in exporter_texts(bot)
    # an exporter cannot use them
    assert "hanya untuk petugas" in text_of(await bot.say(f"/tutup {ticket}", user_id=EXPORTER))


async def test_closing_a_colleagues_ticket_names_the_colleague(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await bot.say(f"/claim {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, first_name="Sari")
    said = await officer(bot, f"/close {ticket} sudah dijawab", user_id=ADMIN_ID)
    assert f"Tiket #{ticket} ditutup" in said and "diambil oleh Sari" in said
    # closing one's own says no more than that
    other = await open_ticket(bot, user_id=1002)
    await bot.say(f"/claim {other}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, first_name="Sari")
    assert "diambil oleh" not in await officer(bot, f"/close {other} selesai")

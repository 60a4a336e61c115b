"""The facts exporters read, as the bot shows them: only what the office's fact sheet says,
confirm items phrased as such with the officer button, office details from the settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import (
    OFFICER_ID,
    OFFICERS_CHAT,
    BotHarness,
    buttons_of,
    harness_with,
    text_of,
)
from tests.test_cli import run_cli
from tests.test_status import invite, seed

EN = 2002  # an exporter whose Telegram speaks English
OFFICER_BUTTON = "🙋 Tanya petugas"
OFFICER_BUTTON_EN = "🙋 Ask an officer"
CONFIRM_NOTE = "Sebagian informasi di atas perlu dikonfirmasi ke petugas IPSKA."
CONFIRM_NOTE_EN = "Part of the information above must be confirmed with the IPSKA office."


async def ask(bot: BotHarness, question: str, en: bool = False) -> tuple[str, list[tuple[str, str]]]:
    if en:
        sent = await bot.say(question, user_id=EN, language_code="en")
    else:
        sent = await bot.say(question)
    return text_of(sent), buttons_of(sent)


async def topic(bot: BotHarness, topic_id: str, en: bool = False) -> tuple[str, list[tuple[str, str]]]:
    """A topic opened from the menu: the entry itself, whatever the matcher does."""
    if en:
        await bot.say("/start", user_id=EN, language_code="en")
        sent = await bot.press(f"a:{topic_id}", user_id=EN, language_code="en")
    else:
        sent = await bot.press(f"a:{topic_id}")
    return text_of(sent), buttons_of(sent)


# -- office contact from the settings ----------------------------------------------------------


OFFICE = {
    "name": "IPSKA Disdagperin Kalteng",
    "address": "Jl. Contoh 1 & 2, Palangka Raya",
    "phone": "0536-000000",
    "hours": {"mon": "07:30-15:00", "tue": "07:30-15:00", "fri": "08:00-11:00"},
}


@pytest.fixture
async def configured(database_url: str) -> AsyncIterator[BotHarness]:
    """An office that has set its address, phone and counter hours."""
    async with harness_with(database_url, office=OFFICE) as bot:
        yield bot


async def test_contact_answer_gives_the_configured_address_phone_and_hours(configured: BotHarness) -> None:
    body, buttons = await ask(configured, "alamat kantor ipska dimana")
    assert "• Alamat: Jl. Contoh 1 &amp; 2, Palangka Raya" in body  # settings are text
    assert "• Telepon: 0536-000000" in body
    assert "• Jam layanan loket: Senin-Selasa 07:30-15:00, Jumat 08:00-11:00 WIB" in body
    # the office's own settings are stated as they are: nothing to confirm, no fragments
    assert "konfirmasi" not in body and CONFIRM_NOTE not in body
    assert "tanyakan ke kantor" not in body and OFFICER_BUTTON not in dict(buttons)
    body, _ = await ask(configured, "what are your office hours", en=True)
    assert "• Counter hours: Monday-Tuesday 07:30-15:00, Friday 08:00-11:00 WIB" in body
    assert "• Address: Jl. Contoh 1 &amp; 2, Palangka Raya" in body and "confirm" not in body


async def test_contact_answer_without_configured_hours_marks_them_confirm(bot: BotHarness) -> None:
    # the test settings give an address and a phone but no hours: the built-in default
    # week drives the calendar, but is not told to exporters as the office's hours
    body, buttons = await ask(bot, "jam layanan kantor jam berapa")
    assert "• Alamat: Jl. Contoh 1" in body and "• Telepon: 0536-000000" in body
    assert "07:30-16:00" not in body and "Senin-Kamis" not in body
    assert "Jam layanan loket belum dicatat kantor di bot ini" in body
    assert "mohon konfirmasi ke petugas sebelum datang" in body
    assert "Senin–Jumat, mulai 07:30 WIB (08:00 saat Ramadan), Perpres 21/2023" in body
    assert ": (konfirmasi ke petugas)" not in body
    assert CONFIRM_NOTE in body and OFFICER_BUTTON in dict(buttons)


def test_contact_answer_says_plainly_that_address_and_phone_are_not_set(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"office": {"hours": {"mon": "08:00-15:00"}}}))
    out = run_cli("ask", "--json", "--config", str(config), "alamat dan no telp kantor ska", cwd=tmp_path)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["id"] == "office-contact"
    answer = result["answer"]
    assert "• Alamat dan nomor telepon kantor belum tercatat di bot ini. Tanyakan ke petugas" in answer
    assert "(tanyakan ke kantor)" not in answer and "Alamat:" not in answer
    assert "• Jam layanan loket: Senin 08:00-15:00 WIB" in answer
    # nothing to confirm, but the answer sends the reader to an officer: the button is there
    assert result["confirm"] is False and result["officer_button"] is True
    out = run_cli(
        "ask",
        "--json",
        "--lang",
        "en",
        "--config",
        str(config),
        "office address and phone number",
        cwd=tmp_path,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])["answer"]
    assert "The office's address and phone number are not recorded in this bot yet" in answer


# -- statistics: only what the rows support --------------------------------------------------------


async def test_statistics_name_destinations_per_commodity_without_a_ranking(bot: BotHarness) -> None:
    body, _ = await ask(bot, "statistik ekspor kayu kalteng 2025")
    assert "Tujuan utama" not in body and "Main destinations" not in body
    assert (
        "• Plywood: 137.782,70 ton, USD 30.986.633,82; tujuan: Jepang, Arab Saudi, Uni Emirat Arab, Oman"
    ) in body
    assert (
        "• Veneer Keruing: 83.455,20 ton, USD 14.985.519,15; tujuan: Korea Selatan, India, "
        "Belanda, Belgia, Tiongkok (China), Amerika Serikat"
    ) in body
    assert "Komoditas terbesar menurut nilai: <b>Plywood</b>" in body
    assert "Data tidak memuat nilai per negara tujuan" in body
    body, _ = await ask(bot, "export statistics 2025", en=True)
    assert "to Japan, Saudi Arabia, the United Arab Emirates, Oman" in body
    assert "Largest commodity by value: <b>Plywood</b>" in body
    assert "destinations are not ranked" in body


# -- confirm items are phrased as such and offer an officer ----------------------------------------


@pytest.mark.parametrize(
    "topic_id, confirm_text",
    [
        ("ska-types", "IUAE-CEPA (nama formnya mohon konfirmasi ke petugas)"),
        (
            "account-activation",
            "standar layanan di provinsi lain <b>1 hari kerja</b> setelah dokumen "
            "lengkap; untuk Kalimantan Tengah mohon konfirmasi ke petugas",
        ),
        (
            "application-documents",
            "dokumen <b>V-Legal</b> (SVLK) wajib untuk ekspor (Permendag "
            "45/2020); apakah juga diunggah bersama SKA, mohon konfirmasi ke petugas",
        ),
        ("returned-or-rejected", "langkah sesudahnya mohon konfirmasi ke petugas"),
        ("fees", "Mohon konfirmasi ke petugas apakah PNBP itu berlaku di Kalimantan Tengah"),
        ("update-company-data", "Mohon konfirmasi ke petugas cara memperbarui data di e-SKA"),
        ("timber-legality", "belum pasti; mohon konfirmasi ke petugas"),
    ],
)
async def test_confirm_facts_say_so_and_offer_an_officer(
    bot: BotHarness, topic_id: str, confirm_text: str
) -> None:
    body, buttons = await topic(bot, topic_id)
    assert confirm_text in body
    assert CONFIRM_NOTE in body and OFFICER_BUTTON in dict(buttons)


async def test_confirm_facts_in_english_too(bot: BotHarness) -> None:
    body, buttons = await ask(bot, "how long does e-ska account activation take", en=True)
    assert "another province's service standard is <b>1 working day</b>" in body
    assert "please confirm with the office" in body
    assert CONFIRM_NOTE_EN in body and OFFICER_BUTTON_EN in dict(buttons)
    body, _ = await topic(bot, "ska-types", en=True)
    assert "IUAE-CEPA (for its form name, confirm with the office)" in body


async def test_ska_types_name_only_forms_of_the_fact_sheet(bot: BotHarness) -> None:
    body, _ = await ask(bot, "bedanya ska preferensi dan non preferensi")
    assert "Form B" in body and "IK-CEPA" in body
    assert "ICO" not in body and "Annex 3" not in body and "semua negara" not in body


# -- answers that said more than the facts -----------------------------------------------------------


async def test_processing_time_makes_no_office_hours_claim(bot: BotHarness) -> None:
    body, _ = await ask(bot, "berapa lama proses penerbitan ska")
    assert "paling lama <b>1 hari kerja</b>" in body and "Permendag 34/2023" in body
    assert "di luar jam layanan" not in body and "hari kerja berikutnya" not in body
    body, _ = await ask(bot, "How long does issuance take?", en=True)
    assert "outside office hours" not in body and "next working day" not in body


async def test_refusal_is_not_answered_like_a_return(bot: BotHarness) -> None:
    body, buttons = await topic(bot, "returned-or-rejected")
    returned, rejected = body.split("• <b>Ditolak</b>")
    assert "• <b>Dikembalikan</b> (untuk perbaikan)" in returned and "<b>kirim ulang</b>" in returned
    refusal = rejected.split("\n")[0]
    assert "berbeda dengan dikembalikan untuk perbaikan" in refusal
    assert "kirim ulang" not in refusal and "perbaiki" not in refusal.lower()
    assert OFFICER_BUTTON in dict(buttons)


async def test_retroactive_answer_counts_from_issuance(bot: BotHarness) -> None:
    body, _ = await ask(bot, "apa itu issued retroactively")
    assert "Yang dihitung tanggal <b>terbit</b>, bukan tanggal pengajuan" in body
    assert "hari kerja ke-3 setelah pengapalan bisa terbit pada hari ke-4" in body


# -- phrasing ------------------------------------------------------------------------------------


async def test_country_names_read_right_in_english_sentences(bot: BotHarness) -> None:
    body, _ = await ask(bot, "form for shipment to the Netherlands", en=True)
    assert "<b>SKA forms for exports to the Netherlands</b>" in body
    body, _ = await ask(bot, "which form for exports to the uae", en=True)
    assert "<b>SKA forms for exports to the United Arab Emirates</b>" in body
    # buttons keep the plain name
    _, buttons = await ask(bot, "which form should we choose for our shipment", en=True)
    assert ("United Arab Emirates", "d:AE") in buttons


async def test_an_eu_member_state_is_named_with_the_unions_facts(bot: BotHarness) -> None:
    body, _ = await ask(bot, "ke spanyol pakai form ska apa")
    assert "Spanyol" in body and "Uni Eropa" not in body.split("\n")[0]
    assert "IEU-CEPA" in body and "REX" in body
    body, _ = await ask(bot, "which CO form for our buyer in Italy", en=True)
    assert "Italy" in body and "REX" in body


async def test_us_answer_says_no_preferential_form_once(bot: BotHarness) -> None:
    body, _ = await ask(bot, "destination usa, which form", en=True)
    assert body.count("preferential form") == 1 and "The US GSP has lapsed." in body
    body, _ = await ask(bot, "ke amerika pakai form apa")
    assert body.count("form preferensi") == 1 and "GSP Amerika Serikat sudah berakhir." in body


async def test_form_table_has_one_bullet_per_line(bot: BotHarness) -> None:
    for question, en in (
        ("form ska mana yang harus dipilih", False),
        ("which form should we choose for our shipment", True),
    ):
        body, _ = await ask(bot, question, en=en)
        lines = body.split("\n")
        assert sum(line.startswith("• ") for line in lines) >= 6
        assert all(line.count("•") <= 1 for line in lines)
        assert "semua negara" not in body and "every country" not in body


async def test_no_answer_has_a_bare_confirm_fragment(unthrottled: BotHarness) -> None:
    """Every topic and every destination, in both languages, as a user opens them."""
    bot = unthrottled
    await bot.say("/start", user_id=EN, language_code="en")
    topics = [
        tid
        for category in bot.services.answers.categories()
        for tid, _ in bot.services.answers.topics_in(category, "id")
    ]
    assert len(topics) >= 25
    pages = []
    for user in (1001, EN):
        for tid in topics:
            pages.append(text_of(await bot.press(f"a:{tid}", user_id=user)))
        for iso in bot.services.answers.kb.countries:
            pages.append(text_of(await bot.press(f"d:{iso}", user_id=user)))
    for page in pages:
        assert page.startswith("<b>")
        for fragment in (
            ": (konfirmasi ke petugas)",
            ": (confirm with the office)",
            "(tanyakan ke kantor)",
            "(ask the office)",
        ):
            assert fragment not in page


async def test_in_review_reads_as_being_verified(bot: BotHarness) -> None:
    seed(bot)
    await bot.say(f"/link {await invite(bot)}")
    await bot.say("/setstatus SKA-001 in_review", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = text_of(await bot.say("/status"))
    assert "Sedang diverifikasi" in body
    # imports and commands written with the former label still work
    sent = await bot.say("/setstatus SKA-001 Diverifikasi", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "Statusnya memang sudah Sedang diverifikasi." in text_of(sent)  # labels, not codes


async def test_thumbs_down_thanks_reads_naturally(bot: BotHarness) -> None:
    sent = await bot.say("How long does issuance take?", user_id=EN, language_code="en")
    down = next(d for _, d in buttons_of(sent) if d.startswith("f:") and d.endswith(":0"))
    await bot.press(down, user_id=EN)
    answers = [c.params.get("text") for c in bot.answers_to_callbacks()]
    assert "Thanks for letting us know; we will use it to improve this answer. See also /topics." in answers

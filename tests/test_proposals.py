"""FAQ growth an admin can trust: a cleaned draft, edited in chat, stored in the database,
picked up by every process and checked by `kb check`."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from bot.models import LearnedFaq
from bot.services import build_services
from bot.services.faqdraft import clean, draft_title
from bot.services.kbcheck import check_knowledge
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of, text_of
from tests.test_tickets import open_ticket

QUESTION = (
    "Selamat pagi pak, pengurusan ska bs diwakilkan forwarder gk? PT Korindo mau "
    "kirim minggu depan. Terima kasih pak"
)
ANSWER = "Baik pak Budi, bisa. Forwarder membawa surat kuasa dari PT Korindo."


def test_draft_takes_out_greetings_forms_of_address_and_names() -> None:
    cleaned = clean(QUESTION, companies=["PT. Korindo Aria Bima Sari"], people=["Budi"])
    assert "Selamat pagi" not in cleaned.text and "pak" not in cleaned.text
    assert "Korindo" not in cleaned.text and "Terima kasih" not in cleaned.text
    kinds = {kind for kind, _ in cleaned.flags}
    assert kinds == {"greeting", "honorific", "company"}
    assert (
        draft_title(cleaned.text, {"bs": "bisa", "gk": "tidak"})
        == "Pengurusan SKA bisa diwakilkan forwarder tidak?"
    )
    answer = clean(ANSWER, companies=[], people=["Budi"])
    assert answer.text == "Baik, bisa. Forwarder membawa surat kuasa dari perusahaan."


async def propose(bot: BotHarness) -> int:
    ticket = await open_ticket(bot, question=QUESTION)
    await bot.say(f"/reply {ticket} {ANSWER}", user_id=OFFICER_ID)
    await bot.say(f"/close {ticket}", user_id=OFFICER_ID)
    sent = await bot.press(f"pf:{ticket}:new", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "#" in text_of(sent)
    return bot.services.proposals.pending()[-1].id


async def edit(bot: BotHarness, proposal: int, field: str, text: str) -> str:
    """Press the ✏️ button, then reply to the prompt the way Telegram's reply box does."""
    sent = await bot.press(f"pe:{proposal}:{field}", user_id=ADMIN_ID)
    prompt = sent[-1]
    assert prompt.params["reply_markup"].get("force_reply") is True
    reply = await bot.say(text, user_id=ADMIN_ID, reply_to_message_id=prompt.result["message_id"])
    return text_of(reply)


async def test_admin_edits_both_languages_then_approves(bot: BotHarness) -> None:
    proposal = await propose(bot)
    body = text_of(await bot.say("/proposals", user_id=ADMIN_ID))
    # the draft: cleaned, flagged, and nothing copied into English
    assert "Pengurusan SKA bisa diwakilkan forwarder tidak?" in body
    assert "nama perusahaan «PT Korindo»" in body and "sapaan «Selamat pagi»" in body
    draft = body.split("Judul (ID):", 1)[1]
    assert "Korindo" not in draft and "pak" not in draft.split("Jawaban (EN)")[0]
    assert "Judul (EN):</b> ⚠️ belum ada" in body
    # approving without English is refused, and says what is missing
    refused = text_of(await bot.press(f"pa:{proposal}", user_id=ADMIN_ID))
    assert "belum bisa disetujui" in refused and "judul Inggris" in refused
    assert "Usulan" in await edit(bot, proposal, "ti", "Bolehkah forwarder mengurus SKA?")
    await edit(bot, proposal, "te", "May a forwarder apply for the SKA?")
    shown = await edit(bot, proposal, "ae", "Yes, with a power of attorney from the exporter.")
    assert "May a forwarder apply for the SKA?" in shown
    assert "approved and loaded" not in text_of(await bot.press(f"pa:{proposal}", user_id=OFFICER_ID))
    done = text_of(await bot.press(f"pa:{proposal}", user_id=ADMIN_ID))
    assert "disetujui" in done
    with bot.services.db.session() as s:
        row = s.scalars(select(LearnedFaq)).one()
        assert row.title_id == "Bolehkah forwarder mengurus SKA?" and not row.id_only
    entry = bot.services.answers.kb.entries[row.entry_id]
    assert entry.answer["en"] == "Yes, with a power of attorney from the exporter."
    assert "Korindo" not in entry.answer["id"]
    sent = await bot.say("forwarder boleh urus ska?", user_id=3003)
    assert "surat kuasa" in text_of(sent)


async def test_indonesian_only_entry_answers_in_indonesian_with_a_note(bot: BotHarness) -> None:
    proposal = await propose(bot)
    sent = await bot.press(f"pe:{proposal}:io", user_id=ADMIN_ID)
    assert ("☑ Hanya Bahasa Indonesia", f"pe:{proposal}:io") in buttons_of(sent)
    await bot.press(f"pa:{proposal}", user_id=ADMIN_ID)
    with bot.services.db.session() as s:
        entry_id = s.scalars(select(LearnedFaq.entry_id)).one()
    entry = bot.services.answers.kb.entries[entry_id]
    assert entry.answer["en"].startswith("<i>(This answer is available in Indonesian only.)")
    assert "surat kuasa" in entry.answer["en"]


async def test_empty_or_overlong_edits_change_nothing(bot: BotHarness) -> None:
    proposal = await propose(bot)
    before = bot.services.proposals.get(proposal)
    body = await edit(bot, proposal, "ti", "x" * 200)
    assert "terlalu panjang" in body.lower() and "judul maks. 120, jawaban maks. 1.000 karakter" in body
    assert bot.services.proposals.get(proposal) == before


async def test_every_process_answers_with_it_and_kb_check_validates_it(bot: BotHarness) -> None:
    other = build_services(bot.services.settings)  # a second bot process
    try:
        proposal = await propose(bot)
        await bot.press(f"pe:{proposal}:io", user_id=ADMIN_ID)
        await bot.press(f"pa:{proposal}", user_id=ADMIN_ID)
        assert not (other.answers.classify("pengurusan ska bisa diwakilkan forwarder?").id or "").startswith(
            "learned-"
        )
        assert other.proposals.refresh()  # its 30-second job
        assert (other.answers.classify("pengurusan ska bisa diwakilkan forwarder?").id or "").startswith(
            "learned-"
        )
        assert not other.proposals.refresh()  # nothing new: nothing reloaded
    finally:
        other.close()
    problems, summary = check_knowledge(bot.services.settings)
    assert problems == [] and "(1 approved by admins)" in summary
    # a bad row (an answer with a stray tag) is reported like a curated entry's
    with bot.services.db.session() as s:
        row = s.scalars(select(LearnedFaq)).one()
        row.answer_id = "x"
        row.title_id = ""
    problems, _ = check_knowledge(dataclasses.replace(bot.services.settings))
    assert any("database" in p and "title.id" in p for p in problems)


async def test_only_admins_edit_and_bad_buttons_change_nothing(bot: BotHarness) -> None:
    proposal = await propose(bot)
    before = bot.services.proposals.get(proposal)
    await bot.press(f"pe:{proposal}:ti", user_id=OFFICER_ID)
    assert bot.answers_to_callbacks()[-1].params.get("text") == "Maaf, perintah ini hanya untuk admin."
    for data in (f"pe:{proposal}:xx", "pe:99999:ti", f"pe:{proposal}"):
        await bot.press(data, user_id=ADMIN_ID)
        assert bot.answers_to_callbacks()[-1].params.get("show_alert")
    # an admin's reply to some other message is an ordinary question
    sent = await bot.say("berapa biaya ska", user_id=ADMIN_ID, reply_to_message_id=1)
    assert "Biaya" in text_of(sent) or "biaya" in text_of(sent)
    assert bot.services.proposals.get(proposal) == before


def test_drafts_scrub_dotted_phone_numbers_and_refs_in_any_case() -> None:
    from bot.services.faqdraft import clean

    cleaned = clean("pengajuan ska-002 dikembalikan, hubungi 0812.3456.7890; HS 0901.11.00.00", [], [])
    assert cleaned.text == "pengajuan [nomor pengajuan] dikembalikan, hubungi [telepon]; HS 0901.11.00.00"
    assert ("ref", "ska-002") in cleaned.flags and ("phone", "0812.3456.7890") in cleaned.flags

"""The officer queue, end to end through the real Application, with restarts between steps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.models import FaqProposal, Ticket, TicketMessage
from tests.conftest import (
    ADMIN_ID,
    OFFICER_ID,
    OFFICERS_CHAT,
    BotHarness,
    buttons_of,
    restarted,
    text_of,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EXPORTER = 1001
UNANSWERABLE = "apakah kontainer saya bisa dititipkan di gudang dinas selama seminggu"


async def drain(bot: BotHarness) -> None:
    await bot.sender.drain(bot.app.bot, budget_seconds=5)


def card_id(bot: BotHarness, ticket_id: int) -> int:
    with bot.services.db.session() as s:
        return s.get(Ticket, ticket_id).card_message_id


def group_texts(bot: BotHarness) -> str:
    return "\n".join(bot.api.texts(OFFICERS_CHAT))


async def open_ticket(
    bot: BotHarness, user_id: int = EXPORTER, question: str = UNANSWERABLE, name: str = "Budi"
) -> int:
    sent = await bot.say(question, user_id=user_id, first_name=name)
    assert "🙋 Tanya petugas" in dict(buttons_of(sent))
    sent = await bot.press("o:ask", user_id=user_id)
    assert "tiket #" in text_of(sent)
    with bot.services.db.session() as s:
        return s.scalars(
            select(Ticket.id).where(Ticket.user_id == user_id).order_by(Ticket.id.desc())
        ).first()


async def test_the_whole_loop_survives_a_restart_between_every_step(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    card = bot.api.last(OFFICERS_CHAT)
    assert f"Tiket #{ticket}" in card.params["text"] and "kontainer" in card.params["text"]
    assert "Budi" in card.params["text"] and "terbuka" in card.params["text"]
    assert ("Ambil", f"tk:c:{ticket}") in bot.api.buttons(card)

    bot = await restarted(bot)
    await bot.press(
        f"tk:c:{ticket}",
        user_id=OFFICER_ID,
        chat_id=OFFICERS_CHAT,
        message_id=card_id(bot, ticket),
        first_name="Sari",
    )
    assert "ditangani Sari" in bot.api.last(OFFICERS_CHAT).params["text"]

    bot = await restarted(bot)
    await bot.say(
        "Bisa, silakan hubungi bagian umum.",
        user_id=OFFICER_ID,
        chat_id=OFFICERS_CHAT,
        reply_to_message_id=card_id(bot, ticket),
    )
    await drain(bot)
    relay = bot.api.texts(EXPORTER)[-1]
    assert "Petugas IPSKA" in relay and "bagian umum" in relay
    assert "Sari" not in relay  # signed by role, not by person

    bot = await restarted(bot)
    await bot.say(
        "// eksportir ini sering tanya hal serupa",
        user_id=OFFICER_ID,
        chat_id=OFFICERS_CHAT,
        reply_to_message_id=card_id(bot, ticket),
    )
    await drain(bot)
    assert not any("sering tanya" in text for text in bot.api.texts(EXPORTER))

    bot = await restarted(bot)
    sent = await bot.say("terima kasih, nomor telepon bagian umum berapa?", user_id=EXPORTER)
    assert "Diteruskan ke petugas" in text_of(sent)
    assert "nomor telepon bagian umum" in group_texts(bot)

    bot = await restarted(bot)
    await bot.say(
        f"/close {ticket} dijawab:\n1. nomor bagian umum", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT
    )
    await drain(bot)
    assert "ditutup" in bot.api.texts(EXPORTER)[-1]
    with bot.services.db.session() as s:
        assert s.get(Ticket, ticket).summary == "dijawab:\n1. nomor bagian umum"  # lines kept
    rating = [d for _, d in bot.api.buttons(bot.api.last(EXPORTER))]
    assert rating == [f"r:{ticket}:{n}" for n in range(1, 6)]

    bot = await restarted(bot)
    await bot.press(f"r:{ticket}:5", user_id=EXPORTER)
    await bot.press(f"o:comment:{ticket}", user_id=EXPORTER)
    bot = await restarted(bot)
    await bot.say("cepat dan jelas", user_id=EXPORTER)
    with bot.services.db.session() as s:
        row = s.get(Ticket, ticket)
        assert (row.status, row.rating, row.rating_comment) == ("closed", 5, "cepat dan jelas")
        assert row.first_response_at is not None and row.closed_at is not None
        kinds = [
            m.direction
            for m in s.scalars(
                select(TicketMessage).where(TicketMessage.ticket_id == ticket).order_by(TicketMessage.id)
            )
        ]
        assert kinds == ["in", "out", "note", "in"]
    # after closing, questions go to the FAQ again
    sent = await bot.say("berapa lama ska terbit", user_id=EXPORTER)
    assert "hari kerja" in text_of(sent)
    await bot.app.shutdown()


async def test_back_to_the_bot_detaches_but_replies_still_arrive(bot: BotHarness) -> None:
    # with no ticket the button says so, instead of promising a reply
    assert "tidak ada tiket terbuka" in text_of(await bot.press("o:back"))
    ticket = await open_ticket(bot)
    assert "Balasan petugas untuk tiket Anda" in text_of(await bot.press("o:back"))
    sent = await bot.say("berapa biaya ska")
    assert "gratis" in text_of(sent).lower()
    await bot.say(f"/reply {ticket} Sudah kami cek.", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    assert "Sudah kami cek." in bot.api.texts(EXPORTER)[-1]


async def test_talk_to_officer_topic_and_command_open_tickets(bot: BotHarness) -> None:
    sent = await bot.say("saya mau bicara dengan petugas")
    assert "Tulis pertanyaan" in text_of(sent)
    sent = await bot.say("kapan loket buka hari sabtu")
    assert "tiket #" in text_of(sent)
    sent = await bot.say("/petugas", user_id=1005)
    assert "Tulis pertanyaan" in text_of(sent)
    sent = await bot.say("/officer apakah bisa ambil form diwakilkan", user_id=1006, language_code="en")
    assert "ticket #" in text_of(sent)


async def test_non_officers_cannot_act_and_forged_buttons_are_refused(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    for command in (f"/claim {ticket}", f"/close {ticket}", "/queue", f"/reply {ticket} hai"):
        sent = await bot.say(command, user_id=4444, chat_id=OFFICERS_CHAT)
        assert "hanya untuk petugas" in text_of(sent)
    await bot.press(f"tk:x:{ticket}", user_id=4444, chat_id=OFFICERS_CHAT, message_id=card_id(bot, ticket))
    await bot.press("tk:x:notanumber", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await bot.press(f"r:{ticket}:9", user_id=EXPORTER)
    await bot.press("r:99999:5", user_id=2222)
    with bot.services.db.session() as s:
        row = s.get(Ticket, ticket)
        assert (row.status, row.claimed_by, row.rating) == ("open", None, None)
    alerts = [c.params.get("text") for c in bot.answers_to_callbacks() if c.params.get("show_alert")]
    assert len(alerts) == 4


async def test_reply_to_something_that_is_not_a_card(bot: BotHarness) -> None:
    sent = await bot.say("/help", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    help_id = sent[-1].result["message_id"]
    sent = await bot.say(
        "ini jawaban", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, reply_to_message_id=help_id
    )
    assert "bukan kartu tiket" in text_of(sent)
    with bot.services.db.session() as s:
        assert s.scalars(select(TicketMessage)).all() == []


async def test_blocked_exporter_officer_is_told(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    bot.api.blocked.add(EXPORTER)
    await bot.say(f"/reply {ticket} jawaban", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    await drain(bot)
    assert f"tiket #{ticket} tidak terkirim" in group_texts(bot)


async def test_two_exporters_tickets_never_mix(bot: BotHarness) -> None:
    first = await open_ticket(bot, user_id=1001, name="Ani")
    second = await open_ticket(
        bot, user_id=1002, name="Beni", question="apakah dinas menerima titipan sampel kayu"
    )
    await bot.say(
        "jawaban untuk Ani",
        user_id=OFFICER_ID,
        chat_id=OFFICERS_CHAT,
        reply_to_message_id=card_id(bot, first),
    )
    await bot.say(f"/reply {second} jawaban untuk Beni", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    assert "jawaban untuk Ani" in bot.api.texts(1001)[-1]
    assert "jawaban untuk Beni" in bot.api.texts(1002)[-1]
    assert not any("Beni" in x for x in bot.api.texts(1001))
    await bot.say("tambahan dari Beni", user_id=1002)
    with bot.services.db.session() as s:
        last = s.scalars(select(TicketMessage).order_by(TicketMessage.id.desc())).first()
        assert (last.ticket_id, last.text) == (second, "tambahan dari Beni")


async def test_queue_lists_unclaimed_first(bot: BotHarness) -> None:
    first = await open_ticket(bot, user_id=1001)
    second = await open_ticket(bot, user_id=1002, question="apakah dinas buka saat cuti bersama")
    await bot.say(f"/claim {first}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = text_of(await bot.say("/queue", user_id=OFFICER_ID))
    assert body.index(f"#{second}") < body.index(f"#{first}")
    assert f"#{first}" in text_of(await bot.say("/mine", user_id=OFFICER_ID))
    await bot.say(f"/close {second}", user_id=OFFICER_ID)
    assert "sudah ditutup" in text_of(await bot.say(f"/close {second}", user_id=OFFICER_ID))
    await bot.say(f"/reopen {second}", user_id=OFFICER_ID)
    assert f"#{second}" in text_of(await bot.say("/queue", user_id=OFFICER_ID))


async def test_sla_warns_then_reports_breach_once(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    tickets = bot.services.tickets
    created = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # Monday 08:00 WIB
    with bot.services.db.session() as s:
        s.get(Ticket, ticket).created_at = created
    tickets.clock = lambda: created + dt.timedelta(minutes=95)  # 79 % of 120 min
    assert [kind for _, kind in tickets.sla_pass()] == ["warn"]
    assert tickets.sla_pass() == []
    tickets.clock = lambda: created + dt.timedelta(minutes=125)
    assert [kind for _, kind in tickets.sla_pass()] == ["breach"]
    assert tickets.sla_pass() == []


async def test_a_card_the_group_refused_is_posted_later_even_once_closed(bot: BotHarness) -> None:
    from bot.telegram.context import HelpDeskContext
    from handlers.tickets_jobs import card_job

    bot.api.blocked.add(OFFICERS_CHAT)  # Telegram refuses the card
    ticket = await open_ticket(bot)
    assert card_id(bot, ticket) is None
    await bot.say(f"/close {ticket}", user_id=OFFICER_ID)
    bot.api.blocked.discard(OFFICERS_CHAT)
    context = HelpDeskContext(bot.app)
    await card_job(context)
    # a ticket this fresh may still have its card on the way from the handler
    assert card_id(bot, ticket) is None
    now = dt.datetime.now(dt.UTC)
    bot.services.tickets.clock = lambda: now + dt.timedelta(minutes=1)
    await card_job(context)
    card = bot.api.last(OFFICERS_CHAT)
    assert card_id(bot, ticket) == card.result["message_id"]
    assert f"Tiket #{ticket}" in card.params["text"] and "ditutup" in card.params["text"]
    await card_job(context)  # posted once, not again
    assert bot.api.last(OFFICERS_CHAT).result["message_id"] == card.result["message_id"]


async def test_saved_as_faq_after_admin_approval_only(bot: BotHarness) -> None:
    # the approved entry lives in the database: nothing is written into knowledge/
    before = sorted(p.name for p in bot.services.settings.knowledge_dir.iterdir())
    question = "apakah loket ipska melayani pada hari sabtu pagi"
    ticket = await open_ticket(bot, question=question)
    await bot.say(f"/reply {ticket} Loket tutup pada hari Sabtu.", user_id=OFFICER_ID)
    await bot.say(f"/close {ticket}", user_id=OFFICER_ID)
    await bot.press(f"tk:f:{ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    choices = [d for _, d in bot.api.buttons(bot.api.last(OFFICERS_CHAT))]
    assert f"pf:{ticket}:new" in choices
    await bot.press(f"pf:{ticket}:new", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    # proposed, not approved: the knowledge base is unchanged
    assert not (bot.services.answers.classify(question).id or "").startswith("learned-")
    assert "hanya untuk admin" in text_of(await bot.say("/proposals", user_id=OFFICER_ID))
    sent = await bot.say("/proposals", user_id=ADMIN_ID)
    approve = next(d for _, d in buttons_of(sent) if d.startswith("pa:"))
    await bot.press(approve, user_id=OFFICER_ID)  # not an admin: refused
    with bot.services.db.session() as s:
        assert s.scalars(select(FaqProposal.status)).one() == "pending"
    await bot.press(f"pe:{approve[3:]}:io", user_id=ADMIN_ID)  # no English answer written
    await bot.press(approve, user_id=ADMIN_ID)
    with bot.services.db.session() as s:
        assert s.scalars(select(FaqProposal.status)).one() == "approved"
    assert sorted(p.name for p in bot.services.settings.knowledge_dir.iterdir()) == before
    verdict = bot.services.answers.classify(question)
    assert verdict.outcome == "answer" and verdict.id.startswith("learned-")
    sent = await bot.say(question, user_id=3003)
    assert "Loket tutup pada hari Sabtu." in text_of(sent)


async def test_gaps_group_similar_unanswered_questions(bot: BotHarness) -> None:
    for text in (
        "apakah kontainer bisa dititipkan di gudang dinas",
        "kontainer bisa dititipkan di gudang dinas gak",
        "siapa juara piala dunia 2022",
    ):
        await bot.say(text)
    body = text_of(await bot.say("/gaps 7", user_id=OFFICER_ID))
    assert "2× <i>apakah kontainer" in body and "1× <i>siapa juara" in body


async def test_photos_and_documents_of_an_open_ticket_reach_the_group(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    sent = await bot.feed(bot.api.photo(EXPORTER, caption="foto error e-SKA"))
    assert "Diteruskan ke petugas" in text_of(sent)
    copies = [c for c in bot.api.calls if c.method == "copyMessage"]
    assert len(copies) == 1 and copies[0].params["chat_id"] == OFFICERS_CHAT
    # the copy threads under the card, and a reply to the copy answers the same ticket
    copy_id = copies[0].result["message_id"]
    await bot.say(
        "Itu karena sesi habis, silakan login ulang.",
        user_id=OFFICER_ID,
        chat_id=OFFICERS_CHAT,
        reply_to_message_id=copy_id,
    )
    await drain(bot)
    assert "login ulang" in bot.api.texts(EXPORTER)[-1]
    with bot.services.db.session() as s:
        texts = [
            m.text
            for m in s.scalars(
                select(TicketMessage).where(TicketMessage.ticket_id == ticket).order_by(TicketMessage.id)
            )
        ]
    assert texts[1] == "foto error e-SKA"


async def test_officers_read_a_whole_ticket_back_with_its_notes(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await bot.say(f"/claim {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, first_name="Sari")
    await bot.say(f"/note {ticket} cek dulu <ke> kabid", user_id=ADMIN_ID, first_name="Andi")
    await bot.say(f"/reply {ticket} Bisa, maksimal 3 hari.", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await bot.say("terima kasih, kalau seminggu?", user_id=EXPORTER)
    sent = await bot.say(f"/ticket {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = "\n".join(c.params["text"] for c in sent if c.method == "sendMessage")
    parts = [
        "kontainer",
        "(catatan internal)",
        "cek dulu &lt;ke&gt; kabid",
        "(balasan)",
        "Bisa, maksimal 3 hari.",
        "kalau seminggu?",
    ]
    # every message, in the order it was written, the note marked as internal
    assert [body.index(p) for p in parts] == sorted(body.index(p) for p in parts)
    assert "Andi" in body and "Sari" in body and "WIB" in body
    # only officers read it; wrong arguments get the usage, a missing ticket says so
    assert "hanya untuk petugas" in text_of(await bot.say(f"/ticket {ticket}", user_id=EXPORTER))
    assert "/ticket 12" in text_of(await bot.say("/ticket dua", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "Tiket #999 tidak ada" in text_of(
        await bot.say("/tiket 999", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    )


async def test_a_reopened_ticket_tells_the_exporter(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await bot.say(f"/close {ticket} dijawab", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    await bot.say(f"/reopen {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    assert f"Tiket #{ticket} dibuka lagi" in bot.api.texts(EXPORTER)[-1]
    assert [d for _, d in bot.api.buttons(bot.api.last(EXPORTER))] == ["o:back"]


async def test_after_a_reopen_the_exporters_text_reaches_the_ticket_not_a_comment(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await bot.say(f"/close {ticket} dijawab", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    await bot.press(f"r:{ticket}:2", user_id=EXPORTER)
    await bot.press(f"o:comment:{ticket}", user_id=EXPORTER)
    await bot.say(f"/reopen {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    sent = await bot.say("ternyata masih ditolak pak", user_id=EXPORTER)
    assert "Komentar" not in text_of(sent)
    await drain(bot)
    assert "ternyata masih ditolak pak" in group_texts(bot)


async def test_a_long_ticket_is_read_back_a_page_at_a_time(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    for n in range(24):
        await bot.say(f"tambahan {n:02d} " + "x" * 900, user_id=EXPORTER)
    await drain(bot)
    before = len(bot.api.calls)
    sent = await bot.say(f"/ticket {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    body = text_of(sent)
    # the newest ten, each cut short, in a few messages rather than one per entry
    assert "Pesan 16-25 dari 25" in body and "tambahan 23" in body and "tambahan 13" not in body
    assert len([c for c in bot.api.calls[before:] if c.method == "sendMessage"]) <= 3
    assert f"/ticket {ticket} 2" in body
    body = text_of(await bot.say(f"/ticket {ticket} 3", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "Pesan 1-5 dari 25" in body and "kontainer" in body and "Lebih lama" not in body

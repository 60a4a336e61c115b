"""The officers' side under Telegram's real limits: nothing an exporter sends is lost,
nothing internal leaks, long texts arrive whole, and the group's pace holds."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import select, update

from bot.models import OutboxMessage, SkaApplication, Ticket, TicketMessage, utcnow
from bot.services.outbox import Outbox, RateLimits, enqueue
from bot.services.reminders import REMINDER_KIND
from bot.services.tickets import Attachment
from bot.telegram.sender import OutboxSender
from bot.telegram_html import parse_html
from bot.textsplit import CAPTION_LIMIT, TEXT_LIMIT, split_html, utf16_len
from tests import samples
from tests.conftest import (
    OFFICER_ID,
    OFFICERS_CHAT,
    BotHarness,
    buttons_of,
    make_settings,
    start_harness,
    text_of,
)
from tests.test_documents import linked
from tests.test_tickets import open_ticket

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EXPORTER = 1001


async def drain(bot: BotHarness, seconds: float = 5.0) -> None:
    """Deliver what is queued, without sleeping through the stored backoffs."""
    for _ in range(int(seconds) + 1):
        with bot.services.db.session() as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending")
                .values(next_attempt_at=utcnow())
            )
        await bot.sender.drain(bot.app.bot, budget_seconds=min(seconds, 1.5))
        if not bot.services.outbox.backlog():
            return


def group(bot: BotHarness) -> list[str]:
    return bot.api.texts(OFFICERS_CHAT)


def exporter_texts(bot: BotHarness, user_id: int = EXPORTER) -> list[str]:
    return bot.api.texts(user_id)


def card_of(bot: BotHarness, ticket: int) -> int:
    with bot.services.db.session() as s:
        return s.get(Ticket, ticket).card_message_id


# -- nothing an exporter sends is lost -------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500])
async def test_a_follow_up_refused_by_the_group_arrives_later(bot: BotHarness, status: int) -> None:
    await open_ticket(bot)
    bot.api.fail_next("sendMessage", status, retry_after=1 if status == 429 else None, chat_id=OFFICERS_CHAT)
    sent = await bot.say("nomor PEB saya 123456, mohon dicek", user_id=EXPORTER)
    assert "Diteruskan ke petugas" in text_of(sent)
    assert not any("123456" in t for t in group(bot))  # refused for now ...
    await drain(bot, 3.0)
    relays = [t for t in group(bot) if "123456" in t]
    assert len(relays) == 1  # ... delivered, once
    with bot.services.db.session() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "relay")).one()
        assert row.status == "sent"


async def upload(bot: BotHarness) -> int:
    """A linked exporter sends a PDF for SKA-001; the id of the upload waiting for a choice."""
    await linked(bot)
    await bot.say("/upload SKA-001", user_id=EXPORTER)
    sent = await bot.feed(
        bot.api.document(EXPORTER, "inv.pdf", "application/pdf", 300_000, content=samples.PDF)
    )
    return int(buttons_of(sent)[0][1].split(":")[1])


async def test_a_document_card_refused_by_the_group_arrives_later(bot: BotHarness) -> None:
    upload_id = await upload(bot)
    bot.api.fail_next("sendDocument", 500, chat_id=OFFICERS_CHAT)
    sent = await bot.press(f"dk:{upload_id}:invoice", user_id=EXPORTER)
    assert "diteruskan ke petugas" in text_of(sent)
    assert (
        bot.api.sent(OFFICERS_CHAT, "sendDocument") == []
        or not bot.api.sent(OFFICERS_CHAT, "sendDocument")[-1].ok
    )
    await drain(bot, 3.0)
    cards = [c for c in bot.api.sent(OFFICERS_CHAT, "sendDocument") if c.ok]
    assert len(cards) == 1 and "Commercial invoice" in cards[0].params["caption"]
    assert ("✅ Terima", f"dv:{upload_id}:a") in bot.api.buttons(cards[0])


async def test_an_exporters_long_follow_up_reaches_the_group_whole(bot: BotHarness) -> None:
    await open_ticket(bot)
    words = " ".join(f"kata{i} &" for i in range(600))  # 4,096+ characters with entities
    text = (words + " ")[:4096]
    before = len(bot.api.sent(OFFICERS_CHAT, "sendMessage"))
    sent = await bot.say(text, user_id=EXPORTER)
    assert "Diteruskan ke petugas" in text_of(sent)
    await drain(bot, 6.0)
    parts = [
        c.params["text"]
        for c in bot.api.sent(OFFICERS_CHAT, "sendMessage")[before:]
        if c.ok and "kata" in c.params["text"]
    ]
    assert len(parts) >= 2
    seen = " ".join(parse_html(p)[0] for p in parts)
    for i in (0, 300, 599):
        if f"kata{i} " in text or text.endswith(f"kata{i}"):
            assert f"kata{i}" in seen


async def test_no_officers_group_cards_go_to_each_officer_in_private(tmp_path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'private.db'}", officers={"user_ids": [OFFICER_ID, 9003]}
    )
    from bot.services import build_services

    services = build_services(settings)
    app, api = await start_harness(settings, services)
    bot = BotHarness(app, api, services)
    try:
        ticket = await open_ticket(bot)
        for officer in (OFFICER_ID, 9003):
            assert any(f"Tiket #{ticket}" in t for t in api.texts(officer)), officer
        # an officer answers by replying to the card in private
        card = [c for c in api.sent(OFFICER_ID) if f"Tiket #{ticket}" in c.params.get("text", "")]
        await bot.say(
            "Silakan unggah invoice asli",
            user_id=OFFICER_ID,
            reply_to_message_id=int(card[0].result["message_id"]),
        )
        await drain(bot, 3.0)
        assert any("Silakan unggah invoice asli" in t for t in api.texts(EXPORTER))
    finally:
        await app.shutdown()
        services.close()


async def test_without_any_officer_the_exporter_is_told_plainly(tmp_path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'none.db'}", officers={})
    from bot.services import build_services

    services = build_services(settings)
    app, api = await start_harness(settings, services)
    bot = BotHarness(app, api, services)
    try:
        await bot.say("apakah kontainer saya bisa dititipkan di gudang dinas", user_id=EXPORTER)
        sent = await bot.press("o:ask", user_id=EXPORTER)
        assert "belum ada petugas yang terhubung" in text_of(sent)
        assert "diteruskan ke petugas" not in text_of(sent).lower()
        with services.db.session() as s:
            assert s.scalars(select(Ticket)).one().question.startswith("apakah kontainer")
    finally:
        await app.shutdown()
        services.close()


# -- nothing internal leaks ------------------------------------------------------------------


@pytest.mark.parametrize("way", ["reply-command", "card-reply", "card-note", "relay-reply", "note-command"])
async def test_an_internal_note_never_reaches_the_exporter(bot: BotHarness, way: str) -> None:
    ticket = await open_ticket(bot)
    await bot.say("saya tunggu kabarnya", user_id=EXPORTER)
    relay = next(
        c
        for c in reversed(bot.api.sent(OFFICERS_CHAT, "sendMessage"))
        if "saya tunggu kabarnya" in c.params["text"]
    )
    secret = "cek dulu ke kabid"
    if way == "reply-command":
        sent = await bot.say(f"/reply {ticket} //{secret}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    elif way == "note-command":
        sent = await bot.say(f"/note {ticket} {secret}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    elif way == "card-reply":
        sent = await bot.say(
            f"// {secret}",
            user_id=OFFICER_ID,
            chat_id=OFFICERS_CHAT,
            reply_to_message_id=card_of(bot, ticket),
        )
    elif way == "card-note":
        sent = await bot.say(
            f"/note {secret}",
            user_id=OFFICER_ID,
            chat_id=OFFICERS_CHAT,
            reply_to_message_id=card_of(bot, ticket),
        )
    else:
        sent = await bot.say(
            f"//{secret}",
            user_id=OFFICER_ID,
            chat_id=OFFICERS_CHAT,
            reply_to_message_id=int(relay.result["message_id"]),
        )
    assert "Catatan internal" in text_of(sent)
    await drain(bot, 2.0)
    assert not any(secret in t for t in exporter_texts(bot))
    with bot.services.db.session() as s:
        notes = s.scalars(select(TicketMessage).where(TicketMessage.direction == "note")).all()
        assert [n.text for n in notes] == [secret]
        assert not s.scalars(select(TicketMessage).where(TicketMessage.direction == "out")).all()


async def test_a_non_officer_cannot_swap_a_document_cards_buttons(bot: BotHarness) -> None:
    upload_id = await upload(bot)
    await bot.press(f"dk:{upload_id}:invoice", user_id=EXPORTER)
    card = bot.api.sent(OFFICERS_CHAT, "sendDocument")[-1]
    before = len([c for c in bot.api.calls if c.method.startswith("edit")])
    for data in (f"dv:{upload_id}:r", f"dv:{upload_id}:b"):
        await bot.press(data, user_id=4444, chat_id=OFFICERS_CHAT, message_id=int(card.result["message_id"]))
    assert len([c for c in bot.api.calls if c.method.startswith("edit")]) == before
    alerts = [c for c in bot.answers_to_callbacks() if c.params.get("show_alert")]
    assert len(alerts) == 2 and "petugas" in alerts[-1].params["text"]


# -- long texts ------------------------------------------------------------------------------


async def test_a_long_officer_reply_arrives_whole_and_the_officer_is_told(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    reply = ("Mohon perbaiki data <invoice> & packing list. " * 90)[:4090]
    sent = await bot.say(f"/reply {ticket} {reply}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "dalam 2 pesan" in text_of(sent)
    await drain(bot, 4.0)
    parts = [t for t in exporter_texts(bot) if "Mohon perbaiki" in t]
    assert len(parts) == 2
    joined = " ".join(parse_html(p)[0] for p in parts)
    assert joined.count("Mohon perbaiki data <invoice> & packing list.") == 4090 // 46
    with bot.services.db.session() as s:
        statuses = s.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "ticket_reply")).all()
    assert statuses == ["sent", "sent"]


def test_split_html_never_cuts_a_tag_or_an_entity() -> None:
    cases = [
        "tanya " + html.escape("&" * 1990),
        "<b>" + "kata " * 2000 + "</b>",
        '<a href="https://e-ska.kemendag.go.id">' + "😀" * 5000 + "</a>",
        "\n".join(f"<i>baris {i}</i> &amp; <code>x&lt;y</code>" for i in range(900)),
    ]
    for text in cases:
        for limit in (TEXT_LIMIT, CAPTION_LIMIT):
            parts = split_html(text, limit)
            assert len(parts) >= 2
            for part in parts:
                assert utf16_len(part) <= limit
                parse_html(part)  # raises on broken HTML, as Telegram does
            visible = "".join(parse_html(p)[0] for p in parts).replace("\n", "").replace(" ", "")
            assert visible == parse_html(text)[0].replace("\n", "").replace(" ", "")


async def test_a_long_import_note_keeps_status_working(bot: BotHarness, tmp_path) -> None:
    await linked(bot)
    ref = "SKA-001"
    note = ("Berkas & lampiran <PEB> perlu diperbaiki. " * 120)[:4500]
    # longer than an officer may type (/setstatus refuses it): as older data may hold
    with bot.services.db.session() as s:
        app = s.scalars(select(SkaApplication).where(SkaApplication.ref == ref)).one()
        bot.services.applications.change(s, app, "in_review", note, actor="import")
    await drain(bot, 4.0)
    pushes = [t for t in exporter_texts(bot) if "diperbaiki" in t]
    assert len(pushes) >= 2
    for command in ("/status", f"/status {ref}"):
        sent = await bot.say(command, user_id=EXPORTER)
        assert "gangguan" not in text_of(sent)
        assert all(c.ok for c in sent)
    sent = await bot.say(f"/app {ref}", user_id=OFFICER_ID)
    assert "gangguan" not in text_of(sent) and all(c.ok for c in sent)


async def test_a_broadcast_of_entities_previews_and_sends(bot: BotHarness) -> None:
    sent = await bot.say("/broadcast " + "&" * 1000, user_id=OFFICER_ID)
    assert sent and all(c.ok for c in sent)
    assert "gangguan" not in text_of(sent)
    assert "dalam 2 pesan" in text_of(sent)  # the officer is told


# -- the outbox: fair, paced, coalesced --------------------------------------------------------


async def test_one_chats_backlog_does_not_hold_up_another_chat(bot: BotHarness) -> None:
    with bot.services.db.session() as s:
        for i in range(500):
            enqueue(s, 7001, f"status {i}", kind="status")
    with bot.services.db.session() as s:
        enqueue(s, 7002, "balasan petugas", kind="ticket_reply")
    sender = OutboxSender(Outbox(bot.services.db, RateLimits(25, 1, 20)))
    await sender.drain(bot.app.bot, budget_seconds=1.5)
    assert bot.api.texts(7002) == ["balasan petugas"]
    assert 1 <= len(bot.api.texts(7001)) <= 2  # one a second in that chat


async def test_the_group_gets_no_more_than_its_rate(bot: BotHarness) -> None:
    with bot.services.db.session() as s:
        for i in range(8):
            enqueue(s, OFFICERS_CHAT, f"kartu {i}", kind="card")
    sender = OutboxSender(Outbox(bot.services.db, RateLimits(25, 1, 5)))
    await sender.drain(bot.app.bot, budget_seconds=2)
    assert len(bot.api.texts(OFFICERS_CHAT)) == 5
    assert sender.outbox.backlog() == 3


async def test_card_edits_of_one_ticket_coalesce_while_the_group_is_busy(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    # the group's allowance is spent: everything for it now waits in the outbox
    bot.services.outbox.pacer.limits.group_per_minute = 1
    bot.services.outbox.pacer._chats.clear()
    bot.services.outbox.pacer.record(OFFICERS_CHAT, 0.0)
    bot.services.outbox.pacer._chats[OFFICERS_CHAT][0].times[-1] = 1e12
    for command in (f"/claim {ticket}", f"/reply {ticket} sudah kami cek", f"/close {ticket} selesai"):
        await bot.say(command, user_id=OFFICER_ID)
    with bot.services.db.session() as s:
        edits = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.method == "editMessageText", OutboxMessage.status == "pending"
            )
        ).all()
    assert len(edits) == 1 and "ditutup" in edits[0].text.lower()


async def test_a_lost_response_means_one_duplicate_at_most(bot: BotHarness) -> None:
    bot.api.timeout_next(method="sendMessage", delivered=True)
    await bot.say("berapa biaya penerbitan ska", user_id=EXPORTER)
    await drain(bot, 2.0)
    answers = [t for t in exporter_texts(bot) if "biaya" in t.lower() or "gratis" in t.lower()]
    assert len(answers) == 2  # the lost one, and the outbox's one


# -- the card shows what the exporter saw --------------------------------------------------


async def test_the_card_shows_what_the_exporter_was_shown(bot: BotHarness) -> None:
    sent = await bot.say("berapa biaya penerbitan ska", user_id=EXPORTER, first_name="Budi")
    assert "🙋 Tanya petugas" in dict(buttons_of(sent))  # an answer to confirm
    topic = bot.services.answers.ask("berapa biaya penerbitan ska", "id", log=False).topic_id
    await bot.press("o:ask", user_id=EXPORTER)
    card = bot.api.last(OFFICERS_CHAT)
    title = bot.services.answers.title(topic, "id")
    assert f"Bot menjawab: «{title}»" in card.params["text"]

    ticket = await open_ticket(bot, user_id=1002)  # a question with no answer
    card = next(
        c
        for c in reversed(bot.api.sent(OFFICERS_CHAT, "sendMessage"))
        if f"Tiket #{ticket}" in c.params["text"]
    )
    assert "Bot tidak menemukan jawaban" in card.params["text"]

    await bot.say("/petugas tolong telepon saya", user_id=1003)
    card = bot.api.last(OFFICERS_CHAT)
    assert "Langsung ke petugas" in card.params["text"]


async def test_an_edit_waits_for_its_card_however_long_the_card_takes(bot: BotHarness) -> None:
    bot.api.fail_next("sendMessage", 500, chat_id=OFFICERS_CHAT)
    ticket = await open_ticket(bot)  # the card's post failed: pending
    with bot.services.db.session() as s:
        post = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "card")).one()
        post.status = "sending"  # another process is posting it
    await bot.say(f"/claim {ticket}", user_id=OFFICER_ID)
    with bot.services.db.session() as s:
        edit = s.scalars(select(OutboxMessage).where(OutboxMessage.method == "editMessageText")).one()
        s.get(OutboxMessage, post.id).status = "pending"  # that try failed too
        s.get(OutboxMessage, post.id).next_attempt_at = utcnow() + dt.timedelta(seconds=30)
    for _ in range(10):  # more than its tries
        with bot.services.db.session() as s:
            s.get(OutboxMessage, edit.id).next_attempt_at = utcnow()
        await bot.sender.drain(bot.app.bot, budget_seconds=0.2)
    with bot.services.db.session() as s:
        assert s.get(OutboxMessage, edit.id).status == "pending"
        s.get(OutboxMessage, post.id).next_attempt_at = utcnow()
    await drain(bot, 4.0)
    edits = [c for c in bot.api.calls if c.method == "editMessageText" and c.ok]
    assert edits and "ditangani" in edits[-1].params["text"]


# -- order after a failure ---------------------------------------------------------------------


async def test_a_follow_up_never_overtakes_its_card_after_a_failure(bot: BotHarness) -> None:
    bot.api.fail_next("sendMessage", 502, chat_id=OFFICERS_CHAT)
    await open_ticket(bot)  # the card's post failed: it waits for a retry
    await bot.say("nomor PEB saya 123456, mohon dicek", user_id=EXPORTER)
    assert group(bot) == []  # the follow-up waits behind its card
    # another exporter's ticket is a line of its own: the failure holds nothing of it
    await open_ticket(bot, user_id=1002)
    assert any("Tiket #2" in text for text in group(bot))
    await drain(bot, 4.0)
    texts = group(bot)
    card = next(i for i, text in enumerate(texts) if "Tiket #1" in text)
    follow = next(i for i, text in enumerate(texts) if "123456" in text)
    assert card < follow
    follow_up = next(
        c for c in bot.api.sent(OFFICERS_CHAT, "sendMessage") if c.ok and "123456" in c.params["text"]
    )
    assert follow_up.params["reply_parameters"]["message_id"] == card_of(bot, 1)


async def test_an_exporter_hears_of_the_ticket_before_its_follow_up_after_a_failure(bot: BotHarness) -> None:
    await bot.say("apakah kontainer saya bisa dititipkan di gudang dinas selama seminggu", user_id=EXPORTER)
    bot.api.fail_next("sendMessage", 502, chat_id=EXPORTER)
    await bot.press("o:ask", user_id=EXPORTER)  # "ticket opened" fails: queued
    assert not any("tiket #1" in text for text in exporter_texts(bot))
    sent = await bot.say("nomor PEB saya 123456", user_id=EXPORTER)
    assert [c for c in sent if c.params.get("chat_id") == EXPORTER] == []  # queued behind, not past it
    await drain(bot, 4.0)
    texts = exporter_texts(bot)
    opened = next(i for i, text in enumerate(texts) if "Pertanyaan Anda diteruskan" in text)
    forwarded = next(i for i, text in enumerate(texts) if "✔️ Diteruskan ke petugas" in text)
    assert opened < forwarded
    # once the backlog is gone, replies go straight out again
    sent = await bot.say("terima kasih", user_id=EXPORTER)
    assert any(c.method == "sendMessage" and c.ok for c in sent)


async def test_a_reminder_held_for_the_night_holds_back_no_broadcast(bot: BotHarness) -> None:
    night = utcnow() + dt.timedelta(hours=8)
    with bot.services.db.session() as s:
        enqueue(s, EXPORTER, "pengingat dokumen", kind=REMINDER_KIND, not_before=night)
        enqueue(s, EXPORTER, "pengumuman kantor", kind="broadcast")
    await bot.sender.drain(bot.app.bot, budget_seconds=0.5)
    assert exporter_texts(bot) == ["pengumuman kantor"]


async def test_a_card_the_group_refuses_for_good_is_logged_for_the_admin(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.api.fail_next("sendMessage", 400, description="Bad Request: chat not found", chat_id=OFFICERS_CHAT)
    with caplog.at_level("ERROR", logger="bot.telegram.sender"):
        await open_ticket(bot)
    assert any(
        str(OFFICERS_CHAT) in r.getMessage() and "Chat not found" in r.getMessage() for r in caplog.records
    )


async def test_a_group_upgraded_to_a_supergroup_names_its_new_id(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.api.fail_next(
        "sendMessage",
        400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        chat_id=OFFICERS_CHAT,
        migrate_to_chat_id=-1001234567890,
    )
    with caplog.at_level("ERROR", logger="bot.telegram.sender"):
        await open_ticket(bot)
    assert any("officers.chat_id to -1001234567890" in r.getMessage() for r in caplog.records)


async def test_one_exporters_flood_does_not_hold_another_tickets_card(bot: BotHarness) -> None:
    flooded = await open_ticket(bot)
    await drain(bot)
    for i in range(40):  # photos (no two make one message), faster than the group takes them
        bot.services.tickets.add_exporter_message(
            flooded,
            EXPORTER,
            f"foto banjir {i}",
            (EXPORTER, 500 + i),
            Attachment("photo", caption=f"foto {i}"),
        )
    await open_ticket(bot, user_id=1002)
    assert any("Tiket #2" in text for text in group(bot))  # at once, not after the flood
    assert len([c for c in bot.api.calls if c.method == "copyMessage"]) < 40


async def test_a_change_the_card_does_not_show_spends_no_edit(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await bot.say(f"/claim {ticket}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    for text in ("Silakan lampirkan invoice.", "Dan packing list juga."):
        await bot.say(f"/reply {ticket} {text}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
        await drain(bot)
    edits = [c for c in bot.api.calls if c.method == "editMessageText"]
    assert edits and all(c.ok for c in edits)  # none refused as "not modified"


async def test_a_burst_of_follow_ups_waiting_for_the_group_leaves_as_one_message(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await drain(bot)
    before = len(group(bot))
    # the group's allowance is spent: what the exporter writes waits in the outbox
    bot.services.outbox.pacer.limits.group_per_minute = 1
    bot.services.outbox.pacer._chats.clear()
    bot.services.outbox.pacer.record(OFFICERS_CHAT, 0.0)
    bot.services.outbox.pacer._chats[OFFICERS_CHAT][0].times[-1] = 1e12
    for i in range(5):
        await bot.say(f"tambahan nomor {i}", user_id=EXPORTER)
    with bot.services.db.session() as s:
        waiting = s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "relay", OutboxMessage.status == "pending")
        ).all()
    assert len(waiting) == 1
    assert [f"tambahan nomor {i}" in waiting[0].text for i in range(5)] == [True] * 5
    assert waiting[0].text.index("nomor 0") < waiting[0].text.index("nomor 4")
    with bot.services.db.session() as s:
        stored = s.scalars(select(TicketMessage.text).where(TicketMessage.ticket_id == ticket)).all()
    assert sum("tambahan nomor" in text for text in stored) == 5  # the history keeps each one
    assert len(group(bot)) == before
    # the group's minute comes round: one message carries all five, in order
    bot.services.outbox.pacer.limits.group_per_minute = 600
    bot.services.outbox.pacer._chats.clear()
    await drain(bot)
    assert len(group(bot)) == before + 1
    assert group(bot)[-1].count("tambahan nomor") == 5

"""Broadcasts: preview and audience, 429 and 403 in the middle, a crash in the middle."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.models import Broadcast, Company, OutboxMessage, User, utcnow
from bot.services import build_services
from bot.services.outbox import Outbox
from bot.telegram.sender import OutboxSender
from tests.conftest import ADMIN_ID, OFFICER_ID, BotHarness, buttons_of, start_harness, text_of
from tests.test_documents import CSV

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TEXT = "Pemeliharaan e-SKA Sabtu 08:00-12:00 WIB <penting>"


def people(bot: BotHarness) -> None:
    """2001-2006 at PT Kayu Lapis Satu (plywood), 2007-2008 at CV Lain (moulding), 2009-2010
    unlinked, 2011 blocked the bot long ago."""
    assert bot.services.importer.import_text(CSV).errors == []
    with bot.services.db.session() as s:
        one = s.scalar(select(Company.id).where(Company.nib == "1111111111111"))
        two = s.scalar(select(Company.id).where(Company.nib == "2222222222222"))
        for uid in range(2001, 2012):
            company = one if uid <= 2006 else two if uid <= 2008 else None
            s.add(
                User(
                    id=uid,
                    first_name=f"U{uid}",
                    company_id=company,
                    language="en" if uid == 2002 else "id",
                    blocked_at=utcnow() if uid == 2011 else None,
                )
            )


async def draft(bot: BotHarness) -> tuple[int, list]:
    sent = await bot.say(f"/broadcast {TEXT}", user_id=OFFICER_ID)
    data = [d for _, d in buttons_of(sent)]
    return int(data[0].split(":")[1]), sent


async def test_preview_audiences_and_refusals(bot: BotHarness) -> None:
    people(bot)
    assert "hanya untuk petugas" in text_of(await bot.say(f"/broadcast {TEXT}", user_id=2001))
    assert "Format" in text_of(await bot.say("/broadcast", user_id=OFFICER_ID))
    bid, sent = await draft(bot)
    body = text_of(sent)
    assert "semua eksportir" in body and "10 eksportir" in body and "tidak terjangkau: 1" in body
    assert "&lt;penting&gt;" in body
    labels = dict(buttons_of(sent))
    assert labels["📤 Kirim"] == f"bc:{bid}:send" and labels["Batal"] == f"bc:{bid}:cancel"
    assert "Moulding" in labels and "Plywood" in labels
    edited = await bot.press(labels["Moulding"], user_id=OFFICER_ID)
    assert "komoditas Moulding" in text_of(edited) and "2 eksportir" in text_of(edited)
    edited = await bot.press(f"bc:{bid}:open", user_id=OFFICER_ID)
    assert "pengajuan terbuka" in text_of(edited) and "8 eksportir" in text_of(edited)
    # forged data, someone else's draft: refused, nothing changes, nothing queued
    for data, user in (
        (f"bc:{bid}:c99", OFFICER_ID),
        (f"bc:{bid}:send", ADMIN_ID),
        (f"bc:{bid}:send:x", OFFICER_ID),
        ("bc:abc:send", OFFICER_ID),
        (f"bc:{bid + 7}:send", OFFICER_ID),
    ):
        assert await bot.press(data, user_id=user) == []
    with bot.services.db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert s.get(Broadcast, bid).audience == "open"
    await bot.press(f"bc:{bid}:cancel", user_id=OFFICER_ID)
    assert await bot.press(f"bc:{bid}:send", user_id=OFFICER_ID) == []
    with bot.services.db.session() as s:
        assert s.get(Broadcast, bid).status == "cancelled"
        assert s.scalars(select(OutboxMessage)).all() == []


async def test_send_with_429_and_403_in_the_middle_then_summary(bot: BotHarness) -> None:
    people(bot)
    bid, _ = await draft(bot)
    sent = await bot.press(f"bc:{bid}:send", user_id=OFFICER_ID)
    assert "antrean untuk 10 eksportir" in text_of(sent)
    assert await bot.press(f"bc:{bid}:send", user_id=OFFICER_ID) == []  # double press
    bot.api.blocked.add(2007)
    first = await bot.sender.drain(bot.app.bot, budget_seconds=0.25)
    assert 0 < first.sent < 10
    assert bot.services.broadcasts.finish() == []  # not done yet
    bot.api.fail_next("sendMessage", 429, retry_after=1)
    rest = await bot.sender.drain(bot.app.bot, budget_seconds=5)
    assert rest.retried == 1
    assert bot.services.broadcasts.finish() == [bid]
    await bot.sender.drain(bot.app.bot, budget_seconds=2)
    summary = bot.api.texts(OFFICER_ID)[-1]
    assert "terkirim 9, gagal 0, tidak terjangkau 2" in summary  # 2007 + 2011
    for uid in range(2001, 2011):
        got = [t for t in bot.api.texts(uid) if "e-SKA" in t]
        assert len(got) == (0 if uid == 2007 else 1), uid
    assert "IPSKA announcement" in bot.api.texts(2002)[0]
    assert "&lt;penting&gt;" in bot.api.texts(2001)[0]
    assert bot.api.texts(2011) == []
    assert bot.services.broadcasts.finish() == []  # summary once


async def test_nothing_lost_when_the_process_dies_mid_broadcast(bot: BotHarness) -> None:
    people(bot)
    bid, _ = await draft(bot)
    await bot.press(f"bc:{bid}:send", user_id=OFFICER_ID)
    await bot.sender.drain(bot.app.bot, budget_seconds=0.2)
    # the process is killed while one row is being sent (claimed, never recorded)
    with bot.services.db.session() as s:
        row = s.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)
        ).first()
        row.status = "sending"
    restarted = OutboxSender(Outbox(bot.services.db))
    assert restarted.outbox.recover() == 1
    await restarted.drain(bot.app.bot, budget_seconds=5)
    assert bot.services.broadcasts.finish() == [bid]
    with bot.services.db.session() as s:
        statuses = s.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "broadcast")).all()
    assert sorted(statuses) == ["sent"] * 10
    for uid in range(2001, 2011):
        assert len([t for t in bot.api.texts(uid) if "e-SKA" in t]) == 1, uid
    assert bot.services.broadcasts.summary(bid).sent == 10


async def test_sent_even_when_the_preview_cannot_be_edited(bot: BotHarness) -> None:
    """Telegram refuses the preview's edit (flood control): the officer is told in a new
    message that the broadcast was queued; nothing fails, nothing is queued twice."""
    people(bot)
    bid, _ = await draft(bot)
    bot.api.fail_next("editMessageText", 429, retry_after=1)
    sent = await bot.press(f"bc:{bid}:send", user_id=OFFICER_ID)
    assert [c.method for c in sent] == ["editMessageText", "sendMessage"]
    assert "antrean untuk 10 eksportir" in text_of(sent[1:])
    with bot.services.db.session() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 10


async def test_an_announcement_with_an_internal_line_is_refused(bot: BotHarness) -> None:
    people(bot)
    sent = await bot.say(
        "/broadcast Pemeliharaan e-SKA Sabtu\n// jangan kirim ke yang nunggak", user_id=OFFICER_ID
    )
    assert "<code>//</code>" in text_of(sent) and "Tidak ada yang dikirim" in text_of(sent)
    assert buttons_of(sent) == []
    with bot.services.db.session() as s:
        assert s.scalars(select(Broadcast)).all() == []


async def test_an_officer_removed_from_the_config_cannot_send_their_old_draft(bot: BotHarness) -> None:
    people(bot)
    bid, _ = await draft(bot)
    await bot.app.shutdown()
    bot.services.close()
    settings = dataclasses.replace(bot.services.settings, officer_ids=frozenset())
    services = build_services(settings)
    app, api = await start_harness(settings, services, bot.api)
    later = BotHarness(app, api, services)
    for choice in ("send", "open", "all"):
        await later.press(f"bc:{bid}:{choice}", user_id=OFFICER_ID)
        assert "hanya untuk petugas" in later.answers_to_callbacks()[-1].params["text"]
    with later.services.db.session() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "broadcast")).all() == []
        assert s.get(Broadcast, bid).status == "draft"


async def test_an_overlong_text_is_refused_with_counts_written_the_readers_way(bot: BotHarness) -> None:
    body = text_of(await bot.say("/broadcast " + "x" * 5999, user_id=OFFICER_ID))
    assert "5.999 karakter, maksimal 3.500" in body
    await bot.say("/lang en", user_id=OFFICER_ID)
    body = text_of(await bot.say("/broadcast " + "x" * 5999, user_id=OFFICER_ID))
    assert "5,999 characters, at most 3,500" in body
    with bot.services.db.session() as s:
        assert s.scalars(select(Broadcast)).all() == []

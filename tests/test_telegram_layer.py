"""The Telegram layer: button data, keyboards queued as data, the sender, HTML everywhere."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from bot.models import OutboxMessage
from bot.services.outbox import Keyboard, enqueue
from bot.telegram import buttons as b
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of
from tests.test_tickets import UNANSWERABLE, open_ticket

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# each kind with the data buttons on messages already sent carry
WIRE = [
    (b.Topic("sla-penerbitan"), "a:sla-penerbitan"),
    (b.Destination("JP"), "d:JP"),
    (b.Destination(b.Destination.OTHER), "d:other"),
    (b.Category(), "c:"),
    (b.Category("biaya"), "c:biaya"),
    (b.Language(), "l:"),
    (b.Language("en"), "l:en"),
    (b.Feedback(41, True), "f:41:1"),
    (b.Feedback(41, False), "f:41:0"),
    (b.AskOfficer(), "o:ask"),
    (b.AskOfficer(True), "o:cek"),
    (b.LeaveTicket(), "o:back"),
    (b.Rating(7, 5), "r:7:5"),
    (b.RatingComment(7), "o:comment:7"),
    (b.TicketAction(b.TicketAction.CLAIM, 7), "tk:c:7"),
    (b.TicketAction(b.TicketAction.CLOSE, 7), "tk:x:7"),
    (b.TicketAction(b.TicketAction.REOPEN, 7), "tk:r:7"),
    (b.TicketAction(b.TicketAction.FAQ, 7), "tk:f:7"),
    (b.FaqChoice(7, None), "pf:7:new"),
    (b.FaqChoice(7, "sla-penerbitan"), "pf:7:sla-penerbitan"),
    (b.ProposalEdit(3, "ti"), "pe:3:ti"),
    (b.ProposalDecision(3, True), "pa:3"),
    (b.ProposalDecision(3, False), "pr:3"),
    (b.SpikeDraft(9), "sp:9"),
    (b.BroadcastChoice(2, "c1"), "bc:2:c1"),
    (b.StatusPage("i", 10), "st:i:10"),
    (b.LinkMove(12, True), "lk:12:y"),
    (b.LinkMove(12, False), "lk:12:n"),
    (b.UploadStart(12), "up:12"),
    (b.UploadChoice(4, "packing-list"), "dk:4:packing-list"),
    (b.UploadChoice(4, None), "dk:4:-"),
    (b.DocVerdict(4, b.DocVerdict.ACCEPT), "dv:4:a"),
    (b.DocVerdict(4, b.DocVerdict.REASONS), "dv:4:r"),
    (b.DocVerdict(4, b.DocVerdict.BACK), "dv:4:b"),
    (b.DocVerdict(4, b.DocVerdict.REASONS, "unreadable"), "dv:4:r:unreadable"),
    (b.PrecheckAnswer("form", "Form AI"), "pc:a:form:Form AI"),
    (b.PrecheckEdit("hs_code"), "pc:e:hs_code"),
]


@pytest.mark.parametrize(("button", "data"), WIRE, ids=[data for _, data in WIRE])
def test_each_kind_keeps_its_wire_format(button: b.Button, data: str) -> None:
    assert button.pack() == data
    assert type(button).parse(data) == button
    assert type(button).pattern.match(data)  # what its handler is given
    assert type(button).prefix_pattern().match(data)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (b.Feedback, "f:²:1"),
        (b.Feedback, "f:1:1:1"),
        (b.Feedback, "f:2147483648:1"),
        (b.Feedback, "f:٣:1"),
        (b.Feedback, "f:1:1\n"),
        (b.TicketAction, "tk:c:²"),
        (b.TicketAction, "tk:z:1"),
        (b.Rating, "r:1:6"),
        (b.Rating, "r:¹:5"),
        (b.ProposalDecision, "pa:¹"),
        (b.ProposalEdit, "pe:1:xx"),
        (b.StatusPage, "st:i:99999999999"),
        (b.StatusPage, "st:x:0"),
        (b.LinkMove, "lk:12"),
        (b.LinkMove, "lk:12:x"),
        (b.LinkMove, "lk:2147483648:y"),
        (b.LinkMove, "lk:¹:y"),
        (b.UploadStart, "up:2147483648"),
        (b.UploadChoice, "dk:5"),
        (b.DocVerdict, "dv:1:x"),
        (b.BroadcastChoice, "bc:1:send:x"),
        (b.Topic, "a:"),
    ],
)
def test_malformed_or_forged_data_parses_to_nothing(kind: type[b.Button], data: str) -> None:
    assert kind.parse(data) is None


def test_packing_refuses_what_telegram_would_refuse() -> None:
    assert len(b.Topic("x" * 62).pack()) == 64
    with pytest.raises(ValueError, match="64 bytes"):
        b.Topic("x" * 63).pack()
    with pytest.raises(ValueError):
        b.Topic("é" * 32).pack()  # 64 characters, 66 bytes


async def test_a_row_queued_by_the_previous_release_still_sends(bot: BotHarness) -> None:
    """Rows stored before keyboards were data hold Telegram's own reply_markup JSON."""
    legacy = {"inline_keyboard": [[{"text": "⭐", "callback_data": "r:5:1"}]]}
    with bot.services.db.session() as s:
        row = enqueue(s, 1001, "Tiket #5 ditutup")
        assert row is not None
        s.flush()
        s.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id).values(reply_markup=json.dumps(legacy))
        )
    assert (await bot.sender.drain(bot.app.bot, budget_seconds=2)).sent == 1
    sent = bot.api.last(1001)
    assert bot.api.buttons(sent) == [("⭐", "r:5:1")]
    assert sent.params["parse_mode"] == "HTML"


async def test_queued_keyboards_are_data_rendered_when_sent(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    card = bot.api.last(OFFICERS_CHAT)
    assert ("Ambil", f"tk:c:{ticket}") in bot.api.buttons(card)
    await bot.say(f"/reply {ticket} Bisa, silakan datang", user_id=OFFICER_ID)
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    with bot.services.db.session() as s:
        stored = s.scalar(select(OutboxMessage.reply_markup).where(OutboxMessage.kind == "ticket_reply"))
    assert Keyboard.from_stored(json.loads(stored or "{}")) == Keyboard("ticket_back", {"lang": "id"})
    assert [data for _, data in bot.api.buttons(bot.api.last(1001))] == ["o:back"]


async def test_a_kind_without_a_renderer_still_sends_its_text(bot: BotHarness) -> None:
    with bot.services.db.session() as s:
        enqueue(s, 1001, "teks", markup=Keyboard("from-a-newer-release", {}))
    assert (await bot.sender.drain(bot.app.bot, budget_seconds=2)).sent == 1
    assert bot.api.texts(1001) == ["teks"] and bot.api.buttons(bot.api.last(1001)) == []


async def test_a_retry_after_is_waited_out_within_the_budget(bot: BotHarness) -> None:
    """The only row left gets a 429: the drain waits the pause out and sends it, instead
    of returning with the row unsent because nothing else kept it busy meanwhile."""
    with bot.services.db.session() as s:
        enqueue(s, 1001, "pesan")
    bot.api.fail_next("sendMessage", 429, retry_after=1)
    result = await bot.sender.drain(bot.app.bot, budget_seconds=3)
    assert (result.retried, result.sent) == (1, 1)
    assert bot.api.texts(1001) == ["pesan"]


async def test_every_message_the_bot_sends_is_html(bot: BotHarness) -> None:
    """The Application's defaults give every send its parse mode; the sender names it."""
    await bot.say("/start")
    await bot.say("berapa lama ska terbit")
    await bot.press("c:")
    await bot.say("/status")
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    await bot.say("/batal")
    ticket = await open_ticket(bot, question=UNANSWERABLE)
    await bot.say(f"/reply {ticket} Bisa", user_id=OFFICER_ID)
    await bot.say(f"/close {ticket} selesai", user_id=OFFICER_ID)
    await bot.say("/broadcast Pemeliharaan <b>e-SKA</b>", user_id=OFFICER_ID)
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    texts = [
        c
        for c in bot.api.calls
        if c.method in ("sendMessage", "editMessageText", "sendPhoto", "sendDocument", "editMessageCaption")
    ]
    assert len(texts) > 10
    assert [c.method for c in texts if c.params.get("parse_mode") != "HTML"] == []
    # and no link previews
    assert all(
        c.params.get("link_preview_options") == {"is_disabled": True}
        for c in texts
        if c.method == "sendMessage"
    )
    assert buttons_of(texts)

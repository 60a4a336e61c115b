"""What an exporter sends is never lost, and nothing internal leaks: ticket files, group
commands, floods, edits, forged webhook ids, masked URLs, FAQ drafts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.app import build_application, post_init
from bot.config import Settings
from bot.i18n import t
from bot.models import ProcessedUpdate, Ticket, TicketMessage, User
from bot.services import Services
from bot.testing import FakeBotAPI, FakeRequest
from tests import samples
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, BotHarness, text_of
from tests.test_cli import run_cli
from tests.test_hostile import CSV
from tests.test_tickets import EXPORTER, drain, open_ticket

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def ticket_texts(bot: BotHarness, ticket: int) -> list[str]:
    with bot.services.db.session() as s:
        return list(
            s.scalars(
                select(TicketMessage.text).where(TicketMessage.ticket_id == ticket).order_by(TicketMessage.id)
            )
        )


def group_copies(bot: BotHarness) -> list[dict]:
    return [
        c.params for c in bot.api.calls if c.method == "copyMessage" and c.params["chat_id"] == OFFICERS_CHAT
    ]


# -- 1. files in a ticket pass the checks an /upload passes ------------------------------------


async def test_a_disguised_executable_in_a_ticket_is_refused_and_never_reaches_the_group(
    bot: BotHarness,
) -> None:
    ticket = await open_ticket(bot)
    before = ticket_texts(bot, ticket)
    sent = await bot.feed(
        bot.api.document(
            EXPORTER,
            "invoice.pdf.exe",
            "application/pdf",
            content=samples.EXE,
            caption="<b>buka ini</b> segera",
        )
    )
    await drain(bot)
    text = text_of(sent)
    assert "tidak diteruskan" in text and "PDF" in text and "Diteruskan ke petugas" not in text
    assert group_copies(bot) == []
    # the officers learn that a file was refused, and read what was written with it
    added = ticket_texts(bot, ticket)[len(before) :]
    assert len(added) == 1 and "ditolak bot" in added[0] and added[0].endswith("<b>buka ini</b> segera")
    assert "&lt;b&gt;buka ini&lt;/b&gt; segera" in bot.api.texts(OFFICERS_CHAT)[-1]


async def test_an_oversized_or_unreadable_file_is_refused_with_what_is_accepted(bot: BotHarness) -> None:
    await open_ticket(bot)
    sent = await bot.feed(bot.api.document(EXPORTER, "scan.pdf", "application/pdf", 2_000_000_000))
    assert "terlalu besar" in text_of(sent) and "20 MB" in text_of(sent)
    sent = await bot.feed(bot.api.voice(EXPORTER))
    assert "tidak diteruskan" in text_of(sent) and "tuliskan isinya sebagai teks" in text_of(sent)
    await drain(bot)
    assert group_copies(bot) == []


async def test_the_refusal_speaks_the_exporters_language(bot: BotHarness) -> None:
    assert "ticket #" in text_of(
        await bot.say("/officer please check my file", user_id=3030, language_code="en")
    )
    sent = await bot.feed(
        bot.api.document(3030, "invoice.pdf.exe", "application/pdf", content=samples.EXE, language_code="en")
    )
    assert "not passed to the officer" in text_of(sent) and "Excel (.xlsx)" in text_of(sent)


async def test_a_real_pdf_is_copied_under_our_own_escaped_caption(bot: BotHarness) -> None:
    ticket = await open_ticket(bot)
    sent = await bot.feed(
        bot.api.document(
            EXPORTER,
            "invoice.exe",
            "application/octet-stream",
            content=samples.PDF,
            caption="<b>buka ini</b> segera",
        )
    )
    assert "Diteruskan ke petugas" in text_of(sent)
    await drain(bot)
    (copy,) = group_copies(bot)
    caption = copy["caption"]
    # whose file it is, what it really is, and the sender's words as plain text
    assert f"#{ticket}" in caption and "Budi" in caption and "PDF" in caption and "invoice.pdf" in caption
    assert "&lt;b&gt;buka ini&lt;/b&gt; segera" in caption
    assert ticket_texts(bot, ticket)[-1] == "<b>buka ini</b> segera"


async def test_a_file_telegram_will_not_hand_over_is_judged_by_its_declared_type_and_name(
    bot: BotHarness,
) -> None:
    await open_ticket(bot)
    bot.api.fail_next("getFile", 500, count=2)
    sent = await bot.feed(
        bot.api.document(EXPORTER, "invoice.pdf.exe", "application/pdf", content=samples.EXE)
    )
    assert "tidak diteruskan" in text_of(sent)
    sent = await bot.feed(bot.api.document(EXPORTER, "invoice.pdf", "application/pdf", content=samples.PDF))
    assert "Diteruskan ke petugas" in text_of(sent)
    await drain(bot)
    (copy,) = group_copies(bot)
    assert "invoice.pdf" in copy["caption"]


async def test_a_photo_is_copied_with_a_label_instead_of_its_caption(bot: BotHarness) -> None:
    await open_ticket(bot)
    await bot.feed(bot.api.photo(EXPORTER, caption="<i>foto</i> error"))
    await drain(bot)
    (copy,) = group_copies(bot)
    assert "Budi" in copy["caption"] and "&lt;i&gt;foto&lt;/i&gt; error" in copy["caption"]


# -- 2. exporters' commands in the officers' group -----------------------------------------------


GROUP_MEMBER = 4242  # in the officers' group, but no officer


@pytest.mark.parametrize(
    "command",
    [
        "/status",
        "/status SKA-001",
        "/unlink",
        "/lang en",
        "/topics",
        "/help",
        "/petugas tolong bantu",
        "/link",
    ],
)
async def test_exporter_commands_in_the_group_get_the_private_only_message(
    bot: BotHarness, command: str
) -> None:
    sent = await bot.say(command, user_id=GROUP_MEMBER, chat_id=OFFICERS_CHAT)
    assert text_of(sent) == "Untuk bertanya, silakan kirim pesan pribadi ke bot ini."
    assert [c.params["chat_id"] for c in sent] == [OFFICERS_CHAT]


async def test_commands_in_the_group_change_nothing_and_officers_keep_theirs(bot: BotHarness) -> None:
    assert bot.services.importer.import_text(CSV).errors == []
    code, _ = bot.services.links.create_code("1111111111111", OFFICER_ID)
    for command in (f"/link {code}", f"/start {code}", "/petugas tolong bantu", "/lang en"):
        sent = await bot.say(command, user_id=GROUP_MEMBER, chat_id=OFFICERS_CHAT)
        assert "pesan pribadi" in text_of(sent)
    with bot.services.db.session() as s:
        assert s.scalars(select(Ticket)).all() == []
        user = s.get(User, GROUP_MEMBER)
        assert user is not None and user.language == "id" and user.company_id is None
    # the code was not spent: it still links in private
    assert "PT Kayu Lapis Satu" in text_of(await bot.say(f"/link {code}", user_id=GROUP_MEMBER))
    # an officer's own commands keep working there
    sent = await bot.say("/help", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "pesan pribadi" not in text_of(sent) and "/queue" in text_of(sent)


# -- 3. the flood throttle loses no ticket message -------------------------------------------------


def album(bot: BotHarness, group: str, size: int) -> list[dict]:
    updates = []
    for _ in range(size):
        update = bot.api.photo(EXPORTER, content=samples.JPEG)
        update["message"]["media_group_id"] = group
        updates.append(update)
    return updates


def frozen_clock(bot: BotHarness) -> None:
    bot.app.bot_data["throttle"].clock = lambda: 1000.0


async def test_a_burst_into_an_open_ticket_is_relayed_whole(bot: BotHarness) -> None:
    """24 photos in three albums, then as many texts as the limit allows and more, all in
    the same instant: every one is stored in the ticket and confirmed, none is refused."""
    limit = bot.services.settings.throttle.messages
    frozen_clock(bot)
    ticket = await open_ticket(bot)
    photos: list[str] = []
    for update in album(bot, "a1", 10) + album(bot, "a2", 10) + album(bot, "a3", 4):
        photos.append(text_of(await bot.feed(update)))
    # one confirmation per album, nothing refused
    assert [i for i, r in enumerate(photos) if r] == [0, 10, 20]
    assert all("Diteruskan ke petugas" in r for r in photos if r)
    replies = [
        text_of(await bot.say(f"halaman {i} sudah saya kirim", user_id=EXPORTER)) for i in range(limit + 5)
    ]
    assert all("Diteruskan ke petugas" in r for r in replies), [r for r in replies if "Diteruskan" not in r]
    stored = ticket_texts(bot, ticket)
    assert stored.count("[foto]") == 24
    assert stored[-1] == f"halaman {limit + 4} sudah saya kirim"


async def test_an_album_counts_once_outside_a_ticket_too(bot: BotHarness) -> None:
    assert bot.services.settings.throttle.messages < 30  # the photos alone are over it
    frozen_clock(bot)
    sent = []
    for update in album(bot, "b1", 10) + album(bot, "b2", 10) + album(bot, "b3", 10):
        sent += await bot.feed(update)
    answer = await bot.say("berapa lama ska terbit", user_id=EXPORTER)
    assert t("hd_slow_down", "id") not in [c.params.get("text") for c in sent + answer]
    assert "1 hari kerja" in text_of(answer)


async def test_a_real_flood_inside_a_ticket_is_still_stopped(bot: BotHarness) -> None:
    throttle = bot.app.bot_data["throttle"]
    frozen_clock(bot)
    ticket = await open_ticket(bot)
    replies = [text_of(await bot.say(f"spam {i}", user_id=EXPORTER)) for i in range(throttle.ceiling + 10)]
    assert replies.count(t("hd_slow_down", "id")) == 1
    # the question and the press that opened the ticket count too
    assert sum("Diteruskan" in r for r in replies) == throttle.ceiling - 2
    assert len(ticket_texts(bot, ticket)) == 1 + throttle.ceiling - 2


# -- 5. a forged update id never breaks the duplicate filter ------------------------------------


@pytest.fixture
async def deduping(settings: Settings, services: Services) -> AsyncIterator[BotHarness]:
    """The Application as `run` builds it: duplicate updates are filtered."""
    api = FakeBotAPI()
    app = build_application(settings, request=FakeRequest(api), services=services, dedupe_updates=True)
    await app.initialize()
    await post_init(app)
    try:
        yield BotHarness(app, api, services)
    finally:
        await app.shutdown()


async def answered_once(bot: BotHarness, user_id: int) -> None:
    update = bot.api.message(user_id, "berapa lama proses ska")
    assert len(await bot.feed(dict(update))) == 1
    assert await bot.feed(dict(update)) == []  # the redelivery is recognised


@pytest.mark.parametrize("forged", ["abc", 2**70, -5, True, 1.5])
async def test_an_update_with_a_forged_id_is_ignored_and_never_stored(
    deduping: BotHarness, forged: object
) -> None:
    update = {**deduping.api.message(3010, "berapa lama proses ska"), "update_id": forged}
    assert await deduping.feed(update) == []
    with deduping.services.db.session() as s:
        assert [u for u in s.scalars(select(ProcessedUpdate.update_id)) if not isinstance(u, int)] == []
    await answered_once(deduping, 3011)


async def test_a_bad_id_stored_by_an_earlier_version_does_not_break_the_filter(
    deduping: BotHarness, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("only SQLite could store a text in the BIGINT column")
    with deduping.services.db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO processed_updates (update_id, at) VALUES ('abc', '2026-12-07 10:00:00')")
        )
    await answered_once(deduping, 3012)


# -- 4. an edit inside an open ticket reaches the officers ----------------------------------------


async def test_an_edit_reaches_the_officers_only_inside_an_open_ticket_and_never_runs(
    bot: BotHarness,
) -> None:
    # without a ticket an edit is not answered again, and an edited command does not run
    first = bot.api.message(EXPORTER, "berapa lama proses ska")
    assert len(await bot.feed(first)) == 1
    msg_id = first["message"]["message_id"]
    assert await bot.feed(bot.api.edited_message(EXPORTER, "berapa biaya ska", message_id=msg_id)) == []
    first = bot.api.message(OFFICER_ID, "/queue")
    await bot.feed(first)
    edited = bot.api.edited_message(OFFICER_ID, "/mine", message_id=first["message"]["message_id"])
    edited["edited_message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
    assert await bot.feed(edited) == []
    # inside an open ticket the officers get the new text, marked as an edit
    ticket = await open_ticket(bot)
    first = bot.api.message(EXPORTER, "nomor pengajuan saya DEMO-OPEN-0001")
    await bot.feed(first)
    sent = await bot.feed(
        bot.api.edited_message(
            EXPORTER, "nomor pengajuan saya DEMO-OPEN-001 (ralat)", message_id=first["message"]["message_id"]
        )
    )
    assert "Diteruskan ke petugas" in text_of(sent)
    await drain(bot)
    relayed = bot.api.texts(OFFICERS_CHAT)[-1]
    assert "DEMO-OPEN-001 (ralat)" in relayed and "✏️" in relayed and "ralat pesan sebelumnya" in relayed
    assert ticket_texts(bot, ticket)[-1].endswith("DEMO-OPEN-001 (ralat)")
    # a photo whose caption was taken away: said in words, not as a placeholder
    photo = bot.api.photo(EXPORTER, caption="invoice lama")
    await bot.feed(photo)
    edit = bot.api.edited_message(EXPORTER, "x", message_id=photo["message"]["message_id"])
    edited = edit["edited_message"]
    edited.pop("text", None)
    edited.pop("caption", None)
    edited["photo"] = photo["message"]["photo"]
    await bot.feed(edit)
    await drain(bot)
    assert ticket_texts(bot, ticket)[-1].endswith("(keterangan file dihapus)")


# -- 6. a password in the database URL's query is masked too --------------------------------------


@pytest.mark.parametrize("command", [["link-code", "123"], ["backup", "copy.db"]])
def test_a_password_given_as_a_url_parameter_is_never_printed(tmp_path: Path, command: list[str]) -> None:
    url = "postgresql+psycopg://ska@127.0.0.1:1/ska?password=hunter2&sslmode=disable&sslpassword=k3y"
    out = run_cli(*command, env={"SKA_DATABASE_URL": url}, cwd=tmp_path)
    assert out.returncode == 2
    assert "//ska@127.0.0.1:1/ska?password=***&sslmode=disable&sslpassword=***" in out.stderr + out.stdout
    assert "hunter2" not in out.stdout + out.stderr and "k3y" not in out.stdout + out.stderr


# -- 7. an FAQ draft keeps no personal details ---------------------------------------------------

PERSONAL_QUESTION = (
    "Selamat pagi, saya Sari dari PT Kayu Lapis Satu, NIB 1111111111111, HP 0812-3456-7890, "
    "email sari@kayulapis.co.id. Pengajuan SKA-002 kenapa dikembalikan?"
)
PERSONAL_ANSWER = "Karena lampiran invoice belum ada. Hubungi saya di 0812 9999 8888 (Rina)"


async def test_an_faq_draft_shows_the_admin_no_ids_phones_emails_or_refs(bot: BotHarness) -> None:
    ticket = await open_ticket(bot, question=PERSONAL_QUESTION)
    await bot.say(f"/reply {ticket} {PERSONAL_ANSWER}", user_id=OFFICER_ID)
    await bot.say(f"/close {ticket}", user_id=OFFICER_ID)
    await bot.press(f"pf:{ticket}:new", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    proposal = bot.services.proposals.pending()[-1]
    draft = proposal.draft_question + "\n" + proposal.answer_id
    for secret in ("1111111111111", "0812-3456-7890", "sari@kayulapis.co.id", "SKA-002", "0812 9999 8888"):
        assert secret not in draft
    assert "[telepon]" in proposal.answer_id and "[email]" in proposal.draft_question
    body = text_of(await bot.say("/proposals", user_id=ADMIN_ID))
    # what was taken out is listed for the admin, the officer's phone number included
    assert "nomor telepon «0812 9999 8888»" in body and "email «sari@kayulapis.co.id»" in body
    assert "NIB/NPWP «NIB 1111111111111»" in body and "nomor pengajuan «SKA-002»" in body


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://ska:Kalteng@2026@127.0.0.1:1/ska",
        "postgresql+psycopg://ska:p@ss:w0rdX@127.0.0.1:1/ska",
        "postgres//ska:hunter2@127.0.0.1/ska",
    ],
)
def test_a_password_with_an_at_sign_or_a_bad_url_is_never_printed(tmp_path: Path, url: str) -> None:
    out = run_cli("link-code", "123", env={"SKA_DATABASE_URL": url}, cwd=tmp_path)
    assert out.returncode == 2
    shown = out.stdout + out.stderr
    # a URL is shown masked, a malformed one not at all
    assert "***" in shown or "the value is not a" in shown
    for secret in ("Kalteng", "2026@", "p@ss", "w0rdX", "hunter2"):
        assert secret not in shown

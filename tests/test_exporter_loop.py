"""The exporter's way to an officer: the question a ticket gets is the one the exporter
meant, nothing they wrote is dropped on the way, and nothing reaches the officers twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.models import OutboxMessage, QueryLog, Ticket
from bot.services import build_services
from bot.services.tickets import TicketService
from handlers import tickets_exporter
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of, make_settings, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EXPORTER = 1001
ASK = "🙋 Tanya petugas"


async def drain(bot: BotHarness) -> None:
    await bot.sender.drain(bot.app.bot, budget_seconds=5)


def group_texts(bot: BotHarness) -> list[str]:
    return bot.api.texts(OFFICERS_CHAT)


def tickets(bot: BotHarness) -> list[Ticket]:
    with bot.services.db.session() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


async def test_ask_officer_under_an_earlier_answer_sends_that_question(bot: BotHarness) -> None:
    first = await bot.say("brp biaya ska? ada PNBP gak di kalteng?")
    ask_first = dict(buttons_of(first))[ASK]
    await bot.say("jam buka kantor ipska")
    await bot.say("makasih")
    sent = await bot.press(ask_first, message_id=first[0].result["message_id"])
    assert "tiket #" in text_of(sent)
    await drain(bot)
    card = "\n".join(group_texts(bot))
    assert "brp biaya ska? ada PNBP gak di kalteng?" in card
    assert "jam buka kantor ipska" not in card


async def test_a_forged_question_id_does_not_hand_over_someone_elses_words(bot: BotHarness) -> None:
    await bot.say("brp biaya ska? ada PNBP gak di kalteng?")
    with bot.services.db.session() as s:
        someone_elses = f"o:ask:{s.scalars(select(QueryLog.id)).one()}"
    await bot.say("jam buka kantor ipska", user_id=2002)
    sent = await bot.press(someone_elses, user_id=2002)
    # the presser's own question goes, never the other exporter's
    assert "tiket #1" in text_of(sent)
    await drain(bot)
    assert not any("PNBP" in text for text in group_texts(bot))
    assert [(t.user_id, t.question) for t in tickets(bot)] == [(2002, "jam buka kantor ipska")]


async def test_thumbs_down_then_ask_officer_sends_the_rated_question(bot: BotHarness) -> None:
    first = await bot.say("berapa biaya ska")
    down = next(d for label, d in buttons_of(first) if label == "👎")
    offer = await bot.press(down)
    ask = dict(buttons_of(offer))[ASK]
    await bot.say("jam buka kantor ipska")
    await bot.press(ask)
    await drain(bot)
    card = "\n".join(group_texts(bot))
    assert "berapa biaya ska" in card and "jam buka kantor" not in card


async def test_a_request_for_an_officer_keeps_its_own_question(bot: BotHarness) -> None:
    await bot.say("brp biaya ska?")
    sent = await bot.say("sy mau bicara dgn petugas aja, kayu ulin boleh diekspor gak?")
    assert "tiket #" in text_of(sent)
    await drain(bot)
    group = "\n".join(group_texts(bot))
    assert "brp biaya ska?" in group and "kayu ulin boleh diekspor" in group


async def test_a_request_for_an_officer_without_an_earlier_question_is_the_question(
    bot: BotHarness,
) -> None:
    text = "I want to talk to a human officer about my shipment of ulin wood to Korea"
    sent = await bot.say(text, language_code="en")
    assert "ticket #" in text_of(sent)
    await drain(bot)
    assert any("ulin wood to Korea" in card for card in group_texts(bot))
    assert [t.question for t in tickets(bot)] == [text]
    # one word beyond the request is what it is about
    sent = await bot.say("petugas, ulin?", user_id=2002)
    assert "tiket #2" in text_of(sent)
    assert tickets(bot)[1].question == "petugas, ulin?"


async def test_a_handled_question_is_not_sent_again_after_the_ticket_closed(bot: BotHarness) -> None:
    question = "apakah kontainer saya bisa dititipkan di gudang dinas selama seminggu"
    sent = await bot.say(question)
    await bot.press(dict(buttons_of(sent))[ASK])
    await bot.say("/close 1 dijawab", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    before = len(group_texts(bot))
    sent = await bot.say("petugasnya lambat bls")
    assert "tiket #2" in text_of(sent)
    await drain(bot)
    new = "\n".join(group_texts(bot)[before:])
    assert "petugasnya lambat bls" in new and "kontainer" not in new
    assert tickets(bot)[1].question == "petugasnya lambat bls"


async def test_officer_command_during_a_check_loses_nothing(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    sent = await bot.say("/petugas")
    assert "/batal" in text_of(sent) and "Tulis pertanyaan" not in text_of(sent)
    await bot.say("/batal")
    sent = await bot.say("halo")
    assert "tiket" not in text_of(sent).lower()
    assert tickets(bot) == []


async def test_a_question_request_from_before_a_check_goes_stale(bot: BotHarness) -> None:
    assert "Tulis pertanyaan" in text_of(await bot.say("/petugas"))
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    await bot.say("4412.31")  # the check's answer, not a question for the officers
    await bot.say("/batal")
    sent = await bot.say("halo")
    assert "tiket" not in text_of(sent).lower()
    assert tickets(bot) == []


async def test_a_question_request_left_unanswered_goes_stale(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Tulis pertanyaan" in text_of(await bot.say("/petugas"))
    later = time.monotonic() + 31 * 60
    clock = SimpleNamespace(monotonic=lambda: later)
    monkeypatch.setattr(tickets_exporter, "time", clock, raising=False)
    sent = await bot.say("halo")
    assert "tiket" not in text_of(sent).lower()
    assert tickets(bot) == []


async def test_asking_twice_posts_the_question_once(bot: BotHarness) -> None:
    sent = await bot.say("ska sy dikembalikan 3x krn beda berat, gmn solusinya pak?")
    ask = dict(buttons_of(sent))[ASK]
    await bot.press(ask)
    await drain(bot)
    before = len(group_texts(bot))
    again = await bot.press(ask)
    assert "sudah ada di tiket #1" in text_of(again)
    command = await bot.say("/petugas")
    assert "sudah ada di tiket #1" in text_of(command)
    await drain(bot)
    assert group_texts(bot)[before:] == []
    assert len(tickets(bot)) == 1


def test_two_processes_asked_at_once_post_one_card(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (build_services(make_settings(postgres_url)) for _ in range(2))
    view = TicketService._view

    def slow_view(self: TicketService, *args: object) -> object:
        # the first process is slow between finding no ticket and storing its own
        if self is first.tickets:
            time.sleep(0.5)
        return view(self, *args)

    monkeypatch.setattr(TicketService, "_view", slow_view)
    try:
        with ThreadPoolExecutor(2) as pool:
            one = pool.submit(first.tickets.open, EXPORTER, "ska sy dikembalikan, gmn?", [])
            time.sleep(0.2)
            other = pool.submit(second.tickets.open, EXPORTER, "ska sy dikembalikan, gmn?", [])
            states = sorted(state for _, state in (one.result(), other.result()))
        assert states == ["already", "opened"]
        with first.db.session() as s:
            cards = s.scalars(select(OutboxMessage.text).where(OutboxMessage.chat_id == OFFICERS_CHAT)).all()
        assert len(cards) == 1 and "ska sy dikembalikan" in cards[0]
    finally:
        first.close()
        second.close()


async def test_a_long_question_is_answered_logged_whole_and_can_reach_an_officer(bot: BotHarness) -> None:
    story = "Kami baru pertama kali ekspor moulding meranti, buyer minta dokumen lengkap. " * 14
    text = story + "Dokumen perusahaan apa saja yang harus dibawa untuk registrasi akun e-SKA?"
    assert 1000 < len(text) < 4096
    sent = await bot.say(text)
    assert "terlalu panjang" not in text_of(sent)
    assert "Dokumen registrasi akun e-SKA" in text_of(sent) and "Pesan Anda panjang" in text_of(sent)
    with bot.services.db.session() as s:
        assert s.scalars(select(QueryLog.text)).one() == text
    await bot.press(dict(buttons_of(sent))[ASK])
    await drain(bot)
    assert [t.question for t in tickets(bot)] == [text]
    group = "\n".join(group_texts(bot))
    assert "registrasi akun e-SKA?" in group


async def test_a_ticket_opened_during_a_check_takes_the_next_messages(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    sent = await bot.say("/petugas plywood meranti ke Jepang pakai form apa?")
    assert "tiket #1" in text_of(sent) and "dijeda" in text_of(sent)
    await drain(bot)
    before = len(group_texts(bot))
    sent = await bot.say("baik pak, kalau ke Korea?")
    assert "bukan kode HS" not in text_of(sent) and "tiket #1" in text_of(sent)
    await drain(bot)
    assert "kalau ke Korea?" in "\n".join(group_texts(bot)[before:])
    # the check waits where it was
    sent = await bot.say("/cek")
    assert "(2/15)" in text_of(sent) and "kode HS" in text_of(sent)


async def closed_and_rated(bot: BotHarness) -> None:
    sent = await bot.say("apakah kontainer saya bisa dititipkan di gudang dinas selama seminggu")
    await bot.press(dict(buttons_of(sent))[ASK])
    await bot.say("/close 1 dijawab", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await drain(bot)
    await bot.press("r:1:4")


async def test_a_new_ticket_is_not_taken_for_the_last_ratings_comment(bot: BotHarness) -> None:
    await closed_and_rated(bot)
    await bot.press("o:comment:1")
    sent = await bot.say("/petugas pertanyaan baru soal HS plywood")
    assert "tiket #2" in text_of(sent)
    await drain(bot)
    before = len(group_texts(bot))
    sent = await bot.say("HS-nya 4412.31, meranti, tujuan Jepang")
    assert "Komentar" not in text_of(sent)
    await drain(bot)
    assert "HS-nya 4412.31" in "\n".join(group_texts(bot)[before:])
    assert tickets(bot)[0].rating_comment is None


async def test_the_talk_to_an_officer_topic_opens_a_ticket_rather_than_promising_one(bot: BotHarness) -> None:
    question = "apakah kontainer saya bisa dititipkan di gudang dinas selama seminggu"
    await bot.say(question)
    sent = await bot.press("c:help")
    data = dict(buttons_of(sent))["Bicara dengan petugas"]
    assert data.startswith("o:ask")
    sent = await bot.press(data)
    assert "tiket #1" in text_of(sent)
    assert tickets(bot)[0].question == question


async def test_a_question_sent_as_a_captioned_screenshot_opens_the_ticket_with_it(bot: BotHarness) -> None:
    assert "Tulis pertanyaan" in text_of(await bot.say("/petugas"))
    sent = await bot.feed(bot.api.photo(EXPORTER, caption="ini error di eska waktu upload PEB"))
    assert "tiket #1" in text_of(sent)
    assert tickets(bot)[0].question == "ini error di eska waktu upload PEB"
    await drain(bot)
    copies = [c for c in bot.api.calls if c.method == "copyMessage"]
    assert len(copies) == 1 and copies[0].params["chat_id"] == OFFICERS_CHAT


async def test_an_album_after_petugas_reaches_the_officers_whole_wherever_its_caption_is(
    bot: BotHarness,
) -> None:
    assert "Tulis pertanyaan" in text_of(await bot.say("/petugas"))
    photos = [
        bot.api.photo(EXPORTER, caption="error waktu upload PEB, mohon dibantu" if i == 2 else None)
        for i in range(3)
    ]
    for update in photos:
        update["message"]["media_group_id"] = "album-petugas"
    answers = []
    for update in photos:
        answers += [c for c in await bot.feed(update) if c.params.get("chat_id") == EXPORTER]
    said = "\n".join(text_of([c]) for c in answers)
    assert "tiket #1" in said and "Kirim foto" not in said and "ketik" not in said.lower()
    assert len(answers) == 2  # "ticket opened" and one "forwarded" for the whole album
    await drain(bot)
    copies = [c for c in bot.api.calls if c.method == "copyMessage" and c.ok]
    assert [c.params["chat_id"] for c in copies] == [OFFICERS_CHAT] * 3
    assert "error waktu upload PEB" in copies[2].params["caption"]
    assert "pertanyaannya ada di file berikut" in tickets(bot)[0].question


async def test_a_sticker_after_petugas_opens_no_ticket(bot: BotHarness) -> None:
    await bot.say("/petugas")
    update = bot.api.photo(EXPORTER)
    update["message"].pop("photo")
    update["message"]["sticker"] = {
        "file_id": "st1",
        "file_unique_id": "st1u",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await bot.feed(update)
    assert tickets(bot) == []
    # the question still opens the ticket
    sent = await bot.say("bagaimana cara koreksi data SKA yang salah ketik?")
    assert "tiket #1" in text_of(sent)


async def test_a_long_message_that_opens_asking_for_an_officer_opens_a_ticket_with_all_of_it(
    bot: BotHarness,
) -> None:
    story = "Kontainer kami sudah di pelabuhan Sampit tetapi data invoice di e-SKA berbeda dengan PEB. " * 14
    text = "Selamat siang, saya mau bicara dengan petugas. " + story + "Bagaimana cara koreksi data SKA?"
    assert 1000 < len(text) < 4096
    sent = await bot.say(text)
    assert "tiket #1" in text_of(sent)
    await drain(bot)
    assert [t.question for t in tickets(bot)] == [text]
    assert "Sampit" in "\n".join(group_texts(bot))


async def test_a_long_message_that_only_mentions_an_officer_is_answered(bot: BotHarness) -> None:
    story = "Kemarin petugas di kantor sudah menjelaskan bahwa berkas kami lengkap. " * 14
    text = story + "Dokumen perusahaan apa saja yang harus dibawa untuk registrasi akun e-SKA?"
    sent = await bot.say(text)
    assert "Dokumen registrasi akun e-SKA" in text_of(sent) and tickets(bot) == []


@pytest.mark.parametrize(
    "text", ["// penting: kontainer saya tertahan", "/ saya sudah kirim kemarin", "/tolong pak dibantu"]
)
async def test_what_an_exporter_writes_starting_with_a_slash_reaches_the_open_ticket(
    bot: BotHarness, text: str
) -> None:
    await bot.say("/petugas koreksi data invoice di e-SKA")
    await drain(bot)
    sent = await bot.say(text)
    assert "Diteruskan ke petugas" in text_of(sent)
    await drain(bot)
    assert text.lstrip("/ ").split()[0] in "\n".join(group_texts(bot))


async def test_an_unknown_command_outside_a_ticket_suggests_the_nearest(bot: BotHarness) -> None:
    said = text_of(await bot.say("/statsu"))
    assert "Maksud Anda /status?" in said
    # an officer's command is not suggested to an exporter
    assert "/setstatus" not in text_of(await bot.say("/setstatsu SKA-1"))


async def test_officers_hear_in_indonesian_what_kind_of_message_was_refused(bot: BotHarness) -> None:
    await bot.say("/petugas koreksi data invoice di e-SKA")
    await drain(bot)
    update = bot.api.photo(EXPORTER)
    update["message"].pop("photo")
    update["message"]["contact"] = {"phone_number": "+62811000000", "first_name": "Budi"}
    await bot.feed(update)
    await drain(bot)
    notice = group_texts(bot)[-1]
    assert "mengirim kontak yang ditolak" in notice and "message" not in notice


async def test_a_comment_prompt_the_exporter_moved_on_from_does_not_swallow_a_question(
    bot: BotHarness,
) -> None:
    await closed_and_rated(bot)
    assert "komentar" in text_of(await bot.press("o:comment:1")).lower()
    await bot.say("/status")  # moved on
    sent = await bot.say("berapa lama ska terbit?")
    assert "Komentar Anda tersimpan" not in text_of(sent) and "hari kerja" in text_of(sent)
    assert tickets(bot)[0].rating_comment is None


async def test_the_text_right_after_the_comment_prompt_is_the_comment(bot: BotHarness) -> None:
    await closed_and_rated(bot)
    await bot.press("o:comment:1")
    sent = await bot.say("petugasnya ramah dan cepat")
    assert "Komentar Anda tersimpan" in text_of(sent)
    assert tickets(bot)[0].rating_comment == "petugasnya ramah dan cepat"


async def test_the_stars_go_once_a_rating_is_given(bot: BotHarness) -> None:
    await closed_and_rated(bot)
    assert any(c.method == "editMessageReplyMarkup" for c in bot.api.calls)
    await bot.press("r:1:1")  # a stale star under the same message
    answer = bot.answers_to_callbacks()[-1].params["text"]
    assert "sudah Anda nilai" in answer and tickets(bot)[0].rating == 4

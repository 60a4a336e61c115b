"""What an exporter sees, through the real Application and a fake Bot API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import QueryLog, User
from tests.conftest import OFFICERS_CHAT, BotHarness, buttons_of, start_harness, text_of


async def test_start_greets_in_indonesian_with_menu(bot: BotHarness) -> None:
    sent = await bot.say("/start", first_name="Sari")
    body = text_of(sent)
    assert "Halo Sari" in body and "IPSKA Disdagperin Kalteng" in body
    assert ("Daftar topik", "c:") in buttons_of(sent)
    # the command menu was published in both languages at start-up
    langs = {c.params.get("language_code") for c in bot.api.calls if c.method == "setMyCommands"}
    assert {"id", "en"} <= langs


async def test_start_in_english_for_english_telegram(bot: BotHarness) -> None:
    sent = await bot.say("/start", language_code="en-GB")
    assert "Hello" in text_of(sent) and "Topics" in [b[0] for b in buttons_of(sent)]


async def test_informal_question_gets_answer_and_helpful_buttons(bot: BotHarness) -> None:
    sent = await bot.say("gmn cara daftar akun eska")
    assert len(sent) == 1
    assert sent[0].params["parse_mode"] == "HTML"
    assert "e-SKA" in sent[0].params["text"]
    data = [d for _, d in buttons_of(sent)]
    assert any(d.startswith("f:") and d.endswith(":1") for d in data)
    with bot.services.db.session() as s:
        row = s.scalars(select(QueryLog)).one()
    assert (row.matched_id, row.outcome, row.language) == ("register-account", "answer", "id")


async def test_english_question_answered_in_english(bot: BotHarness) -> None:
    sent = await bot.say("How long does issuance take?")
    assert "working day" in text_of(sent)
    assert "Permendag 34/2023" in text_of(sent)


async def test_feedback_is_recorded_once_and_only_for_the_asker(bot: BotHarness) -> None:
    sent = await bot.say("berapa biaya penerbitan ska")
    up = next(d for _, d in buttons_of(sent) if d.startswith("f:") and d.endswith(":1"))
    await bot.press(up, user_id=2002)  # someone else's button: not recorded
    await bot.press(up)
    await bot.press(up.replace(":1", ":0"))  # second vote: already recorded
    with bot.services.db.session() as s:
        row = s.scalars(select(QueryLog)).one()
    assert row.feedback == 1
    answers = [c.params.get("text") for c in bot.answers_to_callbacks()]
    assert "Terima kasih atas masukannya! 👍" in answers
    assert answers.count("Masukan Anda sudah tercatat.") == 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB's retry_after type notice
async def test_feedback_counts_even_when_telegram_refuses_to_remove_the_buttons(bot: BotHarness) -> None:
    sent = await bot.say("berapa biaya penerbitan ska")
    up = next(d for _, d in buttons_of(sent) if d.startswith("f:") and d.endswith(":1"))
    bot.api.fail_next("editMessageReplyMarkup", 429, retry_after=1)
    reply = await bot.press(up)
    assert [c.method for c in reply] == ["editMessageReplyMarkup"]  # no error message
    assert "Terima kasih atas masukannya! 👍" in [c.params.get("text") for c in bot.answers_to_callbacks()]
    with bot.services.db.session() as s:
        assert s.scalars(select(QueryLog)).one().feedback == 1


async def test_destination_question_names_only_that_country(bot: BotHarness) -> None:
    sent = await bot.say("ekspor plywood ke jepang pakai form apa?")
    body = text_of(sent)
    assert "Jepang" in body and "IJEPA" in body and "AJCEP" in body and "Form B" in body
    assert "Form E" not in body and "AIFTA" not in body
    sent = await bot.say("what form do I need to export veneer to Korea")
    assert "South Korea" in text_of(sent) and "IK-CEPA" in text_of(sent)


async def test_form_question_without_destination_asks_with_buttons(bot: BotHarness) -> None:
    sent = await bot.say("form ska apa saja yang ada")
    choices = dict(buttons_of(sent))
    assert choices.get("India") == "d:IN"
    sent = await bot.press("d:IN")
    assert "Form AI (AIFTA)" in text_of(sent) and "IJEPA" not in text_of(sent)


async def test_country_outside_the_table_gets_an_honest_answer(bot: BotHarness) -> None:
    sent = await bot.say("ekspor plywood ke australia pakai form apa?")
    body = text_of(sent)
    assert "Australia" in body and "belum ada di tabel saya" in body
    assert "FTA" in body and "Form B" in body and "dikonfirmasi ke petugas" in body
    # neither the general table nor another country's forms
    assert "semua negara" not in body and "IJEPA" not in body
    assert "🙋 Tanya petugas" in dict(buttons_of(sent))
    sent = await bot.say("which CO form for a shipment to the UK?")
    assert "the United Kingdom" in text_of(sent) and "not in my table" in text_of(sent)


async def test_common_words_are_not_places(bot: BotHarness) -> None:
    sent = await bot.say("kirim foto kucing dong")
    assert "Malaysia" not in text_of(sent) and "Form D" not in text_of(sent)
    sent = await bot.say("ska ke inggris pakai form apa")
    assert "Inggris" in text_of(sent) and "belum ada di tabel saya" in text_of(sent)
    sent = await bot.say("deskripsi barang di ska harus bahasa inggris?")
    assert "tabel saya" not in text_of(sent)


async def test_other_country_button_says_what_to_check(bot: BotHarness) -> None:
    sent = await bot.say("form ska apa saja yang ada")
    assert dict(buttons_of(sent)).get("Negara lain") == "d:other"
    sent = await bot.press("d:other")
    assert "FTA" in text_of(sent) and "Form B" in text_of(sent)
    assert any(d == "o:ask" for _, d in buttons_of(sent))


async def test_still_waiting_is_a_status_question(bot: BotHarness) -> None:
    for text in ("sdh submit tp blm ada kabar", "kak ska ku blm terbit2 udh 3 hari"):
        sent = await bot.say(text)
        assert "/status" in text_of(sent), text
        assert "ISSUED RETROACTIVELY" not in text_of(sent), text


async def test_export_statistics_computed_from_rows(bot: BotHarness) -> None:
    sent = await bot.say("berapa total nilai ekspor kayu kalteng 2025")
    body = text_of(sent)
    assert "48.996.166,36" in body and "49.000.166,36" in body and "4.000,00" in body
    assert "240.795,83" in body


async def test_greeting_and_thanks_get_short_replies(bot: BotHarness) -> None:
    sent = await bot.say("selamat pagi pak")
    assert "Halo" in text_of(sent) and not any(d.startswith("f:") for _, d in buttons_of(sent))
    sent = await bot.say("makasih ya min")
    assert "Sama-sama" in text_of(sent)


async def test_out_of_scope_says_so_and_offers_topics(bot: BotHarness) -> None:
    sent = await bot.say("siapa juara sepak bola piala dunia 2022")
    assert "belum menemukan jawaban" in text_of(sent)
    assert ("Daftar topik", "c:") in buttons_of(sent)
    with bot.services.db.session() as s:
        row = s.scalars(select(QueryLog)).one()
    assert row.outcome == "no_match" and row.matched_id is None


AMBIGUOUS = ["dokumen", "akun", "form", "eska", "ska", "data", "email", "kantor"]


async def test_did_you_mean_buttons_open_the_answer(bot: BotHarness) -> None:
    # one-word messages are where close calls happen; which one is close depends on the KB
    word = next(w for w in AMBIGUOUS if bot.services.answers.classify(w).outcome == "suggest")
    sent = await bot.say(word)
    topics = [d for _, d in buttons_of(sent) if d.startswith("a:")]
    assert "Maksud Anda" in text_of(sent) and 1 <= len(topics) <= 3
    sent = await bot.press(topics[0])
    assert sent and sent[0].params["text"].startswith("<b>")


async def test_topics_menu_by_category(bot: BotHarness) -> None:
    sent = await bot.say("/topics")
    categories = [d for _, d in buttons_of(sent)]
    assert "c:account" in categories
    sent = await bot.press("c:account")
    assert "a:register-account" in [d for _, d in buttons_of(sent)]
    sent = await bot.press("a:register-account")
    assert "e-SKA" in text_of(sent)


async def test_lang_switch_is_remembered_across_restart(bot: BotHarness) -> None:
    sent = await bot.say("/lang")
    assert ("🇬🇧 English", "l:en") in buttons_of(sent)
    await bot.press("l:en")
    with bot.services.db.session() as s:
        assert s.get(User, 1001).language == "en"
    # a fresh Application on the same database: the choice holds
    app, api = await start_harness(bot.services.settings, bot.services)
    try:
        bot2 = BotHarness(app, api, bot.services)
        sent = await bot2.say("/help")
        assert "How to use this bot" in text_of(sent)
    finally:
        await app.shutdown()


async def test_bad_input_gets_short_polite_replies(bot: BotHarness) -> None:
    assert "terlalu panjang" in text_of(await bot.say("a" * 10_000))
    assert "ketik pertanyaan" in text_of(await bot.say("😀😀😀"))
    assert "ketik pertanyaan" in text_of(await bot.feed(bot.api.sticker(1001)))
    assert "ketik pertanyaan" in text_of(await bot.feed(bot.api.photo(1001)))
    assert "ketik pertanyaan" in text_of(await bot.feed(bot.api.voice(1001)))
    assert "tidak saya kenal" in text_of(await bot.say("/hapussemua"))
    await bot.press("x" * 64)
    await bot.press("a:no-such-topic")
    await bot.press("f:notanumber:1")
    refusals = [c.params.get("text") for c in bot.answers_to_callbacks()]
    assert refusals.count("Tombol ini sudah tidak berlaku. Silakan ketik pertanyaan Anda lagi.") == 3
    with bot.services.db.session() as s:
        assert s.scalars(select(QueryLog)).all() == []


async def test_html_in_question_is_never_rendered(bot: BotHarness) -> None:
    sent = await bot.say("<b>dokumen</b> apa aja utk ajukan ska <script>")
    # the fake Bot API rejects malformed HTML as Telegram does, so a reply at all proves it
    assert len(sent) == 1 and "<script>" not in text_of(sent)


async def test_group_text_is_ignored_but_commands_answer(bot: BotHarness) -> None:
    assert await bot.say("gmn cara daftar", chat_id=OFFICERS_CHAT) == []
    assert "pesan pribadi" in text_of(await bot.say("/start", chat_id=OFFICERS_CHAT))
    # any other group: the bot says nothing at all (issue 7)
    assert await bot.say("/start", chat_id=-100123) == []


async def test_edited_message_is_not_answered_twice(bot: BotHarness) -> None:
    assert await bot.feed(bot.api.edited_message(1001, "berapa lama ska terbit", message_id=1)) == []


async def test_thumbs_down_offers_close_topics_and_an_officer(bot: BotHarness) -> None:
    sent = await bot.say("berapa biaya ska")
    down = next(d for _, d in buttons_of(sent) if d.startswith("f:") and d.endswith(":0"))
    offer = await bot.press(down)
    buttons = buttons_of(offer)
    assert "Maksud Anda" in text_of(offer)
    topics = [d for _, d in buttons if d.startswith("a:")]
    assert topics and "a:fees" not in topics  # not the answer that did not help
    assert "🙋 Tanya petugas" in dict(buttons)
    # the officer button opens a ticket with that question
    opened = await bot.press("o:ask")
    assert "tiket #" in text_of(opened)
    # a thumbs-up offers nothing more
    sent = await bot.say("gimana cara login eska", user_id=1077)
    up = next(d for _, d in buttons_of(sent) if d.startswith("f:") and d.endswith(":1"))
    assert not buttons_of(await bot.press(up, user_id=1077))


async def test_an_overlong_question_names_the_limit_the_readers_way(bot: BotHarness) -> None:
    assert "maksimal 4.096 karakter" in text_of(await bot.say("a" * 10_000))
    await bot.say("/lang en")
    assert "at most 4,096 characters" in text_of(await bot.say("a" * 10_000))

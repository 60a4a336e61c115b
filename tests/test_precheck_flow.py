"""/cek through the real Application: one question at a time, summary, change, cancel, resume."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import PrecheckSession, QueryLog
from bot.testing import Call
from tests.conftest import OFFICERS_CHAT, BotHarness, buttons_of, start_harness, text_of

TYPED = {
    "exporter_invoice": "PT. Kayu Jaya Abadi",
    "exporter_peb": "PT Kayu Jaya Abadl",
    "consignee_invoice": "Tokyo Wood Co., Ltd.",
    "consignee_bl": "TOKYO WOOD CO LTD",
    "quantity": "1.250,5 M3",
    "gross_weight": "25.400,00 kg",
    "net_weight": "24.100,00 kg",
}


async def answer_all(bot: BotHarness) -> str:
    """Answer every question of a fresh check; returns the summary text."""
    sent = await bot.say("/cek")
    assert "Cek sebelum mengajukan SKA" in text_of(sent)
    assert ("Kayu lapis (plywood)", "pc:a:commodity:plywood") in buttons_of(sent)
    sent = await bot.press("pc:a:commodity:plywood")
    assert "kode HS" in text_of(sent) and buttons_of(sent) == []
    sent = await bot.say("4412.31")
    assert ("Jepang", "pc:a:destination:JP") in buttons_of(sent)
    sent = await bot.press("pc:a:destination:JP")
    assert ("Form IJEPA", "pc:a:form:Form IJEPA") in buttons_of(sent)
    # Form E is offered too: choosing a form that does not fit is what the check catches
    assert ("Form E (ACFTA)", "pc:a:form:Form E (ACFTA)") in buttons_of(sent)
    await bot.press("pc:a:form:Form B")
    for value in TYPED.values():
        sent = await bot.say(value)
    assert ("USD", "pc:a:currency:USD") in buttons_of(sent)
    await bot.press("pc:a:currency:USD")
    await bot.say("240.795,83")
    sent = await bot.say("27-03-2025")
    assert ("Hari ini", "pc:a:application_date:today") in buttons_of(sent)
    sent = await bot.say("03-04-2025")  # Thursday -> next Thursday: 5 working days
    return text_of(sent)


async def test_whole_check_gives_one_summary_most_serious_first(bot: BotHarness) -> None:
    summary = await answer_all(bot)
    assert "Hasil cek sebelum pengajuan SKA" in summary
    assert "ISSUED RETROACTIVELY" in summary and "konfirmasi ke petugas" in summary
    assert "ABAD<u><b>I</b></u>" in summary and "ABAD<u><b>L</b></u>" in summary
    assert "IJEPA" in summary and "AJCEP" in summary and "RCEP" in summary
    assert "240,795.83" in summary and "V-Legal" in summary and "4412.31" in summary
    # errors, then warnings, then notes
    errors, warnings, notes = (summary.index(icon) for icon in ("❌", "⚠️", "ℹ️"))
    assert errors < warnings < notes
    assert summary.rindex("❌") < warnings and summary.rindex("⚠️") < notes
    # the exporter's questions were not taken for FAQ questions
    with bot.services.db.session() as s:
        assert s.scalars(select(QueryLog)).all() == []


async def test_summary_button_changes_just_one_answer(bot: BotHarness) -> None:
    await answer_all(bot)
    last = bot.api.last(1001)
    assert ("✏️ Form", "pc:e:form") in buttons_of([last])
    assert ("✏️ Kode HS", "pc:e:hs_code") in buttons_of([last])
    sent = await bot.press("pc:e:form")
    assert "Jawaban sekarang: <i>Form B</i>" in text_of(sent)
    sent = await bot.press("pc:a:form:Form IJEPA")
    summary = text_of(sent)
    assert "Hasil cek" in summary and "• Form: Form IJEPA" in summary
    assert "form preferensi" not in summary  # the Form B tip is gone
    assert "ISSUED RETROACTIVELY" in summary  # everything else still checked
    # after the summary, text is a FAQ question again
    assert "Rp" in text_of(await bot.say("berapa biaya penerbitan ska"))


async def test_bad_answers_are_asked_again(bot: BotHarness) -> None:
    await bot.say("/cek")
    sent = await bot.say("mebel")
    assert "tidak ada dalam pilihan" in text_of(sent)
    assert ("Veneer", "pc:a:commodity:veneer") in buttons_of(sent)
    await bot.say("veneer")  # typing a choice works as well
    sent = await bot.say("4" * 40)
    assert "bukan kode HS yang valid" in text_of(sent) and "kode HS" in text_of(sent)
    sent = await bot.say("44")
    assert "bukan kode HS yang valid" in text_of(sent)
    assert "Negara tujuan" in text_of(await bot.say("4408.39"))
    sent = await bot.feed(bot.api.sticker(1001))
    assert "Mohon jawab dengan teks" in text_of(sent)
    await bot.say("korea")
    await bot.say("form ak")
    for _ in range(4):
        await bot.say("PT Veneer Indah")
    sent = await bot.say("PT Veneer Indah")  # a name where the quantity is expected
    assert "angka dengan satuannya" in text_of(sent) and "Jumlah barang" in text_of(sent)
    await bot.say("500 M3")
    sent = await bot.say("tiga ribu kilo")
    assert "angka dengan satuannya" in text_of(sent) and "Berat kotor" in text_of(sent)
    with bot.services.db.session() as s:
        row = s.get(PrecheckSession, 1001)
        assert row is not None and row.step == "gross_weight"


async def test_dates_are_re_asked_until_readable(bot: BotHarness) -> None:
    await bot.say("/cek")
    for value in ("plywood", "4412.31", "JP", "Form IJEPA", *TYPED.values(), "USD", "1000"):
        await bot.say(value)
    sent = await bot.say("besok pagi")
    assert "tidak bisa saya baca sebagai tanggal" in text_of(sent)
    sent = await bot.say("31-02-2025")
    assert "tidak bisa saya baca sebagai tanggal" in text_of(sent)
    await bot.say("27-03-2025")
    sent = await bot.press("pc:a:application_date:today")
    assert "Hasil cek" in text_of(sent)


async def test_cancel_at_any_step_and_old_buttons_refused(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    assert "dibatalkan" in text_of(await bot.say("/batal"))
    with bot.services.db.session() as s:
        assert s.get(PrecheckSession, 1001) is None
    assert "Tidak ada pemeriksaan" in text_of(await bot.say("/cancel"))
    await bot.press("pc:a:commodity:veneer")
    refusals = [c.params.get("text") for c in bot.answers_to_callbacks()]
    assert "Tombol ini sudah tidak berlaku. Silakan ketik pertanyaan Anda lagi." in refusals
    # the text goes to the FAQ again
    assert "e-SKA" in text_of(await bot.say("gmn cara daftar akun eska"))


async def test_check_resumes_after_a_restart(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:chopsticks")
    await bot.say("4419.20")
    app, api = await start_harness(bot.services.settings, bot.services)
    try:
        bot2 = BotHarness(app, api, bot.services)
        sent = await bot2.say("tiongkok")  # answers the pending destination question
        assert ("Form E (ACFTA)", "pc:a:form:Form E (ACFTA)") in buttons_of(sent)
        sent = await bot2.say("/cek")
        assert "Melanjutkan pemeriksaan Anda (pertanyaan 4 dari 15)" in text_of(sent)
        sent = await bot2.press("pc:a:form:Form E (ACFTA)")
        assert "invoice" in text_of(sent)
    finally:
        await app.shutdown()


async def test_english_and_group_chats(bot: BotHarness) -> None:
    sent = await bot.say("/check", user_id=1002, language_code="en")
    assert "What commodity" in text_of(sent) and ("Plywood", "pc:a:commodity:plywood") in buttons_of(sent)
    # the officers' group is the one group the bot talks in; others get silence (issue 7)
    sent = await bot.say("/cek", chat_id=OFFICERS_CHAT)
    assert "pesan pribadi" in text_of(sent)
    assert await bot.say("/cek", chat_id=-100123) == []
    # someone else's text is not captured by user 1002's open check
    assert "e-SKA" in text_of(await bot.say("gmn cara daftar akun eska", user_id=1003))


async def test_a_check_left_for_a_day_stops_claiming_text_but_resumes(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:veneer")
    with bot.services.db.session() as s:
        row = s.get(PrecheckSession, 1001)
        assert row is not None
        row.updated_at = row.updated_at - timedelta(hours=25)
    # a day later the exporter asks a question: the FAQ answers, not the HS-code question
    assert "e-SKA" in text_of(await bot.say("gmn cara daftar akun eska"))
    sent = await bot.say("/cek")
    assert "pertanyaan 2 dari 15" in text_of(sent)
    assert "Negara tujuan" in text_of(await bot.say("4408.39"))


async def test_summary_hands_the_answers_to_an_officer(bot: BotHarness) -> None:
    from tests.conftest import OFFICERS_CHAT

    await answer_all(bot)
    assert ("🙋 Tanya petugas", "o:cek") in buttons_of([bot.api.last(1001)])
    sent = await bot.press("o:cek")
    assert "tiket #" in text_of(sent)
    card = bot.api.last(OFFICERS_CHAT).params["text"]
    assert "Kode HS: 4412.31" in card and "PT. Kayu Jaya Abadi" in card


async def test_retroactive_mark_is_checked_against_the_day_of_issuance(bot: BotHarness) -> None:
    await answer_all(bot)
    # B/L Thursday 27-03-2025; applying Tuesday 01-04 is working day 3, and with up to
    # 1 working day of processing the SKA can be issued on Wednesday, working day 4
    await bot.press("pc:e:application_date")
    summary = text_of(await bot.say("01-04-2025"))
    assert "Pengajuan 3 hari kerja setelah pengapalan" in summary
    assert "terbit 4 hari kerja setelah pengapalan (02-04-2025)" in summary
    assert "ISSUED RETROACTIVELY" in summary and "paling lambat 31-03-2025" in summary
    # applying on working day 2: issued by working day 3, no mark needed
    await bot.press("pc:e:application_date")
    summary = text_of(await bot.say("31-03-2025"))
    assert "Hasil cek" in summary and "ISSUED RETROACTIVELY" not in summary


async def test_a_country_outside_the_forms_table_is_accepted_and_flagged(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    sent = await bot.say("4412.31")
    # a way out for a destination that has no button of its own
    assert ("Negara lain", "pc:a:destination:other") in buttons_of(sent)
    sent = await bot.say("narnia")
    assert "tidak saya kenali" in text_of(sent) and "Negara lain" in text_of(sent)
    sent = await bot.say("hongkong")
    assert "Form SKA apa" in text_of(sent)  # accepted: the next question
    await bot.press("pc:a:form:Form B")
    for value in TYPED.values():
        await bot.say(value)
    await bot.press("pc:a:currency:USD")
    await bot.say("240.795,83")
    await bot.say("27-03-2025")
    summary = text_of(await bot.say("03-04-2025"))
    assert "Negara tujuan: Hong Kong" in summary
    assert "Negara <b>Hong Kong</b> tidak ada di tabel form saya" in summary
    assert "hongkong" not in summary
    # dates read day first, as everywhere else the bot shows one
    assert "27-03-2025" in summary and "2025-03-27" not in summary


async def test_other_country_button_asks_for_the_name_and_keeps_it(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    await bot.say("4412.31")
    sent = await bot.press("pc:a:destination:other")
    assert "Negara mana? Ketik namanya" in text_of(sent)
    sent = await bot.say("Republik Seychelles")
    assert "Form SKA apa" in text_of(sent)
    await bot.press("pc:a:form:Form B")
    for value in TYPED.values():
        await bot.say(value)
    await bot.press("pc:a:currency:USD")
    await bot.say("240.795,83")
    await bot.say("27-03-2025")
    summary = text_of(await bot.say("03-04-2025"))
    # the officer a 🙋 reaches can see where it goes
    assert "Negara tujuan: Republik Seychelles" in summary
    assert "Negara <b>Republik Seychelles</b> tidak ada di tabel form saya" in summary


async def test_an_album_during_the_check_gets_one_answer(bot: BotHarness) -> None:
    await bot.say("/cek")
    photos = [bot.api.photo(1001) for _ in range(4)]
    replies = []
    for update in photos:
        update["message"]["media_group_id"] = "album-cek"
        replies += [c for c in await bot.feed(update) if c.method == "sendMessage"]
    assert len(replies) == 1


async def to_destination(bot: BotHarness) -> list[Call]:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    return await bot.say("4412.31")


async def test_other_country_ends_with_its_step(unthrottled: BotHarness) -> None:
    """«Negara lain» lets the next text name any country, for that step only: a
    misspelt country after a cancelled, resumed, idle or moved-on check is refused."""
    bot = unthrottled
    refused = "Negara itu tidak saya kenali"
    # cancelled, then a new check
    await to_destination(bot)
    await bot.press("pc:a:destination:other")
    await bot.say("/batal")
    await to_destination(bot)
    sent = await bot.say("kucing")
    assert refused in text_of(sent) and "(3/15)" in text_of(sent)
    # resumed with /cek: the step asks its own question again
    await bot.press("pc:a:destination:other")
    assert "Negara mana?" not in text_of(await bot.say("/cek"))
    assert refused in text_of(await bot.say("kucing"))
    # left for a day, then resumed
    await bot.press("pc:a:destination:other")
    with bot.services.db.session() as s:
        row = s.get(PrecheckSession, 1001)
        assert row is not None
        row.updated_at = row.updated_at - timedelta(hours=25)
    await bot.say("/cek")
    assert refused in text_of(await bot.say("kucing"))
    # another step answered, then the destination changed from the summary
    await bot.press("pc:a:destination:other")
    await bot.press("pc:a:destination:JP")
    for value in ("Form B", *TYPED.values(), "USD", "240.795,83", "27-03-2025", "03-04-2025"):
        await bot.say(value)
    await bot.press("pc:e:destination")
    assert refused in text_of(await bot.say("kucing"))


async def test_other_country_waits_past_a_bad_name_and_a_restart(bot: BotHarness) -> None:
    await to_destination(bot)
    sent = await bot.press("pc:a:destination:other")
    assert "Negara mana? Ketik namanya" in text_of(sent)
    sent = await bot.say("123")  # no name: asked again, still for a country's name
    assert "Negara mana?" in text_of(sent)
    # the follow-up is kept with the check, not in the process
    app, api = await start_harness(bot.services.settings, bot.services)
    try:
        sent = await BotHarness(app, api, bot.services).say("Republik Seychelles")
        assert "Form SKA apa" in text_of(sent)
    finally:
        await app.shutdown()
    with bot.services.db.session() as s:
        row = s.get(PrecheckSession, 1001)
        assert row is not None and row.step == "form"


def log_rows(bot: BotHarness) -> list[QueryLog]:
    with bot.services.db.session() as s:
        rows = list(s.scalars(select(QueryLog)))
        s.expunge_all()
        return rows


async def test_a_question_at_a_step_gets_the_faq_answer_then_the_step_again(bot: BotHarness) -> None:
    await bot.say("/cek")
    await bot.press("pc:a:commodity:plywood")
    sent = await bot.say("eh bentar, brp lama ska terbit ya?")
    answer, prompt = (c.params["text"] for c in sent if c.method == "sendMessage")
    assert "1 hari kerja" in answer and "bukan kode HS" not in text_of(sent)
    assert any(data.startswith("f:") for _, data in buttons_of(sent[:1]))  # 👍/👎 as for any answer
    assert prompt.startswith("(2/15) Berapa kode HS")
    # logged as the question it is, for the 👍/👎 and the gap report
    assert [(r.text, r.matched_id, r.outcome) for r in log_rows(bot)] == [
        ("eh bentar, brp lama ska terbit ya?", "processing-time", "answer")
    ]
    # the check waited where it was
    assert "Negara tujuan" in text_of(await bot.say("4412.31"))
    # after «Negara lain» too: the answer, then "which country?" again
    await bot.press("pc:a:destination:other")
    sent = await bot.say("berapa biaya ska?")
    assert "Rp" in text_of(sent[:1]) and "Negara mana?" in text_of(sent[1:])
    assert "Form SKA apa" in text_of(await bot.say("Republik Seychelles"))


async def test_what_does_not_ask_keeps_the_steps_refusal(bot: BotHarness) -> None:
    await to_destination(bot)
    # a question mark alone does not make a question
    sent = await bot.say("kucing?")
    assert "tidak saya kenali" in text_of(sent) and len(sent) == 1
    await bot.press("pc:a:destination:JP")
    await bot.press("pc:a:form:Form B")
    for value in (*TYPED.values(), "USD", "240.795,83"):
        await bot.say(value)
    # a mistyped date the matcher alone would answer (the export figures of 2025)
    sent = await bot.say("30-02-2025")
    assert "tidak bisa saya baca sebagai tanggal" in text_of(sent) and len(sent) == 1
    assert log_rows(bot) == []


async def test_asking_for_an_officer_at_a_step_says_how(bot: BotHarness) -> None:
    await bot.say("/cek")
    sent = await bot.say("bisa bicara dengan petugas?")
    assert "ketik /petugas lalu pertanyaan Anda" in text_of(sent)
    assert "diteruskan" not in text_of(sent)  # nothing was forwarded
    assert "(1/15)" in text_of(sent[-1:])
    assert bot.api.sent(OFFICERS_CHAT) == []


async def test_an_english_question_at_a_step_is_answered_in_english(bot: BotHarness) -> None:
    en = {"user_id": 1002, "language_code": "en"}
    await bot.say("/check", **en)
    await bot.press("pc:a:commodity:plywood", **en)
    sent = await bot.say("how long does issuance take?", **en)
    assert "working day" in text_of(sent[:1])
    assert text_of(sent[-1:]).startswith("(2/15) What is the HS code")


async def test_amounts_of_zero_or_less_are_asked_again(unthrottled: BotHarness) -> None:
    bot = unthrottled
    await bot.say("/cek")
    for value in ("plywood", "4412.31", "JP", "Form IJEPA", "PT A", "PT A", "B Ltd", "B Ltd"):
        await bot.say(value)
    for bad, good, question in (
        ("-100 pcs", "100 pcs", "Jumlah barang"),
        ("−5 kg", "5 kg", "Berat kotor"),  # the minus sign a keyboard may type
        ("0 kg", "4 kg", "Berat bersih"),
    ):
        sent = await bot.say(bad)
        assert f"<b>{bad}</b>: angkanya harus lebih dari nol" in text_of(sent), bad
        assert question in text_of(sent)
        await bot.say(good)
    await bot.press("pc:a:currency:USD")
    for bad in ("0", "USD -100", "0,00"):
        sent = await bot.say(bad)
        assert "harus lebih dari nol" in text_of(sent) and "Nilai invoice" in text_of(sent), bad
    await bot.say("1000")
    await bot.say("27-03-2025")
    summary = text_of(await bot.say("03-04-2025"))
    assert "Jumlah: 100 pcs" in summary and "Berat kotor: 5 kg" in summary
    assert "USD 1,000.00" in summary and "USD 0.00" not in summary


async def test_english_messages_name_the_english_commands(bot: BotHarness) -> None:
    en = {"user_id": 1002, "language_code": "en"}
    await bot.say("/check", **en)
    sent = await bot.say("/officer", **en)
    assert "/cancel" in text_of(sent) and "/check" in text_of(sent)
    assert not {"/batal", "/cek", "/petugas"} & set(text_of(sent).replace("(", " ").replace(")", " ").split())
    sent = await bot.say("/officer is my HS code right?", **en)
    assert "Resume the check any time with /check." in text_of(sent)

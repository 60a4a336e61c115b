"""Linking, /status, officers' status changes and the pushes they cause."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select, update

from bot.i18n import t
from bot.models import Company, LinkCode, OutboxMessage, QueryLog, SkaApplication, StatusEvent, User
from bot.services.linking import hash_code
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of, text_of

CSV = """ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,submitted_at,volume_tonnes,value_usd
SKA-001,1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-20,"1.200,50","250.000,00"
SKA-002,1111111111111,PT Kayu Lapis Satu,Veneer,4408.39,India,Form AI,returned,Berat bersih beda dengan packing list,2026-11-22,"80,00","9.000,00"
SKA-900,2222222222222,CV Lain Sekali,Moulding,4409.29,Polandia,Form B,in_review,,2026-11-23,"10,00","7.000,00"
"""


def seed(bot: BotHarness) -> None:
    report = bot.services.importer.import_text(CSV)
    assert report.errors == [] and report.created == 3


def code_from(calls) -> str:  # type: ignore[no-untyped-def]
    return re.search(r"<code>([A-Z0-9]{8,})</code>", text_of(calls)).group(1)


async def invite(bot: BotHarness, nib: str = "1111111111111") -> str:
    sent = await bot.say(f"/invite {nib}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "PT Kayu Lapis Satu" in text_of(sent) or "CV Lain Sekali" in text_of(sent)
    assert f"https://t.me/{bot.api.bot_user['username']}?start=" in text_of(sent)
    return code_from(sent)


async def test_invite_link_and_status_newest_first(bot: BotHarness) -> None:
    seed(bot)
    code = await invite(bot)
    assert "belum terhubung" in text_of(await bot.say("/status"))
    sent = await bot.say(f"/link {code}")
    assert "PT Kayu Lapis Satu" in text_of(sent)
    body = text_of(await bot.say("/status"))
    assert body.index("SKA-002") < body.index("SKA-001")  # newest first
    assert "Dikembalikan untuk perbaikan" in body and "Berat bersih beda" in body
    assert "Perbaiki data/dokumen" in body and "WIB" in body
    assert "SKA-900" not in body  # another company's
    # codes are stored only as hashes and are single use
    with bot.services.db.session() as s:
        row = s.scalars(select(LinkCode)).one()
        assert row.code_hash == hash_code(code) and code not in row.code_hash
    assert "sudah dipakai" in text_of(await bot.say(f"/link {code}", user_id=1002))


async def test_deep_link_start_links_the_account(bot: BotHarness) -> None:
    seed(bot)
    code = await invite(bot)
    sent = await bot.say(f"/start {code}", language_code="en")
    assert "linked to <b>PT Kayu Lapis Satu</b>" in text_of(sent)
    # opening the same invitation again: already linked, not a failed attempt
    sent = await bot.say(f"/start {code}", language_code="en")
    assert "already linked to <b>PT Kayu Lapis Satu</b>" in text_of(sent)
    # someone else with the same (forwarded) link: the code is spent
    assert "sudah dipakai" in text_of(await bot.say(f"/start {code}", user_id=1002))
    sent = await bot.say("/unlink", language_code="en")
    assert "no longer linked" in text_of(sent)
    # after unlinking, the spent code links nothing again
    assert "has been used" in text_of(await bot.say(f"/start {code}", language_code="en"))


def company_of(bot: BotHarness, user_id: int) -> str | None:
    with bot.services.db.session() as s:
        return s.scalar(
            select(Company.name).join(User, User.company_id == Company.id).where(User.id == user_id)
        )


async def test_a_code_of_another_company_asks_then_says_the_account_moved(bot: BotHarness) -> None:
    seed(bot)
    await bot.say(f"/link {await invite(bot)}")
    sent = await bot.say(f"/link {await invite(bot, '2222222222222')}")
    body = text_of(sent)
    assert "terhubung ke <b>PT Kayu Lapis Satu</b>" in body and "ke <b>CV Lain Sekali</b>" in body
    assert "kode baru dari petugas" in body and "Pindahkan akun ke CV Lain Sekali?" in body
    (yes_label, move), (no_label, keep) = buttons_of(sent)
    assert (yes_label, no_label) == ("✅ Ya, pindahkan", "Jangan pindahkan")
    # the button carries the code's row id only, far within Telegram's 64 bytes
    assert re.fullmatch(r"lk:[0-9]+:y", move) and keep == move[:-1] + "n"
    prompt = int(sent[-1].result["message_id"])
    # asked, not moved: the first company's applications are still the ones shown
    assert "SKA-001" in text_of(await bot.say("/status"))
    # the same data pressed by another account (forged) is refused and links nothing
    assert await bot.press(move, user_id=1002) == []
    assert bot.answers_to_callbacks()[-1].params["text"] == t("button_invalid", "id")
    assert company_of(bot, 1002) is None
    sent = await bot.press(move, message_id=prompt)
    assert [c.method for c in sent] == ["editMessageText"] and sent[0].params["message_id"] == prompt
    moved = text_of(sent)
    assert "dipindahkan dari <b>PT Kayu Lapis Satu</b> ke <b>CV Lain Sekali</b>" in moved
    assert "Untuk kembali ke PT Kayu Lapis Satu, minta kode baru ke petugas" in moved
    assert not buttons_of(sent)
    body = text_of(await bot.say("/status"))
    assert "SKA-900" in body and "SKA-001" not in body
    # the record of links says where the account came from
    with bot.services.db.session() as s:
        row = s.scalars(select(LinkCode).where(LinkCode.offered_to == 1001)).one()
        left = s.scalar(select(Company.name).where(Company.id == row.replaced_company_id))
        assert (row.used_by, left) == (1001, "PT Kayu Lapis Satu")
    # pressed again (its answer lost on a weak connection): no refusal, nothing else moves
    await bot.press(move, message_id=prompt)
    assert "text" not in bot.answers_to_callbacks()[-1].params
    assert company_of(bot, 1001) == "CV Lain Sekali"


async def test_declining_the_move_keeps_the_company_and_the_code(bot: BotHarness) -> None:
    seed(bot)
    en = {"user_id": 1003, "language_code": "en"}
    await bot.say(f"/link {await invite(bot)}", **en)
    code = await invite(bot, "2222222222222")
    # the deep link asks the same question: a tapped link moves nothing by itself
    sent = await bot.say(f"/start {code}", **en)
    body = text_of(sent)
    assert "Your account is linked to <b>PT Kayu Lapis Satu</b>" in body
    assert "Move your account to CV Lain Sekali?" in body
    prompt = int(sent[-1].result["message_id"])
    (_, move), (_, keep) = buttons_of(sent)
    sent = await bot.press(keep, message_id=prompt, user_id=1003)
    assert "Nothing changed: your account stays linked to <b>PT Kayu Lapis Satu</b>" in text_of(sent)
    # the question's move button is spent with it
    await bot.press(move, message_id=prompt, user_id=1003)
    assert bot.answers_to_callbacks()[-1].params["text"] == t("button_invalid", "en")
    assert company_of(bot, 1003) == "PT Kayu Lapis Satu"
    # the code was not used: the person the office meant it for links with it
    assert "CV Lain Sekali" in text_of(await bot.say(f"/link {code}", user_id=1004))


async def test_link_codes_in_near_miss_forms(bot: BotHarness) -> None:
    seed(bot)
    forms = [
        "/link {a} {b}",  # typed in groups of five, or copied so from WhatsApp
        "/link {a_} {b_}",
        "/link {a_}{b_}",
        "/link {a}{b}.",
        "/link {a}{b}-",
        "/link {a}-{b}",
        "/link {a}\u2014{b}",
        "/start {a_}-{b}",  # the deep link's payload, by hand
        "/start {a}{b_}.",
    ]
    for user, form in enumerate(forms, start=1100):
        code = await invite(bot)
        typed = form.format(a=code[:5], b=code[5:], a_=code[:5].lower(), b_=code[5:].lower())
        sent = await bot.say(typed, user_id=user)
        assert "terhubung ke <b>PT Kayu Lapis Satu</b>" in text_of(sent), typed
    assert text_of(await bot.say("/link - .")).startswith("Kirim kode dari petugas")
    # a wrong code in any of these forms is a failed attempt as before
    for _ in range(4):
        assert "tidak dikenal" in text_of(await bot.say("/link 22222 33333", user_id=1200))
    assert "Terlalu banyak" in text_of(await bot.say("/link 22222-33333.", user_id=1200))


async def _bare_code(bot: BotHarness) -> None:
    seed(bot)
    code = await invite(bot)
    sent = await bot.say(f"{code[:5]} {code[5:]}")  # pasted without /link
    assert text_of(sent) == t("link_code_alone", "id", code=code) and f"<code>/link {code}</code>" in text_of(
        sent
    )
    assert not buttons_of(sent)
    with bot.services.db.session() as s:
        # neither used nor kept in clear in the question log
        assert s.scalar(select(LinkCode.used_at)) is None
        assert s.scalar(select(func.count()).select_from(QueryLog)) == 0
    # a word in capitals is still a question for the FAQ
    assert "kode tautan" not in text_of(await bot.say("PEMBAYARAN"))


async def test_a_bare_code_is_told_to_send_link(bot: BotHarness) -> None:
    await _bare_code(bot)


async def test_expired_code_is_refused(bot: BotHarness) -> None:
    seed(bot)
    code = await invite(bot)
    with bot.services.db.session() as s:
        s.execute(update(LinkCode).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    assert "kedaluwarsa" in text_of(await bot.say(f"/link {code}"))
    with bot.services.db.session() as s:
        assert s.get(User, 1001).company_id is None


async def test_five_wrong_codes_lock_out_even_a_valid_one(bot: BotHarness) -> None:
    seed(bot)
    code = await invite(bot)
    for _ in range(4):
        assert "tidak dikenal" in text_of(await bot.say("/link WRONGCODE1"))
    assert "Terlalu banyak" in text_of(await bot.say("/link WRONGCODE1"))
    assert "Terlalu banyak" in text_of(await bot.say(f"/link {code}"))
    with bot.services.db.session() as s:
        assert s.get(User, 1001).company_id is None
    # another account is not affected
    assert "PT Kayu Lapis Satu" in text_of(await bot.say(f"/link {code}", user_id=1003))


async def test_other_companies_applications_stay_invisible(bot: BotHarness) -> None:
    seed(bot)
    await bot.say(f"/link {await invite(bot)}")
    theirs = text_of(await bot.say("/status SKA-900"))
    nobody = text_of(await bot.say("/status SKA-999"))
    assert theirs.replace("SKA-900", "X") == nobody.replace("SKA-999", "X")
    assert "Moulding" not in theirs
    mine = text_of(await bot.say("/status SKA-002"))
    assert "Riwayat" in mine and "Dikembalikan" in mine


async def test_status_change_reaches_every_linked_exporter_in_their_language(bot: BotHarness) -> None:
    seed(bot)
    await bot.say(f"/link {await invite(bot)}", user_id=1001)
    await bot.say(f"/link {await invite(bot)}", user_id=1002, language_code="en")
    sent = await bot.say("/setstatus SKA-001 approved siap cetak", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert "2 eksportir" in text_of(sent)
    await bot.sender.drain(bot.app.bot, budget_seconds=5)
    indo = "\n".join(bot.api.texts(1001))
    eng = "\n".join(bot.api.texts(1002))
    assert "Status pengajuan SKA-001 berubah" in indo and "Disetujui" in indo
    assert "e-Blangko" in indo and "siap cetak" in indo
    assert "Application SKA-001 has a new status" in eng and "Approved" in eng
    with bot.services.db.session() as s:
        event = s.scalars(select(StatusEvent).where(StatusEvent.to_status == "approved")).one()
        assert (event.from_status, event.actor) == ("submitted", f"officer:{OFFICER_ID}")


async def test_illegal_transition_is_refused_with_the_reason(bot: BotHarness) -> None:
    seed(bot)
    body = text_of(await bot.say("/setstatus SKA-001 issued", user_id=OFFICER_ID))
    assert "tidak diizinkan" in body and "Disetujui" in body and "approved" not in body
    body = text_of(await bot.say("/setstatus SKA-001 terbang", user_id=OFFICER_ID))
    assert "tidak dikenal" in body
    with bot.services.db.session() as s:
        assert s.scalar(select(SkaApplication.status).where(SkaApplication.ref == "SKA-001")) == "submitted"
        assert s.scalars(select(OutboxMessage)).all() == []


async def test_non_officers_are_refused_and_nothing_changes(bot: BotHarness) -> None:
    seed(bot)
    for command in (
        "/setstatus SKA-001 approved",
        "/invite 1111111111111",
        "/app SKA-001",
        "/apps",
        "/unreachable",
    ):
        sent = await bot.say(command, user_id=1001)
        assert "hanya untuk petugas" in text_of(sent), command
        sent = await bot.say(command, user_id=1001, chat_id=OFFICERS_CHAT)
        assert "hanya untuk petugas" in text_of(sent), command
    with bot.services.db.session() as s:
        assert s.scalar(select(SkaApplication.status).where(SkaApplication.ref == "SKA-001")) == "submitted"
        assert s.scalars(select(LinkCode)).all() == []


async def test_officer_views(bot: BotHarness) -> None:
    seed(bot)
    body = text_of(await bot.say("/app SKA-900", user_id=OFFICER_ID))
    assert "CV Lain Sekali" in body and "2222222222222" in body and "Riwayat" in body
    body = text_of(await bot.say("/apps returned", user_id=OFFICER_ID))
    assert "SKA-002" in body and "SKA-001" not in body
    body = text_of(await bot.say("/apps", user_id=OFFICER_ID))
    assert all(ref in body for ref in ("SKA-001", "SKA-002", "SKA-900"))
    assert "Format" in text_of(await bot.say("/apps nonsense", user_id=OFFICER_ID))
    assert "Format" in text_of(await bot.say("/setstatus", user_id=OFFICER_ID))


async def test_a_destination_imported_as_us_reads_in_each_readers_language(bot: BotHarness) -> None:
    report = bot.services.importer.import_text(CSV.replace(",India,Form AI,", ",US,Form B,"))
    assert report.errors == [] and report.created == 3
    body = text_of(await bot.say("/apps", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "Veneer · Amerika Serikat · Dikembalikan" in body and "United States" not in body
    body = text_of(await bot.say("/app SKA-002", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "Veneer · Amerika Serikat · Form B" in body and "United States" not in body
    await bot.say(f"/link {await invite(bot)}", user_id=1001)
    await bot.say(f"/link {await invite(bot)}", user_id=1002, language_code="en")
    body = text_of(await bot.say("/status SKA-002", user_id=1001))
    assert "Amerika Serikat" in body and "United States" not in body
    # the status push, rendered for each exporter in their language
    await bot.say("/setstatus SKA-002 in_review", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    await bot.sender.drain(bot.app.bot, budget_seconds=5)
    indo, eng = bot.api.texts(1001)[-1], bot.api.texts(1002)[-1]
    assert "Status pengajuan SKA-002 berubah" in indo and "Veneer · Amerika Serikat · Form B" in indo
    assert "Application SKA-002 has a new status" in eng and "Veneer · the United States · Form B" in eng
    # an application an earlier import stored with the English in-sentence name
    with bot.services.db.session() as s:
        s.execute(
            update(SkaApplication)
            .where(SkaApplication.ref == "SKA-002")
            .values(destination="the United States")
        )
    body = text_of(await bot.say("/app SKA-002", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "Veneer · Amerika Serikat · Form B" in body and "United States" not in body


async def test_blocked_exporter_is_marked_and_listed(bot: BotHarness) -> None:
    seed(bot)
    await bot.say(f"/link {await invite(bot)}", first_name="Dewi")
    bot.api.blocked.add(1001)
    await bot.say("/setstatus SKA-001 in_review", user_id=OFFICER_ID)
    result = await bot.sender.drain(bot.app.bot, budget_seconds=3)
    assert result.unreachable == 1
    with bot.services.db.session() as s:
        assert s.get(User, 1001).blocked_at is not None
        assert s.scalars(select(OutboxMessage.status)).all() == ["unreachable"]
    body = text_of(await bot.say("/unreachable", user_id=OFFICER_ID))
    assert "Dewi" in body and "PT Kayu Lapis Satu" in body


async def test_status_on_a_phone_open_first_issued_summarised(bot: BotHarness) -> None:
    header = CSV.splitlines()[0]
    rows = [
        f"SKA-1{n:02d},1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,KR,Form AK,issued,,"
        f'2026-10-{n + 1:02d},"10,00","1.000,00"'
        for n in range(12)
    ]
    report = bot.services.importer.import_text(
        header + "\n" + "\n".join(rows) + "\n" + "\n".join(CSV.splitlines()[1:3]) + "\n"
    )
    assert report.errors == []
    await bot.say(f"/link {await invite(bot)}")
    sent = await bot.say("/status")
    texts = [str(c.params["text"]) for c in sent]
    # the open ones come first, as cards; the issued ones are one line with a button
    assert "SKA-002" in texts[0] and "SKA-001" in texts[0] and "SKA-100" not in texts[0]
    assert texts[0].index("SKA-002") < texts[0].index("SKA-001")  # returned: act first
    assert "Terbit: 12 pengajuan" in texts[-1]
    assert all(len(text) < 1200 for text in texts)
    assert ("📄 Lihat 12 Terbit", "st:i:0") in buttons_of(sent)
    page = await bot.press("st:i:0")
    body = text_of(page)
    assert body.count("• <b>SKA-1") == 10 and "Korea Selatan" in body and "1-10 dari 12" in body
    assert ("Berikutnya ▶", "st:i:10") in buttons_of(page)
    body = text_of(await bot.press("st:i:10"))
    assert body.count("• <b>SKA-1") == 2
    # another company's exporter sees only their own
    assert "belum terhubung" in text_of(
        await bot.press("st:i:0", user_id=4444)
    ) or bot.answers_to_callbacks()[-1].params.get("show_alert")


async def test_many_open_applications_come_a_page_at_a_time(bot: BotHarness) -> None:
    header = CSV.splitlines()[0]
    rows = [
        f"SKA-2{n:02d},1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,KR,Form AK,in_review,,"
        f'2026-10-{n + 1:02d},"10,00","1.000,00"'
        for n in range(14)
    ]
    returned = "SKA-299,1111111111111,PT Kayu Lapis Satu,Veneer,4408.39,India,Form AI,returned,Foto buram,2026-09-01,1,1"
    report = bot.services.importer.import_text(header + "\n" + "\n".join(rows) + "\n" + returned + "\n")
    assert report.errors == []
    await bot.say(f"/link {await invite(bot)}")
    sent = await bot.say("/status")
    texts = [str(c.params["text"]) for c in sent]
    # a page of six cards in two messages, not fifteen cards in a burst
    assert len(texts) == 2 and "1-6 dari 15" in texts[0]
    assert "SKA-299" in texts[0]  # the returned one, oldest as it is, leads: it waits on the exporter
    assert ("Berikutnya ▶", "st:o:6") in buttons_of(sent)
    shown = set(re.findall(r"SKA-2\d\d", text_of(sent)))
    page = await bot.press("st:o:6")
    assert "7-12 dari 15" in text_of(page) and ("Berikutnya ▶", "st:o:12") in buttons_of(page)
    shown |= set(re.findall(r"SKA-2\d\d", text_of(page)))
    page = await bot.press("st:o:12")
    assert "13-15 dari 15" in text_of(page) and buttons_of(page) == []
    shown |= set(re.findall(r"SKA-2\d\d", text_of(page)))
    assert len(shown) == 15  # every open one once, none lost between pages

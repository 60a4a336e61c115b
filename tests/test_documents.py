"""Checklists, /docs and /doc, uploads with their validation and the accept/reject loop."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.models import ChecklistItem, DocumentUpload, OutboxMessage, SkaApplication
from bot.services import Services
from bot.services.documents import DocumentCatalog
from tests import samples
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, ROOT, BotHarness, buttons_of, text_of
from tests.test_status import invite

HEADER = (
    "ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,"
    "submitted_at,volume_tonnes,value_usd,missing_documents\n"
)
CSV = HEADER + (
    "SKA-001,1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-20,"
    '"1.200,50","250.000,00",invoice;packing-list\n'
    "SKA-002,1111111111111,PT Kayu Lapis Satu,Furniture,9403.60,US,Form B,in_review,,"
    '2026-11-21,"5,00","9.000,00",\n'
    "SKA-900,2222222222222,CV Lain Sekali,Moulding,4409.29,PL,Form B,submitted,,2026-11-23,"
    '"10,00","7.000,00",peb\n'
)


def seed(services: Services) -> None:
    report = services.importer.import_text(CSV)
    assert report.errors == [] and report.created == 3


def checklist(services: Services, ref: str) -> dict[str, str]:
    view = services.documents.checklist(ref)
    assert view is not None
    return {i.doc_id: i.status for i in view.items}


async def linked(bot: BotHarness, user_id: int = 1001, **kw: object) -> None:
    seed(bot.services)
    sent = await bot.say(f"/link {await invite(bot)}", user_id=user_id, **kw)
    assert "PT Kayu Lapis Satu" in text_of(sent)


def uploads(bot: BotHarness) -> int:
    with bot.services.db.session() as s:
        return s.scalar(select(func.count()).select_from(DocumentUpload)) or 0


def test_catalog_per_commodity_and_unknown_ids() -> None:
    catalog = DocumentCatalog.load(ROOT / "knowledge")
    base = ["peb", "invoice", "packing-list", "bill-of-lading", "cost-structure"]
    assert catalog.required("4412.31", "IJEPA") == [*base, "v-legal"]
    assert catalog.required("9403.60", "Form B") == base
    assert catalog.specs["v-legal"].confirm and "konfirmasi" in catalog.specs["v-legal"].hint["id"]
    assert catalog.parse_ids(" Invoice ; peb;invoice") == ["invoice", "peb"]
    with pytest.raises(ValueError, match="unknown document id"):
        catalog.parse_ids("invoice;passport")


def test_import_creates_checklists_missing_listed_rest_accepted(services: Services) -> None:
    seed(services)
    assert checklist(services, "SKA-001") == {
        "peb": "accepted",
        "invoice": "missing",
        "packing-list": "missing",
        "bill-of-lading": "accepted",
        "cost-structure": "accepted",
        "v-legal": "accepted",
    }
    assert set(checklist(services, "SKA-002").values()) == {"accepted"}
    assert "v-legal" not in checklist(services, "SKA-002")
    # re-import keeps what officers decided since; an unknown id rejects the row
    services.documents.set_item("SKA-001", "invoice", "accepted", "", OFFICER_ID)
    services.importer.import_text(CSV)
    assert checklist(services, "SKA-001")["invoice"] == "accepted"
    bad = services.importer.import_text(
        HEADER + "SKA-777,3,PT Tiga,Veneer,4408,IN,AI,submitted,,2026-11-25,1,1,passport\n"
    )
    assert bad.created == 0 and "unknown document id" in bad.errors[0][1]
    with services.db.session() as s:
        assert s.scalar(select(SkaApplication).where(SkaApplication.ref == "SKA-777")) is None


async def test_officer_docs_and_doc_notify_and_status_shows_outstanding(bot: BotHarness) -> None:
    await linked(bot)
    body = text_of(await bot.say("/docs SKA-001", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "PT Kayu Lapis Satu" in body and "invoice" in body and "Belum ada" in body
    sent = await bot.say("/doc SKA-001 packing-list rejected berat <bersih> beda", user_id=OFFICER_ID)
    assert "Eksportir diberi tahu: 1" in text_of(sent)
    assert checklist(bot.services, "SKA-001")["packing-list"] == "rejected"
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    notice = bot.api.texts(1001)[-1]
    assert "Packing list" in notice and "ditolak" in notice and "&lt;bersih&gt;" in notice
    body = text_of(await bot.say("/status"))
    assert "Dokumen yang masih kurang" in body and "Commercial invoice - Belum ada" in body
    assert "Packing list - Ditolak: berat &lt;bersih&gt; beda" in body
    assert "/upload SKA-001" in body
    # usage and unknown names are answered, nothing changes
    assert "Format" in text_of(await bot.say("/doc SKA-001 invoice", user_id=OFFICER_ID))
    assert "tidak dikenal" in text_of(await bot.say("/doc SKA-001 paspor accepted", user_id=OFFICER_ID))
    assert "tidak ditemukan" in text_of(await bot.say("/docs SKA-404", user_id=OFFICER_ID))
    for command in ("/docs SKA-001", "/doc SKA-001 invoice accepted"):
        assert "hanya untuk petugas" in text_of(await bot.say(command, user_id=1001))
    assert checklist(bot.services, "SKA-001")["invoice"] == "missing"


async def test_upload_choose_and_officer_reject_then_accept(bot: BotHarness) -> None:
    await linked(bot)
    body = text_of(await bot.say("/upload SKA-001"))
    assert "SKA-001" in body and "Commercial invoice" in body
    sent = await bot.feed(bot.api.document(1001, "inv.pdf", "application/pdf", 300_000, content=samples.PDF))
    assert "Dokumen apa ini?" in text_of(sent)
    choices = [data for _, data in buttons_of(sent)]
    upload_id = int(choices[0].split(":")[1])
    assert choices[0] == f"dk:{upload_id}:invoice"  # what is missing comes first
    assert all(len(d.encode()) <= 64 for d in choices)
    sent = await bot.press(f"dk:{upload_id}:invoice")
    assert "diteruskan ke petugas" in text_of(sent)
    assert checklist(bot.services, "SKA-001")["invoice"] == "received"
    card = bot.api.last(OFFICERS_CHAT, "sendDocument")
    assert "Commercial invoice" in card.params["caption"] and "inv.pdf" in card.params["caption"]
    assert bot.api.buttons(card) == [("✅ Terima", f"dv:{upload_id}:a"), ("❌ Tolak", f"dv:{upload_id}:r")]
    card_id = card.result["message_id"]
    # the exporter cannot decide, even with forged data in the officers' group
    refused = await bot.press(f"dv:{upload_id}:a", user_id=1001, chat_id=OFFICERS_CHAT, message_id=card_id)
    assert checklist(bot.services, "SKA-001")["invoice"] == "received" and refused == []
    await bot.press(f"dv:{upload_id}:r", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=card_id)
    reasons = bot.api.buttons(bot.api.last(OFFICERS_CHAT, "editMessageReplyMarkup"))
    assert (f"dv:{upload_id}:r:unreadable") in [d for _, d in reasons]
    await bot.press(
        f"dv:{upload_id}:r:unreadable", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=card_id
    )
    assert checklist(bot.services, "SKA-001")["invoice"] == "rejected"
    assert "Ditolak oleh" in bot.api.last(OFFICERS_CHAT, "editMessageCaption").params["caption"]
    # a second press changes nothing
    await bot.press(f"dv:{upload_id}:a", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=card_id)
    assert checklist(bot.services, "SKA-001")["invoice"] == "rejected"
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    notice = bot.api.last(1001, "sendMessage")
    assert "ditolak: tidak terbaca" in notice.params["text"]
    assert bot.api.buttons(notice)[0][1].startswith("up:")
    # the exporter sends a better copy (a photo this time) through the notice's button
    await bot.press(bot.api.buttons(notice)[0][1], message_id=notice.result["message_id"])
    sent = await bot.feed(bot.api.photo(1001, content=samples.JPEG))
    second = int(buttons_of(sent)[0][1].split(":")[1])
    await bot.press(f"dk:{second}:invoice")
    photo = bot.api.last(OFFICERS_CHAT, "sendPhoto")
    await bot.press(
        f"dv:{second}:a", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=photo.result["message_id"]
    )
    assert checklist(bot.services, "SKA-001")["invoice"] == "accepted"
    await bot.sender.drain(bot.app.bot, budget_seconds=3)
    assert "sudah diperiksa dan sesuai" in bot.api.texts(1001)[-1]


@pytest.mark.parametrize("case", ["type", "size", "unlinked", "other_company", "no_target"])
async def test_bad_uploads_get_a_clear_message_and_nothing_is_stored(bot: BotHarness, case: str) -> None:
    await linked(bot)
    expected = {
        "type": "isinya bukan PDF",
        "size": "maksimal 20 MB",
        "unlinked": "terhubung ke perusahaan",
        "other_company": "tidak ditemukan",
        "no_target": "/upload NOMOR",
    }[case]
    user = 1005 if case == "unlinked" else 1001
    if case in ("type", "size"):
        await bot.say("/upload SKA-001")
    if case == "other_company":
        assert expected in text_of(await bot.say("/upload SKA-900"))
    mime, size = ("application/zip", 1000) if case == "type" else ("application/pdf", 1000)
    if case == "size":
        size = 20 * 1024 * 1024 + 1
    sent = await bot.feed(bot.api.document(user, "x.zip" if case == "type" else "x.pdf", mime, size))
    assert expected in text_of(sent) or case == "other_company"
    assert buttons_of(sent) == [] and uploads(bot) == 0


async def test_forged_choice_buttons_are_refused(bot: BotHarness) -> None:
    await linked(bot)
    await bot.say("/upload SKA-001")
    sent = await bot.feed(bot.api.document(1001, "a.pdf", "application/pdf", 5000, content=samples.PDF))
    upload_id = int(buttons_of(sent)[0][1].split(":")[1])
    for data in (
        f"dk:{upload_id}:passport",
        f"dk:{upload_id + 50}:invoice",
        "dk:x:invoice",
        "up:99999",
        "up:notanumber",
        "dv:1:zz:yy:zz",
    ):
        await bot.press(data)
    await bot.press(f"dk:{upload_id}:invoice", user_id=1009)  # someone else's upload
    refusals = [c.params.get("text") for c in bot.answers_to_callbacks()]
    assert len(refusals) == 7 and all(refusals)
    with bot.services.db.session() as s:
        assert s.scalar(select(DocumentUpload.status)) == "choosing"
        assert (
            s.scalar(
                select(ChecklistItem.status)
                .where(ChecklistItem.doc_id == "invoice")
                .join(SkaApplication)
                .where(SkaApplication.ref == "SKA-001")
            )
            == "missing"
        )
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # cancel keeps nothing for the officers
    await bot.press(f"dk:{upload_id}:-")
    assert bot.api.sent(OFFICERS_CHAT, "sendDocument") == []


async def test_upload_wins_over_an_open_ticket_for_files(bot: BotHarness) -> None:
    await linked(bot)
    await bot.say("/petugas apakah invoice boleh hasil scan berwarna")
    # without an open /upload a file belongs to the ticket's conversation
    sent = await bot.feed(bot.api.photo(1001, caption="contoh scan"))
    assert "Diteruskan ke petugas" in text_of(sent) and uploads(bot) == 0
    await bot.say("/upload SKA-001")
    sent = await bot.feed(
        bot.api.document(1001, "invoice.pdf", "application/pdf", 200_000, content=samples.PDF)
    )
    assert "SKA-001" in text_of(sent) and uploads(bot) == 1


@pytest.mark.parametrize(
    ("name", "declared", "content"),
    [
        ("evil.exe", "application/pdf", samples.EXE),  # the reported attack
        ("invoice.pdf", "application/pdf", samples.EXE),
        ("scan.pdf", "application/pdf", samples.plain_zip()),
        ("scan.pdf", "application/pdf", b"<html><script>alert(1)</script></html>"),
    ],
    # named, not shown: a zip's bytes carry the time it was made, and test ids that differ
    # between the xdist workers' collections stop the whole run
    ids=["exe-named-exe", "exe-named-pdf", "zip-named-pdf", "html-named-pdf"],
)
async def test_an_upload_that_is_not_a_document_by_content_is_refused_and_never_posted(
    bot: BotHarness, name: str, declared: str, content: bytes
) -> None:
    await linked(bot)
    await bot.say("/upload SKA-001")
    sent = await bot.feed(bot.api.document(1001, name, declared, content=content))
    assert "isinya bukan PDF, JPG, PNG, Excel (.xlsx) atau Word (.docx)" in text_of(sent)
    assert buttons_of(sent) == [] and uploads(bot) == 0
    assert bot.api.sent(OFFICERS_CHAT, "sendDocument") == []
    assert checklist(bot.services, "SKA-001")["invoice"] == "missing"


@pytest.mark.parametrize(
    ("name", "declared", "content", "mime", "stored_name"),
    [
        ("evil.exe", "application/x-msdownload", samples.PDF, "application/pdf", "evil.pdf"),
        ("scan.pdf", "application/pdf", samples.PNG, "image/png", "scan.png"),
        (
            "biaya",
            "application/octet-stream",
            samples.xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "biaya.xlsx",
        ),
        (
            "../../packing list.docx",
            "application/msword",
            samples.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "packing list.docx",
        ),
    ],
    ids=["pdf-named-exe", "png-named-pdf", "xlsx-unnamed", "docx-with-path"],
)
async def test_an_uploads_type_and_name_come_from_its_content(
    bot: BotHarness, name: str, declared: str, content: bytes, mime: str, stored_name: str
) -> None:
    await linked(bot)
    await bot.say("/upload SKA-001")
    sent = await bot.feed(bot.api.document(1001, name, declared, content=content))
    assert "Dokumen apa ini?" in text_of(sent)
    upload_id = int(buttons_of(sent)[0][1].split(":")[1])
    await bot.press(f"dk:{upload_id}:invoice")
    with bot.services.db.session() as s:
        upload = s.get(DocumentUpload, upload_id)
        assert (upload.mime_type, upload.file_name, upload.file_size) == (mime, stored_name, len(content))
    card = bot.api.last(OFFICERS_CHAT, "sendDocument")
    caption = card.params["caption"]
    assert f"· {stored_name} ·" in caption and f"· {name} ·" not in caption


async def test_a_strangers_file_is_refused_without_being_fetched(bot: BotHarness) -> None:
    seed(bot.services)
    sent = await bot.feed(bot.api.document(1009, "x.pdf", "application/pdf", content=samples.PDF))
    assert "terhubung ke perusahaan" in text_of(sent)
    assert [c for c in bot.api.calls if c.method == "getFile"] == []


def test_file_types_unit() -> None:
    from bot.services.filetypes import detect, safe_name

    assert detect(samples.PDF).mime_type == "application/pdf"
    assert detect(samples.JPEG).extension == ".jpg" and detect(samples.PNG).extension == ".png"
    assert detect(samples.EXE) is None and detect(samples.plain_zip()) is None
    assert detect(b"") is None and detect(b"\x00" * 4096) is None
    pdf = detect(samples.PDF)
    assert safe_name("evil.exe", pdf) == "evil.pdf"
    assert safe_name("a\u202eexe.pdf", pdf) == "aexe.pdf"  # no bidi override tricks
    assert safe_name("", pdf) == "dokumen.pdf" and safe_name("...", pdf) == "dokumen.pdf"


async def test_a_file_telegram_cannot_hand_over_is_asked_again(bot: BotHarness) -> None:
    await linked(bot)
    await bot.say("/upload SKA-001")
    bot.api.fail_next("getFile", 400, description="Bad Request: file is temporarily unavailable")
    sent = await bot.feed(bot.api.document(1001, "inv.pdf", "application/pdf", content=samples.PDF))
    assert "File belum bisa diambil dari Telegram" in text_of(sent) and uploads(bot) == 0
    # the /upload is still open: sending it again works
    sent = await bot.feed(bot.api.document(1001, "inv.pdf", "application/pdf", content=samples.PDF))
    assert "Dokumen apa ini?" in text_of(sent) and uploads(bot) == 1


async def test_an_album_without_upload_is_refused_once(bot: BotHarness) -> None:
    photos = [bot.api.photo(1001, caption="dokumen" if i == 0 else None) for i in range(5)]
    for update in photos:
        update["message"]["media_group_id"] = "album-1"
    sent = []
    for update in photos:
        sent += [c for c in await bot.feed(update) if c.method == "sendMessage"]
    assert len(sent) == 1  # one answer for the album, not one per photo


@pytest.mark.parametrize(
    ("reason", "refusal"),
    [
        ("// eksportir ini ngeyel", "<code>//</code>"),
        ("salah format\n// eksportir ini ngeyel", "<code>//</code>"),
        ("", "perlu alasan"),
    ],
)
async def test_a_rejection_reason_with_an_internal_line_or_none_changes_nothing(
    bot: BotHarness, reason: str, refusal: str
) -> None:
    await linked(bot)
    sent = await bot.say(
        f"/doc SKA-001 packing-list ditolak {reason}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT
    )
    assert refusal in text_of(sent) and "Tidak ada yang diubah" in text_of(sent)
    assert checklist(bot.services, "SKA-001")["packing-list"] != "rejected"
    await bot.sender.drain(bot.app.bot, budget_seconds=1)
    assert not any("ngeyel" in text or "ditolak" in text for text in bot.api.texts(1001))

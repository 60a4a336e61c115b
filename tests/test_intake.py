"""TicketIntake: which question a ticket opens with, and which files may go with it."""

from __future__ import annotations

import pytest

from bot.services import Services
from bot.services.documents import MAX_BYTES
from bot.services.intake import TicketFile, TicketIntake
from bot.services.tickets import Attachment
from tests import samples

EXPORTER, OTHER = 1001, 1002
UNANSWERABLE = "apakah kontainer saya bisa dititipkan di gudang dinas selama seminggu"


@pytest.fixture
def intake(services: Services) -> TicketIntake:
    for uid in (EXPORTER, OTHER):
        services.users.touch(uid, "Budi")
    return services.intake


def asked_text(intake: TicketIntake, user_id: int = EXPORTER, **kwargs: object) -> str | None:
    handover = intake.question(user_id, **kwargs)  # type: ignore[arg-type]
    return None if handover is None else handover.asked[0]


def test_a_typed_question_wins_and_the_bot_showed_nothing_for_it(intake: TicketIntake) -> None:
    intake.answers.ask(UNANSWERABLE, "id", user_id=EXPORTER)
    handover = intake.question(EXPORTER, "HS plywood meranti berapa?")
    assert handover is not None and handover.asked == ("HS plywood meranti berapa?", "direct", [])


def test_the_question_under_the_button_is_the_users_own_only(intake: TicketIntake) -> None:
    theirs = intake.answers.ask(UNANSWERABLE, "id", user_id=OTHER)
    mine = intake.answers.ask("berapa lama SKA terbit", "id", user_id=EXPORTER)
    assert theirs.query_id is not None and mine.query_id is not None
    assert asked_text(intake, query_id=mine.query_id) == "berapa lama SKA terbit"
    # someone else's id falls back to the presser's own last question, never the other's
    assert asked_text(intake, query_id=theirs.query_id) == "berapa lama SKA terbit"
    assert asked_text(intake, OTHER, query_id=mine.query_id) == UNANSWERABLE


def test_a_bare_request_takes_the_last_question_and_goes_with_it(intake: TicketIntake) -> None:
    intake.answers.ask(UNANSWERABLE, "id", user_id=EXPORTER)
    handover = intake.question(EXPORTER, request="mau bicara dengan petugas")
    assert handover is not None
    assert handover.asked[0] == UNANSWERABLE and handover.also == "mau bicara dengan petugas"


def test_a_request_that_says_more_is_the_question_itself(intake: TicketIntake) -> None:
    request = "mau bicara dengan petugas soal kiriman ulin ke Korea yang tertahan"
    handover = intake.question(EXPORTER, request=request)
    assert handover is not None and handover.asked[0] == request and handover.also is None


def test_with_nothing_to_ask_it_is_the_open_tickets_question_or_none(intake: TicketIntake) -> None:
    assert intake.question(EXPORTER) is None
    assert intake.question(EXPORTER, request="mau bicara dengan petugas") is None
    intake.tickets.open(EXPORTER, "koreksi data SKA", [])
    assert asked_text(intake) == "koreksi data SKA"


def test_a_photo_goes_with_its_caption_unless_too_large() -> None:
    photo = TicketFile(True, 200_000, caption="error di e-SKA")
    assert TicketIntake.attachment(photo, None) == Attachment("photo", caption="error di e-SKA")
    assert not TicketIntake.needs_content(photo)
    assert TicketIntake.attachment(TicketFile(True, MAX_BYTES + 1), None) == "gd_file_too_large"


def test_a_document_is_judged_by_its_bytes() -> None:
    evil = TicketFile(False, 5_000, "invoice.exe", "application/pdf")
    assert TicketIntake.needs_content(evil)
    found = TicketIntake.attachment(evil, samples.PDF)
    assert found == Attachment("document", "PDF", "invoice.pdf", "")
    lying = TicketFile(False, 5_000, "invoice.pdf", "application/pdf")
    assert TicketIntake.attachment(lying, samples.EXE) == "gd_file_refused"


def test_a_document_that_cannot_be_fetched_is_judged_by_what_it_declares() -> None:
    pdf = TicketFile(False, 5_000, "invoice.pdf", "application/pdf", "invoice asli")
    assert TicketIntake.attachment(pdf, None) == Attachment("document", "PDF", "invoice.pdf", "invoice asli")
    disguised = TicketFile(False, 5_000, "invoice.pdf.exe", "application/pdf")
    assert TicketIntake.attachment(disguised, None) == "gd_file_refused"


def test_a_document_of_unknown_or_excessive_size_is_never_fetched() -> None:
    for size in (None, MAX_BYTES + 1):
        file = TicketFile(False, size, "big.pdf", "application/pdf")
        assert not TicketIntake.needs_content(file)
        assert TicketIntake.attachment(file, None) == "gd_file_too_large"

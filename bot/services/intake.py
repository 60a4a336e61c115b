"""What an exporter hands to the officers: the question a ticket opens with, and the files
that may go with it into the officers' group.

The rules live here, apart from Telegram: handlers/tickets_exporter.py fetches a file's
bytes and sends the replies, this module decides. Nothing an exporter asked is dropped
(the question under 🙋, else the last one, else the request itself), nothing is posted
twice (a question already handed over), and no file reaches the officers unless its
bytes say it is one of the types /upload takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services import filetypes
from bot.services.answers import AnswerService, Asked
from bot.services.documents import MAX_BYTES
from bot.services.tickets import Attachment, TicketService

# a question asked this long ago is still "the question" a bare /petugas means
RECENT_QUESTION_MINUTES = 30
_TYPE_LABELS = {
    filetypes.PDF: "PDF",
    filetypes.JPEG: "JPG",
    filetypes.PNG: "PNG",
    filetypes.XLSX: "Excel",
    filetypes.DOCX: "Word",
}


@dataclass(frozen=True)
class Handover:
    """The question a ticket opens (or is reopened) with: its text, what the bot showed
    for it (outcome, the topics tried) and `also`, a request for an officer sent with it."""

    asked: Asked
    also: str | None = None


@dataclass(frozen=True)
class TicketFile:
    """A file an exporter sent into a ticket, as their client declared it: `photo` (a
    Telegram photo, re-encoded by Telegram as JPEG) or a document with its declared
    name and type; `size` None when Telegram did not say."""

    photo: bool
    size: int | None
    name: str = ""
    mime_type: str = ""
    caption: str = ""


class TicketIntake:
    def __init__(self, answers: AnswerService, tickets: TicketService) -> None:
        self.answers = answers
        self.tickets = tickets

    def question(
        self,
        user_id: int,
        typed: str | None = None,
        *,
        query_id: int | None = None,
        request: str | None = None,
    ) -> Handover | None:
        """What a ticket opened now should ask: the question `typed` for the officers,
        else the logged question `query_id` (the answer 🙋 was under; only the user's
        own), else the last one they asked recently. `request`, a message that asked for
        an officer, goes with it, or is the question itself when it says more than that
        and nothing was asked before. With nothing to ask, the open ticket's own question
        (back into it, posting nothing again); None when there is no open ticket either:
        the exporter must say what the question is."""
        asked: Asked | None = None
        if typed is not None:
            asked = (typed, "direct", [])  # the bot showed nothing for it
        elif query_id is not None:
            asked = self.answers.question_of(query_id, user_id)
        if asked is None:
            # the card tells officers exactly what the exporter was shown
            asked = self.answers.last_question(user_id, RECENT_QUESTION_MINUTES)
        also = None
        if request is not None:
            if asked is not None:
                also = request
            elif not self.answers.asks_only_for_officer(request):
                asked = (request, "direct", [])
        if asked is not None:
            return Handover(asked, also)
        active = self.tickets.active_for(user_id, attached_only=False)
        if active is None:
            return None
        return Handover((active.question, "direct", []))

    @staticmethod
    def needs_content(file: TicketFile) -> bool:
        """Whether the file's bytes must be read to judge it: a document the size allows
        (a photo is Telegram's own JPEG; an oversized file is never downloaded)."""
        return not file.photo and file.size is not None and file.size <= MAX_BYTES

    @staticmethod
    def attachment(file: TicketFile, content: bytes | None) -> Attachment | str:
        """The file as the ticket may relay it, or the catalog key of its refusal. A
        document's type is read from its bytes (`content`: the signatures /upload uses),
        from its declared type and name only when it could not be fetched (None)."""
        if file.size is not None and file.size > MAX_BYTES:
            return "gd_file_too_large"
        if file.photo:
            return Attachment("photo", caption=file.caption)
        if file.size is None:
            return "gd_file_too_large"  # a size Telegram does not state is not taken on trust
        if content is not None:
            found = filetypes.detect(content)
        else:
            found = filetypes.declared(file.name, file.mime_type)
        if found is None:
            return "gd_file_refused"
        return Attachment(
            "document", _TYPE_LABELS[found.mime_type], filetypes.safe_name(file.name, found), file.caption
        )

"""Button data: one small class per kind of button, the only place that knows its format.

`pack()` gives the callback data for a keyboard (Telegram refuses more than 64 bytes, and
says so only when the message is sent: it fails here instead), `parse()` reads it back
(None for anything malformed or forged), `pattern` is the regex a CallbackQueryHandler is
registered with. A feature that answers a malformed press in its own words (a role check
first, its own refusal) registers `prefix_pattern()` instead and parses in the handler;
data that no handler takes gets the polite catch-all refusal (handlers/exporter.py).

The formats are the ones buttons on messages already sent carry: they must not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Self

MAX_BYTES = 64
# ids are 32-bit integer columns: ten digits could overflow PostgreSQL's integer; ASCII
# only (str.isdecimal and \d would take other scripts' digits)
_ID = r"([0-9]{1,9})"


class Button:
    """Callback data of one kind."""

    prefixes: ClassVar[tuple[str, ...]]
    pattern: ClassVar[re.Pattern[str]]

    def pack(self) -> str:
        data = self._data()
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def _data(self) -> str:
        raise NotImplementedError

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        found = cls.pattern.fullmatch(data or "")
        return cls._read(found) if found else None

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        raise NotImplementedError

    @classmethod
    def prefix_pattern(cls) -> re.Pattern[str]:
        """Every data of this kind, well-formed or not."""
        return re.compile("^(?:" + "|".join(map(re.escape, cls.prefixes)) + "):")


def _pattern(text: str) -> re.Pattern[str]:
    # \Z, not $: $ also matches before a final line break
    return re.compile(f"^{text}\\Z")


# -- exporters: the FAQ ---------------------------------------------------------------------


@dataclass(frozen=True)
class Topic(Button):
    """An FAQ answer (did-you-mean suggestions, a category's topics)."""

    prefixes = ("a",)
    pattern = _pattern(r"a:(.+)")
    topic_id: str

    def _data(self) -> str:
        return f"a:{self.topic_id}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1])


@dataclass(frozen=True)
class Destination(Button):
    """A destination country's answer; OTHER for "another country"."""

    OTHER: ClassVar[str] = "other"  # ISO codes are upper case
    prefixes = ("d",)
    pattern = _pattern(r"d:(.+)")
    code: str

    def _data(self) -> str:
        return f"d:{self.code}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1])


@dataclass(frozen=True)
class Category(Button):
    """The topics of one category; the empty category is the list of categories."""

    prefixes = ("c",)
    pattern = _pattern(r"c:(.*)")
    category: str = ""

    def _data(self) -> str:
        return f"c:{self.category}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1])


@dataclass(frozen=True)
class Language(Button):
    """Switch to a language; the empty one offers the choice."""

    prefixes = ("l",)
    pattern = _pattern(r"l:(.*)")
    lang: str = ""

    def _data(self) -> str:
        return f"l:{self.lang}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1])


@dataclass(frozen=True)
class Feedback(Button):
    """Helpful? under an answer: 👍 or 👎 for one logged question."""

    prefixes = ("f",)
    pattern = _pattern(rf"f:{_ID}:([01])")
    query_id: int
    helpful: bool

    def _data(self) -> str:
        return f"f:{self.query_id}:{int(self.helpful)}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), found[2] == "1")


# -- exporters: tickets -----------------------------------------------------------------------


@dataclass(frozen=True)
class AskOfficer(Button):
    """Hand a question to an officer: the one logged as `query_id` (the answer the button
    is under), else the last one; `with_check`: the open /cek answers instead. Plain
    "o:ask" is what buttons sent before the id was added carry."""

    prefixes = ("o",)
    pattern = _pattern(rf"o:(?:ask(?::{_ID})?|(cek))")
    with_check: bool = False
    query_id: int | None = None

    def _data(self) -> str:
        if self.with_check:
            return "o:cek"
        return "o:ask" if self.query_id is None else f"o:ask:{self.query_id}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[2] is not None, int(found[1]) if found[1] else None)


@dataclass(frozen=True)
class LeaveTicket(Button):
    """Back to the FAQ: the exporter's next messages are questions again."""

    prefixes = ("o",)
    pattern = _pattern(r"o:back")

    def _data(self) -> str:
        return "o:back"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls()


@dataclass(frozen=True)
class Rating(Button):
    """Stars for a closed ticket."""

    prefixes = ("r",)
    pattern = _pattern(rf"r:{_ID}:([1-5])")
    ticket: int
    stars: int

    def _data(self) -> str:
        return f"r:{self.ticket}:{self.stars}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), int(found[2]))


@dataclass(frozen=True)
class RatingComment(Button):
    """Add a comment to a rating: the next text is the comment."""

    prefixes = ("o",)
    pattern = _pattern(rf"o:comment:{_ID}")
    ticket: int

    def _data(self) -> str:
        return f"o:comment:{self.ticket}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]))


# -- officers: tickets and knowledge ------------------------------------------------------------


@dataclass(frozen=True)
class TicketAction(Button):
    """A ticket card's buttons: claim, close, reopen, or turn it into an FAQ proposal."""

    CLAIM: ClassVar[str] = "claim"
    CLOSE: ClassVar[str] = "close"
    REOPEN: ClassVar[str] = "reopen"
    FAQ: ClassVar[str] = "faq"
    _LETTERS: ClassVar[dict[str, str]] = {"claim": "c", "close": "x", "reopen": "r", "faq": "f"}
    prefixes = ("tk",)
    pattern = _pattern(rf"tk:([cxrf]):{_ID}")
    action: str
    ticket: int

    def _data(self) -> str:
        return f"tk:{self._LETTERS[self.action]}:{self.ticket}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        action = next(a for a, letter in cls._LETTERS.items() if letter == found[1])
        return cls(action, int(found[2]))


@dataclass(frozen=True)
class FaqChoice(Button):
    """Which FAQ entry a ticket's answer improves; topic None: a new entry."""

    prefixes = ("pf",)
    pattern = _pattern(rf"pf:{_ID}:(.+)")
    ticket: int
    topic_id: str | None

    def _data(self) -> str:
        return f"pf:{self.ticket}:{self.topic_id or 'new'}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), None if found[2] == "new" else found[2])


@dataclass(frozen=True)
class ProposalEdit(Button):
    """Edit a field of an FAQ proposal (ti, te, ai, ae), or switch it Indonesian-only (io)."""

    prefixes = ("pe",)
    pattern = _pattern(rf"pe:{_ID}:(ti|te|ai|ae|io)")
    proposal: int
    field: str

    def _data(self) -> str:
        return f"pe:{self.proposal}:{self.field}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), found[2])


@dataclass(frozen=True)
class ProposalDecision(Button):
    """Approve or reject an FAQ proposal."""

    prefixes = ("pa", "pr")
    pattern = _pattern(rf"p([ar]):{_ID}")
    proposal: int
    approve: bool

    def _data(self) -> str:
        return f"p{'a' if self.approve else 'r'}:{self.proposal}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[2]), found[1] == "a")


@dataclass(frozen=True)
class SpikeDraft(Button):
    """A spike alert's draft, as a broadcast preview for the officer who pressed it."""

    prefixes = ("sp",)
    pattern = _pattern(rf"sp:{_ID}")
    alert: int

    def _data(self) -> str:
        return f"sp:{self.alert}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]))


@dataclass(frozen=True)
class BroadcastChoice(Button):
    """A broadcast draft's buttons: all, open, c<commodity index>, send, cancel (the
    broadcasts service judges the choice)."""

    prefixes = ("bc",)
    pattern = _pattern(rf"bc:{_ID}:([^:]*)")
    broadcast: int
    choice: str

    def _data(self) -> str:
        return f"bc:{self.broadcast}:{self.choice}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), found[2])


# -- exporters: status and documents ------------------------------------------------------------


@dataclass(frozen=True)
class StatusPage(Button):
    """One page of the company's open (o), issued (i), rejected (r) or cancelled (c)
    applications."""

    prefixes = ("st",)
    pattern = _pattern(r"st:([oirc]):([0-9]{1,6})")
    letter: str
    offset: int = 0

    def _data(self) -> str:
        return f"st:{self.letter}:{self.offset}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1], int(found[2]))


@dataclass(frozen=True)
class LinkMove(Button):
    """Move the account to a link code's company (y) or keep it where it is (n). Only the
    code's row id travels: the service checks it was offered to the account pressing."""

    prefixes = ("lk",)
    pattern = _pattern(rf"lk:{_ID}:([yn])")
    code_id: int
    move: bool

    def _data(self) -> str:
        return f"lk:{self.code_id}:{'y' if self.move else 'n'}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), found[2] == "y")


@dataclass(frozen=True)
class UploadStart(Button):
    """A reminder's [Send a document]: the next file is for this application."""

    prefixes = ("up",)
    pattern = _pattern(rf"up:{_ID}")
    application: int

    def _data(self) -> str:
        return f"up:{self.application}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]))


@dataclass(frozen=True)
class UploadChoice(Button):
    """Which document an uploaded file is; doc None: discard the file."""

    prefixes = ("dk",)
    pattern = _pattern(rf"dk:{_ID}:(.+)")
    upload: int
    doc_id: str | None

    def _data(self) -> str:
        return f"dk:{self.upload}:{self.doc_id or '-'}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(int(found[1]), None if found[2] == "-" else found[2])


@dataclass(frozen=True)
class DocVerdict(Button):
    """Under a document in the officers' chat: accept (a), the reasons to reject (r),
    back to accept/reject (b), or reject for a reason (r:<reason>)."""

    ACCEPT: ClassVar[str] = "a"
    REASONS: ClassVar[str] = "r"
    BACK: ClassVar[str] = "b"
    prefixes = ("dv",)
    pattern = _pattern(rf"dv:{_ID}:(?:([abr])|r:([a-z_]{{1,20}}))")
    upload: int
    step: str
    reason: str | None = None

    def _data(self) -> str:
        return f"dv:{self.upload}:r:{self.reason}" if self.reason else f"dv:{self.upload}:{self.step}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        if found[3] is not None:
            return cls(int(found[1]), cls.REASONS, found[3])
        return cls(int(found[1]), found[2])


# -- exporters: the pre-submission check ---------------------------------------------------------


@dataclass(frozen=True)
class PrecheckAnswer(Button):
    """A choice answering one step of /cek."""

    prefixes = ("pc",)
    pattern = _pattern(r"pc:a:([a-z_]{1,32}):(.*)")
    step: str
    value: str

    def _data(self) -> str:
        return f"pc:a:{self.step}:{self.value}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1], found[2])


@dataclass(frozen=True)
class PrecheckEdit(Button):
    """Under the /cek summary: ask one step again."""

    prefixes = ("pc",)
    pattern = _pattern(r"pc:e:([a-z_]{1,32})")
    step: str

    def _data(self) -> str:
        return f"pc:e:{self.step}"

    @classmethod
    def _read(cls, found: re.Match[str]) -> Self:
        return cls(found[1])

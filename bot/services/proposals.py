"""FAQ proposals from closed tickets: a cleaned draft, edited by an admin, then approved
into the `learned_faq` table and loaded by every process. Nothing reaches the knowledge
base unapproved, and nothing is written into the code checkout.

An approved entry needs its title and answer in Indonesian and in English, written by
the admin; nothing is copied from one language into the other. An entry the admin marks
Indonesian-only answers English readers in Indonesian, with a note saying so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.i18n import t
from bot.models import Company, FaqProposal, LearnedFaq, Ticket, TicketMessage, User, utcnow
from bot.services.faqdraft import clean, draft_title
from bot.text import escape
from knowledge.loader import LEARNED_PREFIX, Knowledge, KnowledgeError, load_knowledge

log = logging.getLogger(__name__)
# what an admin may edit, by the short name the buttons carry
FIELDS = {"ti": "title_id", "te": "title_en", "ai": "answer_id", "ae": "answer_en"}
MAX_TITLE = 120
MAX_ANSWER = 1000


@dataclass(frozen=True)
class ProposalView:
    id: int
    kind: str
    target_id: str | None
    question: str  # as the exporter wrote it
    answer: str  # as the officer wrote it
    draft_question: str
    title_id: str
    title_en: str
    answer_id: str
    answer_en: str
    id_only: bool
    flags: tuple[tuple[str, str], ...]

    @property
    def missing(self) -> str | None:
        """What still blocks approval (a field name), or None."""
        if self.kind == "sample":
            return None
        if not self.title_id:
            return "title_id"
        if not self.answer_id:
            return "answer_id"
        if not self.id_only and not self.title_en:
            return "title_en"
        if not self.id_only and not self.answer_en:
            return "answer_en"
        return None


def _view(r: FaqProposal) -> ProposalView:
    flags = tuple(tuple(f) for f in json.loads(r.flags or "[]"))
    return ProposalView(
        r.id,
        r.kind,
        r.target_id,
        r.question,
        r.answer,
        r.draft_question or r.question,
        r.title_id or "",
        r.title_en or "",
        r.answer_id if r.answer_id is not None else r.answer,
        r.answer_en or "",
        bool(r.id_only),
        flags,
    )  # type: ignore[arg-type]


def learned_data(s: Session, extra: list[LearnedFaq] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """The approved rows in the shape the knowledge loader reads (like learned.yaml)."""
    entries: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    rows = list(s.scalars(select(LearnedFaq).order_by(LearnedFaq.id))) + list(extra)
    for row in rows:
        if row.kind == "sample":
            samples.append({"id": row.entry_id, "question": row.question})
            continue
        answer_id = escape(row.answer_id)
        if row.id_only:
            title_en = row.title_id
            answer_en = t("prop_id_only_note", "en") + "\n\n" + answer_id
        else:
            title_en, answer_en = row.title_en, escape(row.answer_en)
        entries.append(
            {
                "id": row.entry_id,
                "category": row.category,
                "title": {"id": row.title_id, "en": title_en},
                "answer": {"id": answer_id, "en": answer_en},
                "confirm": False,
                "questions": [row.question],
                "keywords": [],
                "data": {"lang_only": "id"} if row.id_only else {},
            }
        )
    return {"entries": entries, "samples": samples}


class ProposalService:
    def __init__(
        self,
        db: Database,
        knowledge_dir: Path,
        on_reload: Callable[[Knowledge], None],
        words: dict[str, str] | None = None,
    ) -> None:
        self.db = db
        self.knowledge_dir = knowledge_dir
        self.on_reload = on_reload
        self.words = words or {}  # phone abbreviations, for the draft title
        # the language of a question (the matcher's guess), for the draft title
        self.detect: Callable[[str], str | None] = lambda _text: None
        self._signature: tuple[int, int] | None = None

    # -- loading -------------------------------------------------------------------------

    def signature(self) -> tuple[int, int]:
        """Changes whenever an entry is approved: (count, newest id), one cheap query."""
        with self.db.session() as s:
            count, newest = s.execute(select(func.count(LearnedFaq.id), func.max(LearnedFaq.id))).one()
        return int(count or 0), int(newest or 0)

    def load(self) -> Knowledge:
        """The knowledge base with every approved addition (at start-up)."""
        with self.db.session() as s:
            data = learned_data(s)
        kb = load_knowledge(self.knowledge_dir, extra=data)
        self._signature = self.signature()
        return kb

    def changed(self) -> Knowledge | None:
        """What another process approved, loaded (blocking: a worker thread may run it);
        None while nothing changed. The caller swaps it in with on_reload."""
        current = self.signature()
        if current == self._signature:
            return None
        try:
            kb = self.load()
        except KnowledgeError as exc:
            # approval validated it; a bad row would be a bug, not a reason to stop answering
            log.error("learned FAQ entries not loaded: %s", exc.problems[0])
            self._signature = current
            return None
        log.info("knowledge base reloaded with %d approved addition(s)", current[0])
        return kb

    def refresh(self) -> bool:
        """Load and swap in what another process approved; True when something changed."""
        kb = self.changed()
        if kb is not None:
            self.on_reload(kb)
        return kb is not None

    # -- proposing -----------------------------------------------------------------------

    def propose(
        self, ticket_id: int, officer_id: int, target_id: str | None, lang: str | None = None
    ) -> int | None:
        """Store a proposal from a closed ticket, with its cleaned draft."""
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.status != "closed":
                return None
            answer = (
                s.scalars(
                    select(TicketMessage.text)
                    .where(TicketMessage.ticket_id == ticket_id, TicketMessage.direction == "out")
                    .order_by(TicketMessage.id.desc())
                ).first()
                or ""
            )
            if target_id is None and not answer:
                return None  # a new entry needs the officer's answer
            companies = list(s.scalars(select(Company.name)))
            people = [
                n
                for n in s.scalars(select(User.first_name).where(User.id.in_([ticket.user_id, officer_id])))
                if n
            ]
            question = clean(ticket.question, companies, people)
            lang = lang or self.detect(question.text) or "id"
            reply = clean(answer, companies, people)
            flags = question.flags + [f for f in reply.flags if f not in question.flags]
            row = FaqProposal(
                ticket_id=ticket_id,
                kind="sample" if target_id else "new",
                target_id=target_id,
                question=ticket.question,
                answer=answer,
                proposed_by=officer_id,
                draft_question=question.text or ticket.question,
                title_id=draft_title(question.text, self.words, lang) if not target_id else None,
                title_en=None,
                answer_id=reply.text,
                answer_en=None,
                flags=json.dumps(flags, ensure_ascii=False),
            )
            s.add(row)
            s.flush()
            return row.id

    def pending(self) -> list[ProposalView]:
        with self.db.session() as s:
            rows = s.scalars(
                select(FaqProposal).where(FaqProposal.status == "pending").order_by(FaqProposal.id)
            )
            return [_view(r) for r in rows]

    def get(self, proposal_id: int) -> ProposalView | None:
        with self.db.session() as s:
            row = s.get(FaqProposal, proposal_id)
            return _view(row) if row is not None and row.status == "pending" else None

    # -- editing -------------------------------------------------------------------------

    def start_edit(self, proposal_id: int, field: str, chat_id: int, message_id: int) -> bool:
        """The admin was asked for a new text; a reply to that message sets `field`."""
        with self.db.session() as s:
            row = s.get(FaqProposal, proposal_id, with_for_update=True)
            if row is None or row.status != "pending" or field not in FIELDS.values():
                return False
            row.edit_field, row.edit_chat_id, row.edit_message_id = field, chat_id, message_id
            return True

    def editing(self, chat_id: int, message_id: int) -> tuple[ProposalView, str] | None:
        """The pending proposal whose edit prompt is that message, and the field asked for."""
        with self.db.session() as s:
            row = s.scalars(
                select(FaqProposal).where(
                    FaqProposal.edit_chat_id == chat_id,
                    FaqProposal.edit_message_id == message_id,
                    FaqProposal.status == "pending",
                )
            ).first()
            if row is None or row.edit_field is None:
                return None
            return _view(row), row.edit_field

    def set_field(self, proposal_id: int, field: str, text: str) -> ProposalView | str:
        """Store an edited text; a problem key when it is empty or too long."""
        text = text.strip()
        limit = MAX_TITLE if field.startswith("title") else MAX_ANSWER
        if not text:
            return "prop_edit_empty"
        if len(text) > limit:
            return "prop_edit_too_long"
        with self.db.session() as s:
            row = s.get(FaqProposal, proposal_id, with_for_update=True)
            if row is None or row.status != "pending" or field not in FIELDS.values():
                return "prop_decided"
            setattr(row, field, text)
            if field == "answer_en":
                row.id_only = False  # an English answer was written after all
            row.edit_field = row.edit_message_id = row.edit_chat_id = None
            return _view(row)

    def toggle_id_only(self, proposal_id: int) -> ProposalView | None:
        with self.db.session() as s:
            row = s.get(FaqProposal, proposal_id, with_for_update=True)
            if row is None or row.status != "pending":
                return None
            row.id_only = not row.id_only
            return _view(row)

    # -- deciding ------------------------------------------------------------------------

    def decide(self, proposal_id: int, admin_id: int, approve: bool) -> tuple[str, str | None]:
        """'approved' | 'rejected' | 'incomplete' (a field is missing: returned) | 'invalid'
        (the knowledge base would not load) | 'decided' | 'unknown'."""
        with self.db.session() as s:
            row = s.get(FaqProposal, proposal_id, with_for_update=True)
            if row is None:
                return "unknown", None
            if row.status != "pending":
                return "decided", None
            if approve:
                view = _view(row)
                if view.missing is not None:
                    return "incomplete", view.missing
                learned = self._learned_row(s, row, view, admin_id)
                try:
                    kb = load_knowledge(self.knowledge_dir, extra=learned_data(s, [learned]))
                except KnowledgeError as exc:
                    return "invalid", exc.problems[0]
                s.add(learned)
            row.status = outcome = "approved" if approve else "rejected"
            row.decided_by, row.decided_at = admin_id, utcnow()
            row.edit_field = row.edit_message_id = row.edit_chat_id = None
        if approve:
            # this process answers with it at once; the others within a minute (refresh)
            self.on_reload(kb)
            self._signature = self.signature()
        return outcome, None

    @staticmethod
    def _learned_row(s: Session, row: FaqProposal, view: ProposalView, admin_id: int) -> LearnedFaq:
        if row.kind == "sample":
            return LearnedFaq(
                kind="sample",
                entry_id=row.target_id or "",
                question=view.draft_question,
                approved_by=admin_id,
                proposal_id=row.id,
            )
        # the proposal's id: unique, and the admin can tell which proposal it came from
        return LearnedFaq(
            kind="entry",
            entry_id=f"{LEARNED_PREFIX}{row.id}",
            category="help",
            question=view.draft_question,
            title_id=view.title_id,
            title_en=view.title_en,
            answer_id=view.answer_id,
            answer_en=view.answer_en,
            id_only=view.id_only,
            approved_by=admin_id,
            proposal_id=row.id,
        )


def learned_from_database(db: Database) -> dict[str, Any]:
    """For `kb check`: the approved additions of the configured database."""
    with db.session() as s:
        return learned_data(s)

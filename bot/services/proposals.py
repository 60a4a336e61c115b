"""FAQ proposals from closed tickets: stored, reviewed by an admin, then written to
knowledge/learned.yaml and loaded. Nothing reaches the knowledge base unapproved."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bot.db import Database
from bot.models import FaqProposal, Ticket, TicketMessage, utcnow
from knowledge.loader import LEARNED_FILE, LEARNED_PREFIX, Knowledge, KnowledgeError, load_knowledge

HEADER = ("# Approved by an admin from officers' answers to tickets (/proposals).\n"
          "# Written by the bot; `python -m bot kb check` validates it with the rest.\n")


@dataclass(frozen=True)
class ProposalView:
    id: int
    kind: str
    target_id: str | None
    question: str
    answer: str


class ProposalService:
    def __init__(self, db: Database, knowledge_dir: Path,
                 on_reload: Callable[[Knowledge], None]) -> None:
        self.db = db
        self.path = knowledge_dir / LEARNED_FILE
        self.knowledge_dir = knowledge_dir
        self.on_reload = on_reload

    def propose(self, ticket_id: int, officer_id: int, target_id: str | None) -> int | None:
        """Store a proposal from a closed ticket: its question and the officer's answer."""
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.status != "closed":
                return None
            answer = s.scalars(select(TicketMessage.text).where(
                TicketMessage.ticket_id == ticket_id, TicketMessage.direction == "out")
                .order_by(TicketMessage.id.desc())).first() or ""
            if target_id is None and not answer:
                return None     # a new entry needs the officer's answer
            row = FaqProposal(ticket_id=ticket_id, kind="sample" if target_id else "new",
                              target_id=target_id, question=ticket.question, answer=answer,
                              proposed_by=officer_id)
            s.add(row)
            s.flush()
            return row.id

    def pending(self) -> list[ProposalView]:
        with self.db.session() as s:
            rows = s.scalars(select(FaqProposal).where(FaqProposal.status == "pending")
                             .order_by(FaqProposal.id))
            return [ProposalView(r.id, r.kind, r.target_id, r.question, r.answer) for r in rows]

    def decide(self, proposal_id: int, admin_id: int, approve: bool) -> tuple[str, str | None]:
        """'approved' | 'rejected' | 'invalid' (the file would not load) | 'decided' | 'unknown'."""
        with self.db.session() as s:
            row = s.get(FaqProposal, proposal_id, with_for_update=True)
            if row is None:
                return "unknown", None
            if row.status != "pending":
                return "decided", None
            if approve:
                problem = self._write(s, row)
                if problem is not None:
                    return "invalid", problem
            row.status = "approved" if approve else "rejected"
            row.decided_by, row.decided_at = admin_id, utcnow()
            return row.status, None

    def _write(self, s, row: FaqProposal) -> str | None:  # type: ignore[no-untyped-def]
        data = {}
        if self.path.is_file():
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        data.setdefault("samples", [])
        data.setdefault("entries", [])
        if row.kind == "sample":
            data["samples"].append({"id": row.target_id, "question": row.question})
        else:
            number = (s.scalar(select(func.count()).select_from(FaqProposal)
                               .where(FaqProposal.kind == "new")) or 0) + row.id
            title = row.question if len(row.question) <= 80 else row.question[:77] + "..."
            answer = row.answer.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            data["entries"].append({
                "id": f"{LEARNED_PREFIX}{number}", "category": "help",
                "title": {"id": title, "en": title},
                "answer": {"id": answer, "en": answer},
                "confirm": False, "questions": [row.question], "keywords": []})
        text = HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        candidate = self.path.with_suffix(".yaml.new")
        candidate.write_text(text, encoding="utf-8")
        try:
            kb = load_knowledge(self.knowledge_dir, learned=candidate)
        except KnowledgeError as exc:
            candidate.unlink()
            return exc.problems[0]
        os.replace(candidate, self.path)
        self.on_reload(kb)
        return None

"""After a 👎: the other topics the question was close to, for "Maksud Anda" buttons."""

from __future__ import annotations

from bot.db import Database
from bot.models import QueryLog
from bot.services.answers import AnswerService

MAX_ALTERNATIVES = 3


def alternatives(
    db: Database, answers: AnswerService, query_id: int, user_id: int, lang: str
) -> list[tuple[str, str]]:
    """(topic id, title) of the runners-up of the user's own question, best first."""
    with db.session() as s:
        row = s.get(QueryLog, query_id)
        if row is None or row.user_id != user_id:
            return []
        text, shown = row.text, row.matched_id
    reply = answers.ask(text, lang, log=False)
    found: list[tuple[str, str]] = []
    for tid, _score in reply.candidates:
        if tid != shown and answers.has_topic(tid) and tid not in (t for t, _ in found):
            found.append((tid, answers.title(tid, lang)))
    return found[:MAX_ALTERNATIVES]

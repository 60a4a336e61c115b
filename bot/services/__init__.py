"""Services: plain Python over the database and the knowledge base, no Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.db import Database
from bot.services.answers import AnswerService
from bot.services.users import UserService
from knowledge.loader import load_knowledge


@dataclass
class Services:
    settings: Settings
    db: Database
    answers: AnswerService
    users: UserService

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings, migrate: bool = True) -> Services:
    """Load the knowledge base once, open the database and bring its schema up to date."""
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    kb = load_knowledge(settings.knowledge_dir)
    return Services(settings=settings, db=db, answers=AnswerService(kb, db, settings),
                    users=UserService(db, settings))

"""Services: plain Python over the database and the knowledge base, no Telegram."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.config import Settings
from bot.db import Database
from bot.services.answers import AnswerService
from bot.services.applications import ApplicationService
from bot.services.importer import Importer
from bot.services.linking import LinkService
from bot.services.outbox import OutboxSender, RateLimits
from bot.services.presenters import Presenter
from bot.services.users import UserService
from knowledge.loader import load_knowledge


@dataclass
class Services:
    settings: Settings
    db: Database
    answers: AnswerService
    users: UserService
    links: LinkService
    applications: ApplicationService
    importer: Importer
    presenter: Presenter
    sender: OutboxSender

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings, migrate: bool = True) -> Services:
    """Load the knowledge base once, open the database and bring its schema up to date."""
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    kb = load_knowledge(settings.knowledge_dir)
    presenter = Presenter(settings.timezone)
    applications = ApplicationService(db, presenter.status_change)
    return Services(
        settings=settings, db=db,
        answers=AnswerService(kb, db, settings),
        users=UserService(db, settings),
        links=LinkService(db, dt.timedelta(days=settings.link_code_days)),
        applications=applications,
        importer=Importer(applications, kb.countries, settings.timezone),
        presenter=presenter,
        sender=OutboxSender(db, RateLimits(settings.outbox.rate_per_second,
                                           settings.outbox.per_chat_per_second)),
    )

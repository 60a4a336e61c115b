"""Who is talking: language and role of a Telegram account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from bot.i18n import LANGS, language_of
from bot.models import Company, User, utcnow

EXPORTER, OFFICER, ADMIN = "exporter", "officer", "admin"


@dataclass(frozen=True)
class Person:
    id: int
    lang: str
    role: str
    language_chosen: bool


class UserService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def role_of(self, user_id: int) -> str:
        # config is the source of truth for roles, so removing an id revokes at once
        if user_id in self.settings.admin_ids:
            return ADMIN
        if user_id in self.settings.officer_ids:
            return OFFICER
        return EXPORTER

    def touch(
        self,
        user_id: int,
        first_name: str = "",
        username: str | None = None,
        telegram_lang: str | None = None,
    ) -> Person:
        """Create or refresh the account; returns its current language and role."""
        role = self.role_of(user_id)
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                user = User(id=user_id, language=language_of(telegram_lang))
                s.add(user)
            user.first_name = (first_name or "")[:128]
            user.username = (username or None) and username[:64]
            user.role = role
            user.last_seen_at = utcnow()
            user.blocked_at = None  # writing to us means they unblocked the bot
            return Person(user.id, user.language, role, user.language_chosen)

    def set_language(self, user_id: int, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unsupported language {lang!r}")
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                user = User(id=user_id)
                s.add(user)
            user.language = lang
            user.language_chosen = True

    def blocked(self) -> list[tuple[str, str | None, dt.datetime]]:
        """(name, company, since) of every account that blocked the bot."""
        with self.db.session() as s:
            rows = s.execute(
                select(User.first_name, Company.name, User.blocked_at)
                .outerjoin(Company, User.company_id == Company.id)
                .where(User.blocked_at.is_not(None))
                .order_by(User.blocked_at)
            )
            # (the WHERE already keeps only set times; the check says so to the type checker)
            return [(name or "?", company, at) for name, company, at in rows if at is not None]

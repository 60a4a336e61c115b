"""The context every handler and job gets (registered with ContextTypes in bot/app.py):
the services, the outbox sender, who is talking and in which language, without a
lookup call in each handler."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import language_of
from bot.services import Services
from bot.services.users import EXPORTER, Person
from bot.telegram.sender import OutboxSender


class HelpDeskContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context, plus typed access to what the help desk keeps in bot_data."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._incoming: Update | None = None

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]
    ) -> HelpDeskContext:
        context: HelpDeskContext = super().from_update(update, application)
        # kept for .person: the language a user's Telegram app reports when the account
        # cannot be read
        context._incoming = update if isinstance(update, Update) else None
        return context

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def sender(self) -> OutboxSender:
        return sender_of(self.application)

    @property
    def person(self) -> Person:
        """Who sent the update, as the guard in handlers/common.py cached it for this user."""
        cached = self.user_data.get("person") if self.user_data is not None else None
        if isinstance(cached, Person):
            return cached
        update = self._incoming
        user = update.effective_user if update is not None else None
        lang = language_of(user.language_code if user else None)
        # the account could not be read (the database is down): the role still comes from
        # the configuration, so an officer stays an officer
        role = self.services.users.role_of(user.id) if user else EXPORTER
        return Person(user.id if user else 0, lang, role, False)

    @person.setter
    def person(self, who: Person) -> None:
        if self.user_data is not None:
            self.user_data["person"] = who

    @property
    def lang(self) -> str:
        return self.person.lang

    @property
    def user_state(self) -> dict[Any, Any]:
        """This user's data; every update the handlers act on comes from a user."""
        if self.user_data is None:
            raise RuntimeError("an update without a user has no user data")
        return self.user_data


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found: Services = app.bot_data["services"]
    return found


def sender_of(app: Application[Any, Any, Any, Any, Any, Any]) -> OutboxSender:
    found: OutboxSender = app.bot_data["sender"]
    return found

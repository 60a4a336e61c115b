"""Command menus and /help by role and language.

Telegram shows a chat the command list of the most specific scope that has one: the
officers' group gets the officers' list (BotCommandScopeChat), an admin in that group
the admins' list (BotCommandScopeChatMember), and each officer's and admin's private
chat its own (BotCommandScopeChat with the user id); everyone else the exporters' list.
Each scope is set without a language and for id and en, so every reader sees the menu
in the language of their Telegram app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from bot.i18n import LANGS, t
from bot.services.users import ADMIN, OFFICER
from bot.startup import retry_startup
from bot.telegram.context import services_of
from handlers.common import Context, send

log = logging.getLogger(__name__)
EXPORTER_MENU = ("start", "status", "topics", "officer", "cek", "link", "lang", "help")
# the order officers work in: the queue first, then applications, then reports
OFFICER_MENU = (
    "queue",
    "mine",
    "claim",
    "reply",
    "note",
    "close",
    "reopen",
    "ticket",
    "setstatus",
    "app",
    "apps",
    "docs",
    "doc",
    "invite",
    "broadcast",
    "report",
    "stats",
    "gaps",
    "unreachable",
    "lang",
    "help",
)
ADMIN_MENU = (*OFFICER_MENU[:-2], "proposals", "lang", "help")
MENUS = {OFFICER: OFFICER_MENU, ADMIN: ADMIN_MENU}
Menu = Callable[[str], list[BotCommand]]  # a language -> the commands in it


def exporter_menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, t(f"cmd_{name}", lang)) for name in EXPORTER_MENU]


def staff_menu(role: str, lang: str) -> list[BotCommand]:
    """One line each: what the command does and an example."""
    return [
        BotCommand(
            name, t("menu_line", lang, what=t(f"staff_cmd_{name}", lang), example=t(f"staff_ex_{name}", lang))
        )
        for name in MENUS[role]
    ]


def staff_help(role: str, lang: str) -> str:
    lines = [t(f"help_{role}_title", lang)]
    for name in MENUS[role]:
        lines.append(
            t("help_line", lang, what=t(f"staff_cmd_{name}", lang), example=t(f"staff_ex_{name}", lang))
        )
    lines.append(t("help_staff_footer", lang))
    return "\n".join(lines)


async def help_command(update: Update, context: Context) -> None:
    """/help: the reader's own commands, in their language."""
    who = context.person
    if who.role in MENUS:
        await send(update, context, staff_help(who.role, who.lang))
    else:
        await send(update, context, t("help", who.lang))


async def _set_both(app: Application, commands_of: Menu, scope: BotCommandScope | None) -> None:
    """One scope in both languages (the one without a language is Indonesian)."""
    await app.bot.set_my_commands(commands_of("id"), scope=scope)
    for lang in LANGS:
        await app.bot.set_my_commands(commands_of(lang), scope=scope, language_code=lang)


async def _set(app: Application, commands_of: Menu, scope: BotCommandScope | None, what: str) -> bool:
    try:
        await _set_both(app, commands_of, scope)
    except TelegramError as exc:
        # e.g. an officer who never opened the bot: Telegram knows no such chat yet
        log.warning("command menu for %s not set: %s", what, exc)
        return False
    return True


async def set_menus(app: Application, retry_seconds: float = 0.0) -> None:
    """At start-up: the exporters' menu for everyone (Telegram unreachable for a moment
    is retried), the staff's where staff work."""
    settings = services_of(app).settings
    await retry_startup("setMyCommands", lambda: _set_both(app, exporter_menu, None), retry_seconds)
    group = settings.officers_chat_id
    if group is not None:
        await _set(
            app, lambda lang: staff_menu(OFFICER, lang), BotCommandScopeChat(group), "the officers' group"
        )
    for uid in sorted(settings.officer_ids - settings.admin_ids):
        await _set(app, lambda lang: staff_menu(OFFICER, lang), BotCommandScopeChat(uid), f"officer {uid}")
    for uid in sorted(settings.admin_ids):
        await _set(app, lambda lang: staff_menu(ADMIN, lang), BotCommandScopeChat(uid), f"admin {uid}")
        if group is not None:
            await _set(
                app,
                lambda lang: staff_menu(ADMIN, lang),
                BotCommandScopeChatMember(group, uid),
                f"admin {uid} in the group",
            )


def register(app: Application) -> None:
    # by role: officers and admins get their own commands
    app.add_handler(CommandHandler("help", help_command))

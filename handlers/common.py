"""Shared handler plumbing: who is talking, sending, keyboards, callback data, errors."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes

from bot.i18n import language_of, t
from bot.models import utcnow
from bot.services.outbox import enqueue
from bot.services.users import ADMIN, OFFICER, Person
from bot.text import escape as escape  # re-exported: the handlers import it from here
from bot.textsplit import split_html

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.answers import Reply

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
MAX_CALLBACK_BYTES = 64


def services(context: Context) -> Services:
    return context.application.bot_data["services"]


async def ignore_foreign(update: Update, context: Context) -> None:
    """Runs before everything: what the bot must not act on stops here, in silence.

    Channel posts, and anything from a group other than the officers' group, would make
    the bot talk where nobody asked it to (and store who wrote there). An edited message
    is not a new request: answering it again would repeat an answer or, for a command,
    re-run it past the role guard, which reads only new messages.
    """
    if update.channel_post or update.edited_channel_post or update.edited_message:
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is None or chat.type == "private" \
            or chat.id == services(context).settings.officers_chat_id:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()    # only stops the button's spinner
        except TelegramError:
            pass
    raise ApplicationHandlerStop


class Throttle:
    """At most `limit` updates per user in any `window` seconds (a sliding window).

    Kept in memory: a restart forgets it, which only lets a flooder start afresh.
    """

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> str:
        """'ok' (count it and go on), 'warn' (first one over the limit) or 'drop'."""
        now = self.clock()
        if len(self._seen) > 10_000:
            self._forget(now)
        seen = self._seen.setdefault(user_id, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._warned.discard(user_id)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"

    def _forget(self, now: float) -> None:
        for user_id in [u for u, seen in self._seen.items() if not seen or seen[-1] <= now - self.window]:
            del self._seen[user_id]
            self._warned.discard(user_id)


async def throttle(update: Update, context: Context) -> None:
    """Flood control, before any database work: one polite "slow down", then silence."""
    user = update.effective_user
    limiter: Throttle | None = context.bot_data.get("throttle")
    if user is None or limiter is None or services(context).users.role_of(user.id) in STAFF:
        return
    verdict = limiter.check(user.id)
    if verdict == "ok":
        return
    if verdict == "warn":
        text = t("hd_slow_down", lang_of(update, context))
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await send(update, context, text)
    raise ApplicationHandlerStop


TOUCH_EVERY_SECONDS = 60.0


async def remember_user(update: Update, context: Context) -> None:
    """Runs first for every update: refresh the account and cache who is talking.

    The database row is refreshed at most once a minute per user (the row write was the
    largest cost of a busy chat); the role is re-read from config on every update, so
    removing an officer's id takes effect at once."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    svc = services(context)
    cached = context.user_data.get("person")
    seen = (user.first_name, user.username)
    now = time.monotonic()
    # on Telegram a user who blocked the bot cannot write to it: a message from someone
    # just found blocked means they unblocked it, and the account must say so now
    unblocked = user.id in svc.sender.marked_blocked
    if unblocked:
        svc.sender.marked_blocked.discard(user.id)
    if isinstance(cached, Person) and context.user_data.get("seen") == seen and not unblocked \
            and now - context.user_data.get("touched", -1e9) < TOUCH_EVERY_SECONDS:
        role = svc.users.role_of(user.id)
        if role != cached.role:
            context.user_data["person"] = replace(cached, role=role)
        return
    context.user_data["person"] = svc.users.touch(
        user.id, user.first_name, user.username, user.language_code)
    context.user_data["seen"] = seen
    context.user_data["touched"] = now


def restrict(app: Application, commands: frozenset[str], roles: tuple[str, ...]) -> None:
    """Declare commands only these roles may use; role_guard enforces it for all of them."""
    table: dict[str, tuple[str, ...]] = app.bot_data.setdefault("restricted_commands", {})
    for name in commands:
        table[name] = roles


def command_of(update: Update) -> str | None:
    # every kind of message: PTB's CommandHandler also runs commands in edited messages
    message = None if update.callback_query else update.effective_message
    text = (message.text or message.caption or "") if message else ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


async def role_guard(update: Update, context: Context) -> None:
    """The one role check: staff commands from anyone else are refused and stop here."""
    name = command_of(update)
    roles = context.bot_data.get("restricted_commands", {}).get(name) if name else None
    if roles is None:
        return
    who = person(update, context)
    chat = update.effective_chat
    if who.role not in roles:
        key = "admin_only" if roles == (ADMIN,) else "officer_only"
        await send(update, context, t(key, who.lang))
        raise ApplicationHandlerStop
    officers_chat = services(context).settings.officers_chat_id
    if chat is not None and chat.type != "private" and chat.id != officers_chat:
        # staff work happens in private or in the officers' group, never in other groups
        raise ApplicationHandlerStop


STAFF = (OFFICER, ADMIN)


def person(update: Update, context: Context) -> Person:
    cached = context.user_data.get("person") if context.user_data is not None else None
    if isinstance(cached, Person):
        return cached
    user = update.effective_user
    lang = language_of(user.language_code if user else None)
    # the account could not be read (the database is down): the role still comes from
    # the configuration, so an officer stays an officer
    role = services(context).users.role_of(user.id) if user else "exporter"
    return Person(user.id if user else 0, lang, role, False)


def lang_of(update: Update, context: Context) -> str:
    return person(update, context).lang


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == "private"


def chunks(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Parts that fit Telegram's limit, each valid HTML (the one splitter of the bot)."""
    return split_html(text, limit)


async def send(update: Update, context: Context, text: str,
               keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Reply in the chat of the update; the keyboard goes under the last part."""
    chat = update.effective_chat
    if chat is None:
        return
    parts = chunks(text)
    for i, part in enumerate(parts):
        await send_or_queue(context, chat.id, part, keyboard if i == len(parts) - 1 else None)


async def set_keyboard(update: Update, keyboard: InlineKeyboardMarkup | None) -> None:
    """Swap (or, with None, remove) the buttons under the pressed message. The action
    behind the button is already done, so a refusal from Telegram is logged, not shown."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except TelegramError as exc:
        if "not modified" not in str(exc).lower():
            log.warning("buttons not updated: %s", exc)


async def show_result(update: Update, context: Context, text: str,
                      keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Show what a button did in the pressed message; when Telegram refuses the edit, in a
    new message, so the user still learns that it happened."""
    query = update.callback_query
    try:
        if query is None or query.message is None:
            raise BadRequest("message to edit not found")
        if len(chunks(text)) > 1:
            raise BadRequest("text too long for one message")   # sent anew, in parts
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except TelegramError as exc:
        if "not modified" in str(exc).lower():
            return
        log.warning("message not edited (%s); sent anew", exc)
        await send(update, context, text, keyboard)


async def send_or_queue(context: Context, chat_id: int, text: str,
                        keyboard: InlineKeyboardMarkup | None) -> None:
    """A direct reply gets one try; what Telegram does not take now (429, a server error,
    a lost connection) goes to the outbox, which paces and retries it. One try, not
    several: a reply whose answer was lost on the way back is sent at most twice.
    In a group, a reply waits its turn in the outbox when the group's allowance is
    spent. Only a reply Telegram rejects for good (400, 403) raises."""
    svc = services(context)
    delay = 0.0
    stamp = time.monotonic()
    if chat_id >= 0 or svc.sender.pacer.try_take(chat_id, stamp, overall=False):
        try:
            await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                           disable_web_page_preview=True, reply_markup=keyboard)
            return
        except RetryAfter as exc:
            retry = exc.retry_after
            delay = retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)
        except BadRequest:              # before NetworkError: BadRequest subclasses it
            raise
        except NetworkError as exc:     # 5xx, timeouts, connection errors
            log.warning("reply to %s failed (%s); queued in the outbox", chat_id, exc)
        finally:
            if chat_id < 0:
                svc.sender.pacer.settle(chat_id, stamp, time.monotonic())
    with svc.db.session() as s:
        enqueue(s, chat_id, text, kind="reply", markup=keyboard,
                not_before=utcnow() + dt.timedelta(seconds=delay))
    log.info("reply to %s queued in the outbox", chat_id)


def button(text: str, data: str) -> InlineKeyboardButton:
    # Telegram rejects callback data over 64 bytes; fail here, where the bug is
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return InlineKeyboardButton(text, callback_data=data)


def rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


def reply_keyboard(reply: Reply, svc: Services) -> InlineKeyboardMarkup | None:
    """Buttons under a reply: helpful?, did-you-mean topics, destinations, topic menu."""
    lang = reply.lang
    lines: list[list[InlineKeyboardButton]] = []
    if reply.outcome == "ask_destination":
        lines += destination_rows(svc, lang)
    if reply.outcome == "suggest":
        lines += [[button(title, f"a:{tid}")] for tid, title in reply.suggestions]
    if reply.outcome in ("suggest", "no_match") or reply.confirm or reply.offer_officer:
        lines.append([button(t("tk_ask_officer", lang), "o:ask")])
    if reply.outcome in ("suggest", "no_match"):
        lines.append([button(t("cmd_topics", lang), "c:")])
    if reply.outcome == "answer" and reply.query_id is not None:
        lines.append([button(f"{t('helpful_question', lang)} 👍", f"f:{reply.query_id}:1"),
                      button("👎", f"f:{reply.query_id}:0")])
    return InlineKeyboardMarkup(lines) if lines else None


# data of the "other country" button under the destinations (ISO codes are upper case)
OTHER_COUNTRY = "other"


def destination_rows(svc: Services, lang: str) -> list[list[InlineKeyboardButton]]:
    kb = svc.answers.kb
    buttons = [button(kb.countries[iso].name[lang], f"d:{iso}") for iso in kb.ask_buttons]
    buttons.append(button(t("other_country", lang), f"d:{OTHER_COUNTRY}"))
    return rows(buttons, 2)


async def send_reply(update: Update, context: Context, reply: Reply) -> None:
    svc = services(context)
    text = reply.text
    if reply.confirm:
        text += "\n\n" + t("confirm_note", reply.lang)
    await send(update, context, text, reply_keyboard(reply, svc))


async def on_error(update: object, context: Context) -> None:
    """Log every failure; tell the user briefly, never with a traceback."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("user blocked the bot: %s", error)
        return
    if update is None and isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # getUpdates failed for now (5xx, a lost connection): PTB polls again by itself
        log.warning("polling: %s; trying again", error)
        return
    log.error("update failed", exc_info=error)
    if not isinstance(update, Update):
        return
    if update.effective_chat is not None:
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await context.bot.send_message(update.effective_chat.id,
                                           t("error", lang_of(update, context)))
        except TelegramError:
            log.warning("could not tell the user about the error")
    # one apology per message: the handler groups after this one would fail the same way
    # (the database is down, say) and each would apologise again
    raise ApplicationHandlerStop

"""Shared handler plumbing: the guards, sending, reading a button press, errors."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationHandlerStop

from bot.i18n import t
from bot.models import utcnow
from bot.services.outbox import enqueue
from bot.services.users import ADMIN, OFFICER, Person
from bot.telegram import api, keyboards
from bot.telegram.buttons import Button
from bot.telegram.context import HelpDeskContext
from bot.text import escape as escape  # re-exported: the handlers import it from here
from bot.textsplit import split_html

if TYPE_CHECKING:
    from bot.services.answers import Reply

log = logging.getLogger(__name__)
Context = HelpDeskContext
# user_state: when this person's last message went to an open ticket (see throttle)
IN_TICKET = "in_ticket_at"
# user_state key: when /petugas asked for the question the next text is
PENDING_QUESTION = "ticket_question_pending"
# (update id, time) of the 💬 press whose next text is the rating's comment
COMMENT_PROMPT = "rating_comment_prompt"
B = TypeVar("B", bound=Button)


# -- reading an update (a handler runs only for updates its filters let through) ------------


def query_of(update: Update) -> CallbackQuery:
    """The pressed button's callback query."""
    if update.callback_query is None:
        raise LookupError("not a button press")
    return update.callback_query


def pressed(update: Update, kind: type[B]) -> tuple[CallbackQuery, B | None]:
    """The pressed button's query and its data as `kind` (None: malformed or forged)."""
    query = query_of(update)
    return query, kind.parse(query.data)


async def refuse_button(update: Update, context: Context) -> None:
    """A button that is not (or no longer) ours: a polite refusal, nothing else."""
    await query_of(update).answer(t("button_invalid", context.lang), show_alert=True)


def message_of(update: Update) -> Message:
    if update.effective_message is None:
        raise LookupError("an update without a message")
    return update.effective_message


def chat_id_of(update: Update) -> int:
    if update.effective_chat is None:
        raise LookupError("an update without a chat")
    return update.effective_chat.id


async def ignore_foreign(update: Update, context: Context) -> None:
    """Runs before everything: what the bot must not act on stops here, in silence.

    Channel posts, and anything from a group other than the officers' group, would make
    the bot talk where nobody asked it to (and store who wrote there). An edited message
    is not a new request: answering it again would repeat an answer or re-run a command.
    Only an edit in a private chat goes on, to one handler that relays it to an open
    ticket and stops every edit there (tickets_exporter.on_edit).
    """
    if update.channel_post or update.edited_channel_post:
        raise ApplicationHandlerStop
    if update.edited_message is not None and update.edited_message.chat.type != "private":
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is None or chat.type == "private" or chat.id == context.services.settings.officers_chat_id:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()  # only stops the button's spinner
        except TelegramError:
            pass
    raise ApplicationHandlerStop


def repeated_in_album(update: Update, context: Context, answer: str) -> bool:
    """Whether this update is a later photo of an album already given this same answer:
    Telegram delivers an album as one update per photo, and five identical refusals in a
    row (at a second each in a private chat) say nothing the first did not."""
    message = update.effective_message
    album = message.media_group_id if message is not None else None
    if album is None:
        return False
    key = (album, answer)
    if context.user_state.get("answered_album") == key:
        return True
    context.user_state["answered_album"] = key
    return False


class Throttle:
    """At most `limit` messages per user in any `window` seconds (a sliding window).

    An album (one media_group_id: Telegram delivers each photo as an update of its own)
    counts once. Messages over the limit that go to an open ticket are still let through
    up to `ceiling` in the window (`trusted`): an exporter sending the pages of a document
    must not lose the last ones. Past that ceiling, or over the limit outside a ticket,
    one "slow down", then silence. Kept in memory: a restart forgets it, which only lets
    a flooder start afresh.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        ceiling: int | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        # every message let through counts here, an album's photos each
        self.ceiling = ceiling if ceiling is not None else CEILING_FACTOR * limit
        self._seen: dict[int, deque[float]] = {}
        self._all: dict[int, deque[float]] = {}
        self._albums: dict[int, dict[str, float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int, album: str | None = None, trusted: bool = False) -> str:
        """'ok' (count it and go on), 'warn' (first one over the limit) or 'drop'."""
        now = self.clock()
        if len(self._seen) > 10_000:
            self._forget(now)
        cutoff = now - self.window
        seen = self._seen.setdefault(user_id, deque())
        every = self._all.setdefault(user_id, deque())
        albums = self._albums.setdefault(user_id, {})
        for stamps in (seen, every):
            while stamps and stamps[0] <= cutoff:
                stamps.popleft()
        for old in [a for a, at in albums.items() if at <= cutoff]:
            del albums[old]
        counted = album is None or album not in albums
        if len(every) < self.ceiling and (not counted or trusted or len(seen) < self.limit):
            every.append(now)
            if album is not None:
                albums[album] = now
            if counted and len(seen) < self.limit:
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
            self._all.pop(user_id, None)
            self._albums.pop(user_id, None)
            self._warned.discard(user_id)


# a real flood is stopped even inside a ticket: this many times the limit in the window
CEILING_FACTOR = 5
# a burst right after a message went to an open ticket is that ticket's (no database read)
IN_TICKET_SECONDS = 600.0


def _in_ticket(context: Context) -> bool:
    state = context.user_data
    if not state:
        return False
    at = state.get(IN_TICKET)
    return bool(state.get(PENDING_QUESTION)) or (
        isinstance(at, float) and time.monotonic() - at < IN_TICKET_SECONDS
    )


async def throttle(update: Update, context: Context) -> None:
    """Flood control, before any database work: one polite "slow down", then silence."""
    user = update.effective_user
    limiter: Throttle | None = context.bot_data.get("throttle")
    if user is None or limiter is None or context.services.users.role_of(user.id) in STAFF:
        return
    message = update.message
    album = message.media_group_id if message is not None else None
    verdict = limiter.check(user.id, album, trusted=update.callback_query is None and _in_ticket(context))
    if verdict == "ok":
        return
    if verdict == "warn":
        text = t("hd_slow_down", context.lang)
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
    svc = context.services
    state = context.user_state
    # which update came just before this one: a prompt ("write your comment") is
    # answered only by the very next message
    state["previous_update"], state["this_update"] = state.get("this_update"), update.update_id
    cached = state.get("person")
    seen = (user.first_name, user.username)
    now = time.monotonic()
    # on Telegram a user who blocked the bot cannot write to it: a message from someone
    # just found blocked means they unblocked it, and the account must say so now
    unblocked = user.id in svc.outbox.marked_blocked
    if unblocked:
        svc.outbox.marked_blocked.discard(user.id)
    if (
        isinstance(cached, Person)
        and state.get("seen") == seen
        and not unblocked
        and now - state.get("touched", -1e9) < TOUCH_EVERY_SECONDS
    ):
        role = svc.users.role_of(user.id)
        if role != cached.role:
            context.person = replace(cached, role=role)
        return
    context.person = svc.users.touch(user.id, user.first_name, user.username, user.language_code)
    state["seen"] = seen
    state["touched"] = now


def restrict(app: Application, commands: frozenset[str], roles: tuple[str, ...]) -> None:
    """Declare commands only these roles may use; role_guard enforces it for all of them."""
    table: dict[str, tuple[str, ...]] = app.bot_data.setdefault("restricted_commands", {})
    for name in commands:
        table[name] = roles


def private_only(app: Application, commands: frozenset[str], staff_too: frozenset[str] = frozenset()) -> None:
    """Declare the exporters' commands: in a group role_guard answers them with the
    private-only message (a group is no place for a company's data, a link code or a
    ticket whose follow-ups only a private chat relays); `staff_too`: staff may still use
    these there (their /help)."""
    table: dict[str, bool] = app.bot_data.setdefault("private_commands", {})
    for name in commands:
        table[name] = name in staff_too


def text_after(update: Update, skip: int) -> str:
    """The command's text after `skip` words, line breaks kept (context.args loses them:
    a note's second line starting with // must still be seen as one)."""
    text = (update.effective_message.text or "") if update.effective_message else ""
    parts = text.split(maxsplit=skip)
    return parts[skip] if len(parts) > skip else ""


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
    chat = update.effective_chat
    who = context.person
    in_group = chat is not None and chat.type != "private"
    staff_may = context.bot_data.get("private_commands", {}).get(name) if name and in_group else None
    if staff_may is not None and not (staff_may and who.role in STAFF):
        await send(update, context, t("group_private_only", who.lang))
        raise ApplicationHandlerStop
    roles = context.bot_data.get("restricted_commands", {}).get(name) if name else None
    if roles is None:
        return
    if who.role not in roles:
        if update.edited_message is None:  # an edit is never run: no refusal to explain
            key = "admin_only" if roles == (ADMIN,) else "officer_only"
            await send(update, context, t(key, who.lang))
        raise ApplicationHandlerStop
    officers_chat = context.services.settings.officers_chat_id
    if chat is not None and chat.type != "private" and chat.id != officers_chat:
        # staff work happens in private or in the officers' group, never in other groups
        raise ApplicationHandlerStop


STAFF = (OFFICER, ADMIN)


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == "private"


def chunks(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Parts that fit Telegram's limit, each valid HTML (the one splitter of the bot)."""
    return split_html(text, limit)


async def send(update: Update, context: Context, text: str, keyboard: keyboards.Markup | None = None) -> None:
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


async def show_result(
    update: Update, context: Context, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Show what a button did in the pressed message; when Telegram refuses the edit, in a
    new message, so the user still learns that it happened."""
    query = update.callback_query
    try:
        if query is None or query.message is None:
            raise BadRequest("message to edit not found")
        if len(chunks(text)) > 1:
            raise BadRequest("text too long for one message")  # sent anew, in parts
        await query.edit_message_text(text, reply_markup=keyboard)
    except TelegramError as exc:
        if "not modified" in str(exc).lower():
            return
        log.warning("message not edited (%s); sent anew", exc)
        await send(update, context, text, keyboard)


async def send_or_queue(context: Context, chat_id: int, text: str, keyboard: keyboards.Markup | None) -> None:
    """A direct reply gets one try; what Telegram does not take now (429, a server error,
    a lost connection) goes to the outbox, which paces and retries it. One try, not
    several: a reply whose answer was lost on the way back is sent at most twice.
    A reply to a chat with a message still waiting in the outbox queues behind it. In a
    group, a reply waits its turn in the outbox when the group's allowance is spent.
    Only a reply Telegram rejects for good (400, 403) raises."""
    svc = context.services
    pacer = svc.outbox.pacer
    delay = 0.0
    stamp = time.monotonic()
    # an earlier message to this chat that waits for a retry goes first: this one queues
    if not svc.outbox.behind(chat_id) and (chat_id >= 0 or pacer.try_take(chat_id, stamp, overall=False)):
        try:
            # HTML, no link previews; Telegram's answer is not read (see bot/telegram/api.py)
            await api.send_text(context.bot, chat_id, text, keyboard)
            return
        except RetryAfter as exc:
            retry = exc.retry_after
            delay = retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)
        except BadRequest:  # before NetworkError: BadRequest subclasses it
            raise
        except NetworkError as exc:  # 5xx, timeouts, connection errors
            log.warning("reply to %s failed (%s); queued in the outbox", chat_id, exc)
        finally:
            if chat_id < 0:
                pacer.settle(chat_id, stamp, time.monotonic())
    with svc.db.session() as s:
        enqueue(
            s,
            chat_id,
            text,
            kind="reply",
            markup=keyboards.stored(keyboard) if keyboard is not None else None,
            not_before=utcnow() + dt.timedelta(seconds=delay),
        )
    svc.outbox.fell_behind(chat_id)
    log.info("reply to %s queued in the outbox", chat_id)


async def send_reply(update: Update, context: Context, reply: Reply) -> None:
    text = reply.text
    if reply.confirm:
        text += "\n\n" + t("confirm_note", reply.lang)
    await send(update, context, text, keyboards.reply_keyboard(reply, context.services.answers))


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
            await context.bot.send_message(update.effective_chat.id, t("error", context.lang))
        except TelegramError:
            log.warning("could not tell the user about the error")
    # one apology per message: the handler groups after this one would fail the same way
    # (the database is down, say) and each would apologise again
    raise ApplicationHandlerStop


async def flush_officers(context: Context, *chats: int) -> None:
    """One direct try for what a change queued for the officers (and these chats); what
    the pace does not allow now leaves with the outbox sender."""
    svc = context.services
    await context.sender.flush(context.bot, [*svc.tickets.officer_chats(), *chats])

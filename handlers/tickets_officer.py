"""Tickets, the officers' side: claim, reply (a Telegram reply to a card or a command),
note, close, reopen, and the queue."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services.notemarks import marked_line
from bot.services.tickets import TicketError, TicketService, TicketView, internal_note
from bot.telegram.buttons import TicketAction
from bot.telegram.context import services_of
from handlers import knowledge_admin
from handlers.common import (
    STAFF,
    Context,
    escape,
    flush_officers,
    is_private,
    message_of,
    pressed,
    restrict,
    send,
    text_after,
)

# the Indonesian words officers say (and read on the card's buttons) work as commands too
ALIASES = {"reply": "balas", TicketAction.CLAIM: "ambil", TicketAction.CLOSE: "tutup"}
OFFICER_COMMANDS = frozenset(
    {"reply", "note", "queue", "mine", "claim", "close", "reopen", "ticket", "tiket", *ALIASES.values()}
)
Command = Callable[[Update, Context], Coroutine[Any, Any, None]]


def officer_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "") or "Petugas"


def _numbered(arg: str) -> bool:
    """A ticket number as officers type it: #12 or 12, in any script's digits."""
    return arg.lstrip("#").isdecimal()


def ticket_number(arg: str) -> int | None:
    # ticket ids are 32-bit integers, as in the buttons: at most 9 digits
    return int(arg.lstrip("#")) if _numbered(arg) and len(arg.lstrip("#")) <= 9 else None


async def act(update: Update, context: Context, action: str, ticket_id: int, text: str = "") -> None:
    """One officer action on a ticket, answered in the chat where it was asked."""
    tickets = context.services.tickets
    who = context.person
    lang = who.lang
    name = officer_name(update)
    if action == "reply":
        note = internal_note(text)
        if note is not None:
            # // and /note keep it inside the office, on every way an officer answers
            action, text = "note", note
        elif (start := marked_line(text)) is not None:
            # a mistyped note or command, or a note line inside an answer: meant for the
            # office, relayed it would leak word for word
            await send(update, context, t("desk_reply_not_sent", lang, start=escape(start), id=ticket_id))
            return
    if action in ("reply", "note") and not text.strip():
        await send(update, context, t("tk_reply_usage", lang))
        return
    try:
        if action == TicketAction.CLAIM:
            view = tickets.claim(ticket_id, who.id, name)
            done = t("tk_claimed", lang, id=view.id, name=escape(name))
        elif action == "reply":
            view = tickets.reply(ticket_id, who.id, name, text)
            done = (
                t("tk_reply_sent", lang, id=view.id)
                if view.reply_parts == 1
                else t("tk_reply_sent_parts", lang, id=view.id, parts=view.reply_parts)
            )
        elif action == "note":
            view = tickets.note(ticket_id, who.id, text)
            done = t("tk_note_saved", lang, id=view.id)
        elif action == TicketAction.CLOSE:
            view = tickets.close(ticket_id, who.id, text)
            done = t("tk_closed_group", lang, id=view.id)
            if view.claimed_by is not None and view.claimed_by != who.id:
                # a colleague's ticket: named, so that the group (where they read) sees
                # it was closed under them, not only when their reply is refused
                done = t("tk_closed_claimed", lang, id=view.id, name=escape(view.claimed_by_name or ""))
        else:
            view = tickets.reopen(ticket_id, who.id)
            # the exporter is told their next messages go to the ticket: an open /cek
            # check must not take them first
            context.services.precheck_store.pause(view.user_id)
            done = t("tk_reopened", lang, id=view.id)
    except TicketError as exc:
        values = {k: escape(str(v)) for k, v in exc.values.items()}
        await send(update, context, t(exc.key, lang, **values))
        return
    await flush_officers(context, view.user_id)
    if update.callback_query is None:
        await send(update, context, done)


async def reply_to_ticket_message(update: Update, context: Context) -> None:
    """A Telegram reply to a card, a relayed follow-up or a notice answers the ticket, in
    the officers' group or, without a group, in an officer's private chat."""
    message = update.message
    if message is None or message.reply_to_message is None:
        return
    target = message.reply_to_message
    if target.from_user is None or target.from_user.id != context.bot.id:
        return  # officers talking to each other
    who = context.person
    ticket_id = context.services.tickets.ticket_of_message(target.message_id, message.chat_id)
    if ticket_id is None:
        if who.role in STAFF and not is_private(update):
            await send(update, context, t("tk_not_a_card", who.lang))
        return
    if who.role not in STAFF:
        await send(update, context, t("officer_only", who.lang))
        return
    text = (message.text or "").strip()
    if not text:
        if message.effective_attachment is not None:
            await send(update, context, t("tk_reply_text_only", who.lang))
        return
    await act(update, context, "reply", ticket_id, text)
    raise ApplicationHandlerStop


async def reply_command(update: Update, context: Context) -> None:
    """/reply N text"""
    args = context.args or []
    ticket_id = ticket_number(args[0]) if len(args) >= 2 else None
    if ticket_id is None:
        await send(update, context, t("tk_reply_usage", context.lang))
        return
    await act(update, context, "reply", ticket_id, text_after(update, 2))


async def note_command(update: Update, context: Context) -> None:
    """/note N text, or /note text as a reply to a ticket's message: an internal note,
    never sent to the exporter."""
    args = context.args or []
    message = message_of(update)
    target = message.reply_to_message
    if target is not None:
        ticket_id = context.services.tickets.ticket_of_message(target.message_id, message.chat_id)
        if ticket_id is not None and not (args and _numbered(args[0])):
            await act(update, context, "note", ticket_id, text_after(update, 1))
            return
    ticket_id = ticket_number(args[0]) if len(args) >= 2 else None
    if ticket_id is None:
        await send(update, context, t("tk_note_usage", context.lang))
        return
    await act(update, context, "note", ticket_id, text_after(update, 2))


def numbered(action: str) -> Command:
    """/claim N, /close N [summary], /reopen N."""

    async def handler(update: Update, context: Context) -> None:
        args = context.args or []
        ticket_id = ticket_number(args[0]) if args else None
        if ticket_id is None:
            if action == TicketAction.CLOSE:
                await send(update, context, t("desk_close_usage", context.lang))
            else:
                await send(update, context, t("tk_number_usage", context.lang, command=action))
            return
        await act(update, context, action, ticket_id, text_after(update, 2))

    handler.__doc__ = f"/{action} N"
    return handler


async def queue(update: Update, context: Context) -> None:
    """/queue: every open ticket, unclaimed first, with its age."""
    await _list(update, context, context.services.tickets.queue(), "tk_queue_header")


async def mine(update: Update, context: Context) -> None:
    """/mine: the officer's own open tickets."""
    tickets = context.services.tickets
    own = tickets.mine(context.person.id)
    if not own:
        # "no open tickets" would hide the colleagues' ones still waiting
        waiting = len(tickets.queue())
        if waiting:
            await send(update, context, t("desk_mine_none", context.lang, count=waiting))
            return
    await _list(update, context, own, "tk_mine_header")


# a page of /ticket: the group takes about 20 messages a minute, and new cards must not
# wait behind a long history
HISTORY_PAGE = 10
HISTORY_CHARS = 600


async def history(update: Update, context: Context) -> None:
    """/ticket N [page]: the ticket's messages, replies and internal notes, the newest
    page first, oldest first within it."""
    lang = context.lang
    args = context.args or []
    ticket_id = ticket_number(args[0]) if 1 <= len(args) <= 2 else None
    page_arg = args[1] if len(args) == 2 else "1"
    page = int(page_arg) if page_arg.isascii() and page_arg.isdecimal() and len(page_arg) < 6 else 0
    if ticket_id is None or page < 1:
        await send(update, context, t("tk_history_usage", lang))
        return
    tickets = context.services.tickets
    found = tickets.history(ticket_id)
    if found is None:
        await send(update, context, t("tk_history_none", lang, id=ticket_id))
        return
    view, entries = found
    pages = max(1, -(-len(entries) // HISTORY_PAGE))
    if page > pages:
        await send(update, context, t("tk_history_past_end", lang, id=view.id, pages=pages))
        return
    end = len(entries) - (page - 1) * HISTORY_PAGE
    start = max(0, end - HISTORY_PAGE)
    lines = [
        t(
            "tk_history_header",
            lang,
            id=view.id,
            status=tickets.status_line(view),
            who=escape(view.company or view.exporter),
        )
    ]
    if pages > 1:
        lines[0] += "\n" + t("tk_history_page", lang, first=start + 1, last=end, count=len(entries))
    for entry in entries[start:end]:
        text = entry.text if len(entry.text) <= HISTORY_CHARS else entry.text[:HISTORY_CHARS] + " …"
        lines.append(
            t(
                f"tk_history_{entry.direction}",
                lang,
                when=tickets.presenter.when(entry.at),
                author=escape(entry.author),
                text=escape(text),
            )
        )
    if page < pages:
        lines.append(t("tk_history_older", lang, id=view.id, page=page + 1))
    # send() splits what is still longer than one message into parts of valid HTML
    await send(update, context, "\n\n".join(lines))


async def _list(update: Update, context: Context, views: list[TicketView], header: str) -> None:
    tickets = context.services.tickets
    lang = context.lang
    if not views:
        await send(update, context, t("tk_queue_empty", lang))
        return
    lines = [t(header, lang)] + [
        t(
            "tk_queue_line",
            lang,
            id=v.id,
            status=tickets.status_line(v),
            age=tickets.age(v),
            who=escape(v.company or v.exporter),
            question=escape(v.question[:80]),
        )
        for v in views
    ]
    await send(update, context, "\n".join(lines))


async def on_card_button(update: Update, context: Context) -> None:
    """tk:c|x|r|f:N on a ticket's card (staff only, whatever the data)."""
    query, button = pressed(update, TicketAction)
    who = context.person
    if who.role not in STAFF:
        await query.answer(t("officer_only", who.lang), show_alert=True)
        return
    if button is None:
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    await query.answer()
    if button.action == TicketAction.FAQ:
        await knowledge_admin.offer_faq(update, context, button.ticket)
    else:
        await act(update, context, button.action, button.ticket)


class _TicketReply(filters.MessageFilter):
    """A reply to one of the bot's messages about a ticket (checked only for staff in
    private: any other reply of theirs stays a question for the FAQ)."""

    def __init__(self, tickets: TicketService) -> None:
        super().__init__(name="TicketReply")
        self.tickets = tickets

    def filter(self, message: Message) -> bool:
        target = message.reply_to_message
        return (
            target is not None
            and target.from_user is not None
            and target.from_user.is_bot
            and self.tickets.ticket_of_message(target.message_id, message.chat_id) is not None
        )


def register(app: Application) -> None:
    restrict(app, OFFICER_COMMANDS, STAFF)
    app.add_handler(CommandHandler(["reply", ALIASES["reply"]], reply_command))
    app.add_handler(CommandHandler("note", note_command))
    app.add_handler(CommandHandler("queue", queue))
    app.add_handler(CommandHandler("mine", mine))
    app.add_handler(CommandHandler(["ticket", "tiket"], history))
    for action in (TicketAction.CLAIM, TicketAction.CLOSE, TicketAction.REOPEN):
        names = [action, ALIASES[action]] if action in ALIASES else [action]
        app.add_handler(CommandHandler(names, numbered(action)))
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=TicketAction.prefix_pattern()))
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & filters.REPLY & filters.UpdateType.MESSAGE, reply_to_ticket_message
        )
    )
    # without a group, officers get the cards in private and answer them there; an
    # exporter's reply to one of the bot's messages stays a question for the FAQ
    svc = services_of(app)
    staff = set(svc.settings.officer_ids) | set(svc.settings.admin_ids)
    if staff:
        app.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE
                & filters.UpdateType.MESSAGE
                & filters.User(staff)
                & _TicketReply(svc.tickets),
                reply_to_ticket_message,
            )
        )

"""The exporter's conversation router: where a private message (or an "ask an officer"
button) goes, decided in one place and dispatched to one feature's function.

Before every feature's handlers (group -1): an open /cek check, a pending ticket
question, a rating comment or an open ticket claims the message, in that order, read in
one query (`ConversationLookup`). A text that none claims is a question for the FAQ,
answered right there (no feature takes a private text that is not a command, so the
features' handlers need not be looked at for the most frequent update), and a question
that asks for a person opens a ticket. The features never call each other.
"""

from __future__ import annotations

import difflib

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services.tickets import GROUP_LANG
from bot.telegram.buttons import AskOfficer
from handlers import exporter, precheck, status, tickets_exporter
from handlers.common import STAFF, Context, command_of, escape, is_private, pressed, send


async def route_exporter_message(update: Update, context: Context) -> None:
    """Hands the message to the conversation that claims it, or a text to the FAQ, and
    stops there; anything else (a file, a photo) goes on to the features' handlers."""
    message = update.message
    if not is_private(update) or message is None:
        return
    svc = context.services
    who = context.person
    # /petugas asked for the question: a text, or a screenshot or file (the question in
    # its caption, or in the picture itself), which goes to the ticket; "// ..." and
    # "/ ..." are texts like any other (the filter leaves commands to their handlers)
    asked = (message.text or message.caption or "").strip()
    says = any(ch.isalnum() for ch in asked)
    pending_question = bool(says or message.photo or message.document) and tickets_exporter.pending_question(
        context
    )
    # one query decides; most messages are FAQ questions and leave right here
    state = await svc.db.run(svc.conversations.of, who.id)
    if state.check_step is not None:
        # the /cek flow is asking this user something: it claims the message first, and
        # a /petugas request from before the check is stale (else it catches a later text)
        tickets_exporter.drop_pending_question(context)
        if not filters.StatusUpdate.ALL.check_update(update):
            await precheck.on_text(update, context, state.query_id)
            raise ApplicationHandlerStop
        return
    active_id, comment_pending = state.open_ticket, state.comment_closed_at is not None
    if state.comment_closed_at is not None and not tickets_exporter.comment_wanted(
        context, state.comment_closed_at
    ):
        # the prompt lapsed: this is a question (or a follow-up), not the comment
        svc.tickets.drop_comment(who.id)
        comment_pending = False
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    if not (pending_question or comment_pending or active_id):
        if says and message.text and reply_to is not None and who.role not in STAFF:
            ref = svc.documents.reminder_ref(who.id, reply_to)
            if ref is not None:
                # an answer to a document reminder ("packing list menyusul besok") is a
                # word to the office, not a question for the FAQ
                question = t("tk_reminder_reply", GROUP_LANG, ref=ref, text=asked)
                await tickets_exporter.escalate(update, context, question)
                raise ApplicationHandlerStop
        await _faq(update, context, state.query_id)
        return
    if (message.document or message.photo) and svc.documents.expects_file(who.id, reply_to):
        return  # an upload for an application's checklist, not a ticket attachment
    if pending_question:
        tickets_exporter.drop_pending_question(context)
        # an album's first photo may come without the caption a later one carries: it
        # opens the ticket all the same, and the rest of the album follows into it
        await tickets_exporter.escalate(update, context, asked or t("gd_question_in_file", GROUP_LANG))
        if not message.text:
            opened = svc.tickets.active_for(who.id)
            if opened is not None:
                await tickets_exporter.follow_up(update, context, opened.id, message)
        raise ApplicationHandlerStop
    if (
        comment_pending
        and message.text
        and await tickets_exporter.take_comment(update, context, message.text)
    ):
        raise ApplicationHandlerStop
    if active_id and await tickets_exporter.follow_up(update, context, active_id, message):
        raise ApplicationHandlerStop
    await _faq(update, context, state.query_id)


async def _faq(update: Update, context: Context, query_id: int | None = None) -> None:
    """An exporter's text nothing claimed is answered from the FAQ and stops there;
    anything else goes on to the features' handlers (staff texts too: an officer's reply
    to a ticket card in private is the tickets' to take, not a question). `query_id`: the
    question-log id the conversation lookup reserved (PostgreSQL)."""
    if context.person.role in STAFF:
        return
    if update.message is not None and update.message.text:
        await question(update, context, query_id)
        raise ApplicationHandlerStop


async def question(update: Update, context: Context, query_id: int | None = None) -> None:
    """Any text in a private chat that nothing claimed is a question for the FAQ."""
    text = (update.message.text if update.message is not None else None) or ""
    # a link code pasted without /link: never matched, never logged (it would sit in
    # the question log in clear)
    if len(text) <= 40 and await status.answer_bare_code(update, context, text):
        return
    if not await exporter.answer_question(update, context, text, query_id):
        # the request itself reaches the officers, whatever else it says
        await tickets_exporter.escalate(update, context, request=text.strip())


async def unknown_command(update: Update, context: Context) -> None:
    """A command no handler took. With a ticket open it is something the exporter wrote
    for the officer ("/tolong pak"): it goes to the ticket. Otherwise the user hears it
    is unknown, with the nearest command they may use: in the officers' group too, where
    a typo (/replay) would otherwise leave an exporter unanswered while the officer
    believes the reply went. A command for another bot, or from a non-officer in the
    group, is not answered."""
    message = update.message
    name = command_of(update)
    if message is None or name is None:
        return
    head = (message.text or message.caption or "").split(maxsplit=1)[0]
    for_another = "@" in head and head.split("@", 1)[1].lower() != (context.bot.username or "").lower()
    if for_another and not is_private(update):
        return  # the group has other bots
    who = context.person
    svc = context.services
    if is_private(update):
        if who.role not in STAFF:
            state = await svc.db.run(svc.conversations.of, who.id)
            if state.open_ticket is not None and await tickets_exporter.follow_up(
                update, context, state.open_ticket, message
            ):
                return
    elif who.role not in STAFF:
        return
    nearest = _nearest_command(context, name, group=not is_private(update))
    if nearest is None or nearest == name:  # "/start@other_bot": ours, but not addressed to us
        await send(update, context, t("unknown_command", who.lang))
    else:
        await send(update, context, t("unknown_command_near", who.lang, typed=escape(name), command=nearest))


def _nearest_command(context: Context, name: str, group: bool) -> str | None:
    """The registered command closest to a mistyped one among those this user may use
    here (difflib: "replay" -> "reply", "cliam" -> "claim")."""
    restricted: dict[str, tuple[str, ...]] = context.bot_data.get("restricted_commands", {})
    private_only: dict[str, bool] = context.bot_data.get("private_commands", {})
    role = context.person.role
    usable = {
        command
        for handlers in context.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
        if role in restricted.get(command, (role,))
        and not (group and command in private_only and not (private_only[command] and role in STAFF))
    }
    found = difflib.get_close_matches(name, sorted(usable), n=1, cutoff=0.7)
    return found[0] if found else None


async def ask_officer(update: Update, context: Context) -> None:
    """o:ask:ID under an answer: that question goes to an officer (plain o:ask, from
    before the id: the last question); o:cek under the /cek summary: the check's answers do."""
    query, button = pressed(update, AskOfficer)
    await query.answer()
    answers = (
        precheck.answers_for_officer(context, context.person.id)
        if button is not None and button.with_check
        else None
    )
    query_id = button.query_id if button is not None else None
    await tickets_exporter.escalate(update, context, answers, query_id=query_id)


def register_claims(app: Application, group: int) -> None:
    """In its own group, before any FAQ matching and any file handler."""
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND, route_exporter_message
        ),
        group=group,
    )


def register_fallbacks(app: Application) -> None:
    """Last of all: a command nothing took, in a private chat or the officers' group."""
    app.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command))


def register_questions(app: Application) -> None:
    """After every module's commands and buttons. The router answers the texts it sees;
    this one answers those it did not (an admin's reply that is not an FAQ edit)."""
    app.add_handler(CallbackQueryHandler(ask_officer, pattern=AskOfficer.pattern))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, question
        )
    )

"""The officer queue in Telegram: exporters escalate, officers claim, reply, close."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services.tickets import TicketError, TicketService, TicketView, internal_note
from handlers import precheck
from handlers.common import (
    STAFF,
    Context,
    button,
    escape,
    is_private,
    lang_of,
    person,
    restrict,
    send,
    services,
)

log = logging.getLogger(__name__)
OFFICER_COMMANDS = frozenset({"reply", "note", "queue", "mine", "claim", "close", "reopen",
                              "gaps"})
RECENT_QUESTION_MINUTES = 30


def officer_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "") or "Petugas"


# -- messages to the officers ---------------------------------------------------------------

async def flush(context: Context, *chats: int) -> None:
    """One direct try for what a ticket change queued for the officers (and these chats);
    what the pace does not allow now leaves with the outbox sender."""
    svc = services(context)
    await svc.sender.flush(context.bot, [*svc.tickets.officer_chats(), *chats])


# -- the exporter's side -------------------------------------------------------------------

async def escalate(update: Update, context: Context, question: str | None = None) -> None:
    """Open (or reuse) a ticket with this question, or the last one asked recently."""
    svc = services(context)
    who = person(update, context)
    lang = who.lang
    tried: list[tuple[str, float]] = []
    outcome = "direct"          # /petugas TEXT: the bot showed nothing for it
    if question is None:
        last = svc.answers.last_question(who.id, RECENT_QUESTION_MINUTES)
        if last is None:
            context.user_data["ticket_question_pending"] = True
            await send(update, context, t("tk_need_question", lang))
            return
        # the card tells officers exactly what the exporter was shown
        question, outcome, tried = last
    # the whole question is kept: the card shows its start, the rest follows the card
    view, created = svc.tickets.open(who.id, question, tried, outcome)
    keyboard = InlineKeyboardMarkup([[button(t("tk_back", lang), "o:back")]])
    if not svc.tickets.officer_chats():
        # stored for /queue, but no officer is reachable through the bot: say so
        phone = svc.settings.office.phone
        text = t("tk_no_officers", lang, id=view.id, phone=escape(phone)) if phone else \
            t("tk_no_officers_nophone", lang, id=view.id)
        await send(update, context, text, keyboard)
        return
    expect = svc.tickets.expectation(lang)
    key = "tk_opened" if created else "tk_added"
    # stored with its card already: the exporter hears it first, then the card goes
    await send(update, context, t(key, lang, id=view.id, expect=expect), keyboard)
    await flush(context)


async def officer_command(update: Update, context: Context) -> None:
    """/officer, /petugas: talk to a human."""
    text = " ".join(context.args or []).strip()
    # zero-width or symbol-only "questions" would open a ticket no officer can read
    await escalate(update, context, text if any(ch.isalnum() for ch in text) else None)


async def route_exporter_message(update: Update, context: Context) -> None:
    """Runs before the FAQ: an open /cek check, a pending ticket question, a rating
    comment, or an open ticket claims the message, in that order."""
    if not is_private(update) or update.message is None:
        return
    message = update.message
    if message.text and message.text.startswith("/"):
        return
    svc = services(context)
    who = person(update, context)
    lang = who.lang
    text = message.text or message.caption
    pending_question = bool(context.user_data.get("ticket_question_pending")) and message.text
    # one query decides; most messages are FAQ questions and leave right here
    state = await svc.db.run(svc.conversations.of, who.id)
    if state.check_step is not None:
        # the /cek flow is asking this user something: it claims the message first
        if not filters.StatusUpdate.ALL.check_update(update):
            await precheck.on_text(update, context)
            raise ApplicationHandlerStop
        return
    active_id, comment_pending = state.open_ticket, state.comment_pending
    if not (pending_question or comment_pending or active_id):
        return
    if (message.document or message.photo) and svc.documents.expects_file(
            who.id, message.reply_to_message.message_id if message.reply_to_message else None):
        return      # an upload for an application's checklist, not a ticket attachment
    if pending_question:
        context.user_data.pop("ticket_question_pending", None)
        await escalate(update, context, message.text.strip())
        raise ApplicationHandlerStop
    if comment_pending and message.text and svc.tickets.take_comment(who.id,
                                                                     message.text.strip()):
        await send(update, context, t("tk_comment_saved", lang))
        raise ApplicationHandlerStop
    view = svc.tickets.get(active_id) if active_id else None
    if view is None:
        return
    label = text or f"[{_kind(message)}]"
    # stored and queued for the officers in one transaction before the exporter hears
    # "forwarded": text is re-rendered (escaped) for them, media is copied as it is
    media = None if message.text else (message.chat_id, message.message_id)
    view = svc.tickets.add_exporter_message(view.id, who.id, label, media)
    key = "tk_followup_ok" if svc.tickets.officer_chats() else "tk_followup_stored"
    await send(update, context, t(key, lang, id=view.id),
               InlineKeyboardMarkup([[button(t("tk_back", lang), "o:back")]]))
    await flush(context)
    raise ApplicationHandlerStop


def _kind(message: Message) -> str:
    for kind in ("photo", "document", "voice", "video", "sticker", "audio", "location"):
        if getattr(message, kind, None):
            return kind
    return "message"


async def on_exporter_button(update: Update, context: Context) -> None:
    """o:ask, o:back, r:N:stars, o:comment:N."""
    query = update.callback_query
    svc = services(context)
    who = person(update, context)
    lang = who.lang
    data = query.data or ""
    if data == "o:ask":
        await query.answer()
        await escalate(update, context)
    elif data == "o:cek":
        await query.answer()
        answers = precheck.answers_for_officer(context, who.id)
        await escalate(update, context, answers)
    elif data == "o:back":
        await query.answer()
        svc.tickets.detach(who.id)
        await send(update, context, t("tk_detached", lang))
    elif data.startswith("r:") and _ints(data[2:], 2):
        ticket_id, stars = _ints(data[2:], 2)  # type: ignore[misc]
        if not svc.tickets.rate(ticket_id, who.id, stars):
            await query.answer(t("button_invalid", lang), show_alert=True)
            return
        await query.answer(t("tk_rated", lang))
        await send(update, context, t("tk_rated", lang), InlineKeyboardMarkup(
            [[button(t("tk_add_comment", lang), f"o:comment:{ticket_id}")]]))
        await flush(context)
    elif data.startswith("o:comment:") and _ints(data[10:], 1):
        (ticket_id,) = _ints(data[10:], 1)  # type: ignore[misc]
        if svc.tickets.start_comment(ticket_id, who.id):
            await query.answer()
            await send(update, context, t("tk_comment_prompt", lang))
        else:
            await query.answer(t("button_invalid", lang), show_alert=True)
    else:
        await query.answer(t("button_invalid", lang), show_alert=True)


def _ints(text: str, count: int) -> tuple[int, ...] | None:
    parts = text.split(":")
    if len(parts) != count or not all(p.isdecimal() and len(p) <= 9 for p in parts):
        return None
    return tuple(int(p) for p in parts)


# -- the officers' side --------------------------------------------------------------------

async def act(update: Update, context: Context, action: str, ticket_id: int,
              text: str = "") -> None:
    """One officer action on a ticket, answered in the chat where it was asked."""
    svc = services(context)
    who = person(update, context)
    lang = lang_of(update, context)
    name = officer_name(update)
    if action == "reply":
        note = internal_note(text)
        if note is not None:
            # // and /note keep it inside the office, on every way an officer answers
            action, text = "note", note
    if action in ("reply", "note") and not text.strip():
        await send(update, context, t("tk_reply_usage", lang))
        return
    try:
        if action == "claim":
            view = svc.tickets.claim(ticket_id, who.id, name)
            note = t("tk_claimed", lang, id=view.id, name=escape(name))
        elif action == "reply":
            view = svc.tickets.reply(ticket_id, who.id, name, text)
            note = t("tk_reply_sent", lang, id=view.id) if view.reply_parts == 1 else \
                t("tk_reply_sent_parts", lang, id=view.id, parts=view.reply_parts)
        elif action == "note":
            view = svc.tickets.note(ticket_id, who.id, text)
            note = t("tk_note_saved", lang, id=view.id)
        elif action == "close":
            view = svc.tickets.close(ticket_id, who.id, text)
            note = t("tk_closed_group", lang, id=view.id)
        else:
            view = svc.tickets.reopen(ticket_id, who.id)
            note = t("tk_reopened", lang, id=view.id)
    except TicketError as exc:
        values = {k: escape(str(v)) for k, v in exc.values.items()}
        await send(update, context, t(exc.key, lang, **values))
        return
    await flush(context, view.user_id)
    if update.callback_query is None:
        await send(update, context, note)


async def reply_in_group(update: Update, context: Context) -> None:
    """A Telegram reply to a card, a relayed follow-up or a notice answers the ticket, in
    the officers' group or, without a group, in an officer's private chat."""
    message = update.message
    svc = services(context)
    if message is None or message.reply_to_message is None:
        return
    target = message.reply_to_message
    if target.from_user is None or target.from_user.id != context.bot.id:
        return      # officers talking to each other
    who = person(update, context)
    ticket_id = svc.tickets.by_group_message(target.message_id, message.chat_id)
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
    # ticket ids are 32-bit integers, as in the buttons: at most 9 digits
    if len(args) < 2 or not args[0].lstrip("#").isdecimal() or len(args[0].lstrip("#")) > 9:
        await send(update, context, t("tk_reply_usage", lang_of(update, context)))
        return
    await act(update, context, "reply", int(args[0].lstrip("#")), _rest(update, 2))


async def note_command(update: Update, context: Context) -> None:
    """/note N text, or /note text as a reply to a ticket's message: an internal note,
    never sent to the exporter."""
    args = context.args or []
    message = update.effective_message
    target = message.reply_to_message if message is not None else None
    if target is not None and message is not None:
        ticket_id = services(context).tickets.by_group_message(target.message_id,
                                                               message.chat_id)
        if ticket_id is not None and not (args and args[0].lstrip("#").isdecimal()):
            await act(update, context, "note", ticket_id, _rest(update, 1))
            return
    if len(args) < 2 or not args[0].lstrip("#").isdecimal() or len(args[0].lstrip("#")) > 9:
        await send(update, context, t("tk_note_usage", lang_of(update, context)))
        return
    await act(update, context, "note", int(args[0].lstrip("#")), _rest(update, 2))


def _rest(update: Update, skip: int) -> str:
    """The command's text after `skip` words, line breaks kept (context.args loses them)."""
    text = (update.effective_message.text or "") if update.effective_message else ""
    parts = text.split(maxsplit=skip)
    return parts[skip] if len(parts) > skip else ""


def numbered(action: str):  # type: ignore[no-untyped-def]
    async def handler(update: Update, context: Context) -> None:
        args = context.args or []
        if not args or not args[0].lstrip("#").isdecimal() or len(args[0].lstrip("#")) > 9:
            await send(update, context, t("tk_number_usage", lang_of(update, context),
                                          command=action))
            return
        await act(update, context, action, int(args[0].lstrip("#")), " ".join(args[1:]))
    handler.__doc__ = f"/{action} N"
    return handler


async def queue(update: Update, context: Context) -> None:
    """/queue: every open ticket, unclaimed first, with its age."""
    await _list(update, context, services(context).tickets.queue(), "tk_queue_header")


async def mine(update: Update, context: Context) -> None:
    """/mine: the officer's own open tickets."""
    who = person(update, context)
    await _list(update, context, services(context).tickets.mine(who.id), "tk_mine_header")


async def _list(update: Update, context: Context, views: list[TicketView], header: str) -> None:
    svc = services(context)
    lang = lang_of(update, context)
    if not views:
        await send(update, context, t("tk_queue_empty", lang))
        return
    lines = [t(header, lang)] + [
        t("tk_queue_line", lang, id=v.id, status=svc.tickets.status_line(v),
          age=svc.tickets.age(v), who=escape(v.company or v.exporter),
          question=escape(v.question[:80])) for v in views]
    await send(update, context, "\n".join(lines))


async def on_card_button(update: Update, context: Context) -> None:
    """tk:c|x|r|f:N on cards; pf:N:choice for FAQ proposals."""
    query = update.callback_query
    svc = services(context)
    who = person(update, context)
    data = query.data or ""
    if who.role not in STAFF:
        await query.answer(t("officer_only", who.lang), show_alert=True)
        return
    kind, _, rest = data.partition(":")
    if kind == "tk":
        action, _, number = rest.partition(":")
        actions = {"c": "claim", "x": "close", "r": "reopen"}
        if number.isdecimal() and len(number) <= 9 and action in actions:
            await query.answer()
            await act(update, context, actions[action], int(number))
            return
        if number.isdecimal() and len(number) <= 9 and action == "f":
            await query.answer()
            await offer_faq(update, context, int(number))
            return
    elif kind == "pf":
        number, _, choice = rest.partition(":")
        if number.isdecimal() and len(number) <= 9 and (choice == "new"
                                                      or svc.answers.has_topic(choice)):
            await query.answer()
            proposal = svc.proposals.propose(int(number), who.id,
                                             None if choice == "new" else choice)
            # the admin reviews (and edits) the cleaned draft with /proposals
            if proposal is not None:
                await send(update, context, t("tk_faq_proposed", who.lang, id=proposal))
                return
    await query.answer(t("button_invalid", who.lang), show_alert=True)


async def offer_faq(update: Update, context: Context, ticket_id: int) -> None:
    svc = services(context)
    lang = lang_of(update, context)
    view = svc.tickets.get(ticket_id)
    if view is None:
        await send(update, context, t("tk_unknown", lang, id=ticket_id))
        return
    rows = [[button(t("tk_faq_new", lang), f"pf:{ticket_id}:new")]]
    for tid, _ in svc.answers.ask(view.question, lang, log=False).candidates[:3]:
        rows.append([button(svc.answers.title(tid, lang), f"pf:{ticket_id}:{tid}")])
    await send(update, context, t("tk_faq_choose", lang, id=ticket_id), InlineKeyboardMarkup(rows))


# -- officers: gaps ----------------------------------------------------------------------------

async def gaps(update: Update, context: Context) -> None:
    """/gaps [days]: unanswered questions grouped by similarity, most frequent first."""
    svc = services(context)
    lang = lang_of(update, context)
    args = context.args or []
    if args and (not args[0].isdecimal() or not 1 <= int(args[0]) <= 3650):
        await send(update, context, t("gaps_usage", lang))
        return
    days = int(args[0]) if args else 30
    groups = svc.answers.gaps(days)
    if not groups:
        await send(update, context, t("gaps_none", lang))
        return
    lines = [t("gaps_header", lang, days=days)] + [
        t("gaps_line", lang, count=count, question=escape(text[:120])) for text, count in groups[:20]]
    await send(update, context, "\n".join(lines))


# -- jobs ------------------------------------------------------------------------------------

async def sla_job(context: Context) -> None:
    """Every minute: warn before the first-response target, say when it is breached (the
    notices are queued with the change that marks them, so each is sent once)."""
    if services(context).tickets.sla_pass():
        await flush(context)


async def card_job(context: Context) -> None:
    """Queue a card for tickets whose card is neither posted nor on its way (Telegram
    refused it for good, say), so the officers' chat holds every ticket."""
    if services(context).tickets.repost_missing_cards():
        await flush(context)


class _TicketReply(filters.MessageFilter):
    """A reply to one of the bot's messages about a ticket (checked only for staff in
    private: any other reply of theirs stays a question for the FAQ)."""

    def __init__(self, tickets: TicketService) -> None:
        super().__init__(name="TicketReply")
        self.tickets = tickets

    def filter(self, message: Message) -> bool:
        target = message.reply_to_message
        return target is not None and target.from_user is not None \
            and target.from_user.is_bot \
            and self.tickets.by_group_message(target.message_id, message.chat_id) is not None


def register(app: Application) -> None:
    restrict(app, OFFICER_COMMANDS, STAFF)
    app.add_handler(CommandHandler(["officer", "petugas"], officer_command))
    app.add_handler(CommandHandler("reply", reply_command))
    app.add_handler(CommandHandler("note", note_command))
    app.add_handler(CommandHandler("queue", queue))
    app.add_handler(CommandHandler("mine", mine))
    for action in ("claim", "close", "reopen"):
        app.add_handler(CommandHandler(action, numbered(action)))
    app.add_handler(CommandHandler("gaps", gaps))
    app.add_handler(CallbackQueryHandler(on_exporter_button, pattern=r"^(o:|r:)"))
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=r"^(tk|pf):"))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.REPLY
                                   & filters.UpdateType.MESSAGE, reply_in_group))
    # without a group, officers get the cards in private and answer them there; an
    # exporter's reply to one of the bot's messages stays a question for the FAQ
    svc = app.bot_data["services"]
    staff = set(svc.settings.officer_ids) | set(svc.settings.admin_ids)
    if staff:
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
                                       & filters.User(staff) & _TicketReply(svc.tickets),
                                       reply_in_group))


def register_router(app: Application, group: int) -> None:
    """The exporter-side router runs in its own group, before any FAQ matching."""
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
                                   & ~filters.COMMAND, route_exporter_message), group=group)

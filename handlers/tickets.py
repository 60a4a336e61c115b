"""The officer queue in Telegram: exporters escalate, officers claim, reply, close."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services.tickets import GROUP_LANG, TicketError, TicketView
from handlers import precheck
from handlers.common import (
    SEND_ATTEMPTS,
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
OFFICER_COMMANDS = frozenset({"reply", "queue", "mine", "claim", "close", "reopen", "gaps"})
RECENT_QUESTION_MINUTES = 30


def officer_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "") or "Petugas"


# -- the officers' group: cards ----------------------------------------------------------

async def post_card(context: Context, view: TicketView) -> None:
    """Post the card of a new ticket; a failure leaves it for card_job to post."""
    svc = services(context)
    group = svc.settings.officers_chat_id
    if group is None:
        return
    for attempt in range(SEND_ATTEMPTS):
        try:
            message = await context.bot.send_message(
                group, svc.tickets.card_text(view), parse_mode=ParseMode.HTML,
                reply_markup=svc.tickets.card_keyboard(view))
        except (BadRequest, Forbidden, RetryAfter) as exc:
            log.warning("ticket %s: card not posted (%s); posted later", view.id, exc)
            return
        except TelegramError as exc:    # 5xx, a lost connection: try again at once
            log.warning("ticket %s: card not posted (%s), attempt %d", view.id, exc,
                        attempt + 1)
            continue
        svc.tickets.set_card(view.id, message.message_id)
        return


async def refresh_card(context: Context, view: TicketView) -> None:
    """Edit the card so the group sees where the ticket stands."""
    svc = services(context)
    group = svc.settings.officers_chat_id
    if group is None or view.card_message_id is None:
        return
    try:
        await context.bot.edit_message_text(
            svc.tickets.card_text(view), chat_id=group, message_id=view.card_message_id,
            parse_mode=ParseMode.HTML, reply_markup=svc.tickets.card_keyboard(view))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.warning("ticket %s: card not updated (%s)", view.id, exc)
    except TelegramError as exc:
        # the card is only a view of the ticket: the action itself is done, and the next
        # change edits it again
        log.warning("ticket %s: card not updated (%s)", view.id, exc)


async def tell_group(context: Context, text: str, reply_to: int | None = None) -> Message | None:
    group = services(context).settings.officers_chat_id
    if group is None:
        return None
    try:
        return await context.bot.send_message(group, text, parse_mode=ParseMode.HTML,
                                              reply_to_message_id=reply_to)
    except TelegramError as exc:
        log.warning("officers' group not reached: %s", exc)
        return None


# -- the exporter's side -------------------------------------------------------------------

async def escalate(update: Update, context: Context, question: str | None = None) -> None:
    """Open (or reuse) a ticket with this question, or the last one asked recently."""
    svc = services(context)
    who = person(update, context)
    lang = who.lang
    tried: list[tuple[str, float]] = []
    if question is None:
        last = svc.answers.last_question(who.id, RECENT_QUESTION_MINUTES)
        if last is None:
            context.user_data["ticket_question_pending"] = True
            await send(update, context, t("tk_need_question", lang))
            return
        question, tried = last
    else:
        tried = [(tid, score) for tid, score in svc.answers.ask(
            question, lang, log=False).candidates]
    view, created = svc.tickets.open(who.id, question[:2000], tried)
    expect = svc.tickets.expectation(lang)
    keyboard = InlineKeyboardMarkup([[button(t("tk_back", lang), "o:back")]])
    if created:
        await send(update, context, t("tk_opened", lang, id=view.id, expect=expect), keyboard)
        await post_card(context, view)
    else:
        await send(update, context, t("tk_added", lang, id=view.id, expect=expect), keyboard)
        await relay_to_group(update, context, view, question)


async def officer_command(update: Update, context: Context) -> None:
    """/officer, /petugas: talk to a human."""
    text = " ".join(context.args or []).strip()
    # zero-width or symbol-only "questions" would open a ticket no officer can read
    await escalate(update, context, text if any(ch.isalnum() for ch in text) else None)


async def relay_to_group(update: Update, context: Context, view: TicketView,
                         text: str | None) -> None:
    """An exporter's follow-up appears in the group as a reply to the ticket's card."""
    svc = services(context)
    group = svc.settings.officers_chat_id
    if group is None:
        return
    message = update.effective_message
    try:
        if text is not None:
            sent = await tell_group(context, t("tk_followup_in_group", GROUP_LANG, id=view.id,
                                               name=escape(view.exporter), text=escape(text)),
                                    reply_to=view.card_message_id)
            message_id = sent.message_id if sent else None
        else:
            copy = await context.bot.copy_message(group, message.chat_id, message.message_id,
                                                  reply_to_message_id=view.card_message_id)
            message_id = copy.message_id
    except TelegramError as exc:
        log.warning("ticket %s: follow-up not copied to the group (%s)", view.id, exc)
        return
    if message_id is not None:
        svc.tickets.record_group_copy(view.id, message_id)


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
    view = svc.tickets.add_exporter_message(view.id, who.id, label[:4000])
    # text is re-rendered (escaped) for the group; media is copied as it is
    await relay_to_group(update, context, view, text if message.text else None)
    await refresh_card(context, view)
    await send(update, context, t("tk_followup_ok", lang, id=view.id),
               InlineKeyboardMarkup([[button(t("tk_back", lang), "o:back")]]))
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
        view = svc.tickets.get(ticket_id)
        if view is not None:
            await refresh_card(context, view)
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
    try:
        if action == "claim":
            view = svc.tickets.claim(ticket_id, who.id, name)
            note = t("tk_claimed", lang, id=view.id, name=escape(name))
        elif action == "reply":
            view = svc.tickets.reply(ticket_id, who.id, name, text)
            note = t("tk_reply_sent", lang, id=view.id)
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
    await refresh_card(context, view)
    if update.callback_query is None:
        await send(update, context, note)


async def reply_in_group(update: Update, context: Context) -> None:
    """A Telegram reply to a card (or a relayed message) answers the ticket."""
    message = update.message
    svc = services(context)
    if message is None or message.reply_to_message is None:
        return
    target = message.reply_to_message
    if target.from_user is None or target.from_user.id != context.bot.id:
        return      # officers talking to each other
    ticket_id = svc.tickets.by_group_message(target.message_id)
    who = person(update, context)
    if ticket_id is None:
        if who.role in STAFF:
            await send(update, context, t("tk_not_a_card", who.lang))
        return
    if who.role not in STAFF:
        await send(update, context, t("officer_only", who.lang))
        return
    text = (message.text or "").strip()
    if not text:
        return
    if text.startswith("//") or text.lower().startswith("/note"):
        body = text[2:] if text.startswith("//") else text[5:]
        await act(update, context, "note", ticket_id, body.strip())
    else:
        await act(update, context, "reply", ticket_id, text)


async def reply_command(update: Update, context: Context) -> None:
    """/reply N text"""
    args = context.args or []
    # ticket ids are 32-bit integers, as in the buttons: at most 9 digits
    if len(args) < 2 or not args[0].lstrip("#").isdecimal() or len(args[0].lstrip("#")) > 9:
        await send(update, context, t("tk_reply_usage", lang_of(update, context)))
        return
    await act(update, context, "reply", int(args[0].lstrip("#")), " ".join(args[1:]))


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
    """Every minute: warn before the first-response target, say when it is breached."""
    svc = services(context)
    minutes = f"{svc.settings.tickets_first_response_minutes:g}"
    for view, kind in svc.tickets.sla_pass():
        key = "tk_sla_warn" if kind == "warn" else "tk_sla_breach"
        await tell_group(context, t(key, GROUP_LANG, id=view.id, minutes=minutes),
                         reply_to=view.card_message_id)


async def card_job(context: Context) -> None:
    """Post the cards that could not be posted when their tickets were opened: Telegram
    refused, or the process died in between. Closed tickets get theirs too, so the group
    holds every ticket."""
    for view in services(context).tickets.without_card():
        await post_card(context, view)


def register(app: Application) -> None:
    restrict(app, OFFICER_COMMANDS, STAFF)
    app.add_handler(CommandHandler(["officer", "petugas"], officer_command))
    app.add_handler(CommandHandler("reply", reply_command))
    app.add_handler(CommandHandler("queue", queue))
    app.add_handler(CommandHandler("mine", mine))
    for action in ("claim", "close", "reopen"):
        app.add_handler(CommandHandler(action, numbered(action)))
    app.add_handler(CommandHandler("gaps", gaps))
    app.add_handler(CallbackQueryHandler(on_exporter_button, pattern=r"^(o:|r:)"))
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=r"^(tk|pf):"))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.REPLY
                                   & filters.UpdateType.MESSAGE, reply_in_group))


def register_router(app: Application, group: int) -> None:
    """The exporter-side router runs in its own group, before any FAQ matching."""
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
                                   & ~filters.COMMAND, route_exporter_message), group=group)

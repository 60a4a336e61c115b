"""Tickets, the exporter's side: ask an officer, follow up, go back to the FAQ, rate."""

from __future__ import annotations

import datetime as dt
import logging
import time

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler

from bot.i18n import t
from bot.models import utcnow
from bot.services.documents import MAX_BYTES
from bot.services.intake import RECENT_QUESTION_MINUTES, TicketFile, TicketIntake
from bot.services.tickets import ALREADY, GROUP_LANG, OPENED, Attachment
from bot.telegram import keyboards
from bot.telegram.buttons import LeaveTicket, Rating, RatingComment
from handlers.common import (
    COMMENT_PROMPT,
    IN_TICKET,
    PENDING_QUESTION,
    STAFF,
    Context,
    escape,
    flush_officers,
    pressed,
    refuse_button,
    repeated_in_album,
    send,
    set_keyboard,
)

log = logging.getLogger(__name__)
_MB = str(MAX_BYTES // (1024 * 1024))


async def escalate(
    update: Update,
    context: Context,
    question: str | None = None,
    *,
    query_id: int | None = None,
    request: str | None = None,
) -> None:
    """Open (or reuse) a ticket with the question `TicketIntake.question` picks from
    these; with nothing to ask, ask the exporter for the question."""
    svc = context.services
    who = context.person
    lang = who.lang
    handover = svc.intake.question(who.id, question, query_id=query_id, request=request)
    if handover is None:
        context.user_state[PENDING_QUESTION] = time.monotonic()
        await send(update, context, t("tk_need_question", lang))
        return
    (text, outcome, tried), also = handover.asked, handover.also
    # the whole question is kept: the card shows its start, the rest follows the card
    view, state = svc.tickets.open(who.id, text, tried, outcome, also)
    # a question /petugas asked for earlier is not wanted any more: the ticket is open;
    # an open /cek check would take the next texts, which are the ticket's now (/cek
    # resumes it)
    drop_pending_question(context)
    if svc.precheck_store.pause(who.id):
        await send(update, context, t("tk_check_paused", lang))
    keyboard = keyboards.back_to_faq(lang)
    if state == ALREADY:
        await send(update, context, t("tk_already_in_ticket", lang, id=view.id), keyboard)
        return
    if not svc.tickets.officer_chats():
        # stored for /queue, but no officer is reachable through the bot: say so
        phone = svc.settings.office.phone
        text = (
            t("tk_no_officers", lang, id=view.id, phone=escape(phone))
            if phone
            else t("tk_no_officers_nophone", lang, id=view.id)
        )
        await send(update, context, text, keyboard)
        return
    expect = svc.tickets.expectation(lang)
    key = "tk_opened" if state == OPENED else "tk_added"
    # stored with its card already: the exporter hears it first, then the card goes
    await send(update, context, t(key, lang, id=view.id, expect=expect), keyboard)
    await flush_officers(context)


def pending_question(context: Context) -> bool:
    """Whether the exporter's next text is the question /petugas asked for (and not a
    stale request: after a while it is a question for the FAQ again)."""
    since = context.user_state.get(PENDING_QUESTION)
    fresh = isinstance(since, float) and time.monotonic() - since < RECENT_QUESTION_MINUTES * 60
    if not fresh:
        context.user_state.pop(PENDING_QUESTION, None)
    return fresh


def drop_pending_question(context: Context) -> None:
    context.user_state.pop(PENDING_QUESTION, None)


async def officer_command(update: Update, context: Context) -> None:
    """/officer, /petugas: talk to a human."""
    text = " ".join(context.args or []).strip()
    # zero-width or symbol-only "questions" would open a ticket no officer can read
    question = text if any(ch.isalnum() for ch in text) else None
    svc = context.services
    if question is None and (await svc.db.run(svc.conversations.of, context.person.id)).check_step:
        # the open /cek check takes the next text: it would swallow the question
        await send(update, context, t("tk_finish_check_first", context.lang))
        return
    await escalate(update, context, question)


def comment_wanted(context: Context, closed_at: dt.datetime) -> bool:
    """Whether this message answers the 💬 prompt: it comes right after the press (a
    command or a button in between means the exporter moved on) and within the
    minutes of a question still "recent"; a later question must not be taken for it.
    A restart forgets the press: then the ticket must have closed within those minutes."""
    prompt = context.user_state.pop(COMMENT_PROMPT, None)
    window = RECENT_QUESTION_MINUTES * 60
    if prompt is None:
        return (utcnow() - closed_at).total_seconds() < window
    return (
        isinstance(prompt, tuple)
        and prompt[0] == context.user_state.get("previous_update")
        and time.monotonic() - prompt[1] < window
    )


async def take_comment(update: Update, context: Context, text: str) -> bool:
    """The text as the comment of the exporter's last rating; False if none waits for one."""
    if not context.services.tickets.take_comment(context.person.id, text.strip()):
        return False
    await send(update, context, t("tk_comment_saved", context.lang))
    return True


async def follow_up(update: Update, context: Context, ticket_id: int, message: Message) -> bool:
    """A message while a ticket is open goes to the officers; False if the ticket is gone."""
    svc = context.services
    who = context.person
    view = svc.tickets.get(ticket_id)
    if view is None:
        context.user_state.pop(IN_TICKET, None)
        return False
    context.user_state[IN_TICKET] = time.monotonic()
    label = message.text or message.caption or f"[{_kind(message)}]"
    media = attachment = None
    if update.edited_message is not None:
        # the officers may have read the first version already: they see the new one,
        # marked, as text (an edited caption does not send its file again)
        shown = message.text or message.caption or t("gd_caption_removed", GROUP_LANG)
        label = t("gd_edit_mark", GROUP_LANG) + " " + shown
    elif not message.text:
        # a file reaches the officers' group only past the checks an /upload passes
        checked = await _checked_file(context, message)
        if isinstance(checked, str):
            # the file stays out, but not what the exporter wrote with it, nor the fact
            # that they tried: the officers may need to ask for it another way
            said = t("gd_refused_for_officers", GROUP_LANG, kind=_kind(message))
            if message.caption:
                said += " " + message.caption
            svc.tickets.add_exporter_message(view.id, who.id, said, None, None)
            await send(
                update, context, t(checked, who.lang, id=view.id, mb=_MB), keyboards.back_to_faq(who.lang)
            )
            await flush_officers(context)
            return True
        media, attachment = (message.chat_id, message.message_id), checked
    # stored and queued for the officers in one transaction before the exporter hears
    # "forwarded": text is re-rendered (escaped) for them, a file copied under our caption
    view = svc.tickets.add_exporter_message(view.id, who.id, label, media, attachment)
    # an album arrives as one update per photo: one confirmation says it for all of them
    # (ten would take ten seconds at Telegram's pace in a private chat)
    if update.edited_message is not None or not repeated_in_album(update, context, "tk_followup"):
        key = "tk_followup_ok" if svc.tickets.officer_chats() else "tk_followup_stored"
        await send(update, context, t(key, who.lang, id=view.id), keyboards.back_to_faq(who.lang))
    await flush_officers(context)
    return True


async def _checked_file(context: Context, message: Message) -> Attachment | str:
    """The file as the ticket may relay it, or the catalog key of its refusal
    (`TicketIntake.attachment`); anything but a photo or a document is not taken."""
    photo, doc = message.photo[-1] if message.photo else None, message.document
    if photo is not None:
        file = TicketFile(True, photo.file_size, caption=message.caption or "")
    elif doc is not None:
        file = TicketFile(
            False, doc.file_size, doc.file_name or "", doc.mime_type or "", message.caption or ""
        )
    else:
        return "gd_message_refused"
    content = None
    if doc is not None and TicketIntake.needs_content(file):
        try:
            content = bytes(await (await context.bot.get_file(doc.file_id)).download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not fetch a ticket file (%s); judged by its declared type", exc)
    return TicketIntake.attachment(file, content)


async def on_edit(update: Update, context: Context) -> None:
    """An exporter edited a private message: while a ticket is open the officers get the
    new text, marked as an edit; otherwise the edit is not read (answering it again
    would repeat an answer). Every edit stops here: no command runs from an edit."""
    message = update.edited_message
    svc = context.services
    if message is not None and context.person.role not in STAFF:
        state = await svc.db.run(svc.conversations.of, context.person.id)
        if state.open_ticket is not None:
            await follow_up(update, context, state.open_ticket, message)
    raise ApplicationHandlerStop


_KINDS = (
    "photo", "document", "voice", "video_note", "video", "animation", "sticker", "audio",
    "contact", "venue", "location", "poll", "dice",
)  # fmt: skip


def _kind(message: Message) -> str:
    """What the exporter sent, named for the officers (in the group's language)."""
    found = next((kind for kind in _KINDS if getattr(message, kind, None)), "message")
    return t(f"gd_kind_{found}", GROUP_LANG)


async def on_leave(update: Update, context: Context) -> None:
    """o:back: the exporter's next messages are questions for the FAQ again."""
    query, _ = pressed(update, LeaveTicket)
    await query.answer()
    had = context.services.tickets.detach(context.person.id)
    await send(update, context, t("tk_detached" if had else "tk_detached_none", context.lang))


async def on_rating(update: Update, context: Context) -> None:
    """r:TICKET:STARS under a closed ticket."""
    query, rating = pressed(update, Rating)
    lang = context.lang
    tickets = context.services.tickets
    if rating is None or not tickets.rate(rating.ticket, context.person.id, rating.stars):
        if rating is not None and tickets.rated(rating.ticket, context.person.id):
            # a second star pressed under the same question: the first one counts
            await query.answer(t("tk_rated_already", lang), show_alert=True)
            await set_keyboard(update, None)
            return
        await refuse_button(update, context)
        return
    await query.answer(t("tk_rated", lang))
    # the stars have done their work: left there, they invite a second press
    await set_keyboard(update, None)
    await send(update, context, t("tk_rated", lang), keyboards.rating_comment(rating.ticket, lang))
    await flush_officers(context)


async def on_comment(update: Update, context: Context) -> None:
    """o:comment:TICKET: the next text is the rating's comment."""
    query, comment = pressed(update, RatingComment)
    if comment is None or not context.services.tickets.start_comment(comment.ticket, context.person.id):
        await refuse_button(update, context)
        return
    await query.answer()
    context.user_state[COMMENT_PROMPT] = (update.update_id, time.monotonic())
    await send(update, context, t("tk_comment_prompt", context.lang))


def register(app: Application) -> None:
    app.add_handler(CommandHandler(["officer", "petugas"], officer_command))
    app.add_handler(CallbackQueryHandler(on_leave, pattern=LeaveTicket.pattern))
    app.add_handler(CallbackQueryHandler(on_rating, pattern=Rating.pattern))
    app.add_handler(CallbackQueryHandler(on_comment, pattern=RatingComment.pattern))

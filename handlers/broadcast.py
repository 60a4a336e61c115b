"""/broadcast: an officer's announcement, previewed with its audience, then queued."""

from __future__ import annotations

from telegram import Update
from telegram.constants import MessageLimit
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, JobQueue

from bot.i18n import t
from bot.services.broadcasts import COMMODITY, BroadcastError, BroadcastView
from bot.telegram import keyboards
from bot.telegram.buttons import BroadcastChoice
from bot.telegram.context import HelpDeskContext
from handlers.common import (
    STAFF,
    Context,
    chat_id_of,
    chunks,
    escape,
    message_of,
    pressed,
    restrict,
    send,
    show_result,
)

STAFF_COMMANDS = frozenset({"broadcast"})
FINISH_INTERVAL = 5.0
# what a preview adds to the text: its title, the audience (a commodity name) and a
# trailer such as "queued"; a text that leaves less room is shown apart from the buttons
PREVIEW_ROOM = 600


def preview(view: BroadcastView, lang: str) -> str:
    audience = _audience(view, lang)
    text = t(
        "bc_preview",
        lang,
        id=view.id,
        audience=audience,
        count=view.reachable,
        blocked=view.blocked,
        text=escape(view.text),
    )
    # what each exporter gets: the header and the escaped text, split where it must be
    parts = len(chunks(_outgoing(view, lang)))
    if parts > 1:
        text += "\n\n" + t("bc_parts", lang, parts=parts)
    return text


def _audience(view: BroadcastView, lang: str) -> str:
    values = {"commodity": escape(view.commodity or "")} if view.audience == COMMODITY else {}
    return t(f"bc_audience_{view.audience}", lang, **values)


def _outgoing(view: BroadcastView, lang: str) -> str:
    return f"{t('bc_header', lang)}\n\n{escape(view.text)}"


def text_apart(view: BroadcastView) -> bool:
    """Whether the preview shows the text in messages of its own, above a short status
    that carries the buttons. A button press edits only that status, so the long text is
    posted once, not again on every press. Decided by the text alone: a press finds the
    layout the draft was posted with, whatever audience or language is chosen since."""
    return len(chunks(escape(view.text), MessageLimit.MAX_TEXT_LENGTH - PREVIEW_ROOM)) > 1


def status(view: BroadcastView, lang: str) -> str:
    """The part of the preview a button press changes (the whole preview if it is short)."""
    if not text_apart(view):
        return preview(view, lang)
    audience = _audience(view, lang)
    return t(
        "ops_bc_status",
        lang,
        id=view.id,
        audience=audience,
        count=view.reachable,
        blocked=view.blocked,
        parts=len(chunks(_outgoing(view, lang))),
    )


async def broadcast_command(update: Update, context: Context) -> None:
    """/broadcast TEXT: a draft with its preview; nothing is sent before [Send]."""
    lang = context.lang
    parts = (message_of(update).text or "").split(None, 1)
    text = parts[1] if len(parts) == 2 else ""
    try:
        view = context.services.broadcasts.draft(context.person.id, chat_id_of(update), text)
    except BroadcastError as exc:
        await send(update, context, exc.text(lang))
        return
    if text_apart(view):
        # the parts exactly as each exporter gets them
        for part in chunks(_outgoing(view, lang)):
            await send(update, context, part)
    await send(update, context, status(view, lang), keyboards.broadcast_draft(view, lang))


async def broadcast_button(update: Update, context: Context) -> None:
    """bc:<id>:all|open|c<n>|send|cancel, only for the draft's author."""
    query, button = pressed(update, BroadcastChoice)
    lang = context.lang
    svc = context.services.broadcasts
    who = context.person.id
    if context.person.role not in STAFF:
        # the author of a draft who is no officer any more (removed from the config)
        # must not send it in the office's name
        await query.answer(t("officer_only", lang), show_alert=True)
        return
    if button is None:
        await query.answer(t("bc_button_invalid", lang), show_alert=True)
        return
    bid, action = button.broadcast, button.choice
    try:
        if action == "send":
            view = svc.send(bid, who)
        elif action == "cancel":
            view = svc.cancel(bid, who)
        else:
            view, changed = svc.choose(bid, who, action)
            if not changed:
                await query.answer()
                return
    except BroadcastError as exc:
        await query.answer(exc.text(lang), show_alert=True)
        return
    await query.answer()
    keyboard = None
    if action == "send":
        text = status(view, lang) + "\n\n" + t("bc_queued", lang, id=view.id, count=view.reachable)
    elif action == "cancel":
        text = t("bc_cancelled", lang, id=view.id)
    else:
        text, keyboard = status(view, lang), keyboards.broadcast_draft(view, lang)
    await show_result(update, context, text, keyboard)


async def finish_job(context: Context) -> None:
    """Job: summaries of broadcasts whose messages have all left (or failed)."""
    context.services.broadcasts.finish()


def schedule_jobs(jobs: JobQueue[HelpDeskContext]) -> None:
    # the state is in the broadcasts and outbox tables, so a restart resumes by itself
    jobs.run_repeating(
        finish_job,
        interval=FINISH_INTERVAL,
        first=FINISH_INTERVAL,
        name="broadcast-finish",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )


def register(app: Application) -> None:
    restrict(app, STAFF_COMMANDS, STAFF)
    app.add_handler(CommandHandler("broadcast", broadcast_command))
    # malformed data gets the broadcasts' own refusal
    app.add_handler(CallbackQueryHandler(broadcast_button, pattern=BroadcastChoice.prefix_pattern()))

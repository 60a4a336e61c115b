"""/broadcast: an officer's announcement, previewed with its audience, then queued."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.i18n import t
from bot.services.broadcasts import ALL, COMMODITY, OPEN, BroadcastError, BroadcastView
from handlers.common import (
    STAFF,
    Context,
    button,
    chunks,
    escape,
    lang_of,
    person,
    restrict,
    send,
    services,
    show_result,
)

STAFF_COMMANDS = frozenset({"broadcast"})
FINISH_INTERVAL = 5.0


def _preview(view: BroadcastView, lang: str) -> str:
    audience = t(f"bc_audience_{view.audience}", lang, **(
        {"commodity": escape(view.commodity or "")} if view.audience == COMMODITY else {}))
    text = t("bc_preview", lang, id=view.id, audience=audience, count=view.reachable,
             blocked=view.blocked, text=escape(view.text))
    # what each exporter gets: the header and the escaped text, split where it must be
    parts = len(chunks(f"{t('bc_header', lang)}\n\n{escape(view.text)}"))
    if parts > 1:
        text += "\n\n" + t("bc_parts", lang, parts=parts)
    return text


def _keyboard(view: BroadcastView, lang: str) -> InlineKeyboardMarkup:
    def mark(chosen: bool, label: str) -> str:
        return f"• {label}" if chosen else label

    prefix = f"bc:{view.id}"
    lines = [[button(mark(view.audience == ALL, t("bc_button_all", lang)), f"{prefix}:all"),
              button(mark(view.audience == OPEN, t("bc_button_open", lang)), f"{prefix}:open")]]
    # commodity names come from imported data: cut for the button, the index is the data
    goods = [button(mark(view.commodity == name, name[:40]), f"{prefix}:c{i}")
             for i, name in enumerate(view.commodities)]
    lines += [goods[i:i + 2] for i in range(0, len(goods), 2)]
    lines.append([button(t("bc_send_button", lang), f"{prefix}:send"),
                  button(t("bc_cancel_button", lang), f"{prefix}:cancel")])
    return InlineKeyboardMarkup(lines)


async def broadcast_command(update: Update, context: Context) -> None:
    """/broadcast TEXT: a draft with its preview; nothing is sent before [Send]."""
    lang = lang_of(update, context)
    message = update.effective_message
    parts = (message.text or "").split(None, 1)
    text = parts[1] if len(parts) == 2 else ""
    try:
        view = services(context).broadcasts.draft(person(update, context).id,
                                                  update.effective_chat.id, text)
    except BroadcastError as exc:
        await send(update, context, t(exc.key, lang, **exc.values))
        return
    await send(update, context, _preview(view, lang), _keyboard(view, lang))


async def broadcast_button(update: Update, context: Context) -> None:
    """bc:<id>:all|open|c<n>|send|cancel, only for the draft's author."""
    query = update.callback_query
    lang = lang_of(update, context)
    svc = services(context).broadcasts
    parts = (query.data or "").split(":")
    who = person(update, context).id
    if len(parts) != 3 or not parts[1].isdecimal() or len(parts[1]) > 9:
        await query.answer(t("bc_button_invalid", lang), show_alert=True)
        return
    bid, action = int(parts[1]), parts[2]
    try:
        if action == "send":
            view = svc.send(bid, who)
        elif action == "cancel":
            view = svc.cancel(bid, who)
        else:
            view = svc.choose(bid, who, action)
    except BroadcastError as exc:
        await query.answer(t(exc.key, lang, **exc.values), show_alert=True)
        return
    await query.answer()
    keyboard = None
    if action == "send":
        text = _preview(view, lang) + "\n\n" + t("bc_queued", lang, id=view.id,
                                                   count=view.reachable)
    elif action == "cancel":
        text = t("bc_cancelled", lang, id=view.id)
    else:
        text, keyboard = _preview(view, lang), _keyboard(view, lang)
    await show_result(update, context, text, keyboard)


async def finish_job(context: Context) -> None:
    """Job: summaries of broadcasts whose messages have all left (or failed)."""
    services(context).broadcasts.finish()


def schedule_jobs(app: Application) -> None:
    # the state is in the broadcasts and outbox tables, so a restart resumes by itself
    app.job_queue.run_repeating(finish_job, interval=FINISH_INTERVAL, first=FINISH_INTERVAL,
                                name="broadcast-finish",
                                job_kwargs={"max_instances": 1, "coalesce": True})


def register(app: Application) -> None:
    restrict(app, STAFF_COMMANDS, STAFF)
    app.add_handler(CommandHandler("broadcast", broadcast_command))
    app.add_handler(CallbackQueryHandler(broadcast_button, pattern=r"^bc:"))

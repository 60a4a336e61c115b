"""Admins review FAQ proposals: the cleaned draft, edited in chat, then approved.

/proposals lists the pending ones, each with its draft and buttons to edit the title and
the answer in either language, to mark it Indonesian-only, and to approve or reject it.
An edit button asks for the new text with a ForceReply prompt (Telegram opens the reply
box by itself); the admin's reply to that prompt is the new text. The prompt is stored
with the proposal, so the reply works whichever bot process receives it.
"""

from __future__ import annotations

import re

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services.proposals import FIELDS, ProposalView
from bot.services.users import ADMIN
from handlers.common import Context, button, escape, person, restrict, send, services

ADMIN_COMMANDS = frozenset({"proposals"})
_EDIT = re.compile(r"^pe:(\d{1,9}):(ti|te|ai|ae|io)$")
_DECIDE = re.compile(r"^p([ar]):(.*)$")


def render(view: ProposalView, lang: str, title_of=None) -> str:  # type: ignore[no-untyped-def]
    """The draft as the admin reviews it; what is missing is marked."""
    flags = ", ".join(t(f"prop_flag_{kind}", lang, text=escape(text))
                      for kind, text in view.flags) or "-"
    if view.kind == "sample":
        target = title_of(view.target_id, lang) if title_of and view.target_id else \
            view.target_id or ""
        return t("prop_sample", lang, id=view.id, target=escape(target),
                 question=escape(view.draft_question), flags=flags)
    missing = t("prop_missing", lang)
    en_title = escape(view.title_en) if view.title_en else \
        (t("prop_id_only_mark", lang) if view.id_only else missing)
    en_answer = escape(view.answer_en) if view.answer_en else \
        (t("prop_id_only_mark", lang) if view.id_only else t("prop_missing_en", lang))
    return t("prop_new", lang, id=view.id, question=escape(view.question), flags=flags,
             title_id=escape(view.title_id) if view.title_id else missing,
             title_en=en_title,
             answer_id=escape(view.answer_id) if view.answer_id else missing,
             answer_en=en_answer)


def keyboard(view: ProposalView, lang: str) -> InlineKeyboardMarkup:
    decide = [button(t("prop_approve", lang), f"pa:{view.id}"),
              button(t("prop_reject", lang), f"pr:{view.id}")]
    if view.kind == "sample":
        return InlineKeyboardMarkup([decide])
    n = view.id
    only = t("prop_id_only_on" if view.id_only else "prop_id_only_off", lang)
    return InlineKeyboardMarkup([
        [button(t("prop_edit_ti", lang), f"pe:{n}:ti"), button(t("prop_edit_te", lang), f"pe:{n}:te")],
        [button(t("prop_edit_ai", lang), f"pe:{n}:ai"), button(t("prop_edit_ae", lang), f"pe:{n}:ae")],
        [button(only, f"pe:{n}:io")],
        decide,
    ])


async def show(update: Update, context: Context, view: ProposalView, lang: str) -> None:
    svc = services(context)
    await send(update, context, render(view, lang, svc.answers.title), keyboard(view, lang))


async def proposals(update: Update, context: Context) -> None:
    """/proposals: pending FAQ proposals, each a draft to edit, approve or reject."""
    svc = services(context)
    lang = person(update, context).lang
    pending = svc.proposals.pending()
    if not pending:
        await send(update, context, t("prop_none", lang))
        return
    await send(update, context, t("prop_header", lang))
    for view in pending:
        await show(update, context, view, lang)


async def on_edit_button(update: Update, context: Context) -> None:
    """pe:N:field asks for the new text; pe:N:io switches Indonesian-only."""
    query = update.callback_query
    svc = services(context)
    who = person(update, context)
    if who.role != ADMIN:
        await query.answer(t("admin_only", who.lang), show_alert=True)
        return
    m = _EDIT.match(query.data or "")
    view = svc.proposals.get(int(m[1])) if m else None
    if m is None or view is None or view.kind != "new":
        await query.answer(t("prop_decided" if m else "button_invalid", who.lang,
                             id=m[1] if m else ""), show_alert=True)
        return
    await query.answer()
    if m[2] == "io":
        toggled = svc.proposals.toggle_id_only(view.id)
        if toggled is not None:
            await show(update, context, toggled, who.lang)
        return
    field = FIELDS[m[2]]
    current = getattr(view, field)
    prompt: Message = await context.bot.send_message(
        update.effective_chat.id,  # type: ignore[union-attr]
        t(f"prop_ask_{m[2]}", who.lang, id=view.id) + (
            "\n" + t("prop_ask_current", who.lang, text=escape(current)) if current else ""),
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(input_field_placeholder=t(f"prop_edit_{m[2]}", who.lang)[:64]))
    svc.proposals.start_edit(view.id, field, prompt.chat_id, prompt.message_id)


async def on_edit_reply(update: Update, context: Context) -> None:
    """An admin's reply to an edit prompt is the new text; other replies go on as usual."""
    message = update.message
    if message is None or message.reply_to_message is None or not message.text:
        return
    svc = services(context)
    found = svc.proposals.editing(message.chat_id, message.reply_to_message.message_id)
    if found is None:
        return
    view, field = found
    lang = person(update, context).lang
    result = svc.proposals.set_field(view.id, field, message.text)
    if isinstance(result, str):
        await send(update, context, t(result, lang, id=view.id))
    else:
        await send(update, context, t("prop_edit_saved", lang, id=view.id))
        await show(update, context, result, lang)
    raise ApplicationHandlerStop


async def on_decide_button(update: Update, context: Context) -> None:
    """pa:N approves, pr:N rejects (admins only)."""
    query = update.callback_query
    svc = services(context)
    who = person(update, context)
    m = _DECIDE.match(query.data or "")
    if who.role != ADMIN:
        await query.answer(t("admin_only", who.lang), show_alert=True)
        return
    number = m[2] if m else ""
    if not number.isdecimal() or len(number) > 9 or not number.isascii():
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    await query.answer()
    outcome, problem = svc.proposals.decide(int(number), who.id, m[1] == "a")  # type: ignore[index]
    if outcome == "incomplete":
        await send(update, context, t("prop_incomplete", who.lang, id=int(number),
                                      field=t(f"prop_field_{problem}", who.lang)))
        return
    key = {"approved": "prop_approved", "rejected": "prop_rejected", "invalid": "prop_invalid",
           "decided": "prop_decided"}.get(outcome, "button_invalid")
    await send(update, context, t(key, who.lang, id=int(number), problem=escape(problem or "")))


class _AdminReply(filters.MessageFilter):
    """A private text reply from an admin (from the config: no database look-up)."""

    def __init__(self, admins: frozenset[int]) -> None:
        super().__init__(name="AdminReply")
        self.admins = admins

    def filter(self, message: Message) -> bool:
        return (message.reply_to_message is not None and message.from_user is not None
                and message.from_user.id in self.admins and bool(message.text)
                and not message.text.startswith("/"))


def register(app: Application) -> None:
    restrict(app, ADMIN_COMMANDS, (ADMIN,))
    app.add_handler(CommandHandler("proposals", proposals))
    app.add_handler(CallbackQueryHandler(on_edit_button, pattern=r"^pe:"))
    app.add_handler(CallbackQueryHandler(on_decide_button, pattern=r"^p[ar]:"))


def register_edit_replies(app: Application, group: int) -> None:
    """Before the exporter router of the same group: only admins' replies match here."""
    admins = app.bot_data["services"].settings.admin_ids
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
                                   & _AdminReply(admins), on_edit_reply), group=group)

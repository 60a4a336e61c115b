"""Knowledge administration: what the FAQ lacks (/gaps), officers' answers proposed as FAQ
entries from a closed ticket's card, and the admins' review of the proposals.

/proposals lists the pending ones, each with its draft and buttons to edit the title and
the answer in either language, to mark it Indonesian-only, and to approve or reject it.
An edit button asks for the new text with a ForceReply prompt (Telegram opens the reply
box by itself); the admin's reply to that prompt is the new text. The prompt is stored
with the proposal, so the reply works whichever bot process receives it.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import ForceReply, Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import t
from bot.services.proposals import FIELDS, MAX_ANSWER, MAX_TITLE, ProposalView
from bot.services.users import ADMIN
from bot.telegram import keyboards
from bot.telegram.buttons import FaqChoice, ProposalDecision, ProposalEdit
from bot.telegram.context import services_of
from bot.text import format_number
from handlers.common import STAFF, Context, chat_id_of, escape, pressed, restrict, send

ADMIN_COMMANDS = frozenset({"proposals"})
STAFF_COMMANDS = frozenset({"gaps"})


# -- officers: what the FAQ lacks, and answers worth keeping -----------------------------------


async def gaps(update: Update, context: Context) -> None:
    """/gaps [days]: unanswered questions grouped by similarity, most frequent first."""
    lang = context.lang
    args = context.args or []
    if args and (not args[0].isdecimal() or not 1 <= int(args[0]) <= 3650):
        await send(update, context, t("gaps_usage", lang))
        return
    days = int(args[0]) if args else 30
    groups = context.services.answers.gaps(days)
    if not groups:
        await send(update, context, t("gaps_none", lang))
        return
    lines = [t("gaps_header", lang, days=days)] + [
        t("gaps_line", lang, count=count, question=escape(text[:120])) for text, count in groups[:20]
    ]
    await send(update, context, "\n".join(lines))


async def offer_faq(update: Update, context: Context, ticket_id: int) -> None:
    """A closed ticket's [FAQ] button: a new entry, or one of the closest existing ones."""
    answers = context.services.answers
    lang = context.lang
    view = context.services.tickets.get(ticket_id)
    if view is None:
        await send(update, context, t("tk_unknown", lang, id=ticket_id))
        return
    close = [
        (tid, answers.title(tid, lang))
        for tid, _ in answers.ask(view.question, lang, log=False).candidates[:3]
    ]
    await send(
        update, context, t("tk_faq_choose", lang, id=ticket_id), keyboards.faq_choice(ticket_id, close, lang)
    )


async def on_faq_choice(update: Update, context: Context) -> None:
    """pf:TICKET:TOPIC|new: the ticket's answer becomes a proposal (staff only)."""
    query, choice = pressed(update, FaqChoice)
    svc = context.services
    who = context.person
    if who.role not in STAFF:
        await query.answer(t("officer_only", who.lang), show_alert=True)
        return
    proposal = None
    if choice is not None and (choice.topic_id is None or svc.answers.has_topic(choice.topic_id)):
        proposal = svc.proposals.propose(choice.ticket, who.id, choice.topic_id)
    if proposal is None:
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    await query.answer()
    # the admin reviews (and edits) the cleaned draft with /proposals
    await send(update, context, t("tk_faq_proposed", who.lang, id=proposal))


# -- admins: reviewing proposals ----------------------------------------------------------------


def render(view: ProposalView, lang: str, title_of: Callable[[str, str], str] | None = None) -> str:
    """The draft as the admin reviews it; what is missing is marked."""
    flags = ", ".join(t(f"prop_flag_{kind}", lang, text=escape(text)) for kind, text in view.flags) or "-"
    if view.kind == "sample":
        target = title_of(view.target_id, lang) if title_of and view.target_id else view.target_id or ""
        return t(
            "prop_sample",
            lang,
            id=view.id,
            target=escape(target),
            question=escape(view.draft_question),
            flags=flags,
        )
    missing = t("prop_missing", lang)
    en_title = (
        escape(view.title_en)
        if view.title_en
        else (t("prop_id_only_mark", lang) if view.id_only else missing)
    )
    en_answer = (
        escape(view.answer_en)
        if view.answer_en
        else (t("prop_id_only_mark", lang) if view.id_only else t("prop_missing_en", lang))
    )
    return t(
        "prop_new",
        lang,
        id=view.id,
        question=escape(view.question),
        flags=flags,
        title_id=escape(view.title_id) if view.title_id else missing,
        title_en=en_title,
        answer_id=escape(view.answer_id) if view.answer_id else missing,
        answer_en=en_answer,
    )


async def show(update: Update, context: Context, view: ProposalView, lang: str) -> None:
    await send(
        update, context, render(view, lang, context.services.answers.title), keyboards.proposal(view, lang)
    )


async def proposals(update: Update, context: Context) -> None:
    """/proposals: pending FAQ proposals, each a draft to edit, approve or reject."""
    lang = context.lang
    pending = context.services.proposals.pending()
    if not pending:
        await send(update, context, t("prop_none", lang))
        return
    await send(update, context, t("prop_header", lang))
    for view in pending:
        await show(update, context, view, lang)


async def on_edit_button(update: Update, context: Context) -> None:
    """pe:N:field asks for the new text; pe:N:io switches Indonesian-only (admins only)."""
    query, edit = pressed(update, ProposalEdit)
    svc = context.services
    who = context.person
    if who.role != ADMIN:
        await query.answer(t("admin_only", who.lang), show_alert=True)
        return
    if edit is None:
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    view = svc.proposals.get(edit.proposal)
    if view is None or view.kind != "new":
        await query.answer(t("prop_decided", who.lang, id=edit.proposal), show_alert=True)
        return
    await query.answer()
    if edit.field == "io":
        toggled = svc.proposals.toggle_id_only(view.id)
        if toggled is not None:
            await show(update, context, toggled, who.lang)
        return
    field = FIELDS[edit.field]
    current = getattr(view, field)
    prompt = await context.bot.send_message(
        chat_id_of(update),
        t(f"prop_ask_{edit.field}", who.lang, id=view.id)
        + ("\n" + t("prop_ask_current", who.lang, text=escape(current)) if current else ""),
        reply_markup=ForceReply(input_field_placeholder=t(f"prop_edit_{edit.field}", who.lang)[:64]),
    )
    svc.proposals.start_edit(view.id, field, prompt.chat_id, prompt.message_id)


async def on_edit_reply(update: Update, context: Context) -> None:
    """An admin's reply to an edit prompt is the new text; other replies go on as usual."""
    message = update.message
    if message is None or message.reply_to_message is None or not message.text:
        return
    svc = context.services
    found = svc.proposals.editing(message.chat_id, message.reply_to_message.message_id)
    if found is None:
        return
    view, field = found
    lang = context.lang
    result = svc.proposals.set_field(view.id, field, message.text)
    if isinstance(result, str):
        # the limits of prop_edit_too_long, written the reader's way (1.000 / 1,000)
        limits = {
            "title_max": format_number(MAX_TITLE, lang, 0),
            "answer_max": format_number(MAX_ANSWER, lang, 0),
        }
        await send(update, context, t(result, lang, id=view.id, **limits))
    else:
        await send(update, context, t("prop_edit_saved", lang, id=view.id))
        await show(update, context, result, lang)
    raise ApplicationHandlerStop


async def on_decide_button(update: Update, context: Context) -> None:
    """pa:N approves, pr:N rejects (admins only)."""
    query, decision = pressed(update, ProposalDecision)
    who = context.person
    if who.role != ADMIN:
        await query.answer(t("admin_only", who.lang), show_alert=True)
        return
    if decision is None:
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    await query.answer()
    number = decision.proposal
    outcome, problem = context.services.proposals.decide(number, who.id, decision.approve)
    if outcome == "incomplete":
        await send(
            update,
            context,
            t("prop_incomplete", who.lang, id=number, field=t(f"prop_field_{problem}", who.lang)),
        )
        return
    key = {
        "approved": "prop_approved",
        "rejected": "prop_rejected",
        "invalid": "prop_invalid",
        "decided": "prop_decided",
    }.get(outcome, "button_invalid")
    await send(update, context, t(key, who.lang, id=number, problem=escape(problem or "")))


class _AdminReply(filters.MessageFilter):
    """A private text reply from an admin (from the config: no database look-up)."""

    def __init__(self, admins: frozenset[int]) -> None:
        super().__init__(name="AdminReply")
        self.admins = admins

    def filter(self, message: Message) -> bool:
        return (
            message.reply_to_message is not None
            and message.from_user is not None
            and message.from_user.id in self.admins
            and bool(message.text)
            and not (message.text or "").startswith("/")
        )


def register(app: Application) -> None:
    restrict(app, ADMIN_COMMANDS, (ADMIN,))
    restrict(app, STAFF_COMMANDS, STAFF)
    app.add_handler(CommandHandler("gaps", gaps))
    app.add_handler(CommandHandler("proposals", proposals))
    # each refuses malformed data in its own words, after the role check
    app.add_handler(CallbackQueryHandler(on_faq_choice, pattern=FaqChoice.prefix_pattern()))
    app.add_handler(CallbackQueryHandler(on_edit_button, pattern=ProposalEdit.prefix_pattern()))
    app.add_handler(CallbackQueryHandler(on_decide_button, pattern=ProposalDecision.prefix_pattern()))


def register_edit_replies(app: Application, group: int) -> None:
    """Before the exporter router of the same group: only admins' replies match here."""
    admins = services_of(app).settings.admin_ids
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & _AdminReply(admins), on_edit_reply
        ),
        group=group,
    )

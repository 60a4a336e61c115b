"""Every inline keyboard of the bot, built from the button data of bot/telegram/buttons.py.

Services that queue a message with buttons store a :class:`Keyboard` (a kind and its
arguments); OUTBOX maps each kind to the builder that renders it when the outbox sender
sends the row (registered in bot/app.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t
from bot.services import documents as document_rules
from bot.services import spikes as spike_rules
from bot.services import tickets as ticket_rules
from bot.services.answers import ESCALATE_TOPIC, AnswerService, Reply
from bot.services.applications import label
from bot.services.broadcasts import ALL, OPEN, BroadcastView
from bot.services.documents import REJECT_REASONS, ItemView
from bot.services.outbox import Keyboard
from bot.services.precheck import CURRENCIES, OTHER, STEPS, PrecheckKB
from bot.services.proposals import ProposalView
from bot.telegram.buttons import (
    AskOfficer,
    BroadcastChoice,
    Button,
    Category,
    Destination,
    DocVerdict,
    FaqChoice,
    Feedback,
    Language,
    LeaveTicket,
    LinkMove,
    PrecheckAnswer,
    PrecheckEdit,
    ProposalDecision,
    ProposalEdit,
    Rating,
    RatingComment,
    SpikeDraft,
    StatusPage,
    TicketAction,
    Topic,
    UploadChoice,
    UploadStart,
)

Rows = list[list[InlineKeyboardButton]]
# a document's state, in the checklist and on the buttons that name it
STATUS_ICONS = {"missing": "⬜", "received": "🕓", "accepted": "✅", "rejected": "❌"}


def button(label_: str, data: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(label_, callback_data=data.pack())


def rows(buttons: Sequence[InlineKeyboardButton], width: int) -> Rows:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


@dataclass(frozen=True)
class Serialized:
    """Buttons already in Telegram's JSON (`{"inline_keyboard": [...]}`): what the FAQ's
    replies carry, built once rather than as PTB objects serialised for every message."""

    json: str


# what a handler may put under a message
Markup = InlineKeyboardMarkup | Serialized


# -- exporters: the FAQ ---------------------------------------------------------------------


class _ReplyRows:
    """The buttons under FAQ replies, serialised once per knowledge base: apart from the
    👍/👎 data (which names the question's log row) they depend only on the outcome, the
    language and the topics offered."""

    LIMIT = 4096  # distinct did-you-mean sets are many in theory: memory stays flat

    def __init__(self) -> None:
        self._kb: object = None
        self._rows: dict[tuple[Any, ...], str] = {}

    def get(self, reply: Reply, answers: AnswerService) -> str:
        if self._kb is not answers.kb:  # reloaded (an approved FAQ entry)
            self._kb, self._rows = answers.kb, {}
        key = (reply.outcome, reply.lang, reply.suggestions, reply.confirm or reply.offer_officer)
        found = self._rows.get(key)
        if found is None:
            if len(self._rows) >= self.LIMIT:
                self._rows.clear()
            lines = _fixed_rows(reply, answers)
            found = self._rows[key] = ",".join(json.dumps([b.to_dict() for b in line]) for line in lines)
        return found


_REPLY_ROWS = _ReplyRows()
# the cached rows carry 🙋 without a question; each reply names its own in the JSON
_ASK_ANY = json.dumps(AskOfficer().pack())


def reply_keyboard(reply: Reply, answers: AnswerService) -> Serialized | None:
    """Buttons under a reply: helpful?, did-you-mean topics, destinations, topic menu."""
    rows_ = _REPLY_ROWS.get(reply, answers)
    if reply.query_id is not None and _ASK_ANY in rows_:
        # 🙋 hands over the question it is under, not whatever was asked last
        rows_ = rows_.replace(_ASK_ANY, json.dumps(AskOfficer(query_id=reply.query_id).pack()))
    if reply.outcome == "answer" and reply.query_id is not None:
        feedback = _feedback_row(reply.lang, reply.query_id)
        rows_ = f"{rows_},{feedback}" if rows_ else feedback
    return Serialized(f'{{"inline_keyboard":[{rows_}]}}') if rows_ else None


def _fixed_rows(reply: Reply, answers: AnswerService) -> Rows:
    lang = reply.lang
    lines: Rows = []
    if reply.outcome == "ask_destination":
        lines += destination_rows(answers, lang)
    if reply.outcome == "suggest":
        lines += [[topic_button(tid, title)] for tid, title in reply.suggestions]
    offered = any(tid == ESCALATE_TOPIC for tid, _ in reply.suggestions)
    if (reply.outcome in ("suggest", "no_match") or reply.confirm or reply.offer_officer) and not offered:
        lines.append([button(t("tk_ask_officer", lang), AskOfficer())])
    if reply.outcome in ("suggest", "no_match"):
        lines.append([button(t("cmd_topics", lang), Category())])
    return lines


@cache
def _helpful_label(lang: str) -> str:
    return json.dumps(f"{t('helpful_question', lang)} 👍")


def _feedback_row(lang: str, query_id: int) -> str:
    """👍 / 👎 for one logged question, as JSON (the one part of a reply's buttons that
    differs from question to question)."""
    up = json.dumps(Feedback(query_id, True).pack())
    down = json.dumps(Feedback(query_id, False).pack())
    return (
        f'[{{"text":{_helpful_label(lang)},"callback_data":{up}}},'
        f'{{"text":{json.dumps("👎")},"callback_data":{down}}}]'
    )


def topic_button(topic_id: str, title: str) -> InlineKeyboardButton:
    """A topic of the FAQ; "talk to an officer" opens a ticket instead of showing its text
    (which says the question is being passed on)."""
    if topic_id == ESCALATE_TOPIC:
        return button(title, AskOfficer())
    return button(title, Topic(topic_id))


def destination_rows(answers: AnswerService, lang: str) -> Rows:
    kb = answers.kb
    buttons = [button(kb.countries[iso].name[lang], Destination(iso)) for iso in kb.ask_buttons]
    buttons.append(button(t("other_country", lang), Destination(Destination.OTHER)))
    return rows(buttons, 2)


@cache
def start_menu(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(t("cmd_topics", lang), Category()), button(t("cmd_lang", lang), Language())]]
    )


def categories(names: Iterable[str], lang: str) -> InlineKeyboardMarkup:
    return _categories(tuple(names), lang)


@lru_cache(maxsize=64)
def _categories(names: tuple[str, ...], lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows([button(t(f"category_{c}", lang), Category(c)) for c in names], 2))


def category_topics(topics: Iterable[tuple[str, str]], lang: str) -> InlineKeyboardMarkup:
    return _category_topics(tuple(topics), lang)


@lru_cache(maxsize=256)
def _category_topics(topics: tuple[tuple[str, str], ...], lang: str) -> InlineKeyboardMarkup:
    # keyed by the topics themselves: an approved FAQ entry changes the key, not the cache
    lines = [[topic_button(tid, title)] for tid, title in topics]
    lines.append([button(t("back", lang), Category())])
    return InlineKeyboardMarkup(lines)


@cache
def languages() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button("🇮🇩 Bahasa Indonesia", Language("id")), button("🇬🇧 English", Language("en"))]]
    )


def after_thumbs_down(
    topics: Iterable[tuple[str, str]], lang: str, query_id: int | None = None
) -> InlineKeyboardMarkup:
    """👎: the topics the question was also close to, and the way to an officer with the
    question 👎 was given to."""
    lines = [[topic_button(tid, title)] for tid, title in topics]
    lines.append([button(t("tk_ask_officer", lang), AskOfficer(query_id=query_id))])
    return InlineKeyboardMarkup(lines)


# -- exporters: tickets -----------------------------------------------------------------------


@cache
def back_to_faq(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t("tk_back", lang), LeaveTicket())]])


def rating(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button("⭐" * n, Rating(ticket_id, n)) for n in range(1, 6)]])


def rating_comment(ticket_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t("tk_add_comment", lang), RatingComment(ticket_id))]])


# -- officers: tickets and knowledge ----------------------------------------------------------


def ticket_card(ticket_id: int, closed: bool, claimed: bool, lang: str) -> InlineKeyboardMarkup:
    if closed:
        return InlineKeyboardMarkup(
            [
                [
                    button(t("tk_btn_reopen", lang), TicketAction(TicketAction.REOPEN, ticket_id)),
                    button(t("tk_btn_faq", lang), TicketAction(TicketAction.FAQ, ticket_id)),
                ]
            ]
        )
    line = [button(t("tk_btn_close", lang), TicketAction(TicketAction.CLOSE, ticket_id))]
    if not claimed:
        line.insert(0, button(t("tk_btn_claim", lang), TicketAction(TicketAction.CLAIM, ticket_id)))
    return InlineKeyboardMarkup([line])


def faq_choice(ticket_id: int, topics: Iterable[tuple[str, str]], lang: str) -> InlineKeyboardMarkup:
    """A ticket's answer as a new FAQ entry, or as a sample question of a close one."""
    lines = [[button(t("tk_faq_new", lang), FaqChoice(ticket_id, None))]]
    lines += [[button(title, FaqChoice(ticket_id, tid))] for tid, title in topics]
    return InlineKeyboardMarkup(lines)


def proposal(view: ProposalView, lang: str) -> InlineKeyboardMarkup:
    decide = [
        button(t("prop_approve", lang), ProposalDecision(view.id, True)),
        button(t("prop_reject", lang), ProposalDecision(view.id, False)),
    ]
    if view.kind == "sample":
        return InlineKeyboardMarkup([decide])

    def edit(field: str) -> InlineKeyboardButton:
        return button(t(f"prop_edit_{field}", lang), ProposalEdit(view.id, field))

    only = t("prop_id_only_on" if view.id_only else "prop_id_only_off", lang)
    return InlineKeyboardMarkup(
        [
            [edit("ti"), edit("te")],
            [edit("ai"), edit("ae")],
            [button(only, ProposalEdit(view.id, "io"))],
            decide,
        ]
    )


def spike_draft(alert_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t("spike_draft_button", lang), SpikeDraft(alert_id))]])


def broadcast_draft(view: BroadcastView, lang: str) -> InlineKeyboardMarkup:
    def mark(chosen: bool, text: str) -> str:
        return f"• {text}" if chosen else text

    def choice(name: str) -> BroadcastChoice:
        return BroadcastChoice(view.id, name)

    lines = [
        [
            button(mark(view.audience == ALL, t("bc_button_all", lang)), choice(ALL)),
            button(mark(view.audience == OPEN, t("bc_button_open", lang)), choice(OPEN)),
        ]
    ]
    # commodity names come from imported data: cut for the button, the index is the data
    goods = [
        button(mark(view.commodity == name, name[:40]), choice(f"c{i}"))
        for i, name in enumerate(view.commodities)
    ]
    lines += rows(goods, 2)
    lines.append(
        [
            button(t("bc_send_button", lang), choice("send")),
            button(t("bc_cancel_button", lang), choice("cancel")),
        ]
    )
    return InlineKeyboardMarkup(lines)


# -- exporters: status and documents ------------------------------------------------------------


def closed_lists(closed: Iterable[tuple[str, int]], lang: str) -> InlineKeyboardMarkup:
    """One button per final status (issued, rejected, cancelled) that lists them."""
    return InlineKeyboardMarkup(
        [
            [
                button(
                    t("status_list_button", lang, status=label(status, lang), count=count),
                    StatusPage(status[0]),
                )
            ]
            for status, count in closed
        ]
    )


def closed_more(page: StatusPage, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t("status_list_more", lang), page)]])


def link_move(code_id: int, lang: str) -> InlineKeyboardMarkup:
    """Under the question whether to move a linked account to another company."""
    return InlineKeyboardMarkup(
        [
            [button(t("link_move_yes", lang), LinkMove(code_id, True))],
            [button(t("link_move_no", lang), LinkMove(code_id, False))],
        ]
    )


def upload(application_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t("doc_upload_button", lang), UploadStart(application_id))]])


def document_choice(
    upload_id: int, items: Iterable[ItemView], name: Callable[[str], str], lang: str
) -> InlineKeyboardMarkup:
    """Which document an uploaded file is: each of the checklist's, then cancel."""
    lines = [
        [button(f"{STATUS_ICONS[i.status]} {name(i.doc_id)}", UploadChoice(upload_id, i.doc_id))]
        for i in items
    ]
    lines.append([button(t("doc_cancel_button", lang), UploadChoice(upload_id, None))])
    return InlineKeyboardMarkup(lines)


def verdict(upload_id: int, lang: str = "id") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(t("doc_accept_button", lang), DocVerdict(upload_id, DocVerdict.ACCEPT)),
                button(t("doc_reject_button", lang), DocVerdict(upload_id, DocVerdict.REASONS)),
            ]
        ]
    )


def reject_reasons(upload_id: int, lang: str = "id") -> InlineKeyboardMarkup:
    lines = [
        [button(t(f"doc_reason_{code}", lang), DocVerdict(upload_id, DocVerdict.REASONS, code))]
        for code in REJECT_REASONS
    ]
    lines.append([button(t("doc_back_button", lang), DocVerdict(upload_id, DocVerdict.BACK))])
    return InlineKeyboardMarkup(lines)


# -- exporters: the pre-submission check ---------------------------------------------------------


def precheck_question(step: str, kb: PrecheckKB, lang: str) -> InlineKeyboardMarkup | None:
    """Buttons where the answer is a choice; None where free text is expected."""

    def choice(text: str, value: str) -> InlineKeyboardButton:
        return button(text, PrecheckAnswer(step, value))

    if step == "commodity":
        buttons = [choice(c.name[lang], c.id) for c in kb.commodities.values()]
        buttons.append(choice(t("pc_commodity_other", lang), OTHER))
        return InlineKeyboardMarkup(rows(buttons, 2))
    if step == "destination":
        buttons = [choice(c.name[lang], c.iso) for c in kb.countries.values()]
        buttons.append(choice(t("pc_destination_other", lang), OTHER))
        return InlineKeyboardMarkup(rows(buttons, 3))
    if step == "form":
        return InlineKeyboardMarkup(rows([choice(f, f) for f in kb.forms()], 2))
    if step == "currency":
        return InlineKeyboardMarkup(rows([choice(c, c) for c in CURRENCIES], 5))
    if step == "application_date":
        return InlineKeyboardMarkup([[choice(t("pc_today", lang), "today")]])
    return None


def precheck_summary(lang: str) -> InlineKeyboardMarkup:
    """Under the summary: change one answer, or hand the answers to an officer."""
    edits = [
        button(t("pc_edit", lang, label=t(f"pc_label_{step}", lang)), PrecheckEdit(step)) for step in STEPS
    ]
    return InlineKeyboardMarkup(rows(edits, 2) + [[button(t("tk_ask_officer", lang), AskOfficer(True))]])


# -- queued messages -------------------------------------------------------------------------------

# a keyboard a handler built, queued when its direct reply could not be sent
INLINE = "inline"


def stored(markup: Markup) -> Keyboard:
    data = markup.to_dict() if isinstance(markup, InlineKeyboardMarkup) else json.loads(markup.json)
    return Keyboard(INLINE, data)


def _ticket_card(args: Mapping[str, Any]) -> InlineKeyboardMarkup:
    return ticket_card(int(args["ticket"]), bool(args["closed"]), bool(args["claimed"]), str(args["lang"]))


# kind -> builder of the buttons under a queued message, rendered when it is sent
OUTBOX: dict[str, Callable[[Mapping[str, Any]], InlineKeyboardMarkup]] = {
    INLINE: lambda args: InlineKeyboardMarkup.de_json(dict(args), None),
    ticket_rules.CARD_KEYBOARD: _ticket_card,
    ticket_rules.BACK_KEYBOARD: lambda args: back_to_faq(str(args["lang"])),
    ticket_rules.RATING_KEYBOARD: lambda args: rating(int(args["ticket"])),
    document_rules.UPLOAD_KEYBOARD: lambda args: upload(int(args["application"]), str(args["lang"])),
    document_rules.VERDICT_KEYBOARD: lambda args: verdict(int(args["upload"]), str(args["lang"])),
    spike_rules.DRAFT_KEYBOARD: lambda args: spike_draft(int(args["alert"]), str(args["lang"])),
}

"""Exporters' company link and application status."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.i18n import t
from bot.services.applications import CANCELLED, ISSUED, REJECTED, label
from handlers.common import Context, button, escape, lang_of, person, send, services

# a phone shows about three cards without scrolling far
CARDS_PER_MESSAGE = 3
PAGE = 10
FINAL_ORDER = (ISSUED, REJECTED, CANCELLED)
FINAL_BY_LETTER = {status[0]: status for status in FINAL_ORDER}
_LIST = re.compile(r"^st:([irc]):(\d{1,6})$")


async def link_with_code(update: Update, context: Context, code: str) -> None:
    svc = services(context)
    lang = lang_of(update, context)
    result = svc.links.redeem(person(update, context).id, code)
    if result.outcome == "linked":
        await send(update, context, t("link_ok", lang, company=escape(result.company or "")))
    elif result.locked_until is not None:
        await send(update, context, t("link_locked", lang,
                                      until=svc.presenter.when(result.locked_until)))
    else:
        await send(update, context, t(f"link_{result.outcome}", lang))


async def start_with_code(update: Update, context: Context) -> None:
    """Deep link t.me/<bot>?start=<code>: link the account."""
    await link_with_code(update, context, context.args[0])


async def link(update: Update, context: Context) -> None:
    """/link CODE"""
    if not context.args or len(context.args) != 1 or len(context.args[0]) > 64:
        await send(update, context, t("link_usage", lang_of(update, context)))
        return
    await link_with_code(update, context, context.args[0])


async def unlink(update: Update, context: Context) -> None:
    """/unlink: the account forgets its company."""
    lang = lang_of(update, context)
    company = services(context).links.unlink(person(update, context).id)
    key = "unlink_ok" if company else "unlink_none"
    await send(update, context, t(key, lang, company=escape(company or "")))


async def status(update: Update, context: Context) -> None:
    """/status [REF]: the company's applications, or one with its history."""
    svc = services(context)
    lang = lang_of(update, context)
    company = svc.applications.company_of(person(update, context).id)
    if company is None:
        await send(update, context, t("not_linked", lang))
        return
    if context.args:
        ref = " ".join(context.args)[:64]
        found = svc.applications.one_for_company(company.id, ref)
        if found is None:
            # same words whether the ref is unknown or another company's: no existence leak
            await send(update, context, t("status_not_found", lang, ref=escape(ref)))
            return
        app, history = found
        missing = svc.documents.outstanding_for_company(company.id).get(app.ref, ())
        documents = svc.documents.card_lines(missing, lang)
        await send(update, context, svc.presenter.card(app, lang, documents=documents) + "\n\n"
                   + svc.presenter.history(history, lang))
        return
    await overview(update, context, company.id, company.name)


async def overview(update: Update, context: Context, company_id: int, name: str) -> None:
    """Fit for a phone: the open applications as cards (a few per message), then one short
    line per final status with a button that lists them."""
    svc = services(context)
    lang = lang_of(update, context)
    open_apps = svc.applications.open_for_company(company_id)
    closed = svc.applications.closed_counts(company_id)
    if not open_apps and not closed:
        await send(update, context, t("status_none", lang, company=escape(name)))
        return
    header = t("status_header", lang, company=escape(name))
    missing = svc.documents.outstanding_for_company(company_id)
    cards = [svc.presenter.card(a, lang, documents=svc.documents.card_lines(
        missing.get(a.ref, ()), lang)) for a in open_apps]
    if not cards:
        cards_text = [header + "\n" + t("status_no_open", lang)]
    else:
        groups = [cards[i:i + CARDS_PER_MESSAGE] for i in range(0, len(cards), CARDS_PER_MESSAGE)]
        cards_text = ["\n\n".join(g) for g in groups]
        cards_text[0] = header + "\n" + t("status_open_count", lang, count=len(cards)) \
            + "\n\n" + cards_text[0]
    for text in cards_text:
        await send(update, context, text)
    if closed:
        lines, buttons = [], []
        for status in FINAL_ORDER:
            if closed.get(status):
                lines.append(t("status_closed_line", lang, status=label(status, lang),
                               count=closed[status]))
                buttons.append([button(t("status_list_button", lang, status=label(status, lang),
                                         count=closed[status]), f"st:{status[0]}:0")])
        await send(update, context, "\n".join(lines), InlineKeyboardMarkup(buttons))


async def on_status_button(update: Update, context: Context) -> None:
    """st:i|r|c:OFFSET: one page of the company's issued, rejected or cancelled ones."""
    query = update.callback_query
    svc = services(context)
    lang = lang_of(update, context)
    m = _LIST.match(query.data or "")
    company = svc.applications.company_of(person(update, context).id)
    if m is None or company is None:
        await query.answer(t("button_invalid", lang), show_alert=True)
        return
    await query.answer()
    status, offset = FINAL_BY_LETTER[m[1]], int(m[2])
    page = svc.applications.closed_for_company(company.id, status, offset, PAGE + 1)
    total = svc.applications.closed_counts(company.id).get(status, 0)
    if not page:
        await send(update, context, t("status_list_empty", lang, status=label(status, lang)))
        return
    lines = [t("status_list_header", lang, status=label(status, lang), count=total,
               first=offset + 1, last=offset + min(len(page), PAGE))]
    lines += [svc.presenter.line(a, lang) for a in page[:PAGE]]
    lines.append(t("status_list_hint", lang))
    keyboard = None
    if len(page) > PAGE:
        keyboard = InlineKeyboardMarkup([[button(t("status_list_more", lang),
                                                 f"st:{m[1]}:{offset + PAGE}")]])
    await send(update, context, "\n".join(lines), keyboard)


def register(app: Application) -> None:
    # /start with a payload is a deep link; the plain /start lives in exporter.py
    app.add_handler(CommandHandler("start", start_with_code, has_args=1))
    app.add_handler(CommandHandler("link", link))
    app.add_handler(CommandHandler("unlink", unlink))
    app.add_handler(CommandHandler("status", status))
    app.add_handler(CallbackQueryHandler(on_status_button, pattern=r"^st:"))

"""Exporters' company link and application status."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.i18n import t
from bot.services.applications import CANCELLED, ISSUED, REJECTED, label
from bot.telegram import keyboards
from bot.telegram.buttons import StatusPage
from handlers.common import Context, escape, pressed, refuse_button, send

# a phone shows about three cards without scrolling far
CARDS_PER_MESSAGE = 3
PAGE = 10
# open applications per page: two messages of cards (each card is long: documents, next step)
OPEN_PAGE = 6
FINAL_ORDER = (ISSUED, REJECTED, CANCELLED)
FINAL_BY_LETTER = {status[0]: status for status in FINAL_ORDER}


async def link_with_code(update: Update, context: Context, code: str) -> None:
    svc = context.services
    lang = context.lang
    result = svc.links.redeem(context.person.id, code)
    if result.outcome in ("linked", "already"):
        key = "link_ok" if result.outcome == "linked" else "link_already"
        await send(update, context, t(key, lang, company=escape(result.company or "")))
    elif result.locked_until is not None:
        await send(update, context, t("link_locked", lang, until=svc.presenter.when(result.locked_until)))
    else:
        await send(update, context, t(f"link_{result.outcome}", lang))


async def start_with_code(update: Update, context: Context) -> None:
    """Deep link t.me/<bot>?start=<code>: link the account."""
    await link_with_code(update, context, (context.args or [""])[0])


async def link(update: Update, context: Context) -> None:
    """/link CODE"""
    if not context.args or len(context.args) != 1 or len(context.args[0]) > 64:
        await send(update, context, t("link_usage", context.lang))
        return
    await link_with_code(update, context, context.args[0])


async def unlink(update: Update, context: Context) -> None:
    """/unlink: the account forgets its company."""
    lang = context.lang
    company = context.services.links.unlink(context.person.id)
    key = "unlink_ok" if company else "unlink_none"
    await send(update, context, t(key, lang, company=escape(company or "")))


async def status(update: Update, context: Context) -> None:
    """/status [REF]: the company's applications, or one with its history."""
    svc = context.services
    lang = context.lang
    company = svc.applications.company_of(context.person.id)
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
        await send(
            update,
            context,
            svc.presenter.card(app, lang, documents=documents)
            + "\n\n"
            + svc.presenter.history(history, lang),
        )
        return
    await overview(update, context, company.id, company.name)


async def overview(update: Update, context: Context, company_id: int, name: str) -> None:
    """Fit for a phone: the open applications as cards (a few per message, a page of them
    with a button for the next), then one short line per final status with a button
    that lists them."""
    svc = context.services
    lang = context.lang
    total = svc.applications.open_count(company_id)
    closed = svc.applications.closed_counts(company_id)
    if not total and not closed:
        await send(update, context, t("status_none", lang, company=escape(name)))
        return
    header = t("status_header", lang, company=escape(name))
    if not total:
        await send(update, context, header + "\n" + t("status_no_open", lang))
    else:
        await open_cards(update, context, company_id, 0, total, header)
    if closed:
        counts = [(status, closed[status]) for status in FINAL_ORDER if closed.get(status)]
        lines = [
            t("status_closed_line", lang, status=label(status, lang), count=count) for status, count in counts
        ]
        await send(update, context, "\n".join(lines), keyboards.closed_lists(counts, lang))


async def open_cards(
    update: Update, context: Context, company_id: int, offset: int, total: int, header: str = ""
) -> None:
    """One page of open applications' cards; its last message carries "Next" when more wait."""
    svc = context.services
    lang = context.lang
    apps = svc.applications.open_for_company(company_id, offset, OPEN_PAGE)
    if not apps:
        await send(update, context, t("status_list_empty", lang, status=t("status_open_word", lang)))
        return
    missing = svc.documents.outstanding_for_company(company_id)
    cards = [
        svc.presenter.card(a, lang, documents=svc.documents.card_lines(missing.get(a.ref, ()), lang))
        for a in apps
    ]
    groups = ["\n\n".join(cards[i : i + CARDS_PER_MESSAGE]) for i in range(0, len(cards), CARDS_PER_MESSAGE)]
    last = offset + len(apps)
    counted = t("status_open_count", lang, count=total)
    if total > OPEN_PAGE:
        counted = t("status_open_page", lang, first=offset + 1, last=last, count=total)
    groups[0] = (header + "\n" if header else "") + counted + "\n\n" + groups[0]
    keyboard = keyboards.closed_more(StatusPage("o", last), lang) if last < total else None
    for i, text in enumerate(groups):
        await send(update, context, text, keyboard if i == len(groups) - 1 else None)


async def on_status_button(update: Update, context: Context) -> None:
    """st:i|r|c:OFFSET: one page of the company's issued, rejected or cancelled ones."""
    query, page_ = pressed(update, StatusPage)
    svc = context.services
    lang = context.lang
    company = svc.applications.company_of(context.person.id)
    if page_ is None or company is None:
        await refuse_button(update, context)
        return
    await query.answer()
    if page_.letter == "o":
        await open_cards(update, context, company.id, page_.offset, svc.applications.open_count(company.id))
        return
    status, offset = FINAL_BY_LETTER[page_.letter], page_.offset
    page = svc.applications.closed_for_company(company.id, status, offset, PAGE + 1)
    total = svc.applications.closed_counts(company.id).get(status, 0)
    if not page:
        await send(update, context, t("status_list_empty", lang, status=label(status, lang)))
        return
    lines = [
        t(
            "status_list_header",
            lang,
            status=label(status, lang),
            count=total,
            first=offset + 1,
            last=offset + min(len(page), PAGE),
        )
    ]
    lines += [svc.presenter.line(a, lang) for a in page[:PAGE]]
    lines.append(t("status_list_hint", lang))
    keyboard = None
    if len(page) > PAGE:
        keyboard = keyboards.closed_more(StatusPage(page_.letter, offset + PAGE), lang)
    await send(update, context, "\n".join(lines), keyboard)


def register(app: Application) -> None:
    # /start with a payload is a deep link; the plain /start lives in exporter.py
    app.add_handler(CommandHandler("start", start_with_code, has_args=1))
    app.add_handler(CommandHandler("link", link))
    app.add_handler(CommandHandler("unlink", unlink))
    app.add_handler(CommandHandler("status", status))
    app.add_handler(CallbackQueryHandler(on_status_button, pattern=StatusPage.pattern))

"""Exporters' company link and application status."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.i18n import t
from bot.services.applications import CANCELLED, ISSUED, REJECTED, label
from bot.services.linking import LinkResult, looks_like_code, normalize_code
from bot.telegram import keyboards
from bot.telegram.buttons import LinkMove, StatusPage
from handlers.common import Context, escape, pressed, refuse_button, send, show_result

# a phone shows about three cards without scrolling far
CARDS_PER_MESSAGE = 3
PAGE = 10
# open applications per page: two messages of cards (each card is long: documents, next step)
OPEN_PAGE = 6
FINAL_ORDER = (ISSUED, REJECTED, CANCELLED)
FINAL_BY_LETTER = {status[0]: status for status in FINAL_ORDER}
# a code is ten characters; with separators between them a few more. Longer than this
# is not a code typed after /link: the usage, not a failed attempt
MAX_CODE_TEXT = 64


def link_reply(result: LinkResult, context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    """What the exporter reads about a link code (and the move buttons, when asked)."""
    lang = context.lang
    company = escape(result.company or "")
    previous = escape(result.previous or "")
    if result.outcome in ("linked", "already"):
        return t("link_ok" if result.outcome == "linked" else "link_already", lang, company=company), None
    if result.outcome == "confirm" and result.code_id is not None:
        text = t("link_move_confirm", lang, company=company, previous=previous)
        return text, keyboards.link_move(result.code_id, lang)
    if result.outcome == "moved":
        return t("link_moved", lang, company=company, previous=previous), None
    if result.outcome == "kept":
        return (
            t("link_move_kept", lang, previous=previous) if previous else t("link_move_dropped", lang)
        ), None
    if result.locked_until is not None:
        return t("link_locked", lang, until=context.services.presenter.when(result.locked_until)), None
    return t(f"link_{result.outcome}", lang), None


async def link_with_code(update: Update, context: Context, code: str) -> None:
    result = context.services.links.redeem(context.person.id, code)
    await send(update, context, *link_reply(result, context))


async def start_with_code(update: Update, context: Context) -> None:
    """Deep link t.me/<bot>?start=<code>: link the account. The payload is read as /link
    reads a code (small letters, dots and dashes); a /start with several words is the
    greeting's (exporter.py), as it was."""
    await link_with_code(update, context, (context.args or [""])[0])


async def link(update: Update, context: Context) -> None:
    """/link CODE: the code from all the words after the command (88V3F AMCNV, in
    groups as typed or copied from a chat, is one code; see normalize_code)."""
    typed = " ".join(context.args or [])
    if not normalize_code(typed) or len(typed) > MAX_CODE_TEXT:
        await send(update, context, t("link_usage", context.lang))
        return
    await link_with_code(update, context, typed)


async def on_link_move(update: Update, context: Context) -> None:
    """lk:CODE_ID:y|n under the question whether to move the account to another company."""
    query, button = pressed(update, LinkMove)
    links = context.services.links
    who = context.person.id
    if button is None:
        await refuse_button(update, context)
        return
    if button.move:
        result = links.confirm_move(who, button.code_id)
    else:
        result = links.cancel_move(who, button.code_id)
    if result.outcome == "invalid":
        # not offered to this account (forged), or declined before: the button is dead
        await refuse_button(update, context)
        return
    await query.answer()
    text, _ = link_reply(result, context)
    await show_result(update, context, text)


async def answer_bare_code(update: Update, context: Context, text: str) -> bool:
    """A message that is a link code and nothing else (pasted without /link): tell the
    exporter to send it with /link, instead of an FAQ answer; False for any other text.
    Nothing is redeemed or logged: the FAQ's question log would keep the code in clear."""
    if not looks_like_code(text):
        return False
    await send(update, context, t("link_code_alone", context.lang, code=escape(normalize_code(text))))
    return True


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
    app.add_handler(CallbackQueryHandler(on_link_move, pattern=LinkMove.pattern))

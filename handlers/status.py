"""Exporters' company link and application status."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.i18n import t
from handlers.common import Context, escape, lang_of, person, send, services


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
    apps = svc.applications.for_company(company.id)
    if not apps:
        await send(update, context, t("status_none", lang, company=escape(company.name)))
        return
    missing = svc.documents.outstanding_for_company(company.id)
    cards = [svc.presenter.card(a, lang, documents=svc.documents.card_lines(
        missing.get(a.ref, ()), lang)) for a in apps]
    await send(update, context, t("status_header", lang, company=escape(company.name)) + "\n\n"
               + "\n\n".join(cards))


def register(app: Application) -> None:
    # /start with a payload is a deep link; the plain /start lives in exporter.py
    app.add_handler(CommandHandler("start", start_with_code, has_args=1))
    app.add_handler(CommandHandler("link", link))
    app.add_handler(CommandHandler("unlink", unlink))
    app.add_handler(CommandHandler("status", status))

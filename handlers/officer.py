"""Officers' commands on applications and link codes (role-checked in handlers.common)."""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.i18n import t
from bot.services.applications import (
    TransitionError,
    label,
    parse_status,
    split_status,
    status_list,
    transition_text,
    typed,
)
from handlers.common import Context, escape, send, text_after

# every command here is refused to non-officers by the guard in handlers.common
OFFICER_COMMANDS = frozenset({"invite", "setstatus", "app", "apps", "unreachable"})
# a page of /apps: thirty usual lines fit one message (send() splits a longer page)
APPS_PAGE = 30


def _statuses(lang: str) -> str:
    return status_list(lang)


async def invite(update: Update, context: Context) -> None:
    """/invite NIB: a one-time link code and deep link for that company."""
    svc = context.services
    lang = context.lang
    if not context.args or len(context.args) != 1:
        await send(update, context, t("invite_usage", lang))
        return
    nib = context.args[0][:32]
    made = svc.links.create_code(nib, context.person.id)
    if made is None:
        await send(update, context, t("invite_unknown_nib", lang, nib=escape(nib)))
        return
    code, company = made
    username = context.bot.username or svc.settings.telegram.bot_username
    url = t("invite_link_line", lang, url=f"https://t.me/{username}?start={code}") if username else ""
    until = dt.datetime.now(dt.UTC) + svc.links.code_ttl
    await send(
        update,
        context,
        t(
            "invite_ok",
            lang,
            company=escape(company.name),
            code=code,
            until=svc.presenter.when(until),
            url=url,
        ),
    )


async def setstatus(update: Update, context: Context) -> None:
    """/setstatus REF STATUS [note]"""
    svc = context.services
    lang = context.lang
    args = context.args or []
    if len(args) < 2:
        await send(update, context, t("setstatus_usage", lang, statuses=_statuses(lang)))
        return
    status, taken = split_status(args[1:])
    if status is None:
        await send(
            update,
            context,
            t("status_unknown", lang, status=escape(args[1][:32]))
            + "\n"
            + t("setstatus_usage", lang, statuses=_statuses(lang)),
        )
        return
    ref = args[0][:64]
    note = text_after(update, 2 + taken).strip()
    who = context.person
    try:
        view = svc.applications.set_status(ref, status, note, actor=f"officer:{who.id}")
    except TransitionError as exc:
        if exc.key == "app_not_found":
            await send(update, context, _not_found(context, ref))
        else:
            await send(update, context, transition_text(exc, lang))
        return
    count = svc.links.linked_count_by_ref(view.ref)
    await send(
        update,
        context,
        t("setstatus_ok", lang, ref=escape(view.ref), status=label(status, lang), count=count),
    )


def _not_found(context: Context, ref: str) -> str:
    """Unknown, or several refs that differ only by case (imports keep refs as written)."""
    alike = context.services.applications.refs_alike(ref)
    if len(alike) > 1:
        refs = ", ".join(f"<code>{escape(r)}</code>" for r in alike)
        return t("desk_ref_ambiguous", context.lang, ref=escape(ref), refs=refs)
    return t("app_not_found", context.lang, ref=escape(ref))


async def app_command(update: Update, context: Context) -> None:
    """/app REF: one application with company and history."""
    svc = context.services
    lang = context.lang
    if not context.args:
        await send(update, context, t("app_usage", lang))
        return
    ref = " ".join(context.args)[:64]
    found = svc.applications.find(ref)
    if found is None:
        await send(update, context, _not_found(context, ref))
        return
    app, history = found
    await send(
        update,
        context,
        svc.presenter.card(app, lang, company=True) + "\n\n" + svc.presenter.history(history, lang),
    )


async def apps(update: Update, context: Context) -> None:
    """/apps [status] [page]: open applications, or those with one status, a page at a time."""
    svc = context.services
    lang = context.lang
    words = list(context.args or [])
    page = int(words.pop()) if words and words[-1].isdecimal() and len(words[-1]) <= 6 else 1
    status = None
    if words:
        status = parse_status(" ".join(words))
        if status is None:
            await send(
                update,
                context,
                t("status_unknown", lang, status=escape(" ".join(words)[:32]))
                + "\n"
                + t("desk_apps_usage", lang, statuses=_statuses(lang)),
            )
            return
    header = t("apps_header", lang, filter=label(status, lang) if status else t("apps_open", lang))
    total = svc.applications.count(status)
    if not total:
        await send(update, context, f"{header}\n{t('apps_none', lang)}")
        return
    pages = -(-total // APPS_PAGE)
    if not 1 <= page <= pages:
        await send(update, context, t("desk_apps_past_end", lang, page=page, pages=pages))
        return
    first = (page - 1) * APPS_PAGE
    rows = svc.applications.list(status, limit=APPS_PAGE, offset=first)
    country = svc.presenter.country
    lines = [
        f"• <b>{escape(a.ref)}</b> {escape(a.company)} · {escape(a.commodity)} · "
        f"{escape(country(a.destination, lang))} · {label(a.status, lang)}"
        for a in rows
    ]
    if total > len(rows):
        header += " · " + t("desk_apps_page", lang, first=first + 1, last=first + len(rows), total=total)
    if page < pages:
        word = typed(status, lang) + " " if status else ""
        lines.append(t("desk_apps_more", lang, filter=word, page=page + 1))
    await send(update, context, header + "\n" + "\n".join(lines))


async def unreachable(update: Update, context: Context) -> None:
    """/unreachable: exporters who blocked the bot (their notifications are skipped)."""
    svc = context.services
    lang = context.lang
    people = svc.users.blocked()
    if not people:
        await send(update, context, t("unreachable_none", lang))
        return
    lines = [
        f"• {escape(name)} ({escape(company or '-')}) {svc.presenter.when(at)}"
        for name, company, at in people
    ]
    await send(update, context, t("unreachable_header", lang) + "\n" + "\n".join(lines))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CommandHandler("setstatus", setstatus))
    app.add_handler(CommandHandler("app", app_command))
    app.add_handler(CommandHandler("apps", apps))
    app.add_handler(CommandHandler("unreachable", unreachable))

"""Officers' reports: /report (export realisation) and /stats (help-desk figures).

Role-checked by the guard in handlers.common. Building a report reads the database and
renders a chart and a workbook, which takes a moment: it runs in a worker thread so the
bot keeps answering other chats meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING

from telegram import InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CommandHandler

from bot.i18n import t
from bot.textsplit import fit_caption
from handlers.common import STAFF, Context, chat_id_of, escape, restrict, send

if TYPE_CHECKING:
    from bot.services.reports import ArgsError, Rendered

REPORT_COMMANDS = frozenset({"report", "stats"})
DEFAULT_DAYS = 30


async def _send_files(
    update: Update, context: Context, out: Rendered, photo_caption: str, doc_caption: str
) -> None:
    chat_id = chat_id_of(update)
    if out.png is not None:
        caption, rest = fit_caption(photo_caption)
        await context.bot.send_photo(chat_id, InputFile(out.png, filename="chart.png"), caption=caption)
        for part in rest:
            await send(update, context, part)
    if out.xlsx is not None:
        caption, rest = fit_caption(doc_caption)
        await context.bot.send_document(chat_id, InputFile(out.xlsx, filename=out.filename), caption=caption)
        for part in rest:
            await send(update, context, part)


async def report(update: Update, context: Context) -> None:
    """/report [year|from to] [commodity]: summary, chart and Excel table."""
    from bot.services.reports import ArgsError, Period, read_report  # here: see Services.reports

    svc = context.services
    lang = context.lang
    today = svc.reports.today()
    try:
        query = read_report(context.args or [], today, svc.reports.commodity_names, svc.reports.commodities())
    except ArgsError as exc:
        names = ", ".join(svc.reports.commodity_names.examples(lang))
        await send(
            update,
            context,
            _not_understood(exc, lang)
            + "\n\n"
            + t("rep_usage", lang)
            + "\n"
            + t("rep_commodities", lang, names=escape(names)),
        )
        return
    period = Period(query.span.start, query.span.end) if query.span else Period.year(today.year)
    await context.bot.send_chat_action(chat_id_of(update), ChatAction.UPLOAD_DOCUMENT)
    out = await asyncio.to_thread(
        svc.reports.export_files, period, query.commodity, lang, svc.settings.office.name, query.names
    )
    await send(update, context, out.summary)
    label = period.label(lang)
    await _send_files(
        update,
        context,
        out,
        t("rep_photo_caption", lang, period=label),
        t("rep_doc_caption", lang, period=label),
    )


def _not_understood(exc: ArgsError, lang: str) -> str:
    if exc.key == "args_not_understood":
        return t("args_not_understood", lang, word=escape(exc.word[:60]))
    return t(exc.key, lang, word=escape(exc.word[:60]))


async def stats(update: Update, context: Context) -> None:
    """/stats [days] [chart|excel]: help-desk figures of the last days."""
    from bot.services.reports import MAX_DAYS, ArgsError, Period, read_stats  # here: see Services.reports

    svc = context.services
    lang = context.lang
    try:
        query = read_stats(context.args or [], svc.reports.today(), DEFAULT_DAYS, MAX_DAYS)
    except ArgsError as exc:
        await send(update, context, _not_understood(exc, lang) + "\n\n" + t("stats_usage", lang))
        return
    days, chart, workbook = query.days, query.chart, query.workbook
    label = since = until = None
    if query.span is not None:
        period = Period(query.span.start, query.span.end)
        since, until = period.bounds(svc.reports.tz)
        until = min(until, dt.datetime.now(dt.UTC))
        label = period.label(lang)
        days = max(1, (query.span.end - query.span.start).days + 1)
    out = await asyncio.to_thread(
        svc.reports.stats_files, days, lang, svc.settings.office.name, chart, workbook, until, label, since
    )
    text = out.summary
    if out.empty and (chart or workbook):
        text += "\n\n" + t("stats_empty", lang)
    await send(update, context, text)
    caption = label or t("stats_last_days", lang, days=days)
    await _send_files(
        update,
        context,
        out,
        t("stats_photo_caption", lang, period=caption),
        t("stats_doc_caption", lang, period=caption),
    )


def register(app: Application) -> None:
    # officers and admins only: the guard in handlers.common refuses everyone else
    restrict(app, REPORT_COMMANDS, STAFF)
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CommandHandler("stats", stats))

"""Officers' reports: /report (export realisation) and /stats (help-desk figures).

Role-checked by the guard in handlers.common. Building a report reads the database and
renders a chart and a workbook, which takes a moment: it runs in a worker thread so the
bot keeps answering other chats meanwhile.
"""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import Application, CommandHandler

from bot.i18n import t
from bot.services.reports import MAX_DAYS, Rendered, ReportArgsError, parse_report_args
from bot.textsplit import fit_caption
from handlers.common import STAFF, Context, lang_of, restrict, send, services

REPORT_COMMANDS = frozenset({"report", "stats"})
DEFAULT_DAYS = 30
CHART_WORDS = frozenset({"chart", "grafik", "png", "gambar"})
EXCEL_WORDS = frozenset({"excel", "xlsx"})


async def _send_files(update: Update, context: Context, out: Rendered, photo_caption: str,
                      doc_caption: str) -> None:
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    if out.png is not None:
        caption, rest = fit_caption(photo_caption)
        await context.bot.send_photo(chat_id, InputFile(out.png, filename="chart.png"),
                                     caption=caption, parse_mode=ParseMode.HTML)
        for part in rest:
            await send(update, context, part)
    if out.xlsx is not None:
        caption, rest = fit_caption(doc_caption)
        await context.bot.send_document(chat_id, InputFile(out.xlsx, filename=out.filename),
                                        caption=caption, parse_mode=ParseMode.HTML)
        for part in rest:
            await send(update, context, part)


async def report(update: Update, context: Context) -> None:
    """/report [year|from to] [commodity]: summary, chart and Excel table."""
    svc = services(context)
    lang = lang_of(update, context)
    try:
        period, commodity = parse_report_args(context.args or [], svc.reports.today())
    except ReportArgsError as exc:
        await send(update, context, t(exc.key, lang) + "\n\n" + t("rep_usage", lang))
        return
    await context.bot.send_chat_action(update.effective_chat.id,  # type: ignore[union-attr]
                                       ChatAction.UPLOAD_DOCUMENT)
    out = await asyncio.to_thread(svc.reports.export_files, period, commodity, lang,
                                  svc.settings.office.name)
    await send(update, context, out.summary)
    label = period.label(lang)
    await _send_files(update, context, out, t("rep_photo_caption", lang, period=label),
                      t("rep_doc_caption", lang, period=label))


def parse_stats_args(args: list[str]) -> tuple[int, bool, bool] | None:
    """`[days] [chart|excel]` -> (days, chart?, workbook?), None when unreadable."""
    days, chart, workbook = DEFAULT_DAYS, False, False
    for word in (a.casefold() for a in args):
        if word.isdecimal() and 1 <= int(word) <= MAX_DAYS:
            days = int(word)
        elif word in CHART_WORDS:
            chart = True
        elif word in EXCEL_WORDS:
            workbook = True
        else:
            return None
    return days, chart, workbook


async def stats(update: Update, context: Context) -> None:
    """/stats [days] [chart|excel]: help-desk figures of the last days."""
    svc = services(context)
    lang = lang_of(update, context)
    parsed = parse_stats_args(context.args or [])
    if parsed is None:
        await send(update, context, t("stats_usage", lang))
        return
    days, chart, workbook = parsed
    out = await asyncio.to_thread(svc.reports.stats_files, days, lang,
                                  svc.settings.office.name, chart, workbook)
    text = out.summary
    if out.empty and (chart or workbook):
        text += "\n\n" + t("stats_empty", lang)
    await send(update, context, text)
    await _send_files(update, context, out, t("stats_photo_caption", lang, days=days),
                      t("stats_doc_caption", lang, days=days))


def register(app: Application) -> None:
    # officers and admins only: the guard in handlers.common refuses everyone else
    restrict(app, REPORT_COMMANDS, STAFF)
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CommandHandler("stats", stats))

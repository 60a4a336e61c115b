"""Spike alerts in the officers' group and their one-tap draft broadcast."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.i18n import t
from bot.services.broadcasts import BroadcastError
from bot.services.leases import once_per_period
from handlers.broadcast import _keyboard, _preview
from handlers.common import STAFF, Context, person, send, services

log = logging.getLogger(__name__)
SPIKE_INTERVAL = 60
_DATA = re.compile(r"^sp:(\d{1,9})$")


async def spike_job(context: Context) -> None:
    """Every minute (one process: a lease): look for many exporters asking the same."""
    svc = services(context)
    for alert in await asyncio.to_thread(svc.spikes.check):
        log.info("spike alert #%d: %d exporters about %s", alert.id, alert.people,
                 alert.topic_id or "an unanswered question")


async def on_draft_button(update: Update, context: Context) -> None:
    """sp:N: the alert's draft as a broadcast preview, for the officer who pressed it."""
    query = update.callback_query
    svc = services(context)
    who = person(update, context)
    if who.role not in STAFF:
        await query.answer(t("officer_only", who.lang), show_alert=True)
        return
    m = _DATA.match(query.data or "")
    alert = svc.spikes.get(int(m[1])) if m else None
    if alert is None:
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    try:
        view = svc.broadcasts.draft(who.id, update.effective_chat.id,  # type: ignore[union-attr]
                                    svc.spikes.draft(alert))
    except BroadcastError as exc:
        await query.answer(t(exc.key, who.lang, **exc.values), show_alert=True)
        return
    await query.answer()
    await send(update, context, _preview(view, who.lang) + "\n\n" + t("spike_draft_edit", who.lang),
               _keyboard(view, who.lang))


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_draft_button, pattern=r"^sp:"))


def schedule_jobs(app: Application) -> None:
    app.job_queue.run_repeating(once_per_period("spike-alert", SPIKE_INTERVAL - 5)(spike_job),
                                interval=SPIKE_INTERVAL, first=SPIKE_INTERVAL,
                                name="spike-alert",
                                job_kwargs={"max_instances": 1, "coalesce": True})

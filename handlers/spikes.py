"""Spike alerts in the officers' group and their one-tap draft broadcast."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, JobQueue

from bot.i18n import t
from bot.services.broadcasts import BroadcastError
from bot.telegram import keyboards
from bot.telegram.buttons import SpikeDraft
from bot.telegram.context import HelpDeskContext
from bot.telegram.jobs import once_per_period
from handlers.broadcast import preview
from handlers.common import STAFF, Context, chat_id_of, pressed, send

log = logging.getLogger(__name__)
SPIKE_INTERVAL = 60


async def spike_job(context: Context) -> None:
    """Every minute (one process: a lease): look for many exporters asking the same."""
    svc = context.services
    for alert in await asyncio.to_thread(svc.spikes.check):
        log.info(
            "spike alert #%d: %d exporters about %s",
            alert.id,
            alert.people,
            alert.topic_id or "an unanswered question",
        )


async def on_draft_button(update: Update, context: Context) -> None:
    """sp:N: the alert's draft as a broadcast preview, for the officer who pressed it."""
    query, button = pressed(update, SpikeDraft)
    svc = context.services
    who = context.person
    if who.role not in STAFF:
        await query.answer(t("officer_only", who.lang), show_alert=True)
        return
    alert = svc.spikes.get(button.alert) if button is not None else None
    if alert is None:
        await query.answer(t("button_invalid", who.lang), show_alert=True)
        return
    try:
        view = svc.broadcasts.draft(who.id, chat_id_of(update), svc.spikes.draft(alert))
    except BroadcastError as exc:
        await query.answer(exc.text(who.lang), show_alert=True)
        return
    await query.answer()
    await send(
        update,
        context,
        preview(view, who.lang) + "\n\n" + t("spike_draft_edit", who.lang),
        keyboards.broadcast_draft(view, who.lang),
    )


def register(app: Application) -> None:
    # staff only, whatever the data: the role check comes before the data's
    app.add_handler(CallbackQueryHandler(on_draft_button, pattern=SpikeDraft.prefix_pattern()))


def schedule_jobs(jobs: JobQueue[HelpDeskContext]) -> None:
    jobs.run_repeating(
        once_per_period("spike-alert", SPIKE_INTERVAL - 5)(spike_job),
        interval=SPIKE_INTERVAL,
        first=SPIKE_INTERVAL,
        name="spike-alert",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )

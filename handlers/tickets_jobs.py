"""Tickets, the jobs: first-response deadlines and cards that never reached the officers."""

from __future__ import annotations

from telegram.ext import JobQueue

from bot.telegram.context import HelpDeskContext
from bot.telegram.jobs import once_per_period
from handlers.common import Context, flush_officers

SLA_INTERVAL = 60
# a ticket whose card was never posted (Telegram failed, the process died) gets it soon
CARD_INTERVAL = 15


async def sla_job(context: Context) -> None:
    """Every minute: warn before the first-response target, say when it is breached (the
    notices are queued with the change that marks them, so each is sent once)."""
    if context.services.tickets.sla_pass():
        await flush_officers(context)


async def card_job(context: Context) -> None:
    """Queue a card for tickets whose card is neither posted nor on its way (Telegram
    refused it for good, say), so the officers' chat holds every ticket."""
    if context.services.tickets.repost_missing_cards():
        await flush_officers(context)


def schedule_jobs(jobs: JobQueue[HelpDeskContext]) -> None:
    # with several processes on one database, only the lease holder runs the pass
    jobs.run_repeating(
        once_per_period("ticket-sla", SLA_INTERVAL - 5)(sla_job),
        interval=SLA_INTERVAL,
        first=5,
        name="ticket-sla",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    jobs.run_repeating(
        once_per_period("ticket-cards", CARD_INTERVAL - 2)(card_job),
        interval=CARD_INTERVAL,
        first=5,
        name="ticket-cards",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )

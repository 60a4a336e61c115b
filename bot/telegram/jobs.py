"""Job callbacks: their type, and the lease that lets one process of several run a job."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bot.services.leases import Leases
from bot.telegram.context import HelpDeskContext

log = logging.getLogger(__name__)
Job = Callable[[HelpDeskContext], Coroutine[Any, Any, None]]


def once_per_period(name: str, seconds: float) -> Callable[[Job], Job]:
    """Wrap a job callback so that only the process holding lease `name` runs it."""

    def wrap(job: Job) -> Job:
        @functools.wraps(job)
        async def leased(context: HelpDeskContext) -> None:
            if not Leases(context.services.db).acquire(name, seconds):
                log.debug("job %s: another process holds the lease", name)
                return
            await job(context)

        return leased

    return wrap

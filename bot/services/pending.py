"""The matcher of `python -m bot run`, built in a thread while the first getUpdates waits.

Preparing the matcher is the largest single piece of start-up work (normalising every
sample question), and nothing needs it before the first question arrives. `run` starts
polling first and builds it beside the first getUpdates (HelpDeskApplication.start); a
question that comes before it is ready waits for it, as it waited for the whole start-up
before.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from knowledge.loader import Knowledge

if TYPE_CHECKING:
    from knowledge.matcher import Matcher


def build_matcher(kb: Knowledge) -> Matcher:
    """The Matcher of `kb`, the one place the services build one. The matcher brings
    numpy (tens of milliseconds to import): imported here, `run` imports it in the
    thread that builds the matcher, after its first getUpdates."""
    from knowledge.matcher import Matcher

    return Matcher(kb)


class PendingMatcher:
    """Stands in for the Matcher of `kb` until it is built: the first caller builds it, or
    waits for the thread that is building it."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None

    def build(self) -> Matcher:
        with self._lock:
            if self._matcher is None:
                self._matcher = build_matcher(self.kb)
            return self._matcher

    def __getattr__(self, name: str) -> Any:
        return getattr(self.build(), name)

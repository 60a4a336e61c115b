"""Marks that make an officer's text internal, and near misses of them.

Officers learn on tickets that `//` and `/note` keep a text inside the office. A text
that only looks like such a mark (`/notes`, `/ /`, `#note`, a full-width `／／`) or that
starts with a command the bot does not know was meant for the office, not for the
exporter: relaying it word for word would leak it.
"""

from __future__ import annotations

import re
import unicodedata

# slash-like characters that NFKC leaves alone
_SLASHES = "\u2044\u2215\u29f8\u2571\u29f9\u2572"
_NEAR_MISS = re.compile(
    rf"""
    (?: [/\\{_SLASHES}] \S*         # any command-like or slash-like start: /notes, / /, \\
      | \#\s*(?:notes?|catatan|internal|intern)\b   # a hashtag 'note'
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_INTERNAL = re.compile(r"(?://|/note(?![^\s@]))", re.IGNORECASE)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lstrip()


def near_miss(text: str) -> str | None:
    """The start of a text that reads as a mistyped note mark or an unknown command, as
    typed (cut short), else None. Exact internal marks are the caller's to check first."""
    found = _NEAR_MISS.match(_normal(text))
    if found is None:
        return None
    return text.lstrip().split(maxsplit=1)[0][:32] if text.strip() else None


def marked_internal(text: str) -> bool:
    """Whether any line of a text starts with an internal mark or a near miss of one: a
    text that goes to the exporter must not carry what an officer meant to keep inside."""
    return any(
        _INTERNAL.match(_normal(line)) or _NEAR_MISS.match(_normal(line)) for line in text.splitlines()
    )

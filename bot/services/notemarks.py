"""Marks that make an officer's text internal, and near misses of them.

Officers learn on tickets that `//` and `/note` keep a text inside the office. A text
that only looks like such a mark (`/notes`, `/ /`, `#note`, a full-width `／／`), that
says it is internal at a line's start (`Catatan internal:`, `[note]`, `(internal)`) or that
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
      | [\[(]\s*(?:notes?|catatan|internal|intern)\s*[\])]   # [note], (internal)
      | (?:catatan\s+|note\s+)?(?:internal|intern)\s*[:\-]   # "Catatan internal:", "internal -"
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_INTERNAL = re.compile(r"(?://|/note(?![^\s@]))", re.IGNORECASE)


_NOTE_WORDS = frozenset({"note", "notes", "catatan", "internal", "intern"})
# the exporters' own commands: an answer may tell them to type one on its own line
EXPORTER_COMMANDS = frozenset(
    {
        "start", "help", "topics", "lang", "status", "link", "unlink", "cek", "check", "batal",
        "cancel", "petugas", "officer", "upload", "reminders", "pengingat",
    }
)  # fmt: skip


# blank or joining characters outside category Cf (Unicode's default ignorables): the
# combining grapheme joiner, Hangul and Khmer fillers, Mongolian and variation selectors
_IGNORABLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10)]
)


def visible(text: str) -> str:
    """The text without format characters (zero-width spaces, joiners, direction marks,
    BOMs: Unicode category Cf) and other default-ignorable ones, which copy and paste
    from WhatsApp or Word brings along and which would hide a mark at a line's start."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ord(ch) not in _IGNORABLE)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", visible(text)).lstrip()


def _exporters_own(normal: str) -> bool:
    """A line that starts with an exporter's command ("/status SKA-001") or a path
    ("/ska/2026/..."): meant for the exporter, not a mistyped note."""
    token = normal.split(maxsplit=1)[0] if normal.strip() else ""
    segments = token.strip("/").split("/")
    if token.startswith("/") and len(segments) > 1 and all(segments):
        # a path ("/ska/2026/SKA-001.pdf"), unless it starts like a note ("/note/x")
        return segments[0].lower() not in _NOTE_WORDS
    return token[:1] == "/" and token[1:].split("@", 1)[0].lower() in EXPORTER_COMMANDS


def marked_line(text: str) -> str | None:
    """The mark (as typed, cut short) that starts a line of the text, if any line starts
    with an internal mark or a near miss of one, else None: a text that goes to the
    exporter must not carry what an officer meant to keep inside. An answer that is
    wholly a note is the caller's to take apart first (tickets.internal_note)."""
    for line in text.splitlines():
        normal = _normal(line)
        if _INTERNAL.match(normal) or (_NEAR_MISS.match(normal) and not _exporters_own(normal)):
            return line.split(maxsplit=1)[0][:32]
    return None

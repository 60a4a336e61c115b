"""The questions of a check and what a check finds: findings and the values they carry.

Answers are kept as the exporter typed them (dates as ISO text); every rule parses what
it needs, so the bot, the command line and the tests all run the very same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STEPS = (
    "commodity",
    "hs_code",
    "destination",
    "form",
    "exporter_invoice",
    "exporter_peb",
    "consignee_invoice",
    "consignee_bl",
    "quantity",
    "gross_weight",
    "net_weight",
    "currency",
    "invoice_value",
    "shipment_date",
    "application_date",
)
SUMMARY = "summary"
ERROR, WARNING, INFO = "error", "warning", "info"
RANK = {ERROR: 0, WARNING: 1, INFO: 2}
ICONS = {ERROR: "❌", WARNING: "⚠️", INFO: "ℹ️"}


def answer_text(answers: Mapping[str, Any], key: str) -> str:
    value = answers.get(key)
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Msg:
    """A catalog text (trusted HTML), rendered in the reader's language."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Local:
    """A bilingual text from the knowledge base (trusted HTML)."""

    texts: Mapping[str, str]


@dataclass(frozen=True)
class Diff:
    """A compared name: (text, differs) segments; the differing ones are marked."""

    segments: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Bullets:
    """Items shown one per line (a checklist)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    confirm: bool = False  # states a fact the office must confirm

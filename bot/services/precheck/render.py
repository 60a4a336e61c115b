"""Findings and the summary as Telegram HTML, or as terminal text (markup=False)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.i18n import t
from bot.services.precheck.knowledge import OTHER, PrecheckKB
from bot.services.precheck.model import (
    ICONS,
    STEPS,
    Bullets,
    Diff,
    Finding,
    Local,
    Msg,
    answer_text,
)
from bot.text import escape, format_number, plain

_SAYS_CONFIRM = {"id": "konfirmasi ke petugas", "en": "confirm with the office"}


def render_value(value: Any, lang: str, markup: bool = True) -> str:
    if isinstance(value, Msg):
        return t(value.key, lang, **{k: render_value(v, lang, markup) for k, v in value.values.items()})
    if isinstance(value, Local):
        return value.texts.get(lang) or next(iter(value.texts.values()), "")
    if isinstance(value, Diff):
        parts = []
        for text, differs in value.segments:
            shown = escape(text) if markup else text
            if differs:
                shown = f"<u><b>{shown}</b></u>" if markup else f"[{shown}]"
            parts.append(shown)
        return "".join(parts)
    if isinstance(value, Bullets):
        return "".join(f"\n• {render_value(v, lang, markup)}" for v in value.items)
    if isinstance(value, tuple):
        return ", ".join(render_value(v, lang, markup) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        # a count or a limit of ours (what the exporter typed stays a str): 1.200 / 1,200
        return format_number(value, lang, 0)
    # anything else came from the exporter: never rendered as HTML
    return escape(str(value)) if markup else str(value)


def render_finding(finding: Finding, lang: str, markup: bool = True) -> str:
    values = {k: render_value(v, lang, markup) for k, v in finding.values.items()}
    text = t(finding.key, lang, **values)
    if finding.confirm and _SAYS_CONFIRM[lang] not in text.lower():
        # a text that already says it (the UAE note) is not told twice
        text += " " + t("pc_confirm", lang)
    if not markup:
        return plain(text)
    return f"{ICONS[finding.severity]} {text}"


def answer_display(step: str, value: str, kb: PrecheckKB, lang: str) -> str:
    """How a stored answer reads in the summary (names of commodity and country)."""
    if step == "commodity":
        if value == OTHER:
            return t("pc_commodity_other", lang)
        if value in kb.commodities:
            return kb.commodities[value].name[lang]
    if step in ("shipment_date", "application_date"):
        try:
            # stored as ISO; shown as every other date the bot shows (day first)
            return f"{dt.date.fromisoformat(value):%d-%m-%Y}"
        except ValueError:
            return escape(value)
    if step == "destination":
        if value == OTHER:
            return t("pc_destination_other", lang)
        name = kb.destination_name(value)
        if name is not None:
            return name[lang]
    return escape(value)


def render_summary(answers: Mapping[str, Any], findings: list[Finding], kb: PrecheckKB, lang: str) -> str:
    lines = [t("pc_summary_title", lang), ""]
    for step in STEPS:
        value = answer_text(answers, step)
        shown = answer_display(step, value, kb, lang) if value else "-"
        lines.append(f"• {t(f'pc_label_{step}', lang)}: {shown}")
    lines += ["", t("pc_findings_title", lang)]
    lines += [render_finding(f, lang) for f in findings]
    lines += ["", t("pc_summary_hint", lang)]
    return "\n".join(lines)

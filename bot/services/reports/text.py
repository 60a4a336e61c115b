"""The report messages for people: Telegram HTML from the catalog, numbers as the reader
writes them (240.795,83 in Indonesian, 240,795.83 in English)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

from bot.i18n import t
from bot.services.reports.model import TOP, Bucket, CountryName, ExportReport, HelpdeskStats
from bot.text import escape as esc
from bot.text import format_number

When = Callable[[dt.datetime], str]  # a moment as the office reads it


def export_summary(report: ExportReport, lang: str, country_name: CountryName) -> str:
    """The short message that goes with the chart and the workbook."""
    head = t("rep_title", lang, period=report.period.label(lang))
    if report.commodity:
        head += "\n" + t("rep_commodity_filter", lang, commodity=esc(report.commodity))
    if not report.lines:
        return head + "\n" + t("rep_none", lang)
    total = report.total_value
    lines = [
        head,
        t(
            "rep_totals",
            lang,
            count=report.count,
            tonnes=format_number(report.total_volume, lang),
            value=format_number(total, lang),
            exporters=report.exporters,
            countries=len(report.by_destination),
        ),
    ]
    lines.append(t("rep_by_commodity", lang))
    for b in report.by_commodity[:TOP]:
        lines.append(
            t(
                "rep_share_line",
                lang,
                name=esc(b.key),
                value=format_number(b.value_usd, lang),
                share=share(b, total, lang),
            )
        )
    lines.append(t("rep_by_destination", lang))
    for b in report.by_destination[:TOP]:
        lines.append(
            t(
                "rep_share_line",
                lang,
                name=esc(country_name(b.key, lang)),
                value=format_number(b.value_usd, lang),
                share=share(b, total, lang),
            )
        )
    pub = report.published
    if pub is not None:
        for key, printed, ours in (
            ("rep_published_volume", pub.volume_tonnes, report.total_volume),
            ("rep_published_value", pub.value_usd, total),
        ):
            if printed != ours:
                lines.append(
                    t(
                        key,
                        lang,
                        published=format_number(printed, lang),
                        gap=format_number(abs(printed - ours), lang),
                    )
                )
    if report.missing_figures:
        lines.append(t("rep_missing_figures", lang, count=report.missing_figures))
    return "\n".join(lines)


def stats_summary(
    st: HelpdeskStats, lang: str, titles: dict[str, str], when: When, period: str | None = None
) -> str:
    rate = (
        "-" if st.deflection_rate is None else format_number(Decimal(st.deflection_rate * 100), lang, 1) + "%"
    )
    title = (
        t("stats_title", lang, days=st.days, since=when(st.since), until=when(st.until))
        if period is None
        else t("stats_title_period", lang, period=period, since=when(st.since), until=when(st.until))
    )
    lines = [
        title,
        t(
            "stats_questions",
            lang,
            count=st.questions,
            answered=st.answered,
            suggested=st.suggested,
            no_match=st.no_match,
        ),
        t("stats_deflection", lang, count=st.deflected, rate=rate),
        t("stats_escalated", lang, count=st.tickets, closed=st.tickets_closed),
        t(
            "stats_first_response",
            lang,
            median=duration(st.first_response.median, lang),
            p90=duration(st.first_response.p90, lang),
            n=st.first_response.n,
        ),
        t(
            "stats_resolution",
            lang,
            median=duration(st.resolution.median, lang),
            p90=duration(st.resolution.p90, lang),
            n=st.resolution.n,
        ),
        t("stats_sla", lang, count=st.sla_breaches),
        t(
            "stats_rating",
            lang,
            n=st.ratings,
            avg="-" if st.rating_avg is None else format_number(Decimal(st.rating_avg), lang, 1),
        ),
        t(
            "stats_reminders",
            lang,
            count=st.reminders_sent,
            documents="-" if st.documents_after_reminder is None else st.documents_after_reminder,
        ),
    ]
    if st.top_topics:
        lines.append(t("stats_top_topics", lang))
        lines += [f"• {esc(titles.get(tid, tid))}: {n}" for tid, n in st.top_topics]
    if st.top_unanswered:
        lines.append(t("stats_top_unanswered", lang))
        lines += [f"• <i>{esc(text[:80])}</i>: {n}" for text, n in st.top_unanswered]
    if period is None:
        lines.append(t("stats_more", lang, days=st.days))
    return "\n".join(lines)


def share(bucket: Bucket, total: Decimal, lang: str) -> str:
    if not total:
        return "-"
    return format_number(bucket.value_usd * 100 / total, lang, 1) + "%"


def duration(seconds: float | None, lang: str) -> str:
    """Business time as hours and minutes: 5400 -> '1 j 30 m' / '1 h 30 m'."""
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    return t("stats_duration", lang, h=minutes // 60, m=minutes % 60)


def slug(text: str) -> str:
    """A commodity in a file name: 'Veneer Keruing' -> 'veneer-keruing'."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40] or "x"

"""Report charts as PNG bytes: matplotlib's object API on the Agg canvas.

No pyplot: its global figure state is not thread-safe, and handlers render in a worker
thread (asyncio.to_thread) so the event loop keeps serving other chats meanwhile.

Labels are commodity names, countries and topic titles from imports and the knowledge
base: every text is drawn with parse_math=False, so '$...$' is shown as written instead
of being parsed as mathtext (a bad macro there made the whole report fail).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.i18n import t
from bot.services.reports.model import Bucket, CountryName, ExportReport, HelpdeskStats
from bot.text import format_number

WIDTH_IN = 7.0  # 7 in at 150 dpi = 1050 px: sharp on a phone, under Telegram's 1280
DPI = 150
BAR_IN = 0.42  # height per bar: labels of 12 pt stay apart
MAX_BARS = 8
COLOURS = ("#1f5f8b", "#d98c1f", "#3a8f5c", "#8b3a62")


def short_usd(value: Decimal | float, lang: str) -> str:
    """Bar labels: 'USD 30,99 jt' / 'USD 30.99 M', 'USD 226,1 rb' / 'USD 226.1 k'."""
    v = Decimal(value)
    if abs(v) >= 1_000_000:
        return f"USD {format_number(v / 1_000_000, lang)} {t('rep_million', lang)}"
    if abs(v) >= 1_000:
        return f"USD {format_number(v / 1_000, lang, 1)} {t('rep_thousand', lang)}"
    return f"USD {format_number(v, lang, 0)}"


def _top(buckets: Sequence[Bucket], names: list[str], lang: str) -> tuple[list[str], list[Decimal]]:
    """The largest bars, the rest folded into one 'Others (n)' bar."""
    labels, values = names[:MAX_BARS], [b.value_usd for b in buckets[:MAX_BARS]]
    rest = buckets[MAX_BARS:]
    if rest:
        labels.append(t("rep_chart_others", lang, count=len(rest)))
        values.append(sum((b.value_usd for b in rest), Decimal(0)))
    return labels, values


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _hbars(
    ax,
    labels: list[str],
    values: list[float],
    colour: str,  # type: ignore[no-untyped-def]
    texts: list[str],
    title: str,
) -> None:
    y = list(range(len(labels)))
    ax.barh(y, values, color=colour, height=0.65)
    ax.set_yticks(y, labels, fontsize=12, parse_math=False)
    ax.invert_yaxis()  # largest on top, as people read a ranking
    ax.set_title(title, fontsize=14, loc="left", fontweight="bold", parse_math=False)
    top = max(values) if values and max(values) > 0 else 1.0
    ax.set_xlim(0, top * 1.45)  # room for the value written after each bar
    for i, (v, text) in enumerate(zip(values, texts, strict=True)):
        ax.text(v + top * 0.02, i, text, va="center", fontsize=11, parse_math=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)


def export_chart(report: ExportReport, lang: str, country_name: CountryName) -> bytes:
    """Value by commodity and by destination, one panel each, labelled with the values."""
    com_labels, com_values = _top(report.by_commodity, [b.key for b in report.by_commodity], lang)
    dest_labels, dest_values = _top(
        report.by_destination, [country_name(b.key, lang) for b in report.by_destination], lang
    )
    heights = [max(len(com_labels), 1) * BAR_IN + 0.9, max(len(dest_labels), 1) * BAR_IN + 0.9]
    fig = Figure(figsize=(WIDTH_IN, sum(heights) + 1.2), layout="constrained")
    fig.suptitle(t("rep_chart_title", lang, period=report.period.label(lang)), fontsize=14, parse_math=False)
    axes = fig.subplots(2, 1, height_ratios=heights)
    millions = FuncFormatter(
        lambda x, _pos: (
            format_number(Decimal(str(x)), lang, 0)
            if abs(x) >= 1 or x == 0
            else format_number(Decimal(str(x)), lang, 1)
        )
    )
    for ax, labels, values, colour, title in (
        (axes[0], com_labels, com_values, COLOURS[0], t("rep_chart_by_commodity", lang)),
        (axes[1], dest_labels, dest_values, COLOURS[1], t("rep_chart_by_destination", lang)),
    ):
        _hbars(
            ax, labels, [float(v) / 1e6 for v in values], colour, [short_usd(v, lang) for v in values], title
        )
        ax.xaxis.set_major_formatter(millions)
        ax.set_xlabel(t("rep_chart_axis", lang), fontsize=11, parse_math=False)
    return _png(fig)


def stats_chart(st: HelpdeskStats, lang: str, titles: dict[str, str]) -> bytes:
    """Question outcomes, service times (median and P90) and the top topics."""
    outcomes = [
        (t("stats_label_answered", lang), st.answered),
        (t("stats_label_deflected", lang), st.deflected),
        (t("stats_label_suggested", lang), st.suggested),
        (t("stats_label_no_match", lang), st.no_match),
        (t("stats_label_escalated", lang), st.tickets),
    ]
    times = [
        (t("stats_label_first_median", lang), st.first_response.median),
        (t("stats_label_first_p90", lang), st.first_response.p90),
        (t("stats_label_resolution_median", lang), st.resolution.median),
        (t("stats_label_resolution_p90", lang), st.resolution.p90),
    ]
    topics = [(titles.get(tid, tid)[:40], n) for tid, n in st.top_topics]
    panels = [len(outcomes), len(times), max(len(topics), 1)]
    heights = [n * BAR_IN + 0.9 for n in panels]
    fig = Figure(figsize=(WIDTH_IN, sum(heights) + 1.0), layout="constrained")
    fig.suptitle(
        t("stats_photo_caption", lang, period=t("stats_last_days", lang, days=st.days)),
        fontsize=14,
        parse_math=False,
    )
    axes = fig.subplots(3, 1, height_ratios=heights)
    _hbars(
        axes[0],
        [a for a, _ in outcomes],
        [float(n) for _, n in outcomes],
        COLOURS[0],
        [str(n) for _, n in outcomes],
        t("stats_chart_outcomes", lang),
    )
    hours = [(s or 0.0) / 3600 for _, s in times]
    _hbars(
        axes[1],
        [a for a, _ in times],
        hours,
        COLOURS[1],
        [
            format_number(Decimal(str(round(h, 1))), lang, 1) + " " + t("stats_chart_hours", lang)
            for h in hours
        ],
        t("stats_chart_times", lang),
    )
    _hbars(
        axes[2],
        [a for a, _ in topics] or ["-"],
        [float(n) for _, n in topics] or [0.0],
        COLOURS[2],
        [str(n) for _, n in topics] or [""],
        t("stats_chart_topics", lang),
    )
    return _png(fig)

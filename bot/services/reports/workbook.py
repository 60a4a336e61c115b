"""Report workbooks as .xlsx bytes (openpyxl), laid out as the office lays out its table.

Numbers are stored as numbers with the format code '#,##0.00', so the office can still
sum and filter them: Excel shows them with the separators of the reader's locale, which
on the office's Indonesian Windows is 240.795,83. Titles and headers follow `lang`.

Text comes from exporters (questions) and imports (company names, commodities): every
text cell is written as text, never as a formula, whatever it starts with.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import t
from bot.services.reports.model import Bucket, CountryName, ExportReport, HelpdeskStats
from bot.services.reports.period import month_name
from bot.services.reports.text import duration

NUMBER = "#,##0.00"
COUNT = "#,##0"
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BOLD = Font(bold=True)
# what Excel (or LibreOffice) reads as the start of a formula when a cell is typed or
# edited; tab and carriage return start one in CSV exports of the sheet
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _first_sheet(wb: Workbook) -> Worksheet:
    """The sheet a new workbook opens with (openpyxl's types allow it to be absent)."""
    ws = wb.active
    assert isinstance(ws, Worksheet)
    return ws


def text_cell(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """ws.cell(), but a string is always a string: openpyxl stores '=...' as a formula.
    Control characters a cell cannot hold (an exporter's question may carry one) become
    U+FFFD: one such question must not break the whole workbook."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = ws.cell(row, column, value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            # Excel keeps it text even when someone edits the cell later
            cell.quotePrefix = True
    return cell


def _title(ws: Worksheet, lines: Sequence[str], width: int) -> int:
    """Title lines merged across the table; returns the first free row."""
    for i, text in enumerate(lines, start=1):
        text_cell(ws, i, 1, text).font = Font(bold=i == 1, size=13 if i == 1 else 11)
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
    return len(lines) + 2


def _table(
    ws: Worksheet,
    top: int,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    total: Sequence[Any] | None,
    formats: Sequence[str | None],
    widths: Sequence[int],
) -> None:
    for col, text in enumerate(headers, start=1):
        cell = text_cell(ws, top, col, text)
        cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    body = [*rows, total] if total is not None else list(rows)
    for r, values in enumerate(body, start=top + 1):
        for col, value in enumerate(values, start=1):
            cell = text_cell(ws, r, col, float(value) if isinstance(value, Decimal) else value)
            cell.border = BOX
            fmt = formats[col - 1]
            if fmt and isinstance(value, (int, float, Decimal)):
                cell.number_format = fmt
            if isinstance(value, str):
                cell.alignment = Alignment(vertical="top", wrap_text=True)
            if total is not None and r == top + len(body):
                cell.font, cell.fill = BOLD, TOTAL_FILL
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(top + 1, 1).coordinate


def _bucket_sheet(
    wb: Workbook,
    title: str,
    head: list[str],
    label: str,
    buckets: Sequence[Bucket],
    names: Sequence[str],
    lang: str,
) -> None:
    ws = wb.create_sheet(title)
    top = _title(ws, head, 5)
    rows = [
        [i, name, b.count, b.volume_tonnes, b.value_usd]
        for i, (b, name) in enumerate(zip(buckets, names, strict=True), start=1)
    ]
    total = [
        "",
        t("rep_total", lang),
        sum(b.count for b in buckets),
        sum((b.volume_tonnes for b in buckets), Decimal(0)),
        sum((b.value_usd for b in buckets), Decimal(0)),
    ]
    _table(
        ws,
        top,
        [
            t("rep_col_no", lang),
            label,
            t("rep_col_count", lang),
            t("rep_col_volume", lang),
            t("rep_col_value", lang),
        ],
        rows,
        total,
        [None, None, COUNT, NUMBER, NUMBER],
        [6, 28, 12, 18, 22],
    )


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_workbook(
    report: ExportReport, lang: str, office: str, country_name: CountryName, made: str
) -> bytes:
    """Sheets: the office's table (exporter x commodity) with totals, then per commodity,
    per destination and per month."""
    period = report.period.label(lang)
    head = [t("rep_xlsx_title", lang), office, t("rep_xlsx_period", lang, period=period)]
    if report.commodity:
        head.append(t("rep_commodity_filter", lang, commodity=report.commodity))
    head.append(t("rep_xlsx_source", lang, when=made))
    wb = Workbook()
    ws = _first_sheet(wb)
    ws.title = t("rep_sheet_rows", lang)
    top = _title(ws, head, 6)
    rows = [
        [i, line.exporter, line.commodity, line.volume_tonnes, line.value_usd, ", ".join(line.destinations)]
        for i, line in enumerate(report.lines, start=1)
    ]
    total = ["", t("rep_total", lang), "", report.total_volume, report.total_value, ""]
    _table(
        ws,
        top,
        [t(f"rep_col_{c}", lang) for c in ("no", "exporter", "commodity", "volume", "value", "destinations")],
        rows,
        total,
        [None, None, None, NUMBER, NUMBER, None],
        [6, 34, 22, 16, 20, 44],
    )
    ws.print_options.gridLines = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    _bucket_sheet(
        wb,
        t("rep_sheet_commodity", lang),
        head,
        t("rep_col_commodity", lang),
        report.by_commodity,
        [b.key for b in report.by_commodity],
        lang,
    )
    _bucket_sheet(
        wb,
        t("rep_sheet_destination", lang),
        head,
        t("rep_col_country", lang),
        report.by_destination,
        [country_name(b.key, lang) for b in report.by_destination],
        lang,
    )
    _bucket_sheet(
        wb,
        t("rep_sheet_month", lang),
        head,
        t("rep_col_month", lang),
        report.by_month,
        [month_name(b.key, lang) for b in report.by_month],
        lang,
    )
    return _save(wb)


def stats_workbook(st: HelpdeskStats, lang: str, titles: dict[str, str], office: str, period: str) -> bytes:
    """Sheets: the figures (one per row), the top topics, the top unanswered questions."""
    head = [t("stats_photo_caption", lang, period=t("stats_last_days", lang, days=st.days)), office, period]
    wb = Workbook()
    ws = _first_sheet(wb)
    ws.title = t("stats_sheet_summary", lang)
    top = _title(ws, head, 2)
    rate = None if st.deflection_rate is None else round(st.deflection_rate, 4)
    docs: Any = st.documents_after_reminder
    rows: list[list[Any]] = [
        [t("stats_m_questions", lang), st.questions],
        [t("stats_m_answered", lang), st.answered],
        [t("stats_m_suggested", lang), st.suggested],
        [t("stats_m_no_match", lang), st.no_match],
        [t("stats_m_deflected", lang), st.deflected],
        [t("stats_m_deflection_rate", lang), rate if rate is not None else "-"],
        [t("stats_m_tickets", lang), st.tickets],
        [t("stats_m_closed", lang), st.tickets_closed],
        [t("stats_m_first_median", lang), duration(st.first_response.median, lang)],
        [t("stats_m_first_p90", lang), duration(st.first_response.p90, lang)],
        [t("stats_m_resolution_median", lang), duration(st.resolution.median, lang)],
        [t("stats_m_resolution_p90", lang), duration(st.resolution.p90, lang)],
        [t("stats_m_sla", lang), st.sla_breaches],
        [t("stats_m_rating", lang), round(st.rating_avg, 2) if st.rating_avg is not None else "-"],
        [t("stats_m_ratings", lang), st.ratings],
        [t("stats_m_reminders", lang), st.reminders_sent],
        [t("stats_m_documents", lang), t("stats_m_not_tracked", lang) if docs is None else docs],
    ]
    _table(
        ws,
        top,
        [t("stats_col_metric", lang), t("stats_col_value", lang)],
        rows,
        None,
        [None, COUNT],
        [46, 18],
    )
    if rate is not None:
        ws.cell(top + 6, 2).number_format = "0.0%"
    if st.rating_avg is not None:
        ws.cell(top + 14, 2).number_format = "0.00"
    for name, label, items in (
        ("stats_sheet_topics", "stats_col_topic", [(titles.get(tid, tid), n) for tid, n in st.top_topics]),
        ("stats_sheet_unanswered", "stats_col_question", list(st.top_unanswered)),
    ):
        sheet = wb.create_sheet(t(name, lang))
        first = _title(sheet, head, 2)
        _table(
            sheet,
            first,
            [t(label, lang), t("stats_col_count", lang)],
            [[text, n] for text, n in items],
            None,
            [None, COUNT],
            [60, 12],
        )
    return _save(wb)

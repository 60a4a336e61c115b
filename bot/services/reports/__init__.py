"""Reports for the office: export realisation by SKA issuance, and help-desk figures.

One module per section, imports pointing down this list only:

    period.py     the period of a report: bounds in UTC, months, labels; `2025-03` args
    args.py       what officers type after /report and /stats (periods, commodities)
    model.py      the figures the sections hand each other (ExportReport, HelpdeskStats)
    aggregate.py  folding sums and rows into a report (pure Python)
    published.py  the office's published table against its rows and the issued SKAs
    queries.py    the SQL: issued SKAs summed per group and month, help-desk rows
    text.py       the summaries people read (Telegram HTML)
    charts.py     PNG charts (matplotlib)
    workbook.py   .xlsx workbooks (openpyxl)
    service.py    ReportService: what /report, /stats and the command line call

The names below are the package's public face: callers import them from here.
"""

from bot.services.reports.aggregate import aggregate, combine, helpdesk_stats
from bot.services.reports.args import (
    ArgsError,
    CommodityGroup,
    CommodityNames,
    read_period,
    read_report,
    read_stats,
)
from bot.services.reports.model import (
    Bucket,
    CountryName,
    ExportLine,
    ExportReport,
    HelpdeskStats,
    Issued,
    Published,
    Rendered,
    Spread,
)
from bot.services.reports.period import (
    Period,
    ReportArgsError,
    month_name,
    parse_report_args,
    period_slug,
)
from bot.services.reports.published import (
    TableCheck,
    check_table,
    compare_rows,
    published_totals,
)
from bot.services.reports.service import MAX_DAYS, ReportService
from bot.services.reports.text import duration

__all__ = [
    "MAX_DAYS",
    "ArgsError",
    "Bucket",
    "CommodityGroup",
    "CommodityNames",
    "CountryName",
    "ExportLine",
    "ExportReport",
    "HelpdeskStats",
    "Issued",
    "Period",
    "Published",
    "Rendered",
    "ReportArgsError",
    "ReportService",
    "Spread",
    "TableCheck",
    "aggregate",
    "check_table",
    "combine",
    "compare_rows",
    "duration",
    "helpdesk_stats",
    "month_name",
    "parse_report_args",
    "period_slug",
    "published_totals",
    "read_period",
    "read_report",
    "read_stats",
]

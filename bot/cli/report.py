"""`report export|check|stats`: the office's reports for a terminal and for files.

The report services (and the knowledge loader) are imported when a report command runs,
not when the parser is built, so the other commands start without them."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import Subcommands, command, group, services
from bot.config import Settings
from bot.i18n import t
from bot.text import format_number, plain

if TYPE_CHECKING:
    from bot.services.reports import ExportReport, Period


def register(sub: Subcommands) -> None:
    rep = group(sub, "report", "office reports (export realisation, help-desk figures)")
    p = command(rep, "export", cmd_report_export, "export realisation by SKA issuance")
    p.add_argument("--year", type=int, help="calendar year (default: this year)")
    p.add_argument("--from", dest="start", help="start: YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="end: YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--commodity", help="only this commodity, e.g. Plywood")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("--out", help="write the Excel workbook to this .xlsx file")
    p.add_argument("--chart", help="write the chart to this .png file")
    p = command(rep, "check", cmd_report_check, "check a published table's totals against its rows")
    p.add_argument("file", help="CSV: no,exporter,commodity,volume_tonnes,value_usd,destinations")
    p.add_argument("--published-value", help="printed USD total (default: the knowledge base's)")
    p.add_argument("--published-volume", help="printed tonnes total (default: the knowledge base's)")
    p.add_argument("--year", type=int, help="also compare each row with the SKAs issued that year")
    p = command(rep, "stats", cmd_report_stats, "help-desk figures")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("--out", help="write the Excel workbook to this .xlsx file")
    p.add_argument("--chart", help="write the chart to this .png file")


def _period(year: int | None, start: str | None, end: str | None, today: dt.date) -> Period:
    from bot.services.reports import Period, parse_report_args

    if year is not None:
        return Period.year(year)
    words = [w for w in (start, end) if w]
    period, _ = parse_report_args(words, today)
    return period


def table_text(report: ExportReport, lang: str, country_name: Callable[[str, str], str]) -> str:
    """The office's table as fixed-width text, then per destination and per month."""
    from bot.services.reports import month_name

    def num(value: Decimal) -> str:
        return format_number(value, lang)

    out = [plain(t("rep_title", lang, period=report.period.label(lang)))]
    if report.commodity:
        out.append(t("rep_commodity_filter", lang, commodity=report.commodity))
    if not report.lines:
        out.append(t("rep_none", lang))
        return "\n".join(out)
    cols = [
        t(f"rep_col_{c}", lang) for c in ("no", "exporter", "commodity", "volume", "value", "destinations")
    ]
    out.append(f"{cols[0]:>3}  {cols[1]:<30} {cols[2]:<22} {cols[3]:>14} {cols[4]:>17}  {cols[5]}")
    for i, line in enumerate(report.lines, start=1):
        out.append(
            f"{i:>3}  {line.exporter[:30]:<30} {line.commodity[:22]:<22} "
            f"{num(line.volume_tonnes):>14} {num(line.value_usd):>17}  "
            f"{', '.join(line.destinations)}"
        )
    out.append(
        f"{'':>3}  {t('rep_total', lang):<30} {'':<22} {num(report.total_volume):>14} "
        f"{num(report.total_value):>17}"
    )
    for title, buckets, name in (
        (t("rep_sheet_commodity", lang), report.by_commodity, lambda k: k),
        (t("rep_sheet_destination", lang), report.by_destination, lambda k: country_name(k, lang)),
        (t("rep_sheet_month", lang), report.by_month, lambda k: month_name(k, lang)),
    ):
        out += ["", title]
        for b in buckets:
            out.append(
                f"  {name(b.key)[:30]:<30} {b.count:>5} {num(b.volume_tonnes):>14} {num(b.value_usd):>17}"
            )
    pub = report.published
    if pub is not None:
        for key, printed, ours in (
            ("rep_published_volume", pub.volume_tonnes, report.total_volume),
            ("rep_published_value", pub.value_usd, report.total_value),
        ):
            if printed != ours:
                out += ["", t(key, lang, published=num(printed), gap=num(abs(printed - ours)))]
    return "\n".join(out)


def cmd_report_export(settings: Settings, args: argparse.Namespace) -> int:
    """Export realisation by SKA issuance: the office's table, totals from the rows."""
    from bot.services.reports import ReportArgsError

    with services(settings) as svc:
        try:
            period = _period(args.year, args.start, args.end, svc.reports.today())
        except ReportArgsError as exc:
            print(t(exc.key, "en"))
            return 2
        files = svc.reports.export_files(period, args.commodity, args.lang, settings.office.name)
    assert files.report is not None  # export_files always returns the report
    print(table_text(files.report, args.lang, svc.reports.country_name))
    for path, data in ((args.out, files.xlsx), (args.chart, files.png)):
        if path and data is not None:
            Path(path).write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
        elif path:
            print(f"nothing issued in {period.label('en')}: {path} not written")
    return 0


def cmd_report_check(settings: Settings, args: argparse.Namespace) -> int:
    """Compare a published table's totals with its rows (and, with --year, with the SKAs
    the bot holds); exit 1 when anything disagrees."""
    from bot.services.reports import Period, check_table, compare_rows, published_totals
    from knowledge.loader import load_knowledge, read_exports

    file, year = args.file, args.year
    problems: list[str] = []
    rows = read_exports(Path(file), problems)
    if problems:
        for line in problems:
            print(f"ERROR {line}")
        return 2
    printed = published_totals(load_knowledge(settings.knowledge_dir))
    try:
        volume = (
            Decimal(args.published_volume)
            if args.published_volume
            else (printed.volume_tonnes if printed else None)
        )
        value = (
            Decimal(args.published_value)
            if args.published_value
            else (printed.value_usd if printed else None)
        )
    except ArithmeticError:
        print("--published-value/--published-volume must be numbers like 49000166.36")
        return 2
    check = check_table(rows, volume, value)

    def en(value: Decimal) -> str:
        return format_number(value, "en")

    print(f"{file}: {check.rows} rows")
    print(
        f"volume: rows sum to {en(check.volume_tonnes)} t; published "
        f"{en(volume) if volume is not None else '(none given)'}"
    )
    print(
        f"value:  rows sum to USD {en(check.value_usd)}; published "
        f"{'USD ' + en(value) if value is not None else '(none given)'}"
    )
    diffs = check.differences()
    for what, pub, ours in diffs:
        gap = en(abs(pub - ours))
        amount = f"{gap} t" if what == "volume_tonnes" else f"USD {gap}"
        side = "higher" if pub > ours else "lower"
        print(
            f"DIFFERENCE {what}: the published total is {amount} {side} "
            f"than the sum of its rows ({en(pub)} vs {en(ours)})"
        )
    if not diffs:
        print("the published totals equal the sums of the rows")
    mismatches: list[str] = []
    if year is not None:
        with services(settings) as svc:
            mismatches = compare_rows(rows, svc.reports.export(Period.year(year)))
        for line in mismatches:
            print(f"DIFFERENCE {line}")
        if not mismatches:
            print(f"every row equals the SKAs issued in {year} that the bot holds")
    return 1 if diffs or mismatches else 0


def cmd_report_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Help-desk figures of the last days."""
    days = args.days
    with services(settings) as svc:
        files = svc.reports.stats_files(
            days, args.lang, settings.office.name, chart=bool(args.chart), workbook=bool(args.out)
        )
    print(plain(files.summary))
    for path, data in ((args.out, files.xlsx), (args.chart, files.png)):
        if path and data is not None:
            Path(path).write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
        elif path:
            print(f"no questions or tickets in the last {days} days: {path} not written")
    return 0

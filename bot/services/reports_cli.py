"""`python -m bot report export|check|stats`: the reports for a terminal and for files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from bot.config import Settings
from bot.i18n import t
from bot.services.answers import format_number
from bot.services.reports import (
    ExportReport,
    Period,
    ReportArgsError,
    check_table,
    compare_rows,
    month_name,
    parse_report_args,
    published_totals,
)
from knowledge.loader import load_knowledge, read_exports


def _period(year: int | None, start: str | None, end: str | None,
            today: dt.date) -> Period:
    if year is not None:
        return Period.year(year)
    words = [w for w in (start, end) if w]
    period, _ = parse_report_args(words, today)
    return period


def table_text(report: ExportReport, lang: str, country_name) -> str:  # type: ignore[no-untyped-def]
    """The office's table as fixed-width text, then per destination and per month."""
    num = lambda v: format_number(v, lang)  # noqa: E731 - a local shorthand
    out = [_plain(t("rep_title", lang, period=report.period.label(lang)))]
    if report.commodity:
        out.append(t("rep_commodity_filter", lang, commodity=report.commodity))
    if not report.lines:
        out.append(t("rep_none", lang))
        return "\n".join(out)
    cols = [t(f"rep_col_{c}", lang) for c in ("no", "exporter", "commodity", "volume", "value",
                                                "destinations")]
    out.append(f"{cols[0]:>3}  {cols[1]:<30} {cols[2]:<22} {cols[3]:>14} {cols[4]:>17}  "
               f"{cols[5]}")
    for i, line in enumerate(report.lines, start=1):
        out.append(f"{i:>3}  {line.exporter[:30]:<30} {line.commodity[:22]:<22} "
                   f"{num(line.volume_tonnes):>14} {num(line.value_usd):>17}  "
                   f"{', '.join(line.destinations)}")
    out.append(f"{'':>3}  {t('rep_total', lang):<30} {'':<22} {num(report.total_volume):>14} "
               f"{num(report.total_value):>17}")
    for title, buckets, name in (
            (t("rep_sheet_commodity", lang), report.by_commodity, lambda k: k),
            (t("rep_sheet_destination", lang), report.by_destination,
             lambda k: country_name(k, lang)),
            (t("rep_sheet_month", lang), report.by_month, lambda k: month_name(k, lang))):
        out += ["", title]
        for b in buckets:
            out.append(f"  {name(b.key)[:30]:<30} {b.count:>5} {num(b.volume_tonnes):>14} "
                       f"{num(b.value_usd):>17}")
    pub = report.published
    if pub is not None:
        for key, printed, ours in (("rep_published_volume", pub.volume_tonnes,
                                    report.total_volume),
                                   ("rep_published_value", pub.value_usd, report.total_value)):
            if printed != ours:
                out += ["", t(key, lang, published=num(printed), gap=num(abs(printed - ours)))]
    return "\n".join(out)


def export_main(settings: Settings, *, year: int | None, start: str | None, end: str | None,
                commodity: str | None, lang: str, out: str | None, chart: str | None) -> int:
    from bot.services import build_services

    svc = build_services(settings)
    try:
        try:
            period = _period(year, start, end, svc.reports.today())
        except ReportArgsError as exc:
            print(t(exc.key, "en"))
            return 2
        files = svc.reports.export_files(period, commodity, lang, settings.office.name)
    finally:
        svc.close()
    assert files.report is not None      # export_files always returns the report
    print(table_text(files.report, lang, svc.reports.country_name))
    for path, data in ((out, files.xlsx), (chart, files.png)):
        if path and data is not None:
            Path(path).write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
        elif path:
            print(f"nothing issued in {period.label('en')}: {path} not written")
    return 0


def check_main(settings: Settings, *, file: str, published_value: str | None,
               published_volume: str | None, year: int | None) -> int:
    """Compare a published table's totals with its rows (and, with --year, with the SKAs
    the bot holds); exit 1 when anything disagrees."""
    problems: list[str] = []
    rows = read_exports(Path(file), problems)
    if problems:
        for line in problems:
            print(f"ERROR {line}")
        return 2
    printed = published_totals(load_knowledge(settings.knowledge_dir))
    try:
        volume = Decimal(published_volume) if published_volume else \
            (printed.volume_tonnes if printed else None)
        value = Decimal(published_value) if published_value else \
            (printed.value_usd if printed else None)
    except ArithmeticError:
        print("--published-value/--published-volume must be numbers like 49000166.36")
        return 2
    check = check_table(rows, volume, value)
    en = lambda v: format_number(v, "en")  # noqa: E731 - a local shorthand
    print(f"{file}: {check.rows} rows")
    print(f"volume: rows sum to {en(check.volume_tonnes)} t; published "
          f"{en(volume) if volume is not None else '(none given)'}")
    print(f"value:  rows sum to USD {en(check.value_usd)}; published "
          f"{'USD ' + en(value) if value is not None else '(none given)'}")
    diffs = check.differences()
    for what, pub, ours in diffs:
        gap = en(abs(pub - ours))
        amount = f"{gap} t" if what == "volume_tonnes" else f"USD {gap}"
        side = "higher" if pub > ours else "lower"
        print(f"DIFFERENCE {what}: the published total is {amount} {side} "
              f"than the sum of its rows ({en(pub)} vs {en(ours)})")
    if not diffs:
        print("the published totals equal the sums of the rows")
    mismatches: list[str] = []
    if year is not None:
        from bot.services import build_services

        svc = build_services(settings)
        try:
            mismatches = compare_rows(rows, svc.reports.export(Period.year(year)))
        finally:
            svc.close()
        for line in mismatches:
            print(f"DIFFERENCE {line}")
        if not mismatches:
            print(f"every row equals the SKAs issued in {year} that the bot holds")
    return 1 if diffs or mismatches else 0


def stats_main(settings: Settings, *, days: int, lang: str, out: str | None,
               chart: str | None) -> int:
    from bot.services import build_services

    svc = build_services(settings)
    try:
        files = svc.reports.stats_files(days, lang, settings.office.name, chart=bool(chart),
                                        workbook=bool(out))
    finally:
        svc.close()
    print(_plain(files.summary))
    for path, data in ((out, files.xlsx), (chart, files.png)):
        if path and data is not None:
            Path(path).write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
        elif path:
            print(f"no questions or tickets in the last {days} days: {path} not written")
    return 0


def _plain(html: str) -> str:
    for tag in ("<b>", "</b>", "<i>", "</i>", "<code>", "</code>"):
        html = html.replace(tag, "")
    return html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

"""ReportService: what /report, /stats, the command line and the bench ask for.

It reads through queries.py, folds with aggregate.py and renders with text.py, charts.py
and workbook.py; the last two load matplotlib and openpyxl, which take a moment, so they
are imported the first time a file is made rather than when the bot starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.db import Database
from bot.i18n import t
from bot.services.presenters import ZONE_LABELS
from bot.services.reports import queries, text
from bot.services.reports.aggregate import combine, helpdesk_stats
from bot.services.reports.args import CommodityNames
from bot.services.reports.model import (
    CountryName,
    ExportReport,
    HelpdeskStats,
    Issued,
    Published,
    Rendered,
)
from bot.services.reports.period import Period, period_slug
from bot.text import local_time

MAX_DAYS = 366


class ReportService:
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        country_name: CountryName,
        published: Published | None = None,
        topic_title: Callable[[str, str], str] = lambda tid, _lang: tid,
        commodity_names: CommodityNames | None = None,
    ) -> None:
        self.db = db
        self.tz = tz
        # what officers may type for a commodity (knowledge/hs_codes.yaml)
        self.commodity_names = commodity_names or CommodityNames(())
        self._country_name = country_name
        self.published = published
        self.topic_title = topic_title
        self.zone = ZONE_LABELS.get(tz.key, tz.key)

    def country_name(self, name: str, lang: str) -> str:
        # the knowledge base says "the United States" to fit in sentences; a label drops it
        found = self._country_name(name, lang)
        return found[4:] if found.startswith("the ") else found

    def canonical(self, name: str) -> str:
        """One key per country however it was written (USA, United States)."""
        return self.country_name(name, "en")

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    def issued(self, period: Period, commodity: str | Sequence[str] | None = None) -> list[Issued]:
        """Issued SKAs whose issuance (the 'issued' status event) falls in the period."""
        with self.db.session() as s:
            return queries.issued_records(s, period, self.tz, commodity)

    def commodities(self) -> list[str]:
        """Every commodity name recorded in the applications, once each."""
        with self.db.session() as s:
            return queries.recorded_commodities(s)

    def export(
        self, period: Period, commodity: str | None = None, names: Sequence[str] | None = None
    ) -> ExportReport:
        """`names`: the recorded names that `commodity` (then only a label) stands for."""
        with self.db.session() as s:
            groups, months = queries.export_sums(s, period, self.tz, commodity if names is None else names)
        report = combine(groups, months, period, self.canonical, commodity, queries.PLACES)
        if commodity and len(report.by_commodity) == 1:
            # show the commodity as recorded, not as typed
            report = replace(report, commodity=report.by_commodity[0].key)
        pub = self.published
        if pub and commodity is None and period == Period.year(pub.year):
            report = replace(report, published=pub)
        return report

    def stats(
        self, days: int, now: dt.datetime | None = None, since: dt.datetime | None = None
    ) -> HelpdeskStats:
        """The last `days` up to `now`, or from `since` (a named period) up to `now`."""
        until = now or dt.datetime.now(dt.UTC)
        since = since or until - dt.timedelta(days=days)
        with self.db.session() as s:
            found, tickets, reminders, documents = queries.helpdesk_rows(s, since, until)
        return helpdesk_stats(found, tickets, reminders, days, since, until, documents)

    # -- what a command sends ---------------------------------------------------------------

    def export_files(
        self,
        period: Period,
        commodity: str | None,
        lang: str,
        office: str,
        names: Sequence[str] | None = None,
    ) -> Rendered:
        """Summary, chart and workbook of one export report (blocking: run it in a thread)."""
        from bot.services.reports.charts import export_chart
        from bot.services.reports.workbook import export_workbook

        report = self.export(period, commodity, names)
        summary = self.export_summary(report, lang)
        if not report.lines:
            return Rendered(summary, report=report)
        stem = t("rep_file_stem", lang) + "-" + period_slug(period)
        if commodity:
            stem += "-" + text.slug(commodity)
        return Rendered(
            summary,
            export_chart(report, lang, self.country_name),
            export_workbook(report, lang, office, self.country_name, self.when(dt.datetime.now(dt.UTC))),
            stem + ".xlsx",
            report,
        )

    def stats_files(
        self,
        days: int,
        lang: str,
        office: str,
        chart: bool = False,
        workbook: bool = False,
        now: dt.datetime | None = None,
        period: str | None = None,
        since: dt.datetime | None = None,
    ) -> Rendered:
        """Summary of the help-desk figures, with the chart or workbook when asked for."""
        from bot.services.reports.charts import stats_chart
        from bot.services.reports.workbook import stats_workbook

        st = self.stats(days, now, since)
        titles = {tid: self.topic_title(tid, lang) for tid, _ in st.top_topics}
        summary = self.stats_summary(st, lang, titles, period)
        empty = not st.questions and not st.tickets
        png = stats_chart(st, lang, titles) if chart and not empty else None
        period = t("rep_period_range", lang, start=self.when(st.since), end=self.when(st.until))
        xlsx = stats_workbook(st, lang, titles, office, period) if workbook and not empty else None
        name = f"{t('stats_file_stem', lang)}-{days}.xlsx"
        return Rendered(summary, png, xlsx, name, stats=st, empty=empty)

    # -- text for people ------------------------------------------------------------------

    def when(self, moment: dt.datetime) -> str:
        return local_time(moment, self.tz, self.zone)

    def export_summary(self, report: ExportReport, lang: str) -> str:
        """The short message that goes with the chart and the workbook."""
        return text.export_summary(report, lang, self.country_name)

    def stats_summary(
        self, st: HelpdeskStats, lang: str, titles: dict[str, str], period: str | None = None
    ) -> str:
        return text.stats_summary(st, lang, titles, self.when, period)

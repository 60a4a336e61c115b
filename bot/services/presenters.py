"""Applications rendered as text, in one language and the office's time zone.

Services use these for notifications (rendered once per recipient when queued),
handlers for replies, so an exporter sees the same card in both places.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.i18n import t
from bot.services.applications import AppView, EventView, label
from bot.services.countries import CountryNames
from bot.text import escape as esc
from bot.text import format_number, local_time

ZONE_LABELS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


class Presenter:
    def __init__(self, tz: ZoneInfo, country: CountryNames | None = None) -> None:
        self.tz = tz
        self.zone = ZONE_LABELS.get(tz.key, tz.key)
        # destinations are stored in English; shown in the reader's language
        self.country = country or CountryNames()

    def when(self, moment: dt.datetime) -> str:
        return local_time(moment, self.tz, self.zone)

    def next_step(self, status: str, lang: str) -> str:
        return t(f"next_{status}", lang)

    def card(
        self,
        app: AppView,
        lang: str,
        *,
        company: bool = False,
        documents: list[tuple[str, str, str]] | None = None,
    ) -> str:
        """One application: what it is, where it stands, what to do next."""
        lines = [f"<b>{esc(app.ref)}</b> - {label(app.status, lang)}"]
        if company:
            lines.append(f"{esc(app.company)} (NIB {esc(app.nib)})")
        destination = self.country(app.destination, lang) if app.destination else ""
        what = " · ".join(esc(x) for x in (app.commodity, destination, app.form) if x)
        if what:
            lines.append(what)
        if app.hs_code:
            lines.append(f"HS {esc(app.hs_code)}")
        if company and (app.volume_tonnes is not None or app.value_usd is not None):
            lines.append(
                t("app_amounts", lang, tonnes=_num(app.volume_tonnes, lang), value=_num(app.value_usd, lang))
            )
        lines.append(t("app_updated", lang, when=self.when(app.updated_at)))
        if app.note:
            lines.append(t("app_note", lang, note=esc(app.note)))
        if documents:  # (name, status, reason) of what is still missing or rejected
            lines.append(t("doc_outstanding", lang))
            lines += [
                f"• {esc(name)} - {t(f'doc_status_{status}', lang)}" + (f": {esc(reason)}" if reason else "")
                for name, status, reason in documents
            ]
            lines.append(t("doc_outstanding_hint", lang, ref=esc(app.ref)))
        lines.append(t("app_next", lang, step=self.next_step(app.status, lang)))
        return "\n".join(lines)

    def line(self, app: AppView, lang: str) -> str:
        """One application on one short line (the list of issued ones)."""
        what = " · ".join(
            esc(x)
            for x in (app.commodity, self.country(app.destination, lang) if app.destination else "")
            if x
        )
        moment = app.updated_at if app.updated_at.tzinfo else app.updated_at.replace(tzinfo=dt.UTC)
        return f"• <b>{esc(app.ref)}</b> {what} · {moment.astimezone(self.tz):%d-%m-%Y}"

    def history(self, events: list[EventView], lang: str) -> str:
        lines = [t("app_history", lang)]
        for e in events:
            change = (
                label(e.to_status, lang)
                if e.from_status is None
                else f"{label(e.from_status, lang)} → {label(e.to_status, lang)}"
            )
            note = f": {esc(e.note)}" if e.note else ""
            lines.append(f"• {self.when(e.at)} {change}{note}")
        return "\n".join(lines)

    def status_change(self, app: AppView, old: str | None, lang: str) -> str:
        """The push an exporter receives when an officer or an import changes a status."""
        title = t("push_title", lang, ref=esc(app.ref))
        return f"{title}\n{self.card(app, lang)}"


def _num(value: Decimal | None, lang: str) -> str:
    return "-" if value is None else format_number(Decimal(value), lang)

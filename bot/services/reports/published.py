"""The office's published table: its printed totals against its rows and the issued SKAs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.services.reports.model import ZERO, ExportReport, Published
from knowledge.loader import ExportRow, Knowledge


@dataclass(frozen=True)
class TableCheck:
    rows: int
    volume_tonnes: Decimal
    value_usd: Decimal
    published_volume: Decimal | None
    published_value: Decimal | None

    def differences(self) -> list[tuple[str, Decimal, Decimal]]:
        """(what, published, sum of rows) for every total that disagrees with its rows."""
        found = []
        if self.published_volume is not None and self.published_volume != self.volume_tonnes:
            found.append(("volume_tonnes", self.published_volume, self.volume_tonnes))
        if self.published_value is not None and self.published_value != self.value_usd:
            found.append(("value_usd", self.published_value, self.value_usd))
        return found


def published_totals(kb: Knowledge) -> Published | None:
    """The printed totals kept with the export-statistics entry (data.published)."""
    entry = kb.entries.get("export-statistics")
    data = entry.data if entry is not None else {}
    printed = data.get("published") or {}
    if not data.get("year") or "value_usd" not in printed or "volume_tonnes" not in printed:
        return None
    return Published(
        int(data["year"]), Decimal(str(printed["volume_tonnes"])), Decimal(str(printed["value_usd"]))
    )


def check_table(
    rows: Sequence[ExportRow], published_volume: Decimal | None, published_value: Decimal | None
) -> TableCheck:
    return TableCheck(
        len(rows),
        sum((r.volume_tonnes for r in rows), ZERO),
        sum((r.value_usd for r in rows), ZERO),
        published_volume,
        published_value,
    )


def compare_rows(published: Sequence[ExportRow], report: ExportReport) -> list[str]:
    """Rows of a published table that the issued applications do not reproduce."""
    ours = {(line.exporter.casefold(), line.commodity.casefold()): line for line in report.lines}
    problems = []
    for row in published:
        key = (row.exporter.casefold(), row.commodity.casefold())
        line = ours.pop(key, None)
        if line is None:
            problems.append(f"{row.exporter} / {row.commodity}: no issued applications")
            continue
        if line.volume_tonnes != row.volume_tonnes:
            problems.append(
                f"{row.exporter} / {row.commodity}: volume {row.volume_tonnes} "
                f"published, {line.volume_tonnes} issued"
            )
        if line.value_usd != row.value_usd:
            problems.append(
                f"{row.exporter} / {row.commodity}: value {row.value_usd} published, {line.value_usd} issued"
            )
        if set(line.destinations) != set(row.destinations):
            problems.append(
                f"{row.exporter} / {row.commodity}: destinations "
                f"{';'.join(row.destinations)} published, "
                f"{';'.join(line.destinations)} issued"
            )
    for line in ours.values():
        problems.append(f"{line.exporter} / {line.commodity}: issued but not in the table")
    return problems

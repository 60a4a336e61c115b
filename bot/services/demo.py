"""`demo load`: the seven exporters of the 2025 table, their issued 2025 applications
(which add up to the office's published rows) and a few open ones to try /status on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from bot.db import Database
from bot.models import Company, SkaApplication, StatusEvent
from knowledge.loader import ExportRow

# Demo NIBs: 13 digits starting 99 so they can never be mistaken for real ones.
DEMO_PREFIX = "99"
HS_BY_COMMODITY = {
    "plywood": "4412.31",
    "veneer keruing": "4408.39",
    "wood pellet": "4401.31",
    "finger joint": "4407.29",
    "laminated scantling": "4418.81",
    "chopsticks": "4419.20",
    "moulding": "4409.29",
}
FORM_BY_DESTINATION = {
    "Japan": "IJEPA",
    "China": "Form E",
    "Republic of Korea": "Form AK",
    "India": "Form AI",
}
OPEN_SAMPLES = (  # (row index, destination, status, note)
    (0, "Japan", "submitted", ""),
    (1, "India", "returned", "Berat bersih di invoice berbeda dengan packing list."),
    (2, "Japan", "approved", ""),
    (5, "Japan", "in_review", ""),
)


def _split(total: Decimal, parts: int, places: str) -> list[Decimal]:
    """Split exactly: equal shares rounded, the remainder on the last one."""
    share = (total / parts).quantize(Decimal(places))
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def demo_nib(index: int) -> str:
    return f"{DEMO_PREFIX}{index:011d}"


def load_demo(db: Database, rows: tuple[ExportRow, ...], year: int = 2025) -> dict[str, int]:
    """Idempotent: running it twice leaves the same data."""
    companies: dict[str, Company] = {}
    created = {"companies": 0, "applications": 0}
    with db.session() as s:
        for name in dict.fromkeys(r.exporter for r in rows):
            nib = demo_nib(len(companies) + 1)
            company = s.scalar(select(Company).where(Company.nib == nib))
            if company is None:
                company = Company(nib=nib, name=name)
                s.add(company)
                created["companies"] += 1
            companies[name] = company
        s.flush()
        n = 0
        for row in rows:
            volumes = _split(row.volume_tonnes, len(row.destinations), "0.01")
            values = _split(row.value_usd, len(row.destinations), "0.01")
            for destination, volume, value in zip(row.destinations, volumes, values, strict=True):
                n += 1
                when = dt.datetime(year, 1 + (n * 5) % 12, 1 + n % 27, 2, 0, tzinfo=dt.UTC)
                created["applications"] += _ensure(
                    s,
                    f"DEMO-{year}-{n:04d}",
                    companies[row.exporter].id,
                    row,
                    destination,
                    volume,
                    value,
                    "issued",
                    "",
                    when,
                )
        for i, (index, destination, status, note) in enumerate(OPEN_SAMPLES, start=1):
            row = rows[index]
            when = dt.datetime.now(dt.UTC) - dt.timedelta(days=len(OPEN_SAMPLES) - i)
            created["applications"] += _ensure(
                s,
                f"DEMO-OPEN-{i:03d}",
                companies[row.exporter].id,
                row,
                destination,
                Decimal("100.00"),
                Decimal("25000.00"),
                status,
                note,
                when,
            )
    return created


def _ensure(
    s,
    ref,
    company_id,
    row,
    destination,
    volume,
    value,
    status,
    note,  # type: ignore[no-untyped-def]
    when,
) -> int:
    if s.scalar(select(SkaApplication.id).where(SkaApplication.ref == ref)) is not None:
        return 0
    app = SkaApplication(
        ref=ref,
        company_id=company_id,
        commodity=row.commodity,
        hs_code=HS_BY_COMMODITY.get(row.commodity.lower(), "44"),
        destination=destination,
        form=FORM_BY_DESTINATION.get(destination, "Form B"),
        status=status,
        note=note,
        volume_tonnes=volume,
        value_usd=value,
        submitted_at=when,
        updated_at=when,
    )
    s.add(app)
    s.flush()
    s.add(
        StatusEvent(
            application_id=app.id, from_status=None, to_status=status, note=note, actor="demo", at=when
        )
    )
    return 1

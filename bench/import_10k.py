"""Application import of 10,000 rows of which 1 % are bad: time, rows imported, bad rows.

    python bench/import_10k.py [--rows 10000] [--bad-every 100] [--database URL] [--xlsx]

The bad rows cycle through what officers' files really contain (NaN, Infinity, 1e30, a
date 0001-01-01, a NUL byte, a ref over 64 characters, an HS code over 16, a note over
128 KB, an unknown status, a repeated ref). Every bad row must be reported with its line;
every good row must be imported. Then the same file again (all unchanged) and a --check
run of it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.config import parse_settings  # noqa: E402
from bot.models import SkaApplication  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.services.importer import REQUIRED  # noqa: E402
from bot.testing import pg_schema  # noqa: E402

COMMODITIES = ("Plywood", "Veneer", "Sawn timber", "Wood pellet", "Moulding")
DESTINATIONS = ("JP", "Jepang", "China", "KR", "Australia", "US", "Vietnam")
# a form each destination's row of the table lists: the bad rows are the only problems
FORMS = ("IJEPA", "IJEPA", "Form E", "Form AK", "Form B", "Form B", "Form D")
# (column, bad value) per kind of bad row
BAD = (
    ("volume_tonnes", "NaN"),
    ("value_usd", "Infinity"),
    ("volume_tonnes", "1e30"),
    ("submitted_at", "0001-01-01"),
    ("company_name", "PT \x00Nul"),
    ("ref", "R" * 65),
    ("hs_code", "44" * 9),
    ("note", "x" * 140_000),
    ("status", "flying"),
    ("ref", "DUP"),
)


def rows(n: int, bad_every: int) -> tuple[list[list[str]], set[int]]:
    out: list[list[str]] = []
    bad_lines: set[int] = set()
    for i in range(n):
        day = 1 + i % 28
        row = {
            "ref": f"BENCH-{i:06d}",
            "company_nib": f"{9_800_000_000_000 + i % 700:013d}",
            "company_name": f"PT Bench {i % 700}",
            "commodity": COMMODITIES[i % 5],
            "hs_code": "4412.31",
            "destination": DESTINATIONS[i % 7],
            "form": FORMS[i % 7],
            "status": "submitted",
            "note": "",
            "submitted_at": f"2026-{1 + i % 10:02d}-{day:02d}",
            "volume_tonnes": f"{10 + i % 90},5",
            "value_usd": f"{1000 + i},25",
        }
        if i % bad_every == bad_every - 1:
            column, value = BAD[(i // bad_every) % len(BAD)]
            row[column] = "BENCH-000000" if value == "DUP" else value
            bad_lines.add(i + 2)
        out.append([row[c] for c in REQUIRED])
    return out, bad_lines


def write_file(path: Path, data: list[list[str]], xlsx: bool) -> None:
    if xlsx:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(list(REQUIRED))
        for row in data:
            # a workbook cannot hold a NUL byte at all: a name over 200 characters instead
            ws.append(["N" * 201 if "\x00" in c else c for c in row])
        wb.save(path)
        return
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(REQUIRED)
        writer.writerows(data)


def measure(url: str, n: int, bad_every: int, xlsx: bool) -> None:
    svc = build_services(parse_settings({"database": {"url": url}}, env={}))
    data, bad_lines = rows(n, bad_every)
    folder = Path(tempfile.mkdtemp())
    path = folder / ("apps.xlsx" if xlsx else "apps.csv")
    write_file(path, data, xlsx)
    started, cpu = time.perf_counter(), time.process_time()
    report = svc.importer.import_file(path)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    reported = {p.line for p in report.problems}
    with svc.db.session() as s:
        stored = s.scalar(select(func.count()).select_from(SkaApplication))
    again_started = time.perf_counter()
    again = svc.importer.import_file(path)
    again_s = time.perf_counter() - again_started
    check_started = time.perf_counter()
    dry = svc.importer.import_file(path, check=True)
    check_s = time.perf_counter() - check_started
    svc.close()
    print(f"database          {url.split('://')[0]}, file {path.suffix} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"rows              {n:,} ({len(bad_lines)} bad, one in {bad_every})")
    print(
        f"import            {elapsed:.2f} s wall, {cpu:.2f} s CPU ({n / elapsed:,.0f} rows/s): created "
        f"{report.created:,}, stored {stored:,}, bad rows reported {report.bad_rows}"
    )
    print(
        f"every bad line    {'reported' if reported == bad_lines else 'MISMATCH'} "
        f"(missed {len(bad_lines - reported)}, extra {len(reported - bad_lines)}); "
        f"good rows imported: {stored == n - len(bad_lines)}"
    )
    print(f"again (same file) {again_s:.2f} s: unchanged {again.unchanged:,}, bad {again.bad_rows}")
    print(f"--check           {check_s:.2f} s: bad {dry.bad_rows}, nothing written")
    for line in report.lines()[2:6]:
        print(f"  e.g. {line[:100]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--bad-every", type=int, default=100)
    ap.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    ap.add_argument("--xlsx", action="store_true", help="the same rows as an Excel workbook")
    args = ap.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    if url.startswith("postgresql"):
        with pg_schema(url) as scratch:
            if scratch is None:
                sys.exit(f"no PostgreSQL answers at {url}")
            measure(scratch, args.rows, args.bad_every, args.xlsx)
        return
    measure(url, args.rows, args.bad_every, args.xlsx)


if __name__ == "__main__":
    main()

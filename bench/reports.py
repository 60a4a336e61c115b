"""Time and memory of the office reports over a large database: 100,000 issued
applications (with their 'issued' status events), 10,000 tickets and 20,000 logged
questions, on SQLite (default) or on the PostgreSQL named by --url.

    python bench/reports.py [--apps 100000] [--tickets 10000] [--queries 20000]
                            [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Prints, per step, the best wall time of three runs and the peak of Python allocations
(tracemalloc, one more run), then the process's own peak resident set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import peak_rss_mb  # noqa: E402
from bot.config import parse_settings  # noqa: E402
from bot.models import (  # noqa: E402
    Company,
    QueryLog,
    SkaApplication,
    StatusEvent,
    Ticket,
)
from bot.services import build_services  # noqa: E402
from bot.services.reports import Period  # noqa: E402
from bot.testing import pg_schema  # noqa: E402

COMMODITIES = (
    "Plywood",
    "Veneer Keruing",
    "Wood Pellet",
    "Finger Joint",
    "Laminated Scantling",
    "Chopsticks",
    "Moulding",
    "Sawn Timber",
    "Blockboard",
)
COUNTRIES = (
    "Japan",
    "India",
    "Republic of Korea",
    "Netherlands",
    "China",
    "USA",
    "United Arab Emirates",
    "Saudi Arabia",
    "Oman",
    "Belgium",
    "Taiwan",
    "Germany",
    "Poland",
    "Malaysia",
    "Singapore",
    "Viet Nam",
    "Australia",
    "Italy",
)
TOPICS = (
    "office-contact",
    "fees",
    "processing-time",
    "form-by-destination",
    "export-statistics",
    "required-documents",
)
OUTCOMES = ("answer",) * 6 + ("suggest", "no_match", "smalltalk", "ask_destination")


def seed(url: str, apps: int, tickets: int, queries: int) -> None:
    rng = random.Random(2025)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(Company), [{"id": i, "nib": f"98{i:011d}", "name": f"PT Bench {i}"} for i in range(1, 201)]
        )
        rows, events = [], []
        for i in range(1, apps + 1):
            when = start + dt.timedelta(minutes=rng.randrange(364 * 24 * 60))
            rows.append(
                {
                    "id": i,
                    "ref": f"B-{i:06d}",
                    "company_id": rng.randint(1, 200),
                    "commodity": rng.choice(COMMODITIES),
                    "destination": rng.choice(COUNTRIES),
                    "status": "issued",
                    "volume_tonnes": Decimal(rng.randrange(100, 500_000)) / 100,
                    "value_usd": Decimal(rng.randrange(10_000, 50_000_000)) / 100,
                    "submitted_at": when,
                    "updated_at": when,
                }
            )
            events.append(
                {
                    "application_id": i,
                    "from_status": "approved",
                    "to_status": "issued",
                    "actor": "bench",
                    "at": when,
                    "note": "",
                }
            )
        conn.execute(insert(SkaApplication), rows)
        conn.execute(insert(StatusEvent), events)
        conn.execute(
            insert(Ticket),
            [
                {
                    "user_id": rng.randint(1, 3000),
                    "question": "?",
                    "status": rng.choice(("closed", "closed", "claimed", "open")),
                    "created_at": now - dt.timedelta(minutes=rng.randrange(30 * 24 * 60)),
                    "first_response_seconds": rng.uniform(60, 20_000),
                    "resolution_seconds": rng.choice((None, rng.uniform(600, 90_000))),
                    "sla_breached_at": rng.choice((None, None, None, now)),
                    "rating": rng.choice((None, 3, 4, 5)),
                    "bot_tried": "[]",
                    "paused_seconds": 0.0,
                }
                for _ in range(tickets)
            ],
        )
        conn.execute(
            insert(QueryLog),
            [
                {
                    "user_id": None,
                    "text": f"pertanyaan nomor {rng.randrange(500)}",
                    "language": "id",
                    "matched_id": rng.choice(TOPICS),
                    "score": 70.0,
                    "outcome": rng.choice(OUTCOMES),
                    "created_at": now - dt.timedelta(minutes=rng.randrange(30 * 24 * 60)),
                }
                for _ in range(queries)
            ],
        )
    engine.dispose()


def measure(name: str, fn: Callable[[], Any], rounds: int = 3) -> Any:
    """Best wall time of a few untraced runs, then one run under tracemalloc for the
    allocation peak (tracing slows Python down several times, so it is not timed)."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{name:<44} {min(times) * 1000:7.0f} ms   peak {peak / 2**20:6.1f} MiB")
    return result


def export_ms(url: str, apps: int, rounds: int = 3) -> float:
    """Best time of the /report aggregation (read + aggregate, a year) over `apps` issued
    applications seeded on `url` (SQLite, or a fresh schema on PostgreSQL)."""
    with ExitStack() as stack:
        if url.startswith("postgresql"):
            scratch = stack.enter_context(pg_schema(url))
            if scratch is None:
                raise SystemExit(f"no PostgreSQL answers at {url}")
            url = scratch
        svc = build_services(parse_settings({"database": {"url": url}}, env={}))
        stack.callback(svc.close)
        seed(url, apps, 10, 10)
        year = Period.year(2025)
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            report = svc.reports.export(year)
            times.append(time.perf_counter() - began)
        assert report.count == apps
        return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apps", type=int, default=100_000)
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=20_000)
    ap.add_argument("--url", help="PostgreSQL URL (a fresh schema is made and dropped)")
    args = ap.parse_args()
    with ExitStack() as stack:
        if args.url:
            url = stack.enter_context(pg_schema(args.url))
            if url is None:
                raise SystemExit(f"no PostgreSQL answers at {args.url}")
        else:
            url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        settings = parse_settings({"database": {"url": url}}, env={})
        svc = build_services(settings)  # creates the schema
        stack.callback(svc.close)
        began = time.perf_counter()
        seed(url, args.apps, args.tickets, args.queries)
        print(
            f"{url.split(':')[0]}: {args.apps} issued applications, {args.tickets} tickets, "
            f"{args.queries} questions (seeded in {time.perf_counter() - began:.1f} s)"
        )
        year = Period.year(2025)
        report = measure("export: read + aggregate (target < 500 ms)", lambda: svc.reports.export(year))
        assert report.count == args.apps
        began = time.perf_counter()
        from bot.services.reports.charts import export_chart
        from bot.services.reports.workbook import export_workbook

        print(
            f"{'first report only: import matplotlib+openpyxl':<44} "
            f"{(time.perf_counter() - began) * 1000:7.0f} ms"
        )
        measure("export: chart (PNG)", lambda: export_chart(report, "id", svc.reports.country_name))
        book = measure(
            "export: workbook (xlsx)",
            lambda: export_workbook(report, "id", "IPSKA", svc.reports.country_name, "now"),
        )
        files = measure(
            "/report 2025 end to end (summary+PNG+xlsx)",
            lambda: svc.reports.export_files(year, None, "id", "IPSKA"),
        )
        measure("help desk: read + aggregate (30 days)", lambda: svc.reports.stats(30))
        stats = measure(
            "/stats 30 chart+excel end to end", lambda: svc.reports.stats_files(30, "id", "IPSKA", True, True)
        )
        print(
            f"rows in the table: {len(report.lines)}; PNG {len(files.png or b''):,} B; "
            f"xlsx {len(book):,} B; stats PNG {len(stats.png or b''):,} B"
        )
    print(f"peak memory of this process (seeding included): {peak_rss_mb():.0f} MB VmHWM")


if __name__ == "__main__":
    main()

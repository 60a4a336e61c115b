"""One reminder pass over many applications with missing documents: time and peak memory.

    python bench/reminders_pass.py [--applications 100000] [--database URL] [--trace]

Every application misses two documents and its company has one linked exporter, so the
pass queues one reminder per application; a second pass the same day must queue none.
The data is written first; then a fresh process (the measured one) builds the services
and runs the two passes, and reports its own peak memory (VmHWM). Targets at 100,000
applications: >= 3,000 applications/s on SQLite, under 150 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bench._harness import peak_rss_mb  # noqa: E402
from bot.config import parse_settings  # noqa: E402
from bot.models import ChecklistItem, Company, SkaApplication, User  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.testing import pg_schema  # noqa: E402

DOCS = ("peb", "invoice", "packing-list", "bill-of-lading", "cost-structure")
BATCH = 10_000  # rows per INSERT while seeding: the seeding process stays small too


def seed(svc: Any, n: int) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    for lo in range(1, n + 1, BATCH):
        ids = range(lo, min(n, lo + BATCH - 1) + 1)
        with svc.db.session() as s:
            s.execute(
                insert(Company),
                [{"id": i, "nib": f"{i:013d}", "name": f"PT Bench {i}", "created_at": now} for i in ids],
            )
            s.execute(
                insert(User),
                [
                    {
                        "id": 500_000 + i,
                        "first_name": "B",
                        "company_id": i,
                        "language": "id" if i % 3 else "en",
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(SkaApplication),
                [
                    {
                        "id": i,
                        "ref": f"B-{i:06d}",
                        "company_id": i,
                        "commodity": "Plywood",
                        "hs_code": "4412.31",
                        "destination": "Japan",
                        "form": "IJEPA",
                        "status": "submitted",
                        "note": "",
                        "submitted_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(ChecklistItem),
                [
                    {
                        "application_id": i,
                        "doc_id": doc,
                        "changed_at": now,
                        "changed_by": "bench",
                        "reason": "",
                        "status": "missing" if doc in ("invoice", "packing-list") else "accepted",
                    }
                    for i in ids
                    for doc in DOCS
                ],
            )


def child(url: str, trace: bool) -> dict[str, Any]:
    """The measured process: build the services, run the pass twice."""
    svc = build_services(parse_settings({"database": {"url": url}}, env={}))
    ready_mb = peak_rss_mb()
    if trace:  # tracemalloc slows Python down 2-3x: time without it by default
        tracemalloc.start()
    started = time.perf_counter()
    report = svc.reminders.run_pass(force=True)
    elapsed = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    started = time.perf_counter()
    again = svc.reminders.run_pass(force=True)
    again_s = time.perf_counter() - started
    svc.close()
    return {
        "first_s": elapsed,
        "queued": report.queued,
        "second_s": again_s,
        "second_queued": again.queued,
        "already": again.already,
        "ready_mb": ready_mb,
        "peak_mb": peak_rss_mb(),
        "traced_mb": traced / 1e6,
    }


def run(url: str, applications: int, trace: bool) -> dict[str, Any]:
    svc = build_services(parse_settings({"database": {"url": url}}, env={}))
    seed(svc, applications)
    svc.close()
    out = subprocess.run(
        [sys.executable, __file__, "--child", url] + (["--trace"] if trace else []),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def measure(url: str, applications: int, trace: bool = False) -> dict[str, Any]:
    """Seed `applications` on `url` (a fresh schema on PostgreSQL) and measure a pass."""
    if url.startswith("postgresql"):
        with pg_schema(url) as scratch:
            if scratch is None:
                raise SystemExit(f"no PostgreSQL answers at {url}")
            return run(scratch, applications, trace)
    return run(url, applications, trace)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=100_000)
    ap.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--trace", action="store_true", help="also measure Python allocations")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.trace)))
        return
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    f = measure(url, args.applications, args.trace)
    print(f"database          {url.split('://')[0]}")
    print(f"applications      {args.applications} (2 documents missing each, 1 exporter each)")
    print(
        f"first pass        {f['first_s']:.2f} s, queued {f['queued']} "
        f"({args.applications / f['first_s']:.0f} applications/s)"
    )
    traced = f"{f['traced_mb']:.1f} MB traced (Python allocations in the pass); " if args.trace else ""
    print(
        f"peak memory       {traced}{f['peak_mb']:.0f} MB VmHWM of the process "
        f"({f['ready_mb']:.0f} MB after start-up)"
    )
    print(f"second pass       {f['second_s']:.2f} s, queued {f['second_queued']}, already {f['already']}")


if __name__ == "__main__":
    main()

"""One reminder pass over many applications with missing documents: time and peak memory.

    python bench/reminders_pass.py [--applications 10000] [--database URL] [--trace]

Every application misses two documents and its company has one linked exporter, so the
pass queues one reminder per application. A second pass the same day must queue none.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.config import parse_settings  # noqa: E402
from bot.models import ChecklistItem, Company, SkaApplication, User  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.testing import pg_schema  # noqa: E402

DOCS = ("peb", "invoice", "packing-list", "bill-of-lading", "cost-structure")


def seed(svc, n: int) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with svc.db.session() as s:
        s.execute(insert(Company), [{"id": i, "nib": f"{i:013d}", "name": f"PT Bench {i}",
                                     "created_at": now} for i in range(1, n + 1)])
        s.execute(insert(User), [{"id": 500_000 + i, "first_name": "B", "company_id": i,
                                  "language": "id" if i % 3 else "en"} for i in range(1, n + 1)])
        s.execute(insert(SkaApplication), [
            {"id": i, "ref": f"B-{i:06d}", "company_id": i, "commodity": "Plywood",
             "hs_code": "4412.31", "destination": "Japan", "form": "IJEPA", "status": "submitted",
             "note": "", "submitted_at": now, "updated_at": now} for i in range(1, n + 1)])
        s.execute(insert(ChecklistItem), [
            {"application_id": i, "doc_id": doc, "changed_at": now, "changed_by": "bench",
             "reason": "", "status": "missing" if doc in ("invoice", "packing-list") else "accepted"}
            for i in range(1, n + 1) for doc in DOCS])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=10_000)
    ap.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--trace", action="store_true", help="also measure Python allocations")
    args = ap.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    if url.startswith("postgresql"):
        with pg_schema(url) as scratch:
            if scratch is None:
                sys.exit(f"no PostgreSQL answers at {url}")
            measure(scratch, args.applications, args.trace)
        return
    measure(url, args.applications, args.trace)


def measure(url: str, applications: int, trace: bool) -> None:
    svc = build_services(parse_settings({"database": {"url": url}}, env={}))
    seed(svc, applications)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:          # tracemalloc slows Python down 2-3x: time without it by default
        tracemalloc.start()
    started = time.perf_counter()
    report = svc.reminders.run_pass(force=True)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    again_started = time.perf_counter()
    again = svc.reminders.run_pass(force=True)
    again_s = time.perf_counter() - again_started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"database          {url.split('://')[0]}")
    print(f"applications      {applications} (2 documents missing each, 1 exporter each)")
    print(f"first pass        {elapsed:.2f} s, queued {report.queued} "
          f"({report.queued / elapsed:.0f}/s)")
    traced = f"{peak / 1e6:.1f} MB traced (Python allocations in the pass); " \
        if trace else ""
    print(f"peak memory       {traced}max RSS {rss_before / 1024:.0f} -> "
          f"{rss_after / 1024:.0f} MB (whole process)")
    print(f"second pass       {again_s:.2f} s, queued {again.queued}, already {again.already}")
    svc.close()


if __name__ == "__main__":
    main()

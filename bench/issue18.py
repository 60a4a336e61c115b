"""Every figure of the performance issue (#18) in one run, each next to its yardstick.

    python bench/issue18.py [--quick] [--postgres URL] [--skip NAME ...]

Sections (names for --skip): cpu, http, latency, outbox, reminders, report, startup,
memory, matcher. Absolute figures move two or three times with the machine's load; the
pairs (the help desk against a bare python-telegram-bot bot doing nothing but answer a
constant text) are measured in turn within this run, so their ratios hold. --quick
shrinks every size for a run of a few minutes; the full run takes a quarter of an hour
or more (100,000 applications are seeded twice on each database).
PostgreSQL figures are skipped when none answers at --postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import memory, officer_loop, outbox_throughput, reminders_pass, reports  # noqa: E402
from bench import throughput as tp  # noqa: E402
from bot.testing import pg_schema  # noqa: E402

DEFAULT_PG = os.environ.get("SKA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECTIONS = ("cpu", "http", "latency", "outbox", "reminders", "report", "startup", "memory", "matcher")


class Run:
    def __init__(self, quick: bool, postgres: str) -> None:
        self.quick = quick
        self.postgres = postgres
        self.summary: list[tuple[str, str, str]] = []  # figure, measured, target

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def note(self, figure: str, measured: str, target: str = "") -> None:
        self.summary.append((figure, measured, target))
        print(f"  {figure:<52} {measured}" + (f"   (target {target})" if target else ""), flush=True)

    @contextmanager
    def database(self, kind: str) -> Iterator[str | None]:
        """A fresh database URL of that kind; None when PostgreSQL does not answer."""
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                yield f"sqlite:///{tmp}/bench.db"
            return
        with pg_schema(self.postgres) as url:
            yield url

    def pg_url(self) -> str | None:
        """The server URL when one answers (the benches make their own schemas)."""
        with pg_schema(self.postgres) as url:
            return self.postgres if url is not None else None


def median_pair(runs: int, a: Callable[[], float], b: Callable[[], float]) -> tuple[float, float, float]:
    """A and B in turn, `runs` times: their medians and the median of the ratios A/B."""
    pairs = [(a(), b()) for _ in range(runs)]
    return (
        statistics.median(x for x, _ in pairs),
        statistics.median(y for _, y in pairs),
        statistics.median(x / y for x, y in pairs),
    )


def cpu(run: Run) -> None:
    print(
        "CPU per update: the real Application vs a bare PTB Application, in process, "
        "one update after the other",
        flush=True,
    )
    updates, runs = run.size(2000, 300), run.size(3, 1)
    bare = lambda: asyncio.run(tp.bare_sequential(updates))[0]  # noqa: E731
    for kind, target in (("sqlite", ">= 30 %"), ("postgresql", ">= 25 %")):

        def full(kind: str = kind) -> float:
            with run.database(kind) as url:
                if url is None:
                    return float("nan")
                return asyncio.run(tp.sequential(url, updates, 1))[0]

        ours, theirs, ratio = median_pair(runs, full, bare)
        if ours != ours:  # NaN: no PostgreSQL
            print(f"  {kind}: skipped (no PostgreSQL at {run.postgres})")
            continue
        run.note(
            f"full path / bare PTB ({kind})", f"{ours:.0f} / {theirs:.0f} updates/s = {ratio:.1%}", target
        )

        def known(full: Callable[[], float] = full) -> float:
            with tp.matches_known():
                return full()

        # where the gap is: the same path with every question's match known beforehand
        ours, theirs, ratio = median_pair(runs, known, bare)
        run.note(
            f"  the same, each match known beforehand ({kind})",
            f"{ours:.0f} / {theirs:.0f} updates/s = {ratio:.1%}",
        )
    ours, theirs, ratio = median_pair(runs, lambda: tp.matcher_only(updates)[0], bare)
    run.note(
        "matcher alone (no Telegram, no database) / bare PTB",
        f"{ours:.0f} / {theirs:.0f} per s = {ratio:.1%}",
    )


def http(run: Run) -> None:
    print("Over HTTP: `python -m bot run` vs a bare PTB process, long-polling one fake Bot API", flush=True)
    updates, runs = run.size(1000, 200), run.size(3, 1)
    ours, theirs, ratio = median_pair(
        runs, lambda: tp.over_http("bot", updates), lambda: tp.over_http("bare", updates)
    )
    run.note(
        "bot process / bare PTB process (SQLite)",
        f"{ours:.0f} / {theirs:.0f} updates/s = {ratio:.2f}",
        ">= 0.6",
    )


def latency(run: Run) -> None:
    print(
        "Every Bot API call takes 100 ms (a round trip to Telegram), default configuration, polling",
        flush=True,
    )
    updates = run.size(500, 100)
    with run.database("sqlite") as url:
        assert url is not None
        rate, ordered = asyncio.run(tp.with_latency(url, updates, 0.1))
    run.note(
        "updates answered per second",
        f"{rate:.0f}/s, each sender in order: {'yes' if ordered else 'NO'}",
        ">= 200/s",
    )


def outbox(run: Run) -> None:
    print("Outbox: the sender loop against its configured rate", flush=True)
    cases = [(run.size(1000, 250), run.size(250, 100), 25.0 if not run.quick else 50.0)]
    if not run.quick:
        cases.append((300, 10, 25.0))  # few chats: the per-chat pace is the limit
    for messages, chats, rate in cases:
        f = asyncio.run(outbox_throughput.measure(messages, chats, rate, 1.0))
        ceiling = min(rate, float(chats))  # 1 message/s per private chat
        run.note(
            f"{messages} messages to {chats} chats at {rate:g}/s",
            f"{f['achieved']:.1f}/s = {f['achieved'] / ceiling:.1%} of "
            f"{ceiling:g}/s, most in 1 s: {f['max_1s']}, lost {f['lost']}",
            ">= 95 %, never above",
        )
    if not run.quick:
        args = argparse.Namespace(rate=25.0, per_chat=1.0, group_per_minute=20.0, database=None)
        asyncio.run(officer_loop.fairness(args))


def reminder_pass(run: Run) -> None:
    applications = run.size(100_000, 10_000)
    print(f"Reminder pass over {applications:,} applications (a fresh process, its own VmHWM)", flush=True)
    kinds = ("sqlite",) if run.quick else ("sqlite", "postgresql")
    for kind in kinds:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db" if kind == "sqlite" else run.pg_url()
        if url is None:
            print(f"  {kind}: skipped (no PostgreSQL at {run.postgres})")
            continue
        f = reminders_pass.measure(url, applications)
        run.note(
            f"reminder pass ({kind})",
            f"{applications / f['first_s']:.0f} applications/s, peak {f['peak_mb']:.0f} MB",
            ">= 3,000/s on SQLite, < 150 MB",
        )


def report(run: Run) -> None:
    apps = run.size(100_000, 10_000)
    print(f"/report aggregation over {apps:,} issued applications", flush=True)
    kinds = ("sqlite",) if run.quick else ("sqlite", "postgresql")
    for kind in kinds:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db" if kind == "sqlite" else run.pg_url()
        if url is None:
            print(f"  {kind}: skipped (no PostgreSQL at {run.postgres})")
            continue
        run.note(
            f"read + aggregate, a year ({kind})",
            f"{reports.export_ms(url, apps):.0f} ms",
            "< 500 ms at 100,000",
        )


def startup(run: Run) -> None:
    print("Start-up to the first getUpdates (a database already at its newest schema)", flush=True)
    runs = run.size(5, 2)
    with run.database("sqlite") as url:
        assert url is not None
        memory.run_startup(url)  # creates the schema
        ours, theirs, ratio = median_pair(
            runs, lambda: memory.run_startup(url), lambda: memory.run_startup(url, bare=True)
        )
    run.note(
        "`python -m bot run` / a bare PTB process", f"{ours:.2f} s / {theirs:.2f} s = {ratio:.1f}x", "< 1.2 s"
    )


def peak_memory(run: Run) -> None:
    people = run.size(10_000, 2_000)
    print(f"Memory: the bot process with {people:,} exporters and applications", flush=True)
    f = memory.measure(people, people)
    run.note("peak of the bot process (VmHWM)", f"{f['peak_rss_mb']:.0f} MB", "< 200 MB")


def matcher(run: Run) -> None:
    print("Matcher latency (bench/matcher_latency.py)", flush=True)
    args = ["--scale", "10", "--rounds", "1"] if run.quick else []
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "matcher_latency.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    for line in (out.stdout + out.stderr).strip().splitlines():
        print(f"  {line}")
    run.summary.append(("matcher latency", "see above", "p99 < 5 ms real, < 15 ms at 100x"))


STEPS: dict[str, Callable[[Run], Any]] = {
    "cpu": cpu,
    "http": http,
    "latency": latency,
    "outbox": outbox,
    "reminders": reminder_pass,
    "report": report,
    "startup": startup,
    "memory": peak_memory,
    "matcher": matcher,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    ap.add_argument("--postgres", default=DEFAULT_PG)
    ap.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    args = ap.parse_args()
    # the bot's own warnings (no officers configured) and APScheduler's notes on jobs
    # delayed by a burst are not what is measured
    logging.getLogger("bot").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    run = Run(args.quick, args.postgres)
    for name in SECTIONS:
        if name not in args.skip:
            STEPS[name](run)
    print("\nSummary" + (" (--quick: smaller sizes than the targets name)" if run.quick else ""))
    for figure, measured, target in run.summary:
        print(f"  {figure:<52} {measured:<48} {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Updates per second through the real Application (every handler group, the duplicate
filter, the database) with the in-process fake Bot API: exporters asking FAQ questions.

    python bench/throughput.py [--updates 2000] [--runs 3] [--postgres URL] [--only MODE]

Measured side by side, round by round (absolute figures drift 2-3x with the machine's
load; the ratios do not):
  bare         python-telegram-bot's ceiling: an Application with one handler answering a
               constant text, updates awaited one after the other
  sequential   ours, Application.process_update awaited for one update after the other;
               "of bare" is the bare Application's CPU per update over ours
  polling 1    as `python -m bot run` works with telegram.concurrent_updates: 1: the
               updater fetches batches of up to 100 with getUpdates and confirms a batch
               once handled
  polling      the same with the default configuration (64 updates at a time)
  latency      the default configuration when every Bot API call takes 100 ms (a round
               trip to Telegram), getUpdates included: target >= 200 updates/s

Each figure is the median of --runs runs; "cpu" is this process's CPU time per update.
PostgreSQL is skipped when none answers (default: SKA_TEST_POSTGRES_URL or the local one).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._harness import pg_schema  # noqa: E402
from bot.app import build_application, post_init  # noqa: E402
from bot.config import parse_settings  # noqa: E402
from bot.fakeapi import FakeBotAPI, FakeRequest  # noqa: E402
from bot.services import Services, build_services  # noqa: E402

QUESTIONS = [
    "dokumen apa aja utk ajukan ska", "berapa lama proses ska", "biaya ska berapa",
    "cara daftar e-ska", "form e untuk china", "jam buka kantor", "ska itu apa",
    "what documents do i need for a certificate of origin", "how long does it take",
    "apakah bisa ajukan online", "syarat ska ke jepang", "kalau b/l belum ada gimana",
]
DEFAULT_PG = os.environ.get("SKA_TEST_POSTGRES_URL",
                            "postgresql+psycopg://postgres@127.0.0.1:5432/test")
USERS = 200
LATENCY = 0.1
Figure = tuple[float, float]            # updates/s, CPU seconds per update


def question(api: FakeBotAPI, i: int) -> dict:
    return api.message(10_000 + i % USERS, QUESTIONS[i % len(QUESTIONS)])


class Replies:
    """sendMessage calls the fake answered so far, counted as they come (a recount of
    every call each time cost the bench more CPU than some of what it measures)."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self._seen = 0
        self._count = 0

    def __call__(self) -> int:
        calls = self.api.calls
        for i in range(self._seen, len(calls)):
            if calls[i].method == "sendMessage":
                self._count += 1
        self._seen = len(calls)
        return self._count


class SlowRequest(FakeRequest):
    """The fake Bot API a round trip away: every call waits `delay` seconds."""

    def __init__(self, api: FakeBotAPI, delay: float) -> None:
        super().__init__(api)
        self.delay = delay

    async def do_request(self, url: str, method: str, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:
        answer = await super().do_request(url, method, *args, **kwargs)
        await asyncio.sleep(self.delay)
        return answer


async def initialized(url: str, concurrent: int | None,
                      request: BaseRequest | None = None,
                      api: FakeBotAPI | None = None) -> tuple[Application, FakeBotAPI, Services]:
    """The Application as `run` builds it (duplicate-update filter on), on a fake Bot API;
    `concurrent` None: the default configuration."""
    telegram = {} if concurrent is None else {"concurrent_updates": concurrent}
    settings = parse_settings({"database": {"url": url}, "telegram": telegram}, env={})
    services = build_services(settings)
    api = api or FakeBotAPI()
    request = request or FakeRequest(api)
    app = build_application(settings, request=request, updates_request=request,
                            services=services, dedupe_updates=True)
    await app.initialize()
    await post_init(app)
    return app, api, services


async def bare(url: str, updates: int, concurrent: int | None) -> Figure:
    """python-telegram-bot on its own: one handler that answers a constant text."""
    api = FakeBotAPI()
    app = Application.builder().token("123:BARE").request(FakeRequest(api)).build()

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message("ok")

    app.add_handler(MessageHandler(filters.TEXT, answer))
    await app.initialize()
    try:
        for i in range(USERS):
            await app.process_update(Update.de_json(question(api, i), app.bot))
        batch = [Update.de_json(question(api, i), app.bot) for i in range(updates)]
        cpu, start = time.process_time(), time.perf_counter()
        for update in batch:
            await app.process_update(update)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await app.shutdown()
    return updates / elapsed, cpu / updates


async def sequential(url: str, updates: int, concurrent: int | None) -> Figure:
    app, api, services = await initialized(url, concurrent)
    try:
        for i in range(USERS):      # warm-up: every user exists, caches are filled
            await app.process_update(Update.de_json(question(api, i), app.bot))
        batch = [Update.de_json(question(api, i), app.bot) for i in range(updates)]
        cpu, start = time.process_time(), time.perf_counter()
        for update in batch:
            await app.process_update(update)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert Replies(api)() >= updates + USERS, "not every question was answered"
    finally:
        await app.shutdown()
        services.close()
    return updates / elapsed, cpu / updates


async def polling(url: str, updates: int, concurrent: int | None,
                  delay: float = 0.0) -> Figure:
    api = FakeBotAPI()
    request = SlowRequest(api, delay) if delay else None
    app, api, services = await initialized(url, concurrent, request, api)
    replies = Replies(api)

    async def answered(count: int) -> None:
        while replies() < count:
            await asyncio.sleep(0.002)

    try:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        for i in range(USERS):
            api.push_update(question(api, i))
        await answered(USERS)
        before = replies()
        for i in range(updates):
            api.push_update(question(api, i))
        cpu, start = time.process_time(), time.perf_counter()
        await asyncio.wait_for(answered(before + updates), timeout=600)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        api.release_polls()
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        services.close()
    return updates / elapsed, cpu / updates


async def latency(url: str, updates: int, concurrent: int | None) -> Figure:
    return await polling(url, updates, concurrent, delay=LATENCY)


Measure = Callable[[str, int, "int | None"], Awaitable[Figure]]
# name, function, concurrent_updates (None: the default), databases
MODES: list[tuple[str, Measure, int | None, tuple[str, ...]]] = [
    ("bare", bare, None, ("-",)),
    ("sequential", sequential, 1, ("sqlite", "postgresql")),
    ("polling 1", polling, 1, ("sqlite", "postgresql")),
    ("polling", polling, None, ("sqlite", "postgresql")),
    ("latency", latency, None, ("sqlite",)),
]


@contextmanager
def database(kind: str, postgres: str) -> Iterator[str | None]:
    if kind == "postgresql":
        with pg_schema(postgres) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/b.db"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--postgres", default=DEFAULT_PG)
    ap.add_argument("--only", action="append", choices=[m[0] for m in MODES],
                    help="measure only these modes (and bare, for the ratio)")
    args = ap.parse_args()
    # a burst of 2,000 updates delays the 1-second outbox job; APScheduler's notes on it
    # are not what is measured here
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    # no officers are configured here, which post_init warns about on every start
    logging.getLogger("bot.app").setLevel(logging.ERROR)
    modes = [m for m in MODES if not args.only or m[0] in args.only or m[0] == "bare"]
    print(f"{args.updates} FAQ questions from {USERS} exporters, median of {args.runs} runs")
    figures: dict[tuple[str, str], list[Figure]] = {}
    skipped: set[str] = set()
    for _ in range(args.runs):      # round by round: each round sees the same load
        for name, measure, concurrent, kinds in modes:
            for kind in kinds:
                if kind in skipped:
                    continue
                with database(kind, args.postgres) as url:
                    if url is None:
                        skipped.add(kind)
                        continue
                    figure = asyncio.run(measure(url, args.updates, concurrent))
                figures.setdefault((name, kind), []).append(figure)
    ceiling = figures.get(("bare", "-"), [])
    for (name, kind), runs in figures.items():
        rate = statistics.median(f[0] for f in runs)
        cpu = statistics.median(f[1] for f in runs)
        line = (f"{name:<11} {kind:<11} {rate:6.0f} updates/s   cpu {cpu * 1000:5.3f} ms/update"
                f"   runs: {', '.join(f'{f[0]:.0f}' for f in runs)}")
        if name == "sequential" and ceiling:
            share = statistics.median(b[1] / f[1] for b, f in zip(ceiling, runs, strict=False))
            line += f"   {share:.1%} of bare (CPU)"
        if name == "latency":
            line += f"   ({LATENCY * 1000:.0f} ms per Bot API call; target >= 200)"
        print(line)
    for kind in sorted(skipped):
        print(f"{kind}: skipped (no server answers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The officer loop under Telegram's limits, through the real Application and its outbox
sender loop (in-process fake Bot API, no network). Prints figures; not a test.

    python bench/officer_loop.py [fairness|group|all] [--rate 25] [--per-chat 1]
                                 [--group-per-minute 20] [--database URL]

fairness: 500 status pushes queued for one exporter, then an officer's reply to another
          exporter: how long that reply waits; then 600 messages to 300 chats: the total
          rate against the configured one, and the most in any one second.
group:    20 exporters with open tickets send 100 follow-ups within one minute: all must
          reach the officers' group, at no more than the group's configured rate.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402

from bench.outbox_throughput import max_in_window  # noqa: E402
from bot.app import build_application, post_init  # noqa: E402
from bot.config import parse_settings  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.services.outbox import enqueue  # noqa: E402
from bot.telegram.context import sender_of  # noqa: E402
from bot.testing import FakeBotAPI, FakeRequest  # noqa: E402

GROUP = -100777
OFFICER = 9001


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        self.settings = parse_settings(
            {
                "database": {"url": url},
                "office": {
                    "hours": {d: "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
                },
                "officers": {"chat_id": GROUP, "user_ids": [OFFICER]},
                "outbox": {
                    "rate_per_second": args.rate,
                    "per_chat_per_second": args.per_chat,
                    "group_per_minute": args.group_per_minute,
                },
                "throttle": {"messages": 1000},
            },
            env={},
        )
        self.services = build_services(self.settings)
        self.api = FakeBotAPI()
        self.app = build_application(
            self.settings,
            request=FakeRequest(self.api),
            updates_request=FakeRequest(self.api),
            services=self.services,
        )
        self.running = True
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Bench:
        await self.app.initialize()
        await post_init(self.app)
        self.task = asyncio.create_task(sender_of(self.app).run(self.app.bot, running=lambda: self.running))
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.running = False
        if self.task is not None:
            await self.task
        await self.app.shutdown()
        self.services.close()

    async def feed(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def settle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.services.outbox.backlog() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)


async def fairness(args: argparse.Namespace) -> None:
    async with Bench(args) as bench:
        with bench.services.db.session() as s:
            for i in range(500):
                enqueue(s, 70_001, f"Status SKA-{i:03d}: disetujui", kind="status")
        await asyncio.sleep(1.0)  # the backlog is being worked
        queued = time.monotonic()
        with bench.services.db.session() as s:
            enqueue(s, 70_002, "💬 Petugas IPSKA: silakan unggah invoice", kind="ticket_reply")
        while not bench.api.texts(70_002):
            await asyncio.sleep(0.005)
        waited = time.monotonic() - queued
        print(
            f"fairness: reply to another chat sent {waited * 1000:.0f} ms after it was "
            f"queued behind 500 pushes to one chat (target < 2,000 ms)"
        )

    async with Bench(args) as bench:
        bench.running = True
        with bench.services.db.session() as s:
            for i in range(600):
                enqueue(s, 80_000 + i % 300, f"m{i}", kind="status")
        started = time.monotonic()
        await bench.settle(120)
        elapsed = time.monotonic() - started
        times = sorted(c.time for c in bench.api.calls if c.method == "sendMessage" and c.ok)
        rate = (len(times) - 1) / (times[-1] - times[0])
        print(
            f"total rate: {len(times)} messages to 300 chats in {elapsed:.1f} s, "
            f"{rate:.2f}/s = {rate / args.rate:.1%} of the configured {args.rate:g}/s; "
            f"most in any 1 s: {max_in_window(times, 1.0)} (limit {args.rate:g})"
        )


async def group(args: argparse.Namespace) -> None:
    async with Bench(args) as bench:
        exporters = [60_000 + i for i in range(20)]
        for uid in exporters:
            await bench.feed(
                bench.api.message(uid, f"/petugas kontainer {uid} bisa dititipkan?", first_name=f"E{uid}")
            )
        started = time.monotonic()
        for n in range(100):
            uid = exporters[n % 20]
            await bench.feed(bench.api.message(uid, f"tambahan {n} dari {uid}"))
            await asyncio.sleep(60.0 / 100)  # 100 follow-ups within one minute
        await bench.settle(600)
        elapsed = time.monotonic() - started
        sends = [
            c
            for c in bench.api.calls
            if c.ok and c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == GROUP
        ]
        got = {
            n
            for n in range(100)
            for c in sends
            if c.method == "sendMessage" and f"tambahan {n} dari" in c.params["text"]
        }
        times = sorted(c.time for c in sends)
        per_minute = max_in_window(times, 60.0)
        print(
            f"group: {len(got)}/100 follow-ups reached the group ({100 - len(got)} lost), "
            f"{len(sends)} group messages in all (20 cards), last one {elapsed:.0f} s after "
            f"the first follow-up; most in any 60 s: {per_minute} "
            f"(limit {args.group_per_minute:g})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="?", default="all", choices=("fairness", "group", "all"))
    ap.add_argument("--rate", type=float, default=25.0)
    ap.add_argument("--per-chat", type=float, default=1.0)
    ap.add_argument("--group-per-minute", type=float, default=20.0)
    ap.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    if args.what in ("fairness", "all"):
        asyncio.run(fairness(args))
    if args.what in ("group", "all"):
        asyncio.run(group(args))


if __name__ == "__main__":
    main()

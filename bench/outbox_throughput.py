"""Outbox sender throughput against the fake Bot API (in-process, no network).

    python bench/outbox_throughput.py [--messages 10000] [--chats 2500] [--rate 25]
                                      [--per-chat 1] [--database URL]
                                      [--latency MS] [--http]

Queues the messages (several per chat, so the per-chat limit matters too), sends them
with the sender loop the running bot runs, then reports the achieved
rate against the configured one (target >= 95 %), the most messages in any one-second
window (must not exceed the limit), the smallest gap between two messages to one chat,
and messages lost (queued but not delivered exactly once: must be 0).

--latency makes every Bot API call take that long (a round trip to Telegram); --http
serves the fake over HTTP on 127.0.0.1 and sends through PTB's own HTTP client. With few
chats the per-chat limit is the ceiling: 300 messages to 10 chats go out at 10/s at best.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.fakeapi import FakeBotAPI, FakeRequest, serve_http  # noqa: E402
from bot.services.outbox import Outbox, RateLimits, enqueue  # noqa: E402
from bot.telegram.sender import OutboxSender  # noqa: E402


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def run(args: argparse.Namespace) -> None:
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    db = Database(url)
    db.migrate()
    started = time.perf_counter()
    with db.session() as s:
        for i in range(args.messages):
            enqueue(s, 10_000 + i % args.chats, f"m{i}", kind="bench")
    queued_s = time.perf_counter() - started

    api = FakeBotAPI()
    server = None
    if args.http:
        server, base_url = serve_http(api)
        bot = Bot("123:BENCH", base_url=base_url)
    else:
        request = SlowRequest(api, args.latency / 1000)
        bot = Bot("123:BENCH", request=request, get_updates_request=request)
    sender = OutboxSender(Outbox(db, RateLimits(args.rate, args.per_chat)))
    async with bot:
        started = time.perf_counter()
        # the sender loop the running bot runs (bot.app.send_outbox)
        running = True
        task = asyncio.create_task(sender.run(bot, running=lambda: running))
        while sender.outbox.backlog():
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        running = False
        await task

    sends = [c for c in api.calls if c.method == "sendMessage" and c.ok]
    times = sorted(c.time for c in sends)
    delivered = Counter(c.params["text"] for c in sends)
    lost = sum(1 for i in range(args.messages) if delivered[f"m{i}"] != 1)
    by_chat: dict[int, list[float]] = defaultdict(list)
    for c in sends:
        by_chat[int(c.params["chat_id"])].append(c.time)
    gaps = [b - a for ts in by_chat.values() for a, b in zip(sorted(ts), sorted(ts)[1:],
                                                             strict=False)]
    achieved = len(sends) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(f"database            {url.split('://')[0]}"
          + (", fake Bot API over HTTP" if args.http else "")
          + (f", {args.latency:g} ms per Bot API call" if args.latency else ""))
    print(f"messages            {args.messages} to {args.chats} chats (queued in {queued_s:.1f} s)")
    print(f"configured rate     {args.rate:g}/s overall, {args.per_chat:g}/s per chat")
    print(f"achieved rate       {achieved:.2f}/s ({achieved / args.rate:.1%} of configured), "
          f"drained in {elapsed:.1f} s")
    print(f"max in any 1 s      {max_in_window(times)} (limit {args.rate:g})")
    print(f"min per-chat gap    {min(gaps):.3f} s (limit {1 / args.per_chat:.3f} s)"
          if gaps else "min per-chat gap    -")
    print(f"lost                {lost}   duplicates {sum(1 for v in delivered.values() if v > 1)}")
    db.dispose()
    if server is not None:
        server.stop()


class SlowRequest(FakeRequest):
    """The fake Bot API a round trip away: every call waits `delay` seconds."""

    def __init__(self, api: FakeBotAPI, delay: float) -> None:
        super().__init__(api)
        self.delay = delay

    async def do_request(self, url: str, method: str, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:
        answer = await super().do_request(url, method, *args, **kwargs)
        if self.delay:
            await asyncio.sleep(self.delay)
        return answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--chats", type=int, default=2_500)
    ap.add_argument("--rate", type=float, default=25.0, help="outbox.rate_per_second")
    ap.add_argument("--per-chat", type=float, default=1.0, help="outbox.per_chat_per_second")
    ap.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="milliseconds every Bot API call takes (in-process fake)")
    ap.add_argument("--http", action="store_true",
                    help="the fake served over HTTP, PTB's HTTP client (no --latency)")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()

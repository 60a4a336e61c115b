"""Outbox sender throughput against the fake Bot API (in-process, no network).

    python bench/outbox_throughput.py [--messages 10000] [--chats 2500] [--rate 25]
                                      [--per-chat 1] [--database URL]

Queues the messages (several per chat, so the per-chat limit matters too), sends them
with the sender loop the running bot runs, then reports the achieved
rate against the configured one, the most messages in any one-second window (must not
exceed the limit), the smallest gap between two messages to one chat, and messages lost
(queued but not delivered exactly once: must be 0).
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
from bot.services.outbox import Outbox, RateLimits, enqueue  # noqa: E402
from bot.telegram.sender import OutboxSender  # noqa: E402
from bot.testing import FakeBotAPI, FakeRequest  # noqa: E402


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def measure(
    messages: int, chats: int, rate: float, per_chat: float, database: str | None = None
) -> dict[str, Any]:
    """Queue `messages` to `chats` chats and send them with the sender loop; the figures."""
    url = database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    db = Database(url)
    db.migrate()
    started = time.perf_counter()
    with db.session() as s:
        for i in range(messages):
            enqueue(s, 10_000 + i % chats, f"m{i}", kind="bench")
    queued_s = time.perf_counter() - started

    api = FakeBotAPI()
    bot = Bot("123:BENCH", request=FakeRequest(api), get_updates_request=FakeRequest(api))
    sender = OutboxSender(Outbox(db, RateLimits(rate, per_chat)))
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
    db.dispose()

    sends = [c for c in api.calls if c.method == "sendMessage" and c.ok]
    times = sorted(c.time for c in sends)
    delivered = Counter(c.params["text"] for c in sends)
    by_chat: dict[int, list[float]] = defaultdict(list)
    for c in sends:
        by_chat[int(c.params["chat_id"])].append(c.time)
    gaps = [b - a for ts in by_chat.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)]
    return {
        "database": url.split("://")[0],
        "queued_s": queued_s,
        "drained_s": elapsed,
        "achieved": len(sends) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        "max_1s": max_in_window(times),
        "min_gap": min(gaps) if gaps else None,
        "lost": sum(1 for i in range(messages) if delivered[f"m{i}"] != 1),
        "duplicates": sum(1 for v in delivered.values() if v > 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--chats", type=int, default=2_500)
    ap.add_argument("--rate", type=float, default=25.0, help="outbox.rate_per_second")
    ap.add_argument("--per-chat", type=float, default=1.0, help="outbox.per_chat_per_second")
    ap.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    f = asyncio.run(measure(args.messages, args.chats, args.rate, args.per_chat, args.database))
    print(f"database            {f['database']}")
    print(f"messages            {args.messages} to {args.chats} chats (queued in {f['queued_s']:.1f} s)")
    print(f"configured rate     {args.rate:g}/s overall, {args.per_chat:g}/s per chat")
    print(
        f"achieved rate       {f['achieved']:.2f}/s ({f['achieved'] / args.rate:.1%} of "
        f"configured), drained in {f['drained_s']:.1f} s"
    )
    print(f"max in any 1 s      {f['max_1s']} (limit {args.rate:g})")
    print(
        f"min per-chat gap    {f['min_gap']:.3f} s (limit {1 / args.per_chat:.3f} s)"
        if f["min_gap"] is not None
        else "min per-chat gap    -"
    )
    print(f"lost                {f['lost']}   duplicates {f['duplicates']}")


if __name__ == "__main__":
    main()

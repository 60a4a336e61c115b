"""The real process over HTTP: `python -m bot run` against the fake Bot API served on
127.0.0.1, beside a bare python-telegram-bot process long-polling the same server.

    python bench/process_throughput.py [--updates 2000] [--runs 3] [--database URL]

The bare process answers every text with a constant one (PTB's ceiling for a bot that
long-polls); ours is the bot as `run` starts it, with the default configuration and a
fresh SQLite database (or --database). In each run both get the same burst of FAQ
questions from exporters, one after the other, after a warm-up (every exporter has
written once); the rate is questions answered per second from the first question to the
last answer, "cpu" the bot process's own CPU time per update. Figures are medians of
--runs runs, the ratio the median of the per-run ratios (target: ours >= 0.6 of bare).
The fake server runs in this process and costs CPU of its own on the same machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throughput import QUESTIONS  # noqa: E402
from bot.testing import FakeBotAPI, FakeTelegramServer  # noqa: E402

TOKEN = "424242:PROCESS-BENCH-token-value"
TICKS = os.sysconf("SC_CLK_TCK")


class Server(FakeTelegramServer):
    """The fake Bot API over HTTP, answering without Nagle's delay: its handler writes a
    response's headers and body separately, and the body then waits for the client's
    delayed ACK (40 ms on Linux). Telegram answers in one piece; a bot that waits for
    each answer in turn (the bare one) would measure that delay, not itself."""

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


def serve(api: FakeBotAPI) -> tuple[Server, str]:
    server = Server(("127.0.0.1", 0), api)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-telegram-api"
    ).start()
    return server, server.base_url


def bare_bot(base_url: str) -> None:
    """The bare process: long polling, one handler answering a constant text."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message("ok")

    app = Application.builder().token(TOKEN).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, answer))
    app.run_polling()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Replies:
    """sendMessage calls the fake received so far (counted as they come)."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self._seen = 0
        self._count = 0

    def __call__(self) -> int:
        calls = self.api.calls
        end = len(calls)
        for i in range(self._seen, end):
            if calls[i].method == "sendMessage":
                self._count += 1
        self._seen = end
        return self._count


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.005)


def measure(kind: str, updates: int, users: int, database: str | None) -> tuple[float, float]:
    api = FakeBotAPI()
    server, base_url = serve(api)
    with tempfile.TemporaryDirectory() as tmp:
        proc = start(kind, base_url, Path(tmp), database)
        try:
            return burst(api, server, proc, updates, users)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            server.stop()


def start(kind: str, base_url: str, tmp: Path, database: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    env.pop("SKA_DATABASE_URL", None)
    if kind == "bare":
        command = [sys.executable, __file__, "--serve-bare", base_url]
    else:
        config = tmp / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "telegram": {"base_url": base_url},
                    "database": {"url": database or f"sqlite:///{tmp / 'bench.db'}"},
                }
            )
        )
        command = [sys.executable, "-m", "bot", "--config", str(config), "run"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )


def burst(
    api: FakeBotAPI, server: FakeTelegramServer, proc: subprocess.Popen[str], updates: int, users: int
) -> tuple[float, float]:
    replies = Replies(api)

    def ask(i: int) -> None:
        api.push_update(api.message(10_000 + i % users, QUESTIONS[i % len(QUESTIONS)]))

    wait(lambda: any(c.method == "getUpdates" for c in api.calls), 120, "the first getUpdates")
    for i in range(users):  # warm-up: every exporter exists, caches are filled
        ask(i)
    wait(lambda: replies() >= users, 300, "the warm-up's answers")
    time.sleep(0.5)
    before, cpu = replies(), cpu_seconds(proc.pid)
    start = time.perf_counter()
    for i in range(updates):
        ask(i)
    wait(lambda: replies() >= before + updates, 600, "the answers")
    elapsed = time.perf_counter() - start
    return updates / elapsed, (cpu_seconds(proc.pid) - cpu) / updates


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-bare":
        bare_bot(sys.argv[2])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--database", help="SQLAlchemy URL for ours (default: a fresh SQLite file)")
    args = ap.parse_args()
    # the default flood throttle allows 20 messages per exporter in 10 s
    users = max(200, args.updates // 10)
    print(f"{args.updates} FAQ questions from {users} exporters over HTTP, median of {args.runs} runs")
    figures: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": []}
    for _ in range(args.runs):
        for kind in figures:
            figures[kind].append(measure(kind, args.updates, users, args.database))
    for kind, runs in figures.items():
        rate = statistics.median(f[0] for f in runs)
        cpu = statistics.median(f[1] for f in runs)
        print(
            f"{kind:<5} {rate:6.0f} updates/s   bot process cpu {cpu * 1000:5.2f} ms/update"
            f"   runs: {', '.join(f'{f[0]:.0f}' for f in runs)}"
        )
    ratio = statistics.median(o[0] / b[0] for b, o in zip(figures["bare"], figures["ours"], strict=True))
    print(f"ours / bare: {ratio:.2f} (target >= 0.6)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

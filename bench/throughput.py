"""Updates per second through the real Application (every handler group, the duplicate
filter, the database) with the in-process fake Bot API: exporters asking FAQ questions.

    python bench/throughput.py [--updates 2000] [--postgres URL]

Target on the 2-core machine: >= 300 updates/s on SQLite and on PostgreSQL.
PostgreSQL is skipped when none answers (default: SKA_TEST_POSTGRES_URL or the local one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from telegram import Update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, post_init  # noqa: E402
from bot.config import parse_settings  # noqa: E402
from bot.fakeapi import FakeBotAPI, FakeRequest  # noqa: E402
from bot.services import build_services  # noqa: E402

QUESTIONS = [
    "dokumen apa aja utk ajukan ska", "berapa lama proses ska", "biaya ska berapa",
    "cara daftar e-ska", "form e untuk china", "jam buka kantor", "ska itu apa",
    "what documents do i need for a certificate of origin", "how long does it take",
    "apakah bisa ajukan online", "syarat ska ke jepang", "kalau b/l belum ada gimana",
]
DEFAULT_PG = os.environ.get("SKA_TEST_POSTGRES_URL",
                            "postgresql+psycopg://postgres@127.0.0.1:5432/test")


async def measure(url: str, updates: int) -> float:
    settings = parse_settings({"database": {"url": url}}, env={})
    services = build_services(settings)
    api = FakeBotAPI()
    # as `run` builds it: duplicate-update filter on
    app = build_application(settings, request=FakeRequest(api), services=services,
                            dedupe_updates=True)
    await app.initialize()
    await post_init(app)
    users = 200

    def payload(i: int) -> Update:
        return Update.de_json(api.message(10_000 + i % users, QUESTIONS[i % len(QUESTIONS)]),
                              app.bot)

    try:
        for i in range(users):      # warm-up: every user exists, caches are filled
            await app.process_update(payload(i))
        batch = [payload(i) for i in range(updates)]
        start = time.perf_counter()
        for update in batch:
            await app.process_update(update)
        elapsed = time.perf_counter() - start
        sent = sum(1 for c in api.calls if c.method == "sendMessage")
        assert sent >= updates, f"only {sent} replies for {updates + users} updates"
    finally:
        await app.shutdown()
        services.close()
    return updates / elapsed


def pg_schema(base: str) -> tuple[str, str] | None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        return None
    finally:
        engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--postgres", default=DEFAULT_PG)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rate = asyncio.run(measure(f"sqlite:///{tmp}/bench.db", args.updates))
        print(f"sqlite      {rate:7.0f} updates/s  ({args.updates} FAQ questions, target >= 300)")
    made = pg_schema(args.postgres)
    if made is None:
        print("postgresql  skipped (no server answers)")
        return 0
    url, schema = made
    try:
        rate = asyncio.run(measure(url, args.updates))
        print(f"postgresql  {rate:7.0f} updates/s  ({args.updates} FAQ questions, target >= 300)")
    finally:
        engine = create_engine(args.postgres)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Several bot processes on one PostgreSQL database: each notification leaves once,
the SLA pass runs in one process per period."""

from __future__ import annotations

import datetime as dt
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.db import Database
from bot.models import OutboxMessage, Ticket
from bot.services import build_services
from bot.services.leases import Leases
from bot.services.outbox import enqueue
from bot.testing import FakeBotAPI, serve_http
from tests.conftest import OFFICERS_CHAT, make_settings
from tests.processes import TOKEN, start_bot, wait_for, write_config


def test_a_lease_has_one_holder_until_it_expires(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    now = [dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)]
    a = Leases(db, "a", clock=lambda: now[0])
    b = Leases(db, "b", clock=lambda: now[0])
    try:
        assert a.acquire("ticket-sla", 55)
        assert not b.acquire("ticket-sla", 55)
        assert a.acquire("ticket-sla", 55)  # the holder renews
        assert b.acquire("reminders", 120)  # leases are independent
        now[0] += dt.timedelta(seconds=56)
        assert b.acquire("ticket-sla", 55)  # expired: whoever asks first wins
        assert not a.acquire("ticket-sla", 55)
        assert a.holder_of("ticket-sla") == "b"
    finally:
        db.dispose()


def test_two_processes_deliver_every_notification_exactly_once(tmp_path: Path, postgres_url: str) -> None:
    url = postgres_url
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    settings = make_settings(url)
    svc = build_services(settings)
    # three tickets long past the first-response target: one card and one breach each
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    for user in (501, 502, 503):
        svc.tickets.open(user, f"question from {user}", [])
    with svc.db.session() as s:
        s.execute(update(Ticket).values(created_at=long_ago))
    config = write_config(
        tmp_path / "config.yaml",
        {
            "telegram": {"base_url": base_url},
            "database": {"url": url},
            "officers": {"chat_id": OFFICERS_CHAT, "user_ids": [9001]},
            "outbox": {"rate_per_second": 15},
        },
    )
    logs = [(tmp_path / f"bot{i}.log").open("w") for i in (1, 2)]
    procs = [start_bot(config, output=log) for log in logs]
    try:
        # the SLA pass runs 5 s after start in both processes; the lease lets one of them
        assert wait_for(lambda: len(api.texts(OFFICERS_CHAT)) >= 6, timeout=120)
        api.failure_rate = 0.1  # retries must not turn into duplicates either
        n = 120
        with svc.db.session() as s:
            for i in range(n):
                enqueue(s, 70000 + i % 40, f"notice {i}")

        def all_sent() -> bool:
            with svc.db.session() as s:
                return (
                    s.scalar(
                        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
                    )
                    == 0
                )

        assert wait_for(all_sent, timeout=180), "outbox not drained"
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
        server.stop()
        svc.close()
    delivered = Counter(
        c.params["text"]
        for c in api.calls
        if c.method == "sendMessage" and c.ok and c.params["chat_id"] != OFFICERS_CHAT
    )
    assert delivered == Counter(f"notice {i}" for i in range(n))
    group = api.texts(OFFICERS_CHAT)
    assert sum("Tiket #" in text and "melewati" in text for text in group) == 3, group
    assert sum(text.startswith("🎫") for text in group) == 3, group
    for i in (1, 2):
        output = (tmp_path / f"bot{i}.log").read_text()
        assert TOKEN.split(":")[1] not in output
    if not all(p.returncode == 0 for p in procs):
        pytest.fail("a bot process did not stop cleanly")

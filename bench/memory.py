"""Peak memory with 10,000 exporters and 10,000 applications, and start-up time.

    python bench/memory.py [--exporters 10000] [--applications 10000]

The data is written by this script, then a fresh process starts the real Application on
it, answers /status for 500 exporters, runs the daily reminder pass over every open
application and reports its own peak resident set, VmHWM from /proc (target: under
200 MB; getrusage's ru_maxrss would carry this script's peak across the fork).
Start-up time is measured twice: in that process (imports, migrations, knowledge base,
Application) and for `python -m bot run` until its first getUpdates to a fake Bot API
over HTTP, next to a bare python-telegram-bot process (bench/bare_bot.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STATUSES = ("submitted", "in_review", "returned", "approved", "issued")


def populate(url: str, exporters: int, applications: int) -> None:
    from sqlalchemy import insert

    from bot.config import parse_settings
    from bot.models import Company, SkaApplication, User
    from bot.services import build_services

    svc = build_services(parse_settings({"database": {"url": url}}, env={}))
    now = dt.datetime.now(dt.UTC)
    companies = exporters // 2  # two linked accounts per company
    with svc.db.session() as s:
        s.execute(
            insert(Company),
            [
                {"id": i + 1, "nib": f"{9100000000000 + i}", "name": f"PT Kayu Lestari {i}"}
                for i in range(companies)
            ],
        )
        s.execute(
            insert(User),
            [
                {
                    "id": 500_000 + i,
                    "first_name": f"Eksportir {i}",
                    "company_id": i % companies + 1,
                    "linked_at": now,
                }
                for i in range(exporters)
            ],
        )
        s.execute(
            insert(SkaApplication),
            [
                {
                    "ref": f"SKA/{i:06d}",
                    "company_id": i % companies + 1,
                    "commodity": "Plywood",
                    "destination": "JP",
                    "form": "Form IJEPA",
                    "status": STATUSES[i % len(STATUSES)],
                    "submitted_at": now - dt.timedelta(days=3),
                    "updated_at": now,
                }
                for i in range(applications)
            ],
        )
    svc.close()


def child(url: str, exporters: int) -> None:
    """The measured process: start the bot, use it, print JSON figures."""
    start = time.perf_counter()
    from telegram import Update

    from bench._harness import peak_rss_mb
    from bot.app import build_application, post_init
    from bot.config import parse_settings
    from bot.services import build_services
    from bot.testing import FakeBotAPI, FakeRequest

    imported = time.perf_counter()

    async def run() -> dict[str, float]:
        settings = parse_settings({"database": {"url": url}}, env={})
        services = build_services(settings)
        api = FakeBotAPI()
        app = build_application(settings, request=FakeRequest(api), services=services, dedupe_updates=True)
        await app.initialize()
        await post_init(app)
        ready = time.perf_counter()
        for i in range(0, exporters, max(1, exporters // 500)):
            await app.process_update(Update.de_json(api.message(500_000 + i, "/status"), app.bot))
        await asyncio.to_thread(services.reminders.run_pass, True)
        await app.shutdown()
        services.close()
        return {"ready": ready}

    figures = asyncio.run(run())
    print(
        json.dumps(
            {"import_s": imported - start, "ready_s": figures["ready"] - start, "peak_rss_mb": peak_rss_mb()}
        )
    )


def run_startup(url: str, bare: bool = False) -> float:
    """Seconds from `python -m bot run` (or the bare PTB bot) to its first getUpdates."""
    import yaml

    from bot.testing import FakeBotAPI, serve_http

    api = FakeBotAPI()
    server, base_url = serve_http(api)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump({"telegram": {"base_url": base_url}, "database": {"url": url}}))
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": "424242:BENCH-token"}
        env.pop("SKA_DATABASE_URL", None)
        # an installed bot starts from bytecode (pip compiles on install, and a checkout
        # caches it after its first start); with this set, as on some hosts, every start
        # compiled the whole project again, which the bare bot (site-packages) never pays
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = (
            [sys.executable, str(ROOT / "bench" / "bare_bot.py"), base_url]
            if bare
            else [sys.executable, "-m", "bot", "--config", str(config), "run"]
        )
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while not any(c.method == "getUpdates" for c in api.calls):
                if proc.poll() is not None or time.perf_counter() - start > 60:
                    raise SystemExit("the bot did not start")
                time.sleep(0.01)
            elapsed = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            server.stop()
    return elapsed


def measure(exporters: int, applications: int) -> dict[str, float]:
    """Populate a SQLite database, then measure the bot process on it (see the top)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/memory.db"
        populate(url, exporters, applications)
        out = subprocess.run(
            [sys.executable, __file__, "--child", url, "--exporters", str(exporters)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
        figures["startup_s"] = run_startup(url)
        figures["bare_startup_s"] = run_startup(url, bare=True)
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exporters", type=int, default=10_000)
    ap.add_argument("--applications", type=int, default=10_000)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.exporters)
        return 0
    figures = measure(args.exporters, args.applications)
    print(f"data            {args.exporters} exporters, {args.applications} applications (SQLite)")
    print(
        f"peak memory     {figures['peak_rss_mb']:.0f} MB VmHWM of the bot process (start, "
        "500 x /status, reminder pass over all; target < 200 MB)"
    )
    print(
        f"start-up        {figures['ready_s']:.2f} s in-process (imports "
        f"{figures['import_s']:.2f} s); `python -m bot run` to first getUpdates "
        f"{figures['startup_s']:.2f} s, a bare PTB process {figures['bare_startup_s']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The real bot process, long polling a fake Bot API served over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.fakeapi import FakeBotAPI, serve_http
from tests.conftest import ROOT

TOKEN = "424242:E2E-secret-token-value"


def wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_bot_process_answers_over_http_and_stops_on_sigterm(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "telegram": {"base_url": base_url, "base_file_url": server.base_file_url},
        "database": {"url": f"sqlite:///{tmp_path / 'e2e.db'}"},
    }))
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    env.pop("SKA_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert wait_for(lambda: any(c.method == "getUpdates" for c in api.calls)), \
            "the bot never polled for updates"
        api.push_update(api.message(5005, "/start", first_name="Rina"))
        api.push_update(api.message(5005, "dokumen apa aja utk ajukan ska"))
        assert wait_for(lambda: len(api.texts(5005)) >= 2)
        greeting, answer = api.texts(5005)[:2]
        assert "Halo Rina" in greeting
        assert "PEB" in answer and "packing list" in answer.lower()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        server.stop()
    assert proc.returncode == 0, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output

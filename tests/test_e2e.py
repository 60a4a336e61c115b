"""The real bot process, long polling a fake Bot API served over HTTP on 127.0.0.1."""

from __future__ import annotations

import signal
from pathlib import Path

from bot.testing import FakeBotAPI, serve_http
from tests.processes import TOKEN, start_bot, wait_for, write_config


def test_bot_process_answers_over_http_and_stops_on_sigterm(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    proc = start_bot(
        write_config(
            tmp_path / "config.yaml",
            {
                "telegram": {"base_url": base_url, "base_file_url": server.base_file_url},
                "database": {"url": f"sqlite:///{tmp_path / 'e2e.db'}"},
            },
        )
    )
    try:
        assert wait_for(lambda: any(c.method == "getUpdates" for c in api.calls)), (
            "the bot never polled for updates"
        )
        api.push_update(api.message(5005, "/start", first_name="Rina"))
        api.push_update(api.message(5005, "dokumen apa aja utk ajukan ska"))
        assert wait_for(lambda: len(api.texts(5005)) >= 2)
        greeting, answer = api.texts(5005)[:2]
        assert "Halo Rina" in greeting
        assert "PEB" in answer and "packing list" in answer.lower()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        server.stop()
    assert proc.returncode == 0, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output

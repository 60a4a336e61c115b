"""Start-up of the real process: Telegram unreachable for a moment is retried, for good is
one plain line; a second process on one SQLite file is refused."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from bot.testing import FakeBotAPI, serve_http
from tests.processes import TOKEN, free_port, start_bot, wait_for, write_config


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return output


def test_telegram_failing_at_start_up_is_retried_and_the_bot_answers(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    api.fail_next("getMe", 500, count=2)
    api.fail_next("setMyCommands", 502)
    api.fail_next("deleteWebhook", 500)
    api.timeout_next(method="getUpdates")
    proc = start_bot(
        write_config(
            tmp_path / "config.yaml",
            {
                "telegram": {"base_url": base_url, "base_file_url": server.base_file_url},
                "database": {"url": f"sqlite:///{tmp_path / 'start.db'}"},
            },
        )
    )
    try:
        assert wait_for(lambda: sum(c.method == "getUpdates" and c.ok for c in api.calls) > 0, 60), (
            "the bot never polled"
        )
        api.push_update(api.message(5005, "/start", first_name="Rina"))
        assert wait_for(lambda: any("Halo Rina" in t for t in api.texts(5005)), 30)
    finally:
        output = _stop(proc)
        server.stop()
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
    assert output.count("retrying in") >= 3, output
    assert TOKEN.split(":")[1] not in output


def test_telegram_unreachable_ends_with_one_plain_line(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/bot"
    proc = start_bot(
        write_config(
            tmp_path / "config.yaml",
            {
                "telegram": {"base_url": closed, "startup_retry_seconds": 2},
                "database": {"url": f"sqlite:///{tmp_path / 'down.db'}"},
            },
        )
    )
    output = _stop(proc) if not wait_for(lambda: proc.poll() is not None, 60) else proc.communicate()[0]
    assert proc.returncode == 1, output
    assert "Traceback" not in output, output
    assert "Telegram did not answer getMe" in output
    assert TOKEN.split(":")[1] not in output


def test_a_second_process_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    config = write_config(
        tmp_path / "config.yaml",
        {
            "telegram": {"base_url": base_url, "base_file_url": server.base_file_url},
            "database": {"url": f"sqlite:///{tmp_path / 'one.db'}"},
        },
    )
    first = start_bot(config)
    try:
        assert wait_for(lambda: any(c.method == "getUpdates" for c in api.calls), 60)
        second = start_bot(config)
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 1, output
        assert "another bot process is already using" in output and "PostgreSQL" in output
        assert "Traceback" not in output
        assert len(output.strip().splitlines()) <= 2, output
        # the first one still answers, once
        api.push_update(api.message(5006, "/start", first_name="Dewi"))
        assert wait_for(lambda: any("Halo Dewi" in t for t in api.texts(5006)), 30)
    finally:
        output = _stop(first)
        server.stop()
    assert first.returncode == 0, output
    assert sum("Halo Dewi" in t for t in api.texts(5006)) == 1

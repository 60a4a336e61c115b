"""The bot token never appears in logs, in error output or in config errors."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from telegram.error import InvalidToken

from bot.app import build_application, post_init
from bot.cli import setup_logging
from bot.config import TOKEN_ENV, ConfigError, parse_settings
from bot.testing import FakeBotAPI, serve_http
from tests.conftest import ROOT, make_settings

TOKEN = "987654:AAHsecretPartOfTheTokenValue_x-42"
SECRET = TOKEN.split(":", 1)[1]
# every logger that might see a URL, a request or an exception, at its chattiest
LOGGERS = (
    "",
    "httpx",
    "httpcore",
    "telegram",
    "telegram.ext",
    "apscheduler",
    "bot",
    "handlers",
    "sqlalchemy",
    "alembic",
)


def assert_clean(text: str) -> None:
    assert TOKEN not in text and SECRET not in text, text[:2000]


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


def assert_records_clean(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert_clean(record.getMessage())
        assert_clean(record.exc_text or "")
    assert_clean(caplog.text)  # as a handler formats them, tracebacks included


async def test_no_token_in_debug_logs_while_polling_and_replying(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    capture_everything(caplog)
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    settings = make_settings(
        f"sqlite:///{tmp_path / 'log.db'}",
        telegram={"base_url": base_url, "base_file_url": server.base_file_url},
    )
    # the real HTTP transport (httpx), which logs every request URL
    app = build_application(settings, token=TOKEN)
    try:
        await app.initialize()
        await post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        api.push_update(api.message(5005, "/start", first_name="Rina"))
        api.push_update(api.message(5005, "berapa lama ska terbit"))
        # a rejected request takes the error path, which logs a traceback (a 500 would be
        # retried, then queued in the outbox)
        api.fail_next("sendMessage", 400, description="Bad Request: injected")
        api.push_update(api.message(5006, "/help"))
        await api.await_sent(5005, count=2, timeout=15)
        await api.await_sent(5006, count=1, timeout=15)
    finally:
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        server.stop()
    urls = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    # httpx did log the URLs (so the check below is not vacuous), with the token masked
    assert any("/bot" in u and "getUpdates" in u for u in urls), urls[:5]
    assert any("update failed" in r.getMessage() for r in caplog.records)
    assert_records_clean(caplog)


async def test_rejected_token_is_masked_in_the_logged_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    capture_everything(caplog)
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    settings = make_settings(f"sqlite:///{tmp_path / 'log.db'}", telegram={"base_url": base_url})
    app = build_application(settings, token=TOKEN)
    api.fail_next("getMe", 401, description="Unauthorized")
    try:
        with pytest.raises(InvalidToken) as raised:
            await app.initialize()
        assert TOKEN in str(raised.value)  # PTB quotes it: the reason for the scrubbing
        logging.getLogger("bot").error("could not start", exc_info=raised.value)
    finally:
        await app.shutdown()
        server.stop()
    assert any(r.exc_text and "***" in r.exc_text for r in caplog.records)
    assert_records_clean(caplog)


def test_process_with_a_rejected_token_names_the_setting_not_the_value(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    api.fail_next("getMe", 401, description="Unauthorized", count=5)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"telegram": {"base_url": base_url}, "database": {"url": f"sqlite:///{tmp_path / 'p.db'}"}}
        )
    )
    env = {**os.environ, TOKEN_ENV: TOKEN, "PYTHONUNBUFFERED": "1"}
    env.pop("SKA_DATABASE_URL", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "config error: telegram.token" in output
    # PTB logs its start-up failure itself, quoting the token: masked on the way
    assert "`***`" in output
    assert_clean(output)


@pytest.mark.parametrize("bad", [TOKEN + " ", TOKEN + "!", SECRET, f"bot{TOKEN}", TOKEN + "\n"])
def test_config_errors_never_print_the_token(bad: str) -> None:
    for env, raw in (({TOKEN_ENV: bad}, None), ({}, {"telegram": {"token": bad}})):
        try:
            settings = parse_settings(raw, env=env)
        except ConfigError as exc:
            assert_clean(str(exc))
            assert "token" in str(exc)
        else:
            # a token that survives validation (surrounding blanks are stripped) stays secret
            assert_clean(repr(settings))
            assert_clean(str(settings.telegram))


def test_process_config_error_does_not_echo_the_token(tmp_path: Path) -> None:
    env = {**os.environ, TOKEN_ENV: TOKEN.replace(":", "::"), "PYTHONUNBUFFERED": "1"}
    env.pop("SKA_DATABASE_URL", None)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": f"sqlite:///{tmp_path / 'c.db'}"}}))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert TOKEN_ENV in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_a_job_cancelled_at_shutdown_leaves_one_line_and_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    setup_logging("INFO")
    log = logging.getLogger("apscheduler.executors.default")
    with caplog.at_level(logging.INFO):
        try:
            raise asyncio.CancelledError
        except asyncio.CancelledError:
            log.exception('Job "spike-alert (trigger: interval[0:01:00])" raised an exception')
        try:
            raise ValueError("a real failure")
        except ValueError:
            log.exception('Job "learned-faq" raised an exception')
    cancelled, failed = caplog.records[-2:]
    assert (cancelled.levelname, cancelled.exc_info) == ("INFO", None)
    assert (
        cancelled.getMessage()
        == 'Job "spike-alert (trigger: interval[0:01:00])": cancelled, the bot is stopping'
    )
    assert failed.levelname == "ERROR" and failed.exc_info is not None  # a real failure keeps its traceback

"""Webhook mode: the real bot process behind a secret token, and its health endpoint."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.config import ConfigError, parse_settings
from bot.services import build_services
from bot.services.outbox import enqueue
from bot.testing import FakeBotAPI, serve_http
from tests.conftest import make_settings
from tests.processes import TOKEN, free_port, start_bot, wait_for, write_config

SECRET = "s3cret_Token-42"


def post(url: str, body: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_webhook_needs_a_valid_secret_token() -> None:
    hook = {"url": "https://bot.example.org/tg"}
    with pytest.raises(ConfigError, match="secret_token: required"):
        parse_settings({"telegram": {"webhook": hook}}, env={})
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: 1-256"):
        parse_settings({"telegram": {"webhook": hook}}, env={"TELEGRAM_WEBHOOK_SECRET": "a b"})
    settings = parse_settings(
        {"telegram": {"webhook": {**hook, "secret_token": "file"}}},
        env={"TELEGRAM_WEBHOOK_SECRET": "from-env"},
    )
    webhook = settings.telegram.webhook
    assert webhook is not None and webhook.secret_token.value == "from-env"
    assert webhook.path == "tg" and (webhook.listen, webhook.port) == ("127.0.0.1", 8443)
    assert "from-env" not in repr(settings)
    assert parse_settings({"telegram": {"webhook": {"url": ""}}}, env={}).telegram.webhook is None


def test_bot_process_in_webhook_mode(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    port, health_port = free_port(), free_port()
    db_url = f"sqlite:///{tmp_path / 'hook.db'}"
    svc = build_services(make_settings(db_url))
    with svc.db.session() as s:  # waiting for tomorrow: they stay in the backlog
        for chat in (1, 2):
            enqueue(s, chat, "later", not_before=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    svc.close()
    proc = start_bot(
        write_config(
            tmp_path / "config.yaml",
            {
                "telegram": {
                    "base_url": base_url,
                    "webhook": {
                        # the public URL is the reverse proxy's; it forwards to listen:port/path
                        "url": "https://bot.example.org/tg-hook",
                        "listen": "127.0.0.1",
                        "port": port,
                    },
                },
                "database": {"url": db_url},
                "health": {"port": health_port},
            },
        ),
        env={"TELEGRAM_WEBHOOK_SECRET": SECRET},
    )
    hook = f"http://127.0.0.1:{port}/tg-hook"
    try:
        assert wait_for(
            lambda: api.webhook_url == "https://bot.example.org/tg-hook" or proc.poll() is not None,
            timeout=90,
        ), "setWebhook never called"
        assert proc.poll() is None, proc.communicate()[0]
        set_hook = [c for c in api.calls if c.method == "setWebhook"][-1]
        assert set_hook.params.get("secret_token") == SECRET

        def health_up() -> bool:
            try:
                return get_json(f"http://127.0.0.1:{health_port}/health")[0] == 200
            except OSError:
                return False

        assert wait_for(health_up, timeout=90)
        assert get_json(f"http://127.0.0.1:{health_port}/health") == (
            200,
            {"database": "ok", "outbox_backlog": 2},
        )

        def accepted(secret: str | None, update: dict) -> int:
            status = 0

            def answered() -> bool:
                nonlocal status
                try:
                    status = post(hook, update, secret)
                except OSError:  # the webhook server may start a moment after setWebhook
                    return False
                return True

            assert wait_for(answered, timeout=90)
            return status

        assert accepted(None, {**api.message(6006, "/start"), "update_id": 900}) == 403
        assert accepted("wrong-token", {**api.message(6006, "/start"), "update_id": 901}) == 403
        start = {**api.message(6006, "/start", first_name="Sari"), "update_id": 902}
        # Telegram hears 200 only once the update was handled: the reply is already out
        assert accepted(SECRET, start) == 200
        assert len(api.texts(6006)) == 1
        # Telegram retries a webhook delivery it thinks failed: the copy changes nothing
        assert accepted(SECRET, start) == 200
        question = api.message(6006, "dokumen apa aja utk ajukan ska")
        assert accepted(SECRET, {**question, "update_id": 903}) == 200
        texts = api.texts(6006)
        assert len(texts) == 2 and "Halo Sari" in texts[0] and "PEB" in texts[1]
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        server.stop()
    assert proc.returncode == 0, output
    assert SECRET not in output and TOKEN.split(":")[1] not in output
    assert "Traceback" not in output


def test_a_webhook_update_cut_off_by_a_crash_is_delivered_again_and_answered_once(tmp_path: Path) -> None:
    api = FakeBotAPI()
    server, base_url = serve_http(api)
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    hook = f"http://127.0.0.1:{port}/tg-hook"
    update = {**api.message(7007, "berapa lama proses ska"), "update_id": 950}

    def deliver() -> int | None:
        try:
            return post(hook, update, SECRET)
        except OSError:
            return None

    config = write_config(
        tmp_path / "config.yaml",
        {
            "telegram": {
                "base_url": base_url,
                "webhook": {"url": "https://bot.example.org/tg-hook", "listen": "127.0.0.1", "port": port},
            },
            "database": {"url": db_url},
        },
    )
    secret = {"TELEGRAM_WEBHOOK_SECRET": SECRET}
    procs = []
    try:
        procs.append(start_bot(config, env=secret))
        assert wait_for(lambda: api.webhook_url != "", timeout=90), "setWebhook never called"
        # the reply hangs on its way to Telegram; the process dies meanwhile
        api.timeout_next(method="sendMessage", delay=15)
        first: list[int | None] = []
        delivery = threading.Thread(target=lambda: first.append(deliver()))
        assert wait_for(lambda: deliver_ready(hook), timeout=90)
        delivery.start()
        assert wait_for(lambda: any(c.method == "sendMessage" for c in api.calls), timeout=90)
        procs[0].kill()
        procs[0].communicate()
        delivery.join(timeout=90)
        # Telegram never heard 200, so it keeps the update; nothing was answered yet
        assert first != [200] and api.texts(7007) == []
        procs.append(start_bot(config, env=secret))
        assert wait_for(lambda: deliver() == 200, timeout=90)
        answers = api.texts(7007)
        assert len(answers) == 1 and "hari kerja" in answers[0]
        # a further retry of the same update is skipped
        assert deliver() == 200 and len(api.texts(7007)) == 1
        procs[1].send_signal(signal.SIGTERM)
        output, _ = procs[1].communicate(timeout=90)
        assert procs[1].returncode == 0 and "Traceback" not in output, output
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        server.stop()


def deliver_ready(hook: str) -> bool:
    """Whether the webhook server accepts connections (a bare GET gets 405)."""
    try:
        with urllib.request.urlopen(hook, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False

"""Real `python -m bot run` processes for the tests that need one (over HTTP, killed,
restarted, several at once), all started the same way."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import yaml

from tests.conftest import ROOT

TOKEN = "424242:E2E-secret-token-value"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def start_bot(
    config: Path, *, output: IO[str] | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The bot with `config`, the test token from the environment (as in production) and
    no SKA_DATABASE_URL leaking in from the developer's shell. Output goes to `output`
    (a log file) or to a pipe, stdout and stderr together."""
    environment = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1", **(env or {})}
    environment.pop("SKA_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT,
        env=environment,
        stdout=output if output is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

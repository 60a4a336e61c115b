"""Start-up and command failures: one or two plain lines naming what to fix, no traceback
(SKA_LOG_LEVEL=DEBUG puts it in the log)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from bot.cli.errors import database_problem, safe_url, unexpected
from tests.test_cli import run_cli

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ12345678"
# port 1: nothing listens there, the connection is refused at once
REFUSING = "postgresql+psycopg://ska:Sup3rSecretPw@127.0.0.1:1/ska"


def one_line(out: str) -> str:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "Traceback" not in out
    return lines[0]


@pytest.mark.parametrize("command", [["run"], ["kb", "gaps"], ["chat"]])
def test_a_refusing_database_is_one_line_with_the_url_but_not_its_password(
    tmp_path: Path, command: list[str]
) -> None:
    out = run_cli(
        *command, env={"SKA_DATABASE_URL": REFUSING, "TELEGRAM_BOT_TOKEN": TOKEN}, cwd=tmp_path, stdin=""
    )
    assert out.returncode == 2
    line = one_line(out.stderr)
    assert line == (
        "database error: cannot use postgresql+psycopg://ska:***@127.0.0.1:1/ska: "
        "connection refused (is the server running, at that host and port?); "
        "check database.url (or SKA_DATABASE_URL)"
    )
    assert "Sup3rSecretPw" not in out.stdout + out.stderr


def test_the_traceback_is_in_the_log_at_debug_level_only(tmp_path: Path) -> None:
    out = run_cli("kb", "gaps", env={"SKA_DATABASE_URL": REFUSING, "SKA_LOG_LEVEL": "DEBUG"}, cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" in out.stderr
    assert "DEBUG bot: database failure" in out.stderr
    assert "Sup3rSecretPw" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("database error: ")


def test_an_sqlite_file_in_a_missing_folder_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/folder/ska.db"
    out = run_cli("kb", "gaps", env={"SKA_DATABASE_URL": url}, cwd=tmp_path)
    assert out.returncode == 2
    assert "cannot open the SQLite file (does its folder exist" in one_line(out.stderr)


@pytest.mark.parametrize("who", ["boss", "-5", "0", "99999999999999999999999", "officer!"])
def test_a_bad_chat_as_is_one_line(tmp_path: Path, who: str) -> None:
    out = run_cli("chat", "--as", who, cwd=tmp_path, stdin="halo\n")
    assert out.returncode == 2
    assert one_line(out.stderr).startswith(
        "chat: --as: expected exporter, officer, admin or a Telegram user id"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--config", "nope.yaml", "ask", "halo"], "config error: --config: file nope.yaml not found"),
        (["applications", "import", "nope.csv"], "cannot read nope.csv: no such file"),
        (["precheck", "nope.yaml"], "precheck: nope.yaml: file not found"),
        (["restore", "nope.db"], "restore: nope.db not found"),
        (["backup", "no/such/folder/b.db"], "backup: folder no/such/folder does not exist"),
    ],
)
def test_missing_files_are_named_in_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    # a real SQLite database to back up, so that only the named file is missing
    url = f"sqlite:///{tmp_path / 'ska.db'}"
    assert run_cli("kb", "gaps", env={"SKA_DATABASE_URL": url}, cwd=tmp_path).returncode == 0
    out = run_cli(*args, env={"SKA_DATABASE_URL": url}, cwd=tmp_path)
    assert out.returncode == 2
    assert one_line(out.stderr) == expected


def test_database_problem_unit() -> None:
    engine = create_engine(REFUSING)
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    engine.dispose()
    line = database_problem(caught.value, REFUSING)
    assert "ska:***@127.0.0.1:1/ska" in line and "Sup3rSecretPw" not in line
    assert safe_url("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"


def test_an_unexpected_failure_says_what_and_where_the_details_are() -> None:
    try:
        {}["x"]
    except KeyError as exc:
        line = unexpected(exc, "report")
    assert line == "error: report failed: KeyError: 'x' (details: SKA_LOG_LEVEL=DEBUG)"

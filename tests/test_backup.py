"""backup / restore round trip on SQLite; PostgreSQL is refused with the pg_dump commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.models import OutboxMessage, User
from bot.services import build_services
from bot.services.outbox import enqueue
from tests.conftest import make_settings


def counts(url: str) -> tuple[int, int]:
    svc = build_services(make_settings(url))
    try:
        with svc.db.session() as s:
            return (
                s.scalar(select(func.count()).select_from(User)) or 0,
                s.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            )
    finally:
        svc.close()


def test_backup_and_restore_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("SKA_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    svc = build_services(make_settings(url))
    with svc.db.session() as s:
        s.add(User(id=1, first_name="Rina"))
        enqueue(s, 1, "status: <b>issued</b>")
    # the bot keeps its connection open (and its WAL) while the backup runs
    with svc.db.session() as s:
        s.add(User(id=2, first_name="Budi"))
        assert main(["backup", str(tmp_path / "snap.db")]) == 0
    assert "backup written to" in capsys.readouterr().out
    assert counts(url) == (2, 1)
    with svc.db.session() as s:  # life goes on after the backup
        s.add(User(id=3, first_name="Sari"))
        enqueue(s, 3, "later")
    svc.close()
    assert counts(url) == (3, 2)
    assert main(["backup", str(tmp_path / "snap.db")]) == 2  # never overwritten
    assert "exists" in capsys.readouterr().err

    assert main(["restore", str(tmp_path / "snap.db")]) == 0
    # the open transaction (user 2) was not committed when the snapshot was taken
    assert counts(url) == (1, 1)
    svc = build_services(make_settings(url))
    with svc.db.session() as s:
        assert s.get(User, 1).first_name == "Rina"
        assert s.scalar(select(OutboxMessage.text)) == "status: <b>issued</b>"
    svc.close()


def test_restore_refuses_what_is_not_a_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SKA_DATABASE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    monkeypatch.chdir(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database " * 100)
    assert main(["restore", str(junk)]) == 2
    assert main(["restore", str(tmp_path / "missing.db")]) == 2
    err = capsys.readouterr().err
    assert "is not an SQLite database" in err and "not found" in err


def test_postgresql_gets_the_pg_dump_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SKA_DATABASE_URL", "postgresql+psycopg://ska:pw@db.local:5432/ska")
    monkeypatch.chdir(tmp_path)
    assert main(["backup", "x.dump"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backup: only for SQLite")
    assert "pg_dump --format=custom" in err and "pg_restore" in err
    assert "postgresql://ska:***@db.local:5432/ska" in err and "pw@" not in err

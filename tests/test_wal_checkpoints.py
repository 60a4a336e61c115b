"""SQLite: the hot path's statements leave the WAL's copy into the database file to a
thread (bot.db.WalCheckpoints); nothing written is lost on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, select, text

from bot.db import Database, WalCheckpoints
from bot.models import ProcessedUpdate, utcnow


def test_the_hot_path_never_checkpoints_and_a_thread_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ska.db'}"
    Database(url).migrate()
    db = Database(url)
    record = db.prepare(insert(ProcessedUpdate).values(update_id=bindparam("update_id"), at=bindparam("at")))
    probe = db.prepare(select(text("1")))
    with db.statement() as connection:
        # the hot path's own connection: no automatic checkpoint on its commits
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with db.engine.connect() as connection:  # the others keep SQLite's, a safety net
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    started: list[int] = []
    real = WalCheckpoints._checkpoint

    def checkpoint(self: WalCheckpoints) -> None:
        started.append(1)
        real(self)

    monkeypatch.setattr(WalCheckpoints, "_checkpoint", checkpoint)
    for update_id in range(WalCheckpoints.EVERY - 1):
        record.one(update_id=update_id, at=utcnow())
    assert started == []
    probe.one()  # the EVERY-th statement starts one
    assert db._checkpoints is not None
    db._checkpoints.close()  # waits for it
    assert started == [1]
    with db.engine.connect() as connection:
        busy, frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert busy == 0 and copied == frames
    db.dispose()
    again = Database(url)
    with again.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedUpdate)) == WalCheckpoints.EVERY - 1
    again.dispose()


def test_an_in_memory_database_has_no_checkpoint_thread() -> None:
    db = Database("sqlite://")
    assert db._checkpoints is None
    db.dispose()

"""Start-up reads the stored revision and runs Alembic only when there is something to do."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.db import MIGRATIONS, Database, head_revisions


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def test_the_heads_read_from_the_files_are_alembics() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert head_revisions() == frozenset(heads)


def test_a_current_schema_is_not_migrated_again_and_an_old_one_is(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(empty_database_url)
    assert db.stored_revisions() == frozenset()
    db.migrate()  # a new database: every revision
    assert db.stored_revisions() == head_revisions()
    assert "outbox" in inspect(db.engine).get_table_names()
    upgrades: list[str] = []
    real_upgrade = command.upgrade
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: upgrades.append(rev) or real_upgrade(cfg, rev))
    db.migrate()
    assert upgrades == []
    # one revision behind (an older bot ran on it): the next start-up upgrades
    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "-1")
    assert db.stored_revisions() != head_revisions()
    db.migrate()
    assert upgrades == ["head"] and db.stored_revisions() == head_revisions()
    db.dispose()

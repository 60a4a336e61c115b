"""Start-up reads the stored revision and runs Alembic only when there is something to do."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

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


def test_0012_drops_two_query_log_indexes_and_keeps_the_rows(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0011")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, first_name, language, language_chosen, role, created_at,"
                " last_seen_at) VALUES (7, 'A', 'id', false, 'exporter', :at, :at)"
            ),
            {"at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO query_log (user_id, text, language, matched_id, score, outcome,"
                " created_at) VALUES (7, 'biaya ska', 'id', 'fees', 91.5, 'answer', :at)"
            ),
            {"at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},
        )

    def indexes() -> set[str]:
        return {ix["name"] for ix in inspect(db.engine).get_indexes("query_log")}

    assert {"ix_query_log_matched_id", "ix_query_log_outcome"} <= indexes()
    db.migrate()
    assert indexes() == {"ix_query_log_user_id", "ix_query_log_created_at"}
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT user_id, text, matched_id, outcome FROM query_log")).all()
    assert [tuple(r) for r in rows] == [(7, "biaya ska", "fees", "answer")]
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0011")
    assert {"ix_query_log_matched_id", "ix_query_log_outcome"} <= indexes()
    db.dispose()

"""`backup FILE` / `restore FILE` for SQLite through sqlite3's online backup API.

The backup API copies a consistent snapshot page by page while the bot keeps running
(WAL mode), which a plain file copy of the .db (without its -wal file) does not. For
PostgreSQL the right tools are pg_dump / pg_restore; we print the commands instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.db import Database, safe_url


class BackupError(Exception):
    """Refused with a one-line reason (the CLI prints it and exits non-zero)."""


def _sqlite_path(url: str, verb: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        libpq = safe_url(
            parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=False)
        )
        raise BackupError(
            f"{verb}: only for SQLite; this database is {parsed.get_backend_name()}. Use:\n"
            f"  pg_dump --format=custom --file=FILE '{libpq}'\n"
            f"  pg_restore --clean --if-exists --no-owner --dbname='{libpq}' FILE\n"
            "(stop the bot before pg_restore; it migrates the schema at its next start)"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError(f"{verb}: the database is in memory; nothing to {verb}")
    return Path(parsed.database)


def backup(url: str, target: str | Path) -> Path:
    """Snapshot the SQLite database at `url` into a new file `target`."""
    source = _sqlite_path(url, "backup")
    target = Path(target)
    if not source.is_file():
        raise BackupError(f"backup: database file {source} does not exist")
    if target.exists():
        raise BackupError(f"backup: {target} exists; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"backup: folder {target.parent} does not exist")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    return target


def _check_backup(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"restore: {path} not found")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
    except sqlite3.DatabaseError:
        raise BackupError(f"restore: {path} is not an SQLite database") from None
    if ok != "ok":
        raise BackupError(f"restore: {path} is damaged ({ok})")
    if "alembic_version" not in tables:
        raise BackupError(f"restore: {path} is not a backup of this bot (no alembic_version)")


def restore(url: str, source: str | Path) -> Path:
    """Replace the SQLite database at `url` by the backup `source`; stop the bot first."""
    target = _sqlite_path(url, "restore")
    source = Path(source)
    _check_backup(source)
    # the backup API overwrites every page of the target, WAL included, in one step
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    # a backup from an older version gets the newer schema now, not at the next start
    db = Database(url)
    try:
        db.migrate()
    finally:
        db.dispose()
    return target

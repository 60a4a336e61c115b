"""Throwaway databases for the tests and the bench scripts.

Running the Alembic migrations for every test was a large share of the suite's time, so
a test's database starts from one migrated once per run: on SQLite a copy of a migrated
file, on PostgreSQL one schema per run, emptied before each test (its sequences reset).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.exc import OperationalError

from bot.db import Database


@contextmanager
def pg_schema(base: str) -> Iterator[str | None]:
    """`base` with a fresh schema on its search path, dropped afterwards (the database's
    own tables are never touched); None when no server answers."""
    schema = f"ska_tmp_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        engine.dispose()
        yield None
        return
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


class SqliteTemplate:
    """A SQLite file at the newest schema, made once; each test gets a copy of it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        db = Database(f"sqlite:///{self.path}")
        db.migrate()
        db.dispose()  # the last connection closed: the WAL is folded into the file

    def copy(self, path: Path) -> str:
        """A database at the newest schema in ``path``; its URL."""
        shutil.copyfile(self.path, path)
        return f"sqlite:///{path}"


# what the tables, columns, indexes and constraints of the current schema are: a test
# may change them (one drops a table to see the bot survive it), then the schema is rebuilt
_STRUCTURE = """
SELECT md5(coalesce((SELECT string_agg(c.relname || '.' || c.relkind::text || '.' || a.attname || ':'
                                       || format_type(a.atttypid, a.atttypmod) || ':'
                                       || a.attnotnull::text || ':'
                                       || coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
                                       ',' ORDER BY c.relname, a.attnum)
                     FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                                        AND NOT a.attisdropped
                     LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
                     WHERE n.nspname = current_schema()), '')
           || coalesce((SELECT string_agg(r.conname || ':' || pg_get_constraintdef(r.oid), ','
                                          ORDER BY r.conname)
                        FROM pg_constraint r JOIN pg_namespace n ON n.oid = r.connamespace
                        WHERE n.nspname = current_schema()), ''))
"""


class EmptiedSchema:
    """A PostgreSQL schema at the newest schema for one run: :meth:`empty` makes it look
    as it did right after the migrations (no rows, sequences from 1)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url, pool_size=1)
        self._build()

    def _build(self) -> None:
        with self._engine.begin() as connection:  # what a test left, if anything
            for (name,) in connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ):
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        db = Database(self.url)
        try:
            db.migrate()
            tables = MetaData()
            tables.reflect(db.engine)
        finally:
            db.dispose()
        # children before parents, so no foreign key stands in the way
        deletes = "".join(
            f'DELETE FROM "{table.name}";\n'
            for table in reversed(tables.sorted_tables)
            if table.name != "alembic_version"
        )
        # a connection a test left inside a transaction would block this: fail, not hang
        self._empty = (
            "SET LOCAL lock_timeout = '10s';\n"
            + deletes
            + "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'S' "
            "AND n.nspname = current_schema()"
        )
        with self._engine.begin() as connection:
            self._structure = connection.exec_driver_sql(_STRUCTURE).scalar()

    def empty(self) -> str:
        """Delete every row and restart the sequences (rebuild what a test changed);
        the schema's URL."""
        with self._engine.begin() as connection:
            changed = connection.exec_driver_sql(_STRUCTURE).scalar() != self._structure
        if changed:
            self._build()
        with self._engine.begin() as connection:
            connection.exec_driver_sql(self._empty)
        return self.url

    def dispose(self) -> None:
        self._engine.dispose()

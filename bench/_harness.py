"""What several bench scripts share: a throwaway PostgreSQL schema per run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError


@contextmanager
def pg_schema(base: str) -> Iterator[str | None]:
    """`base` with a fresh schema on its search path, dropped afterwards (the database's
    own tables are never touched); None when no server answers."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
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


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's own peak resident set (VmHWM in /proc/<pid>/status), in MB.

    Not getrusage's ru_maxrss: a child started by fork/exec reports the larger of its own
    peak and its parent's at the fork, so a bench that seeds a big database in the parent
    would read the parent's peak."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")

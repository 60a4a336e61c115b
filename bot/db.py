"""Engine and session factory; migrations are applied here at start-up."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from bot.config import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# `revision = "0011"` / `down_revision = "0010"` (or None) in a migration file
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(.*?)\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""^(?:"([^"]+)"|'([^']+)')$""")


def head_revisions() -> frozenset[str] | None:
    """The newest revision(s) of bot/migrations/versions, read from the files' own lines;
    None when a file says it another way (a merge's tuple): then Alembic reads them."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("[!_]*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        own = _QUOTED.match(found.get("revision", ""))
        parent = found.get("down_revision", "")
        parent_match = _QUOTED.match(parent)
        if own is None or (parent != "None" and parent_match is None):
            return None
        revisions.add(own[1] or own[2])
        if parent_match is not None:
            parents.add(parent_match[1] or parent_match[2])
    return frozenset(revisions - parents) or None


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets the sender job read while a handler writes; FKs are off by default in SQLite
    cursor.execute("PRAGMA journal_mode=WAL")
    # with WAL, NORMAL never corrupts and survives a process crash (SIGKILL); only a power
    # cut can undo the last commits. It halves the cost of every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# A pooled connection idle longer than this is pinged before use: the server may have
# restarted or dropped it meanwhile. Pinging every checkout (pool_pre_ping) costs one
# round trip per transaction, about 0.4 ms on this machine's loopback, several per update.
PING_AFTER_IDLE_SECONDS = 10.0


def _mark_checkin(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    record.info["idle_since"] = time.monotonic()


def _ping(dbapi_connection: Any) -> None:
    """One round trip; DisconnectionError when the connection is no longer usable."""
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()
    except Exception as exc:  # noqa: BLE001 - any failure means "use another connection"
        raise DisconnectionError(str(exc)) from exc


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    # on failure the pool discards this connection and checks out (or opens) another
    _ping(dbapi_connection)


def _no_autocheckpoint(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # the hot path's connections leave the WAL to WalCheckpoints' thread
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class WalCheckpoints:
    """SQLite: the WAL is copied back into the database file by a thread, not by one of
    the hot path's statements.

    By default the write that takes the WAL past 1,000 pages does that copy itself, and
    with `synchronous=NORMAL` the copy ends in two fsyncs: tens of milliseconds on this
    machine's disk, paid inside one exporter's update every couple of hundred updates
    (more than a third of the time of the two hot-path INSERTs, averaged). Here the hot
    path's connections never checkpoint; every EVERY statements a thread runs a PASSIVE
    checkpoint (it blocks neither readers nor writers, and sqlite3 releases the GIL while
    it works). The other connections keep SQLite's automatic checkpoint, a safety net
    should the thread fall behind. Durability is unchanged: commits are made exactly as
    before, only the copy into the main file moves."""

    EVERY = 300

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._count = 0
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        """One more hot-path statement; a checkpoint starts when enough have run."""
        self._count += 1
        if self._count < self.EVERY:
            return
        if self._thread is not None and self._thread.is_alive():
            return  # the previous one is still copying: the next tick tries again
        self._count = 0
        self._thread = threading.Thread(target=self._checkpoint, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _checkpoint(self) -> None:
        try:
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.fetchall()
                cursor.close()
            finally:
                connection.close()
        except Exception:  # noqa: BLE001 - the automatic checkpoint of the other connections remains
            log.warning("WAL checkpoint failed", exc_info=True)

    def close(self) -> None:
        """Wait for a checkpoint under way (before the engine is disposed)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None


# a query parameter that carries a secret (libpq reads password= and sslpassword= there)
_SECRET_PARAM = re.compile(r"([?&][^=&#]*(?:password|passwd|pwd|secret|token)[^=&#]*=)[^&#]*", re.IGNORECASE)


def safe_url(url: str) -> str:
    """The URL as it can be shown: the password replaced by ***, in the user part and in
    the query alike (`?password=...` works as well as `user:pass@`)."""
    raw = _raw_password(url)
    if raw:
        # by hand: a password with an unescaped "@" or ":" is parsed as part of the host
        # (and then shown) by SQLAlchemy
        start = url.index("//") + 2
        user_end = url.index(":", start)
        shown = url[: user_end + 1] + "***" + url[user_end + 1 + len(raw) :]
    else:
        try:
            shown = make_url(url).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            shown = url
    return _SECRET_PARAM.sub(r"\1***", shown)


def _raw_password(url: str) -> str:
    """The password of `user:password@host` as written: everything from the user's ":"
    to the last "@" before the path."""
    if "//" not in url:
        return ""
    netloc = url.split("//", 1)[1].split("/", 1)[0].split("?", 1)[0]
    if "@" not in netloc:
        return ""
    userinfo = netloc.rsplit("@", 1)[0]
    return userinfo.split(":", 1)[1] if ":" in userinfo else ""


def url_secrets(url: str) -> list[str]:
    """Every secret the URL carries: the user part's password and secret query values."""
    raw = _raw_password(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return [raw] if raw else []
    found = [p for p in (parsed.password, raw) if p]
    for key, value in parsed.query.items():
        if _SECRET_PARAM.match(f"?{key}="):
            found += [value] if isinstance(value, str) else list(value)
    return [str(p) for p in found if p]


def make_engine(url: str, autocommit: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # ValueError: a password with an unescaped "@" or ":" read as a port; the driver's
        # message would show part of it
        raise ConfigError(
            f"database.url: {safe_url(url)!r} is not a database URL"
            " (in a password, write @ as %40 and : as %3A)"
        ) from None
    # an engine of its own for autocommit, rather than switching a pooled connection in and
    # out of it: the switch and its reset cost as much as the statement on SQLite
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        if autocommit and _sqlite_file(parsed.database):
            event.listen(engine, "connect", _no_autocheckpoint)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5, **options)
    event.listen(engine.pool, "checkin", _mark_checkin)
    event.listen(engine.pool, "checkout", _ping_if_idle)
    if autocommit:
        event.listen(engine, "connect", _asynchronous_commit)
    return engine


def _sqlite_file(database: str | None) -> bool:
    return database not in (None, "", ":memory:") and not str(database).startswith("file::memory:")


def _asynchronous_commit(dbapi_connection: Any, _record: Any) -> None:
    """The hot path's writes (the question log, handled update ids) do not wait for the
    WAL to reach the disk: each autocommitted INSERT otherwise waits for an fsync, the
    larger part of its round trip. A PostgreSQL crash (not a bot crash) can then forget
    the last fraction of a second of them: a few log rows, or an update id whose copy
    would be answered once more. Everything else commits synchronously."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET synchronous_commit TO off")
    dbapi_connection.autocommit = autocommit


class HeldConnections:
    """The hot path's connections, each kept by the thread that runs its statements.

    Checking a connection out of SQLAlchemy's pool and back in for every statement cost
    about as much as the SQLite statement itself. A thread keeps one instead (the event
    loop's thread, or each worker of Database.run on PostgreSQL), up to `limit` of them,
    within the pool's size; a thread beyond that borrows one per statement, as before.
    A connection idle for PING_AFTER_IDLE_SECONDS is pinged before use, like the pool's
    (PostgreSQL may have restarted meanwhile); one that fails with a disconnect is
    dropped and the next statement checks out another.
    """

    def __init__(self, engine: Engine, ping: bool, limit: int) -> None:
        self._engine = engine
        self._ping = ping
        self._limit = limit
        self._held: dict[int, tuple[PoolProxiedConnection, list[float]]] = {}
        self._lock = threading.Lock()

    def take(self) -> tuple[PoolProxiedConnection, bool]:
        """The calling thread's connection, and whether it is kept (False: borrowed for
        one statement, to be closed after it)."""
        held = self._held.get(threading.get_ident()) or self._keep()
        if held is None:  # every kept connection belongs to another thread
            return self._engine.raw_connection(), False
        connection, used = held
        now = time.monotonic()
        if self._ping and now - used[0] >= PING_AFTER_IDLE_SECONDS:
            try:
                _ping(connection.dbapi_connection)
            except DisconnectionError as exc:
                self._drop(connection, exc)
                return self.take()
        used[0] = now
        return connection, True

    def failed(self, connection: PoolProxiedConnection, kept: bool, exc: Any) -> bool:
        """A statement failed: a connection the error says is dead is invalidated (as
        SQLAlchemy's own execute path does) and no longer kept; whether it was dead."""
        gone = bool(self._engine.dialect.is_disconnect(exc, connection.dbapi_connection, None))
        if gone:
            connection.invalidate(exc)
            if kept:
                self._drop(connection, None)
            self._suspect_all()
        return gone

    def on_error(self, context: ExceptionContext) -> None:
        """SQLAlchemy's own execute path (a session's statement, say) met a dead
        connection: the kept ones are as suspect as after one of their own failed."""
        if context.is_disconnect:
            self._suspect_all()

    def _suspect_all(self) -> None:
        # the server went away (a restart, an outage): the other threads' connections
        # date from before it and are most likely dead too. Each is pinged by its own
        # thread before its next statement (closing it from here could cut a statement
        # under way), so no exporter gets an error for a connection already known dead.
        with self._lock:
            for _kept, used in self._held.values():
                used[0] = -math.inf

    def _keep(self) -> tuple[PoolProxiedConnection, list[float]] | None:
        if len(self._held) >= self._limit:
            return None
        # connecting may take a while: not under the lock
        held = (self._engine.raw_connection(), [time.monotonic()])
        with self._lock:
            if len(self._held) < self._limit:
                self._held[threading.get_ident()] = held
                return held
        held[0].close()
        return None

    def _drop(self, connection: PoolProxiedConnection, exc: BaseException | None) -> None:
        with self._lock:
            for thread, (kept, _used) in list(self._held.items()):
                if kept is connection:
                    del self._held[thread]
        if exc is not None:
            connection.invalidate(exc)
        connection.close()

    def close(self) -> None:
        """Back to the pool (before it is disposed)."""
        with self._lock:
            held, self._held = self._held, {}
        for connection, _used in held.values():
            connection.close()


class Prepared:
    """One Core statement of the per-message hot path, compiled once and run straight on
    the driver's connection.

    SQLAlchemy's execute path (cache lookup, parameter and result wrapping) costs several
    times the sqlite3 call it wraps, and it runs three times for every exporter message
    (routing, the question log, the update id). Here the SQL text, the order of its
    parameters and the type conversions are worked out once; each run is one cursor call
    on the thread's connection of the autocommit engine (HeldConnections). Python-side
    column defaults are not applied: a statement passes every value it needs.
    """

    def __init__(
        self,
        engine: Engine,
        statement: Any,
        connections: HeldConnections,
        checkpoints: WalCheckpoints | None = None,
    ) -> None:
        self._engine = engine
        self._connections = connections
        self._checkpoints = checkpoints
        dialect: Dialect = engine.dialect
        plain = statement.compile(dialect=dialect)
        required = [name for name, b in plain.binds.items() if b.required]
        # IN (...) of constants is rendered as one parameter per value: the values are
        # known now, only the required parameters come with each run
        expanded = plain
        if "POSTCOMPILE" in str(plain):
            expanded = statement.params({name: None for name in required}).compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
        self.sql = str(expanded)
        constants = plain.construct_params(_check=False)
        if expanded.positional:
            names = list(expanded.positiontup or [])
        else:
            names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", self.sql)))
        self._names = names
        self._positional = bool(expanded.positional)
        # per parameter, in the statement's order: its name, whether each run passes it,
        # its type's conversion, and the value of a constant (converted once, here)
        self._plan: list[tuple[str, bool, Any, Any]] = []
        for name in dict.fromkeys(names):
            base, value = name, constants.get(name)
            if name not in plain.binds:  # the i-th value of an expanded IN
                base, index = name.rsplit("_", 1)
                value = constants[base][int(index) - 1]
            bind = plain.binds[base].type.dialect_impl(dialect).bind_processor(dialect)
            if name in required:
                self._plan.append((name, True, bind, None))
            else:
                converted = bind(value) if bind is not None and value is not None else value
                self._plan.append((name, False, None, converted))
        self._order = [next(i for i, step in enumerate(self._plan) if step[0] == name) for name in names]
        columns = getattr(statement, "selected_columns", None)
        if columns is None:
            columns = getattr(statement, "_returning", ()) or ()
        self._readers = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._plain_rows = all(read is None for read in self._readers)

    def _parameters(self, values: dict[str, Any]) -> Any:
        converted = [
            (values[name] if bind is None else (bind(values[name]) if values[name] is not None else None))
            if passed
            else constant
            for name, passed, bind, constant in self._plan
        ]
        if self._positional:
            return tuple(converted[i] for i in self._order)
        return {step[0]: value for step, value in zip(self._plan, converted, strict=True)}

    def _read(self, row: Any) -> tuple[Any, ...] | None:
        if row is None or self._plain_rows:
            return tuple(row) if row is not None else None
        return tuple(read(v) if read is not None else v for read, v in zip(self._readers, row, strict=False))

    def one(self, **values: Any) -> tuple[Any, ...] | None:
        """Run it and return the first row (converted), or None."""
        parameters = self._parameters(values)
        connections = self._connections
        connection, kept = connections.take()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, parameters)
                row = cursor.fetchone() if cursor.description else None
            finally:
                cursor.close()
        except self._engine.dialect.loaded_dbapi.Error as exc:
            # the same exception, and the same dropping of a dead connection, as through
            # SQLAlchemy's own execute path: callers and the error handler see no difference
            gone = connections.failed(connection, kept, exc)
            dialect = self._engine.dialect
            raise DBAPIError.instance(
                self.sql,
                parameters,
                exc,
                dialect.loaded_dbapi.Error,
                connection_invalidated=gone,
                dialect=dialect,
            ) from exc
        finally:
            if not kept:
                connection.close()
        if self._checkpoints is not None:
            self._checkpoints.tick()
        return self._read(row)


class Database:
    """Owns the engine; services open short transactions through it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit = make_engine(url, autocommit=True)
        self.local = self.engine.dialect.name == "sqlite"
        size = getattr(self._autocommit.pool, "size", None)  # a QueuePool's base size
        self._held = HeldConnections(
            self._autocommit, ping=not self.local, limit=size() if callable(size) else 1
        )
        # a dead server met by any statement, not only the hot path's own
        for engine in (self.engine, self._autocommit):
            event.listen(engine, "handle_error", self._held.on_error)
        self._checkpoints = (
            WalCheckpoints(self._autocommit)
            if self.local and _sqlite_file(self._autocommit.url.database)
            else None
        )
        # set by build_application when updates are handled concurrently (see run())
        self.offload = False

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on error."""
        with self._factory() as session, session.begin():
            yield session

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection for single statements that need no transaction around them: one
        read, or one write that is atomic on its own. It skips BEGIN and COMMIT, two of the
        three round trips a one-statement transaction costs on PostgreSQL; the hot path of
        every message (routing, the question log, the update id) runs here."""
        with self._autocommit.connect() as connection:
            yield connection

    def insert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        """INSERT in this database's dialect, the one with ON CONFLICT DO NOTHING."""
        # imported here: on SQLite, PostgreSQL's dialect would add a tenth to start-up
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def prepare(self, statement: Any) -> Prepared:
        """A hot-path statement for `statement()`-style single runs without a transaction,
        compiled once (see Prepared)."""
        return Prepared(self._autocommit, statement, self._held, self._checkpoints)

    async def run(self, func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a blocking call of the per-message hot path from a handler.

        When updates are handled concurrently and the database is PostgreSQL, it runs in a
        worker thread, so that while it waits on the network other people's updates go on.
        Otherwise inline: with one update at a time nothing could use the wait, and SQLite
        answers in microseconds; the thread hop would cost more (measured in
        bench/throughput.py)."""
        if not self.offload:
            return func(*args, **kwargs)
        return await asyncio.to_thread(func, *args, **kwargs)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent).

        At start-up the schema is nearly always current already: one read of the stored
        revision says so, and Alembic (with the SQL dialects it loads, a fifth of the
        bot's start-up) is only imported when there is something to upgrade."""
        heads = head_revisions()
        if heads is not None and self.stored_revisions() == heads:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def stored_revisions(self) -> frozenset[str]:
        """The revision(s) Alembic recorded in this database; empty for a new database."""
        try:
            with self.engine.connect() as connection:
                return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))
        except DBAPIError:  # no alembic_version table: nothing migrated yet
            return frozenset()

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
        self._held.close()
        self.engine.dispose()
        self._autocommit.dispose()


class AlreadyRunning(Exception):
    """Another bot process holds this SQLite database."""


class ProcessLock:
    """An exclusive lock on a file beside the SQLite database, held while the bot runs.

    SQLite is for one bot process: two would both poll Telegram and answer every
    question twice. The operating system drops the lock when the process dies, however
    it dies, so a crash never leaves a stale lock behind."""

    def __init__(self, handle: IO[str] | None) -> None:
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def single_process_lock(url: str) -> ProcessLock:
    """Lock the SQLite file of `url` for this process; PostgreSQL needs no lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return ProcessLock(None)
    path = Path(parsed.database).resolve()
    handle = open(f"{path}.lock", "a+", encoding="utf-8")  # noqa: SIM115 (held while running)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise AlreadyRunning(
            f"another bot process is already using {path}; SQLite is for "
            "one process (use PostgreSQL to run several)"
        ) from None
    return ProcessLock(handle)

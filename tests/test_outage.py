"""A database outage on the real Application: one apology per message, roles from the
configuration, and the bot back by itself once the database is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.db import Database, Prepared
from bot.i18n import t
from bot.services import build_services
from tests.conftest import OFFICER_ID, POSTGRES_URL, BotHarness, make_settings, start_harness

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def outage_db() -> Iterator[tuple[str, psycopg.Connection]]:
    """A database of its own, which the test can close to every connection."""
    url = make_url(POSTGRES_URL)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_URL}")
    name = f"ska_outage_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False), admin
    finally:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def _down(admin: psycopg.Connection, url: str, down: bool) -> None:
    name = make_url(url).database
    admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"false" if down else "true"}')
    if down:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


async def test_an_outage_gets_one_apology_keeps_roles_and_heals(
    outage_db: tuple[str, psycopg.Connection],
) -> None:
    url, admin = outage_db
    settings = make_settings(url)
    services = build_services(settings)
    app, api = await start_harness(settings, services)
    bot = BotHarness(app, api, services)
    try:
        assert "PEB" in "".join(
            c.params["text"] for c in await bot.say("dokumen apa aja utk ajukan ska", user_id=1001)
        )
        _down(admin, url, True)
        sent = await bot.say("berapa lama ska terbit", user_id=1001)
        assert [c.params["text"] for c in sent] == [t("error", "id")]
        sent = await bot.say("/setstatus SKA-001 approved", user_id=OFFICER_ID)
        texts = [c.params["text"] for c in sent]
        assert texts == [t("error", "id")], texts  # not "only for officers"
        _down(admin, url, False)
        sent = await bot.say("berapa lama ska terbit", user_id=1001)
        assert t("error", "id") not in [c.params["text"] for c in sent]
        assert sent and "hari kerja" in sent[0].params["text"]
    finally:
        await app.shutdown()
        services.close()


@pytest.fixture
def outage_database(
    outage_db: tuple[str, psycopg.Connection],
) -> Iterator[tuple[Database, str, psycopg.Connection]]:
    """The hot path's side of an outage: a Database on the database the test closes."""
    url, admin = outage_db
    db = Database(url)
    try:
        yield db, url, admin
    finally:
        db.dispose()


def test_after_an_outage_no_thread_uses_a_connection_known_dead(
    outage_database: tuple[Database, str, psycopg.Connection],
) -> None:
    # the hot path's statements run on worker threads, each keeping a connection; the
    # first statement to meet the dead server says so for all of them
    db, url, admin = outage_database
    probe = db.prepare(select(literal(1)))
    with ThreadPoolExecutor(1) as a, ThreadPoolExecutor(1) as b:
        assert a.submit(_run, probe).result() == b.submit(_run, probe).result() == "ok"
        _down(admin, url, True)  # the server closes every connection
        _down(admin, url, False)
        # the first statement meets a dead connection: that cannot be helped
        assert a.submit(_run, probe).result() == "failed"
        # the other thread's connection is as dead, and now known to be
        assert b.submit(_run, probe).result() == "ok"
        assert a.submit(_run, probe).result() == "ok"


def _run(probe: Prepared) -> str:
    try:
        probe.one()
        return "ok"
    except DBAPIError:
        return "failed"


def test_a_dead_server_met_by_a_session_is_known_to_the_kept_connections(
    outage_database: tuple[Database, str, psycopg.Connection],
) -> None:
    # an update's first statement may be an ORM session's (who is writing); after the
    # outage, the hot path's kept connection must not be the one to tell an exporter
    db, url, admin = outage_database
    probe = db.prepare(select(literal(1)))
    assert probe.one() == (1,)  # this thread keeps a connection now
    with db.session() as session:
        assert session.execute(select(literal(1))).scalar() == 1
    _down(admin, url, True)
    with pytest.raises(DBAPIError), db.session() as session:
        session.execute(select(literal(1)))
    _down(admin, url, False)
    assert probe.one() == (1,)

"""applications.issued_at: every path that issues an SKA sets it, the last issue wins, and
migration 0013 fills it for existing SKAs exactly as /report counted them before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, func, insert, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.db import MIGRATIONS, Database
from bot.models import Company, SkaApplication, StatusEvent
from bot.services import Services
from bot.services.applications import APPROVED, ISSUED, TRANSITIONS
from bot.services.demo import load_demo
from bot.services.reports import Period, aggregate
from tests.test_reports import seed_issued

HEADER = "ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,submitted_at,volume_tonnes,value_usd\n"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def row(ref: str, status: str, submitted: str = "2025-03-04") -> str:
    return f"{ref},1111111111111,PT Satu,Plywood,4412.31,Japan,IJEPA,{status},,{submitted},10,1000\n"


def moments(services: Services) -> dict[str, dt.datetime | None]:
    """issued_at of every application, by ref, read afresh."""
    with services.db.session() as s:
        return dict(s.execute(select(SkaApplication.ref, SkaApplication.issued_at)).all())


def last_issued_event(services: Services, ref: str) -> dt.datetime:
    with services.db.session() as s:
        at = s.scalar(
            select(func.max(StatusEvent.at))
            .join(SkaApplication, SkaApplication.id == StatusEvent.application_id)
            .where(SkaApplication.ref == ref, StatusEvent.to_status == ISSUED)
        )
    assert at is not None
    return at


# -- (a) every path that issues an application sets it -----------------------------------------


def test_an_officer_issuing_sets_the_moment_of_the_issued_event(services: Services) -> None:
    assert services.importer.import_text(HEADER + row("A-1", APPROVED)).created == 1
    assert moments(services) == {"A-1": None}
    services.applications.set_status("A-1", ISSUED, "terbit", "officer")
    assert moments(services) == {"A-1": last_issued_event(services, "A-1")}


def test_an_import_sets_it_for_the_rows_it_creates_issued_and_the_rows_it_issues(
    services: Services,
) -> None:
    report = services.importer.import_text(HEADER + row("I-1", ISSUED, "2025-02-03") + row("I-2", APPROVED))
    assert report.errors == [] and report.created == 2
    found = moments(services)
    # a new row's one event is at its submission date (midnight WIB), and so is the moment
    assert found["I-1"] == last_issued_event(services, "I-1") == utc(2025, 2, 2, 17)
    assert found["I-2"] is None
    report = services.importer.import_text(HEADER + row("I-1", ISSUED, "2025-02-03") + row("I-2", ISSUED))
    assert report.errors == [] and report.status_changes == 1
    found = moments(services)
    assert found["I-1"] == utc(2025, 2, 2, 17)
    assert found["I-2"] == last_issued_event(services, "I-2")


def test_an_import_of_one_row_at_a_time_sets_it_too(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The careful path (a savepoint per row) the importer takes when the database refused
    a batch."""

    def refused(*_: object) -> None:
        raise SQLAlchemyError("refused")

    monkeypatch.setattr(services.importer, "_fast", refused)
    report = services.importer.import_text(HEADER + row("S-1", ISSUED) + row("S-2", APPROVED))
    assert report.errors == [] and report.created == 2
    assert moments(services) == {"S-1": last_issued_event(services, "S-1"), "S-2": None}


def test_the_demo_sets_it_for_its_issued_applications(services: Services) -> None:
    load_demo(services.db, services.answers.kb.exports)
    with services.db.session() as s:
        apps = s.execute(select(SkaApplication.id, SkaApplication.status, SkaApplication.issued_at)).all()
        events = dict(
            s.execute(
                select(StatusEvent.application_id, func.max(StatusEvent.at))
                .where(StatusEvent.to_status == ISSUED)
                .group_by(StatusEvent.application_id)
            ).all()
        )
    issued = [(i, at) for i, status, at in apps if status == ISSUED]
    assert len(issued) == 17 and all(at == events[i] for i, at in issued)
    assert all(at is None for _, status, at in apps if status != ISSUED)


def test_a_test_or_script_writing_rows_by_hand_gets_it_too(services: Services) -> None:
    """The database keeps it, so rows written without the services (tests, benches, a
    correction by hand) count as the report always counted them."""
    seed_issued(services)
    with services.db.session() as s:
        found = dict(s.execute(select(SkaApplication.ref, SkaApplication.issued_at)).all())
    assert found["EDGE-05"] == utc(2025, 3, 5, 2)  # issued twice: the last
    assert found["EDGE-06"] == utc(2026, 1, 2)
    assert found["EDGE-07"] == utc(2025, 7, 10, 3)  # no event: its last change
    assert found["EDGE-08"] is None  # approved


# -- (b) issuing again moves it to the last issue ----------------------------------------------


def test_issuing_again_moves_it_to_the_last_issue(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issued is final in e-SKA's rules today; were an SKA withdrawn and issued again, it
    would count when it was issued last."""
    monkeypatch.setitem(TRANSITIONS, ISSUED, (APPROVED,))
    services.importer.import_text(HEADER + row("R-1", APPROVED))
    services.applications.set_status("R-1", ISSUED, "", "officer")
    first = moments(services)["R-1"]
    services.applications.set_status("R-1", APPROVED, "ditarik", "officer")
    assert moments(services) == {"R-1": None}
    services.applications.set_status("R-1", ISSUED, "", "officer")
    last = moments(services)["R-1"]
    assert first is not None and last is not None and last > first
    assert last == last_issued_event(services, "R-1")


def test_the_moment_follows_every_change_of_the_issued_events(services: Services) -> None:
    with services.db.session() as s:
        company = Company(nib="9900000000001", name="PT A")
        s.add(company)
        s.flush()
        app = SkaApplication(
            ref="E-1",
            company_id=company.id,
            status=ISSUED,
            updated_at=utc(2025, 7, 1),
            submitted_at=utc(2025, 1, 1),
        )
        s.add(app)
        s.flush()
        app_id = app.id

    def event(at: dt.datetime) -> int:
        with services.db.session() as s:
            e = StatusEvent(application_id=app_id, from_status=APPROVED, to_status=ISSUED, actor="t", at=at)
            s.add(e)
            s.flush()
            return e.id

    def moment() -> dt.datetime | None:
        return moments(services)["E-1"]

    assert moment() == utc(2025, 7, 1)  # no event yet: its last change
    first = event(utc(2025, 2, 1))
    assert moment() == utc(2025, 2, 1)  # earlier than the last change: the event counts
    second = event(utc(2025, 3, 1))
    assert moment() == utc(2025, 3, 1)
    event(utc(2025, 1, 15))  # recorded late, happened earlier: the last issue stays
    assert moment() == utc(2025, 3, 1)
    with services.db.session() as s:
        s.execute(update(StatusEvent).where(StatusEvent.id == first).values(at=utc(2025, 4, 1)))
    assert moment() == utc(2025, 4, 1)  # a corrected time
    with services.db.session() as s:
        s.execute(delete(StatusEvent).where(StatusEvent.id == first))
    assert moment() == utc(2025, 3, 1)
    with services.db.session() as s:
        s.execute(update(StatusEvent).where(StatusEvent.id == second).values(to_status="approved"))
    assert moment() == utc(2025, 1, 15)
    with services.db.session() as s:
        s.execute(delete(StatusEvent).where(StatusEvent.application_id == app_id))
    assert moment() == utc(2025, 7, 1)
    with services.db.session() as s:
        s.execute(
            update(SkaApplication).where(SkaApplication.id == app_id).values(updated_at=utc(2025, 8, 1))
        )
    assert moment() == utc(2025, 8, 1)
    with services.db.session() as s:
        s.execute(update(SkaApplication).where(SkaApplication.id == app_id).values(status=APPROVED))
    assert moment() is None


def test_a_long_period_is_summed_per_month_as_well(services: Services) -> None:
    """Longer than queries.RANGED_MONTHS: SQLite groups the months instead of reading a
    range for each."""
    seed_issued(services)
    reports, period = services.reports, Period(dt.date(2020, 1, 1), dt.date(2029, 12, 31))
    ours = reports.export(period)
    reference = aggregate(reports.issued(period), period, reports.tz, reports.canonical)
    assert (ours.lines, ours.by_commodity, ours.by_destination, ours.by_month) == (
        reference.lines,
        reference.by_commodity,
        reference.by_destination,
        reference.by_month,
    )
    assert ours.count == 11 and ours.missing_figures == 3


# -- (c) the migration fills it as the report counted before -----------------------------------


def alembic(db: Database, revision: str, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


@pytest.fixture
def at_0011(empty_database_url: str) -> Iterator[Database]:
    db = Database(empty_database_url)
    alembic(db, "0011")
    yield db
    db.dispose()


def seed_0011(engine: Engine) -> None:
    """Rows as a database before migration 0013 holds them (no issued_at): the edges of
    tests.test_reports.seed_issued, in an older shape."""
    rows = [  # (status, updated_at, 'issued' events, other events)
        (ISSUED, utc(2025, 7, 10, 3), [utc(2025, 1, 31, 16, 59, 59)], [utc(2025, 1, 2)]),
        (ISSUED, utc(2025, 7, 10, 3), [utc(2024, 6, 1), utc(2025, 3, 5, 2)], []),  # twice
        (ISSUED, utc(2025, 7, 10, 3), [utc(2025, 3, 1), utc(2026, 1, 2)], []),
        (ISSUED, utc(2025, 7, 10, 3), [], [utc(2025, 9, 9)]),  # no issued event
        (ISSUED, utc(2024, 12, 31, 17), [], []),
        (APPROVED, utc(2025, 5, 5), [utc(2025, 5, 5)], []),  # issued once, not now
        ("submitted", utc(2025, 5, 5), [], [utc(2025, 5, 5)]),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(Company).values(id=1, nib="9900000000001", name="PT A", created_at=utc(2025, 1, 1))
        )
        for i, (status, updated, issued, other) in enumerate(rows, start=1):
            conn.execute(
                insert(SkaApplication).values(
                    id=i,
                    ref=f"OLD-{i}",
                    company_id=1,
                    commodity="Plywood",
                    destination="Japan",
                    status=status,
                    volume_tonnes=Decimal("1.5"),
                    value_usd=Decimal("100"),
                    submitted_at=utc(2025, 1, 1),
                    updated_at=updated,
                )
            )
            for at, to in [*((at, ISSUED) for at in issued), *((at, "in_review") for at in other)]:
                conn.execute(
                    insert(StatusEvent).values(
                        application_id=i, from_status=APPROVED, to_status=to, note="", actor="t", at=at
                    )
                )


def old_moments(engine: Engine) -> dict[int, dt.datetime]:
    """The moment /report counted an SKA issued by until migration 0013: its last
    'issued' event, else its last change; only SKAs issued now."""
    app, event = SkaApplication, StatusEvent
    last = (
        select(event.application_id, func.max(event.at).label("at"))
        .where(event.to_status == ISSUED)
        .group_by(event.application_id)
        .subquery()
    )
    with engine.connect() as conn:
        found = conn.execute(
            select(app.id, func.coalesce(last.c.at, app.updated_at))
            .outerjoin(last, last.c.application_id == app.id)
            .where(app.status == ISSUED)
        ).all()
    return {i: at if at.tzinfo else at.replace(tzinfo=dt.UTC) for i, at in found}


def test_the_migration_fills_it_as_the_report_counted_before(at_0011: Database) -> None:
    db = at_0011
    seed_0011(db.engine)
    before = old_moments(db.engine)
    assert len(before) == 5
    alembic(db, "head")
    with db.engine.connect() as conn:
        after = dict(conn.execute(select(SkaApplication.id, SkaApplication.issued_at)).all())
    assert {i: at for i, at in after.items() if at is not None} == before
    assert after[6] is None and after[7] is None
    assert before[2] == utc(2025, 3, 5, 2) and before[4] == utc(2025, 7, 10, 3)


def test_downgrading_drops_the_column_and_keeps_every_row(at_0011: Database) -> None:
    db = at_0011
    seed_0011(db.engine)
    alembic(db, "head")

    def counts() -> tuple[int, int]:
        with db.engine.connect() as conn:
            return (
                conn.scalar(select(func.count()).select_from(SkaApplication.__table__)) or 0,
                conn.scalar(select(func.count()).select_from(StatusEvent.__table__)) or 0,
            )

    stored = counts()
    alembic(db, "0011", down=True)
    assert counts() == stored
    assert "issued_at" not in {c["name"] for c in inspect(db.engine).get_columns("applications")}
    # without the triggers an old bot's writes are plain writes again
    with db.engine.begin() as conn:
        conn.execute(
            insert(StatusEvent).values(
                application_id=6,
                from_status=APPROVED,
                to_status=ISSUED,
                note="",
                actor="t",
                at=utc(2025, 6, 1),
            )
        )
        conn.execute(update(SkaApplication.__table__).where(SkaApplication.id == 6).values(status=ISSUED))
    alembic(db, "head")
    assert old_moments(db.engine)[6] == utc(2025, 6, 1)
    with db.engine.connect() as conn:
        moment = conn.scalar(select(SkaApplication.issued_at).where(SkaApplication.id == 6))
    assert moment == utc(2025, 6, 1)

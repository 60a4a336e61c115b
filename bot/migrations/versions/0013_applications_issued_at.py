"""applications.issued_at: when an issued SKA counts as issued, kept by the database

/report counts an SKA in a period by the moment of its last 'issued' status event, or by
its last change when it has none (issued before events were recorded). Finding that
moment meant grouping every 'issued' event and joining it to the applications on every
report. The column holds it, for applications whose status is 'issued' (NULL otherwise),
and triggers keep it so on every write, whichever path makes it (officer command, import,
demo, a script or a hand-made correction): a status or last-change update of the
application, an 'issued' event inserted, corrected or deleted. The definition is the
report's, unchanged, so every report counts the same SKAs in the same months as before.

On SQLite an index carries what the report reads of an issued SKA, so a report reads the
index range of its period and never the table, and sums each month from its own range
rather than sorting the period's SKAs (SQLite groups by sorting). PostgreSQL gets none: it
groups by hashing, and a freshly imported table, whose statistics are not gathered yet,
would lead it to read the table in the index's order, one row here, the next there.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEX = "ix_applications_issued"
COLUMNS = ["status", "issued_at", "company_id", "commodity", "destination", "volume_tonnes", "value_usd"]

# the moment, for the application row `a` (the row being updated)
MOMENT = """CASE WHEN {a}.status = 'issued' THEN coalesce(
    (SELECT max(e.at) FROM status_events e WHERE e.application_id = {a}.id AND e.to_status = 'issued'),
    {a}.updated_at) END"""


def _sqlite_trigger(name: str, event: str, when: str, which: str) -> str:
    """A trigger that sets issued_at again on the applications `which` names."""
    return f"""
        CREATE TRIGGER {name} {event}
        WHEN {when}
        BEGIN
            UPDATE applications SET issued_at = {MOMENT.format(a="applications")} WHERE {which};
        END"""


# AFTER triggers update the row: SQLite triggers cannot assign NEW. The inner UPDATEs set
# only issued_at, which no trigger listens to.
SQLITE_TRIGGERS = {
    name: _sqlite_trigger(name, event, when, which)
    for name, event, when, which in (
        (
            "applications_issued_at_insert",
            "AFTER INSERT ON applications",
            "NEW.status = 'issued'",
            "id = NEW.id",
        ),
        (
            "applications_issued_at_update",
            "AFTER UPDATE OF status, updated_at ON applications",
            "NEW.status = 'issued' OR OLD.status = 'issued'",
            "id = NEW.id",
        ),
        (
            "status_events_issued_at_insert",
            "AFTER INSERT ON status_events",
            "NEW.to_status = 'issued'",
            "id = NEW.application_id",
        ),
        (
            "status_events_issued_at_update",
            "AFTER UPDATE OF application_id, to_status, at ON status_events",
            "NEW.to_status = 'issued' OR OLD.to_status = 'issued'",
            "id IN (OLD.application_id, NEW.application_id)",
        ),
        (
            "status_events_issued_at_delete",
            "AFTER DELETE ON status_events",
            "OLD.to_status = 'issued'",
            "id = OLD.application_id",
        ),
    )
}

POSTGRES_FUNCTIONS = {
    # BEFORE: the row is written once, with its moment
    "applications_issued_at": """
        CREATE OR REPLACE FUNCTION applications_issued_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.issued_at := CASE WHEN NEW.status = 'issued' THEN coalesce(
                (SELECT max(e.at) FROM status_events e
                 WHERE e.application_id = NEW.id AND e.to_status = 'issued'),
                NEW.updated_at) END;
            RETURN NEW;
        END $$""",
    # OLD is NULL on INSERT and NEW on DELETE; only rows whose moment changes are written
    "status_events_issued_at": f"""
        CREATE OR REPLACE FUNCTION status_events_issued_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE applications a SET issued_at = {MOMENT.format(a="a")}
            WHERE a.id IN (OLD.application_id, NEW.application_id)
              AND a.issued_at IS DISTINCT FROM {MOMENT.format(a="a")};
            RETURN NULL;
        END $$""",
}

POSTGRES_TRIGGERS = {
    "applications_issued_at": """
        CREATE TRIGGER applications_issued_at BEFORE INSERT OR UPDATE OF status, updated_at
        ON applications FOR EACH ROW EXECUTE FUNCTION applications_issued_at()""",
    "status_events_issued_at_insert": """
        CREATE TRIGGER status_events_issued_at_insert AFTER INSERT ON status_events
        FOR EACH ROW WHEN (NEW.to_status = 'issued') EXECUTE FUNCTION status_events_issued_at()""",
    "status_events_issued_at_update": """
        CREATE TRIGGER status_events_issued_at_update
        AFTER UPDATE OF application_id, to_status, at ON status_events
        FOR EACH ROW WHEN (NEW.to_status = 'issued' OR OLD.to_status = 'issued')
        EXECUTE FUNCTION status_events_issued_at()""",
    "status_events_issued_at_delete": """
        CREATE TRIGGER status_events_issued_at_delete AFTER DELETE ON status_events
        FOR EACH ROW WHEN (OLD.to_status = 'issued') EXECUTE FUNCTION status_events_issued_at()""",
}

TABLE_OF = {
    "applications_issued_at": "applications",
    "applications_issued_at_insert": "applications",
    "applications_issued_at_update": "applications",
    "status_events_issued_at_insert": "status_events",
    "status_events_issued_at_update": "status_events",
    "status_events_issued_at_delete": "status_events",
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("applications", sa.Column("issued_at", sa.DateTime(timezone=True)))
    # the moment exactly as the report found it until now
    op.execute(
        f"UPDATE applications SET issued_at = {MOMENT.format(a='applications')} WHERE status = 'issued'"
    )
    if postgres:
        for statement in (*POSTGRES_FUNCTIONS.values(), *POSTGRES_TRIGGERS.values()):
            op.execute(statement)
    else:
        op.create_index(INDEX, "applications", COLUMNS)
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {TABLE_OF[name]}" if postgres else ""))
    if postgres:
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        op.drop_index(INDEX, table_name="applications")
    # not a batch rebuild: on SQLite that drops and recreates the table, and dropping
    # applications would cascade to their status events (ALTER TABLE DROP COLUMN: 3.35+)
    op.execute("ALTER TABLE applications DROP COLUMN issued_at")

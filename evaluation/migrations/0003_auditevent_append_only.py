"""Make the audit trail append-only in the database itself: a trigger refuses UPDATE and
DELETE on evaluation_auditevent, so even raw SQL cannot edit or remove an event.

(TRUNCATE is a table-owner operation; production should run the app with a database role that
does not own the table. The test runner's flush uses TRUNCATE, so it is not blocked here.)
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION evaluation_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'evaluation_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS evaluation_auditevent_no_change ON evaluation_auditevent;
CREATE TRIGGER evaluation_auditevent_no_change
    BEFORE UPDATE OR DELETE ON evaluation_auditevent
    FOR EACH ROW EXECUTE FUNCTION evaluation_auditevent_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS evaluation_auditevent_no_change ON evaluation_auditevent;
DROP FUNCTION IF EXISTS evaluation_auditevent_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER IF NOT EXISTS evaluation_auditevent_no_update
       BEFORE UPDATE ON evaluation_auditevent
       BEGIN SELECT RAISE(ABORT, 'evaluation_auditevent is append-only: UPDATE is not allowed'); END;""",
    """CREATE TRIGGER IF NOT EXISTS evaluation_auditevent_no_delete
       BEFORE DELETE ON evaluation_auditevent
       BEGIN SELECT RAISE(ABORT, 'evaluation_auditevent is append-only: DELETE is not allowed'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS evaluation_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS evaluation_auditevent_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0002_workspace")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]

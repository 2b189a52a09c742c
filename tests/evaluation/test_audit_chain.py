"""The audit trail nobody can quietly change (issue 15, part 5): a hash chain that
``audit_verify`` checks, appends that never fork, and a PostgreSQL role split under which the
application's role may only read and append."""

from __future__ import annotations

import io
import json
import threading

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from ari_review import audit_chain
from ari_review.audit import audit_event_record
from ari_review.models import AuditEvent
from tests.conftest import BOTH_DATABASES


def record(n: int, *, action: str = "test.event", **after) -> list[AuditEvent]:
    return [
        audit_event_record(
            actor=None, action=action, object_type="test", object_id=i, after={"i": i, **after}
        )
        for i in range(n)
    ]


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def tamper(sql: str, params=()) -> None:
    """What only a superuser can do: write with the triggers off (replica mode)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


# --- The chain ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_event_stores_the_hash_of_the_one_before_and_its_own():
    first, second, third = record(3)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    stored = AuditEvent.objects.get(pk=third.pk)
    assert stored.hash == audit_chain.event_digest(
        prev_hash=stored.prev_hash, fields=audit_chain.event_fields(stored)
    )
    assert len({first.hash, second.hash, third.hash}) == 3
    assert all(len(e.hash) == 64 for e in (first, second, third))


@pytest.mark.django_db
def test_values_hash_the_same_after_the_database_round_trip(clinician):
    event = audit_event_record(
        actor=clinician,
        action="test.values",
        object_type="test",
        object_id=7,
        before={"whole": 2.0, "big": 1e16, "tiny": 1.5e-7, "tuple": (1, 2), 3: "int key"},
        after={"text": "naïve ✓ \u2028", "nested": [{"b": 1, "a": [None, True]}]},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.hash == event.hash
    assert stored.hash == audit_chain.event_digest(
        prev_hash=stored.prev_hash, fields=audit_chain.event_fields(stored)
    )
    assert "OK:" in verify()


@pytest.mark.django_db
def test_bulk_created_events_are_chained_in_order():
    events = AuditEvent.objects.bulk_create(
        [AuditEvent(action="test.bulk", object_type="t", object_id=str(i)) for i in range(5)]
    )
    stored = list(AuditEvent.objects.filter(action="test.bulk").order_by("id"))
    assert [e.hash for e in stored] == [e.hash for e in events]
    assert all(b.prev_hash == a.hash for a, b in zip(stored, stored[1:], strict=False))
    assert "OK:" in verify()


@pytest.mark.django_db
def test_a_fork_is_refused_by_the_database():
    (event,) = record(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO evaluation_auditevent (created_at, actor_name, action, object_type, "
            "object_id, prev_hash, hash) VALUES (now(), '', 'fork', 't', '1', %s, %s)",
            [event.prev_hash, "f" * 64],
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    """Eight threads, each with its own database connection, append at once."""
    threads, per_thread, errors = 8, 15, []
    barrier = threading.Barrier(threads)

    def append(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_event_record(
                        actor=None, action="test.concurrent", object_type="t", object_id=f"{n}-{i}"
                    )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert AuditEvent.objects.filter(action="test.concurrent").count() == threads * per_thread
    assert "OK:" in verify()


# --- audit_verify ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_verify_reports_ok_with_the_count_and_the_last_hash():
    events = record(3)
    out = verify()
    total = AuditEvent.objects.count()
    assert out.startswith(f"OK: {total} audit event(s), chain intact")
    assert f"last event id {events[-1].pk}, hash {events[-1].hash}" in out


@pytest.mark.django_db
def test_an_edited_event_is_the_first_broken_link():
    events = record(4, action="export.labels", rows=120)
    target = events[1]
    tamper("UPDATE evaluation_auditevent SET after = %s WHERE id = %s", ['{"rows": 0}', target.pk])
    with pytest.raises(CommandError, match=f"BROKEN at event id {target.pk}: its content") as exc:
        verify()
    assert exc.value.returncode == 1
    assert f"last good id {events[0].pk}" in str(exc.value)


@pytest.mark.django_db
def test_a_deleted_event_breaks_the_link_of_the_next_one():
    events = record(4)
    tamper("DELETE FROM evaluation_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=f"BROKEN at event id {events[2].pk}: its prev_hash"):
        verify()


@pytest.mark.django_db
def test_an_event_rewritten_with_a_fresh_hash_breaks_the_next_link():
    """Recomputing the edited event's own hash is not enough: its successor points at the old."""
    events = record(3)
    edited = AuditEvent.objects.get(pk=events[1].pk)
    edited.after = {"i": 99}
    new_hash = audit_chain.event_digest(
        prev_hash=edited.prev_hash, fields=audit_chain.event_fields(edited)
    )
    tamper(
        "UPDATE evaluation_auditevent SET after = %s, hash = %s WHERE id = %s",
        ['{"i": 99}', new_hash, edited.pk],
    )
    with pytest.raises(CommandError, match=f"BROKEN at event id {events[2].pk}: its prev_hash"):
        verify()


def test_chain_verify_reports_missing_first_events():
    rows = [
        {
            "id": 5,
            "prev_hash": "a" * 64,
            "hash": "b" * 64,
            **dict.fromkeys(audit_chain.FIELDS, ""),
        }
    ]
    report = audit_chain.chain_verify(rows)
    assert (
        not report.ok
        and report.broken_id == 5
        and "earlier events were removed" in (report.problem)
    )


# --- Migration (backfill) and SQLite --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_events_in_id_order():
    executor = MigrationExecutor(connection)
    before = [("evaluation", "0003_auditevent_append_only")]
    latest = executor.loader.graph.leaf_nodes("evaluation")
    try:
        executor.migrate(before)
        with connection.cursor() as cursor:
            for i in range(3):
                cursor.execute(
                    "INSERT INTO evaluation_auditevent (created_at, actor_name, action, "
                    "object_type, object_id, after) VALUES (now(), 'system', 'old.event', 't', "
                    "%s, %s)",
                    [str(i), json.dumps({"n": i})],
                )
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)
    old = list(AuditEvent.objects.filter(action="old.event").order_by("id"))
    assert len(old) == 3 and all(len(e.hash) == 64 for e in old)
    assert "OK:" in verify()
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE evaluation_auditevent SET action = 'x' WHERE id = %s", [old[0].pk])


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_sqlite_chains_events_and_keeps_its_append_only_triggers():
    for i in range(3):
        AuditEvent(action="test.sqlite", object_type="t", object_id=str(i)).save(using="sqlite")
    report = audit_chain.chain_verify(audit_chain.chain_rows(AuditEvent, using="sqlite"))
    assert report.ok and report.count == 3
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(using="sqlite"),
        connections["sqlite"].cursor() as cursor,
    ):
        cursor.execute("UPDATE evaluation_auditevent SET action = 'x'")


# --- The application's role may only read and append ---------------------------------------------


@pytest.fixture
def audit_roles(transactional_db):
    """Roles are global to the PostgreSQL cluster: named after this test database, dropped after."""
    suffix = connection.settings_dict["NAME"].lower().replace("-", "_")[-30:]
    app, owner = f"ari_app_{suffix}", f"ari_audit_owner_{suffix}"

    def drop() -> None:
        with connection.cursor() as cursor:
            for role in (app, owner):
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone():
                    cursor.execute(f'REASSIGN OWNED BY "{role}" TO current_user')
                    cursor.execute(f'DROP OWNED BY "{role}"')
                    cursor.execute(f'DROP ROLE "{role}"')

    drop()
    yield app, owner
    drop()


def setup_roles(app: str, owner: str) -> str:
    out = io.StringIO()
    call_command("audit_roles_setup", app_role=app, owner_role=owner, stdout=out)
    return out.getvalue()


def test_audit_roles_setup_creates_the_roles_and_is_idempotent(audit_roles):
    app, owner = audit_roles
    first = setup_roles(app, owner)
    assert f"created role {owner} (NOLOGIN)" in first and f"created role {app} (LOGIN" in first
    assert f"owner postgres -> {owner}" in first
    assert f"{app} may SELECT and INSERT only" in first
    again = setup_roles(app, owner)
    assert "created" not in again and f"owned by {owner}" in again
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'evaluation_auditevent' AND grantee = %s ORDER BY 1",
            [app],
        )
        assert [row[0] for row in cursor.fetchall()] == ["INSERT", "SELECT"]
        cursor.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [owner])
        assert cursor.fetchone() == (False,)


def test_the_application_role_appends_but_cannot_change_anything(audit_roles):
    app, owner = audit_roles
    (kept,) = record(1, action="test.kept")
    setup_roles(app, owner)

    # Through the application's own code path, as the application's role: appends work.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app}"')
        appended = audit_event_record(
            actor=None, action="test.as_app", object_type="t", object_id=1
        )
    assert appended.prev_hash == kept.hash

    # A real login as that role.
    settings = connection.settings_dict
    refused = {
        "UPDATE": "UPDATE evaluation_auditevent SET action = 'tampered'",
        "DELETE": "DELETE FROM evaluation_auditevent",
        "TRUNCATE": "TRUNCATE evaluation_auditevent",
        "DISABLE TRIGGER": (
            "ALTER TABLE evaluation_auditevent DISABLE TRIGGER evaluation_auditevent_no_change"
        ),
        "DROP TABLE": "DROP TABLE evaluation_auditevent",
        "replace the trigger function": (
            "CREATE OR REPLACE FUNCTION evaluation_auditevent_append_only() RETURNS trigger "
            "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql"
        ),
        "replica mode": "SET session_replication_role = replica",
        "GRANT": f'GRANT UPDATE ON evaluation_auditevent TO "{app}"',
    }
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=app,
        autocommit=True,
    ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (app,)
        count = conn.execute("SELECT count(*) FROM evaluation_auditevent").fetchone()[0]
        assert count == AuditEvent.objects.count()
        conn.execute(
            "INSERT INTO evaluation_auditevent (created_at, actor_name, action, object_type, "
            "object_id, prev_hash, hash) VALUES (now(), '', 'raw.insert', 't', '1', %s, %s)",
            ["e" * 64, "e" * 64],
        )
        outcomes = {}
        for name, sql in refused.items():
            try:
                conn.execute(sql)
            except psycopg.errors.InsufficientPrivilege as exc:
                outcomes[name] = str(exc).splitlines()[0]
            except psycopg.Error as exc:  # reported below
                outcomes[name] = f"UNEXPECTED {type(exc).__name__}: {exc}"
            else:
                outcomes[name] = "ALLOWED"
        # GRANT by a non-owner is only a warning in PostgreSQL: what counts is that nothing was
        # granted.
        if outcomes["GRANT"] == "ALLOWED":
            outcomes["GRANT"] = "no privileges were granted"
    for name, outcome in outcomes.items():
        assert outcome.startswith(("permission denied", "must be owner", "no privileges")), (
            name,
            outcome,
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'evaluation_auditevent' AND grantee = %s ORDER BY 1",
            [app],
        )
        assert [row[0] for row in cursor.fetchall()] == ["INSERT", "SELECT"]
    assert AuditEvent.objects.filter(pk=kept.pk, action="test.kept").exists()
    # The raw insert skipped the chain: audit_verify points at it.
    raw = AuditEvent.objects.get(action="raw.insert")
    with pytest.raises(CommandError, match=f"BROKEN at event id {raw.pk}"):
        verify()


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_audit_roles_setup_refuses_sqlite_and_superusers():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("audit_roles_setup", app_role="ari_app", database="sqlite")
    with pytest.raises(CommandError, match="superuser"):
        call_command("audit_roles_setup", app_role="postgres")
    with pytest.raises(CommandError, match="not a plain role name"):
        call_command("audit_roles_setup", app_role='x"; DROP TABLE y; --')

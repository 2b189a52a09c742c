"""The audit table belongs to its own PostgreSQL role; the application's role may only read it
and append to it (docs/audit.md).

``audit_roles_setup`` runs as a superuser. It creates the owner role (NOLOGIN) and, when it does
not exist, the application's role (LOGIN), hands the audit table and its trigger function to the
owner, and grants the application's role SELECT and INSERT only. A role that does not own the
table cannot UPDATE, DELETE or TRUNCATE it, nor disable or replace its trigger. Safe to run again
(after a migration that touched the audit table, for example).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper

from ari_review.api.errors import ApplicationError

TABLE = "evaluation_auditevent"
TRIGGER_FUNCTION = "evaluation_auditevent_append_only()"
DEFAULT_OWNER_ROLE = "ari_audit_owner"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _role_name(name: str, what: str) -> str:
    if not _ROLE_NAME.match(name or ""):
        raise ApplicationError(
            f"{what} {name!r} is not a plain role name (lower-case letters, digits, _)."
        )
    return name


def _fetch_one(cursor: CursorWrapper, sql: str, params: Sequence[str] = ()) -> Any:
    cursor.execute(sql, params)
    return cursor.fetchone()


def audit_roles_setup(
    *,
    app_role: str,
    owner_role: str = DEFAULT_OWNER_ROLE,
    app_password: str | None = None,
    using: str = "default",
) -> list[str]:
    """Set the audit table's roles up; returns what was done and found, one line each."""
    app_role = _role_name(app_role, "Application role")
    owner_role = _role_name(owner_role, "Owner role")
    if app_role == owner_role:
        raise ApplicationError("The application role and the owner role must differ.")
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ApplicationError(
            f"audit_roles_setup needs PostgreSQL ({connection.vendor} has no roles); on SQLite "
            "the append-only triggers and the hash chain are the protection."
        )
    q = connection.ops.quote_name
    done: list[str] = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        me, superuser = _fetch_one(
            cursor, "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        if not superuser:
            raise ApplicationError(
                f"Run this as a PostgreSQL superuser (connected as {me!r}), for example "
                "DATABASE_URL=postgres://postgres@HOST:5432/DB manage.py audit_roles_setup ..."
            )
        if app_role == me:
            raise ApplicationError(
                f"{app_role!r} is the role running this command, a superuser: the application "
                "must connect as a role without superuser."
            )
        if _fetch_one(cursor, "SELECT to_regclass(%s)", [TABLE])[0] is None:
            raise ApplicationError(f"Table {TABLE} does not exist: run migrate first.")

        owner = _fetch_one(
            cursor, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [owner_role]
        )
        if owner is None:
            cursor.execute(f"CREATE ROLE {q(owner_role)} NOLOGIN")
            done.append(f"created role {owner_role} (NOLOGIN): owns the audit table")
        elif owner[0]:
            cursor.execute(f"ALTER ROLE {q(owner_role)} NOLOGIN")
            done.append(f"role {owner_role} could log in: now NOLOGIN")
        else:
            done.append(f"role {owner_role} exists (NOLOGIN)")

        app = _fetch_one(
            cursor, "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role]
        )
        if app is None:
            if app_password:
                cursor.execute(f"CREATE ROLE {q(app_role)} LOGIN PASSWORD %s", [app_password])
                done.append(f"created role {app_role} (LOGIN, password from the environment)")
            else:
                cursor.execute(f"CREATE ROLE {q(app_role)} LOGIN")
                done.append(
                    f"created role {app_role} (LOGIN, no password: set one with "
                    f"ALTER ROLE {app_role} PASSWORD ...)"
                )
        elif app[0]:
            raise ApplicationError(
                f"Role {app_role!r} is a superuser: privileges do not bind it. The application "
                "must connect as a role without superuser."
            )
        else:
            done.append(f"role {app_role} exists")
        if _fetch_one(cursor, "SELECT pg_has_role(%s, %s, 'MEMBER')", [app_role, owner_role])[0]:
            cursor.execute(f"REVOKE {q(owner_role)} FROM {q(app_role)}")
            done.append(f"role {app_role} was a member of {owner_role}: membership revoked")

        table_owner = _fetch_one(
            cursor,
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass",
            [TABLE],
        )[0]
        if table_owner != owner_role:
            cursor.execute(f"ALTER TABLE {q(TABLE)} OWNER TO {q(owner_role)}")
            done.append(f"table {TABLE}: owner {table_owner} -> {owner_role}")
        else:
            done.append(f"table {TABLE}: owned by {owner_role}")
        if _fetch_one(cursor, "SELECT to_regprocedure(%s)", [TRIGGER_FUNCTION])[0] is not None:
            cursor.execute(f"ALTER FUNCTION {TRIGGER_FUNCTION} OWNER TO {q(owner_role)}")
            done.append(f"trigger function {TRIGGER_FUNCTION}: owned by {owner_role}")

        cursor.execute(f"REVOKE ALL ON TABLE {q(TABLE)} FROM PUBLIC, {q(app_role)}")
        cursor.execute(f"GRANT SELECT, INSERT ON TABLE {q(TABLE)} TO {q(app_role)}")
        done.append(f"table {TABLE}: {app_role} may SELECT and INSERT only")
        sequence = _fetch_one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])[0]
        if sequence:
            cursor.execute(f"REVOKE ALL ON SEQUENCE {sequence} FROM PUBLIC, {q(app_role)}")
            cursor.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {q(app_role)}")
            done.append(f"sequence {sequence}: {app_role} may USAGE (new ids) only")

        schema_owner, schema = _fetch_one(
            cursor,
            "SELECT pg_get_userbyid(n.nspowner), n.nspname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s::regclass",
            [TABLE],
        )
        owns_schema = schema_owner == app_role or (
            schema_owner == "pg_database_owner"
            and _fetch_one(
                cursor,
                "SELECT pg_get_userbyid(datdba) = %s FROM pg_database "
                "WHERE datname = current_database()",
                [app_role],
            )[0]
        )
        if owns_schema:
            done.append(
                f"WARNING: {app_role} owns schema {schema} (or the database that owns it), so it "
                f"could still DROP the audit table: make another role the schema's owner and "
                f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {app_role} (docs/audit.md)"
            )
    return done

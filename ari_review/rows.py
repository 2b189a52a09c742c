"""Single-row reads and writes for the busiest path (a chat turn), without the ORM's per-query
SQL compilation.

Django builds the SQL of every queryset anew, and for one-row statements on wide models that
costs several times the statement itself. These helpers build each statement once per model
(from ``_meta``), and pass every value through the fields' own conversions (``pre_save``,
``get_db_prep_save``, ``get_db_prep_value`` and the read converters), so a row written or read
here is exactly what the ORM would write or read. They work on PostgreSQL and SQLite. Table and
column names come from the models' ``_meta``; values are always passed as parameters.

Unlike ``Model.save()``, they send no ``pre_save``/``post_save`` signals (nothing in this project
listens to them). Use them only where a profile shows the ORM's cost matters; everything else
uses the ORM.

``row_insert_locked`` and ``rows_write`` make a whole small transaction one statement on
PostgreSQL (writable CTEs), so it costs one round trip instead of one per statement plus BEGIN
and COMMIT; on SQLite they run the same steps in a transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model

SUPPORTED_VENDORS = frozenset({"postgresql", "sqlite"})  # they quote names alike
# Per connection (backend converters belong to it) and model: the read converters per field.
_converters_by_connection: WeakKeyDictionary = WeakKeyDictionary()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _checked(connection):
    if connection.vendor not in SUPPORTED_VENDORS:
        raise NotImplementedError(f"ari_review.rows does not support {connection.vendor!r}")
    return connection


@lru_cache(maxsize=128)
def _fields_by_attname(model: type[Model]) -> dict:
    return {field.attname: field for field in model._meta.concrete_fields}


@lru_cache(maxsize=128)
def _insert_fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if field is not model._meta.pk)


def _converters(connection, model: type[Model]) -> list[list]:
    """Per concrete field, the ``(converter, column)`` pairs the ORM applies to a value read
    from ``connection``."""
    per_model = _converters_by_connection.setdefault(connection, {})
    found = per_model.get(model)
    if found is None:
        table = model._meta.db_table
        found = []
        for field in model._meta.concrete_fields:
            column = field.get_col(table)
            converters = (
                *connection.ops.get_db_converters(column),
                *field.get_db_converters(connection),
            )
            found.append([(converter, column) for converter in converters])
        per_model[model] = found
    return found


@lru_cache(maxsize=256)
def _select_sql(model: type[Model], names: tuple[str, ...], lock: bool) -> str:
    fields = _fields_by_attname(model)
    columns = all_columns(model)
    where = " AND ".join(f"{_quote(fields[name].column)} = %s" for name in names)
    sql = f"SELECT {columns} FROM {_quote(model._meta.db_table)} WHERE {where}"  # noqa: S608
    return sql + " FOR UPDATE" if lock else sql


@lru_cache(maxsize=64)
def _insert_sql(model: type[Model], ignore_conflicts: bool) -> str:
    fields = _insert_fields(model)
    columns = ", ".join(_quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = _quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    return f"{sql} RETURNING {_quote(model._meta.pk.column)}"


@lru_cache(maxsize=256)
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    meta = model._meta
    assignments = ", ".join(f"{_quote(meta.get_field(name).column)} = %s" for name in names)
    table, pk = _quote(meta.db_table), _quote(meta.pk.column)
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608


def row_get(
    model: type[Model],
    where: Mapping[str, object],
    *,
    for_update: bool = False,
    using: str = DEFAULT_DB_ALIAS,
):
    """The one ``model`` row whose attributes equal ``where`` (attnames such as ``user_id``),
    or None. ``for_update`` locks it (``SELECT ... FOR UPDATE`` where the database has it;
    inside a transaction only)."""
    connection = _checked(connections[using])
    sql, params = select_statement(model, where, for_update=for_update, using=using)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchmany(2)
    if not rows:
        return None
    if len(rows) > 1:
        raise model.MultipleObjectsReturned(f"row_get matched several {model.__name__} rows")
    return row_from_values(model, rows[0], using=using)


def select_statement(
    model: type[Model],
    where: Mapping[str, object],
    *,
    for_update: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple[str, list]:
    """``row_get``'s SELECT (every concrete column, in ``_meta`` order) and its parameters."""
    connection = _checked(connections[using])
    lock = for_update and connection.features.has_select_for_update
    return _select_sql(model, tuple(where), lock), _lookup_params(model, where, connection)


def _lookup_params(model: type[Model], values: Mapping[str, object], connection) -> list:
    """``values`` (by attname) as parameters of a comparison, as the ORM converts them."""
    fields = _fields_by_attname(model)
    return [
        fields[name].get_db_prep_value(fields[name].get_prep_value(value), connection)
        for name, value in values.items()
    ]


def row_from_values(model: type[Model], values: Sequence, *, using: str = DEFAULT_DB_ALIAS):
    """A ``model`` instance from a row of all its concrete columns in ``_meta`` order (as
    ``select_statement`` and ``all_columns`` list them), read through the ORM's converters."""
    connection = _checked(connections[using])
    values = list(values)
    for index, converters in enumerate(_converters(connection, model)):
        for converter, column in converters:
            values[index] = converter(values[index], column, connection)
    return model.from_db(using, list(_fields_by_attname(model)), values)


@lru_cache(maxsize=128)
def all_columns(model: type[Model]) -> str:
    """Every concrete column of ``model``, quoted, in ``_meta`` order (for RETURNING)."""
    return ", ".join(_quote(field.column) for field in model._meta.concrete_fields)


def quote_column(model: type[Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name``."""
    return _quote(model._meta.get_field(name).column)


def _insert_params(obj: Model, connection) -> list:
    fields = _insert_fields(type(obj))
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def row_insert(
    obj: Model, *, ignore_conflicts: bool = False, using: str = DEFAULT_DB_ALIAS
) -> bool:
    """INSERT ``obj`` (its fields' ``pre_save`` applies, e.g. ``auto_now_add``) and set its
    primary key. With ``ignore_conflicts``, a row that would break a unique constraint is not
    written and False is returned."""
    connection = _checked(connections[using])
    with connection.cursor() as cursor:
        cursor.execute(*insert_statement(obj, ignore_conflicts=ignore_conflicts, using=using))
        row = cursor.fetchone()
    if row is None:
        return False
    mark_stored(obj, row[0], using=using)
    return True


def insert_statement(
    obj: Model, *, ignore_conflicts: bool = False, using: str = DEFAULT_DB_ALIAS
) -> tuple[str, list]:
    """``row_insert``'s INSERT of ``obj`` (``RETURNING`` the primary key) and its parameters
    (``pre_save`` applies now). After running it, pass the key to ``mark_stored``."""
    connection = _checked(connections[using])
    return _insert_sql(type(obj), ignore_conflicts), _insert_params(obj, connection)


def mark_stored(obj: Model, pk, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record that ``obj`` was stored by ``insert_statement`` under primary key ``pk``."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using


def row_update(obj: Model, field_names: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """UPDATE the named fields of ``obj``'s row (like ``save(update_fields=...)``)."""
    if not field_names:
        return
    connection = _checked(connections[using])
    with connection.cursor() as cursor:
        cursor.execute(*update_statement(obj, field_names, using=using))


def update_statement(
    obj: Model, field_names: Sequence[str], *, using: str = DEFAULT_DB_ALIAS
) -> tuple[str, list]:
    """``row_update``'s UPDATE of the named fields of ``obj``'s row and its parameters."""
    connection = _checked(connections[using])
    names = tuple(field_names)
    fields = [obj._meta.get_field(name) for name in names]
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    return _update_sql(type(obj), names), [*params, obj.pk]


def row_insert_locked(
    obj: Model,
    *,
    parent: str,
    parent_where: Mapping[str, object],
    parent_check: Mapping[str, object],
    ignore_conflicts: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> tuple[Model | None, bool]:
    """Lock the row of ``obj``'s foreign key ``parent`` that ``parent_where`` finds and, if its
    attributes equal ``parent_check``, INSERT ``obj`` pointing at it (``ignore_conflicts`` as in
    ``row_insert``), in one transaction.

    Returns ``(the parent row as read under the lock, or None when there is none, whether obj
    was stored)``. On PostgreSQL this is one statement (a writable CTE: outside a transaction
    it commits by itself, one round trip); elsewhere the same steps run in ``atomic()``.
    """
    connection = _checked(connections[using])
    fk = obj._meta.get_field(parent)
    parent_model = fk.related_model
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            found = row_get(parent_model, parent_where, for_update=True, using=using)
            if found is None:
                return None, False
            if any(getattr(found, name) != value for name, value in parent_check.items()):
                return found, False
            setattr(obj, parent, found)
            return found, row_insert(obj, ignore_conflicts=ignore_conflicts, using=using)
    select_sql, where_params = select_statement(
        parent_model, parent_where, for_update=True, using=using
    )
    parent_fields = _fields_by_attname(parent_model)
    check = " AND ".join(f"p.{_quote(parent_fields[name].column)} = %s" for name in parent_check)
    check_params = _lookup_params(parent_model, parent_check, connection)
    fields = _insert_fields(type(obj))
    values, insert_params = [], []
    for field, param in zip(fields, _insert_params(obj, connection), strict=True):
        if field is fk:
            values.append(f"p.{_quote(fk.target_field.column)}")
        else:
            values.append("%s")
            insert_params.append(param)
    pk = _quote(obj._meta.pk.column)
    sql = (
        f"WITH p AS ({select_sql}), c AS (INSERT INTO {_quote(obj._meta.db_table)} "  # noqa: S608
        f"({', '.join(_quote(field.column) for field in fields)}) "
        f"SELECT {', '.join(values)} FROM p WHERE {check}"
        f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''} RETURNING {pk}) "
        f"SELECT p.*, (SELECT {pk} FROM c) FROM p"
    )
    row = _one_statement(connection, sql, [*where_params, *insert_params, *check_params])
    if row is None:
        return None, False
    found = row_from_values(parent_model, row[:-1], using=using)
    if row[-1] is None:
        return found, False
    setattr(obj, parent, found)
    mark_stored(obj, row[-1], using=using)
    return found, True


def rows_write(
    statements: Sequence[tuple[str, list, int]], *, using: str = DEFAULT_DB_ALIAS
) -> list[tuple | None]:
    """Run one-row write statements ``(sql, params, returned)`` in one transaction, in order,
    and return the row each returns (``returned`` columns, the first never NULL, such as the
    primary key; None where it returned nothing, or returns nothing).

    On PostgreSQL they are sent as one statement (writable CTEs), so the transaction is one
    round trip; its parts then all see the database as it was before it, so they must write
    different rows and not read one another's. Elsewhere they run in ``atomic()``.
    """
    connection = _checked(connections[using])
    if connection.vendor != "postgresql":
        results = []
        with transaction.atomic(using=using), connection.cursor() as cursor:
            for sql, params, returned in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchone() if returned else None)
        return results
    parts = ", ".join(f"w{index} AS ({sql})" for index, (sql, _, _) in enumerate(statements))
    joined = [index for index, (_, _, returned) in enumerate(statements) if returned]
    select = ", ".join(f"w{index}.*" for index in joined) or "1"
    joins = "".join(f" LEFT JOIN w{index} ON TRUE" for index in joined)
    params = [param for _, statement_params, _ in statements for param in statement_params]
    sql = f"WITH {parts} SELECT {select} FROM (SELECT 1) AS one{joins}"  # noqa: S608
    row = _one_statement(connection, sql, params)
    results, offset = [], 0
    for _, _, returned in statements:
        part = tuple(row[offset : offset + returned]) if returned else None
        results.append(part if part and part[0] is not None else None)
        offset += returned
    return results


def _one_statement(connection, sql: str, params: list):
    """Run a statement that is a whole transaction and return its first row. Outside a
    transaction it commits by itself; inside one it runs in a savepoint, so that a failure
    leaves the enclosing transaction usable, as ``atomic()`` would."""
    if connection.in_atomic_block:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()

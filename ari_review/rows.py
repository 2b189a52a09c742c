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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
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
    columns = ", ".join(_quote(field.column) for field in model._meta.concrete_fields)
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
    fields = _fields_by_attname(model)
    lock = for_update and connection.features.has_select_for_update
    sql = _select_sql(model, tuple(where), lock)
    params = [
        fields[name].get_db_prep_value(fields[name].get_prep_value(value), connection)
        for name, value in where.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchmany(2)
    if not rows:
        return None
    if len(rows) > 1:
        raise model.MultipleObjectsReturned(f"row_get matched several {model.__name__} rows")
    values = list(rows[0])
    for index, converters in enumerate(_converters(connection, model)):
        for converter, column in converters:
            values[index] = converter(values[index], column, connection)
    return model.from_db(using, list(fields), values)


def _insert_params(obj: Model, connection) -> list:
    fields = _insert_fields(type(obj))
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def insert_columns_and_params(obj: Model, *, using: str = DEFAULT_DB_ALIAS) -> tuple[list, list]:
    """The quoted column names and the parameters that ``row_insert`` would send for ``obj``,
    for a statement of one's own that contains the INSERT."""
    connection = _checked(connections[using])
    columns = [_quote(field.column) for field in _insert_fields(type(obj))]
    return columns, _insert_params(obj, connection)


def row_insert(
    obj: Model, *, ignore_conflicts: bool = False, using: str = DEFAULT_DB_ALIAS
) -> bool:
    """INSERT ``obj`` (its fields' ``pre_save`` applies, e.g. ``auto_now_add``) and set its
    primary key. With ``ignore_conflicts``, a row that would break a unique constraint is not
    written and False is returned."""
    connection = _checked(connections[using])
    sql = _insert_sql(type(obj), ignore_conflicts)
    with connection.cursor() as cursor:
        cursor.execute(sql, _insert_params(obj, connection))
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = using
    return True


def row_update(obj: Model, field_names: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """UPDATE the named fields of ``obj``'s row (like ``save(update_fields=...)``)."""
    if not field_names:
        return
    connection = _checked(connections[using])
    names = tuple(field_names)
    sql = _update_sql(type(obj), names)
    fields = [obj._meta.get_field(name) for name in names]
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])

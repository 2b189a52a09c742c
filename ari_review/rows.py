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

import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

_converters_local = threading.local()


@lru_cache(maxsize=128)
def _fields_by_attname(model: type[Model]) -> dict:
    return {field.attname: field for field in model._meta.concrete_fields}


def _converters(connection, model: type[Model]) -> list[list]:
    """Per concrete field, ``(converter, column)`` pairs the ORM applies to a value read from
    ``connection`` (built once per connection, since backend converters belong to it)."""
    cache = getattr(_converters_local, "cache", None)
    if cache is None:
        cache = _converters_local.cache = {}
    found = cache.get((id(connection), model))
    if found is None or found[0] is not connection:
        table = model._meta.db_table
        per_field = []
        for field in model._meta.concrete_fields:
            column = field.get_col(table)
            converters = (
                *connection.ops.get_db_converters(column),
                *field.get_db_converters(connection),
            )
            per_field.append([(converter, column) for converter in converters])
        found = cache[(id(connection), model)] = (connection, per_field)
    return found[1]


@lru_cache(maxsize=256)
def _select_sql(model: type[Model], vendor: str, names: tuple[str, ...], lock: bool) -> str:
    quote = _quote_for(vendor)
    fields = _fields_by_attname(model)
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    where = " AND ".join(f"{quote(fields[name].column)} = %s" for name in names)
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {where}"  # noqa: S608
    return sql + " FOR UPDATE" if lock else sql


@lru_cache(maxsize=64)
def _insert_sql(model: type[Model], vendor: str, ignore_conflicts: bool) -> str:
    quote = _quote_for(vendor)
    meta = model._meta
    columns = ", ".join(quote(field.column) for field in _insert_fields(model))
    placeholders = ", ".join(["%s"] * len(_insert_fields(model)))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    return f"{sql} RETURNING {quote(meta.pk.column)}"


@lru_cache(maxsize=128)
def _insert_fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if field is not model._meta.pk)


@lru_cache(maxsize=256)
def _update_sql(model: type[Model], vendor: str, names: tuple[str, ...]) -> str:
    quote = _quote_for(vendor)
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608


def _quote_for(vendor: str):
    def quote(name: str) -> str:
        # PostgreSQL and SQLite (the two databases this project supports) quote alike.
        if vendor not in {"postgresql", "sqlite"}:
            raise NotImplementedError(f"ari_review.rows does not support {vendor!r}")
        return '"' + name.replace('"', '""') + '"'

    return quote


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
    connection = connections[using]
    fields = _fields_by_attname(model)
    lock = for_update and connection.features.has_select_for_update
    sql = _select_sql(model, connection.vendor, tuple(where), lock)
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


def row_insert(obj: Model, *, ignore_conflicts: bool = False, using: str = DEFAULT_DB_ALIAS):
    """INSERT ``obj`` (its fields' ``pre_save`` applies, e.g. ``auto_now_add``) and set its
    primary key. With ``ignore_conflicts``, a row that would break a unique constraint is not
    written and False is returned."""
    connection = connections[using]
    model = type(obj)
    sql = _insert_sql(model, connection.vendor, ignore_conflicts)
    fields = _insert_fields(model)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
    connection = connections[using]
    names = tuple(field_names)
    sql = _update_sql(type(obj), connection.vendor, names)
    fields = [obj._meta.get_field(name) for name in names]
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])

"""Bulk row writes for the ingestion engine: PostgreSQL COPY, with an ORM fallback.

The ORM's ``bulk_create``/``bulk_update`` cost far more than the database work
itself on the ingestion path (model instances, per-value preparation, client-side
quoting of array parameters, ``CASE WHEN`` per row and field), so rows are
written as plain dicts of column values:

- ``rows_insert``: ``COPY … FROM STDIN``; ids, when the caller needs them, are
  taken from the table's sequence first (``nextval``), so no ``RETURNING`` is needed.
- ``rows_update``: ``COPY`` into a temporary table, then one ``UPDATE … FROM`` it.
- ``rows_delete``: one ``DELETE … WHERE column = ANY(…)``.

Rows use attribute names (``case_id``), values as Python objects (``str``,
``int``, ``Decimal``, aware ``datetime``, ``date``, ``None``; JSON as ``dict``).
On another database (SQLite for ``make run`` without PostgreSQL) the same calls
go through the ORM. Constraint violations surface as ``IntegrityError`` either way.
"""

import hashlib
import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField, Model
from django.db.models.base import ModelState
from django.db.utils import IntegrityError

# Tests switch this off to exercise the ORM path on PostgreSQL too.
USE_COPY = True
# Below this many rows a multi-row INSERT beats COPY (fewer round trips).
COPY_FROM_ROWS = 50

_sequences: dict[str, str] = {}


def _fast() -> bool:
    return USE_COPY and connection.vendor == "postgresql"


def _columns(model: type[Model], names: Sequence[str]) -> list:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [fields[name] for name in names]


def _value(field, value):
    if isinstance(field, JSONField) and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


def instance_build(model: type[Model], row: dict) -> Model:
    """A model instance for a row just written, without ``Model.__init__``'s cost.

    ``row`` must hold every concrete field by attribute name (as ``from_db`` would).
    """
    instance = model.__new__(model)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = connection.alias
    instance.__dict__.update(row)
    return instance


def ids_allocate(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys from the table's own sequence."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        sequence = _sequences.get(table)
        if sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
            sequence = _sequences[table] = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return [row[0] for row in cursor.fetchall()]


def rows_insert(model: type[Model], rows: list[dict], *, with_ids: bool = False) -> None:
    """Insert rows; with ``with_ids`` each row gets its new primary key as ``row["id"]``."""
    if not rows:
        return
    if not _fast():
        objects = model.objects.bulk_create([model(**row) for row in rows])
        if with_ids:
            for row, obj in zip(rows, objects, strict=True):
                row["id"] = obj.pk
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if len(rows) < COPY_FROM_ROWS:
        # A few rows: one INSERT … RETURNING is one round trip instead of two or three.
        fields = _columns(model, list(rows[0]))
        columns = ", ".join(quote(f.column) for f in fields)
        one = (
            "(" + ", ".join("%s::jsonb" if isinstance(f, JSONField) else "%s" for f in fields) + ")"
        )
        returning = f" RETURNING {quote(model._meta.pk.column)}" if with_ids else ""
        params = [_value(f, row[f.attname]) for row in rows for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(rows))}{returning}",  # noqa: S608 - quoted identifiers
                params,
            )
            if with_ids:
                # PostgreSQL returns the rows of a multi-row VALUES insert in order.
                for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                    row["id"] = pk
        return
    if with_ids:
        for row, pk in zip(rows, ids_allocate(model, len(rows)), strict=True):
            row["id"] = pk
    names = list(rows[0])
    fields = _columns(model, names)
    columns = ", ".join(quote(f.column) for f in fields)
    # COPY goes to psycopg directly; the wrapper turns its errors into Django's (IntegrityError).
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([_value(f, row[f.attname]) for f in fields])


def rows_update(model: type[Model], rows: list[dict], names: Sequence[str]) -> None:
    """Set ``names`` of each row (by ``row["id"]``) to the row's values."""
    if not rows:
        return
    if not _fast():
        objects = []
        for row in rows:
            obj = model(pk=row["id"])
            for name in names:
                setattr(obj, name, row[name])
            objects.append(obj)
        model.objects.bulk_update(objects, list(names))
        return
    fields = _columns(model, ["id", *names])
    quote = connection.ops.quote_name
    table = model._meta.db_table
    # One temporary table per (table, column set), kept for the session and emptied per use.
    digest = hashlib.sha256(",".join(f.column for f in fields).encode()).hexdigest()[:10]
    temporary = quote(f"_bulk_{table}_{digest}")
    column_list = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {temporary} AS "  # noqa: S608 - quoted identifiers
            f"SELECT {column_list} FROM {quote(table)} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {temporary}")
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {temporary} ({column_list}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([_value(f, row[f.attname]) for f in fields])
        assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields[1:])
        cursor.execute(
            f"UPDATE {quote(table)} AS t SET {assignments} "  # noqa: S608 - quoted identifiers
            f"FROM {temporary} AS v WHERE t.id = v.id"
        )


def rows_delete(model: type[Model], name: str, values: Sequence) -> None:
    """Delete the rows whose ``name`` (attribute name) is one of ``values`` (no cascade)."""
    if not values:
        return
    if not _fast():
        model.objects.filter(**{f"{name}__in": list(values)}).delete()
        return
    field = _columns(model, [name])[0]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(field.column)} = ANY(%s)",  # noqa: S608
            [list(values)],
        )


__all__ = [
    "IntegrityError",
    "ids_allocate",
    "instance_build",
    "rows_delete",
    "rows_insert",
    "rows_update",
]

"""Model instances from hand-written SQL, for the few queries run on every API request.

Through the ORM, a one-row lookup such as ``ApiKey.objects.select_related(...).filter(prefix=...).first()`` costs
about 2 ms of CPU on this project's machines, nine tenths of it compiling the query; the same SELECT written out
costs 0.2 ms. The declaration endpoint makes several such lookups per request, so its hot path writes them by
hand and turns the rows back into model instances here, with the same converters the ORM applies (JSON text,
SQLite booleans and datetimes, ...), so that callers get exactly the instances ``.first()`` would give.

Column lists come from the models' own metadata, so a new field is read without touching the SQL; the SQL
itself stays portable (plain joins and ``WHERE``), and runs on PostgreSQL and on SQLite alike.
"""

from __future__ import annotations

from functools import cache

from django.db import connections
from django.db.models import Model


def select_columns(model: type[Model], alias: str) -> str:
    """``alias."col1", alias."col2", ...`` for every concrete field of ``model``, in field order."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many columns :func:`select_columns` selects for ``model``."""
    return len(model._meta.concrete_fields)


@cache
def _converters(model: type[Model], alias: str) -> tuple:
    connection = connections[alias]
    table = model._meta.db_table
    result = []
    for field in model._meta.concrete_fields:
        column = field.get_col(table)
        funcs = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        result.append((column, tuple(funcs)))
    pk_index = next(i for i, field in enumerate(model._meta.concrete_fields) if field.primary_key)
    return pk_index, tuple(result)


def instance(model: type[Model], row, start: int = 0, *, using: str = "default"):
    """The ``model`` instance from ``row[start:start + width(model)]`` (as selected by :func:`select_columns`),
    or ``None`` when its primary key is NULL (the unmatched side of a LEFT JOIN)."""
    connection = connections[using]
    pk_index, converters = _converters(model, using)
    if row[start + pk_index] is None:
        return None
    values = []
    for offset, (column, funcs) in enumerate(converters):
        value = row[start + offset]
        for func in funcs:
            value = func(value, column, connection)
        values.append(value)
    return model.from_db(using, None, values)


def attach(obj: Model, field_name: str, related: Model | None) -> None:
    """Set ``obj.<field_name>`` to ``related`` without a query, as ``select_related`` does."""
    obj._meta.get_field(field_name).set_cached_value(obj, related)

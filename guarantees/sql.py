"""Model instances from hand-written SQL, for the few queries run on every API request.

Through the ORM, a one-row lookup such as ``ApiKey.objects.select_related(...).filter(prefix=...).first()`` costs
about 2 ms of CPU on this project's machines, nine tenths of it compiling the query; the same SELECT written out
costs 0.2 ms. The declaration endpoint makes several such lookups per request, so its hot path writes them by
hand and turns the rows back into model instances here, with the same converters the ORM applies (JSON text,
SQLite booleans and datetimes, ...), so that callers get exactly the instances ``.first()`` would give.

Column lists come from the models' own metadata, so a new field is read without touching the SQL; the SQL
itself stays portable (plain joins and ``WHERE``), and runs on PostgreSQL and on SQLite alike.

A release task (``discharge_bulk.transit_events_apply_queued``: the stored events, the locked transits,
guarantees and holds, the writes) runs its fixed-shape statements here too: one per discharge received.

``hot_cursor`` runs these statements on PostgreSQL as prepared statements (parameters sent apart, the plan
kept by the server for the connection's life): in ``benchmark api`` that takes the database's CPU per
declaration from 6.1 to 3.4 ms. Django prepares nothing by default, because prepared statements break behind
a pooler in transaction mode (PgBouncer before 1.21); ``DB_PREPARED_STATEMENTS=0`` turns them off there.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model


def hand_written_sql(conn=None) -> bool:
    """Whether the hot paths (``hold_reserve``, ``transit_declare``'s write, a release task's reads and locks)
    take their hand-written PostgreSQL statements: on PostgreSQL unless ``REGISTRY_HAND_WRITTEN_SQL`` is off;
    elsewhere always the ORM's."""
    conn = conn if conn is not None else connections[DEFAULT_DB_ALIAS]
    return conn.vendor == "postgresql" and bool(getattr(settings, "REGISTRY_HAND_WRITTEN_SQL", True))


@cache
def select_columns(model: type[Model], alias: str) -> str:
    """``alias."col1", alias."col2", ...`` for every concrete field of ``model``, in field order."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@cache
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


def convert(model: type[Model], field_name: str, value, *, using: str = "default"):
    """One column's value as the ORM would give it (an aware datetime on SQLite too, where the driver returns
    text or a naive datetime)."""
    if value is None:
        return None
    connection = connections[using]
    column = model._meta.get_field(field_name).get_col(model._meta.db_table)
    for func in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
        value = func(value, column, connection)
    return value


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


@cache
def insert_sql(model: type[Model]) -> str:
    """``INSERT INTO <table> (<every column but the automatic key>) VALUES (%s, ...)`` for ``model``, the values
    to come from :func:`insert_params`."""
    fields = _insert_fields(model)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    return f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"


@cache
def _insert_fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


def insert_params(obj: Model) -> list:
    """The values of :func:`insert_sql` for the new instance ``obj``, as the ORM's INSERT computes them
    (``pre_save``, which fills ``auto_now_add``, then ``get_db_prep_save``)."""
    conn = connections[DEFAULT_DB_ALIAS]
    return [field.get_db_prep_save(field.pre_save(obj, add=True), conn) for field in _insert_fields(type(obj))]


def mark_inserted(obj: Model, pk) -> Model:
    """Make ``obj`` what ``save()`` leaves behind once its row is inserted under ``pk``."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
    return obj


def insert(obj: Model) -> Model:
    """Insert the new instance ``obj`` with an automatic primary key, as ``obj.save(force_insert=True)`` would
    (every column, the ORM's values, signals aside), in one statement on :func:`hot_cursor`; sets its primary
    key. Constraint violations raise ``django.db.IntegrityError`` as usual."""
    with hot_cursor() as cursor:
        cursor.execute(f'{insert_sql(type(obj))} RETURNING "{obj._meta.pk.column}"', insert_params(obj))
        return mark_inserted(obj, cursor.fetchone()[0])


def attach(obj: Model, field_name: str, related: Model | None) -> None:
    """Set ``obj.<field_name>`` to ``related`` without a query, as ``select_related`` does."""
    obj._meta.get_field(field_name).set_cached_value(obj, related)


def _preparing_cursor_class():
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        """psycopg's server-side binding cursor, preparing every statement it runs."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)

    return PreparingCursor


@contextmanager
def hot_cursor():
    """A cursor of the default connection for the statements of the busiest requests: on PostgreSQL they are
    prepared (unless ``DB_PREPARED_STATEMENTS`` is off); elsewhere it is ``connection.cursor()``. Either way
    it is wrapped as Django wraps its own (errors turned into ``django.db`` errors, queries logged in DEBUG and
    in tests), and it joins the connection's current transaction."""
    conn = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: every attribute of the proxy is a lookup
    if conn.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with conn.cursor() as cursor:
            yield cursor
        return
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off (None), which makes psycopg ignore prepare=True too. A threshold no
        # statement reaches prepares only what asks to be: these statements (Django's cursors never ask).
        raw.prepare_threshold = _NEVER
    conn.validate_thread_sharing()
    with conn.wrap_database_errors:
        raw_cursor = _PREPARING_CURSOR(raw)
    wrapper = _LoggedCursor if conn.queries_logged else CursorWrapper
    with wrapper(raw_cursor, conn) as cursor:
        yield cursor


_NEVER = 2**62


class _LoggedCursor(CursorDebugWrapper):
    """Logs the statement as written (Django reads the sent text back from psycopg, which keeps none for a
    prepared statement)."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params, use_last_executed_query=False):
            return super(CursorDebugWrapper, self).execute(sql, params)


_PREPARING_CURSOR = _preparing_cursor_class()  # psycopg is a dependency: always there, used on PostgreSQL only

"""The queries every public page runs, prepared once per database connection on PostgreSQL.

Planning such a query costs the database more than running it: the kept case
page's took 0.5 ms sent as text and 0.18 ms prepared (public.rendering). The
ORM binds parameters in the client, so each value makes another text and
nothing can be prepared, and Django leaves psycopg's own preparation off
(``prepare_threshold``) so that connection poolers work. The few queries of
every page go through :func:`prepared_cursor` instead: their parameters are
sent apart and the statement is prepared on the connection the first time.
``DATABASE_PREPARED_STATEMENTS=0`` turns this off for a pooler that cannot
keep prepared statements (PgBouncer before 1.21 in transaction mode); SQLite
has nothing to prepare.

Such a query is also the connection's health check (:func:`first_row`):
Django's (``CONN_HEALTH_CHECKS``) sends ``SELECT 1`` before the first query
of each request, a round trip as long as the kept case page's whole read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, router
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor  # type: ignore[attr-defined]
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from psycopg.pq import Format


class _PreparedCursor(ServerBindingCursor):
    """psycopg's cursor binding on the server, each statement prepared."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        result = super().execute(query, params, prepare=True, binary=binary)
        # What Django's log of the queries (DEBUG, the tests' query counts) shows of it: psycopg keeps nothing of a
        # statement it sends by its prepared name.
        self._query = _Sent(query.encode() if isinstance(query, str) else query)
        return result


class _Sent:
    """A prepared statement's text, where Django's log reads a query's text (``cursor._query.query``)."""

    __slots__ = ("query",)

    def __init__(self, query: bytes) -> None:
        self.query = query


@contextmanager
def prepared_cursor(model: type[Model]) -> Iterator[CursorWrapper]:
    """A cursor whose statements are prepared (module docstring), on the database the routers read ``model``
    from. Django's wrapper all the same: the connection's health check, its errors and the queries' log (the
    query budgets' tests) are as for any query."""
    connection = connections[router.db_for_read(model)]
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _PreparedCursor(connection.connection)
        # As Django's own cursors (DatabaseWrapper.create_cursor): times in the connection's time zone.
        if connection.timezone != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(connection.timezone, raw)
        # Wrapped as BaseDatabaseWrapper.cursor() wraps its own.
        cursor = connection._prepare_cursor(raw)  # type: ignore[attr-defined]
    with cursor:
        yield cursor


def filled(params: Sequence, values: dict) -> list:
    """A query's parameters, compiled once with placeholders (the keys of ``values``: values no real query
    has), each placeholder replaced by its value for this reading."""
    return [values.get(param, param) for param in params]


def first_row(model: type[Model], sql: str, params: Sequence) -> tuple | None:
    """The first row of a prepared read (:func:`prepared_cursor`), which is also the connection's health check.

    When the request's first query would be preceded by Django's health check
    (``CONN_HEALTH_CHECKS``: ``SELECT 1``), this read is sent instead; if the
    connection turns out to be one the server has dropped, it is opened again
    and the read sent once more, as Django's check would have done. Only
    outside a transaction, where a read that failed has changed nothing.
    """
    connection: Any = connections[router.db_for_read(model)]  # health_check_*: Django's, not in its stubs
    checks = (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    )
    if checks:
        connection.health_check_done = True
    try:
        return _read_first(model, sql, params)
    except (OperationalError, InterfaceError):
        if not checks:
            raise
        connection.close()
        return _read_first(model, sql, params)


def rows(queryset: QuerySet) -> list[tuple]:
    """The rows of ``queryset`` (a ``values_list``) as the database gives them, without the ORM's converters,
    read as a prepared statement (:func:`prepared_cursor`): for a query whose planning costs more than its
    answer, such as the name search's (``cases.search``)."""
    sql, params = queryset.query.sql_with_params()
    with prepared_cursor(queryset.model) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _read_first(model: type[Model], sql: str, params: Sequence) -> tuple | None:
    with prepared_cursor(model) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()

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
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, router
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor  # type: ignore[attr-defined]
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
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

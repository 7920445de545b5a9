"""Public pages read from a PostgreSQL read replica (DATABASE_REPLICA_URL), never at the price of a redaction.

Where each query goes:

* every write, and every read of any request but an anonymous GET or HEAD of
  a public page, goes to the primary: staff pages, sign-in, /healthz, and a
  signed-in person reading the public site (who must see the change they
  have just made);
* the publication generation (workflow.PublicGeneration) is always read on
  the primary: the public pages' cache keys and ETags are the primary's
  number (public.caching);
* an anonymous GET or HEAD of a public page reads from the replica only once
  it has read the primary's generation, and only if the replica has replayed
  it. At the request's first read bound for the replica, one query reads the
  replica's generation row and compares it with the primary's. Every change
  to what the public sees (publication, withdrawal, redaction) raises the
  generation in the transaction that makes it, so a replica at the primary's
  number holds every redaction and withdrawal the page is keyed under; a
  replica behind it (lag, or its replay paused) is not read by that request at
  all. A request that never reads the generation (the /data/ pages) stays on
  the primary: checking would cost more than its few rows;
* a replica that fails (unreachable, or a query cancelled by its replay) is
  left alone for RESTING_SECONDS, with one warning per distinct error; the
  request is answered from the primary (the view computed again when the
  failure came in the middle of it), never with a server error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from public.caching import generation_read
from workflow.models import PublicGeneration

REPLICA = "replica"
ROUTER = "casetracker.routers.ReplicaRouter"
# After a failure the replica is not asked again for this long: an unreachable one would otherwise cost
# every reader its connection timeout.
RESTING_SECONDS = 10.0

logger = logging.getLogger(__name__)


@dataclass
class PublicRead:
    """An anonymous GET or HEAD of a public page: the view, to compute it again on the primary, and where it reads
    (decided at its first read)."""

    request: HttpRequest
    view: Callable[..., HttpResponseBase]
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    database: str | None = None


# Set for the request being answered (and the streamed response it returns), None otherwise.
_public_read: ContextVar[PublicRead | None] = ContextVar("public_read", default=None)


class _Health:
    """The replica's last failure, shared by the requests of a process."""

    resting_until = 0.0
    last_error = ""


def replica_generation() -> int:
    """The publication generation the replica has replayed: one query, on the replica."""
    return PublicGeneration.objects.using(REPLICA).filter(pk=1).values_list("generation", flat=True).first() or 0


def replica_failed(error: Exception) -> None:
    _Health.resting_until = time.monotonic() + RESTING_SECONDS
    described = f"{type(error).__name__}: {error}".strip()
    if described != _Health.last_error:
        _Health.last_error = described
        logger.warning("Read replica unavailable, public pages read from the primary: %s", described)


def _caught_up(request: HttpRequest) -> str:
    """The replica if it has replayed the generation this request's page is keyed under, else the primary."""
    known = generation_read(request)
    if known is None or time.monotonic() < _Health.resting_until:
        return DEFAULT_DB_ALIAS
    try:
        replayed = replica_generation()
    except DatabaseError as error:
        replica_failed(error)
        return DEFAULT_DB_ALIAS
    if _Health.last_error:
        _Health.last_error = ""
        logger.info("Read replica answers again.")
    return REPLICA if replayed >= known[0] else DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Reads of a public request to the replica once it has caught up (module docstring); all else to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        read = _public_read.get()
        # The generation is what the replica is compared with; a session is never read from a copy that lags.
        if read is None or model is PublicGeneration or model._meta.app_label == "sessions":  # type: ignore[attr-defined]
            return DEFAULT_DB_ALIAS
        if read.database is None:
            read.database = _caught_up(read.request)
        return read.database

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def _streamed(read: PublicRead, content: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed response (the CSV exports) reads while it is sent, after the middleware has returned: where its
    request reads."""
    _public_read.set(read)
    try:
        yield from content
    finally:
        _public_read.set(None)


class PublicReadsMiddleware:
    """Marks the requests that may read from the replica: an anonymous GET or HEAD of a public page.

    Not used unless ReplicaRouter is (DATABASE_REPLICA_URL set): without a replica it costs nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if ROUTER not in settings.DATABASE_ROUTERS:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        _public_read.set(None)  # whatever an earlier request on this thread left
        try:
            response = self.get_response(request)
        finally:
            read = _public_read.get()
            _public_read.set(None)
        if read is not None and read.database != DEFAULT_DB_ALIAS and response.streaming:
            response.streaming_content = _streamed(read, response.streaming_content)  # type: ignore[attr-defined]
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponseBase], args: tuple, kwargs: dict[str, Any]
    ) -> None:
        match = request.resolver_match
        user = getattr(request, "user", None)
        if (
            request.method in ("GET", "HEAD")
            and match is not None
            and match.app_name == "public"
            and match.url_name != "healthz"
            and user is not None
            and not user.is_authenticated
        ):
            _public_read.set(PublicRead(request, view, args, kwargs))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        """A replica failing in the middle of a page (a query cancelled by its replay, a lost connection): the page
        is computed again on the primary."""
        read = _public_read.get()
        if (
            read is None
            or read.database != REPLICA
            or not isinstance(exception, DatabaseError)
            or not connections[REPLICA].errors_occurred
        ):
            return None
        replica_failed(exception)
        read.database = DEFAULT_DB_ALIAS
        with transaction.atomic(using=DEFAULT_DB_ALIAS):  # as ATOMIC_REQUESTS had it
            return read.view(request, *read.args, **read.kwargs)

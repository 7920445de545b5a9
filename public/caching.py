"""Caching on the public site, keyed by what the public may see (workflow.PublicGeneration).

Four layers, all safe for a redaction:

* in the server, whole public pages (what the public sees is the same for
  everyone: a page depends only on its address) are kept in the ``pages``
  cache under the current generation, so a case in the news is rendered once
  per change, not once per reader; and counts and search results that cost
  more than the page itself (the list's facet counts, its page count, a
  name search) are kept in the same way for the pages not yet cached. A
  publication, a withdrawal or a redaction raises the generation, so the
  next request computes everything again and nothing stale is served;
* for proxies and browsers, the public pages carry an ``ETag`` (the
  generation, the day and the deployment, public.build) and
  ``Last-Modified`` (the last change), with ``Cache-Control: public, max-age=PUBLIC_CACHE_SECONDS``
  (0 by default, with ``no-cache``: a proxy keeps the page but asks each
  time, and gets a ``304 Not Modified`` for the price of one query until the
  data changes). A longer max-age absorbs a bigger spike at the price of
  serving a redacted page for up to that many seconds: the README says so;
* under them all, in the database, each current case page is kept with its
  version (public.rendering), so a page nobody has just read, on any server,
  costs one query (with the generation); a change drops it in the
  transaction that makes it. Being one read already, a case page is not kept
  in the ``pages`` cache besides (``public_page(whole_page=False)``).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.http import condition

from workflow.models import PublicGeneration

from .build import build_id

# A restart (every deployment) changes Last-Modified, and a deployment the ETags: new templates are never hidden
# behind a 304.
_STARTED_AT = datetime.datetime.fromtimestamp(int(time.time()), tz=datetime.UTC)
# Seconds an entry is kept at most; a new generation makes it unused sooner.
TIMEOUT = 3600
# The headers a view sets that a page kept in the cache is served with too (the API's pages, a file's name).
KEPT_HEADERS = ("Link", "Content-Disposition")

T = TypeVar("T")
logger = logging.getLogger(__name__)
_MISSING = object()


def generation(request: HttpRequest) -> tuple[int, datetime.datetime | None]:
    """The public data's generation for this request, read once."""
    if not hasattr(request, "_public_generation"):
        request._public_generation = PublicGeneration.current()  # type: ignore[attr-defined]
    return request._public_generation  # type: ignore[attr-defined]


def remember_generation(request: HttpRequest, value: tuple[int, datetime.datetime | None]) -> None:
    """The generation as a view read it with its own first query (public.rendering.read_kept_page)."""
    request._public_generation = value  # type: ignore[attr-defined]


def generation_read(request: HttpRequest) -> tuple[int, datetime.datetime | None] | None:
    """The generation if this request has already read it, else None (casetracker.routers compares the
    replica's with it, and leaves on the primary a request that has not read it)."""
    return getattr(request, "_public_generation", None)


def _or_without_cache(operation: Callable[[], T], fallback: T) -> T:
    """``operation()`` on a cache, or ``fallback`` if the cache fails (a shared cache down or unreachable, see
    CACHE_URL): the page is then computed as if nothing were kept, never a server error."""
    try:
        return operation()
    except Exception as error:  # each backend raises its own errors (Redis: ConnectionError, TimeoutError, …)
        logger.warning("Cache unavailable, public page computed without it: %r", error)
        return fallback


def cached(request: HttpRequest, kind: str, key: str, compute: Callable[[], T], *, store: str = "default") -> T:
    """``compute()``, or what it gave for the same ``kind`` and ``key`` in this generation; kept in the cache
    ``store`` (``pages`` for what is as large as a page, bounded by ``PUBLIC_PAGE_CACHE_ENTRIES``)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    name = f"public:{kind}:{generation(request)[0]}:{digest}"
    kept = _or_without_cache(lambda: caches[store].get(name, _MISSING), _MISSING)
    if kept is not _MISSING:
        return kept  # type: ignore[return-value]
    value = compute()
    _or_without_cache(lambda: caches[store].set(name, value, TIMEOUT), None)
    return value


def _etag(request: HttpRequest, *args, **kwargs) -> str:
    # The deployment (public.build), not the process: every server and worker gives a page the same ETag.
    return f'"{generation(request)[0]}-{timezone.localdate().isoformat()}-{build_id()}"'


def _last_modified(request: HttpRequest, *args, **kwargs) -> datetime.datetime:
    changed_at = generation(request)[1]
    return max(changed_at, _STARTED_AT) if changed_at else _STARTED_AT


def _rendered_once(view):
    """The view's 200 responses, kept per address for the current generation (streamed ones are not kept)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        # The day too: a timeline is drawn up to today, and the year filters stop at this year.
        digest = hashlib.sha256(f"{get_language()} {timezone.localdate()} {address}".encode()).hexdigest()[:32]
        key = f"public:page:{generation(request)[0]}:{digest}"
        kept = _or_without_cache(lambda: caches["pages"].get(key), None)
        if kept is not None:
            content, content_type, *headers = kept  # entries kept before the headers were have none
            response = HttpResponse(content, content_type=content_type)
            for name, value in (headers[0] if headers else {}).items():
                response[name] = value
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            entry = (response.content, response["Content-Type"], headers)
            _or_without_cache(lambda: caches["pages"].set(key, entry, TIMEOUT), None)
        return response

    return wrapper


def public_page(view=None, *, whole_page: bool = True):
    """A public page rendered once per change and that proxies may keep and revalidate (module docstring).

    ``whole_page=False`` leaves the page out of the ``pages`` cache, for a view
    that reads its page whole in one query anyway (the kept case pages).

    A public page only reads, and each of its queries sees what is committed
    when it runs (PostgreSQL's READ COMMITTED): it opens no transaction of its
    own (ATOMIC_REQUESTS), which would cost two more round trips to the
    database and, on SQLite, wait for a writer. What keeps a page from showing
    half a change is the generation: a page computed while a change was under
    way is kept under the old number, which no reader asks for once the change
    has committed.
    """
    if view is None:
        return lambda view: public_page(view, whole_page=whole_page)
    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(
        _rendered_once(view) if whole_page else view
    )

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        if response.status_code in (200, 304):
            seconds = settings.PUBLIC_CACHE_SECONDS
            patch_cache_control(response, public=True, max_age=seconds, **({"no_cache": True} if not seconds else {}))
        return response

    return transaction.non_atomic_requests(wrapper)

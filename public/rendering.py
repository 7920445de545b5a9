"""Case pages rendered once and kept with their version (workflow.PublishedRendering).

A published version changes only by a redaction, so the page of a current
version (``/cases/<case_id>/`` in each language) is the same for every reader
until then: it is rendered once, when the version is published or by its first
reader, and each later reader costs one indexed read, on any server or worker.
What the page shows is decided where it always is: it is the public template's
rendering of the version's record (workflow.snapshots), and

* a redaction, a withdrawal, a new version, or a change to a facility its map
  draws drops the kept page in the transaction that makes the change
  (PublicGeneration.advance), so it takes effect at once;
* a page rendered while such a change was under way is not kept
  (PublishedRendering.keep);
* a page rendered by another deployment (code, templates, translations,
  settings: public.build) is rendered anew;
* a kept page holds neither the site's address nor the day it is read: they are
  written in when it is served, so it is the same for every host and every day.

Pages are rendered for nobody in particular (no session, no account, no query),
so a kept page never holds anything about who first asked for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache, wraps

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape

from workflow.models import PublicGeneration, PublishedRendering, PublishedVersion
from workflow.prepared import filled, first_row

from .build import build_id
from .caching import generation, remember_generation
from .facilities import case_map
from .presenters import CasePage, active_language, cite_as
from .queries import current_case

logger = logging.getLogger(__name__)

# What stands in a kept page for the address of the site it is served from, and for the day it is read.
ORIGIN = "https://kept-page.invalid"
ACCESSED = "\ue000accessed\ue000"
# Versions read at once by keep_pages.
BATCH = 200
# Open Graph names a language with its territory (ll_TT). The English pages write British English.
OG_LOCALES = {"en": "en_GB", "ko": "ko_KR", "ja": "ja_JP"}


def case_context(request: HttpRequest, version: PublishedVersion, *, accessed: str | None = None) -> dict:
    """What the case page's template shows of ``version`` (the current page and a version's own page)."""
    page = CasePage(version)
    url = request.build_absolute_uri(reverse("public:case_version", args=[version.case_id, version.number]))
    versions = PublishedVersion.objects.public().filter(case_id=version.case_id).order_by("-number")
    return {
        "case": page,
        "version": version,
        "versions": versions.only("case_id", "number", "published_at", "is_current"),
        "cite_as": cite_as(page, url, accessed=accessed),
        "permalink": url,
        "og_locale": og_locales(),
        "case_map": case_map(page),
    }


def og_locales() -> dict:
    current = active_language()
    return {
        "current": OG_LOCALES.get(current, current),
        "alternates": [OG_LOCALES.get(code, code) for code, _name in settings.LANGUAGES if code != current],
    }


def reads_kept_page(view):
    """A case page's view whose first read is :func:`read_kept_page`: the public data's generation (its ETag, and
    the cache's key) and the kept page come in one statement, so a page nobody has just read costs one query."""

    @wraps(view)
    def wrapper(request: HttpRequest, case_id: str, *args, **kwargs) -> HttpResponse:
        read_kept_page(request, case_id)
        return view(request, case_id, *args, **kwargs)

    return wrapper


def read_kept_page(request: HttpRequest, case_id: str) -> str | None:
    """The kept page of the current version of ``case_id`` in the request's language (None: none kept by this
    build), read once per request with the generation (public.caching.generation)."""
    if not hasattr(request, "_kept_case_page"):
        language = active_language()
        sql, params = _kept_page_query()
        values = {_CASE: case_id, _LANGUAGE: language, _BUILD: build_id()}
        # Where the generation is read: the primary.
        row = first_row(PublicGeneration, sql, filled(params, values))
        # No generation row before the first change: nothing was ever published, nothing is kept.
        remember_generation(request, PublicGeneration.from_row(row))
        request._kept_case_page = row[2] if row else None  # type: ignore[attr-defined]
    return request._kept_case_page  # type: ignore[attr-defined]


def case_page(request: HttpRequest, case_id: str) -> HttpResponse:
    """The page of the current version of ``case_id`` in the request's language: kept, or rendered and kept."""
    kept = read_kept_page(request, case_id)
    if kept is None:
        # The generation was read before the record: a change after it leaves the page unkept
        # (PublishedRendering.keep).
        number = generation(request)[0]
        version = current_case(case_id)
        kept = render(version)
        keep(version, active_language(), kept, generation=number)
    return served(request, kept)


# What stands for the case ID, the language and the build in the kept page's compiled query.
_CASE, _LANGUAGE, _BUILD = "\ue000case", "\ue000language", "\ue000build"


@cache
def _kept_page_query() -> tuple[str, tuple]:
    """The generation and a current case's kept page in one query, compiled once: the ORM took three times as
    long to compile it as the database to answer it. Compiled from the ORM all the same, so that which versions
    are current is said in one place (PublishedVersion.objects.current)."""
    current = PublishedVersion.objects.current().filter(case_id=_CASE)
    pages = PublishedRendering.objects.filter(version__in=current, language=_LANGUAGE, build=_BUILD)
    both = PublicGeneration.objects.filter(pk=1).annotate(html=Subquery(pages.values("html")[:1]))
    return both.values_list("generation", "changed_at", "html").query.sql_with_params()


def render(version: PublishedVersion) -> str:
    """``version``'s case page in the active language, for nobody in particular, as it is kept."""
    request = _Unaddressed(reverse("public:case_detail", args=[version.case_id]))
    context = case_context(request, version, accessed=ACCESSED)
    return render_to_string("public/case_detail.html", context, request)


def keep(version: PublishedVersion, language: str, html: str, *, generation: int) -> bool:
    """Keep the page unless the data changed since ``generation`` was read; whether it was kept. A page not kept
    is rendered again by its next reader."""
    try:
        return PublishedRendering.keep(version, language, build_id(), html, generation=generation)
    except Exception:
        logger.warning("The page of %s (%s) could not be kept.", version, language, exc_info=True)
        return False


def served(request: HttpRequest, html: str) -> HttpResponse:
    """A kept page with this site's address and today's date written in."""
    today = escape(formats.date_format(timezone.localdate(), "DATE_FORMAT"))
    origin = f"{request.scheme}://{request.get_host()}"
    return HttpResponse(html.replace(ORIGIN, origin).replace(ACCESSED, today))


def keep_pages(versions: Iterable[int], *, languages: Iterable[str] | None = None, progress=None) -> int:
    """Render and keep the pages of the current versions among ``versions`` (ids) in ``languages`` (every
    language by default); how many were kept. ``progress`` is told of each version done."""
    codes = list(languages or (code for code, _name in settings.LANGUAGES))
    ids, kept = list(versions), 0
    for start in range(0, len(ids), BATCH):
        # Read before the records: a change meanwhile leaves these pages to their first readers.
        number = PublicGeneration.current()[0]
        for version in PublishedVersion.objects.current().filter(pk__in=ids[start : start + BATCH]):
            for language in codes:
                with translation.override(language):
                    # Left to the first reader, who gets the error page only if it fails again.
                    try:
                        html = render(version)
                    except Exception:
                        logger.warning("The page of %s (%s) could not be rendered.", version, language, exc_info=True)
                        continue
                kept += keep(version, language, html, generation=number)
            if progress is not None:
                progress(1)
    return kept


def unkept(languages: Iterable[str]) -> list[int]:
    """The current versions missing a page kept by this build in one of ``languages``, by case ID."""
    codes = set(languages)
    complete = (
        PublishedRendering.objects.filter(language__in=codes, build=build_id())
        .values("version_id")
        .annotate(n=Count("*"))
        .filter(n=len(codes))
        .values("version_id")
    )
    versions = PublishedVersion.objects.current().exclude(pk__in=complete)
    return list(versions.order_by("case_id").values_list("pk", flat=True))


def keep_after_publication(sender, instance: PublishedVersion, created=False, raw=False, **kwargs) -> None:
    """A version published: its pages rendered and kept once the publication commits (bulk publications, which
    send no signal, leave them to their first readers and to ``render_public_pages``)."""
    if created and not raw and instance.is_current and instance.withdrawn_at is None:
        transaction.on_commit(lambda: keep_pages([instance.pk]), robust=True)


class _Unaddressed(HttpRequest):
    """A GET of a public page by nobody, at no site's address (module docstring)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.method = "GET"
        self.path = self.path_info = path
        self.META = {"SERVER_NAME": "kept-page.invalid", "SERVER_PORT": "443"}

    def get_host(self) -> str:
        return ORIGIN.removeprefix("https://")

    def _get_scheme(self) -> str:
        return "https"

"""The public site's HTML pages. They read published versions only (see workflow.snapshots).

The list's query lives in ``public.queries``, the JSON API in ``public.api``,
the CSV export in ``public.export``.
"""

from django.db import connection
from django.db.models import Count
from django.db.utils import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_countries import countries

from workflow.models import PublishedSource, PublishedVersion

from .caching import cached, public_page
from .presenters import CasePage, cite_as
from .queries import CaseQuery, current_case, paginate, public_version

PAGE_SIZE = 25


@require_safe
@public_page
def home(request: HttpRequest) -> HttpResponse:
    cases = PublishedVersion.objects.current()
    # COUNT(*) per fate (not COUNT of a column) lets PostgreSQL count from the fate index alone.
    by_fate = dict(cases.order_by().values_list("is_clarified").annotate(n=Count("*")))
    counts = {"total": sum(by_fate.values()), "clarified": by_fate.get(True, 0)}
    context = {
        "total": counts["total"],
        "clarified": counts["clarified"],
        "outstanding": counts["total"] - counts["clarified"],
        "recent": cases.order_by("-published_at", "-pk").defer("record")[:8],
    }
    return render(request, "public/home.html", context)


@require_safe
@public_page
def case_list(request: HttpRequest) -> HttpResponse:
    query = CaseQuery(request.GET, request=request)
    # A row shows the version's columns, never its whole record (public/_case_row.html).
    rows = query.results().defer("record")
    page = paginate(request, rows, PAGE_SIZE, count=query.count() if query.valid else None, ids_first=query.valid)
    context = {
        "filter": query.filterset,
        "filters_html": _filters_html(request, query),
        "page_obj": page,
        "cases": page.object_list,
        "errors": query.errors,
        "ignored": query.ignored,
        "querystring": _querystring(request),
    }
    return render(request, "public/case_list.html", context, status=200 if query.valid else 400)


def _filters_html(request: HttpRequest, query: CaseQuery) -> str:
    """The filter form with its counts: the same for every page of a search, so rendered once for all of them."""

    def rendered() -> str:
        facets = query.facets()
        if facets:
            # Offer the nationalities that published cases have (with their counts), not all 250 countries.
            selected = query.filterset.form.cleaned_data.get("nationality") or ""
            present = {
                code: f"{countries.name(code)} ({count})"
                for code, count in sorted(query.nationality_counts.items(), key=lambda item: countries.name(item[0]))
            }
            if selected and selected not in present:
                present[selected] = countries.name(selected)
            query.filterset.form.fields["nationality"].choices = [("", "---------"), *present.items()]
        return render_to_string("public/_list_filters.html", {"filter": query.filterset, "facets": facets}, request)

    if not query.valid:
        return mark_safe(rendered())  # noqa: S308 (our own template's output, escaped by it)
    return mark_safe(cached(request, "filters", query.key("page"), rendered))  # noqa: S308 (as above)


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _case_context(request: HttpRequest, version: PublishedVersion) -> dict:
    page = CasePage(version)
    url = request.build_absolute_uri(reverse("public:case_version", args=[version.case_id, version.number]))
    versions = PublishedVersion.objects.public().filter(case_id=version.case_id).order_by("-number")
    return {
        "case": page,
        "version": version,
        "versions": versions.only("case_id", "number", "published_at", "is_current"),
        "cite_as": cite_as(page, url),
        "permalink": url,
    }


@require_safe
@public_page
def case_detail(request: HttpRequest, case_id: str) -> HttpResponse:
    return render(request, "public/case_detail.html", _case_context(request, current_case(case_id)))


@require_safe
@public_page
def case_version(request: HttpRequest, case_id: str, number: int) -> HttpResponse:
    return render(request, "public/case_detail.html", _case_context(request, public_version(case_id, number)))


@require_safe
@public_page
def source_list(request: HttpRequest) -> HttpResponse:
    rows = (
        PublishedSource.objects.filter(version__in=PublishedVersion.objects.current())
        .values("source_id", "title", "publisher", "kind", "published_on", "language")
        .annotate(cases=Count("version", distinct=True))
        .order_by("title", "source_id")
    )
    page = paginate(request, rows, 50)
    return render(request, "public/source_list.html", {"sources": page.object_list, "page_obj": page})


@require_safe
@public_page
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    rows = list(
        PublishedSource.objects.filter(version__in=PublishedVersion.objects.current(), source_id=source_id)
        .select_related("version")
        .defer("version__record")
        .order_by("version__case_id")
    )
    if not rows:
        raise Http404(_("No published case cites this source."))
    return render(request, "public/source_detail.html", {"source": rows[0], "citing": [row.version for row in rows]})


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        PublishedVersion.objects.exists()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")

"""The public site. It reads published versions only (see workflow.snapshots)."""

import csv

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Case, Count, IntegerField, When
from django.db.utils import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_countries import countries

from cases.vocabularies import Category, Status
from workflow.models import PublishedSource, PublishedVersion

from .caching import cached, public_page
from .filters import FATES, ORDERINGS, CaseFilter
from .presenters import CasePage, cite_as
from .search import search

PAGE_SIZE = 25
API_PAGE_SIZE = 50


def current_case(case_id: str) -> PublishedVersion:
    """The current public version of a case; one 404 for unknown, unpublished and withdrawn alike."""
    version = PublishedVersion.objects.current().filter(case_id=case_id).first()
    if version is None:
        raise Http404(_("No published case has this ID."))
    return version


def public_version(case_id: str, number: int) -> PublishedVersion:
    version = PublishedVersion.objects.public().filter(case_id=case_id, number=number).first()
    if version is None:
        raise Http404(_("No published case has this ID and version."))
    return version


@require_safe
@public_page
def home(request):
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


class CaseQuery:
    """The public list's query: filters, name search and ordering, shared by the page, the API and the CSV."""

    def __init__(self, params, search_ids: list[int] | None = None, *, request=None) -> None:
        """``request``, when given, lets the counts and the search be cached (public/caching.py)."""
        self.params = params
        self.request = request
        self.filterset = CaseFilter(params, queryset=PublishedVersion.objects.current())
        self.valid = self.filterset.is_valid()
        known = set(self.filterset.filters) | {"page"}
        self.ignored = sorted(name for name in params if name not in known)
        self._search_ids = search_ids

    @property
    def errors(self) -> list[str]:
        return [
            f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
            for name, errors in self.filterset.form.errors.items()
        ]

    @property
    def query(self) -> str:
        return self.filterset.form.cleaned_data.get("q") or ""

    def search_ids(self) -> list[int]:
        """Current versions matching the name search, best first; computed once per request."""
        if self._search_ids is None:
            # Keyed by the query as typed: two spellings with the same normalised key may still split
            # into family and given names differently, and so match differently.
            self._search_ids = self._cached(
                "search", self.query, lambda: search(self.query, PublishedVersion.objects.current())
            )
        return self._search_ids

    def _cached(self, kind: str, key: str, compute):
        return compute() if self.request is None else cached(self.request, kind, key, compute)

    def key(self, *without: str) -> str:
        """The parameters except ``without``, in a canonical order: a cache key for what depends on them."""
        return "&".join(f"{name}={value}" for name, value in sorted(self.params.lists()) if name not in without)

    @property
    def filter_key(self) -> str:
        """The filters and the search: what the counts depend on (not the page, nor the order)."""
        return self.key("page", "sort")

    def count(self) -> int:
        return self._cached("count", self.filter_key, lambda: self.results().order_by().count())

    def results(self):
        if not self.valid:
            return PublishedVersion.objects.none()
        queryset = self.filterset.qs
        sort = self.filterset.form.cleaned_data.get("sort") or ""
        if self.query:
            ids = self.search_ids()
            queryset = queryset.filter(pk__in=ids)
            if sort in ("", "relevance"):
                rank = Case(*(When(pk=pk, then=i) for i, pk in enumerate(ids)), output_field=IntegerField())
                return queryset.order_by(rank, "case_id")
        return queryset.order_by(*ORDERINGS[sort or "name"])

    def facets(self) -> dict:
        """How many results each filter value would give, with the other filters as they are."""
        if not self.valid:
            return {}

        def others(name: str):
            params = self.params.copy()
            params.pop(name, None)
            return CaseQuery(params, self._search_ids).results().order_by()

        def counts():
            # COUNT(*) lets PostgreSQL count from the partial indexes alone (pv_current_status…).
            return [
                dict(others("status").values_list("status").annotate(n=Count("*"))),
                dict(others("fate").values_list("is_clarified").annotate(n=Count("*"))),
                dict(others("category").values_list("categories__slug").annotate(n=Count("*"))),
                dict(others("nationality").values_list("nationality").annotate(n=Count("*"))),
            ]

        if self.query:
            self.search_ids()
        status, fate, category, nationality = self._cached("facets", self.filter_key, counts)
        self.nationality_counts = {code: n for code, n in nationality.items() if code}
        return {
            "status": [(self.link("status", v), label, status.get(v, 0)) for v, label in Status.choices],
            "fate": [(self.link("fate", v), label, fate.get(v == "clarified", 0)) for v, label in FATES],
            "category": [
                (self.link("category", c.slug), c.name, category.get(c.slug, 0)) for c in Category.objects.all()
            ],
            "nationality": sorted(
                ((self.link("nationality", code), countries.name(code), n) for code, n in nationality.items() if code),
                key=lambda facet: facet[1],
            ),
        }

    def link(self, name: str, value: str) -> str:
        """The list's address with one filter set to ``value`` and the others kept."""
        params = self.params.copy()
        params.pop("page", None)
        params[name] = value
        return "?" + params.urlencode()


class IdsFirstPaginator(Paginator):
    """Reads a page's ids first, then only those rows.

    The ids of a deep page come from the sort's index alone (an index-only
    scan on PostgreSQL: the indexes include the id), instead of reading every
    row before the page with its whole public record.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.order_by().filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids], number, self)


def paginate(request, queryset, size: int, *, count: int | None = None, ids_first: bool = False):
    """The requested page; ``count``, when known (cached), spares the COUNT query."""
    paginator = (IdsFirstPaginator if ids_first else Paginator)(queryset, size)
    if count is not None:
        paginator.count = count  # a cached_property: the instance's value replaces the query
    try:
        return paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        raise Http404(_("There is no such page of results.")) from None


@require_safe
@public_page
def case_list(request):
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


def _filters_html(request, query: CaseQuery) -> str:
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


def _querystring(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _case_context(request, version: PublishedVersion) -> dict:
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
def case_detail(request, case_id: str):
    return render(request, "public/case_detail.html", _case_context(request, current_case(case_id)))


@require_safe
@public_page
def case_version(request, case_id: str, number: int):
    return render(request, "public/case_detail.html", _case_context(request, public_version(case_id, number)))


@require_safe
@public_page
def source_list(request):
    rows = (
        PublishedSource.objects.filter(version__in=PublishedVersion.objects.current())
        .values("source_id", "title", "publisher", "kind", "published_on")
        .annotate(cases=Count("version", distinct=True))
        .order_by("title", "source_id")
    )
    page = paginate(request, rows, 50)
    return render(request, "public/source_list.html", {"sources": page.object_list, "page_obj": page})


@require_safe
@public_page
def source_detail(request, source_id: int):
    rows = list(
        PublishedSource.objects.filter(version__in=PublishedVersion.objects.current(), source_id=source_id)
        .select_related("version")
        .defer("version__record")
        .order_by("version__case_id")
    )
    if not rows:
        raise Http404(_("No published case cites this source."))
    return render(request, "public/source_detail.html", {"source": rows[0], "citing": [row.version for row in rows]})


def _api_case(request, version: PublishedVersion) -> dict:
    return {
        **version.record,
        "url": request.build_absolute_uri(reverse("public:case_version", args=[version.case_id, version.number])),
    }


@require_safe
@public_page
def api_case_list(request):
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return JsonResponse({"errors": query.errors}, status=400)
    page = paginate(request, query.results(), API_PAGE_SIZE, count=query.count(), ids_first=True)

    def link(number):
        if number is None:
            return None
        params = request.GET.copy()
        params["page"] = number
        return request.build_absolute_uri(f"{reverse('public:api_case_list')}?{params.urlencode()}")

    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "next": link(page.next_page_number() if page.has_next() else None),
            "previous": link(page.previous_page_number() if page.has_previous() else None),
            "ignored_parameters": query.ignored,
            "results": [_api_case(request, version) for version in page.object_list],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_safe
@public_page
def api_case_detail(request, case_id: str):
    version = current_case(case_id)
    versions = PublishedVersion.objects.public().filter(case_id=case_id).order_by("number")
    data = _api_case(request, version)
    data["versions"] = [
        {
            "version": v.number,
            "published_at": v.published_at.isoformat(),
            "url": request.build_absolute_uri(reverse("public:case_version", args=[case_id, v.number])),
        }
        for v in versions.only("case_id", "number", "published_at")
    ]
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


CSV_COLUMNS = [
    "case_id",
    "version",
    "url",
    "name",
    "name_native",
    "other_names",
    "sex",
    "birth_date",
    "nationality",
    "categories",
    "status",
    "status_since",
    "last_confirmed",
    "fate",
    "summary",
    "published_at",
]


def neutralise(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_safe
@public_page
def export_csv(request):
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return HttpResponse("\n".join(query.errors), status=400, content_type="text/plain; charset=utf-8")
    base = request.build_absolute_uri("/")[:-1]

    def rows():
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)  # the byte-order mark makes Excel read UTF-8
        for version in query.results().only("record", "number", "published_at", "case_id").iterator(chunk_size=500):
            record = version.record
            yield writer.writerow(
                neutralise(value)
                for value in (
                    record["case_id"],
                    version.number,
                    base + reverse("public:case_version", args=[version.case_id, version.number]),
                    record["name"],
                    record["name_native"],
                    "; ".join(other["name"] for other in record["other_names"]),
                    record["sex"],
                    record["birth_date"],
                    record["nationality"],
                    "; ".join(category["name"] for category in record["categories"]),
                    record["status"],
                    record["status_since"],
                    record["last_confirmed"],
                    "clarified" if Status.is_clarified(record["status"]) else "outstanding",
                    record["summary"],
                    version.published_at.isoformat(),
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="whereabouts-cases.csv"'
    return response


@require_safe
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        PublishedVersion.objects.exists()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")

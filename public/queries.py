"""The public list's query (filters, name search, order, counts) and its pages, read from published versions only.

Shared by the HTML list (``public.views``), the JSON API (``public.api``) and
the CSV export (``public.export``), so the three cannot disagree.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from functools import wraps
from urllib.parse import quote_plus, urlencode

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import BigIntegerField, CharField, Count, F, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Cast, Concat, Mod, RowNumber, StrIndex
from django.db.models.query import NamedValuesListIterable
from django.db.models.utils import create_namedtuple_class
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_countries import countries

from cases.vocabularies import FacilityKind, Status
from workflow.models import CaseMerge, PublishedAuthority, PublishedPlacement, PublishedVersion
from workflow.prepared import filled

from .caching import cached
from .filters import FATES, ORDERINGS, CaseFilter, PlaceNames
from .search import search


class CaseMoved(Exception):
    """A merged case's address asked for: the surviving case's answers it (:func:`follows_merges`)."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(case_id)


# Merges followed one after the other at most (a case merged into one merged later, and so on).
MERGE_HOPS = 10


def moved_to(case_id: str) -> str | None:
    """The case a merged case's public addresses lead to, or None: one rule for every public address.

    Only a merge that ``redirects`` leads anywhere (both cases were on the
    public site under their names when they were merged), and only to a case
    on the public site now, under its name; through as many merges as
    followed one another. Otherwise a merged case answers as an unknown,
    unpublished or withdrawn one does: a merge never tells that a record
    existed, nor links a pseudonym to a name.
    """
    seen = {case_id}
    asked: str | None = case_id
    for _hop in range(MERGE_HOPS):
        asked = (
            CaseMerge.objects.redirecting()
            .filter(merged_case_id=asked)
            .values_list("survivor_case_id", flat=True)
            .first()
        )
        if asked is None or asked in seen:
            return None
        seen.add(asked)
        version = PublishedVersion.objects.current().filter(case_id=asked).only("record").first()
        if version is not None:
            return None if version.is_pseudonymous else asked
    return None


def _missing(case_id: str, message: str) -> Http404:
    """The 404 of a case address, or the way to the case it was merged into."""
    survivor = moved_to(case_id)
    if survivor is not None:
        raise CaseMoved(survivor)
    return Http404(message)


def current_case(case_id: str) -> PublishedVersion:
    """The current public version of a case; one 404 for unknown, unpublished and withdrawn alike (and
    :class:`CaseMoved` for a case merged into one on the public site, :func:`moved_to`)."""
    version = PublishedVersion.objects.current().filter(case_id=case_id).first()
    if version is None:
        raise _missing(case_id, _("No published case has this ID."))
    return version


def public_version(case_id: str, number: int) -> PublishedVersion:
    version = PublishedVersion.objects.public().filter(case_id=case_id, number=number).first()
    if version is None:
        raise _missing(case_id, _("No published case has this ID and version."))
    return version


def follows_merges(url_name: str) -> Callable:
    """A case address's view, answering a merged case's address with a permanent redirect to ``url_name`` of the
    case it was merged into (:func:`moved_to`): its page, its JSON, its feed. A version of a merged case leads
    to the surviving case's page (the two cases' versions are numbered apart)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except CaseMoved as moved:
                address = reverse(url_name, args=[moved.case_id])
                query = request.META.get("QUERY_STRING", "")
                response = HttpResponsePermanentRedirect(f"{address}?{query}" if query else address)
                # Kept as long as a public page, not for ever: an undone merge, or a case that leaves the public
                # site, ends the redirect.
                seconds = settings.PUBLIC_CACHE_SECONDS
                patch_cache_control(
                    response, public=True, max_age=seconds, **({"no_cache": True} if not seconds else {})
                )
                return response

        return wrapper

    return decorator


class CaseQuery:
    """The public list's query: filters, name search and ordering, shared by the page, the API and the CSV."""

    def __init__(
        self, params, search_ids: list[int] | None = None, *, request=None, places: PlaceNames | None = None
    ) -> None:
        """``request``, when given, lets the counts and the search be cached (public/caching.py); ``places``
        shares the public facilities' and authorities' names already read (the facets' own queries)."""
        self.params = params
        self.request = request
        self.places = places or PlaceNames(request)
        self.filterset = CaseFilter(params, queryset=PublishedVersion.objects.current(), places=self.places)
        self.valid = self.filterset.is_valid()
        known = set(self.filterset.filters) | {"page"}
        self.ignored = sorted(name for name in params if name not in known)
        self._search_ids = search_ids
        self._facet_rows: dict[str, list[tuple]] | None = None
        self._links: dict[str, tuple[str, str]] = {}

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
        if self.query and self.valid:
            # A search's results are at most a few hundred: counted with its facets (one query less).
            return len(self.found_ids())
        return self._cached("count", self.filter_key, lambda: self.results().order_by().count())

    def found_ids(self) -> list[int]:
        """A search's results, the filters applied, in the search's order: read with its facets' values
        (:meth:`_search_facet_rows`) and kept for the generation, so that a page of them in that order is read by
        its ids alone (:class:`IdsFirstPaginator`)."""

        def found() -> list[int]:
            results = {row[0] for row in self._search_facet_rows()[self.filter_key]}
            return [pk for pk in self.search_ids() if pk in results]

        return self._cached("found", self.filter_key, found)

    def ordering(self) -> list[str]:
        """The results' order by columns; empty for a search in its relevance order (:meth:`results`)."""
        sort = self.filterset.form.cleaned_data.get("sort") or ""
        return [] if self.query and sort in ("", "relevance") else ORDERINGS[sort or "name"]

    def block_start(self, row: int) -> tuple[int | None, int]:
        """Where to start reading the results to reach the one at offset ``row``: the id of the result at the
        nearest block start at or before it (every ``BLOCK``-th result, remembered for the generation; None for the
        first result), and how many results to skip from there (:meth:`starting_at`).

        A page deep in a long list otherwise skips every row before it, one by
        one, however it is indexed (``OFFSET``); from a block start the index
        of the order is entered at the right place and at most ``BLOCK - 1``
        rows are skipped. Only for an order by columns that are never NULL
        (by name, by last update); any other, and a search's few hundred
        results, skip from the start.
        """
        ordering = self.ordering()
        if row < BLOCK or not ordering or any(_nullable(name) for name in ordering):
            return None, row
        starts = self._cached("starts", self.key("page"), lambda: self._block_starts(ordering))
        block = min(row // BLOCK, len(starts) - 1)
        if block <= 0:
            return None, row
        return starts[block], row - block * BLOCK

    def starting_at(self, start: int | None) -> Q:
        """The results from the one whose id is ``start`` on, in their order (all of them for None)."""
        if start is None:
            return Q()
        ordering = self.ordering()
        at = PublishedVersion.objects.filter(pk=start)
        return at_or_after(ordering, [Subquery(at.values(name.lstrip("-"))) for name in ordering])

    def _block_starts(self, ordering: list[str]) -> list[int]:
        """The id of every ``BLOCK``-th result (the first, the BLOCK+1st…), in one pass over the order's index."""
        place = Window(RowNumber(), order_by=ordering)
        rows = self.results().order_by().annotate(place=place).annotate(block_row=Mod(F("place") - 1, BLOCK))
        return list(rows.filter(block_row=0).order_by("place").values_list("pk", flat=True))

    def results(self):
        if not self.valid:
            return PublishedVersion.objects.none()
        queryset = self.filterset.qs
        ordering = self.ordering()
        if self.query:
            ids = self.search_ids()
            queryset = queryset.filter(pk__in=ids)
            if not ordering:
                # Where the id stands in ",12,5,31,": the search's order, in one expression however many ids.
                listed = Value("," + ",".join(map(str, ids)) + ",")
                rank = StrIndex(listed, Concat(Value(","), Cast("pk", CharField()), Value(",")))
                return queryset.order_by(rank, "case_id")
        return queryset.order_by(*ordering)

    def facet_counts(self) -> dict[str, list[tuple[str, str, int]]]:
        """How many results each filter value would give, with the other filters as they are.

        For each filter, its values as ``(value, label, count)`` in the order people read them: the list's
        facets (:meth:`facets`) and the statistics' charts (``public.statistics``) are these same numbers.
        """
        if not self.valid:
            return {}

        if self.query:
            self.search_ids()
        # A search's results are at most a few hundred: counted in Python from their values (a query for their
        # columns, one for their categories, places and authorities, instead of seven counting queries); the whole
        # list's by SQL.
        counts = self._search_facet_counts if self.query else self._sql_facet_counts
        status, fate, category, nationality, facility, kind, authority = self._cached("facets", self.filter_key, counts)
        # Only the facilities and authorities public now are named (a count of one made non-public since the
        # last publication would otherwise show; the redaction takes it out of the index anyway).
        facility_names = {pk: self.places.facility_name(pk) for pk in facility if pk in self.places.facilities}
        authority_names = {pk: self.places.authority_name(pk) for pk in authority if pk in self.places.authorities}
        return {
            "fate": [(v, str(label), fate.get(v == "clarified", 0)) for v, label in FATES],
            "status": [
                *((v, str(label), status.get(v, 0)) for v, label in Status.choices),
                # A case whose record holds no public event has no status (the statistics count it too).
                *([("", _("No status: no public event"), status[""])] if status.get("") else []),
            ],
            "category": [(c.slug, str(c), category.get(c.slug, 0)) for c in self.places.categories],
            "nationality": sorted(
                ((code, str(countries.name(code)), n) for code, n in nationality.items() if code),
                key=lambda facet: facet[1],
            ),
            "facility_kind": [(v, str(label), kind.get(v, 0)) for v, label in FacilityKind.choices],
            "facility": sorted(
                ((str(pk), name, facility[pk]) for pk, name in facility_names.items()), key=lambda facet: facet[1]
            ),
            "authority": sorted(
                ((str(pk), name, authority[pk]) for pk, name in authority_names.items()), key=lambda facet: facet[1]
            ),
        }

    def _sql_facet_counts(self) -> list[dict]:
        """:meth:`facet_counts`'s seven counts, one query each."""

        def others(name: str):
            return self._without(name).results().order_by()

        # COUNT(*) lets PostgreSQL count from the partial indexes alone (pv_current_status…). A case held at
        # two facilities of one kind, or at one facility in two events, counts once: COUNT(DISTINCT).
        return [
            dict(others("status").values_list("status").annotate(n=Count("*"))),
            dict(others("fate").values_list("is_clarified").annotate(n=Count("*"))),
            dict(others("category").values_list("categories__slug").annotate(n=Count("*"))),
            dict(others("nationality").values_list("nationality").annotate(n=Count("*"))),
            dict(others("facility").values_list("placements__facility_id").annotate(n=Count("pk", distinct=True))),
            dict(
                others("facility_kind").values_list("placements__facility_kind").annotate(n=Count("pk", distinct=True))
            ),
            dict(others("authority").values_list("authorities__authority_id").annotate(n=Count("pk", distinct=True))),
        ]

    FACETS = ("status", "fate", "category", "nationality", "facility", "facility_kind", "authority")

    def _without(self, name: str) -> "CaseQuery":
        params = self.params.copy()
        params.pop(name, None)
        return CaseQuery(params, self._search_ids, places=self.places)

    def _search_facet_rows(self) -> dict[str, list[tuple]]:
        """For a search: the results with the filters as they are, and without each facet's own filter in use,
        as ``(pk, status, is_clarified, nationality)`` rows by their :attr:`filter_key`. At most the search's
        few hundred ids each: one query per distinct set of filters (one for a search alone)."""
        if self._facet_rows is None:
            queries = {self.filter_key: self}
            for name in self.FACETS:
                if self.key("page", "sort", name) not in queries:  # a filter in use: the results without it
                    queries[self.key("page", "sort", name)] = self._without(name)
            self._facet_rows = {
                key: list(query.results().order_by().values_list("pk", "status", "is_clarified", "nationality"))
                for key, query in queries.items()
            }
        return self._facet_rows

    def _search_facet_counts(self) -> list[dict]:
        """:meth:`facet_counts`'s seven counts for a search, counted here from the few hundred results' values
        and their categories, places and authorities (:func:`_facet_values`) rather than by seven queries over them:
        the same numbers (tests/test_search_long_tail.py compares)."""
        rows = self._search_facet_rows()
        pks = {row[0] for found in rows.values() for row in found}
        categories, facilities, kinds, authorities = (defaultdict(set) for _ in range(4))
        for pk, which, text, number in _facet_values(pks):
            if which == CATEGORY:
                categories[pk].add(text)
            elif which == PLACEMENT:
                facilities[pk].add(number)
                kinds[pk].add(text)
            else:
                authorities[pk].add(number)

        def found(name: str) -> list[tuple]:
            return rows[self.key("page", "sort", name)]

        def each(name: str, values) -> dict:
            # As the SQL's LEFT JOIN and GROUP BY: one count per value a result has, None for a result with none.
            return dict(Counter(value for row in found(name) for value in (values.get(row[0]) or {None})))

        return [
            dict(Counter(row[1] for row in found("status"))),
            dict(Counter(row[2] for row in found("fate"))),
            each("category", categories),
            dict(Counter(row[3] for row in found("nationality"))),
            each("facility", facilities),
            each("facility_kind", kinds),
            each("authority", authorities),
        ]

    def facets(self) -> dict:
        """The list's facets: for each filter, ``(address, label, count)`` of its values (:meth:`facet_counts`)."""
        counts = self.facet_counts()
        if not counts:
            return {}
        self.nationality_counts = {code: n for code, _label, n in counts["nationality"]}
        self.facility_counts = {int(pk): n for pk, _label, n in counts["facility"]}
        self.authority_counts = {int(pk): n for pk, _label, n in counts["authority"]}
        return {
            name: [(self.link(name, value), label, n) for value, label, n in values if value != ""]
            for name, values in counts.items()
        }

    def year_counts(self) -> dict[str, dict[int | None, int]]:
        """The results by year of arrest or disappearance, and by year of the latest information (None: unknown)."""
        if not self.valid:
            return {}

        def counts():
            results = self.results().order_by()
            return {
                field: dict(results.values_list(field).annotate(n=Count("*")))
                for field in ("taken_year", "latest_year")
            }

        if self.query:
            self.search_ids()
        return self._cached("years", self.filter_key, counts)

    def link(self, name: str, value: str) -> str:
        """The list's address with one filter set to ``value`` and the others kept."""
        before, after = self._links.get(name) or self._links.setdefault(name, self._link_around(name))
        return f"{before}{quote_plus(str(value))}{after}"

    def _link_around(self, name: str) -> tuple[str, str]:
        """The address of :meth:`link` on each side of the value: written once for all the values of a facet, in
        the order ``QueryDict.urlencode`` writes it (the filter where it was, or last)."""
        params = self.params.copy()
        params.pop("page", None)
        params[name] = ""
        pairs = [(key, value) for key, values in params.lists() for value in values]
        at = [key for key, _value in pairs].index(name)
        before, after = urlencode(pairs[:at]), urlencode(pairs[at + 1 :])
        return f"?{before}{'&' if before else ''}{quote_plus(name)}=", f"&{after}" if after else ""


CATEGORY, PLACEMENT, AUTHORITY = 0, 1, 2


def _facet_values(pks: set[int]) -> QuerySet:
    """The categories, the places of detention (facility and kind) and the authorities of the versions ``pks``, in
    one query: ``(version, CATEGORY, slug, None)``, ``(version, PLACEMENT, kind, facility)`` and ``(version,
    AUTHORITY, None, authority)`` rows."""
    through = PublishedVersion.categories.through
    none_text, none_number = Value(None, output_field=CharField()), Value(None, output_field=BigIntegerField())
    categories = through.objects.filter(publishedversion_id__in=pks).values_list(
        "publishedversion_id", Value(CATEGORY), "category__slug", none_number
    )
    placements = PublishedPlacement.objects.filter(version_id__in=pks).values_list(
        "version_id", Value(PLACEMENT), "facility_kind", "facility_id"
    )
    authorities = PublishedAuthority.objects.filter(version_id__in=pks).values_list(
        "version_id", Value(AUTHORITY), none_text, "authority_id"
    )
    return categories.union(placements, authorities, all=True)


def refused(query: CaseQuery, *, as_json: bool) -> HttpResponse:
    """The answer of a data address to filters it cannot use: 400 with one message a filter, in the data's own
    format (``{"errors": [...]}`` for JSON, one line each for a CSV)."""
    if as_json:
        return JsonResponse({"errors": query.errors}, status=400)
    return HttpResponse("\n".join(query.errors), status=400, content_type="text/plain; charset=utf-8")


# Results between two remembered places of a long list's order (CaseQuery.block_start): 20 pages of the list.
BLOCK = 500


def _nullable(ordering: str) -> bool:
    field = PublishedVersion._meta.get_field(ordering.lstrip("-"))
    return bool(getattr(field, "null", True))


def at_or_after(ordering: list[str], values: Sequence) -> Q:
    """The rows at or after the one whose ``ordering`` columns (never NULL) hold ``values``, in that order.

    A range on the first column, which the order's index serves, and then the
    exact condition: a later first column, or the same and a later second…
    """
    names = [name.lstrip("-") for name in ordering]

    def after(position: int, *, or_equal: bool) -> Q:
        lookup = ("lt" if ordering[position].startswith("-") else "gt") + ("e" if or_equal else "")
        return Q(**{f"{names[position]}__{lookup}": values[position]})

    exact = after(len(names) - 1, or_equal=True)
    for position in reversed(range(len(names) - 1)):
        exact = after(position, or_equal=False) | (Q(**{names[position]: values[position]}) & exact)
    return after(0, or_equal=True) & exact


class IdsFirstPaginator(Paginator):
    """Reads a page's ids first, then only those rows.

    The ids of a deep page come from the sort's index alone (an index-only
    scan on PostgreSQL: the indexes include the id), instead of reading every
    row before the page with its whole public record; and from the nearest
    block start of the order rather than from its first row
    (:meth:`CaseQuery.block_start`). A search in its own order knows its
    results' ids in that order (:meth:`CaseQuery.found_ids`): the page is
    read by its ids alone.
    """

    def __init__(self, object_list, per_page, *, query: CaseQuery) -> None:
        super().__init__(object_list, per_page)
        self.query = query

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if self.query.query and not self.query.ordering():
            # A search in its own order: its results' ids are known in that order, and the page is read by its own.
            ids = self.query.found_ids()[bottom:top]
            position = {pk: n for n, pk in enumerate(ids)}
            rows = sorted(self.object_list.order_by().filter(pk__in=ids), key=lambda row: position[row.pk])
            return self._get_page(rows, number, self)
        start, skipped = self.query.block_start(bottom)
        if self.object_list._iterable_class is NamedValuesListIterable and not self.query.query:
            page = _compiled_page(self.query, self.object_list, started=start is not None)
            rows = page.read(start, skipped, top - bottom)
        else:
            rows = list(_page(self.query, self.object_list, start, skipped, top - bottom))
        return self._get_page(rows, number, self)


def _page(query: CaseQuery, rows: QuerySet, start: int | None, skipped: int, count: int) -> QuerySet:
    """A page of ``rows`` in one query: those whose ids the order's index gives from ``start`` on, in the same
    order."""
    ids = rows.filter(query.starting_at(start)).values_list("pk", flat=True)[skipped : skipped + count]
    return rows.filter(pk__in=ids)


class _CompiledPage:
    """:func:`_page`'s SQL, compiled once for every page of the same filters, order and columns: the ORM took
    longer to build and compile it than the database to answer it. What differs from page to page (the start's
    id, the rows skipped and read) is written in at each read, in place of values no page has."""

    START, SKIPPED, COUNT = -7_000_000_001, 7_000_000_003, 7_000_000_005

    def __init__(self, query: CaseQuery, rows: QuerySet, *, started: bool) -> None:
        queryset = _page(query, rows, self.START if started else None, self.SKIPPED, self.COUNT)
        self.database = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.database)
        self.sql, self.params = self.compiler.as_sql()
        self.limits = f"LIMIT {self.COUNT} OFFSET {self.SKIPPED}"
        assert self.sql.count(self.limits) == 1, self.sql
        columns = [column for column, *_ in self.compiler.select[: self.compiler.col_count]]
        self.converters = self.compiler.get_converters(columns)
        self.row = create_namedtuple_class(*rows._fields)  # type: ignore[attr-defined]

    def read(self, start: int | None, skipped: int, count: int) -> list:
        sql = self.sql.replace(self.limits, f"LIMIT {int(count)} OFFSET {int(skipped)}")
        params = filled(self.params, {self.START: start})
        with connections[self.database].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        return [tuple.__new__(self.row, row) for row in rows]


# Compiled pages by filters, order and columns; emptied when it holds this many (the filters are the readers').
_COMPILED: dict[tuple, _CompiledPage] = {}
COMPILED_PAGES = 500


def _compiled_page(query: CaseQuery, rows: QuerySet, *, started: bool) -> _CompiledPage:
    key = (rows.db, query.key("page"), rows._fields, started)  # type: ignore[attr-defined]
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) >= COMPILED_PAGES:
            _COMPILED.clear()
        compiled = _COMPILED[key] = _CompiledPage(query, rows, started=started)
    return compiled


def paginate(
    request: HttpRequest,
    queryset: QuerySet,
    size: int,
    *,
    count: int | None = None,
    query: CaseQuery | None = None,
) -> Page:
    """The requested page; ``count``, when known (cached), spares the COUNT query. ``query``, the list's and the
    API's, reads the page's ids first (:class:`IdsFirstPaginator`)."""
    paginator = IdsFirstPaginator(queryset, size, query=query) if query is not None else Paginator(queryset, size)
    if count is not None:
        paginator.count = count  # a cached_property: the instance's value replaces the query
    try:
        return paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        raise Http404(_("There is no such page of results.")) from None

"""The public site's HTML pages. They read published versions only (see workflow.snapshots).

The list's query lives in ``public.queries``, the JSON API in ``public.api``,
the CSV export in ``public.export``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Subquery
from django.db.utils import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_countries import countries

from cases.vocabularies import FacilityKind, Status
from sources.files import StoredFileDamaged, StoredFileMissing, attachment, checked_copy, extension_for
from workflow.copies import public_copy
from workflow.models import PublishedAppeal, PublishedSource, PublishedVersion

from . import rendering
from .caching import cached, public_page
from .filters import ANY_COUNTRY, FATES
from .frames import framed
from .queries import CaseQuery, follows_merges, paginate, public_version
from .templatetags.public_records import CASE_ROW_COLUMNS, case_rows

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


@require_safe
@public_page
def home(request: HttpRequest) -> HttpResponse:
    cases = PublishedVersion.objects.current()
    appeals = PublishedAppeal.objects.filter(version__in=cases).order_by()
    # COUNT(*) per fate (not COUNT of a column) lets PostgreSQL count from the fate index alone. The public
    # appeals and the cases they concern are counted by two scalar subqueries of the same query, so the home
    # page keeps its fixed number of queries.
    rows = list(
        cases.order_by()
        .values_list("is_clarified")
        .annotate(
            n=Count("*"),
            appeals=Subquery(appeals.values(n=_count_distinct("appeal_id"))),
            appeal_cases=Subquery(appeals.values(n=_count_distinct("version_id"))),
        )
    )
    by_fate = {clarified: count for clarified, count, *_ in rows}
    # Without a published case there is no row, and no public appeal either.
    appeal_count, appeal_cases = rows[0][2:] if rows else (0, 0)
    total = sum(by_fate.values())
    context = {
        "total": total,
        "clarified": by_fate.get(True, 0),
        "outstanding": total - by_fate.get(True, 0),
        "appeals": appeals_count_text(appeal_count, appeal_cases),
        "recent": cases.order_by("-published_at", "-pk").defer("record")[:8],
    }
    return render(request, "public/home.html", context)


def _count_distinct(field: str) -> Func:
    # COUNT(DISTINCT …) as a plain expression: an aggregate in .values() would bring a GROUP BY of every column.
    return Func(F(field), function="COUNT", template="COUNT(DISTINCT %(expressions)s)", output_field=IntegerField())


def appeals_count_text(appeals: int, cases: int) -> str:
    """ "12 appeals to the UN and governments, for 9 cases"; empty when no public appeal is published."""
    if not appeals:
        return ""
    for_cases = ngettext("%(count)s case", "%(count)s cases", cases) % {"count": cases}
    text = ngettext(
        "%(count)s appeal to the UN and governments, for %(cases)s",
        "%(count)s appeals to the UN and governments, for %(cases)s",
        appeals,
    )
    return text % {"count": appeals, "cases": for_cases}


@require_safe
@public_page
def case_list(request: HttpRequest) -> HttpResponse:
    query = CaseQuery(request.GET, request=request)
    # A row shows a few of the version's columns, never its whole record (public_records.case_rows): read as
    # tuples, not as versions, which took longer to make than to read.
    rows = query.results().values_list("pk", *CASE_ROW_COLUMNS, named=True)
    if query.valid:
        page = paginate(request, rows, PAGE_SIZE, count=query.count(), query=query)
    else:
        page = paginate(request, rows, PAGE_SIZE)
    chips = active_filters(request, query)
    order = {key: values for key, values in _known(request, query).items() if key == "sort"}
    rows_html = case_rows(page.object_list)
    pagination = mark_safe(  # noqa: S308 (our own template's output, escaped by it)
        render_to_string("public/_pagination.html", {"page_obj": page, "querystring": _querystring(request)}).strip()
    )
    context = {
        "filter": query.filterset,
        "filters_html": _filters_html(request, query, active=len(chips)),
        "active_filters": chips,
        "clear_filters": _address(request, order),  # the order is no filter: it stays
        "page_obj": page,
        "cases": page.object_list,
        "errors": query.errors,
        "ignored": query.ignored,
        # The footer's and the list's "Data as CSV/JSON" give these cases: the same filters, every page.
        "data_querystring": data_querystring(request, query),
        # The statistics of the same cases (their order counts for nothing there).
        "statistics_querystring": data_querystring(request, query, without=("sort",)),
    }
    if query.valid and page.object_list:
        # A page of a list (page=N): its rows and pagination written into the list's frame (rendered once).
        html = framed(request, "public/case_list.html", context, rows_html, pagination)
        if html is not None:
            return HttpResponse(html)
    context.update(rows=rows_html, pagination=pagination)
    return render(request, "public/case_list.html", context, status=200 if query.valid else 400)


@dataclass(frozen=True)
class ActiveFilter:
    """One filter in use, shown above the results: what it is, and the list's address without it."""

    name: str
    value: str
    remove_url: str


def active_filters(request: HttpRequest, query: CaseQuery) -> list[ActiveFilter]:
    """The filters in use, from the validated form (only values it accepted), labelled in the page's language."""
    if not query.valid:
        return []
    cleaned = query.filterset.form.cleaned_data
    fates = dict(FATES)
    labels: dict[str, tuple[str, Callable[[Any], str]]] = {
        "q": (_("Name"), lambda value: _("“%(q)s”") % {"q": value}),  # the page title's quotes
        "status": (_("Status"), lambda value: str(Status(value).label)),
        "fate": (_("Fate"), lambda value: str(fates[value])),
        "category": (_("Category"), str),  # a Category: its name in the reader's language
        "nationality": (_("Nationality"), countries.name),
        "year_from": (_("Year of the first event"), lambda value: _("from %(year)s") % {"year": int(value)}),
        "year_to": (_("Year of the first event"), lambda value: _("until %(year)s") % {"year": int(value)}),
        "facility_kind": (_("Kind of facility"), lambda value: str(FacilityKind(value).label)),
        "facility": (_("Facility"), query.places.facility_name),
        "authority": (_("Authority believed responsible"), query.places.authority_name),
        "updated_since": (_("Published or updated since"), lambda value: value.isoformat()),
    }
    chips = []
    for name, (label, shown) in labels.items():
        value = cleaned.get(name)
        if value in (None, ""):
            continue
        # The other filters, search and order stay; the page starts again; unknown parameters are dropped.
        others = {key: values for key, values in _known(request, query).items() if key != name}
        chips.append(ActiveFilter(str(label), shown(value), _address(request, others)))
    return chips


def _known(request: HttpRequest, query: CaseQuery) -> dict[str, list[str]]:
    """The list's own parameters that have a value (a form sends its empty fields too), without the page."""
    known = {}
    for key in request.GET:
        values = [value for value in request.GET.getlist(key) if value]
        if key in query.filterset.filters and values:
            known[key] = values
    return known


def _address(request: HttpRequest, params: dict[str, list[str]]) -> str:
    """This page's address (in its language) with ``params`` as its query."""
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def data_querystring(request: HttpRequest, query: CaseQuery, *, without: tuple[str, ...] = ()) -> str:
    """The list's filters, search and order as the JSON API and the CSV export take them (not the page)."""
    if not query.valid:
        return ""
    params = QueryDict(mutable=True)
    for key, values in _known(request, query).items():
        if key not in without:
            params.setlist(key, values)
    return params.urlencode()


def filters_form(request: HttpRequest, query: CaseQuery, *, action: str) -> str:
    """The list's filter form sending its search to ``action`` (the statistics page), without the list's counts
    beside it (the charts are those counts)."""
    return _filters_html(request, query, active=0, action=action)


def _filters_html(request: HttpRequest, query: CaseQuery, *, active: int, action: str = "") -> str:
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
            query.filterset.form.fields["nationality"].choices = [("", ANY_COUNTRY), *present.items()]
            # The same for the facilities and authorities: those the published cases name, with their counts.
            for name, counts, named in (
                ("facility", query.facility_counts, query.places.facility_name),
                ("authority", query.authority_counts, query.places.authority_name),
            ):
                field = query.filterset.form.fields[name]
                offered = {str(pk): f"{named(pk)} ({count})" for pk, count in counts.items()}
                selected = query.filterset.form.cleaned_data.get(name) or ""
                if selected and selected not in offered:
                    offered[selected] = named(selected)
                field.choices = sorted(offered.items(), key=lambda item: item[1])  # after its "Any …"
        context = {
            "filter": query.filterset,
            "facets": facets if not action else {},
            "active": active,
            "open": not query.valid,
            "action": action,
        }
        return render_to_string("public/_list_filters.html", context, request)

    if not query.valid:
        return mark_safe(rendered())  # noqa: S308 (our own template's output, escaped by it)
    # In the page's language: its labels, and the counts' country and category names, are translated.
    key = f"{get_language()} {action} {query.key('page')}"
    return mark_safe(cached(request, "filters", key, rendered))  # noqa: S308 (as above)


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_safe
@follows_merges("public:case_detail")
@rendering.reads_kept_page
@public_page(whole_page=False)  # the kept page is one read already
def case_detail(request: HttpRequest, case_id: str) -> HttpResponse:
    return rendering.case_page(request, case_id)


@require_safe
@follows_merges("public:case_detail")
@public_page
def case_version(request: HttpRequest, case_id: str, number: int) -> HttpResponse:
    return render(request, "public/case_detail.html", rendering.case_context(request, public_version(case_id, number)))


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
    # The latest capture any citing version names (versions published at different times may name different ones).
    shown = max(rows, key=lambda row: (row.captured_at is not None, row.captured_at or row.version.published_at))
    # The copy offered is the capture the page names, when the public may download it.
    copy = public_copy(source_id, shown.capture_id) if shown.capture_id else None
    context = {"source": shown, "citing": [row.version for row in rows], "copy": copy}
    return render(request, "public/source_detail.html", context)


@require_safe
@never_cache
def source_copy(request: HttpRequest, source_id: int, capture_id: int) -> HttpResponseBase:
    """The archived copy of a source's page, when an editor let the public download it (workflow.copies)."""
    capture = public_copy(source_id, capture_id)
    if capture is None:
        raise Http404(_("No archived copy of this source is public."))
    try:
        copy = checked_copy(capture.body, capture.body_size, capture.body_sha256)
    except (StoredFileMissing, StoredFileDamaged) as error:
        logger.error("Capture %s: its public copy is not served: %s", capture.pk, error)
        raise Http404(_("No archived copy of this source is public.")) from None
    filename = f"source-{source_id}-captured-{capture.captured_at:%Y-%m-%d}{extension_for(capture.content_type)}"
    return attachment(copy, filename=filename, content_type=capture.content_type)


@require_safe
@public_page
def about(request: HttpRequest) -> HttpResponse:
    """Who runs the site, how cases are checked, how to send information safely and ask for a correction."""
    contact = settings.ORGANISATION_CONTACT
    contact_link: SafeString | str
    if "@" in contact and not contact.startswith("https://"):
        contact_link = format_html('<a href="mailto:{}">{}</a>', contact, contact)
    elif contact:
        contact_link = format_html('<a href="{}" rel="noopener noreferrer">{}</a>', contact, contact)
    else:
        contact_link = ""
    context = {
        "organisation_name": settings.ORGANISATION_NAME,
        "contact_link": contact_link,
        "address_lines": [line.strip() for line in settings.ORGANISATION_ADDRESS.splitlines() if line.strip()],
        # The page tells how publication works here: it must not promise a second reader the settings turned off.
        "four_eyes": not settings.WORKFLOW_ALLOW_SELF_PUBLISH,
        "example_case_id": f"{settings.CASE_ID_PREFIX}-0001",
    }
    return render(request, "public/about.html", context)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every site for /favicon.ico: send them to the icon (pages name it in base.html)."""
    response = HttpResponseRedirect(static("favicon.svg"))  # not permanent: the file's address has its hash
    patch_cache_control(response, public=True, max_age=86400)
    return response


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

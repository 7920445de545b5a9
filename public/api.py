"""The public JSON API: published records as they are stored, with their addresses (see the README).

Described by public/openapi.py (/api/openapi.json): a change of what these views take or answer changes it too.
"""

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from workflow.models import PublishedVersion

from .caching import public_page
from .queries import CaseQuery, current_case, follows_merges, paginate, refused

API_PAGE_SIZE = 50


def _api_case(request: HttpRequest, version: PublishedVersion) -> dict:
    return {
        **version.record,
        "url": request.build_absolute_uri(reverse("public:case_version", args=[version.case_id, version.number])),
        # When what it shows last changed: its publication, or a redaction since (what updated_since reads).
        "changed_at": (version.changed_at or version.published_at).isoformat(),
    }


def json_not_found(view):
    """A 404 said in JSON, ``{"errors": [...]}`` like a 400, rather than the site's HTML page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404 as error:
            return JsonResponse({"errors": [str(error)]}, status=404, json_dumps_params={"ensure_ascii": False})

    return wrapper


def link_header(links: dict[str, str | None]) -> str:
    """The pages' addresses as an RFC 8288 ``Link`` header: ``<…?page=3>; rel="next", <…?page=1>; rel="prev"``."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)


@require_safe
@json_not_found
@public_page
def api_case_list(request: HttpRequest) -> HttpResponse:
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return refused(query, as_json=True)
    page = paginate(request, query.results(), API_PAGE_SIZE, count=query.count(), query=query)

    def link(number):
        if number is None:
            return None
        params = request.GET.copy()
        params["page"] = number
        return request.build_absolute_uri(f"{reverse('public:api_case_list')}?{params.urlencode()}")

    next_page = link(page.next_page_number() if page.has_next() else None)
    previous_page = link(page.previous_page_number() if page.has_previous() else None)
    response = JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "next": next_page,
            "previous": previous_page,
            "ignored_parameters": query.ignored,
            "results": [_api_case(request, version) for version in page.object_list],
        },
        json_dumps_params={"ensure_ascii": False},
    )
    if links := link_header({"next": next_page, "prev": previous_page}):
        response["Link"] = links
    return response


@require_safe
@follows_merges("public:api_case_detail")
@json_not_found
@public_page
def api_case_detail(request: HttpRequest, case_id: str) -> HttpResponse:
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

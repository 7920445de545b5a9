"""The public CSV exports of the published cases and of their events, with the list's filters.

Vocabularies are written as their stored values in every column (``arrested``, ``abductee``, ``KP``,
``outstanding``), as the API, the statistics' data and the data releases write them; the README lists them.
"""

from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_safe

from cases.spreadsheet import csv_lines
from cases.vocabularies import Status, in_every_language

from .caching import public_page
from .queries import CaseQuery, refused

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
    # The number of public appeals for the case (what they were and whom they went to: the JSON's "appeals").
    "appeals",
    # Where and by whom, and the other published cases connected to it, in the order of the events; the JSON
    # has each event's facility and authorities, and each relation's kind.
    "facilities",
    "authorities",
    "related_cases",
]


def places(record: dict) -> tuple[str, str, str]:
    """The record's public facilities, authorities believed responsible and related cases, each once, in order.

    A version published before facilities and relations has none.
    """
    events = record["events"]
    facilities = dict.fromkeys(event["facility"]["name"] for event in events if event.get("facility"))
    authorities = dict.fromkeys(held["name"] for event in events for held in event.get("responsible", []))
    related = dict.fromkeys(relation["case_id"] for relation in record.get("relations", []))
    return "; ".join(facilities), "; ".join(authorities), "; ".join(related)


EVENT_COLUMNS = [
    "case_id",
    "version",
    "url",
    "event_id",
    "status",
    "date",
    "place",
    "place_ko",
    "place_ja",
    "description",
    "description_ko",
    "description_ja",
    "facility_id",
    "facility",
    "facility_kind",
    "authority_ids",
    "authorities",
    "confidence",
    "source_ids",
]


def event_rows(version, url: str) -> Iterator[tuple]:
    """A version's public events in the order of its timeline, with where they happened and by whom."""
    record = version.record
    sources_of = {citation["id"]: citation["source"] for citation in record["citations"]}
    for event in record["events"]:
        facility = event.get("facility") or {}  # a version published before facilities has none
        responsible = event.get("responsible", [])
        yield (
            record["case_id"],
            version.number,
            url,
            event["id"],
            event["status"],
            event["date"] or "",
            *(event.get(field, "") for field in in_every_language("place")),
            *(event.get(field, "") for field in in_every_language("description")),
            facility.get("id", ""),
            facility.get("name", ""),
            facility.get("kind", ""),
            "; ".join(str(held["id"]) for held in responsible),
            "; ".join(held["name"] for held in responsible),
            event["confidence"],
            "; ".join(str(pk) for pk in dict.fromkeys(sources_of[pk] for pk in event["citations"] if pk in sources_of)),
        )


@require_safe
@public_page
def export_events_csv(request: HttpRequest) -> HttpResponseBase:
    """The public events of the cases the list's filters give, one row each: dates at their own precision."""
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return refused(query, as_json=False)
    base = request.build_absolute_uri("/")[:-1]

    def rows():
        for version in query.results().only("record", "number", "case_id").iterator(chunk_size=500):
            yield from event_rows(
                version, base + reverse("public:case_version", args=[version.case_id, version.number])
            )

    response = StreamingHttpResponse(csv_lines(EVENT_COLUMNS, rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="whereabouts-events.csv"'
    return response


@require_safe
@public_page
def export_csv(request: HttpRequest) -> HttpResponseBase:
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return refused(query, as_json=False)
    base = request.build_absolute_uri("/")[:-1]

    def rows():
        for version in query.results().only("record", "number", "published_at", "case_id").iterator(chunk_size=500):
            record = version.record
            yield (
                record["case_id"],
                version.number,
                base + reverse("public:case_version", args=[version.case_id, version.number]),
                record["name"],
                record["name_native"],
                "; ".join(other["name"] for other in record["other_names"]),
                record["sex"],
                record["birth_date"],
                record["nationality"],
                "; ".join(category["slug"] for category in record["categories"]),
                record["status"],
                record["status_since"],
                record["last_confirmed"],
                "clarified" if Status.is_clarified(record["status"]) else "outstanding",
                record["summary"],
                version.published_at.isoformat(),
                len(record.get("appeals", [])),  # a version published before appeals has none
                *places(record),
            )

    response = StreamingHttpResponse(csv_lines(CSV_COLUMNS, rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="whereabouts-cases.csv"'
    return response

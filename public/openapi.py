"""The OpenAPI 3.1 description of the public API, as Python data: served at /api/openapi.json, read by the API
page (/api/), and checked against real responses by tests/test_openapi.py and tests/test_openapi_schemathesis.py.

Built at each request, in the active language, from the code's own vocabularies (statuses, kinds of facility,
confidence, sex, relations, appeals, kinds of source) and the categories in the database, so the description
cannot drift from what the API accepts and answers.

To describe a new address, add one entry to :data:`PATHS`: the path as OpenAPI writes it (``{name}`` for a
part of the address) and a function that returns its Path Item, built with :func:`operation` and the
responses below. For example, a CSV of the published events::

    def events_csv() -> dict:
        return {
            "get": operation(
                "exportEventsCsv",
                _("The published events, as CSV"),
                _("One row a public event of a published case."),
                parameters=case_filters(),
                responses={"200": csv_response(_("The events.")), "400": text_error_response()},
            )
        }

    PATHS["/export/events.csv"] = events_csv

A JSON answer names its schema with :func:`json_response` (``ref("Name")`` for one in :func:`schemas`; add
new ones there). tests/test_openapi.py fails while a public route under api/ or export/ is not in PATHS.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_countries import countries

from advocacy.vocabularies import Addressee, AppealKind, AppealOutcome, AppealState
from cases.vocabularies import Category, Confidence, FacilityKind, RelationKind, Sex, Status
from sources.vocabularies import SourceKind

from .api import API_PAGE_SIZE
from .caching import public_page
from .export import CSV_COLUMNS, EVENT_COLUMNS
from .filters import FATES, SORTS
from .statistics import CHART_KINDS

OPENAPI_VERSION = "3.1.0"
# The version of the API's contract: raised when a field is removed or changes meaning (adding one is no change).
API_VERSION = "1.0"
# A partial date as a record writes it: a year, a month or a day, "~" when approximate ("2014-10~").
PARTIAL_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?~?$"
# A case ID: the prefix (CASE_ID_PREFIX when it was allocated) and a number ("KP-0001").
CASE_ID_PATTERN = r"^[A-Z][A-Z0-9]{0,9}-[0-9]{4,}$"
EXAMPLE_CASE_ID = "KP-0001"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def choice(vocabulary, description: str = "") -> dict:
    """A string from a vocabulary (a TextChoices, or (value, label) pairs), each value with its label."""
    pairs = vocabulary.choices if hasattr(vocabulary, "choices") else vocabulary
    schema = {
        "type": "string",
        "enum": [value for value, _label in pairs],
        # Redoc and others show these beside the values; the API page lists them.
        "x-enumDescriptions": {value: str(label) for value, label in pairs},
    }
    if description:
        schema["description"] = description
    return schema


def text(description: str) -> dict:
    return {"type": "string", "description": description}


def identifier(description: str) -> dict:
    return {"type": "integer", "minimum": 1, "description": description}


def partial_date(description: str) -> dict:
    return nullable({"type": "string", "pattern": PARTIAL_DATE_PATTERN, "description": description})


def obj(properties: dict, required: list[str] | None = None, description: str = "") -> dict:
    """An object with these properties; ``required`` those every stored version has (older ones lack the rest)."""
    schema: dict = {"type": "object", "properties": properties}
    schema["required"] = list(properties) if required is None else required
    if description:
        schema["description"] = description
    return schema


def in_every_language(name: str, description: str) -> dict:
    """A text and its Korean and Japanese forms (``summary``, ``summary_ko``, ``summary_ja``)."""
    return {
        name: text(description),
        f"{name}_ko": text(_("%(field)s, in Korean (empty when not written).") % {"field": name}),
        f"{name}_ja": text(_("%(field)s, in Japanese (empty when not written).") % {"field": name}),
    }


# --- Schemas: what the API answers ----------------------------------------------------------------------------------


def schemas() -> dict:
    """The components' schemas: a published record and its parts, a page of cases, an error."""
    place_names = in_every_language("name", _("The name in English."))
    record = {
        "case_id": {
            "type": "string",
            "pattern": CASE_ID_PATTERN,
            "description": _("The case ID, allocated once and never reused."),
            "examples": [EXAMPLE_CASE_ID],
        },
        "version": {"type": "integer", "minimum": 1, "description": _("The number of this published version.")},
        "published_at": {
            "type": "string",
            "format": "date-time",
            "description": _("When this version was published."),
        },
        "name": text(
            _("The name, or the pseudonym when “pseudonymous” is true, or a descriptor for an unnamed person.")
        ),
        "name_native": text(_("The name in native script (Hangul or Hanja), or empty.")),
        "romanized": {
            "type": "array",
            "items": {"type": "string"},
            "description": _("The native name romanized in the usual systems."),
        },
        "other_names": {"type": "array", "items": ref("OtherName"), "description": _("Other public names.")},
        "pseudonymous": {"type": "boolean", "description": _("True when the name is a pseudonym.")},
        "synthetic": {
            "type": "boolean",
            "description": _("True for synthetic demonstration data, never a real person."),
        },
        "sex": choice(Sex),
        "birth_date": partial_date(_("The date of birth, as precisely as it is known, or null.")),
        "nationality": {
            "type": "string",
            "pattern": "^([A-Z]{2})?$",
            "description": _("The nationality, an ISO 3166-1 alpha-2 code, or empty when not known."),
        },
        "categories": {"type": "array", "items": ref("Category")},
        **in_every_language("summary", _("The public summary.")),
        "summary_ko_is_translation": {"type": "boolean", "description": _("The Korean summary is a translation.")},
        "summary_ja_is_translation": {"type": "boolean", "description": _("The Japanese summary is a translation.")},
        "status": choice(Status, _("The current status, from the latest public event.")),
        "status_since": partial_date(_("Since when the current status holds.")),
        "last_confirmed": partial_date(_("The date of the most recent information.")),
        "events": {"type": "array", "items": ref("Event"), "description": _("The public events, in time order.")},
        "relations": {"type": "array", "items": ref("Relation")},
        "appeals": {"type": "array", "items": ref("Appeal")},
        "person_citations": {
            "type": "array",
            "items": {"type": "integer"},
            "description": _("The citations about the person as a whole (ids in “citations”)."),
        },
        "citations": {"type": "array", "items": ref("Citation")},
        "sources": {"type": "array", "items": ref("Source")},
    }
    # What every stored version has had since the first; the rest came later (see the README).
    always = [
        "case_id",
        "version",
        "published_at",
        "name",
        "name_native",
        "other_names",
        "pseudonymous",
        "sex",
        "birth_date",
        "nationality",
        "categories",
        "summary",
        "status",
        "status_since",
        "last_confirmed",
        "events",
        "person_citations",
        "citations",
        "sources",
    ]
    url = {"type": "string", "format": "uri", "description": _("The address of this version's page.")}
    changed = {
        "type": "string",
        "format": "date-time",
        "description": _(
            "When what this version shows last changed: its publication, or a later redaction (a source "
            "restricted, a name withheld); what updated_since compares."
        ),
    }
    case = obj(
        {**record, "url": url, "changed_at": changed},
        [*always, "url", "changed_at"],
        _("A published case: its current public record."),
    )
    case_with_versions = copy.deepcopy(case)
    case_with_versions["properties"]["versions"] = {"type": "array", "items": ref("Version")}
    case_with_versions["required"].append("versions")
    page_link = nullable({"type": "string", "format": "uri"})
    chart = obj(
        {
            "chart": {"type": "string", "enum": list(CHART_KINDS)},
            "title": {"type": "string"},
            "how_counted": text(_("How the cases are counted.")),
            "rows": {"type": "array", "items": ref("ChartRow")},
            "csv": {"type": "string", "format": "uri", "description": _("The same numbers, as CSV.")},
            "json": {"type": "string", "format": "uri", "description": _("The same numbers, as JSON.")},
        },
        description=_("One chart of the statistics: a count of the cases for each value."),
    )
    counted = {
        "total": {"type": "integer", "minimum": 0, "description": _("How many cases are counted.")},
        "ignored_parameters": {
            "type": "array",
            "items": {"type": "string"},
            "description": _("Parameters of the request that the API does not know, and ignored."),
        },
    }
    return {
        "Case": case,
        "CaseWithVersions": case_with_versions,
        "CasePage": obj(
            {
                "count": {"type": "integer", "minimum": 0, "description": _("How many cases match.")},
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "next": {**page_link, "description": _("The next page's address, or null on the last.")},
                "previous": {**page_link, "description": _("The previous page's address, or null on the first.")},
                "ignored_parameters": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": _("Parameters of the request that the API does not know, and ignored."),
                },
                "results": {"type": "array", "items": ref("Case"), "maxItems": API_PAGE_SIZE},
            }
        ),
        "Version": obj(
            {
                "version": {"type": "integer", "minimum": 1},
                "published_at": {"type": "string", "format": "date-time"},
                "url": {"type": "string", "format": "uri"},
            }
        ),
        "OtherName": obj({"id": identifier(_("The name's id.")), "name": text(_("The name."))}),
        "Category": obj({"slug": {"type": "string"}, **in_every_language("name", _("The name."))}, ["slug", "name"]),
        "Event": obj(
            {
                "id": identifier(_("The event's id.")),
                "status": choice(Status),
                "date": partial_date(_("When it happened, or null when not known.")),
                **in_every_language("place", _("Where it happened.")),
                **in_every_language("description", _("What happened.")),
                "facility": nullable(ref("Facility")),
                "responsible": {
                    "type": "array",
                    "items": ref("ResponsibleAuthority"),
                    "description": _("The public authorities believed responsible."),
                },
                "confidence": choice(Confidence),
                "citations": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            },
            ["id", "status", "date", "place", "description", "confidence", "citations"],
        ),
        "Facility": obj(
            {
                "id": identifier(_("The facility's id (its page: /facilities/{id}/).")),
                **place_names,
                "kind": choice(FacilityKind),
            },
        ),
        "ResponsibleAuthority": obj(
            {"id": identifier(_("The authority's id.")), **place_names, "confidence": choice(Confidence)}
        ),
        "Relation": obj(
            {
                "id": identifier(_("The relation's id.")),
                "kind": choice(RelationKind, _("What the other person is to this one: “parent”, the other's parent.")),
                "case_id": {"type": "string", "pattern": CASE_ID_PATTERN},
                "name": text(_("The other case's public name.")),
                "name_native": text(_("The other case's public name in native script.")),
                "confidence": choice(Confidence),
                "citations": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            }
        ),
        "Appeal": obj(
            {
                "id": identifier(_("The appeal's id.")),
                "kind": choice(AppealKind),
                "addressee": choice(Addressee),
                "country": {"type": "string", "pattern": "^([A-Z]{2})?$"},
                "sent_on": partial_date(_("When it was sent.")),
                "state": choice(AppealState),
                "outcome": choice(AppealOutcome),
                "closed_on": partial_date(_("When it was closed.")),
                "replies": {
                    "type": "array",
                    "items": obj({"id": identifier(_("The reply's id.")), "received_on": partial_date("")}),
                },
            }
        ),
        "Citation": obj(
            {
                "id": identifier(_("The citation's id.")),
                "source": {"type": "integer", "description": _("The source's id (in “sources”).")},
                "locator": text(_("Where in the source: a page, a paragraph.")),
                "excerpt": text(_("The words quoted from the source, or empty.")),
            }
        ),
        "Source": obj(
            {
                "id": identifier(_("The source's id (its page: /sources/{id}/).")),
                "title": {"type": "string"},
                "kind": choice(SourceKind),
                "publisher": {"type": "string"},
                "published_on": partial_date(_("When it was published.")),
                "url": text(_("Its address, or empty.")),
                "archived_url": text(_("An archived copy's address, or empty.")),
                "language": text(_("Its language's code (en, ko…), or empty.")),
                "capture": nullable(
                    obj(
                        {
                            "id": identifier(_("The capture's id.")),
                            "captured_at": {"type": "string", "format": "date-time"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "warc_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                        description=_(
                            "The latest whole capture of its page when this version was published: when, and the "
                            "SHA-256 of the copy and of the WARC file (the copy itself is not published); null "
                            "without one."
                        ),
                        required=["captured_at", "sha256", "warc_sha256"],
                    )
                ),
            },
            ["id", "title", "kind", "publisher", "published_on", "url", "archived_url"],
        ),
        "Chart": chart,
        "CountedChart": obj(
            {**counted, **chart["properties"]},
            description=_("One chart, with how many cases it counts."),
        ),
        "ChartRow": obj(
            {
                "value": nullable(
                    text(_("The value as the data writes it (a status key, a year), or null for a year not known."))
                ),
                "label": text(_("The value, in words.")),
                "count": {"type": "integer", "minimum": 0},
            }
        ),
        "Statistics": obj({**counted, "charts": {"type": "array", "items": ref("Chart")}}),
        "Errors": obj(
            {"errors": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            description=_("Why the request was refused, one message a problem."),
        ),
    }


# --- Parameters: what the API takes ---------------------------------------------------------------------------------


def parameter(name: str, description: str, schema: dict, example=None, *, where: str = "query") -> dict:
    found: dict = {"name": name, "in": where, "description": description, "schema": schema}
    if where == "path":
        found["required"] = True
    if example is not None:
        found["example"] = example
    return found


def case_filters() -> list[dict]:
    """The list's filters (public.filters.CaseFilter), as the JSON list and the CSV take them."""
    this_year = timezone.localdate().year
    categories = [(category.slug, str(category)) for category in Category.objects.all()]
    category = choice(categories) if categories else {"type": "string"}
    year = {"type": "integer", "minimum": 1800, "maximum": this_year}
    return [
        parameter("q", _("A name, in any spelling or script."), {"type": "string", "maxLength": 200}, "Kim Kook-ki"),
        parameter("status", _("The current status."), choice(Status), Status.DETAINED.value),
        parameter("fate", _("Whether the person's fate is outstanding or clarified."), choice(FATES), "outstanding"),
        parameter("category", _("A category, by its slug."), category, categories[0][0] if categories else None),
        parameter(
            "nationality",
            _("A nationality: an ISO 3166-1 alpha-2 code."),
            {"type": "string", "enum": [code for code, _name in countries]},
            "KP",
        ),
        parameter("facility", _("A public facility, by its id: the cases with an event there."), identifier(""), None),
        parameter(
            "facility_kind", _("The cases with an event at a facility of this kind."), choice(FacilityKind), "kwanliso"
        ),
        parameter(
            "authority",
            _("A public authority, by its id: the cases with an event it is believed responsible for."),
            identifier(""),
            None,
        ),
        parameter("year_from", _("The first event in this year or later."), year, 2000),
        parameter("year_to", _("The first event in this year or earlier."), year, 2020),
        parameter(
            "updated_since",
            _(
                "The cases published or updated since a day (from its start, in UTC) or a moment with its time "
                "zone; not in the future."
            ),
            {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
            "2026-12-01",
        ),
        parameter(
            "sort",
            _("The order: by name unless a name is searched (then the best match first)."),
            choice(SORTS),
            "updated",
        ),
    ]


def page_parameter() -> dict:
    return parameter(
        "page",
        _("The page, from 1 (%(size)s cases a page); a page after the last is not found.") % {"size": API_PAGE_SIZE},
        {"type": "integer", "minimum": 1, "default": 1},
        1,
    )


# --- Responses ------------------------------------------------------------------------------------------------------


def json_response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response: dict = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def csv_response(description: str) -> dict:
    return {"description": description, "content": {"text/csv": {"schema": {"type": "string"}}}}


def error_response(description: str) -> dict:
    return json_response(description, ref("Errors"))


def text_error_response() -> dict:
    return {
        "description": _("A filter's value is invalid: one message a line."),
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }


def operation(
    operation_id: str, summary: str, description: str, *, parameters: list, responses: dict, columns=()
) -> dict:
    """An operation; ``columns``, a CSV's columns in their order (the extension ``x-columns``)."""
    described = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "parameters": [p for p in parameters if p],
        "responses": responses,
    }
    if columns:
        described["x-columns"] = list(columns)
    return described


# --- Paths ----------------------------------------------------------------------------------------------------------


def case_list() -> dict:
    link = {
        "description": _('The next and previous pages, as in RFC 8288: <…?page=3>; rel="next".'),
        "schema": {"type": "string"},
    }
    return {
        "get": operation(
            "listCases",
            _("Published cases"),
            _(
                "The current published version of each case, with the filters of the case list; %(size)s a page, "
                "with the addresses of the next and previous pages."
            )
            % {"size": API_PAGE_SIZE},
            parameters=[*case_filters(), page_parameter()],
            responses={
                "200": json_response(_("A page of cases."), ref("CasePage"), {"Link": link}),
                "400": error_response(_("A filter's value is invalid.")),
                "404": error_response(_("There is no such page.")),
            },
        )
    }


def case_detail() -> dict:
    case_id = parameter(
        "case_id",
        _("The case ID."),
        {"type": "string", "pattern": CASE_ID_PATTERN},
        EXAMPLE_CASE_ID,
        where="path",
    )
    return {
        "get": operation(
            "getCase",
            _("One published case"),
            _("The current published version of a case, with the list of its versions."),
            parameters=[case_id],
            responses={
                "200": json_response(_("The case."), ref("CaseWithVersions")),
                "301": {
                    "description": _(
                        "The case was merged into another published case, whose address this is: both were "
                        "published under their names."
                    ),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "404": error_response(_("No published case has this ID (or it was withdrawn).")),
            },
        )
    }


def cases_csv() -> dict:
    return {
        "get": operation(
            "exportCasesCsv",
            _("Published cases, as CSV"),
            _(
                "The same cases as the JSON list, with the same filters, all at once: UTF-8 with a byte-order mark, "
                "one row a case."
            ),
            parameters=case_filters(),
            responses={"200": csv_response(_("The cases, one row each.")), "400": text_error_response()},
            columns=CSV_COLUMNS,
        )
    }


def events_csv() -> dict:
    return {
        "get": operation(
            "exportEventsCsv",
            _("Public events, as CSV"),
            _(
                "The public events of the cases the filters give, one row an event, dates at their own precision: "
                "UTF-8 with a byte-order mark."
            ),
            parameters=case_filters(),
            responses={"200": csv_response(_("The events, one row each.")), "400": text_error_response()},
            columns=EVENT_COLUMNS,
        )
    }


def statistics() -> dict:
    return {
        "get": operation(
            "getStatistics",
            _("Statistics"),
            _("Every chart of the statistics page, for the cases the filters give."),
            parameters=case_filters(),
            responses={
                "200": json_response(_("The charts."), ref("Statistics")),
                "400": error_response(_("A filter's value is invalid.")),
            },
        )
    }


def chart_parameter() -> dict:
    return parameter(
        "chart", _("The chart."), {"type": "string", "enum": list(CHART_KINDS)}, next(iter(CHART_KINDS)), where="path"
    )


def chart_json() -> dict:
    return {
        "get": operation(
            "getChart",
            _("One chart's numbers, as JSON"),
            _("The numbers of one chart of the statistics page, for the cases the filters give."),
            parameters=[chart_parameter(), *case_filters()],
            responses={
                "200": json_response(_("The chart."), ref("CountedChart")),
                "400": error_response(_("A filter's value is invalid.")),
            },
        )
    }


def chart_csv() -> dict:
    return {
        "get": operation(
            "getChartCsv",
            _("One chart's numbers, as CSV"),
            _("The numbers of one chart, one row a value."),
            parameters=[chart_parameter(), *case_filters()],
            responses={"200": csv_response(_("The chart's rows.")), "400": text_error_response()},
            columns=["value", "label", "count"],
        )
    }


# A release's files, by their media types (public.releases writes them).
RELEASE_MEDIA_TYPES = [
    "text/csv",
    "application/jsonl",
    "application/json",
    "text/markdown",
    "text/plain",
    "application/zip",
]


def release_file_parameter(example: str = "datapackage.json") -> dict:
    return parameter(
        "filename",
        _("The name of one of the release's files, as the list of releases gives it."),
        {"type": "string"},
        example,
        where="path",
    )


def page_not_found() -> dict:
    return {
        "description": _("No such release or file, or the release was withdrawn."),
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


def bad_address() -> dict:
    return {
        "description": _("The address holds a control character."),
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


def release_file() -> dict:
    return {
        "get": operation(
            "getDataReleaseFile",
            _("One file of a data release"),
            _(
                "A file of a numbered data release (a Frictionless data package), with its SHA-256 as its ETag. "
                "A withdrawn release's files are gone."
            ),
            parameters=[
                parameter("number", _("The release's number."), {"type": "integer", "minimum": 1}, 1, where="path"),
                release_file_parameter(),
            ],
            responses={
                "200": {
                    "description": _("The file."),
                    "content": {media_type: {"schema": {}} for media_type in RELEASE_MEDIA_TYPES},
                },
                "304": {"description": _("The file has not changed since the copy you have (its ETag).")},
                "400": bad_address(),
                "404": page_not_found(),
            },
        )
    }


def latest_release_file() -> dict:
    return {
        "get": operation(
            "getLatestDataReleaseFile",
            _("A file of the newest data release"),
            _(
                "Redirects to that file of the newest release that is not withdrawn; the name in the example gives "
                "the zip of the whole release."
            ),
            parameters=[release_file_parameter("latest.zip")],
            responses={
                "302": {
                    "description": _("The file's address in the newest release."),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": bad_address(),
                "404": page_not_found(),
            },
        )
    }


def description_document() -> dict:
    return {
        "get": operation(
            "getApiDescription",
            _("This description"),
            _("The OpenAPI 3.1 description of the public API."),
            parameters=[],
            responses={
                "200": json_response(
                    _("The description."),
                    {"type": "object", "required": ["openapi", "info", "paths"]},
                )
            },
        )
    }


# Every public address of the API and the exports, with what describes it (see the module's docstring).
PATHS: dict[str, Callable[[], dict]] = {
    "/api/cases/": case_list,
    "/api/cases/{case_id}/": case_detail,
    "/export/cases.csv": cases_csv,
    "/export/events.csv": events_csv,
    "/api/statistics/": statistics,
    "/statistics/{chart}.json": chart_json,
    "/statistics/{chart}.csv": chart_csv,
    "/api/openapi.json": description_document,
    "/data/{number}/{filename}": release_file,
    "/data/latest/{filename}": latest_release_file,
}


def licence() -> dict:
    """The terms of the public data, the same for the API, the CSV and the data releases (DATA_RELEASE_LICENSE)."""
    title, url = settings.DATA_RELEASE_LICENSES[settings.DATA_RELEASE_LICENSE]
    return {"name": title, "url": url}


def description() -> dict:
    """The whole OpenAPI document, in the active language."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": _("Whereabouts public API"),
            "version": API_VERSION,
            "summary": _("Published cases of detained and disappeared persons, as JSON and CSV."),
            "description": _(
                "Read-only and without a key. Every record is a published version of a case: what an editor "
                "made public, each fact with its sources. A case withdrawn leaves every answer at once. Cite a "
                "case by its ID and version, with the address of that version."
            ),
            "license": licence(),
        },
        "servers": [{"url": "/"}],
        "paths": {path: describe() for path, describe in PATHS.items()},
        "components": {"schemas": schemas()},
    }


# --- The description's two readings: JSON for programs, a page for people ------------------------------------------


@require_safe
@public_page
def api_description(request: HttpRequest) -> HttpResponse:
    """/api/openapi.json: the description, in the page's language (/ko/api/openapi.json in Korean)."""
    return JsonResponse(description(), json_dumps_params={"ensure_ascii": False, "indent": 1})


@require_safe
@public_page
def api_page(request: HttpRequest) -> HttpResponse:
    """/api/: what the API gives and how to use it, each address with its parameters read from the description."""
    document = description()
    list_url = reverse("public:api_case_list")
    examples = [
        (f"{list_url}?{query}", label)
        for query, label in [
            ("status=detained&sort=name", _("The cases of persons detained now, by name")),
            ("q=Kim+Kook-ki", _("A name search, in any spelling")),
            ("facility_kind=kwanliso&year_from=2010", _("Held in a political prison camp, first event from 2010")),
            ("updated_since=2026-12-01&sort=updated", _("Published or updated since 1 December 2026, newest first")),
        ]
    ]
    examples.append((reverse("public:api_case_detail", args=[EXAMPLE_CASE_ID]), _("One case, with its versions")))
    examples.append((f"{reverse('public:export_csv')}?status=detained", _("The same cases as CSV")))
    return render(
        request,
        "public/api.html",
        {
            "info": document["info"],
            "endpoints": list(endpoints(document)),
            "examples": examples,
            "page_size": API_PAGE_SIZE,
        },
    )


def endpoints(document: dict) -> Iterator[dict]:
    """Each operation of the document, in words for the API page.

    A query parameter is described once, where it first appears; the operations after name it with a link
    there (the list's filters, which the exports and the statistics take too).
    """
    first: dict[str, tuple[str, str]] = {}
    for path, item in document["paths"].items():
        for method, described in item.items():
            label, anchor = f"{method.upper()} {path}", described["operationId"]
            parameters: list[dict] = []
            shared: dict[tuple[str, str], list[str]] = {}
            for p in described["parameters"]:
                if p["in"] == "query" and p["name"] in first:
                    shared.setdefault(first[p["name"]], []).append(p["name"])
                    continue
                if p["in"] == "query":
                    first[p["name"]] = (anchor, label)
                parameters.append(
                    {
                        "name": p["name"],
                        "in_path": p["in"] == "path",
                        "description": p["description"],
                        "kind": kind(p["schema"]),
                        "values": values(p["schema"]),
                        "example": p.get("example"),
                    }
                )
            yield {
                "method": method.upper(),
                "path": path,
                "anchor": anchor,
                "summary": described["summary"],
                "description": described["description"],
                "parameters": parameters,
                "columns": described.get("x-columns", []),
                "shared": [(where, where_label, names) for (where, where_label), names in shared.items()],
                "responses": [
                    (status, response["description"], list(response.get("content", {})))
                    for status, response in described["responses"].items()
                ],
            }


# Enumerations longer than this (the countries) are described in words, not listed on the page.
LISTED_VALUES = 20


def values(schema: dict) -> list[tuple[str, str]]:
    """A parameter's values with their labels, when they are few enough to list (a chart's: without labels)."""
    listed = schema.get("enum")
    if listed is None or len(listed) > LISTED_VALUES:
        return []
    labels = schema.get("x-enumDescriptions", {})
    return [(value, labels.get(value, "")) for value in listed]


def kind(schema: dict) -> str:
    """What a parameter takes, in words."""
    values = schema.get("enum")
    if values is not None and len(values) > LISTED_VALUES:
        return _("one of %(count)s codes") % {"count": len(values)}
    if values is not None:
        return _("one of the values listed")
    if "anyOf" in schema:
        return _("a day (2026-12-01) or a moment with its time zone (2026-12-01T09:30:00Z)")
    if schema.get("type") == "integer":
        if "maximum" in schema:
            return _("a whole number from %(minimum)s to %(maximum)s") % schema
        return _("a whole number from %(minimum)s") % schema
    if "pattern" in schema and schema["pattern"] == CASE_ID_PATTERN:
        return _("a case ID such as %(example)s") % {"example": EXAMPLE_CASE_ID}
    if "maxLength" in schema:
        return _("text, at most %(maxLength)s characters") % schema
    return _("text")

"""The OpenAPI description (/api/openapi.json) stays true: a valid OpenAPI 3.1 document, every public data address
in it, real answers of every kind valid against it (jsonschema, Draft 2020-12), its parameters the list's
filters; and the API page (/api/) written from it in every language.

Real answers are checked twice: against the description as published (open: a client must accept fields added
later), and against a strict copy that refuses any field it does not describe, so that a field added to the
records (workflow/snapshots.py) without its description fails here.
"""

import copy
import json
import re

import pytest
from django.urls import URLPattern, reverse
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.specs.openapi.definitions import OPENAPI_31

from cases.history import save_with_history
from cases.models import Category, Person, Responsibility, Status
from cases.partial_dates import PartialDate
from public import urls as public_urls
from public.filters import CaseFilter
from public.openapi import PATHS
from workflow.models import PublishedVersion

from .factories import (
    make_appeal,
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_person,
    make_publishable_case,
    make_relation,
    make_source,
    make_variant,
    publish_case,
)
from .public_data import SEED_IDS, seed_for_this_module  # noqa: F401

pytestmark = pytest.mark.django_db

DOCUMENT_ID = "urn:whereabouts:openapi"


def described(client, prefix: str = "") -> dict:
    response = client.get(f"{prefix}/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def strict(document: dict) -> dict:
    """The document with every object closed to fields it does not describe."""
    document = copy.deepcopy(document)

    def close(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(document["components"])
    return document


def response_schema(document: dict, path: str, status: int, media_type: str = "application/json") -> dict:
    return document["paths"][path]["get"]["responses"][str(status)]["content"][media_type]["schema"]


def validator(document: dict, path: str, status: int) -> Draft202012Validator:
    """A Draft 2020-12 validator of the answer described for ``path`` and ``status``, references resolved."""
    registry = Registry().with_resource(DOCUMENT_ID, Resource.from_contents(document, DRAFT202012))
    schema = json.loads(json.dumps(response_schema(document, path, status)).replace('"#/', f'"{DOCUMENT_ID}#/'))
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_conforms(document: dict, path: str, response) -> dict:
    """The answer is JSON valid against its description, both open and strict; returns it."""
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    data = json.loads(response.content)
    for version in (document, strict(document)):
        errors = [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator(version, path, response.status_code).iter_errors(data)
        ]
        assert not errors, errors
    return data


# --- The document ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"], ids=["English", "Korean", "Japanese"])
def test_the_description_is_a_valid_openapi_3_1_document(client, prefix):
    document = described(client, prefix)
    assert document["openapi"] == "3.1.0"
    Draft202012Validator(OPENAPI_31).validate(document)
    assert document["servers"] == [{"url": "/"}]
    assert document["info"]["license"] == {
        "name": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation["parameters"]:
                Draft202012Validator.check_schema(parameter["schema"])
    # Every reference leads somewhere.
    for target in set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(document))):
        assert target in document["components"]["schemas"], target


def test_the_description_is_in_the_pages_language_and_the_same_in_every_one(client):
    english, korean = described(client), described(client, "/ko")
    assert english["info"]["title"] == "Whereabouts public API"
    assert list(english["paths"]) == list(korean["paths"])
    assert english["components"]["schemas"].keys() == korean["components"]["schemas"].keys()


def public_data_routes() -> list[str]:
    """The public site's data addresses, as OpenAPI writes them: under api/, export/ or data/<…> (a release's
    files), or a .json or .csv file."""
    found = []
    for pattern in public_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if pattern.name == "api_page":  # the page for people, about the API
            continue
        if route.startswith(("api/", "export/", "data/<", "data/latest/")) or route.endswith((".json", ".csv")):
            found.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return found


def test_every_public_api_and_export_address_is_described(client):
    routes = public_data_routes()
    assert {"/api/cases/", "/api/cases/{case_id}/", "/export/cases.csv", "/api/openapi.json"} <= set(routes)
    missing = set(routes) - set(described(client)["paths"])
    assert not missing, f"describe these in public/openapi.py (PATHS): {sorted(missing)}"
    assert set(PATHS) <= set(routes), "a described address that the site does not have"


def test_the_described_parameters_are_the_lists_filters_with_their_values(client):
    document = described(client)
    parameters = {p["name"]: p for p in document["paths"]["/api/cases/"]["get"]["parameters"]}
    assert set(parameters) == set(CaseFilter.base_filters) | {"page"}
    csv_parameters = {p["name"] for p in document["paths"]["/export/cases.csv"]["get"]["parameters"]}
    assert csv_parameters == set(CaseFilter.base_filters)
    form = CaseFilter({}, queryset=PublishedVersion.objects.none()).form
    for name in ("status", "fate", "facility_kind", "sort", "nationality"):
        choices = [str(value) for value, _label in form.fields[name].choices if value != ""]
        assert parameters[name]["schema"]["enum"] == choices, name
    assert parameters["category"]["schema"]["enum"] == list(Category.objects.values_list("slug", flat=True))
    assert parameters["status"]["schema"]["x-enumDescriptions"]["detained"] == "Detained"


def test_a_new_category_is_described_at_once(client):
    Category.objects.create(slug="labour-camp-survivor", name="Labour camp survivor")
    # The description is kept per generation of the public data, as every public page.
    from public.caching import caches

    caches["pages"].clear()
    parameters = {p["name"]: p for p in described(client)["paths"]["/api/cases/"]["get"]["parameters"]}
    assert "labour-camp-survivor" in parameters["category"]["schema"]["enum"]


# --- Real answers ---------------------------------------------------------------------------------------------------


def everything_a_record_can_hold() -> Person:
    """A published case with every part a record has: names, categories, texts in three languages, an event at a
    facility with the authorities believed responsible, a relation to another published case, an appeal with a
    reply."""
    authority = make_authority("Ministry of People's Security", name_ko="인민보안성", name_ja="人民保安省")
    camp = make_facility("Camp 16", name_ko="16호 관리소", authority=authority)
    source = make_source(title="Annual report", publisher="NK Watch", url="https://example.org/r", language="en")
    person = make_publishable_case(
        name="Park Yong-su",
        family_name_native="박",
        given_name_native="용수",
        summary="Arrested after returning.",
        summary_ko="귀환 후 체포.",
        nationality="KP",
        sex="male",
        birth_date=PartialDate.parse("1970~"),
        source=source,
    )
    person.categories.set(Category.objects.all()[:2])
    make_variant(person, "Pak Yong-su")
    make_citation(source, person=person, locator="p. 3", excerpt="He was taken.")
    event = make_event(
        person, Status.PRISON_CAMP, "2015-03", is_public=True, facility=camp, place="Yodok", place_ko="요덕"
    )
    make_citation(source, status_event=event, locator="p. 4")
    Responsibility.objects.create(status_event=event, authority=authority, confidence="likely")
    brother = make_publishable_case(name="Park Yong-chol")
    make_relation(person, "sibling", brother, source=source, confidence="possible")
    appeal = make_appeal(person, kind="letter", sent="2016-03", is_public=True)
    appeal.record_reply(by=None, received_on=PartialDate.parse("2016-09-12"), says="No information")
    publish_case(brother)
    publish_case(person)
    return publish_case(person)  # a second version, the relation to the brother now on the site


def test_the_seed_cases_conform_in_the_list_and_each_on_its_own(client):
    document = described(client)
    page = assert_conforms(document, "/api/cases/", client.get("/api/cases/"))
    assert sorted(result["case_id"] for result in page["results"]) == SEED_IDS
    for case_id in SEED_IDS:
        assert_conforms(document, "/api/cases/{case_id}/", client.get(f"/api/cases/{case_id}/"))


def test_a_case_with_facilities_authorities_relations_and_appeals_conforms(client):
    person = everything_a_record_can_hold()
    document = described(client)
    data = assert_conforms(document, "/api/cases/{case_id}/", client.get(f"/api/cases/{person.case_id}/"))
    event = next(event for event in data["events"] if event["facility"])
    assert event["facility"]["kind"] == "kwanliso"
    assert event["responsible"][0]["confidence"] == "likely"
    assert data["relations"][0]["kind"] == "sibling"
    assert data["appeals"][0]["replies"][0]["received_on"] == "2016-09-12"
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert_conforms(document, "/api/cases/", client.get("/api/cases/", {"q": "Park Yong-su"}))


def test_a_pseudonymous_case_conforms(client):
    person = make_publishable_case(name="Ri Hidden", reprisal_risk=True, pseudonym="Woman from Hyesan, 2019")
    publish_case(person)
    data = assert_conforms(described(client), "/api/cases/{case_id}/", client.get(f"/api/cases/{person.case_id}/"))
    assert data["pseudonymous"] is True and data["birth_date"] is None


def test_a_version_published_before_later_fields_still_conforms(client):
    """Stored versions keep the keys they were published with: the earliest had no romanizations, texts in other
    languages, synthetic flag, facilities, authorities, relations or appeals."""
    person = everything_a_record_can_hold()
    version = PublishedVersion.objects.get(person=person, is_current=True)
    record = version.record
    for key in ("romanized", "synthetic", "relations", "appeals", "summary_ko", "summary_ja"):
        del record[key]
    record.pop("summary_ko_is_translation")
    record.pop("summary_ja_is_translation")
    for event in record["events"]:
        for key in ("facility", "responsible", "place_ko", "place_ja", "description_ko", "description_ja"):
            del event[key]
    for source in record["sources"]:
        del source["language"]
    for category in record["categories"]:
        del category["name_ko"], category["name_ja"]
    version.save()
    document = described(client)
    assert_conforms(document, "/api/cases/{case_id}/", client.get(f"/api/cases/{person.case_id}/"))


def test_the_strict_check_refuses_a_field_the_description_does_not_name(client):
    document = strict(described(client))
    data = json.loads(client.get("/api/cases/KP-0001/").content)
    check = validator(document, "/api/cases/{case_id}/", 200)
    assert check.is_valid(data)
    assert not check.is_valid({**data, "internal_notes": "never public"})
    data["events"][0]["informant"] = "never public"
    assert not check.is_valid(data)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "sentenced"},
        {"category": "missionary", "sort": "updated"},
        {"nationality": "KP", "fate": "outstanding"},
        {"year_from": "2000", "year_to": "2024", "sort": "date"},
        {"updated_since": "2020-01-01"},
        {"updated_since": "2020-01-01T09:30:00+09:00", "sort": "updated"},
        {"facility_kind": "kwanliso"},
        {"q": "Kim", "sort": "relevance"},
        {"unknown": "x", "status": "disappeared"},
    ],
)
def test_filtered_lists_conform(client, params):
    everything_a_record_can_hold()
    page = assert_conforms(described(client), "/api/cases/", client.get("/api/cases/", params))
    assert page["ignored_parameters"] == (["unknown"] if "unknown" in params else [])


def test_the_list_pages_link_to_each_other_in_the_body_and_the_link_header(client, monkeypatch):
    monkeypatch.setattr("public.api.API_PAGE_SIZE", 2)
    document = described(client)
    first = client.get("/api/cases/", {"status": "disappeared"})
    data = assert_conforms(document, "/api/cases/", first)
    assert data["previous"] is None and "page=2" in data["next"] and "status=disappeared" in data["next"]
    assert first["Link"] == f'<{data["next"]}>; rel="next"'
    second = client.get("/api/cases/", {"status": "disappeared", "page": 2})
    data = assert_conforms(document, "/api/cases/", second)
    assert data["next"] is None
    assert second["Link"] == f'<{data["previous"]}>; rel="prev"'
    # Served again from the cache: the header too.
    assert client.get("/api/cases/", {"status": "disappeared", "page": 2})["Link"] == second["Link"]
    assert not client.get("/api/cases/", {"status": "sentenced"}).has_header("Link")  # one page: nothing to link


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"year_from": "2024", "year_to": "2000"},
        {"year_from": "1700"},
        {"updated_since": "2999-01-01"},
        {"updated_since": "2026-12-01T09:30:00"},
        {"category": "no-such-category"},
        {"facility": "999999"},
        {"q": "Kim\x00"},
    ],
)
def test_a_refused_filter_is_a_400_as_described(client, params):
    response = client.get("/api/cases/", params)
    assert response.status_code == 400
    assert assert_conforms(described(client), "/api/cases/", response)["errors"]
    csv = client.get("/export/cases.csv", params)
    assert csv.status_code == 400
    assert csv["Content-Type"].startswith("text/plain")
    assert "text/plain" in described(client)["paths"]["/export/cases.csv"]["get"]["responses"]["400"]["content"]


@pytest.mark.parametrize("address", ["/api/cases/KP-9999/", "/api/cases/nonsense/", "/api/cases/?page=99"])
def test_not_found_is_a_404_as_described(client, address):
    response = client.get(address)
    assert response.status_code == 404
    path = "/api/cases/" if "?" in address else "/api/cases/{case_id}/"
    assert assert_conforms(described(client), path, response)["errors"]


def test_a_withdrawn_case_is_a_404_as_described(client):
    from workflow.services import withdraw

    withdraw(Person.objects.get(case_id="KP-0003"), by=None, reason="test: withdrawn")
    response = client.get("/api/cases/KP-0003/")
    assert response.status_code == 404
    assert_conforms(described(client), "/api/cases/{case_id}/", response)


def test_the_csv_is_text_csv_as_described(client):
    response = client.get("/export/cases.csv", {"status": "disappeared"})
    assert response.status_code == 200
    assert (
        response["Content-Type"].split(";")[0]
        in described(client)["paths"]["/export/cases.csv"]["get"]["responses"]["200"]["content"]
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header = body.splitlines()[0]
    # The columns the description names are the file's, in their order.
    assert header.split(",") == described(client)["paths"]["/export/cases.csv"]["get"]["x-columns"]


def test_the_description_describes_itself(client):
    document = described(client)
    schema = response_schema(document, "/api/openapi.json", 200)
    Draft202012Validator(schema).validate(document)


# --- The page -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"], ids=["English", "Korean", "Japanese"])
def test_the_api_page_lists_every_described_address_with_its_parameters(client, prefix):
    response = client.get(f"{prefix}/api/")
    assert response.status_code == 200
    html = response.content.decode()
    document = described(client, prefix)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert f"<code>{method.upper()} {path}</code>" in html, path
            assert f'id="{operation["operationId"]}"' in html
            for parameter in operation["parameters"]:
                assert f"<code>{parameter['name']}</code>" in html
    assert f'href="{prefix}/api/openapi.json"' in html
    assert f'href="{prefix}/export/cases.csv?status=detained"' in html
    assert "updated_since=2026-12-01&amp;sort=updated" in html and "<code>Link</code>" in html
    assert 'rel="license"' in html
    assert f'<html lang="{prefix.strip("/") or "en"}">' in html


def test_the_api_page_has_no_inline_script_or_style(client):
    html = client.get("/api/").content.decode()
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    assert " style=" not in html and "<style" not in html
    # Each parameter table has its caption, which names the box it scrolls in on a phone.
    tables = re.findall(
        r'<div class="table-scroll" role="region" tabindex="0" aria-labelledby="([^"]+)">\s*'
        r'<table class="facility-table api-parameters">\s*<caption id="([^"]+)">',
        html,
    )
    assert tables and all(box == caption for box, caption in tables)


@pytest.mark.parametrize("address", ["/", "/cases/", "/about/"])
def test_the_footer_links_to_the_api_page(client, address):
    assert f'href="{reverse("public:api_page")}"' in client.get(address).content.decode()


def test_the_about_page_leads_to_the_api_page(client):
    html = client.get("/ko/about/").content.decode()
    assert 'href="/ko/api/"' in html.split("<footer", 1)[0]


def test_the_api_page_lists_the_status_values_with_their_labels(client):
    html = client.get("/api/").content.decode()
    for value in Status.values:
        assert f"<code>{value}</code>" in html
    korean = client.get("/ko/api/").content.decode()
    assert "<code>detained</code>" in korean


def test_an_edit_made_on_the_staff_side_is_not_in_the_description(client):
    """The description names vocabularies and categories, never a case's data (nothing from the working records)."""
    person = make_person(name="Sentinel Qorvash")
    save_with_history(person, by=None, reason="test")
    assert "Sentinel Qorvash" not in client.get("/api/openapi.json").content.decode()
    assert "Sentinel Qorvash" not in client.get("/api/").content.decode()

"""The public JSON API: the published versions only, paged, filtered, searched; a case and its versions."""

import datetime
import json

import pytest
from django.urls import reverse

import public.api
import public.export
from cases.models import Person, PublicationState, Status
from workflow.services import withdraw

from .factories import make_citation, make_person, make_source, publish_case
from .public_data import (
    SEED_IDS,
    SEED_NAMES,
    SENTINEL,
    api_case,
    api_list,
    republish,
    seed_for_this_module,  # noqa: F401 (a fixture, for every test of the module)
)

pytestmark = pytest.mark.django_db


# --- JSON ------------------------------------------------------------------------------------------


def test_api_lists_the_published_seed_cases(client):
    data = api_list(client)
    assert data["count"] == 6
    assert data["page"] == 1
    assert data["pages"] == 1
    assert data["next"] is None
    assert data["previous"] is None
    assert data["ignored_parameters"] == []
    assert sorted(result["case_id"] for result in data["results"]) == SEED_IDS
    for result in data["results"]:
        for key in ("case_id", "name", "status", "events", "sources", "url"):
            assert key in result, key
        assert result["name"] == SEED_NAMES[result["case_id"]]
        assert result["url"] == f"http://testserver/cases/{result['case_id']}/versions/1/"
        assert isinstance(result["events"], list) and result["events"]
        assert isinstance(result["sources"], list) and result["sources"]
        assert result["status"] in Status.values
    kook_ki = next(result for result in data["results"] if result["case_id"] == "KP-0003")
    assert kook_ki["status"] == Status.DISAPPEARED
    assert kook_ki["name_native"] == "김국기"
    assert {other["name"] for other in kook_ki["other_names"]} == {"Kim Kook-kie", "김국기"}
    assert "internal_notes" not in kook_ki
    assert "external_ref" not in kook_ki


def test_api_result_urls_lead_to_the_case_pages(client):
    for result in api_list(client)["results"]:
        response = client.get(result["url"].removeprefix("http://testserver"))
        assert response.status_code == 200
        assert response.context["case"].case_id == result["case_id"]


def test_api_lists_only_published_cases(client):
    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.WITHDRAWN):
        make_person(name=f"{SENTINEL} {state}", publication_state=state)
    data = api_list(client)
    assert data["count"] == 6
    assert SENTINEL not in json.dumps(data, ensure_ascii=False)


def test_api_pages_with_next_and_previous_links(client, monkeypatch):
    monkeypatch.setattr(public.api, "API_PAGE_SIZE", 4)
    first = api_list(client, sort="name")
    assert first["count"] == 6
    assert first["pages"] == 2
    assert first["page"] == 1
    assert len(first["results"]) == 4
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/cases/?")
    assert "page=2" in first["next"]
    assert "sort=name" in first["next"]

    response = client.get(first["next"].removeprefix("http://testserver"))
    assert response.status_code == 200
    second = response.json()
    assert second["page"] == 2
    assert second["next"] is None
    assert len(second["results"]) == 2
    assert "page=1" in second["previous"]
    assert "sort=name" in second["previous"]
    ids = [result["case_id"] for result in first["results"] + second["results"]]
    assert sorted(ids) == SEED_IDS  # every case once, none twice across the pages
    names = [result["name"] for result in first["results"] + second["results"]]
    assert names == sorted(names)

    back = client.get(second["previous"].removeprefix("http://testserver")).json()
    assert back["results"] == first["results"]


def test_api_page_links_keep_the_filters(client, monkeypatch):
    monkeypatch.setattr(public.api, "API_PAGE_SIZE", 2)
    first = api_list(client, category="missionary")
    assert first["count"] == 3
    assert first["pages"] == 2
    assert "category=missionary" in first["next"]
    second = client.get(first["next"].removeprefix("http://testserver")).json()
    ids = [result["case_id"] for result in first["results"] + second["results"]]
    assert sorted(ids) == ["KP-0002", "KP-0003", "KP-0004"]


def test_api_pages_at_its_default_size(client):
    for n in range(45):
        person = make_person(name=f"Ri Paging-{n:02d}")
        make_citation(make_source(), person=person)
        publish_case(person)
    first = api_list(client)
    assert first["count"] == 51
    assert len(first["results"]) == 50
    assert first["pages"] == 2
    assert "page=2" in first["next"]
    second = client.get(first["next"].removeprefix("http://testserver")).json()
    assert len(second["results"]) == 1
    assert len({r["case_id"] for r in first["results"] + second["results"]}) == 51


@pytest.mark.parametrize("page", ["999", "0", "-1", "abc", "1.5"])
def test_api_page_out_of_range_is_404(client, page):
    response = client.get(reverse("public:api_case_list"), {"page": page})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "sentenced"}, ["KP-0005", "KP-0006"]),
        ({"status": "disappeared"}, ["KP-0001", "KP-0002", "KP-0003", "KP-0004"]),
        ({"category": "missionary"}, ["KP-0002", "KP-0003", "KP-0004"]),
        ({"nationality": "KP"}, ["KP-0001"]),
        ({"fate": "outstanding"}, SEED_IDS),
        ({"fate": "clarified"}, []),
        ({"year_from": "2024"}, ["KP-0005", "KP-0006"]),
        ({"year_to": "2023"}, []),
        ({"status": "sentenced", "category": "missionary"}, []),
    ],
)
def test_api_filters(client, params, expected):
    data = api_list(client, **params)
    assert sorted(result["case_id"] for result in data["results"]) == expected
    assert data["count"] == len(expected)
    for result in data["results"]:
        if "status" in params:
            assert result["status"] == params["status"]
        if "category" in params:
            assert params["category"] in [category["slug"] for category in result["categories"]]


@pytest.mark.parametrize(
    ("query", "case_id"), [("Gim Guk-gi", "KP-0003"), ("Choe Chun-gil", "KP-0004"), ("김철옥", "KP-0001")]
)
def test_api_name_search(client, query, case_id):
    data = api_list(client, q=query)
    assert data["results"][0]["case_id"] == case_id
    assert data["count"] == len(data["results"]) >= 1


def test_api_name_search_finds_nothing_for_an_unrelated_name(client):
    data = api_list(client, q="Park Min-ho")
    assert data["count"] == 0
    assert data["results"] == []


def test_api_lists_unknown_parameters_as_ignored(client):
    data = api_list(client, colour="blue", status="sentenced")
    assert data["ignored_parameters"] == ["colour"]
    assert data["count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"fate": "maybe"}, "fate"),
        ({"category": "no-such-category"}, "category"),
        ({"nationality": "ZZ"}, "nationality"),
        ({"year_from": "abc"}, "year_from"),
        ({"year_from": "1700"}, "year_from"),
        ({"year_to": "99999"}, "year_to"),
        ({"sort": "sideways"}, "sort"),
        ({"q": "k" * 201}, "q"),
    ],
)
def test_api_invalid_filter_is_400_with_errors(client, params, field):
    response = client.get(reverse("public:api_case_list"), params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert "results" not in data
    assert data["errors"]
    assert any(error.startswith(f"{field}:") for error in data["errors"]), data["errors"]


def test_api_year_range_the_wrong_way_round_is_400(client):
    response = client.get(reverse("public:api_case_list"), {"year_from": "2020", "year_to": "2010"})
    assert response.status_code == 400
    assert response.json()["errors"] == ["The year range starts after it ends."]


def test_api_case_detail_has_the_record_and_its_versions(client):
    data = api_case(client, "KP-0003")
    assert data["case_id"] == "KP-0003"
    assert data["name"] == "Kim Kook-ki"
    assert data["version"] == 1
    assert data["url"] == "http://testserver/cases/KP-0003/versions/1/"
    assert [v["version"] for v in data["versions"]] == [1]
    assert data["versions"][0]["url"] == "http://testserver/cases/KP-0003/versions/1/"
    datetime.datetime.fromisoformat(data["versions"][0]["published_at"])

    republish("KP-0003", summary="A missionary detained in North Korea. Updated.")
    data = api_case(client, "KP-0003")
    assert data["version"] == 2
    assert data["summary"] == "A missionary detained in North Korea. Updated."
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert data["versions"][1]["url"] == "http://testserver/cases/KP-0003/versions/2/"
    old = client.get("/cases/KP-0003/versions/1/")
    assert old.status_code == 200
    assert "Updated." not in old.content.decode()


def test_api_case_detail_is_404_for_an_unknown_or_unpublished_case(client):
    assert client.get(reverse("public:api_case_detail", args=["KP-9999"])).status_code == 404
    assert client.get(reverse("public:api_case_detail", args=["nonsense"])).status_code == 404
    draft = make_person(name="Ri Draft-only")
    assert client.get(reverse("public:api_case_detail", args=[draft.case_id])).status_code == 404


def test_api_case_detail_is_404_once_withdrawn(client):
    withdraw(Person.objects.get(case_id="KP-0003"), by=None, reason="test: withdrawn")
    assert client.get(reverse("public:api_case_detail", args=["KP-0003"])).status_code == 404
    assert "KP-0003" not in [result["case_id"] for result in api_list(client)["results"]]


def test_api_json_is_utf8_with_hangul_unescaped(client):
    for response in (
        client.get(reverse("public:api_case_list")),
        client.get(reverse("public:api_case_detail", args=["KP-0003"])),
    ):
        assert response["Content-Type"] == "application/json"
        assert "김국기".encode() in response.content
        assert b"\\uae40" not in response.content.lower()
        json.loads(response.content.decode("utf-8"))

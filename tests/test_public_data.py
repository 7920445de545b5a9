"""The public data: JSON API, CSV export and Atom feeds read the published versions, and agree with the case page."""

import csv
import datetime
import html
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

import public.api
import public.export
from cases.history import save_with_history
from cases.models import Person, PublicationState, Status
from workflow.models import PublishedVersion
from workflow.services import return_to_draft, withdraw

from .conftest import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SEED_IDS = [f"KP-000{n}" for n in range(1, 7)]
SEED_NAMES = {
    "KP-0001": "Kim Cheol-ok",
    "KP-0002": "Kim Jeong-wook",
    "KP-0003": "Kim Kook-ki",
    "KP-0004": "Choi Chun-gil",
    "KP-0005": "Teenage boy sentenced in January 2024 (first of two)",
    "KP-0006": "Teenage boy sentenced in January 2024 (second of two)",
}
CSV_HEADER = [
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
SENTINEL = "Sentinel Qorvash"


@pytest.fixture(scope="module", autouse=True)
def _seed_for_this_module(django_db_setup, django_db_blocker):
    """The seed, loaded once for every test of this module, in a transaction rolled back at the module's end.

    Each test runs inside it in its own savepoint, so what a test changes (a
    new version, a withdrawal) is undone before the next test.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_seed", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def published_person(name: str, *, status: str = Status.DETAINED, date: str = "2015", **fields) -> Person:
    person = make_person(name=name, **fields)
    event = make_event(person, status, date, is_public=True)
    make_citation(make_source(), status_event=event)
    return publish_case(person)


def republish(case_id: str, **changes) -> Person:
    person = Person.objects.get(case_id=case_id)
    for name, value in changes.items():
        setattr(person, name, value)
    if changes:
        save_with_history(person, by=None, reason="test: edit")
    return publish_case(person)


def api_list(client, **params) -> dict:
    response = client.get(reverse("public:api_case_list"), params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content.decode("utf-8"))


def api_case(client, case_id: str) -> dict:
    response = client.get(reverse("public:api_case_detail", args=[case_id]))
    assert response.status_code == 200
    return json.loads(response.content.decode("utf-8"))


def csv_response(client, **params):
    response = client.get(reverse("public:export_csv"), params)
    assert response.status_code == 200
    return response


def csv_rows(client, **params) -> list[dict]:
    response = csv_response(client, **params)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text[1:], newline=""))
    header, *rows = list(reader)
    assert header == CSV_HEADER
    assert all(len(row) == len(header) for row in rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 (the app's own output, parsed as a feed reader would)


def atom(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = parse_xml(response.content)
    assert root.tag == f"{ATOM}feed"
    for child in ("title", "id", "updated"):
        element = root.find(f"{ATOM}{child}")
        assert element is not None and (element.text or "").strip(), child
    datetime.datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
    return root


def entries(root: ET.Element) -> list[dict]:
    found = []
    for entry in root.findall(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        item = {
            "title": entry.findtext(f"{ATOM}title"),
            "link": link.get("href") if link is not None else None,
            "id": entry.findtext(f"{ATOM}id"),
            "updated": entry.findtext(f"{ATOM}updated"),
            "summary": entry.findtext(f"{ATOM}summary") or "",
        }
        for key in ("title", "link", "id", "updated"):
            assert item[key], (key, item)
        datetime.datetime.fromisoformat(item["updated"])
        found.append(item)
    return found


def html_case(client, case_id: str) -> tuple[str, str]:
    """(name, status label) shown on the HTML case page."""
    response = client.get(reverse("public:case_detail", args=[case_id]))
    assert response.status_code == 200
    page = response.content.decode()
    name = re.search(r'<h1 id="case-heading">(.*?)</h1>', page, re.S).group(1)
    status = re.search(r'<p class="status-line"><strong>(.*?)</strong>', page, re.S).group(1)
    return html.unescape(name.strip()), html.unescape(status.strip())


def status_label(code: str) -> str:
    return str(Status(code).label)


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


@pytest.mark.parametrize(
    "url",
    ["/api/cases/", "/api/cases/KP-0003/", "/export/cases.csv", "/feed/", "/cases/KP-0003/feed/"],
)
def test_public_data_refuses_writes(client, url):
    for method in (client.post, client.put, client.patch, client.delete):
        response = method(url)
        assert response.status_code == 405, (method, url)
    assert client.head(url).status_code == 200
    assert PublishedVersion.objects.current().count() == 6


def test_api_json_is_utf8_with_hangul_unescaped(client):
    for response in (
        client.get(reverse("public:api_case_list")),
        client.get(reverse("public:api_case_detail", args=["KP-0003"])),
    ):
        assert response["Content-Type"] == "application/json"
        assert "김국기".encode() in response.content
        assert b"\\uae40" not in response.content.lower()
        json.loads(response.content.decode("utf-8"))


# --- CSV -------------------------------------------------------------------------------------------


def test_csv_is_a_streamed_utf8_file_with_a_bom(client):
    response = csv_response(client)
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "charset=utf-8" in response["Content-Type"]
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\xef\xbb\xbf") == 1
    assert "김국기".encode() in body


def test_csv_header_is_the_documented_one(client):
    assert public.export.CSV_COLUMNS == CSV_HEADER
    csv_rows(client)  # asserts the header


def test_csv_has_one_row_per_current_published_case(client):
    rows = csv_rows(client)
    assert sorted(row["case_id"] for row in rows) == SEED_IDS
    by_id = {row["case_id"]: row for row in rows}
    row = by_id["KP-0003"]
    assert row["name"] == "Kim Kook-ki"
    assert row["name_native"] == "김국기"
    assert "Kim Kook-kie" in row["other_names"].split("; ")
    assert row["version"] == "1"
    assert row["url"] == "http://testserver/cases/KP-0003/versions/1/"
    assert row["status"] == Status.DISAPPEARED
    assert row["fate"] == "outstanding"
    assert row["categories"]
    datetime.datetime.fromisoformat(row["published_at"])
    assert by_id["KP-0001"]["nationality"] == "KP"

    make_person(name=f"{SENTINEL} draft")
    republish("KP-0003")
    withdraw(Person.objects.get(case_id="KP-0004"), by=None, reason="test: withdrawn")
    rows = csv_rows(client)
    assert sorted(row["case_id"] for row in rows) == ["KP-0001", "KP-0002", "KP-0003", "KP-0005", "KP-0006"]
    assert {row["case_id"]: row["version"] for row in rows}["KP-0003"] == "2"
    assert "Choi Chun-gil" not in str(rows)
    assert SENTINEL not in str(rows)


@pytest.mark.parametrize(
    "summary",
    [
        '=HYPERLINK("http://x")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_csv_neutralises_formula_looking_cells(client, summary):
    person = make_person(name="Ri Formula", summary=summary)
    make_citation(make_source(), person=person)
    publish_case(person)
    row = next(row for row in csv_rows(client) if row["case_id"] == person.case_id)
    assert row["summary"] == "'" + summary
    assert row["name"] == "Ri Formula"


def test_csv_neutralises_a_formula_in_a_name(client):
    person = make_person(name="=1+2 Kim")
    make_variant(person, "@Kim alias", is_public=True)
    make_citation(make_source(), person=person)
    publish_case(person)
    row = next(row for row in csv_rows(client) if row["case_id"] == person.case_id)
    assert row["name"] == "'=1+2 Kim"
    assert row["other_names"] == "'@Kim alias"


def test_csv_leaves_an_ordinary_summary_alone(client):
    rows = {row["case_id"]: row for row in csv_rows(client)}
    assert rows["KP-0001"]["summary"].startswith("A North Korean refugee")
    assert not any(row[column].startswith("'") for row in rows.values() for column in CSV_HEADER)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "sentenced"}, ["KP-0005", "KP-0006"]),
        ({"category": "missionary"}, ["KP-0002", "KP-0003", "KP-0004"]),
        ({"nationality": "KP"}, ["KP-0001"]),
        ({"year_from": "2024"}, ["KP-0005", "KP-0006"]),
        ({"fate": "clarified"}, []),
    ],
)
def test_csv_filters_apply(client, params, expected):
    assert sorted(row["case_id"] for row in csv_rows(client, **params)) == expected


def test_csv_name_search_applies(client):
    rows = csv_rows(client, q="Kim Kook-kie")
    assert rows[0]["case_id"] == "KP-0003"
    assert "KP-0004" not in [row["case_id"] for row in rows]
    assert csv_rows(client, q="Park Min-ho") == []


@pytest.mark.parametrize(
    "params", [{"status": "bogus"}, {"year_from": "abc"}, {"year_from": "2020", "year_to": "2010"}, {"q": "k" * 5000}]
)
def test_csv_invalid_filter_is_400(client, params):
    response = client.get(reverse("public:export_csv"), params)
    assert response.status_code == 400
    assert not response.streaming
    body = response.content.decode()
    assert body.strip()
    assert "case_id" not in body


# --- Atom ------------------------------------------------------------------------------------------


def test_site_feed_has_one_entry_per_public_version(client):
    root = atom(client, reverse("public:feed"))
    items = entries(root)
    assert len(items) == 6
    assert sorted(item["id"] for item in items) == sorted(f"whereabouts:{case_id}:v1" for case_id in SEED_IDS)
    kook_ki = next(item for item in items if item["id"] == "whereabouts:KP-0003:v1")
    assert kook_ki["title"] == "Kim Kook-ki (KP-0003) published: version 1"
    assert kook_ki["link"].endswith("/cases/KP-0003/versions/1/")
    assert kook_ki["summary"].startswith(status_label(Status.DISAPPEARED))
    assert len({item["id"] for item in items}) == len(items)


def test_case_feed_lists_the_case_versions(client):
    root = atom(client, reverse("public:case_feed", args=["KP-0003"]))
    assert root.findtext(f"{ATOM}title") == "Whereabouts: Kim Kook-ki (KP-0003)"
    items = entries(root)
    assert [item["id"] for item in items] == ["whereabouts:KP-0003:v1"]

    republish("KP-0003")
    items = entries(atom(client, reverse("public:case_feed", args=["KP-0003"])))
    assert [item["id"] for item in items] == ["whereabouts:KP-0003:v2", "whereabouts:KP-0003:v1"]
    assert items[0]["title"] == "Kim Kook-ki (KP-0003) updated: version 2"
    assert items[0]["link"].endswith("/cases/KP-0003/versions/2/")

    site = entries(atom(client, reverse("public:feed")))
    assert len(site) == 7
    assert site[0]["id"] == "whereabouts:KP-0003:v2"  # newest first


def test_feed_updated_is_the_latest_publication(client):
    republish("KP-0002")
    root = atom(client, reverse("public:feed"))
    latest = PublishedVersion.objects.public().latest("published_at").published_at
    assert datetime.datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == latest


def test_a_withdrawn_case_leaves_the_feeds(client):
    republish("KP-0003")
    assert len(entries(atom(client, reverse("public:feed")))) == 7
    withdraw(Person.objects.get(case_id="KP-0003"), by=None, reason="test: withdrawn")
    items = entries(atom(client, reverse("public:feed")))
    assert len(items) == 5
    assert not any("KP-0003" in item["id"] or "Kim Kook-ki" in item["title"] for item in items)
    assert client.get(reverse("public:case_feed", args=["KP-0003"])).status_code == 404


def test_a_case_published_again_after_withdrawal_shows_only_its_new_version(client):
    person = Person.objects.get(case_id="KP-0003")
    withdraw(person, by=None, reason="test: withdrawn")
    return_to_draft(person, by=None, reason="test: corrected")
    publish_case(person)
    items = entries(atom(client, reverse("public:case_feed", args=["KP-0003"])))
    assert [item["id"] for item in items] == ["whereabouts:KP-0003:v2"]
    assert [v["version"] for v in api_case(client, "KP-0003")["versions"]] == [2]
    assert client.get("/cases/KP-0003/versions/1/").status_code == 404
    assert {row["case_id"]: row["version"] for row in csv_rows(client)}["KP-0003"] == "2"


def test_unknown_or_unpublished_case_feed_is_404(client):
    assert client.get(reverse("public:case_feed", args=["KP-9999"])).status_code == 404
    draft = make_person(name="Ri Draft-feed")
    assert client.get(reverse("public:case_feed", args=[draft.case_id])).status_code == 404


def test_feed_never_shows_a_real_name_after_a_reprisal_risk_is_flagged(client):
    person = published_person("Byeon Real-name", family_name_native="변", given_name_native="진주")
    republish(person.case_id)
    person.refresh_from_db()
    person.reprisal_risk = True
    person.pseudonym = "Witness Twenty"
    save_with_history(person, by=None, reason="test: reprisals reported")

    for url in (reverse("public:feed"), reverse("public:case_feed", args=[person.case_id])):
        response = client.get(url)
        assert b"Byeon Real-name" not in response.content
        assert "변진주".encode() not in response.content
        titles = [item["title"] for item in entries(parse_xml(response.content)) if person.case_id in item["id"]]
        assert len(titles) == 2
        assert all(title.startswith("Witness Twenty") for title in titles)
    for body in (
        client.get(reverse("public:api_case_list")).content,
        client.get(reverse("public:api_case_detail", args=[person.case_id])).content,
        b"".join(client.get(reverse("public:export_csv")).streaming_content),
    ):
        assert b"Byeon Real-name" not in body
        assert "변진주".encode() not in body
        assert b"Witness Twenty" in body


# --- The formats agree -----------------------------------------------------------------------------


def test_json_csv_atom_and_html_agree_on_name_and_status(client):
    tricky = published_person("O'Hara & Kim <Jr>", status=Status.SENTENCED, date="2019-03")
    case_ids = [*SEED_IDS, tricky.case_id]
    api = {result["case_id"]: result for result in api_list(client)["results"]}
    rows = {row["case_id"]: row for row in csv_rows(client)}
    feed = {item["id"]: item for item in entries(atom(client, reverse("public:feed")))}
    assert set(api) == set(rows) == set(case_ids)
    for case_id in case_ids:
        name, label = html_case(client, case_id)
        detail = api_case(client, case_id)
        assert detail["name"] == api[case_id]["name"] == rows[case_id]["name"] == name, case_id
        assert detail["status"] == api[case_id]["status"] == rows[case_id]["status"], case_id
        assert status_label(detail["status"]) == label, case_id
        entry = feed[f"whereabouts:{case_id}:v1"]
        assert entry["title"] == f"{name} ({case_id}) published: version 1"
        assert entry["summary"].startswith(f"{label}.")
        case_feed = atom(client, reverse("public:case_feed", args=[case_id]))
        assert case_feed.findtext(f"{ATOM}title") == f"Whereabouts: {name} ({case_id})"
    assert html_case(client, tricky.case_id) == ("O'Hara & Kim <Jr>", "Sentenced")


def test_formats_agree_after_a_new_version(client):
    republish("KP-0004", name="Choi Chun-gil (updated)")
    name, label = html_case(client, "KP-0004")
    assert name == "Choi Chun-gil (updated)"
    assert api_case(client, "KP-0004")["name"] == name
    assert {row["case_id"]: row["name"] for row in csv_rows(client)}["KP-0004"] == name
    items = entries(atom(client, reverse("public:case_feed", args=["KP-0004"])))
    assert items[0]["title"] == f"{name} (KP-0004) updated: version 2"
    assert items[1]["title"] == "Choi Chun-gil (KP-0004) published: version 1"  # version 1 keeps its own name
    assert status_label(api_case(client, "KP-0004")["status"]) == label


def test_restricted_values_reach_none_of_the_formats(client):
    person = make_person(name="Ri Leak-check", internal_notes=SENTINEL, external_ref=SENTINEL)
    make_variant(person, f"{SENTINEL} variant", is_public=False)
    event = make_event(person, Status.ARRESTED, "2014", is_public=True, internal_note=SENTINEL)
    make_citation(make_source(), status_event=event, note=SENTINEL)
    make_citation(make_source(title=f"{SENTINEL} source", is_restricted=True), person=person)
    make_event(person, Status.DECEASED_REPORTED, "2020", is_public=False, description=SENTINEL)
    publish_case(person)
    bodies = [
        client.get(reverse("public:api_case_list")).content,
        client.get(reverse("public:api_case_detail", args=[person.case_id])).content,
        b"".join(client.get(reverse("public:export_csv")).streaming_content),
        client.get(reverse("public:feed")).content,
        client.get(reverse("public:case_feed", args=[person.case_id])).content,
    ]
    for body in bodies:
        assert b"Ri Leak-check" in body
        assert SENTINEL.encode() not in body
    assert api_case(client, person.case_id)["status"] == Status.ARRESTED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "First page.\x0cSecond page."),  # a form feed, as text pasted from a PDF carries
        ("summary", "Vertical\x0btab"),
        ("summary", "Escape \x1b[0m sequence"),
        ("name", "Ri Pasted\x08name"),
    ],
)
def test_feeds_survive_a_control_character_in_a_published_case(client, field, value):
    # The model and the admin accept these characters, and the HTML, JSON and CSV show the case;
    # the feeds must not fail on it (XML 1.0 cannot carry them, so they need dropping or replacing).
    fields = {"name": "Ri Pasted-text", field: value}
    person = make_person(**fields)
    person.full_clean()
    make_citation(make_source(), person=person)
    publish_case(person)
    assert client.get(reverse("public:case_detail", args=[person.case_id])).status_code == 200
    assert api_case(client, person.case_id)[field] == value
    assert any(row["case_id"] == person.case_id for row in csv_rows(client))
    client.raise_request_exception = False
    for url in (reverse("public:feed"), reverse("public:case_feed", args=[person.case_id])):
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        items = entries(parse_xml(response.content))
        assert any(item["id"] == f"whereabouts:{person.case_id}:v1" for item in items)


BAD_VALUES = ["\x00", "a\x00b", "\x01", "%", "🙂", "' OR 1=1 --", "x" * 5000]
BAD_NUMBERS = ["NaN", "Infinity", "1e400", "-1", "٣", "2024.5", "9" * 100]


@pytest.mark.parametrize("url", ["/cases/", "/api/cases/", "/export/cases.csv"])
def test_bad_query_parameters_are_never_a_server_error(client, url):
    client.raise_request_exception = False
    checks = [
        *(
            (name, value)
            for name in ("q", "status", "fate", "category", "nationality", "sort", "junk\x00")
            for value in BAD_VALUES
        ),
        *((name, value) for name in ("year_from", "year_to", "page") for value in BAD_VALUES + BAD_NUMBERS),
    ]
    for name, value in checks:
        response = client.get(url, {name: value})
        assert response.status_code in (200, 400, 404), (name, value, response.status_code)
        if url.startswith("/api/") and response.status_code == 400:
            assert response.json()["errors"]

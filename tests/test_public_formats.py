"""The public formats agree: JSON, CSV, Atom and the case page show the same published record, refuse writes and
bad parameters alike."""

import pytest
from django.urls import reverse

from cases.models import Status
from workflow.models import PublishedVersion

from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case
from .public_data import (
    ATOM,
    SEED_IDS,
    SENTINEL,
    api_case,
    api_list,
    atom,
    csv_rows,
    entries,
    html_case,
    parse_xml,
    published_person,
    republish,
    seed_for_this_module,  # noqa: F401 (a fixture, for every test of the module)
    status_label,
)

pytestmark = pytest.mark.django_db


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

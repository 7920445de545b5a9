"""The public CSV export: a row per current published case, the documented header, no formula reaches a spreadsheet."""

import datetime

import pytest
from django.urls import reverse

import public.api
import public.export
from cases.models import Person, Status
from workflow.services import withdraw

from .factories import make_citation, make_person, make_source, make_variant, publish_case
from .public_data import (
    CSV_HEADER,
    SEED_IDS,
    SENTINEL,
    csv_response,
    csv_rows,
    republish,
    seed_for_this_module,  # noqa: F401 (a fixture, for every test of the module)
)

pytestmark = pytest.mark.django_db


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

"""The list's "Data as CSV/JSON" links give the cases listed: the JSON API and the CSV export take exactly the
list's filters, search and order, with the same validation."""

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from .public_data import csv_rows, seed_for_this_module  # noqa: F401 (a fixture, for every test of the module)

pytestmark = pytest.mark.django_db

LISTS = [
    "",
    "?fate=outstanding&sort=name",
    "?category=missionary&sort=updated",
    "?status=sentenced&year_from=2020&year_to=2024",
    "?nationality=KP",
    "?q=kim+kook-kie",
    "?q=kim&category=missionary&sort=relevance",
    "?fate=clarified",
]


def data_links(text: str) -> dict[str, list[str]]:
    """Every "Data as CSV" and "Data as JSON" address on the page (the footer's and the list's)."""
    found: dict[str, list[str]] = {"csv": [], "json": []}
    for href, label in re.findall(r'<a href="([^"]*)">(Data as (?:CSV|JSON))</a>', text):
        found["csv" if label.endswith("CSV") else "json"].append(html.unescape(href))
    return found


def listed(client, url: str) -> tuple[list[str], dict[str, list[str]]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [case.case_id for case in response.context["cases"]], data_links(response.content.decode())


@pytest.mark.parametrize("params", LISTS)
def test_the_data_links_give_the_cases_listed_in_their_order(client, params):
    case_ids, links = listed(client, f"/cases/{params}")
    expected_links = 2 if case_ids else 1  # the footer's, and the list's when it lists something
    assert len(links["csv"]) == len(links["json"]) == expected_links
    assert len(set(links["csv"])) == len(set(links["json"])) == 1
    csv_address, json_address = links["csv"][0], links["json"][0]
    assert urlsplit(csv_address).path == "/export/cases.csv"
    assert urlsplit(json_address).path == "/api/cases/"
    assert parse_qs(urlsplit(csv_address).query) == parse_qs(params.lstrip("?"))
    response = client.get(json_address)
    assert response.status_code == 200
    assert [case["case_id"] for case in json.loads(response.content)["results"]] == case_ids
    rows = csv_rows(client, **parse_qs(urlsplit(csv_address).query))
    assert [row["case_id"] for row in rows] == case_ids


def test_the_data_links_leave_out_the_page_and_unknown_parameters(client):
    _, links = listed(client, "/cases/?fate=outstanding&page=1&colour=blue")
    for address in links["csv"] + links["json"]:
        assert parse_qs(urlsplit(address).query) == {"fate": ["outstanding"]}


def test_on_other_pages_the_footer_gives_every_case(client):
    for url in ("/", "/sources/", "/cases/KP-0003/", "/about/"):
        links = data_links(client.get(url).content.decode())
        assert links == {"csv": ["/export/cases.csv"], "json": ["/api/cases/"]}, url


def test_a_korean_list_links_to_the_korean_addresses_with_its_filters(client):
    # The links' words are the catalogue's; the addresses are what matter here.
    text = client.get("/ko/cases/?status=sentenced").content.decode()
    assert 'href="/ko/export/cases.csv?status=sentenced"' in text
    assert 'href="/ko/api/cases/?status=sentenced"' in text


@pytest.mark.parametrize(
    "params",
    [
        {"year_from": "1700"},
        {"status": "lost"},
        {"fate": "maybe"},
        {"category": "no-such-category"},
        {"nationality": "XX"},
        {"year_from": "2020", "year_to": "2010"},
        {"sort": "shoe-size"},
        {"q": "k" * 201},
    ],
)
def test_the_data_refuse_what_the_list_refuses(client, params):
    assert client.get("/cases/", params).status_code == 400
    api = client.get("/api/cases/", params)
    assert api.status_code == 400
    assert json.loads(api.content)["errors"]
    assert client.get("/export/cases.csv", params).status_code == 400

"""What the tests of the public data share: the seed, loaded once per module, and readers of each format.

The seed's six cases are published; tests/test_public_api.py, test_public_csv.py, test_public_feeds.py and
test_public_formats.py each use ``seed_for_this_module`` (imported into the module, autouse).
"""

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

from cases.history import save_with_history
from cases.models import Person, Status

from .factories import make_citation, make_event, make_person, make_source, publish_case

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
    "appeals",
    "facilities",
    "authorities",
    "related_cases",
]
SENTINEL = "Sentinel Qorvash"


@pytest.fixture(scope="module", autouse=True)
def seed_for_this_module(django_db_setup, django_db_blocker):
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
    heading = re.search(r'<h1 id="case-heading">(.*?)</h1>', page, re.S).group(1)
    # The romanized name (or pseudonym), beside which the heading shows the native-script one.
    name = re.search(r'<span class="name-latin" translate="no">(.*?)</span>', heading, re.S).group(1)
    status = re.search(r'<p class="status-line"><strong>(.*?)</strong>', page, re.S).group(1)
    return html.unescape(name.strip()), html.unescape(status.strip())


def status_label(code: str) -> str:
    return str(Status(code).label)

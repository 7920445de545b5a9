"""A page deep in the public list, read from the nearest block start of its order (public.queries.block_start):
the same rows as reading from the first, in every order, with ties, filters and the API; the block starts are read
once per change of the public data."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Status
from public import queries
from public.filters import ORDERINGS
from workflow.models import PublishedVersion

from .factories import make_citation, make_event, make_person, make_source, publish_case

pytestmark = pytest.mark.django_db

# Names that repeat, so that blocks begin in the middle of a run of one name (the case ID decides there).
NAMES = ["Kim Cheol", "Ahn Ok", "Ri Yong", "Kim Cheol", "Pak Su", "Kim Cheol", "Choe Min"]
CASES = 61
BLOCK = 4


@pytest.fixture
def long_list(monkeypatch):
    monkeypatch.setattr(queries, "BLOCK", BLOCK)
    source = make_source()
    for n in range(CASES):
        person = make_person(name=NAMES[n % len(NAMES)], nationality="KP" if n % 3 else "CN")
        event = make_event(person, Status.DETAINED if n % 2 else Status.RELEASED, str(1960 + n % 9), is_public=True)
        make_citation(source, status_event=event, locator=f"p. {n}")
        publish_case(person)
    caches["default"].clear()
    caches["pages"].clear()


def listed(client, address: str) -> list[str]:
    response = client.get(address)
    assert response.status_code == 200, address
    return re.findall(r'<span class="case-id">([^<]+)</span>', response.content.decode())


def expected(sort: str, **filters) -> list[str]:
    rows = PublishedVersion.objects.current().filter(**filters).order_by(*ORDERINGS[sort])
    return list(rows.values_list("case_id", flat=True))


@pytest.mark.parametrize("sort", ["name", "updated", "date"])
def test_every_page_of_a_long_list_is_the_one_read_from_its_first_row(client, long_list, sort):
    every = expected(sort)
    pages = [listed(client, f"/cases/?sort={sort}&page={number}") for number in (1, 2, 3)]
    assert pages[0] + pages[1] + pages[2] == every
    assert [len(page) for page in pages] == [25, 25, 11]


def test_a_filtered_long_list_reads_its_own_block_starts(client, long_list):
    every = expected("name", nationality="KP")
    assert len(every) > 25
    pages = [listed(client, f"/cases/?nationality=KP&page={number}") for number in (1, 2)]
    assert pages[0] + pages[1] == every


def test_the_api_pages_read_from_the_block_starts_too(client, long_list):
    every = expected("updated")
    first = client.get("/api/cases/?sort=updated").json()
    ids = [case["case_id"] for case in first["results"]]
    following = first["next"]
    while following:
        page = client.get(following).json()
        ids += [case["case_id"] for case in page["results"]]
        following = page["next"]
    assert ids == every


def test_a_deep_page_starts_at_its_block_and_the_starts_are_read_once_per_change(client, long_list):
    def ids_query(address: str) -> tuple[list[str], str, list[str]]:
        with CaptureQueriesContext(connection) as queries_run:
            page = listed(client, address)
        run = [query["sql"] for query in queries_run.captured_queries]
        [sql] = [query for query in run if 'AS "pk"' in query and "LIMIT" in query]
        windows = [query for query in run if "ROW_NUMBER()" in query]
        return page, sql, windows

    listed(client, "/cases/")  # the counts, cached
    page, sql, windows = ids_query("/cases/?page=2")
    assert page == expected("name")[25:50]
    assert len(windows) == 1  # the block starts, read once
    # Block 6 starts at row 24: the page begins one row after it, not 25 rows after the first.
    assert "OFFSET 1" in sql and '"name" >=' in sql
    page, sql, windows = ids_query("/cases/?page=3")
    assert page == expected("name")[50:]
    assert windows == []  # kept for this generation
    # A publication changes the list: the starts are read again, and the pages follow.
    person = make_person(name="Aaron Abe")
    make_citation(make_source(), status_event=make_event(person, Status.DETAINED, "1999", is_public=True))
    publish_case(person)
    page, sql, windows = ids_query("/cases/?page=2")
    assert page == expected("name")[25:50]
    assert len(windows) == 1


def test_a_search_and_a_short_list_read_from_their_first_row(client, long_list):
    with CaptureQueriesContext(connection) as queries_run:
        assert listed(client, "/cases/?q=Kim+Cheol")
        assert listed(client, "/cases/?page=1")
    assert not [query for query in queries_run.captured_queries if "ROW_NUMBER()" in query["sql"]]

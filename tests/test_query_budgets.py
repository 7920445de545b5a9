"""Every public page runs a fixed number of queries, whatever the number of rows."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Status

from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

# The most queries each page may run. The list runs one query per facet
# (status, fate, category, nationality, kind of facility, facility, authority)
# beside its results, and one each for the names of the public facilities and
# authorities its facets and selects offer; a name search adds
# its fixed steps (exact, folded, contained, fuzzy: one query on PostgreSQL,
# SEARCH_STEPS fewer than its budget), and counts its few
# hundred results and their facets from their values instead: one query for
# the results with each facet filter in use left out, one for their
# categories, facilities and authorities. Every page reads the
# public data's generation once (its ETag and the cache's key); these are the
# budgets of a first request, before anything is cached. The list and the
# API read a page's rows in one query, whose ids come from the order's index
# (public.queries.IdsFirstPaginator).
BUDGETS = {
    "/": 5,
    "/cases/": 16,
    "/cases/?q=kim+cheol-ok": 14,
    "/cases/?q=kim&status=detained&sort=name": 14,
    # The filters in use, each shown as a chip: read from the validated form, no query of their own.
    "/cases/?q=kim&status=detained&fate=outstanding&year_from=1950&year_to=2020&sort=name": 15,
    "/cases/?facility_kind=kwanliso&status=detained": 16,
    "/sources/": 5,
    "/feed/": 4,
    "/api/cases/": 5,
    "/export/cases.csv": 4,
}
# On PostgreSQL the name search's four steps are one query (cases.search._read).
SEARCH_STEPS = 3
# A case page, a version's page and a case's JSON, read for the first time since the case was published: the
# case page is rendered and kept then (public.rendering), which costs its transaction, the generation's check and
# the insert; afterwards it is one read (KEPT_CASE_PAGE_BUDGET: the generation and the page in one query; a public
# page opens no transaction of its own, public.caching.public_page).
CASE_PAGE_BUDGET = 10
KEPT_CASE_PAGE_BUDGET = 1


def publish_people(count: int, *, events: int = 1, citations: int = 1):
    source = make_source()
    people = []
    for n in range(count):
        person = make_person(name=f"Kim Cheol-ok {n}", family_name_native="김", given_name_native="철옥")
        make_variant(person, f"Gim Cheol-ok {n}")
        for year in range(events):
            event = make_event(person, Status.DETAINED, str(1950 + year), is_public=True)
            for _ in range(citations):
                make_citation(source, status_event=event, locator=f"p. {year}")
        people.append(publish_case(person))
    return people


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(context)


@pytest.mark.parametrize("url", BUDGETS)
def test_list_pages_stay_within_their_budget_whatever_the_number_of_cases(client, url):
    publish_people(1)
    few = queries_for(client, url)
    publish_people(30)
    many = queries_for(client, url)
    assert many == few, f"{url}: {few} queries with 1 case, {many} with 31"
    searched = "q=" in url and connection.vendor == "postgresql"
    assert many <= BUDGETS[url] - (SEARCH_STEPS if searched else 0), many


def test_case_page_stays_within_budget_with_1_or_50_events_and_100_citations(client, django_assert_max_num_queries):
    small = publish_people(1, events=1, citations=1)[0]
    large = publish_people(1, events=50, citations=2)[0]
    counts = []
    for person in (small, large):
        for url in (
            f"/cases/{person.case_id}/",
            f"/cases/{person.case_id}/versions/1/",
            f"/api/cases/{person.case_id}/",
        ):
            with django_assert_max_num_queries(CASE_PAGE_BUDGET):
                counts.append(queries_for(client, url))
    assert counts[:3] == counts[3:]
    page = client.get(f"/cases/{large.case_id}/").content.decode()
    # Each event cites the one source twice at one place: one reference per event, the source listed once.
    assert page.count('class="ref"') == 50
    assert page.count('<li id="note-') == 1


def test_a_kept_case_page_is_one_read_whatever_its_size(client, django_assert_max_num_queries):
    small = publish_people(1, events=1, citations=1)[0]
    large = publish_people(1, events=50, citations=2)[0]
    for person in (small, large):
        client.get(f"/cases/{person.case_id}/")  # rendered and kept
        caches["pages"].clear()
        caches["default"].clear()
        with django_assert_max_num_queries(KEPT_CASE_PAGE_BUDGET):
            assert queries_for(client, f"/cases/{person.case_id}/") == KEPT_CASE_PAGE_BUDGET


def test_source_page_stays_within_budget(client, django_assert_max_num_queries):
    people = publish_people(20)
    source_id = people[0].status_events.get().citations.get().source_id
    with django_assert_max_num_queries(4):
        assert client.get(f"/sources/{source_id}/").status_code == 200


@pytest.mark.parametrize(
    ("url", "warm_budget"),
    [
        ("/", 1),
        ("/cases/", 1),
        ("/cases/?q=kim+cheol-ok", 1),
        ("/cases/?status=detained&sort=date&page=1", 1),
        ("/api/cases/", 1),
        ("/feed/", 1),
    ],
)
def test_public_pages_are_rendered_once_per_change_of_the_public_data(client, url, warm_budget):
    # A repeated request reads the generation, and nothing else: a public page
    # opens no transaction (public.caching.public_page); the page comes from
    # the cache until something is published, withdrawn or redacted.
    publish_people(3)
    cold = queries_for(client, url)
    warm = queries_for(client, url)
    assert warm == warm_budget < cold
    publish_people(1)
    assert queries_for(client, url) == cold


def test_counts_and_search_are_cached_for_pages_not_yet_rendered(client):
    # Another page of the same search and filters: the page is new, but the
    # filter form with its counts, the page count and the search results are
    # not computed again.
    publish_people(30)
    first = queries_for(client, "/cases/?q=kim+cheol-ok&status=detained")
    second = queries_for(client, "/cases/?q=kim+cheol-ok&status=detained&page=2")
    assert second == 2 < first  # the generation, the page's rows (their ids read within)


@pytest.mark.parametrize("url", ["/", "/cases/", "/cases/?q=kim+cheol-ok", "/cases/?sort=date&page=2"])
def test_list_rows_never_read_the_whole_public_record(client, url):
    # A row shows a few columns of the version; its record (every event and
    # citation of the case) is read by the case page only.
    publish_people(30)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    record_column = '"workflow_publishedversion"."record"'
    assert not [query["sql"] for query in context.captured_queries if record_column in query["sql"]]

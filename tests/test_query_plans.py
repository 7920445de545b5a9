"""On PostgreSQL the list, its sorts and the name search are served by indexes, not table scans."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from public.queries import CaseQuery
from workflow.models import PublishedName, PublishedVersion

from .conftest import make_citation, make_event, make_person, make_source, postgresql_only, publish_case

pytestmark = [postgresql_only, pytest.mark.django_db]


def plan(queryset, *, sort: bool = True, bitmap: bool = True) -> str:
    return explain(*queryset.query.sql_with_params(), sort=sort, bitmap=bitmap)


def explain(sql: str, params=(), *, sort: bool = True, bitmap: bool = True) -> str:
    with connection.cursor() as cursor:
        # With sequential scans priced out, the plan shows whether an index can serve the query at all
        # (and with sorting priced out too, whether one serves it in the order asked for).
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sort:
            cursor.execute("SET LOCAL enable_sort = off")
        if not bitmap:
            # On a tiny, never-vacuumed test table the planner may prefer a bitmap scan over an index-only
            # one, depending on its statistics: priced out, the plan shows whether the index alone serves.
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def published():
    source = make_source()
    for n in range(5):
        person = make_person(name=f"Kim Cheol-ok {n}", family_name_native="김", given_name_native="철옥")
        make_citation(source, status_event=make_event(person, date=str(2000 + n), is_public=True))
        publish_case(person)


@pytest.mark.parametrize("sort", ["name", "updated", "date"])
def test_each_sort_of_the_list_is_served_by_an_index(published, sort):
    results = CaseQuery({"sort": sort}).results()[:25]
    text = plan(results)
    assert "Seq Scan on workflow_publishedversion" not in text, text


def test_case_page_lookup_is_served_by_an_index(published):
    text = plan(PublishedVersion.objects.current().filter(case_id="KP-0001"))
    assert "Seq Scan" not in text, text


@pytest.mark.parametrize(
    "lookup",
    [
        {"key": "kimcheolok1"},
        {"folded": "kimculuk1"},
        {"key__contains": "cheol"},
        {"key__trigram_similar": "kimcheolk"},
    ],
)
def test_each_step_of_the_name_search_is_served_by_an_index(published, lookup):
    text = plan(PublishedName.objects.filter(**lookup))
    assert "Seq Scan on workflow_publishedname" not in text, text


@pytest.mark.parametrize("column", ["status", "is_clarified", "nationality"])
def test_the_list_counts_are_read_from_an_index_alone(published, column):
    # CaseQuery.facets counts with COUNT(*), so these counts never read the rows and their records.
    counts = PublishedVersion.objects.current().order_by().values_list(column).annotate(n=Count("*"))
    text = plan(counts, bitmap=False)
    assert "Index Only Scan" in text, text
    assert "Seq Scan on workflow_publishedversion" not in text, text


@pytest.mark.parametrize("sort", ["name", "updated", "date"])
def test_a_page_of_ids_is_read_in_order_from_the_sort_index(published, sort):
    # public.queries.IdsFirstPaginator: a deep page's ids from the sort's index, which includes the id, so
    # that once vacuumed PostgreSQL reads them from the index alone (an index-only scan: in the
    # benchmark a deep page's ids take 4 ms instead of 200). A test database is never vacuumed, so
    # this checks the index and the order; which kind of scan depends on the visibility map.
    ids = CaseQuery({"sort": sort}).results().values_list("pk", flat=True)[1000:1025]
    text = plan(ids, sort=False)
    index = {"name": "pv_current_by_name", "updated": "pv_current_by_update", "date": "pv_current_by_date"}[sort]
    assert f"Scan using {index} on workflow_publishedversion" in text, text
    assert "Sort" not in text, text


@pytest.mark.parametrize("sort", ["name", "updated", "date"])
def test_a_page_of_the_list_is_one_query_its_ids_from_the_sort_index(client, published, sort):
    # public.queries.IdsFirstPaginator: the rows whose ids the sort's index gives, in one query.
    with CaptureQueriesContext(connection) as run:
        assert client.get(f"/cases/?sort={sort}").status_code == 200
    [sql] = [query["sql"] for query in run.captured_queries if "IN (SELECT" in query["sql"] and "LIMIT" in query["sql"]]
    text = explain(sql, sort=False)
    index = {"name": "pv_current_by_name", "updated": "pv_current_by_update", "date": "pv_current_by_date"}[sort]
    assert f"Scan using {index} on workflow_publishedversion" in text, text
    assert "Seq Scan" not in text, text

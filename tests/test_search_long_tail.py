"""The name search for the long tail: bounded candidates from the given name within the family, a fixed number of
queries per uncached search, and facet counts over the search's results the same as the SQL ones."""

import itertools
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import names
from cases import search as engine
from cases.models import Status
from public.queries import CaseQuery
from public.search import search as public_search
from workflow.models import PublishedName, PublishedVersion

from .conftest import postgresql_only
from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

INDEX = "workflow_publishedname_family_given_trgm"
SYLLABLES = ["cheol", "yong", "min", "su", "jeong", "ho", "seong", "gwang", "myeong", "jin", "hyeok", "nam", "guk"]
SYLLABLES += ["sun", "ok", "hui", "suk", "gyeong", "eun", "mi", "hyeon", "ju", "dong", "gil", "chun", "uk", "gi"]


def published_person(name: str, *, status: str = Status.DETAINED, **fields):
    person = make_person(name=name, **fields)
    make_citation(make_source(), status_event=make_event(person, status, "2015", is_public=True))
    return publish_case(person)


def add_names(version: PublishedVersion, spellings) -> None:
    PublishedName.objects.bulk_create(
        PublishedName(
            version=version,
            name=name,
            key=names.normalise(name),
            folded=names.fold(name),
            family=names.split_family(name)[0],
        )
        for name in spellings
    )


@pytest.fixture
def kims():
    """The person looked for among thousands of names of the same family (names of a few other published cases)."""
    wanted = published_person("Kim Kook-ki")
    decoys = [published_person(f"Kim Decoy-{n}") for n in range(4)]
    given = (f"{a.capitalize()}-{b}" for a, b in itertools.product(SYLLABLES, repeat=2))
    spellings = [f"Kim {name}" for name in given if names.fold_given(names.normalise(name)) not in ("kuki", "kukit")]
    spellings += [f"Gim {name[4:]}" for name in spellings]
    for n, version in enumerate(PublishedVersion.objects.current().filter(person__in=decoys)):
        add_names(version, spellings[n::4])
    assert PublishedName.objects.filter(family="kim").count() > 1400
    return wanted


def found(client, q: str, **params) -> list[str]:
    response = client.get(reverse("public:case_list"), {"q": q, **params})
    assert response.status_code == 200
    return [version.case_id for version in response.context["cases"]]


@pytest.mark.parametrize(
    "query", ["Kim Kook-ki", "Kim Kook-kie", "Gim Guk-gi", "Kim Kok-ki", "Kim Kook-kit", "Kook-ki"]
)
def test_a_common_family_name_with_thousands_of_names_still_finds_the_person_first(client, kims, query):
    assert found(client, query)[0] == kims.case_id


def test_a_family_name_alone_lists_people_of_that_family(client, kims):
    response = client.get(reverse("public:case_list"), {"q": "Kim"})
    assert response.context["cases"]
    assert all(version.name.startswith("Kim ") for version in response.context["cases"])


def test_the_hidden_spelling_pairs_of_the_seed_are_found(client):
    kook = published_person("Kim Kook-ki")
    choi = published_person("Choi Chun-gil")
    for query, person in [
        ("Kim Kook-kie", kook),
        ("Kim Kook-ki", kook),
        ("Choi-Chun-gil", choi),
        ("Choi Chun-gil", choi),
        ("Chun-gil", choi),
    ]:
        assert found(client, query)[0] == person.case_id, query


# --- The same facet counts as the SQL ones -------------------------------------------------------------------------


@pytest.fixture
def varied():
    source = make_source()
    for n, status in enumerate([Status.DETAINED, Status.DISAPPEARED, Status.ARRESTED] * 3):
        person = make_person(name=f"Kim Cheol-ok {n}", nationality=["KP", "CN", "KR"][n % 3])
        make_variant(person, f"Gim Cheol-ok {n}")
        make_citation(source, status_event=make_event(person, status, str(2000 + n), is_public=True))
        publish_case(person)


@pytest.mark.parametrize(
    "params",
    [
        "q=kim+cheol-ok",
        "q=kim+cheol-ok&status=detained",
        "q=kim&status=disappeared&nationality=KP",
        "q=cheol-ok&fate=outstanding&year_from=2002&sort=name",
        "q=kim+cheol-ok+4&nationality=CN",
        "q=nobody+at+all",
    ],
)
def test_a_search_counts_its_facets_as_the_sql_does(varied, params):
    # The seven SQL queries the list runs without a search, over the same results, give the same numbers.
    query = CaseQuery(QueryDict(params))
    query.search_ids()
    assert query._search_facet_counts() == query._sql_facet_counts()
    assert query.count() == query.results().order_by().count()
    assert query.facet_counts()["status"] == CaseQuery(QueryDict(params)).facet_counts()["status"]


# --- Queries per uncached search -----------------------------------------------------------------------------------


def queries_for(client, url: str) -> int:
    caches["default"].clear()
    caches["pages"].clear()
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_an_uncached_search_runs_a_fixed_number_of_queries_whatever_it_finds(client, varied):
    # The generation; the search's steps (one query on PostgreSQL, four elsewhere); its results with their
    # status, fate and nationality; their categories, facilities and authorities in one query (the facets, the
    # count and the results' order, counted from these); the page's rows by their ids; the public facilities,
    # authorities and categories the filters name (no transaction: a public page opens none).
    one = queries_for(client, "/cases/?q=kim+cheol-ok+4")
    many = queries_for(client, "/cases/?q=kim+cheol-ok")
    assert one == many <= (8 if connection.vendor == "postgresql" else 11)
    # Nothing found: nothing to count, no page to read.
    assert queries_for(client, "/cases/?q=nobody+at+all") < many


def test_each_facet_filter_in_use_adds_one_query_to_an_uncached_search(client, varied):
    alone = queries_for(client, "/cases/?q=kim+cheol-ok")
    one = queries_for(client, "/cases/?q=kim+cheol-ok&status=detained")
    two = queries_for(client, "/cases/?q=kim+cheol-ok&status=detained&nationality=KP")
    assert one - alone == 1
    assert two - one == 1


def test_a_search_page_reads_its_rows_by_their_ids_in_the_search_order(client):
    # The results' order is known once the search has run (CaseQuery.found_ids): each page is read by its own
    # ids, in the order the database would give them (CaseQuery.results).
    exact = published_person("Kim Cheol-ok")
    for n in range(30):
        published_person(f"Kim Cheol-ok {n}")
    caches["default"].clear()
    caches["pages"].clear()
    first = client.get("/cases/?q=kim+cheol-ok")
    with CaptureQueriesContext(connection) as context:
        second = client.get("/cases/?q=kim+cheol-ok&page=2")
    assert len(context) == 2  # the generation; the page's rows by their ids
    shown = [row.pk for response in (first, second) for row in response.context["cases"]]
    query = CaseQuery(QueryDict("q=kim+cheol-ok"))
    assert shown == query.found_ids() == list(query.results().values_list("pk", flat=True))
    assert len(shown) == 31
    assert shown[0] == PublishedVersion.objects.current().get(person=exact).pk


@postgresql_only
def test_the_search_steps_are_one_prepared_query_on_postgresql(varied):
    with CaptureQueriesContext(connection) as context:
        found = public_search("kim cheol-ok", PublishedVersion.objects.current())
    assert len(found) == 9
    ((query,),) = [[query["sql"] for query in context.captured_queries]]
    assert query.count("UNION ALL") == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert [statement for statement in prepared if "UNION ALL" in statement and "workflow_publishedname" in statement]


# --- The indexes that serve it (PostgreSQL) ------------------------------------------------------------------------


def search_steps(q: str) -> list[tuple[str, tuple]]:
    """The SQL of the name search's steps over the whole name table (as ``public.search`` runs them over the
    names of current versions: here without that join, whose plan a test's few versions would decide)."""
    table = engine.NameTable(PublishedName.objects.all(), id="version_id", given=True)
    key, folded, family = names.normalise(q), names.fold(q), names.split_family(q)[0]
    return [rows.query.sql_with_params() for rows, _bonus in engine._steps(table, key, folded, family)]


def plan(sql: str, params: tuple) -> str:
    with connection.cursor() as cursor:
        # The planner's statistics of the thousands of names (a test table is never analysed otherwise).
        cursor.execute("ANALYZE workflow_publishedname")
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Without statistics of the trigrams, a test table's planner may rather read a whole family by its
        # B-tree index and filter it (at 100,000 persons it takes the GIN index, 20 times faster). Dropped in
        # the test's transaction (rolled back), the plan shows whether the GIN index serves the step alone.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'workflow_publishedname' "
            "AND indexdef LIKE '%%btree (family%%'"
        )
        for (index,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{index}"')
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def generic_plan(sql: str, params: tuple) -> str:
    """The plan PostgreSQL makes once for every value of a prepared step (a *generic* plan), as for the prepared
    statement the public search sends (workflow.prepared.rows) once it has run a few times."""
    plan(sql, params)  # the statistics, and the test table's indexes as above
    numbers = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%(%|s)", lambda match: "%" if match.group(1) == "%" else f"${next(numbers)}", sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE step AS {prepared}")  # no parameters: its text is sent as it is
        cursor.execute(f"EXPLAIN EXECUTE step({', '.join(['%s'] * len(params))})", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE step")
    return text


@pytest.fixture
def families(kims):
    """As in a real collection, the names of many families beside the Kims': one family is a few per cent."""
    given = [f"{a.capitalize()}-{b}" for a, b in itertools.product(SYLLABLES, repeat=2)]
    version = PublishedVersion.objects.current().get(person=kims)
    canonical = sorted(set(names.SURNAMES.values()) - {"kim"})[:25]
    add_names(version, [f"{family.capitalize()} {name}" for family in canonical for name in given])
    return kims


@postgresql_only
@pytest.mark.parametrize(
    ("query", "operator"),
    [("Kim Kook-kit", "%"), ("Kim Kook-kit", "LIKE"), ("Kook-ki", "%"), ("Kook-ki", "LIKE")],
)
def test_the_contained_and_fuzzy_steps_read_the_given_name_index(families, query, operator):
    steps = [(sql, params) for sql, params in search_steps(query) if f" {operator} " in sql.replace("%%", "%")]
    assert steps, query
    for sql, params in steps:
        text = plan(sql, params)
        assert INDEX in text, text
        assert "Seq Scan on workflow_publishedname" not in text, text


@postgresql_only
@pytest.mark.parametrize(("query", "operator"), [("Kim Kook-kit", "%"), ("Kook-ki", "%"), ("Kook-ki", "LIKE")])
def test_the_prepared_steps_read_the_given_name_index_in_a_plan_for_every_value(families, query, operator):
    # The search is a prepared statement: its plan, once made for every value, must still find the given name
    # in the index, whose expression (substring(folded, length(family) + 1)) the query writes the same way.
    steps = [(sql, params) for sql, params in search_steps(query) if f" {operator} " in sql.replace("%%", "%")]
    assert steps, query
    for sql, params in steps:
        text = generic_plan(sql, params)
        assert "$" in text, text  # a generic plan: the values are parameters
        assert INDEX in text, text
        condition = text.split(INDEX, 1)[1]
        assert ("% $" if operator == "%" else "~~ $") in condition, text
        assert "Seq Scan on workflow_publishedname" not in text, text


@postgresql_only
def test_the_fuzzy_step_within_a_family_uses_the_family_column_of_the_index(families):
    ((sql, params),) = [(sql, params) for sql, params in search_steps("Kim Kook-kit") if " %% " in sql]
    text = plan(sql, params)
    assert INDEX in text, text
    assert "(family)::text = 'kim'::text" in text.split(INDEX, 1)[1], text

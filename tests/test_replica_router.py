"""A read replica for the public site (DATABASE_REPLICA_URL, casetracker/routers.py): anonymous public reads go there
once it has replayed the primary's publication generation; writes, staff and the generation stay on the primary."""

import copy
import logging
import os
import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.utils import ConnectionDoesNotExist, load_backend
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.history import save_with_history
from casetracker import routers
from casetracker.routers import REPLICA, ROUTER, ReplicaRouter
from sources.models import Source
from workflow.models import PublicGeneration, PublishedRendering, PublishedVersion

from .conftest import postgresql_only
from .factories import make_citation, make_publishable_case, make_source, make_superuser, publish_case, signed_in
from .test_settings import ROOT, start

SENTINEL = "Report-that-will-be-restricted"
PUBLIC_PAGES = ["/", "/cases/", "/cases/?q=Kim", "/api/cases/", "/feed/", "/sources/", "/statistics/", "/facilities/"]


def forget_caches():
    caches["pages"].clear()
    caches["default"].clear()


@pytest.fixture
def routed(db, settings, monkeypatch):
    """The router on, the replica answered by the test database's own connection (inside the test's transaction),
    and every answer of the router recorded as (what, model, database)."""
    settings.DATABASE_ROUTERS = [ROUTER]
    monkeypatch.setattr(routers._Health, "resting_until", 0.0)
    monkeypatch.setattr(routers._Health, "last_error", "")
    answers: list[tuple[str, str, str]] = []
    for what in ("db_for_read", "db_for_write"):
        decide = getattr(ReplicaRouter, what)

        def recorded(self, model, _decide=decide, _what=what, **hints):
            database = _decide(self, model, **hints)
            answers.append((_what, model._meta.label, database))
            return database

        monkeypatch.setattr(ReplicaRouter, what, recorded)
    with replica_connection(connections[DEFAULT_DB_ALIAS]):
        yield answers


@contextmanager
def replica_connection(wrapper):
    """``connections["replica"]`` is ``wrapper`` inside the block (what a real replica alias held is put back)."""
    try:
        before = connections[REPLICA]
    except ConnectionDoesNotExist:
        before = None
    connections[REPLICA] = wrapper
    try:
        yield wrapper
    finally:
        if before is not None:
            connections[REPLICA] = before
        else:
            del connections[REPLICA]


def reads(answers, database: str) -> set[str]:
    """The models read from ``database`` since the test's data was made (``case``, when used, is made first)."""
    return {model for what, model, db in answers if what == "db_for_read" and db == database}


@pytest.fixture
def case(db):
    source = make_source(title=SENTINEL, publisher="NGO")
    person = make_publishable_case(name="Kim Replicated")
    make_citation(source, status_event=person.status_events.get(), locator="p. 3")
    return publish_case(person)


# Where each request reads.


@pytest.mark.parametrize("url", [*PUBLIC_PAGES, "/ko/cases/", "/export/cases.csv"])
def test_an_anonymous_public_page_reads_from_the_replica_and_the_generation_from_the_primary(case, routed, url):
    response = Client().get(url)
    assert response.status_code == 200
    if response.streaming:
        assert b"Kim Replicated" in b"".join(response.streaming_content)
    assert reads(routed, DEFAULT_DB_ALIAS) == {"workflow.PublicGeneration"}
    assert reads(routed, REPLICA)


def test_a_case_page_reads_from_the_replica_and_keeps_its_page_on_the_primary(case, routed):
    response = Client().get(f"/cases/{case.case_id}/")
    assert response.status_code == 200
    assert SENTINEL in response.content.decode()
    assert reads(routed, DEFAULT_DB_ALIAS) == {"workflow.PublicGeneration"}
    assert {"workflow.PublishedVersion"} <= reads(routed, REPLICA)
    assert ("db_for_write", "workflow.PublishedRendering", DEFAULT_DB_ALIAS) in routed
    assert PublishedRendering.objects.using(DEFAULT_DB_ALIAS).filter(version__person=case).exists()


def test_a_head_request_reads_from_the_replica(case, routed):
    assert Client().head("/cases/").status_code == 200
    assert "workflow.PublishedVersion" in reads(routed, REPLICA)


def test_a_public_page_posted_to_reads_nothing_from_the_replica(case, routed):
    response = Client().post("/cases/", {"q": "Kim"})
    assert response.status_code == 405
    assert reads(routed, REPLICA) == set()


def test_a_signed_in_person_reading_the_public_site_reads_from_the_primary(case, routed):
    # They must see the change they have just made, whatever the replica's lag.
    response = signed_in(make_superuser()).get("/cases/")
    assert response.status_code == 200
    assert "Kim Replicated" in response.content.decode()
    assert reads(routed, REPLICA) == set()
    assert "workflow.PublishedVersion" in reads(routed, DEFAULT_DB_ALIAS)


@pytest.mark.parametrize("url", ["/admin/", "/admin/cases/person/", "/staff/"])
def test_staff_pages_read_from_the_primary(case, routed, url):
    response = signed_in(make_superuser()).get(url)
    assert response.status_code in (200, 302)
    assert reads(routed, REPLICA) == set()
    assert reads(routed, DEFAULT_DB_ALIAS)


@pytest.mark.parametrize("url", ["/admin/login/", "/healthz", "/data/"])
def test_the_sign_in_page_healthz_and_the_data_releases_read_from_the_primary(case, routed, url):
    # /data/ never reads the generation: checking the replica would cost more than its few rows.
    assert Client().get(url).status_code == 200
    assert reads(routed, REPLICA) == set()


def test_outside_a_request_everything_reads_from_the_primary(case, routed):
    assert PublishedVersion.objects.count() == 1
    assert reads(routed, REPLICA) == set()


def test_writes_migrations_and_the_generation_always_go_to_the_primary():
    router = ReplicaRouter()
    assert router.db_for_write(PublishedVersion) == DEFAULT_DB_ALIAS
    assert router.db_for_write(PublicGeneration) == DEFAULT_DB_ALIAS
    assert router.db_for_read(PublicGeneration) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "workflow") is True
    assert router.allow_migrate(REPLICA, "workflow") is False
    assert router.allow_relation(object(), object()) is True


# A replica behind, or failing.


def test_a_replica_behind_the_primary_is_not_read(case, routed, monkeypatch):
    behind = PublicGeneration.current()[0] - 1
    monkeypatch.setattr(routers, "replica_generation", lambda: behind)
    response = Client().get("/cases/")
    assert response.status_code == 200
    assert "Kim Replicated" in response.content.decode()
    assert reads(routed, REPLICA) == set()


def test_a_replica_that_has_caught_up_is_read_again(case, routed, monkeypatch):
    replayed = PublicGeneration.current()[0] - 1
    monkeypatch.setattr(routers, "replica_generation", lambda: replayed)
    Client().get("/api/cases/")
    assert reads(routed, REPLICA) == set()
    replayed += 1
    forget_caches()
    Client().get("/api/cases/")
    assert "workflow.PublishedVersion" in reads(routed, REPLICA)


def test_an_unreachable_replica_costs_a_warning_not_the_page(case, routed, monkeypatch, caplog):
    asked = []

    def unreachable():
        asked.append(1)
        raise OperationalError('connection to server at "replica" failed: Connection refused')

    monkeypatch.setattr(routers, "replica_generation", unreachable)
    with caplog.at_level(logging.WARNING, logger="casetracker.routers"):
        for url in ["/statistics/", "/api/cases/", "/cases/"]:
            response = Client().get(url)
            assert response.status_code == 200
    assert "Kim Replicated" in response.content.decode()
    assert reads(routed, REPLICA) == set()
    # One warning, and the replica left alone for a while rather than asked by every reader.
    assert [record.getMessage() for record in caplog.records] == [
        'Read replica unavailable, public pages read from the primary: OperationalError: connection to server at "'
        'replica" failed: Connection refused'
    ]
    assert len(asked) == 1

    monkeypatch.setattr(routers._Health, "resting_until", 0.0)
    monkeypatch.setattr(routers, "replica_generation", lambda: PublicGeneration.current()[0])
    with caplog.at_level(logging.INFO, logger="casetracker.routers"):
        forget_caches()
        assert Client().get("/cases/").status_code == 200
    assert "Read replica answers again." in caplog.text
    assert "workflow.PublishedVersion" in reads(routed, REPLICA)


# Cost.


def queries_for(url: str) -> int:
    forget_caches()
    PublishedRendering.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:  # the replica here is this same connection
        response = Client().get(url)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize("url", [*PUBLIC_PAGES, "/export/cases.csv", "case"])
def test_the_replica_costs_a_public_request_at_most_one_query(case, routed, settings, url):
    url = f"/cases/{case.case_id}/" if url == "case" else url
    settings.DATABASE_ROUTERS = []
    alone = queries_for(url)
    settings.DATABASE_ROUTERS = [ROUTER]
    assert queries_for(url) == alone + 1  # the replica's generation


def test_a_page_served_from_the_cache_never_asks_the_replica(case, routed):
    Client().get("/cases/")
    routed.clear()
    with CaptureQueriesContext(connection) as queries:
        assert Client().get("/cases/").status_code == 200
    statements = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 1 and "workflow_publicgeneration" in statements[0]
    assert reads(routed, REPLICA) == set()


# Settings.


def setting(expression: str, **env) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_REPLICA_URL"}
    environment.update({"SECRET_KEY": "x" * 50, **env})
    code = f"from casetracker import settings; print({expression})"
    result = subprocess.run(  # noqa: S603 (our own settings)
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_a_replica_there_is_no_router():
    assert setting("sorted(settings.DATABASES), getattr(settings, 'DATABASE_ROUTERS', None)") == "['default'] None"


def test_a_replica_url_adds_the_replica_and_its_router():
    shown = setting(
        "settings.DATABASES['replica']['HOST'], settings.DATABASES['replica']['TEST'], "
        "settings.DATABASES['replica']['ATOMIC_REQUESTS'], settings.DATABASE_ROUTERS",
        DATABASE_URL="postgres://primary.example.org/whereabouts",
        DATABASE_REPLICA_URL="postgres://reader.example.org/whereabouts",
    )
    assert shown == "reader.example.org {'MIRROR': 'default'} False ['casetracker.routers.ReplicaRouter']"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_REPLICA_URL": "postgres://reader/db"}, "DATABASE_REPLICA_URL needs DATABASE_URL on PostgreSQL"),
        (
            {"DATABASE_URL": "postgres://h/db", "DATABASE_REPLICA_URL": "sqlite:///copy.sqlite3"},
            "DATABASE_REPLICA_URL='sqlite:///copy.sqlite3': a read replica must be a postgres:// URL",
        ),
        (
            {"DATABASE_URL": "postgres://h/db", "DATABASE_REPLICA_URL": "mysql://reader/db"},
            "DATABASE_REPLICA_URL='mysql://reader/db': only sqlite:/// and postgres://",
        ),
        ({"DATABASE_URL": "postgres://h/db", "DATABASE_REPLICA_URL": "postgres://reader"}, "names no database"),
    ],
)
def test_an_invalid_replica_url_stops_the_start(env, message):
    result = start(SECRET_KEY="x" * 50, **env)
    assert result.returncode != 0
    assert message in result.stderr


# With a real second connection (PostgreSQL): the replica is a connection of its own to the test database.


@pytest.fixture
def replica(case, routed):
    """A connection of its own for the replica; committed data (transactional tests) is seen by both. Under an
    alias of its own too ("own-replica", not a setting): pytest-django allows it in any test."""
    settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    settings_dict["ATOMIC_REQUESTS"] = False
    # Read-only, as a hot standby is: a write sent there would fail the test.
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "options": "-c default_transaction_read_only=on"}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "own-replica")
    connections["own-replica"] = wrapper
    try:
        with replica_connection(wrapper):
            yield wrapper
    finally:
        wrapper.close()
        del connections["own-replica"]


def tables(queries: CaptureQueriesContext) -> list[str]:
    return [
        "publicgeneration" if "workflow_publicgeneration" in query["sql"] else "other"
        for query in queries.captured_queries
    ]


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", ["/cases/", "/api/cases/", "/export/cases.csv", "case"])
def test_a_public_page_runs_its_queries_on_the_replica(case, replica, url):
    url = f"/cases/{case.case_id}/" if url == "case" else url
    PublishedRendering.objects.all().delete()  # a case page not kept yet: rendered from the replica's records
    with CaptureQueriesContext(connection) as primary, CaptureQueriesContext(replica) as on_replica:
        response = Client().get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200
    assert "Kim Replicated" in body.decode()
    # The primary: the generation, and for a case page the read of its kept page (one indexed query, cheaper
    # there than asking the replica's generation first) and the page then kept.
    assert "publicgeneration" in tables(primary)
    read_there = [query["sql"] for query in primary.captured_queries if query["sql"].startswith("SELECT")]
    assert all("workflow_publishedrendering" in sql or "workflow_publicgeneration" in sql for sql in read_there)
    # The replica: its generation once (the lag check), then the page's own reads.
    assert tables(on_replica)[0] == "publicgeneration"
    assert tables(on_replica).count("publicgeneration") == 1
    assert "other" in tables(on_replica)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_redaction_the_replica_has_not_replayed_is_never_served(case, replica):
    # The replica's replay stopped before the redaction: its connection holds a snapshot taken before it.
    replica.set_autocommit(False)
    try:
        with replica.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT count(*) FROM workflow_publishedversion")
        source = Source.objects.get(title=SENTINEL)
        source.is_restricted = True
        save_with_history(source, by=None, reason="the witness asked")
        with replica.cursor() as cursor:
            cursor.execute("SELECT generation FROM workflow_publicgeneration")
            assert cursor.fetchone()[0] < PublicGeneration.current()[0]

        with CaptureQueriesContext(replica) as on_replica:
            for url in ["/cases/", f"/cases/{case.case_id}/", "/sources/", "/api/cases/"]:
                response = Client().get(url)
                assert response.status_code == 200
                assert SENTINEL not in response.content.decode(), url
        # Each request asked the replica's generation, found it behind, and read nothing else there.
        assert set(tables(on_replica)) == {"publicgeneration"}
    finally:
        replica.rollback()
        replica.set_autocommit(True)

    # Replayed: the replica is read again, and shows what the primary shows.
    forget_caches()
    with CaptureQueriesContext(replica) as on_replica:
        response = Client().get("/sources/")
    assert SENTINEL not in response.content.decode()
    assert "other" in tables(on_replica)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_replica_failing_in_the_middle_of_a_page_costs_the_primary_not_the_page(case, replica, caplog):
    def cancelled_by_replay(execute, sql, params, many, context):
        if "workflow_publicgeneration" in sql:
            return execute(sql, params, many, context)
        with replica.wrap_database_errors:
            raise replica.Database.OperationalError("canceling statement due to conflict with recovery")

    with replica.execute_wrapper(cancelled_by_replay), caplog.at_level(logging.WARNING, logger="casetracker.routers"):
        response = Client().get("/cases/")
    assert response.status_code == 200
    assert "Kim Replicated" in response.content.decode()
    assert "canceling statement due to conflict with recovery" in caplog.text

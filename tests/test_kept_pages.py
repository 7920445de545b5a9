"""Case pages rendered once and kept with their version (public.rendering, workflow.PublishedRendering).

A kept page is served as it was rendered, with the site's address and the day
written in; anything that changes what it shows drops it in the same
transaction, so a redaction takes effect at once, whatever the caches.
"""

import datetime

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.history import save_with_history
from cases.models import Status
from public import build, rendering
from workflow.models import PublicGeneration, PublishedRendering, PublishedVersion
from workflow.services import withdraw

from .conftest import in_thread, postgresql_only
from .factories import make_citation, make_event, make_facility, make_publishable_case, make_source, publish_case

pytestmark = pytest.mark.django_db

SENTINEL = "ZQXKEPTSENTINEL"


def forget_caches():
    """What a reader no one has just preceded finds: nothing in the process's caches."""
    caches["pages"].clear()
    caches["default"].clear()


def page(client, url: str) -> str:
    forget_caches()
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def kept(person, language: str = "en") -> PublishedRendering | None:
    return PublishedRendering.objects.filter(
        version__person=person, version__is_current=True, language=language
    ).first()


def test_a_case_page_is_rendered_once_and_then_served_as_it_was_kept(client):
    person = publish_case(make_publishable_case(name="Kim Kept-page"))
    first = page(client, f"/cases/{person.case_id}/")
    stored = kept(person)
    assert stored is not None and stored.build == build.build_id()
    # Kept without the site's address nor the day it is read; served with both.
    assert "testserver" not in stored.html and rendering.ORIGIN in stored.html and rendering.ACCESSED in stored.html
    assert f"http://testserver/cases/{person.case_id}/versions/1/" in first
    assert rendering.ORIGIN not in first and rendering.ACCESSED not in first
    # The second reader gets what the first one got, from the kept page (nothing else could give it now).
    stored.html = stored.html.replace("Kim Kept-page", "Kim Kept-page (kept)")
    stored.save()
    second = page(client, f"/cases/{person.case_id}/")
    assert second == first.replace("Kim Kept-page", "Kim Kept-page (kept)")


def test_a_kept_page_is_served_with_the_address_it_is_asked_at_and_the_day_it_is_read(client):
    person = publish_case(make_publishable_case(name="Kim Address"))
    page(client, f"/cases/{person.case_id}/")
    forget_caches()
    html = client.get(f"/cases/{person.case_id}/", HTTP_HOST="localhost").content.decode()
    assert f'<link rel="canonical" href="http://localhost/cases/{person.case_id}/versions/1/">' in html
    assert "testserver" not in html
    # Read on another day: the same page, with that day as the day it was accessed.
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    forget_caches()
    with override_settings(USE_TZ=True):
        from unittest import mock

        with mock.patch("django.utils.timezone.now", return_value=tomorrow):
            later = client.get(f"/cases/{person.case_id}/").content.decode()
    day = timezone.localtime(tomorrow).date()
    assert f"(accessed {day.day} {day:%B %Y})" in later
    assert PublishedRendering.objects.filter(version__person=person).count() == 1  # not rendered again


def test_each_language_is_kept_apart_and_in_its_language(client):
    person = publish_case(make_publishable_case(name="Kim Languages"))
    english = page(client, f"/cases/{person.case_id}/")
    korean = page(client, f"/ko/cases/{person.case_id}/")
    assert set(PublishedRendering.objects.filter(version__person=person).values_list("language", flat=True)) == {
        "en",
        "ko",
    }
    assert '<html lang="ko">' in korean and '<html lang="en">' in english
    assert "접속" in korean or "열람" in korean  # the day it was read, in Korean words
    assert f'href="http://testserver/ko/cases/{person.case_id}/versions/1/"' in korean


def test_the_kept_page_holds_nothing_of_who_asked_first(client, admin_user):
    person = publish_case(make_publishable_case(name="Kim Anonymous"))
    client.force_login(admin_user)
    page(client, f"/cases/{person.case_id}/?utm_source={SENTINEL}")
    stored = kept(person)
    assert SENTINEL not in stored.html and admin_user.username not in stored.html
    assert "utm_source" not in stored.html  # the language links lead to the page itself, not to the query


def test_a_redaction_drops_the_kept_page_in_its_own_transaction(client):
    restricted_later = make_source(title=f"{SENTINEL} report", publisher="NGO")
    person = make_publishable_case(name="Kim Redacted")
    make_citation(restricted_later, status_event=person.status_events.get(), locator="p. 3")
    publish_case(person)
    assert SENTINEL in page(client, f"/cases/{person.case_id}/")
    assert kept(person) is not None
    # Restricted from anywhere (the admin, an import, a shell): the page kept before is gone at once.
    restricted_later.is_restricted = True
    save_with_history(restricted_later, by=None, reason="the witness asked")
    assert not PublishedRendering.objects.filter(version__person=person).exists()
    assert SENTINEL not in page(client, f"/cases/{person.case_id}/")
    assert SENTINEL not in kept(person).html


def test_a_withdrawn_case_is_not_served_from_its_kept_page(client):
    person = publish_case(make_publishable_case(name="Kim Withdrawn"))
    page(client, f"/cases/{person.case_id}/")
    withdraw(person, by=None, reason="the family asked")
    forget_caches()
    assert client.get(f"/cases/{person.case_id}/").status_code == 404
    assert not PublishedRendering.objects.filter(version__person=person).exists()


def test_a_new_version_is_served_at_once_and_the_old_pages_go(client):
    person = publish_case(make_publishable_case(name="Kim First-name"))
    page(client, f"/cases/{person.case_id}/")
    person.name = "Kim Second-name"
    save_with_history(person, by=None, reason="the family's spelling")
    publish_case(person)
    html = page(client, f"/cases/{person.case_id}/")
    assert "Kim Second-name" in html and "Kim First-name" not in html.split("<main")[1].split("versions")[0]
    assert list(
        PublishedRendering.objects.filter(version__person=person).values_list("version__number", flat=True)
    ) == [2]


def test_a_change_to_a_facility_drops_the_pages_whose_map_draws_it(client):
    camp = make_facility("Yodok political prison camp")  # with approximate coordinates: on the map
    held = make_publishable_case(name="Kim Held")
    make_event(held, Status.PRISON_CAMP, "2019-06", is_public=True, facility=camp)
    make_citation(make_source(), status_event=held.status_events.latest("pk"))
    publish_case(held)
    elsewhere = publish_case(make_publishable_case(name="Kim Elsewhere"))
    assert "Yodok political prison camp" in page(client, f"/cases/{held.case_id}/")
    page(client, f"/cases/{elsewhere.case_id}/")
    camp.name = "Camp 15 (Yodok)"
    save_with_history(camp, by=None, reason="the name used in the UN's reports")
    assert kept(held) is None and kept(elsewhere) is not None  # only the pages that draw it
    assert "Camp 15 (Yodok)" in page(client, f"/cases/{held.case_id}/")


def test_a_page_rendered_while_the_public_data_changed_is_not_kept():
    person = publish_case(make_publishable_case(name="Kim Raced"))
    version = PublishedVersion.objects.current().get(person=person)
    before = PublicGeneration.current()[0]
    PublicGeneration.advance()
    assert not PublishedRendering.keep(version, "en", build.build_id(), "<p>stale</p>", generation=before)
    assert not PublishedRendering.objects.exists()
    assert PublishedRendering.keep(version, "en", build.build_id(), "<p>fresh</p>", generation=before + 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL (SQLite has one writer)")
def test_a_page_kept_while_a_redaction_is_under_way_waits_for_it_and_is_not_kept():
    import threading

    person = publish_case(make_publishable_case(name="Kim Waiting"))
    version = PublishedVersion.objects.current().get(person=person)
    before = PublicGeneration.current()[0]
    changing, release, errors, results = threading.Event(), threading.Event(), [], []

    def redaction():
        with transaction.atomic():
            PublicGeneration.advance(pages_of=None)
            changing.set()
            release.wait(10)

    def reader():
        changing.wait(10)
        results.append(PublishedRendering.keep(version, "en", build.build_id(), "<p>stale</p>", generation=before))

    threads = [in_thread(redaction, errors), in_thread(reader, errors)]
    for thread in threads:
        thread.start()
    changing.wait(10)
    threads[1].join(1)
    assert threads[1].is_alive()  # the reader waits for the change to commit
    release.set()
    for thread in threads:
        thread.join(10)
    assert not errors and results == [False]
    assert not PublishedRendering.objects.filter(html="<p>stale</p>").exists()


def test_a_new_deployment_renders_the_pages_again(client):
    person = publish_case(make_publishable_case(name="Kim Deployed"))
    page(client, f"/cases/{person.case_id}/")
    old = kept(person).build
    build.build_id.cache_clear()
    try:
        with override_settings(ORGANISATION_NAME="Another organisation"):
            build.build_id.cache_clear()
            page(client, f"/cases/{person.case_id}/")
            assert kept(person).build == build.build_id() != old
    finally:
        build.build_id.cache_clear()


def test_a_publication_keeps_the_page_in_every_language(django_capture_on_commit_callbacks):
    person = make_publishable_case(name="Kim Published")
    with django_capture_on_commit_callbacks(execute=True):
        publish_case(person)
    assert set(PublishedRendering.objects.filter(version__person=person).values_list("language", flat=True)) == {
        "en",
        "ko",
        "ja",
    }


def test_render_public_pages_keeps_every_page_not_yet_kept(capsys):
    people = [publish_case(make_publishable_case(name=f"Kim Command {n}")) for n in range(3)]
    call_command("render_public_pages")
    assert "9 pages kept for 3 cases (en, ko, ja)." in capsys.readouterr().out
    assert PublishedRendering.objects.filter(version__person__in=people).count() == 9
    call_command("render_public_pages")
    assert "0 pages kept for 0 cases" in capsys.readouterr().out
    call_command("render_public_pages", "--language", "ko", "--quiet")
    assert capsys.readouterr().out == ""
    with pytest.raises(CommandError, match="Unknown language xx"):
        call_command("render_public_pages", "--language", "xx")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="processes side by side: PostgreSQL")
def test_render_public_pages_in_several_processes(capsys):
    people = [publish_case(make_publishable_case(name=f"Kim Processes {n}")) for n in range(5)]
    PublishedRendering.objects.all().delete()  # those kept at publication (the commits here are real)
    call_command("render_public_pages", "--processes", "2", "--language", "en")
    assert "5 pages kept for 5 cases (en)." in capsys.readouterr().out
    assert PublishedRendering.objects.filter(version__person__in=people, language="en").count() == 5
    assert PublicGeneration.current()[0] > 0  # the command's own connection is usable after the processes


@postgresql_only
def test_the_generation_and_the_kept_page_are_read_by_one_prepared_statement(client):
    person = publish_case(make_publishable_case(name="Kim Prepared"))
    first = page(client, f"/cases/{person.case_id}/")  # rendered and kept
    forget_caches()
    with CaptureQueriesContext(connection) as queries:
        again = page(client, f"/cases/{person.case_id}/")
    assert again == first
    assert len(queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    # Prepared on the connection: planned once, not at every reader (workflow.prepared).
    assert any("workflow_publishedrendering" in sql and "workflow_publicgeneration" in sql for sql in prepared)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_public_pages_first_read_is_its_connections_health_check(client, monkeypatch):
    # Django's health check (CONN_HEALTH_CHECKS) would send SELECT 1 before the page's one query: the query is the
    # check (workflow.prepared.first_row), and a connection the server has dropped is opened again, as the check
    # would have, without the reader seeing an error.
    person = publish_case(make_publishable_case(name="Kim Checked"))
    first = page(client, f"/cases/{person.case_id}/")
    database = connections["default"]
    monkeypatch.setattr(database, "health_check_enabled", True)

    def unused():
        raise AssertionError("SELECT 1 sent before the page's read")

    monkeypatch.setattr(database, "is_usable", unused)
    database.health_check_done = False  # as at the start of a request (close_old_connections)
    assert page(client, f"/cases/{person.case_id}/") == first
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    killer = database.get_new_connection(database.get_connection_params())
    try:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()
    database.health_check_done = False
    assert page(client, f"/cases/{person.case_id}/") == first
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid

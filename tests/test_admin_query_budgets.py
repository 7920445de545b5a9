"""The admin's person list and change page run a fixed number of queries, whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Status

from .factories import make_citation, make_event, make_person, make_source, make_user, make_variant

pytestmark = pytest.mark.django_db


def person_with(related: int):
    person = make_person(assigned_to=make_user())
    source = make_source()
    for n in range(related):
        make_variant(person, f"Variant {n}")
        event = make_event(person, Status.DETAINED, str(1950 + n))
        make_citation(source, status_event=event)
        make_citation(source, person=person, locator=f"p. {n}")
    return person


def count(client, url: str) -> int:
    client.get(url)  # the first request fills per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_person_list_queries_do_not_grow_with_the_number_of_persons(admin_client):
    person_with(1)
    few = count(admin_client, "/admin/cases/person/")
    for _ in range(50):
        person_with(0)
    assert count(admin_client, "/admin/cases/person/") == few


def test_person_change_page_queries_do_not_grow_with_related_rows(admin_client):
    small, large = person_with(1), person_with(50)
    small_count = count(admin_client, f"/admin/cases/person/{small.pk}/change/")
    large_count = count(admin_client, f"/admin/cases/person/{large.pk}/change/")
    assert large_count == small_count, (small_count, large_count)

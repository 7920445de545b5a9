"""Case IDs: allocated once, never reused, safe under concurrency."""

import threading

import pytest
from django.db import transaction
from django.test import override_settings

from cases.history import save_with_history
from cases.models import Person, PublicationState

from .conftest import in_thread, make_person, postgresql_only

pytestmark = pytest.mark.django_db


def test_case_ids_are_allocated_in_sequence_with_the_configured_prefix():
    assert [make_person().case_id for _ in range(3)] == ["KP-0001", "KP-0002", "KP-0003"]
    with override_settings(CASE_ID_PREFIX="SY"):
        assert make_person().case_id == "SY-0001"
    assert make_person().case_id == "KP-0004"


def test_case_id_is_kept_when_the_person_is_edited():
    person = make_person()
    person.name = "Another spelling"
    save_with_history(person, by=None, reason="test")
    person.refresh_from_db()
    assert person.case_id == "KP-0001"


def test_a_withdrawn_case_keeps_its_id_and_the_id_is_never_reused():
    person = make_person()
    person.publication_state = PublicationState.WITHDRAWN
    save_with_history(person, by=None, reason="Withdrawn")
    assert make_person().case_id == "KP-0002"
    person.refresh_from_db()
    assert person.case_id == "KP-0001"


def test_ids_beyond_four_digits_keep_growing():
    from cases.models import CaseIdCounter

    CaseIdCounter.objects.create(prefix="KP", last_number=9999)
    assert make_person().case_id == "KP-10000"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_second_connection_waits_for_the_first_and_gets_the_next_id():
    first_has_id, release_first = threading.Event(), threading.Event()
    ids, errors = {}, []

    def first():
        with transaction.atomic():
            ids["first"] = make_person(name="First").case_id
            first_has_id.set()
            release_first.wait(10)

    def second():
        first_has_id.wait(10)
        ids["second"] = make_person(name="Second").case_id

    threads = [in_thread(first, errors), in_thread(second, errors)]
    for thread in threads:
        thread.start()
    first_has_id.wait(10)
    threads[1].join(timeout=1)
    waited = threads[1].is_alive()  # still blocked on the first connection's lock
    release_first.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    assert waited
    assert ids == {"first": "KP-0001", "second": "KP-0002"}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_creations_get_distinct_contiguous_ids():
    errors: list = []
    start = threading.Barrier(4)

    def create_ten():
        start.wait(10)
        for _ in range(10):
            make_person()

    threads = [in_thread(create_ten, errors) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    ids = sorted(Person.objects.values_list("case_id", flat=True))
    assert ids == [f"KP-{n:04d}" for n in range(1, 41)]

"""Synthetic demo data: deterministic, marked as synthetic, published through the same public record."""

import json

import pytest
from django.core.management import call_command

from cases.models import NameVariant, Person, PublicationState, StatusEvent, derive_status
from sources.models import Citation, Source
from workflow.models import PublishedName, PublishedVersion

pytestmark = pytest.mark.django_db


def generate(persons: int = 60, seed: int = 7) -> None:
    call_command("generate_demo_data", persons=persons, seed=seed, no_progress=True, batch=25)


def snapshot() -> list:
    return list(Person.objects.order_by("case_id").values_list("case_id", "name", "current_status", "birth_date"))


def test_demo_data_is_marked_synthetic_everywhere(client):
    generate()
    assert Person.objects.count() == 60
    assert not Person.objects.filter(is_synthetic=False).exists()
    assert not Person.objects.exclude(case_id__startswith="SY-").exists()
    assert not Person.objects.exclude(external_ref__startswith="SYNTHETIC-").exists()
    version = PublishedVersion.objects.current().first()
    assert version.record["synthetic"] is True
    html = client.get(f"/cases/{version.case_id}/").content.decode()
    assert "Synthetic demonstration data: this is not a real person or case." in html


def test_same_seed_gives_the_same_data_and_another_seed_other_data():
    generate(seed=3)
    generate(seed=3)
    generate(seed=4)
    rows = [row[1:] for row in snapshot()]
    assert rows[:60] == rows[60:120]
    assert rows[:60] != rows[120:]


def test_mix_of_states_and_derived_status_agrees_with_the_events():
    generate(persons=120)
    states = set(Person.objects.values_list("publication_state", flat=True))
    assert {PublicationState.PUBLISHED, PublicationState.DRAFT} <= states
    for person in Person.objects.all()[:40]:
        status, since, last = derive_status(person.status_events.active().in_timeline_order())
        assert (person.current_status, person.status_since, person.last_confirmed) == (status, since, last)
        assert 1 <= person.status_events.count() <= 10
        assert person.history.exists()


def test_public_records_hold_no_restricted_value():
    generate(persons=120)
    for version in PublishedVersion.objects.all():
        text = json.dumps(version.record)
        assert "restricted" not in text.lower()
        assert "Synthetic: restricted" not in text
    # Withdrawn cases are not searchable; published ones are.
    assert PublishedName.objects.filter(version__withdrawn_at__isnull=False).count() == 0
    assert PublishedName.objects.exists()


def test_every_generated_row_has_its_history_row_with_the_reason_and_the_categories():
    generate(persons=40)
    for model in (Person, NameVariant, StatusEvent, Citation, Source, PublishedVersion):
        rows = model.objects.count()
        assert rows > 0
        history = model.history.filter(history_type="+")
        assert history.count() == rows, model.__name__
        assert set(history.values_list("history_change_reason", flat=True)) == {
            "Synthetic demo data (generate_demo_data)"
        }
    # A person's history rows carry the categories, as a save would: the row of its creation, and those of
    # its publication and withdrawal.
    for person in Person.objects.prefetch_related("categories")[:10]:
        categories = {c.pk for c in person.categories.all()}
        assert categories != set()
        assert person.history.filter(history_type="+").count() == 1
        for record in person.history.all():
            assert {c.category_id for c in record.categories.all()} == categories
    # The rows are readable through the ORM as written (partial dates, the published record).
    version = PublishedVersion.objects.current().first()
    assert version.record["case_id"] == version.person.case_id

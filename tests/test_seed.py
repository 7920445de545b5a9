"""The seed data from the North Korea briefing, loaded idempotently."""

import pytest
from django.apps import apps
from django.core.management import call_command

from cases.history import save_with_history
from cases.models import Person, PublicationState, Status
from sources.models import Citation, Source

pytestmark = pytest.mark.django_db


def row_counts() -> dict:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def load(capsys=None) -> str:
    call_command("load_seed")
    return capsys.readouterr().out if capsys else ""


def test_seed_loads_the_persons_of_the_briefing(capsys):
    assert "6 persons and 6 sources added" in load(capsys)
    names = set(Person.objects.values_list("name", flat=True))
    assert {"Kim Cheol-ok", "Kim Jeong-wook", "Kim Kook-ki", "Choi Chun-gil"} <= names
    boys = Person.objects.filter(name="", descriptor__startswith="Teenage boy sentenced in January 2024")
    assert boys.count() == 2
    for boy in boys:
        assert boy.current_status == Status.SENTENCED
        assert str(boy.status_since) == "2024-01"
        assert "16 years of hard labour" in boy.status_events.get().description


def test_seed_records_the_spellings_of_the_briefing():
    load()
    assert Person.objects.get(name="Kim Kook-ki").variants.filter(name="Kim Kook-kie", is_public=True).exists()
    assert Person.objects.get(name="Choi Chun-gil").variants.filter(name="Choi-Chun-gil", is_public=True).exists()
    assert Person.objects.get(name="Kim Cheol-ok").name_native == "김철옥"


def test_seed_keeps_unknowns_unknown():
    load()
    for name in ("Kim Cheol-ok", "Kim Jeong-wook", "Kim Kook-ki", "Choi Chun-gil"):
        person = Person.objects.get(name=name)
        assert person.current_status == Status.DISAPPEARED
        assert person.birth_date is None
        assert all(event.date is None for event in person.status_events.all())
    assert Person.objects.get(name="Kim Kook-ki").nationality == ""
    assert Person.objects.get(name="Kim Cheol-ok").nationality == "KP"


def test_seed_sources_are_the_briefing_and_its_five_footnotes():
    load()
    assert Source.objects.count() == 6
    coi = Source.objects.get(url="https://documents.un.org/doc/undoc/gen/g14/108/66/pdf/g1410866.pdf")
    assert str(coi.published_on) == "2014-02-07"
    assert coi.kind == "un"
    assert str(Source.objects.get(publisher__startswith="All-Party").published_on) == "2021-07"
    assert not Source.objects.filter(is_restricted=True).exists()


def test_every_seed_claim_cites_a_source_and_every_case_is_published():
    load()
    for person in Person.objects.all():
        assert person.publication_state == PublicationState.PUBLISHED
        assert person.citations.exists()
        for event in person.status_events.all():
            assert event.is_public
            assert Citation.objects.filter(status_event=event, source__is_restricted=False).exists()


def test_seed_changes_are_in_the_history_with_a_reason():
    load()
    person = Person.objects.get(name="Kim Cheol-ok")
    reasons = set(person.history.values_list("history_change_reason", flat=True))
    assert all(reason and reason.startswith("Seed data") for reason in reasons)


def test_loading_twice_changes_nothing(capsys):
    load()
    before = row_counts()
    assert "0 persons and 0 sources added" in load(capsys)
    assert row_counts() == before


def test_loading_again_never_overwrites_later_edits():
    load()
    person = Person.objects.get(name="Kim Cheol-ok")
    person.summary = "Edited by a caseworker"
    save_with_history(person, by=None, reason="test")
    load()
    person.refresh_from_db()
    assert person.summary == "Edited by a caseworker"

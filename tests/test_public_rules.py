"""What is public, once per record: each queryset method and its property say the same of every record.

`StatusEvent.objects.public()` / `event.is_public_claim`, `NameVariant.objects.public()` /
`variant.is_public`, `Citation.objects.public()` / `citation.is_public_evidence`,
`Source.objects.public()` / `source.is_public`: every other place calls these.
"""

import itertools

import pytest

from cases.models import NameVariant, Status, StatusEvent
from sources.models import Citation, Source

from .conftest import make_citation, make_event, make_person, make_source, make_variant

pytestmark = pytest.mark.django_db


def test_a_status_event_is_public_only_when_ticked_and_not_withdrawn():
    person = make_person()
    events = {}
    for is_public, withdrawn in itertools.product([True, False], repeat=2):
        event = make_event(person, Status.DETAINED, "2014", is_public=is_public)
        if withdrawn:
            event.withdraw(by=None, reason="recorded in error")
        events[(is_public, withdrawn)] = event
    public = set(StatusEvent.objects.public())
    assert public == {events[(True, False)]}
    for event in events.values():
        event.refresh_from_db()
        assert event.is_public_claim == (event in public)


def test_a_name_variant_is_public_only_when_ticked():
    person = make_person()
    shown = make_variant(person, "Kim Shown", is_public=True)
    hidden = make_variant(person, "Kim Hidden", is_public=False)
    assert list(NameVariant.objects.public()) == [shown]
    assert shown.is_public and not hidden.is_public


def sources_in_every_state() -> dict[tuple[bool, bool], Source]:
    sources = {}
    for restricted, withdrawn in itertools.product([True, False], repeat=2):
        source = make_source(title=f"restricted={restricted} withdrawn={withdrawn}", is_restricted=restricted)
        if withdrawn:
            source.withdraw(by=None, reason="retracted")
        sources[(restricted, withdrawn)] = source
    return sources


def test_a_source_is_public_only_when_neither_restricted_nor_withdrawn():
    sources = sources_in_every_state()
    public = set(Source.objects.public())
    assert public == {sources[(False, False)]}
    for source in sources.values():
        source.refresh_from_db()
        assert source.is_public == (source in public)


def test_a_citation_is_public_evidence_only_when_active_and_of_a_public_source():
    event = make_event(make_person(), Status.DETAINED, "2014", is_public=True)
    citations = {}
    for (restricted, source_withdrawn), source in sources_in_every_state().items():
        for withdrawn in (False, True):
            citation = make_citation(source, status_event=event)
            if withdrawn:
                citation.withdraw(by=None, reason="wrong page")
            citations[(restricted, source_withdrawn, withdrawn)] = citation
    public = set(Citation.objects.public())
    assert public == {citations[(False, False, False)]}
    for citation in citations.values():
        citation = Citation.objects.select_related("source").get(pk=citation.pk)
        assert citation.is_public_evidence == (citation in public)

"""The database refuses records that break the domain's invariants."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, models, transaction

from cases.history import EvidentialRecordDeletion
from cases.models import Person, PublicationBasis, PublicationState, StatusEvent
from sources.models import Citation, Source

from .factories import make_citation, make_event, make_person, make_source

pytestmark = pytest.mark.django_db


def refused(callable_, *args, **kwargs) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_(*args, **kwargs)


def test_person_needs_a_name_or_a_descriptor():
    refused(make_person, name="", descriptor="")
    assert not Person.objects.exists()
    assert make_person(name="", descriptor="Teenage boy, sentenced January 2024").case_id


def test_case_ids_are_unique():
    person = make_person()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(name="Someone else", case_id=person.case_id)


def test_external_reference_is_unique_when_given():
    make_person(external_ref="NGO-17")
    refused(make_person, external_ref="NGO-17")
    make_person(external_ref="")
    make_person(external_ref="")
    assert Person.objects.filter(external_ref="").count() == 2


def test_reprisal_risk_requires_a_pseudonym():
    refused(make_person, reprisal_risk=True, pseudonym="")
    assert make_person(reprisal_risk=True, pseudonym="Ms A").pk


def test_published_person_requires_a_basis_for_publication():
    refused(make_person, publication_state=PublicationState.PUBLISHED, publication_basis="")
    assert make_person(
        publication_state=PublicationState.PUBLISHED, publication_basis=PublicationBasis.ALREADY_PUBLIC
    ).pk


def test_consent_names_who_gave_it_and_public_interest_gives_a_reason():
    refused(make_person, publication_basis=PublicationBasis.CONSENT, consent_given_by="")
    refused(make_person, publication_basis=PublicationBasis.PUBLIC_INTEREST, public_interest_reason="")
    make_person(publication_basis=PublicationBasis.CONSENT, consent_given_by="Her brother")
    make_person(publication_basis=PublicationBasis.PUBLIC_INTEREST, public_interest_reason="Widely reported")


def test_citation_cites_exactly_one_of_person_or_status_event():
    person = make_person()
    event = make_event(person)
    source = make_source()
    refused(make_citation, source, person=person, status_event=event)
    refused(make_citation, source)
    make_citation(source, person=person)
    make_citation(source, status_event=event)
    assert Citation.objects.count() == 2


@pytest.mark.parametrize("digest", ["abc", "g" * 64, "A" * 64, "0" * 63])
def test_source_sha256_must_be_64_lowercase_hex_characters(digest):
    source = make_source()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE sources_source SET sha256 = %s WHERE id = %s", [digest, source.pk])


def test_source_sha256_size_and_type_are_computed_by_the_server(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    content = b"%PDF-1.4 a small test document"
    source = make_source(document=ContentFile(content, name="interview-with-a-family.pdf"))
    source.refresh_from_db()
    assert source.sha256 == hashlib.sha256(content).hexdigest()
    assert source.file_size == len(content)
    assert source.content_type == "application/pdf"
    assert "interview" not in source.document.name


def test_same_url_cannot_be_two_sources():
    make_source(url="https://example.org/report")
    refused(make_source, url="https://example.org/report")
    make_source(url="")
    make_source(url="")


def test_status_event_withdrawal_needs_a_reason():
    event = make_event(make_person())
    event.withdrawn = True
    refused(event.save)


def test_deleting_a_person_or_event_or_source_or_citation_is_refused():
    person = make_person()
    event = make_event(person)
    source = make_source()
    citation = make_citation(source, person=person)
    for record in (person, event, source, citation):
        with pytest.raises(EvidentialRecordDeletion):
            record.delete()
    for queryset in (Person.objects.all(), StatusEvent.objects.all(), Source.objects.all(), Citation.objects.all()):
        with pytest.raises(EvidentialRecordDeletion):
            queryset.delete()
    assert (Person.objects.count(), StatusEvent.objects.count(), Source.objects.count()) == (1, 1, 1)
    assert Citation.objects.count() == 1


def test_cited_source_and_person_are_protected_even_below_the_application():
    """Bypassing the application's guard still meets PROTECT, never a cascade."""
    person = make_person()
    source = make_source()
    make_citation(source, status_event=make_event(person))
    with pytest.raises(models.ProtectedError):
        models.Model.delete(source)
    with pytest.raises(models.ProtectedError):
        models.Model.delete(person)
    assert Citation.objects.count() == 1

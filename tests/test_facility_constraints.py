"""Facilities, authorities, responsibilities and relations: what the database and the models refuse."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cases.history import EvidentialRecordDeletion, save_with_history
from cases.models import Authority, Facility, Relation, Responsibility
from cases.names import place_romanizations

from .factories import make_authority, make_event, make_facility, make_person, make_relation

pytestmark = pytest.mark.django_db


def _refused_by_database(instance):
    with pytest.raises(IntegrityError), transaction.atomic():
        save_with_history(instance, by=None, reason="test")


@pytest.mark.parametrize(
    "fields",
    [
        {"latitude": Decimal("39.7"), "longitude": None, "precision": "exact"},
        {"latitude": Decimal("39.7"), "longitude": Decimal("127.0"), "precision": ""},
        {"latitude": None, "longitude": None, "precision": "region"},
        {"latitude": Decimal("91"), "longitude": Decimal("127.0"), "precision": "exact"},
        {"latitude": Decimal("39.7"), "longitude": Decimal("-181"), "precision": "exact"},
        {"name": ""},
    ],
)
def test_the_database_refuses_a_facility_with_inconsistent_coordinates_or_no_name(fields):
    _refused_by_database(Facility(**{"name": "Camp", **fields}))
    assert not Facility.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latitude": Decimal("39.7")}, "longitude"),
        ({"latitude": Decimal("39.7"), "longitude": Decimal("127")}, "precision"),
        ({"precision": "exact"}, "precision"),
        ({"latitude": Decimal("95"), "longitude": Decimal("127"), "precision": "exact"}, "latitude"),
        ({"opened_on": "2001", "closed_on": "1999"}, "closed_on"),
        ({"opened_on": "2999"}, "opened_on"),
    ],
)
def test_a_facility_form_is_told_what_is_wrong(fields, field):
    facility = Facility(name="Camp", **fields)
    with pytest.raises(ValidationError) as refused:
        facility.full_clean()
    assert field in refused.value.message_dict


def test_names_are_unique_and_an_authority_is_not_its_own_parent():
    make_facility("Camp 15")
    _refused_by_database(Facility(name="Camp 15"))
    mss = make_authority()
    mss.parent = mss
    _refused_by_database(mss)
    bureau = make_authority("Provincial bureau", parent=Authority.objects.get(pk=mss.pk))
    top = Authority.objects.get(pk=mss.pk)
    top.parent = bureau
    with pytest.raises(ValidationError) as refused:
        top.full_clean()
    assert "parent" in refused.value.message_dict
    assert [body.name for body in bureau.chain()] == ["Provincial bureau", "Ministry of State Security"]


def test_facilities_and_authorities_are_withdrawn_not_deleted():
    camp, mss = make_facility(), make_authority()
    for record in (camp, mss):
        with pytest.raises(EvidentialRecordDeletion):
            record.delete()
        with pytest.raises(ValueError):
            record.withdraw(by=None, reason=" ")
        record.withdraw(by=None, reason="recorded twice")
    assert Facility.objects.active().count() == 0 and Facility.objects.count() == 1
    assert Facility.history.filter(withdrawn=True, history_change_reason="recorded twice").exists()


def test_a_relation_joins_two_persons_once():
    a, b = make_person(name="Kim A"), make_person(name="Kim B")
    make_relation(a, "sibling", b)
    _refused_by_database(Relation(person=a, kind="sibling", other=b))
    _refused_by_database(Relation(person=a, kind="parent", other=a))
    with pytest.raises(ValidationError):
        Relation(person=a, kind="parent", other=a).full_clean()
    assert [relation.seen_from(b.pk) for relation in Relation.objects.of(b)] == [("sibling", a)]


def test_a_parent_is_seen_from_the_child_as_a_parent_and_from_the_parent_as_a_child():
    mother, son = make_person(name="Kim Mother"), make_person(name="Kim Son")
    relation = make_relation(mother, "parent", son)
    assert relation.seen_from(son.pk) == ("parent", mother)
    assert relation.seen_from(mother.pk) == ("child", son)


def test_an_authority_is_responsible_once_per_event_and_cannot_be_deleted_while_cited():
    event = make_event(make_person())
    mss = make_authority()
    Responsibility.objects.create(status_event=event, authority=mss, confidence="likely")
    with pytest.raises(IntegrityError), transaction.atomic():
        Responsibility.objects.create(status_event=event, authority=mss, confidence="possible")
    with pytest.raises(IntegrityError), transaction.atomic():
        Authority.objects.filter(pk=mss.pk).update(name="")


@pytest.mark.parametrize("query", ["Yodok", "yodeok", "YODŎK", "요덕", "Camp 15", "Kwan-li-so 15"])
def test_a_facility_is_found_in_any_spelling(query):
    make_facility("Yodok political prison camp", name_ko="요덕 정치범수용소", variants=["Camp 15", "Kwanliso 15"])
    make_facility("Hwasong political prison camp", name_ko="화성 정치범수용소")
    assert [f.name for f in Facility.objects.all().matching(query)] == ["Yodok political prison camp"]


def test_a_spelling_that_is_not_public_finds_the_facility_for_staff_only():
    camp = make_facility("Yodok political prison camp")
    camp.variants.create(name="Secret-name", is_public=False)
    assert Facility.objects.all().matching("Secret-name") == [camp]
    assert Facility.objects.all().matching("Secret-name", public_only=True) == []


def test_a_korean_place_name_is_romanized_as_one_word():
    assert place_romanizations("요덕") == ["Yodeok", "Yodŏk"]
    assert place_romanizations("Yodok") == []


def test_a_cycle_above_an_authority_does_not_hang_its_check():
    a, b = make_authority("Body A"), make_authority("Body B")
    # Two saves at the same moment could each put one under the other.
    Authority.objects.filter(pk=a.pk).update(parent=b)
    Authority.objects.filter(pk=b.pk).update(parent=a)
    c = make_authority("Unit C", parent=Authority.objects.get(pk=a.pk))
    assert [body.name for body in c.chain()] == ["Unit C", "Body A", "Body B"]

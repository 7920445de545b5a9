"""Facilities and authorities in the seed (documented, cited, none for the seed's persons) and in the demo data."""

import pytest
from django.core.management import call_command

from cases.models import Authority, Facility, Person, Relation, Responsibility, StatusEvent
from cases.vocabularies import FacilityKind
from sources.models import Citation
from workflow.models import PublishedPlacement, PublishedVersion

pytestmark = pytest.mark.django_db

# North Korea, roughly: every synthetic point in it must be at least inside this box.
NORTH_KOREA = {"latitude": (37.6, 43.1), "longitude": (124.2, 130.8)}


# --- The seed ---------------------------------------------------------------------------------------------


def test_the_seed_records_no_facility_or_authority_for_its_persons():
    call_command("load_seed")

    assert Person.objects.count() == 6
    assert not StatusEvent.objects.exclude(facility=None).exists()
    assert not Responsibility.objects.exists()
    for version in PublishedVersion.objects.all():
        assert all(event["facility"] is None and event["responsible"] == [] for event in version.record["events"])
    assert not PublishedPlacement.objects.exists()


def test_the_seed_facilities_are_public_cited_located_no_closer_than_known_and_run_by_their_authorities():
    call_command("load_seed")
    mss, social = Authority.objects.get(name_ko="국가보위성"), Authority.objects.get(name_ko="사회안전성")

    facilities = Facility.objects.all()
    assert facilities.count() == 7
    for facility in facilities:
        assert facility.is_public_place
        assert facility.name_ko and facility.name_ja and facility.description_ko and facility.description_ja
        # No cited source gives a camp's position: the coordinates mark its county or city, and say so.
        assert facility.precision == "region" and facility.has_coordinates
        assert "not the facility" in facility.internal_notes
        (citation,) = facility.citations.all()
        assert citation.is_public_evidence
        assert citation.source.title.endswith("(A/HRC/25/CRP.1)")
        assert str(citation.source.published_on) == "2014-02-07"
        expected = {"kwanliso": mss, "interrogation": mss, "kyohwaso": social}[facility.kind]
        assert facility.authority == expected
    assert {facility.name for facility in facilities.filter(kind="kwanliso")} == {
        "Kwanliso No. 14 (Kaechon)",
        "Kwanliso No. 15 (Yodok)",
        "Kwanliso No. 16 (Hwasong)",
        "Kwanliso No. 25 (Chongjin)",
    }
    assert Facility.objects.matching("Camp 15") == [Facility.objects.get(name="Kwanliso No. 15 (Yodok)")]
    assert Facility.objects.matching("요덕") == [Facility.objects.get(name="Kwanliso No. 15 (Yodok)")]


def test_the_seed_authorities_are_public_with_their_parent_bodies():
    call_command("load_seed")

    authorities = {authority.name_ko: authority for authority in Authority.objects.all()}
    assert set(authorities) == {"국가보위성", "사회안전성", "조선인민군", "조선인민군 보위국", "중화인민공화국 공안부"}
    assert all(authority.is_public_place for authority in authorities.values())
    assert authorities["조선인민군 보위국"].parent == authorities["조선인민군"]
    assert authorities["중화인민공화국 공안부"].country.code == "CN"
    assert "中华人民共和国公安部" in authorities["중화인민공화국 공안부"].description


def test_loading_the_seed_twice_adds_no_facility_authority_or_citation():
    call_command("load_seed")
    counts = (Facility.objects.count(), Authority.objects.count(), Citation.objects.count(), Facility.history.count())

    call_command("load_seed")

    assert (Facility.objects.count(), Authority.objects.count(), Citation.objects.count()) == counts[:3]
    assert Facility.history.count() == counts[3]
    assert set(Facility.history.values_list("history_change_reason", flat=True)) == {
        "Seed data: CSW North Korea briefing"
    }


# --- The demo data ----------------------------------------------------------------------------------------


def generate(persons: int = 120, seed: int = 5) -> None:
    call_command("generate_demo_data", persons=persons, seed=seed, no_progress=True, batch=40)


def test_the_demo_data_has_synthetic_facilities_of_every_kind_inside_north_korea_and_their_authorities():
    generate()

    facilities = list(Facility.objects.select_related("authority"))
    assert {facility.kind for facility in facilities} == set(FacilityKind.values) - {FacilityKind.OTHER}
    for facility in facilities:
        assert facility.name.startswith("Synthetic") and facility.description.startswith("Synthetic demo data")
        assert facility.is_public_place and facility.precision in ("approximate", "region")
        assert facility.authority.name.startswith("Synthetic")
        assert facility.citations.filter(source__is_restricted=False).exists()
        if facility.country.code == "KP":
            for axis, (low, high) in NORTH_KOREA.items():
                assert low < float(getattr(facility, axis)) < high
    assert Authority.objects.exclude(parent=None).count() == 2


def test_a_good_share_of_demo_events_have_a_facility_and_the_authorities_believed_responsible():
    generate()

    events = StatusEvent.objects.all()
    at_facilities = events.exclude(facility=None).select_related("facility")
    assert at_facilities.count() > events.count() // 4
    for event in at_facilities[:100]:
        held = list(event.responsibilities.select_related("authority"))
        assert 1 <= len(held) <= 2
        assert held[0].authority == event.facility.authority or held[1].authority == event.facility.authority
    # Where a person is at risk, no public text names a place: nor a facility.
    assert not events.filter(person__reprisal_risk=True).exclude(facility=None).exists()
    assert PublishedPlacement.objects.exists()
    for model in (Facility, Authority, Responsibility, Relation):
        assert model.history.filter(history_type="+").count() == model.objects.count(), model.__name__


def test_some_demo_persons_are_related_with_citations_and_some_relations_are_public():
    generate()

    relations = list(Relation.objects.all())
    assert len(relations) >= 6
    assert {True, False} == {relation.is_public for relation in relations}
    for relation in relations:
        assert relation.person.case_id[:3] == relation.other.case_id[:3] == "SY-"
        cited = Citation.objects.filter(relation=relation)
        assert cited.exists()
        if relation.is_public:
            assert cited.filter(source__is_restricted=False).exists()
    on_records = [
        relation for version in PublishedVersion.objects.current() for relation in version.record["relations"]
    ]
    assert on_records


def test_a_second_run_reuses_the_synthetic_places():
    generate(persons=40)
    generate(persons=40)

    assert Facility.objects.count() == 10
    assert Authority.objects.count() == 5

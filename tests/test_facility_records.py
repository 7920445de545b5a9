"""A case's public record shows only the public facilities, authorities and relations (workflow.snapshots)."""

import pytest

from cases.history import save_with_history
from cases.models import Responsibility
from workflow.models import PublishedPlacement, PublishedVersion
from workflow.services import withdraw

from .factories import (
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_publishable_case,
    make_relation,
    make_source,
    publish_case,
)

pytestmark = pytest.mark.django_db


def _record(person) -> dict:
    return PublishedVersion.objects.get(person=person, is_current=True).record


def _case_at(facility, *authorities, **fields):
    person = make_publishable_case(**fields)
    event = person.status_events.get()
    event.facility = facility
    save_with_history(event, by=None, reason="test data")
    for authority in authorities:
        Responsibility.objects.create(status_event=event, authority=authority, confidence="likely")
    return person, event


def test_a_public_facility_and_authority_are_in_the_record_and_indexed():
    mss = make_authority(name_ko="국가보위성")
    camp = make_facility(authority=mss, name_ko="요덕 정치범수용소")
    person, event = _case_at(camp, mss)
    publish_case(person)
    shown = _record(person)["events"][0]
    assert shown["facility"] == {
        "id": camp.pk,
        "name": "Yodok political prison camp",
        "name_ko": "요덕 정치범수용소",
        "name_ja": "",
        "kind": "kwanliso",
    }
    assert shown["responsible"] == [
        {
            "id": mss.pk,
            "name": "Ministry of State Security",
            "name_ko": "국가보위성",
            "name_ja": "",
            "confidence": "likely",
        }
    ]
    assert list(PublishedPlacement.objects.values_list("facility_id", "event_id")) == [(camp.pk, event.pk)]


def test_a_facility_or_authority_that_is_not_public_is_left_out():
    secret = make_authority("Unit SENTINEL-AUTHORITY", is_public=False)
    camp = make_facility("SENTINEL-FACILITY camp", is_public=False)
    person, _ = _case_at(camp, secret)
    publish_case(person)
    record = _record(person)
    assert record["events"][0]["facility"] is None
    assert record["events"][0]["responsible"] == []
    assert "SENTINEL" not in str(record)
    assert not PublishedPlacement.objects.exists()


def test_making_a_facility_or_authority_non_public_takes_it_out_of_every_published_version():
    mss = make_authority()
    camp = make_facility()
    person, _ = _case_at(camp, mss)
    publish_case(person)
    camp.is_public = False
    save_with_history(camp, by=None, reason="not sure of it")
    assert _record(person)["events"][0]["facility"] is None
    assert not PublishedPlacement.objects.exists()
    mss.withdraw(by=None, reason="recorded in error")
    assert _record(person)["events"][0]["responsible"] == []


def test_a_responsibility_removed_leaves_the_record():
    mss = make_authority()
    person, event = _case_at(None, mss)
    publish_case(person)
    assert _record(person)["events"][0]["responsible"]
    Responsibility.objects.get(status_event=event).delete()
    assert _record(person)["events"][0]["responsible"] == []


def _related_pair(**relation_fields):
    source = make_source(is_restricted=False, title="Family testimony, published")
    mother = make_publishable_case(name="Kim Mother")
    son = make_publishable_case(name="Kim Son")
    relation = make_relation(mother, "parent", son, source=source, **relation_fields)
    return mother, son, relation


def test_a_relation_is_public_when_both_cases_are_published_and_neither_family_is_at_risk():
    mother, son, _relation = _related_pair()
    publish_case(mother)
    # The son is not published yet: the mother's record does not name him.
    assert _record(mother)["relations"] == []
    publish_case(son)
    shown = _record(son)["relations"]
    assert [(r["kind"], r["case_id"], r["name"]) for r in shown] == [("parent", mother.case_id, "Kim Mother")]
    assert shown[0]["citations"] and "Family testimony, published" in str(_record(son)["sources"])
    publish_case(mother)  # republished: now the son is on the site
    assert [(r["kind"], r["case_id"]) for r in _record(mother)["relations"]] == [("child", son.case_id)]


def test_a_relation_without_a_public_source_or_not_marked_public_is_left_out():
    mother, son, _relation = _related_pair(is_public=False)
    publish_case(mother)
    publish_case(son)
    assert _record(son)["relations"] == []
    uncited = make_relation(son, "sibling", mother)
    assert uncited.pk
    publish_case(son)
    assert _record(son)["relations"] == []


@pytest.mark.parametrize("change", ["risk", "withdrawn", "relation"])
def test_a_relation_leaves_the_other_record_when_a_case_is_withdrawn_or_at_risk_or_the_relation_is_not_public(change):
    mother, son, relation = _related_pair()
    publish_case(mother)
    publish_case(son)
    publish_case(mother)
    assert _record(son)["relations"] and _record(mother)["relations"]
    if change == "risk":
        mother.reprisal_risk, mother.pseudonym = True, "A mother"
        save_with_history(mother, by=None, reason="threats reported")
    elif change == "withdrawn":
        withdraw(mother, by=None, reason="family asked")
    else:
        relation.is_public = False
        save_with_history(relation, by=None, reason="not sure")
    assert _record(son)["relations"] == []
    assert "Kim Mother" not in str(_record(son))
    if change != "withdrawn":
        assert _record(mother)["relations"] == []


def test_a_withdrawn_relation_citation_takes_the_relation_out():
    mother, son, relation = _related_pair()
    publish_case(mother)
    publish_case(son)
    relation.citations.get().withdraw(by=None, reason="misread")
    assert _record(son)["relations"] == []


def test_an_event_moved_to_another_facility_loses_the_old_one_from_the_record():
    camp = make_facility()
    person, event = _case_at(camp)
    publish_case(person)
    event.correct(by=None, reason="it was another camp", facility=make_facility("Hwasong camp", is_public=False))
    assert _record(person)["events"][0]["facility"] is None


def test_facility_citations_need_exactly_one_claim():
    from django.db import IntegrityError, transaction

    source = make_source()
    camp = make_facility()
    citation = make_citation(source, facility=camp)
    assert citation.claim == camp and citation.case_person_ids == []
    person, _event = _case_at(camp)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_citation(source, facility=camp, person=person)
    assert make_event(person).pk


def test_the_publication_preview_says_what_changes_in_facilities_authorities_and_relations():
    from django.utils import timezone

    from workflow.preview import record_changes
    from workflow.snapshots import build_record

    mother, son, _relation = _related_pair()
    publish_case(mother)
    camp, mss = make_facility(), make_authority()
    event = son.status_events.get()
    event.correct(by=None, reason="the camp is known", facility=camp)
    Responsibility.objects.create(status_event=event, authority=mss, confidence="confirmed")
    before = build_record(son, number=1, published_at=timezone.now())
    publish_case(son)
    after = _record(son)
    assert before["relations"] and after["relations"]
    changes = {(c.section, c.kind, c.after) for c in record_changes(None, after)}
    assert ("People connected to the case", "added", "") in {(c[0], c[1], c[2]) for c in changes}
    moved = make_facility("Hwasong political prison camp")
    event.correct(by=None, reason="moved", facility=moved)
    later = build_record(son, number=2, published_at=timezone.now())
    described = [(c.item, c.before, c.after) for c in record_changes(after, later)]
    assert any(
        item.endswith("facility") and old == "Yodok political prison camp" and new == "Hwasong political prison camp"
        for item, old, new in described
    )
    assert after["events"][0]["responsible"][0]["name"] == "Ministry of State Security"


def test_an_editor_who_adds_a_relation_or_a_responsibility_after_submission_may_not_publish_it():
    from workflow.services import four_eyes_problem, submit_for_review

    from .factories import make_staff

    caseworker, editor = make_staff("Caseworker"), make_staff("Editor")
    _mother, son, _relation = _related_pair()
    submit_for_review(son, by=caseworker)
    son.refresh_from_db()
    assert four_eyes_problem(son, editor) is None
    make_relation(son, "sibling", make_publishable_case(name="Kim Brother"), by=editor)
    assert four_eyes_problem(son, editor)

    other_editor = make_staff("Editor", username="editor2")
    event = son.status_events.get()
    responsibility = Responsibility(status_event=event, authority=make_authority())
    save_with_history(responsibility, by=other_editor, reason="the arrest was by the MSS")
    assert four_eyes_problem(son, other_editor)

"""Publishing takes a snapshot; restrictions reach every snapshot at once."""

import json

import pytest

from cases.history import save_with_history
from cases.models import PublicationBasis, Status
from workflow.models import PublishedVersion
from workflow.services import publish, submit_for_review, withdraw

from .factories import make_citation, make_event, make_person, make_source, make_user, make_variant, publish_case

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-9c1e"


def dump(version: PublishedVersion) -> str:
    version.refresh_from_db()
    return json.dumps(version.record, ensure_ascii=False)


def case_with_secrets():
    """A published-ready case with the sentinel planted in every restricted field and record."""
    person = make_person(
        name="Kim Public",
        internal_notes=SENTINEL,
        external_ref=SENTINEL,
        consent_given_by=f"{SENTINEL} consent",
        publication_basis=PublicationBasis.ALREADY_PUBLIC,
        summary="Public summary.",
        assigned_to=make_user(f"{SENTINEL}-caseworker"),
    )
    make_variant(person, "Gim Public", is_public=True)
    make_variant(person, f"{SENTINEL} private variant", is_public=False, note=SENTINEL)
    public_source = make_source(title="UN report", internal_notes=SENTINEL)
    secret_source = make_source(title=f"{SENTINEL} testimony", is_restricted=True, internal_notes=SENTINEL)
    withdrawn_source = make_source(title=f"{SENTINEL} retracted")
    withdrawn_source.withdraw(by=None, reason=SENTINEL)
    event = make_event(person, Status.ARRESTED, "2014-10", is_public=True, internal_note=SENTINEL, place="Hyesan")
    make_citation(public_source, status_event=event, locator="para. 12", note=SENTINEL)
    make_citation(secret_source, status_event=event, locator=SENTINEL, excerpt=SENTINEL)
    make_citation(withdrawn_source, status_event=event, locator=SENTINEL)
    old_citation = make_citation(public_source, status_event=event, locator=f"{SENTINEL} old")
    old_citation.withdraw(by=None, reason=SENTINEL)
    private_event = make_event(
        person, Status.DECEASED_REPORTED, "2020", is_public=False, description=SENTINEL, internal_note=SENTINEL
    )
    make_citation(public_source, status_event=private_event, locator=SENTINEL)
    withdrawn_event = make_event(person, Status.RELEASED, "2019", is_public=True, description=SENTINEL)
    make_citation(public_source, status_event=withdrawn_event)
    withdrawn_event.withdraw(by=None, reason=SENTINEL)
    make_citation(public_source, person=person, locator="p. 3", note=SENTINEL)
    return person


def test_snapshot_holds_public_facts_and_never_a_restricted_value():
    person = publish_case(case_with_secrets())
    version = PublishedVersion.objects.get(person=person)
    text = dump(version)
    assert SENTINEL not in text
    record = version.record
    assert record["name"] == "Kim Public"
    assert [name["name"] for name in record["other_names"]] == ["Gim Public"]
    assert [(e["status"], e["date"], e["place"]) for e in record["events"]] == [("arrested", "2014-10", "Hyesan")]
    assert {c["locator"] for c in record["citations"]} == {"para. 12", "p. 3"}
    assert [source["title"] for source in record["sources"]] == ["UN report"]
    # The public status comes from public events only: not the private "deceased".
    assert record["status"] == Status.ARRESTED
    assert version.status == Status.ARRESTED
    person.refresh_from_db()
    assert person.current_status == Status.DECEASED_REPORTED


def test_an_unreviewed_edit_never_reaches_the_public_record():
    person = publish_case(case_with_secrets())
    person.summary = "Unreviewed change"
    save_with_history(person, by=None, reason="edit")
    make_event(person, Status.RELEASED, "2024", is_public=True)
    record = PublishedVersion.objects.current().get(person=person).record
    assert record["summary"] == "Public summary."
    assert record["status"] == Status.ARRESTED


def test_the_next_publication_is_a_new_version_and_the_old_one_stays():
    person = publish_case(case_with_secrets())
    person.summary = "Reviewed change"
    save_with_history(person, by=None, reason="edit")
    submit_for_review(person, by=make_user("caseworker"))
    publish(person, by=make_user("editor"))
    first, second = PublishedVersion.objects.filter(person=person).order_by("number")
    assert (first.number, first.is_current, first.record["summary"]) == (1, False, "Public summary.")
    assert (second.number, second.is_current, second.record["summary"]) == (2, True, "Reviewed change")
    assert PublishedVersion.objects.current().get(person=person) == second


def test_reprisal_risk_publishes_the_pseudonym_only():
    person = case_with_secrets()
    person.reprisal_risk, person.pseudonym = True, "Mr K"
    person.birth_date = None
    person.family_name_native, person.given_name_native = "김", "공개"
    save_with_history(person, by=None, reason="risk")
    version = PublishedVersion.objects.get(person=publish_case(person))
    text = dump(version)
    assert version.record["name"] == "Mr K"
    assert version.record["pseudonymous"] is True
    assert "Kim Public" not in text and "Gim Public" not in text and "김공개" not in text
    assert version.name == "Mr K"


def test_restricting_a_source_redacts_every_version_at_once_and_is_recorded():
    person = publish_case(case_with_secrets())
    person.summary = "second"
    save_with_history(person, by=None, reason="edit")
    submit_for_review(person, by=make_user("caseworker"))
    publish(person, by=make_user("editor"))
    source = person.citations.get().source
    source.is_restricted = True
    save_with_history(source, by=make_user("researcher"), reason="Source asked for confidentiality")
    for version in PublishedVersion.objects.filter(person=person):
        text = dump(version)
        assert "UN report" not in text
        assert version.record["citations"] == []
        assert version.record["sources"] == []
        # The arrest had no other public source: it leaves the public record until an editor acts.
        assert version.record["events"] == []
        assert version.record["status"] == ""
        last = version.history.first()
        assert last.history_change_reason.startswith("Public record redacted: source “UN report”")
        assert last.history_user.username == "researcher"


def test_withdrawing_a_citation_removes_it_from_the_public_record():
    person = publish_case(case_with_secrets())
    citation = person.citations.get()
    citation.withdraw(by=None, reason="Wrong page")
    record = PublishedVersion.objects.get(person=person).record
    assert "p. 3" not in json.dumps(record)
    assert record["person_citations"] == []


def test_making_an_event_non_public_removes_it_and_recomputes_the_public_status():
    person = make_person(publication_basis=PublicationBasis.ALREADY_PUBLIC)
    source = make_source()
    make_citation(source, status_event=make_event(person, Status.ARRESTED, "2014", is_public=True))
    released = make_event(person, Status.RELEASED, "2016", is_public=True, description="Released in 2016")
    make_citation(source, status_event=released)
    version = PublishedVersion.objects.get(person=publish_case(person))
    assert version.is_clarified
    released.correct(by=None, reason="Not confirmed", is_public=False)
    version.refresh_from_db()
    assert "Released in 2016" not in dump(version)
    assert version.record["status"] == Status.ARRESTED
    assert (version.status, version.is_clarified) == (Status.ARRESTED, False)


def test_withdrawing_an_event_removes_it_from_the_public_record():
    person = publish_case(case_with_secrets())
    event = person.status_events.get(status=Status.ARRESTED)
    event.withdraw(by=None, reason="Wrong person")
    record = PublishedVersion.objects.get(person=person).record
    assert record["events"] == []
    assert record["status"] == ""


def test_making_a_variant_non_public_or_removing_it_redacts():
    person = publish_case(case_with_secrets())
    variant = person.variants.get(name="Gim Public")
    variant.is_public = False
    save_with_history(variant, by=None, reason="Family request")
    assert "Gim Public" not in dump(PublishedVersion.objects.get(person=person))


def test_flagging_a_reprisal_risk_replaces_the_name_in_every_version_at_once():
    person = publish_case(case_with_secrets())
    person.reprisal_risk, person.pseudonym = True, "Ms L"
    save_with_history(person, by=None, reason="Family threatened")
    version = PublishedVersion.objects.get(person=person)
    assert version.record["name"] == version.name == "Ms L"
    assert "Kim Public" not in dump(version) and "Gim Public" not in dump(version)


def test_making_something_public_again_waits_for_the_next_publication():
    person = publish_case(case_with_secrets())
    variant = person.variants.get(name=f"{SENTINEL} private variant")
    variant.is_public = True
    save_with_history(variant, by=None, reason="now public")
    assert SENTINEL not in dump(PublishedVersion.objects.get(person=person))


def test_withdrawing_a_case_takes_every_version_off_the_public_site(client):
    person = publish_case(case_with_secrets())
    withdraw(person, by=make_user("editor"), reason="Family asked")
    assert not PublishedVersion.objects.public().filter(person=person).exists()
    assert "Kim Public" not in client.get("/cases/").content.decode()


def test_public_pages_read_only_snapshots(client):
    person = publish_case(case_with_secrets())
    person.name = "Renamed but not reviewed"
    save_with_history(person, by=None, reason="edit")
    html = client.get("/cases/").content.decode()
    assert "Kim Public" in html
    assert "Renamed but not reviewed" not in html


def test_seed_cases_are_published_snapshots():
    from django.core.management import call_command

    call_command("load_seed")
    assert PublishedVersion.objects.current().count() == 6
    version = PublishedVersion.objects.current().get(case_id="KP-0003")
    assert version.record["name"] == "Kim Kook-ki"
    assert {name["name"] for name in version.record["other_names"]} == {"Kim Kook-kie", "김국기"}
    assert version.record["status"] == Status.DISAPPEARED
    assert version.record["sources"][0]["title"] == "North Korea briefing"

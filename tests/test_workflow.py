"""Review and publishing: every transition, the publication rule and four eyes."""

import pytest

from cases.models import PublicationBasis, PublicationState, Status
from cases.partial_dates import PartialDate
from workflow.models import PublishedVersion
from workflow.services import (
    WorkflowError,
    publication_problems,
    publish,
    return_to_draft,
    submit_for_review,
    withdraw,
)

from .factories import (
    make_citation,
    make_event,
    make_person,
    make_publishable_case,
    make_source,
    make_staff,
    make_user,
    publish_case,
)

pytestmark = pytest.mark.django_db


def state(person) -> str:
    person.refresh_from_db()
    return person.publication_state


def test_a_new_case_is_a_draft():
    assert make_person().publication_state == PublicationState.DRAFT


def test_submit_moves_a_draft_to_review_and_records_who(caseworker):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=caseworker)
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert person.submitted_by == caseworker
    assert person.submitted_at is not None
    record = person.history.first()
    assert record.history_user == caseworker
    assert record.history_change_reason == "Submitted for review"


def test_a_case_in_review_cannot_be_submitted_again(caseworker):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=caseworker)
    with pytest.raises(WorkflowError):
        submit_for_review(person, by=caseworker)


def test_publish_moves_review_to_published_with_a_version(caseworker, editor):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=caseworker)
    version = publish(person, by=editor)
    assert state(person) == PublicationState.PUBLISHED
    assert version.number == 1 and version.is_current and version.published_by == editor
    assert version.history.get().history_user == editor


def test_a_draft_cannot_be_published(editor):
    person = make_publishable_case(date="2014")
    with pytest.raises(WorkflowError, match="submit it for review first"):
        publish(person, by=editor)
    assert state(person) == PublicationState.DRAFT
    assert not PublishedVersion.objects.exists()


def test_four_eyes_an_editor_cannot_publish_what_they_submitted(editor):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=editor)
    with pytest.raises(WorkflowError, match="four eyes"):
        publish(person, by=editor)
    assert state(person) == PublicationState.IN_REVIEW
    assert not PublishedVersion.objects.exists()


def test_four_eyes_can_be_turned_off_for_a_one_person_organisation(editor, settings):
    settings.WORKFLOW_ALLOW_SELF_PUBLISH = True
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=editor)
    publish(person, by=editor)
    assert state(person) == PublicationState.PUBLISHED


def test_return_to_draft_needs_a_reason_and_clears_the_submission(caseworker, editor):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=caseworker)
    with pytest.raises(WorkflowError):
        return_to_draft(person, by=editor, reason="  ")
    return_to_draft(person, by=editor, reason="Check the date of arrest")
    person.refresh_from_db()
    assert person.publication_state == PublicationState.DRAFT
    assert person.submitted_by is None
    assert person.history.first().history_change_reason == "Check the date of arrest"


def test_a_draft_cannot_be_returned_to_draft(editor):
    with pytest.raises(WorkflowError):
        return_to_draft(make_publishable_case(date="2014"), by=editor, reason="x")


def test_withdraw_takes_every_version_off_and_needs_a_reason(caseworker, editor):
    person = publish_case(make_publishable_case(date="2014"))
    submit_for_review(person, by=caseworker)
    publish(person, by=editor)
    with pytest.raises(WorkflowError):
        withdraw(person, by=editor, reason="")
    withdraw(person, by=editor, reason="Family asked us to")
    assert state(person) == PublicationState.WITHDRAWN
    assert PublishedVersion.objects.count() == 2
    assert not PublishedVersion.objects.public().exists()
    assert person.history.first().history_change_reason == "Family asked us to"


def test_a_draft_that_was_never_published_cannot_be_withdrawn(editor):
    with pytest.raises(WorkflowError):
        withdraw(make_publishable_case(date="2014"), by=editor, reason="x")


def test_a_withdrawn_case_goes_back_to_draft_and_can_be_published_again(caseworker, editor):
    person = publish_case(make_publishable_case(date="2014"))
    withdraw(person, by=editor, reason="Consent withdrawn")
    return_to_draft(person, by=editor, reason="Consent given again")
    submit_for_review(person, by=caseworker)
    version = publish(person, by=editor)
    assert version.number == 2
    # The version withdrawn with the case stays withdrawn.
    assert list(PublishedVersion.objects.public().values_list("number", flat=True)) == [2]


def test_a_published_case_is_resubmitted_for_changes_and_stays_public_meanwhile(caseworker, editor):
    person = publish_case(make_publishable_case(date="2014"))
    submit_for_review(person, by=caseworker)
    assert state(person) == PublicationState.IN_REVIEW
    assert PublishedVersion.objects.current().filter(person=person).exists()
    publish(person, by=editor)
    assert list(person.published_versions.values_list("number", "is_current")) == [(1, False), (2, True)]


def test_publication_needs_a_recorded_basis(caseworker, editor):
    person = make_publishable_case(date="2014", publication_basis="")
    submit_for_review(person, by=caseworker)
    with pytest.raises(WorkflowError, match="No basis for publication"):
        publish(person, by=editor)
    assert state(person) == PublicationState.IN_REVIEW


def test_consent_needs_who_and_when():
    person = make_publishable_case(
        date="2014", publication_basis=PublicationBasis.CONSENT, consent_given_by="Her brother"
    )
    assert any("who gave it and when" in problem for problem in publication_problems(person))
    person.consent_given_on = PartialDate(2024, 3)
    assert not publication_problems(person)


def test_public_interest_needs_a_reason():
    person = make_publishable_case(
        date="2014", publication_basis=PublicationBasis.PUBLIC_INTEREST, public_interest_reason="x"
    )
    assert not publication_problems(person)
    person.public_interest_reason = "   "
    assert any("reason is not recorded" in problem for problem in publication_problems(person))


def test_every_public_event_must_cite_a_public_source(caseworker, editor):
    person = make_publishable_case(date="2014")
    unsourced = make_event(person, Status.SENTENCED, "2015", is_public=True)
    make_citation(make_source(is_restricted=True), status_event=unsourced)
    withdrawn_citation = make_citation(make_source(), status_event=unsourced)
    withdrawn_citation.withdraw(by=None, reason="Wrong locator")
    make_event(person, Status.RELEASED, "2016", is_public=False)  # not public: needs no public source
    submit_for_review(person, by=caseworker)
    with pytest.raises(WorkflowError) as refusal:
        publish(person, by=editor)
    assert refusal.value.problems == [f"The public status event “{unsourced}” cites no public source."]


def test_a_withdrawn_source_does_not_count():
    person = make_publishable_case(date="2014")
    source = person.status_events.get().citations.get().source
    source.withdraw(by=None, reason="Retracted")
    assert len(publication_problems(person)) == 2  # the event, and "already public" without a source


def test_refusal_names_every_problem(caseworker, editor):
    person = make_person(publication_basis="")
    make_event(person, Status.DETAINED, "2014", is_public=True)
    submit_for_review(person, by=caseworker)
    with pytest.raises(WorkflowError) as refusal:
        publish(person, by=editor)
    assert len(refusal.value.problems) == 2


def test_publishing_through_the_admin_button(client, caseworker, editor):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=caseworker)
    client.force_login(editor)
    response = client.post(f"/admin/cases/person/{person.pk}/workflow/publish/")
    assert response.status_code == 302
    assert state(person) == PublicationState.PUBLISHED
    assert PublishedVersion.objects.filter(person=person, number=1).exists()


def test_a_refused_publication_shows_its_reasons_in_the_admin(client, editor):
    person = make_publishable_case(date="2014", publication_basis="")
    submit_for_review(person, by=make_user("someone"))
    client.force_login(editor)
    response = client.post(f"/admin/cases/person/{person.pk}/workflow/publish/", follow=True)
    assert "No basis for publication is recorded" in response.content.decode()
    assert state(person) == PublicationState.IN_REVIEW


def test_the_change_page_lists_what_blocks_publication_and_the_buttons(client, editor):
    person = make_person(publication_basis="")
    client.force_login(editor)
    html = client.get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    assert "No basis for publication is recorded" in html
    assert "Submit for review" in html
    assert "Record a status change" in html


def test_a_case_in_review_that_was_never_published_offers_no_withdrawal(client, caseworker, editor):
    person = make_publishable_case(date="2014")
    submit_for_review(person, by=caseworker)
    client.force_login(editor)
    html = client.get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    assert f"/staff/cases/{person.case_id}/preview/" in html  # publishing starts from the preview
    assert f"/admin/cases/person/{person.pk}/workflow/withdraw/" not in html
    assert "Withdraw from publication" not in html


def test_a_published_case_resubmitted_for_changes_offers_withdrawal(client, caseworker, editor):
    person = publish_case(make_publishable_case(date="2014"))
    submit_for_review(person, by=caseworker)
    client.force_login(editor)
    html = client.get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    assert f"/admin/cases/person/{person.pk}/workflow/withdraw/" in html
    response = client.post(f"/admin/cases/person/{person.pk}/workflow/withdraw/", {"reason": "risk"})
    assert response.status_code == 302
    assert state(person) == PublicationState.WITHDRAWN


def test_the_buttons_offered_are_the_transitions_the_services_accept(caseworker, editor):
    from workflow.services import TRANSITIONS, available_transitions

    person = make_publishable_case(date="2014")
    for user in (caseworker, editor):
        for transition in TRANSITIONS.values():
            offered = transition in available_transitions(person, user)
            assert offered == transition.may(user, person)
            assert transition.may(user, person) == (user.has_perm(transition.permission) and transition.allowed(person))
    assert [t.action for t in available_transitions(person, editor)] == ["submit"]


def test_the_workflow_buttons_answer_404_alike_for_a_missing_case_and_one_not_allowed(client):
    administrator = make_staff("Administrator", "chief")
    person = make_publishable_case(date="2014")
    client.force_login(administrator)
    existing = client.post(f"/admin/cases/person/{person.pk}/workflow/submit/")
    missing = client.post("/admin/cases/person/999999/workflow/submit/")
    assert existing.status_code == missing.status_code == 404
    assert state(person) == PublicationState.DRAFT


def test_a_caseworker_cannot_return_a_withdrawn_case_to_draft(client, caseworker, editor):
    person = publish_case(make_publishable_case(date="2014"))
    withdraw(person, by=editor, reason="risk")
    client.force_login(caseworker)
    html = client.get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    assert f"/admin/cases/person/{person.pk}/workflow/return_to_draft/" not in html
    response = client.post(f"/admin/cases/person/{person.pk}/workflow/return_to_draft/", {"reason": "edit it"})
    assert response.status_code == 403
    assert state(person) == PublicationState.WITHDRAWN


def test_an_editor_returns_a_withdrawn_case_to_draft(client, editor):
    person = publish_case(make_publishable_case(date="2014"))
    withdraw(person, by=editor, reason="risk")
    client.force_login(editor)
    response = client.post(f"/admin/cases/person/{person.pk}/workflow/return_to_draft/", {"reason": "corrected"})
    assert response.status_code == 302
    assert state(person) == PublicationState.DRAFT


def test_a_caseworker_cannot_cite_or_record_events_for_a_withdrawn_case(client, caseworker, editor):
    from sources.models import Citation

    person = publish_case(make_publishable_case())
    withdraw(person, by=editor, reason="risk")
    event = person.status_events.get()
    client.force_login(caseworker)
    assert client.get(f"/admin/sources/citation/add/?status_event={event.pk}").status_code == 403
    assert client.get(f"/admin/sources/citation/add/?person={person.pk}").status_code == 403
    page = client.get(f"/admin/cases/statusevent/{event.pk}/change/")
    assert b'name="place"' not in page.content  # read-only to them
    response = client.post(f"/admin/cases/statusevent/{event.pk}/change/", {"place": "Moved", "status": "detained"})
    assert response.status_code == 403
    add = client.post(
        "/admin/cases/statusevent/add/",
        {
            "person": str(person.pk),
            "status": "released",
            "confidence": "likely",
            "citations-TOTAL_FORMS": "0",
            "citations-INITIAL_FORMS": "0",
        },
    )
    assert add.status_code == 200 and "This case is withdrawn" in add.content.decode()
    event.refresh_from_db()
    assert event.place != "Moved"
    assert person.status_events.count() == 1
    assert Citation.objects.filter(status_event=event).count() == 1


def test_an_editor_may_still_cite_for_a_withdrawn_case(client, editor):
    person = publish_case(make_publishable_case())
    withdraw(person, by=editor, reason="risk")
    client.force_login(editor)
    event = person.status_events.get()
    assert client.get(f"/admin/sources/citation/add/?status_event={event.pk}").status_code == 200

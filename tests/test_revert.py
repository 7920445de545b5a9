"""Editors revert to an earlier version: a new change with a reason, never a rewrite of history."""

import pytest

from cases.history import save_with_history
from cases.models import PublicationState, Status
from workflow.services import submit_for_review

from .factories import admin_form_data, make_event, make_person, make_source, make_staff, make_user

pytestmark = pytest.mark.django_db


def edited_person():
    person = make_person(summary="Original summary", internal_notes="Original notes")
    person.summary, person.internal_notes = "Mistaken summary", "Mistaken notes"
    save_with_history(person, by=None, reason="A mistaken edit")
    return person


def revert(client, obj, record):
    url = f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/history/{record.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, admin_form_data(page))


def test_editor_reverts_a_person_and_the_revert_is_a_new_change(client):
    person = edited_person()
    original = person.history.earliest()
    before = person.history.count()
    editor = make_staff("Editor")
    client.force_login(editor)
    response = revert(client, person, original)
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.summary, person.internal_notes) == ("Original summary", "Original notes")
    assert person.history.count() == before + 1
    latest = person.history.first()
    assert latest.history_user == editor
    assert latest.history_change_reason.startswith("Reverted to the version of ")
    # The mistaken version is still in the history.
    assert person.history.filter(summary="Mistaken summary").exists()


def test_revert_keeps_the_workflow_state_and_the_derived_status(client):
    person = edited_person()
    original = person.history.earliest()
    make_event(person, Status.DETAINED, "2015")
    submit_for_review(person, by=make_user("caseworker"))
    client.force_login(make_staff("Editor"))
    assert revert(client, person, original).status_code == 302
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert person.current_status == Status.DETAINED
    assert person.summary == "Original summary"


@pytest.mark.parametrize("role", ["Caseworker", "Researcher"])
def test_only_editors_revert(client, role):
    person = edited_person()
    client.force_login(make_staff(role))
    url = f"/admin/cases/person/{person.pk}/history/{person.history.earliest().pk}/"
    page = client.get(url)
    assert "Revert" not in page.content.decode() or page.status_code == 403
    response = client.post(url, {"summary": "Original summary"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.summary == "Mistaken summary"


def test_editor_reverts_a_source_and_its_restriction(client):
    source = make_source(title="Report", publisher="UN", is_restricted=True)
    source.is_restricted = False
    save_with_history(source, by=None, reason="Made public")
    client.force_login(make_staff("Editor"))
    assert revert(client, source, source.history.earliest()).status_code == 302
    source.refresh_from_db()
    assert source.is_restricted


def test_reverting_a_status_event_recomputes_the_person(client):
    person = make_person()
    make_event(person, Status.ARRESTED, "2014")
    event = make_event(person, Status.RELEASED, "2016")
    event.correct(by=None, reason="Wrong year", date=None)
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    client.force_login(make_staff("Editor"))
    assert revert(client, event, event.history.earliest()).status_code == 302
    person.refresh_from_db()
    assert person.current_status == Status.RELEASED


def test_history_page_shows_who_why_and_a_readable_diff(client):
    person = edited_person()
    client.force_login(make_staff("Caseworker"))
    html = client.get(f"/admin/cases/person/{person.pk}/history/").content.decode()
    assert "A mistaken edit" in html
    assert "Original summary" in html and "Mistaken summary" in html


def test_history_is_hidden_from_staff_without_access_to_cases(client):
    person = edited_person()
    client.force_login(make_staff("Administrator"))
    assert client.get(f"/admin/cases/person/{person.pk}/history/").status_code == 403

"""The publication preview: the public page as publishing would make it, the changes, and the publish button.

Built by the code that publishes: the record previewed is the record then published.
"""

import html

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from advocacy.models import AppealState
from cases.models import PublicationBasis, PublicationState, Status
from cases.partial_dates import PartialDate
from workflow.models import PublishedVersion
from workflow.preview import preview, record_changes
from workflow.services import publish, submit_for_review

from .conftest import (
    admin_form_data,
    make_appeal,
    make_citation,
    make_event,
    make_person,
    make_source,
    make_user,
    make_variant,
    publish_case,
)

pytestmark = pytest.mark.django_db


def staff(role: str, username: str):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def case_in_review(**fields):
    fields.setdefault("publication_basis", PublicationBasis.ALREADY_PUBLIC)
    person = make_person(name="Han Preview", summary="Taken from Hyesan.", **fields)
    event = make_event(person, Status.DETAINED, "2014-10", is_public=True, place="Hyesan")
    make_citation(make_source(title="UN report", publisher="OHCHR"), status_event=event, locator="para. 12")
    submit_for_review(person, by=staff("Caseworker", "caseworker"))
    return person


def preview_url(person) -> str:
    return f"/staff/cases/{person.case_id}/preview/"


def test_the_preview_is_the_record_that_publishing_then_stores():
    person = case_in_review()
    editor = staff("Editor", "editor")
    previewed = preview(person, editor)
    version = publish(person, by=editor)
    stored = {**version.record, "published_at": None}
    assert {**previewed.version.record, "published_at": None} == stored
    assert previewed.version.number == version.number == 1


def test_an_editor_sees_the_public_page_the_changes_and_the_publish_button():
    person = case_in_review()
    response = client_for(staff("Editor", "editor")).get(preview_url(person))
    page = text(response)
    assert response.status_code == 200
    assert "Preview: " + person.case_id + ", version 1" in page
    assert "Han Preview" in page and "Taken from Hyesan." in page and "para. 12" in page  # the public page
    assert "What becomes public (nothing of this case is published yet)" in page
    assert "Publish version 1" in page
    assert f'action="/admin/cases/person/{person.pk}/workflow/publish/"' in page
    assert "no-store" in response["Cache-Control"]


def test_publishing_from_the_preview_stores_what_it_showed_and_links_to_the_public_page():
    person = case_in_review()
    editor_client = client_for(staff("Editor", "editor"))
    shown = preview(person, staff("Editor", "another-editor")).version.record
    response = editor_client.post(f"/admin/cases/person/{person.pk}/workflow/publish/", follow=True)
    assert f'href="/cases/{person.case_id}/"' in response.content.decode()
    version = PublishedVersion.objects.get(person=person)
    assert {**version.record, "published_at": None} == {**shown, "published_at": None}


def test_the_diff_against_the_published_version_names_every_change():
    person = case_in_review()
    editor = staff("Editor", "editor")
    publish(person, by=editor)
    person.refresh_from_db()
    person.summary = "Taken from Hyesan in October 2014."
    person.save()
    make_variant(person, "Han Pre-view")
    event = person.status_events.get()
    event.correct(by=None, reason="more precise", place="Hyesan holding centre")
    released = make_event(person, Status.RELEASED, "2019", is_public=True)
    make_citation(make_source(title="News report"), status_event=released, locator="p. 2")
    submit_for_review(person, by=staff("Caseworker", "caseworker2"))

    changes = {(c.section, c.item, c.kind, c.before, c.after) for c in preview(person, editor).changes}

    assert ("Case", "Summary", "changed", "Taken from Hyesan.", "Taken from Hyesan in October 2014.") in changes
    assert ("Case", "Current status", "changed", "Detained", "Released") in changes
    assert ("Other names", "Han Pre-view", "added", "", "") in changes
    assert ("Events", "Detained (2014-10): place", "changed", "Hyesan", "Hyesan holding centre") in changes
    assert ("Events", "Released (2019)", "added", "", "") in changes
    assert ("Citations", "News report, p. 2", "added", "", "") in changes
    assert ("Sources", "News report", "added", "", "") in changes
    page = text(client_for(editor).get(preview_url(person)))
    assert "What changes on the public page (against version 1)" in page
    assert "Hyesan holding centre" in page


def test_a_removed_event_is_listed_as_removed():
    before = {
        "other_names": [],
        "events": [{"id": 1, "status": "arrested", "date": "2014"}],
        "citations": [],
        "sources": [],
    }
    after = {"other_names": [], "events": [], "citations": [], "sources": []}
    assert [(c.section, c.item, c.kind) for c in record_changes(before, after)] == [
        ("Events", "Arrested (2014)", "removed")
    ]


def test_the_preview_states_the_blockers_and_offers_no_button():
    person = case_in_review(publication_basis="")
    page = text(client_for(staff("Editor", "editor")).get(preview_url(person)))
    assert "This case cannot be published yet:" in page
    assert "No basis for publication is recorded" in page
    assert "Publish version 1" not in page


def test_the_preview_states_four_eyes_and_offers_no_button_to_the_submitter():
    editor = staff("Editor", "editor")
    person = make_person(name="Han Self", publication_basis=PublicationBasis.ALREADY_PUBLIC)
    event = make_event(person, Status.DETAINED, "2014", is_public=True)
    make_citation(make_source(), status_event=event)
    submit_for_review(person, by=editor)
    page = text(client_for(editor).get(preview_url(person)))
    assert "another editor must publish it (four eyes)" in page
    assert "Publish version 1" not in page


def test_a_caseworker_previews_but_has_no_publish_button():
    person = case_in_review()
    response = client_for(staff("Caseworker", "caseworker-two")).get(preview_url(person))
    assert response.status_code == 200
    assert "Publish version 1" not in text(response)


@pytest.mark.parametrize("role", ["Administrator", None])
def test_the_preview_answers_404_alike_for_a_missing_case_and_one_not_allowed(role):
    person = case_in_review()
    user = staff(role, "someone") if role else make_user("someone", is_staff=True)
    client = client_for(user)
    assert client.get(preview_url(person)).status_code == 404
    assert client.get("/staff/cases/KP-9999/preview/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in_and_sees_nothing():
    person = case_in_review()
    response = Client().get(preview_url(person))
    assert response.status_code == 302
    assert "Han Preview" not in response.content.decode()


def test_the_change_page_links_to_the_preview_instead_of_a_bare_publish_button():
    person = case_in_review()
    page = client_for(staff("Editor", "editor")).get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    assert f'href="/staff/cases/{person.case_id}/preview/"' in page
    assert f'action="/admin/cases/person/{person.pk}/workflow/publish/"' not in page
    assert 'for="reason-return_to_draft"' in page  # each action's reason has its own label


def test_the_preview_of_a_published_case_without_changes_says_nothing_changes():
    person = make_person(name="Han Same")
    make_citation(make_source(), status_event=make_event(person, Status.DETAINED, "2014", is_public=True))
    person = publish_case(person)
    page = text(client_for(staff("Editor", "editor")).get(preview_url(person)))
    assert "Nothing would change on the public page." in page
    assert person.publication_state == PublicationState.PUBLISHED


def test_the_preview_page_has_a_fixed_number_of_queries(django_assert_max_num_queries):
    person = case_in_review()
    for n in range(10):
        event = make_event(person, Status.DETAINED, f"20{10 + n}", is_public=True)
        make_citation(make_source(title=f"Report {n}"), status_event=event)
    client = client_for(staff("Editor", "editor"))
    with django_assert_max_num_queries(40):
        assert client.get(preview_url(person)).status_code == 200


def test_a_first_publication_lists_only_what_becomes_public_as_added():
    person = case_in_review()
    changes = preview(person, staff("Editor", "editor")).changes
    assert {change.kind for change in changes} == {"added"}
    items = [(change.section, change.item) for change in changes]
    assert ("Case", "Name") in items and ("Case", "Summary") in items
    assert ("Case", "Name in Korean script") not in items  # empty before and after: nothing to say
    assert ("Case", "Published under a pseudonym") not in items


def test_a_refused_publication_is_shown_as_an_error():
    person = case_in_review(publication_basis="")
    client = client_for(staff("Editor", "editor"))
    response = client.post(f"/admin/cases/person/{person.pk}/workflow/publish/", follow=True)
    assert [message.level_tag for message in response.context["messages"]] == ["error"]
    assert '<li class="error">' in response.content.decode()


def test_save_and_add_another_citation_stays_on_the_same_claim():
    from sources.models import Citation

    person = case_in_review()
    event = person.status_events.get()
    client = client_for(staff("Researcher", "researcher"))
    url = f"/admin/sources/citation/add/?status_event={event.pk}"
    page = client.get(url)
    assert "Withdrawn" not in text(page).split('id="citation_form"', 1)[-1]
    data = admin_form_data(page, source=str(make_source(title="Another report").pk), _addanother="1")
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == url
    assert Citation.objects.filter(status_event=event).count() == 2


def test_a_change_made_after_the_preview_is_not_published_unseen(client):
    person = case_in_review()
    editor_client = client_for(staff("Editor", "editor"))
    page = text(editor_client.get(preview_url(person)))
    previewed = page.split('name="previewed" value="', 1)[1].split('"', 1)[0]
    person.refresh_from_db()
    person.summary = "UNREVIEWED TEXT"
    person.save()  # someone else's change after the editor read the preview

    response = editor_client.post(
        f"/admin/cases/person/{person.pk}/workflow/publish/", {"previewed": previewed}, follow=True
    )

    assert "The case changed after you previewed it" in text(response)
    assert not PublishedVersion.objects.filter(person=person).exists()
    assert client.get(f"/cases/{person.case_id}/").status_code == 404


def test_the_previewed_record_is_published_when_nothing_changed():
    person = case_in_review()
    editor_client = client_for(staff("Editor", "editor"))
    page = text(editor_client.get(preview_url(person)))
    previewed = page.split('name="previewed" value="', 1)[1].split('"', 1)[0]
    response = editor_client.post(f"/admin/cases/person/{person.pk}/workflow/publish/", {"previewed": previewed})
    assert response.status_code == 302
    assert PublishedVersion.objects.filter(person=person, number=1).exists()


def test_an_appeal_made_public_and_its_reply_are_listed_as_changes():
    person = case_in_review()
    editor = staff("Editor", "editor")
    publish(person, by=editor)
    appeal = make_appeal(person, kind="wgeid_standard", addressee="wgeid", is_public=True)
    appeal.forces_responsible, appeal.steps_by_family, appeal.family_consent_by = "MSS", "Letters", "Her son"
    appeal.save()
    person.status_events.get().correct(by=None, reason="place", place="Hyesan holding centre")
    appeal.advance(AppealState.SENT, by=None, on=PartialDate.parse("2016-03"))
    submit_for_review(person, by=staff("Caseworker", "caseworker2"))

    changes = {(c.section, c.item, c.kind) for c in preview(person, editor).changes}
    label = "WGEID standard procedure: UN Working Group on Enforced or Involuntary Disappearances (WGEID)"
    assert ("Appeals", label, "added") in changes

    publish(person, by=editor)
    appeal.record_reply(by=None, received_on=PartialDate.parse("2016-09"), says="Detained")
    submit_for_review(person, by=staff("Caseworker", "caseworker3"))
    changes = {(c.section, c.item, c.kind, c.before, c.after) for c in preview(person, editor).changes}
    assert ("Appeals", f"{label}: state", "changed", "Sent", "Replied") in changes
    assert ("Appeals", f"{label}: replies", "added", "—", "2016-09") in changes

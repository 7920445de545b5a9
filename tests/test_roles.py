"""Who may do what: each staff role (and anonymous, and staff with no role) against each action.

Every test is parametrized over the six kinds of visitor and checks both the
HTTP answer and what is in the database afterwards: a refused action changes
nothing.
"""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile

from cases.history import save_with_history
from cases.models import Facility, Person, PublicationState, Relation, Status, StatusEvent
from sources.models import Citation, Source
from workflow import services
from workflow.models import PublishedVersion
from workflow.roles import ROLES

from .factories import (
    VISITOR_ROLES,
    VISITORS,
    admin_form_data,
    make_case_in_review,
    make_event,
    make_facility,
    make_person,
    make_publishable_case,
    make_relation,
    make_source,
    make_superuser,
    publish_case,
    sign_in_as,
    signed_in,
)

pytestmark = pytest.mark.django_db

GROUPS = {visitor: role for visitor, role in VISITOR_ROLES.items() if role}

# Who is allowed each action (from DESIGN.md "Roles" and workflow/roles.py).
READERS = ["caseworker", "researcher", "editor"]
CASE_EDITORS = ["caseworker", "editor"]
SOURCE_EDITORS = ["researcher", "editor"]
CITERS = ["caseworker", "researcher", "editor"]
EDITOR_ONLY = ["editor"]
DOWNLOADERS = ["researcher", "editor"]

WORKFLOW_ACTIONS = ["submit", "return_to_draft", "publish", "withdraw"]


def visitors(allowed: list[str]):
    """Parametrize over the visitors in ``allowed``."""
    return pytest.mark.parametrize("role", allowed)


def all_but(allowed: list[str]):
    """Parametrize over every other visitor: staff in the other groups, staff in none, and anonymous."""
    return pytest.mark.parametrize("role", [visitor for visitor in VISITORS if visitor not in allowed])


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def assert_sent_to_login(client, response):
    """The anonymous visitor is redirected to a page where they can log in."""
    assert response.status_code == 302
    login_page = client.get(response["Location"])
    assert login_page.status_code == 200, f"{response['Location']} is not a login page"
    assert 'name="password"' in login_page.content.decode()


def assert_refused(client, role: str, response):
    if role == "anonymous":
        assert_sent_to_login(client, response)
    else:
        assert response.status_code == 403


def assert_workflow_refused(client, role: str, response):
    """A workflow URL refuses with 404 whoever may not see the case, as for a case that does not exist.

    Someone who may see the case but not take this step is refused with 403:
    the answer then tells them nothing they could not read on the case's page.
    """
    if role == "anonymous":
        assert_refused(client, role, response)
    elif role in READERS:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


def form_data(client, url: str, **changes) -> dict:
    """What the page at ``url`` would post back for this user; just ``changes`` when they cannot see it."""
    page = client.get(url)
    if page.status_code != 200:
        return dict(changes)
    return admin_form_data(page, **changes)


def workflow_url(person: Person, action: str) -> str:
    return f"/admin/cases/person/{person.pk}/workflow/{action}/"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# The groups themselves


@pytest.mark.parametrize("group", sorted(ROLES))
def test_group_has_exactly_the_listed_permissions(group):
    permissions = Group.objects.get(name=group).permissions.select_related("content_type")
    assert {f"{p.content_type.app_label}.{p.codename}" for p in permissions} == set(ROLES[group])


@pytest.mark.parametrize("role", list(GROUPS))
def test_staff_user_in_a_group_has_its_permissions_and_no_others(client, role):
    user = sign_in_as(client, role)
    user = type(user).objects.get(pk=user.pk)  # no cached permissions
    assert user.get_all_permissions() == set(ROLES[GROUPS[role]])


# Reading cases


@visitors(READERS)
def test_readers_see_the_person_list_and_change_page(client, role):
    person = make_person(name="Choi Chun-gil", summary="Detained in 2014.")
    sign_in_as(client, role)
    listing = client.get("/admin/cases/person/")
    page = client.get(f"/admin/cases/person/{person.pk}/change/")
    assert listing.status_code == 200
    assert person.case_id in listing.content.decode()
    assert page.status_code == 200
    assert "Detained in 2014." in page.content.decode()
    assert person.history.count() == 1  # reading writes nothing


@all_but(READERS)
def test_others_cannot_see_the_person_list_or_change_page(client, role):
    person = make_person(name="Choi Chun-gil", summary="Detained in 2014.")
    sign_in_as(client, role)
    listing = client.get("/admin/cases/person/")
    page = client.get(f"/admin/cases/person/{person.pk}/change/")
    assert_refused(client, role, listing)
    assert_refused(client, role, page)
    assert person.history.count() == 1  # reading writes nothing


# Adding and changing cases


@visitors(CASE_EDITORS)
def test_case_editors_add_a_person(client, role):
    user = sign_in_as(client, role)
    url = "/admin/cases/person/add/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, admin_form_data(page, name="Pak Mun-deok", summary="Arrested at the border."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Person.objects.get()
    assert person.name == "Pak Mun-deok"
    assert person.history.get().history_user == user


@all_but(CASE_EDITORS)
def test_others_cannot_add_a_person(client, role):
    sign_in_as(client, role)
    url = "/admin/cases/person/add/"
    assert_refused(client, role, client.get(url))
    response = client.post(url, {"name": "Pak Mun-deok", "sex": "unknown"})
    assert_refused(client, role, response)
    assert Person.objects.count() == 0


@visitors(CASE_EDITORS)
def test_case_editors_change_a_summary(client, role):
    person = make_person(name="Kim Kook-ki", summary="Old summary.")
    user = sign_in_as(client, role)
    url = f"/admin/cases/person/{person.pk}/change/"
    response = client.post(url, form_data(client, url, summary="New summary."))
    person.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert person.summary == "New summary."
    assert person.history.first().history_user == user


@all_but(CASE_EDITORS)
def test_others_cannot_change_a_summary(client, role):
    person = make_person(name="Kim Kook-ki", summary="Old summary.")
    sign_in_as(client, role)
    url = f"/admin/cases/person/{person.pk}/change/"
    response = client.post(url, form_data(client, url, summary="New summary."))
    person.refresh_from_db()
    assert_refused(client, role, response)
    assert person.summary == "Old summary."
    assert person.history.count() == 1


@visitors(CASE_EDITORS)
def test_case_editors_record_a_status_change(client, role):
    person = make_person()
    user = sign_in_as(client, role)
    url = f"/admin/cases/statusevent/add/?person={person.pk}"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, admin_form_data(page, status=Status.ARRESTED, date="2014-10", confidence="likely"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = StatusEvent.objects.get()
    assert (event.person, event.status, event.recorded_by) == (person, Status.ARRESTED, user)
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED


@all_but(CASE_EDITORS)
def test_others_cannot_record_a_status_change(client, role):
    person = make_person()
    sign_in_as(client, role)
    url = f"/admin/cases/statusevent/add/?person={person.pk}"
    assert_refused(client, role, client.get(url))
    response = client.post(url, {"person": person.pk, "status": Status.ARRESTED, "confidence": "likely"})
    assert_refused(client, role, response)
    assert not StatusEvent.objects.exists()
    person.refresh_from_db()
    assert person.current_status == ""


# Sources and citations

NEW_SOURCE = {"title": "Report of the commission of inquiry", "kind": "un", "publisher": "UN Human Rights Council"}


@visitors(SOURCE_EDITORS)
def test_source_editors_add_a_source(client, role):
    user = sign_in_as(client, role)
    url = "/admin/sources/source/add/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, admin_form_data(page, **NEW_SOURCE))
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get()
    assert (source.title, source.added_by) == (NEW_SOURCE["title"], user)


@all_but(SOURCE_EDITORS)
def test_others_cannot_add_a_source(client, role):
    sign_in_as(client, role)
    url = "/admin/sources/source/add/"
    assert_refused(client, role, client.get(url))
    assert_refused(client, role, client.post(url, NEW_SOURCE))
    assert not Source.objects.exists()


@visitors(SOURCE_EDITORS)
def test_source_editors_change_a_source(client, role):
    source = make_source(title="Old title", publisher="NGO")
    user = sign_in_as(client, role)
    url = f"/admin/sources/source/{source.pk}/change/"
    response = client.post(url, form_data(client, url, title="Corrected title"))
    source.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert source.title == "Corrected title"
    assert source.history.first().history_user == user


@all_but(SOURCE_EDITORS)
def test_others_cannot_change_a_source(client, role):
    source = make_source(title="Old title", publisher="NGO")
    sign_in_as(client, role)
    url = f"/admin/sources/source/{source.pk}/change/"
    response = client.post(url, form_data(client, url, title="Corrected title"))
    source.refresh_from_db()
    assert_refused(client, role, response)
    assert source.title == "Old title"


@visitors(CITERS)
def test_citers_add_a_citation(client, role):
    person = make_person()
    source = make_source()
    user = sign_in_as(client, role)
    url = f"/admin/sources/citation/add/?person={person.pk}"  # from the person's page
    page = client.get(url)
    assert page.status_code == 200
    changes = {"source": str(source.pk), "person": str(person.pk), "locator": "para. 354"}
    response = client.post(url, admin_form_data(page, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    citation = Citation.objects.get()
    assert (citation.source, citation.person, citation.locator, citation.added_by) == (
        source,
        person,
        "para. 354",
        user,
    )


@all_but(CITERS)
def test_others_cannot_add_a_citation(client, role):
    person = make_person()
    source = make_source()
    sign_in_as(client, role)
    url = "/admin/sources/citation/add/"
    changes = {"source": str(source.pk), "person": str(person.pk), "locator": "para. 354"}
    assert_refused(client, role, client.get(url))
    assert_refused(client, role, client.post(url, changes))
    assert not Citation.objects.exists()


# The review workflow


@visitors(CASE_EDITORS)
def test_case_editors_submit_for_review(client, role):
    person = make_person()
    user = sign_in_as(client, role)
    response = client.post(workflow_url(person, "submit"))
    person.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/cases/person/{person.pk}/change/"
    assert person.publication_state == PublicationState.IN_REVIEW
    assert person.submitted_by == user


@all_but(CASE_EDITORS)
def test_others_cannot_submit_for_review(client, role):
    person = make_person()
    sign_in_as(client, role)
    response = client.post(workflow_url(person, "submit"))
    person.refresh_from_db()
    assert_workflow_refused(client, role, response)
    assert person.publication_state == PublicationState.DRAFT
    assert person.submitted_by is None


@visitors(EDITOR_ONLY)
def test_editors_publish(client, role):
    person = make_case_in_review()
    assert services.publication_problems(person) == []
    user = sign_in_as(client, role)
    response = client.post(workflow_url(person, "publish"))
    person.refresh_from_db()
    assert response.status_code == 302
    assert not any(message.startswith("Not done") for message in messages_of(response))
    assert person.publication_state == PublicationState.PUBLISHED
    version = PublishedVersion.objects.get()
    assert (version.person, version.published_by, version.is_current) == (person, user, True)


@all_but(EDITOR_ONLY)
def test_others_cannot_publish(client, role):
    person = make_case_in_review()
    assert services.publication_problems(person) == []
    sign_in_as(client, role)
    response = client.post(workflow_url(person, "publish"))
    person.refresh_from_db()
    assert_workflow_refused(client, role, response)
    assert person.publication_state == PublicationState.IN_REVIEW
    assert not PublishedVersion.objects.exists()


@visitors(EDITOR_ONLY)
def test_editors_withdraw(client, role):
    person = publish_case(make_publishable_case(locator="p. 3"))
    sign_in_as(client, role)
    response = client.post(workflow_url(person, "withdraw"), {"reason": "The family asked us to take it down."})
    person.refresh_from_db()
    assert response.status_code == 302
    assert person.publication_state == PublicationState.WITHDRAWN
    assert not PublishedVersion.objects.public().exists()
    assert person.history.first().history_change_reason == "The family asked us to take it down."


@all_but(EDITOR_ONLY)
def test_others_cannot_withdraw(client, role):
    person = publish_case(make_publishable_case(locator="p. 3"))
    sign_in_as(client, role)
    response = client.post(workflow_url(person, "withdraw"), {"reason": "The family asked us to take it down."})
    person.refresh_from_db()
    assert_workflow_refused(client, role, response)
    assert person.publication_state == PublicationState.PUBLISHED
    assert PublishedVersion.objects.public().filter(person=person).count() == 1


def test_workflow_url_refuses_get(client):
    person = make_case_in_review()
    sign_in_as(client, "editor")
    for action in WORKFLOW_ACTIONS:
        assert client.get(workflow_url(person, action)).status_code == 405
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert not PublishedVersion.objects.exists()


@pytest.mark.parametrize("action", ["delete", "frobnicate", "PUBLISH"])
def test_unknown_workflow_action_is_refused(client, action):
    person = make_case_in_review()
    history_rows = person.history.count()
    sign_in_as(client, "editor")
    response = client.post(workflow_url(person, action), {"reason": "no"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert person.history.count() == history_rows
    assert not PublishedVersion.objects.exists()


@pytest.mark.parametrize("action", WORKFLOW_ACTIONS)
def test_anonymous_workflow_post_goes_to_login_and_changes_nothing(client, action):
    person = make_case_in_review()
    history_rows = person.history.count()
    response = client.post(workflow_url(person, action), {"reason": "anonymous"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert person.history.count() == history_rows
    assert not PublishedVersion.objects.exists()


@pytest.mark.parametrize(
    ("role", "buttons"),
    [
        ("caseworker", ["return_to_draft"]),
        ("researcher", []),
        # Never published: nothing to withdraw (the services' own table decides what is offered).
        # Publishing is offered as "Preview and publish": the button itself is on the preview.
        ("editor", ["return_to_draft"]),
    ],
)
def test_change_page_offers_only_the_workflow_buttons_the_role_may_use(client, role, buttons):
    person = make_case_in_review()
    sign_in_as(client, role)
    html = client.get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    offered = [action for action in WORKFLOW_ACTIONS if f'action="{workflow_url(person, action)}"' in html]
    assert offered == buttons
    assert ("Preview and publish" in html) == (role == "editor")


class _FormNesting(HTMLParser):
    """Records each <form> that starts while another is still open (browsers ignore such a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.open_forms: list[str] = []
        self.nested: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            attributes = dict(attrs)
            name = attributes.get("id") or attributes.get("action") or "?"
            if self.open_forms:
                self.nested.append((self.open_forms[-1], name))
            self.open_forms.append(name)

    def handle_endtag(self, tag):
        if tag == "form" and self.open_forms:
            self.open_forms.pop()


def test_workflow_buttons_are_not_nested_inside_the_change_form(client):
    # A browser ignores a <form> inside another and closes the outer one at the
    # inner </form>: the first workflow button would post the change form, and
    # the fields and "Save" button after the buttons would belong to no form.
    person = make_case_in_review()
    sign_in_as(client, "editor")
    page = client.get(f"/admin/cases/person/{person.pk}/change/")
    assert page.status_code == 200
    parser = _FormNesting()
    parser.feed(page.content.decode())
    assert parser.nested == []


# Reverting to an earlier version


def revert_page_data(client, role):
    """A case edited once; the visitor signed in; what the revert page posts back (read by a superuser if need be)."""
    person = make_person(name="Lee Jae-geun", summary="First account.")
    first = person.history.get()
    person.summary = "Second account."
    save_with_history(person, by=None, reason="test data: later account")
    url = f"/admin/cases/person/{person.pk}/history/{first.history_id}/"

    superuser = signed_in(make_superuser("root"))
    user = sign_in_as(client, role)
    page = client.get(url)
    data = admin_form_data(page if page.status_code == 200 else superuser.get(url))
    assert data["summary"] == "First account."
    return person, user, url, data


@visitors(EDITOR_ONLY)
def test_editors_revert_to_an_earlier_version(client, role):
    person, user, url, data = revert_page_data(client, role)
    response = client.post(url, data)
    person.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert person.summary == "First account."
    latest = person.history.first()
    assert latest.history_user == user
    assert latest.history_change_reason.startswith("Reverted to the version of")


@all_but(EDITOR_ONLY)
def test_others_cannot_revert_to_an_earlier_version(client, role):
    person, _, url, data = revert_page_data(client, role)
    response = client.post(url, data)
    person.refresh_from_db()
    assert_refused(client, role, response)
    assert person.summary == "Second account."
    assert person.history.count() == 2


# Uploaded source documents

CONFIDENTIAL = b"%PDF-1.4 a confidential testimony"


@pytest.fixture
def restricted_document(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    source = make_source(document=ContentFile(CONFIDENTIAL, name="x.pdf"), is_restricted=True)
    assert (tmp_path / source.document.name).read_bytes() == CONFIDENTIAL
    return source


@visitors(DOWNLOADERS)
def test_downloaders_download_a_source_document(client, role, restricted_document):
    sign_in_as(client, role)
    response = client.get(f"/staff/sources/{restricted_document.pk}/document")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == CONFIDENTIAL
    restricted_document.refresh_from_db()
    assert restricted_document.history.count() == 1  # a download writes nothing


@all_but(DOWNLOADERS)
def test_others_cannot_download_a_source_document(client, role, restricted_document):
    sign_in_as(client, role)
    response = client.get(f"/staff/sources/{restricted_document.pk}/document")
    assert_refused(client, role, response)
    restricted_document.refresh_from_db()
    assert restricted_document.history.count() == 1


# Bulk actions


def submit_selection() -> dict[str, Person]:
    """Cases of each state to select at once: only the drafts can be submitted."""
    withdrawn = publish_case(make_publishable_case(locator="p. 3"))
    services.withdraw(withdrawn, by=None, reason="test data")
    return {
        "draft": make_person(),
        "other draft": make_person(),
        "in review": make_case_in_review(),
        "withdrawn": Person.objects.get(pk=withdrawn.pk),
    }


def bulk_submit(client, cases: dict[str, Person]):
    return client.post(
        "/admin/cases/person/",
        {"action": "submit_selected", "_selected_action": [str(person.pk) for person in cases.values()]},
    )


def states(cases: dict[str, Person]) -> dict[str, tuple]:
    for person in cases.values():
        person.refresh_from_db()
    return {label: (person.publication_state, person.submitted_by_id) for label, person in cases.items()}


@visitors(CASE_EDITORS)
def test_case_editors_bulk_submit_the_selected_drafts(client, role):
    cases = submit_selection()
    before = states(cases)
    user = sign_in_as(client, role)
    response = bulk_submit(client, cases)
    assert response.status_code == 302
    assert states(cases) == {
        **before,
        "draft": (PublicationState.IN_REVIEW, user.pk),
        "other draft": (PublicationState.IN_REVIEW, user.pk),
    }
    assert messages_of(response) == ["Submitted 2 cases for review; 2 skipped (not a draft or not yours to change)."]


def test_a_researcher_is_not_offered_bulk_submit(client):
    cases = submit_selection()
    before = states(cases)
    sign_in_as(client, "researcher")
    response = bulk_submit(client, cases)
    # A reader is not offered the action: the list is shown again, nothing done.
    assert response.status_code == 200
    assert states(cases) == before


@all_but([*CASE_EDITORS, "researcher"])
def test_others_cannot_bulk_submit(client, role):
    cases = submit_selection()
    before = states(cases)
    sign_in_as(client, role)
    response = bulk_submit(client, cases)
    assert_refused(client, role, response)
    assert states(cases) == before


def withdraw_by_bulk_action(client, role):
    """A case whose later event was mistaken; the visitor selects it, then confirms with a reason."""
    person = make_person()
    make_event(person, Status.DETAINED, "2014")
    mistaken = make_event(person, Status.RELEASED, "2016")
    sign_in_as(client, role)
    selection = {"action": "withdraw_selected", "_selected_action": [str(mistaken.pk)]}

    confirmation = client.post("/admin/cases/statusevent/", selection)
    mistaken.refresh_from_db()
    assert not mistaken.withdrawn  # nothing happens before the confirmation
    response = client.post("/admin/cases/statusevent/", {**selection, "confirm": "yes", "reason": "Recorded in error."})
    mistaken.refresh_from_db()
    person.refresh_from_db()
    return person, mistaken, confirmation, response


@visitors(CASE_EDITORS)
def test_case_editors_bulk_withdraw_status_events_after_confirming(client, role):
    person, mistaken, confirmation, response = withdraw_by_bulk_action(client, role)
    assert confirmation.status_code == 200
    assert 'name="reason"' in confirmation.content.decode()
    assert response.status_code == 302
    assert (mistaken.withdrawn, mistaken.withdrawn_reason) == (True, "Recorded in error.")
    assert person.current_status == Status.DETAINED


def test_a_researcher_is_not_offered_bulk_withdraw(client):
    person, mistaken, confirmation, response = withdraw_by_bulk_action(client, "researcher")
    # A reader is not offered the action: the list is shown again, nothing done.
    assert confirmation.status_code == 200
    assert 'name="reason"' not in confirmation.content.decode()
    assert response.status_code == 200
    assert not mistaken.withdrawn
    assert person.current_status == Status.RELEASED


@all_but([*CASE_EDITORS, "researcher"])
def test_others_cannot_bulk_withdraw_status_events(client, role):
    person, mistaken, confirmation, response = withdraw_by_bulk_action(client, role)
    assert_refused(client, role, confirmation)
    assert_refused(client, role, response)
    assert not mistaken.withdrawn
    assert person.current_status == Status.RELEASED


# Deleting


@visitors(VISITORS)
def test_nobody_deletes_a_person(client, role):
    person = make_person()
    sign_in_as(client, role)
    response = client.post(f"/admin/cases/person/{person.pk}/delete/", {"post": "yes"})
    assert_refused(client, role, response)
    assert Person.objects.filter(pk=person.pk).exists()
    assert person.history.count() == 1


def test_superuser_cannot_delete_a_person_either(client):
    person = make_person()
    client.force_login(make_superuser("root"))
    assert client.post(f"/admin/cases/person/{person.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


# Facilities, authorities and relations


@visitors(READERS)
def test_readers_see_facilities_authorities_and_relations(client, role):
    make_facility()
    sign_in_as(client, role)
    for url in ("/admin/cases/facility/", "/admin/cases/authority/", "/admin/cases/relation/"):
        assert client.get(url).status_code == 200


@all_but(READERS)
def test_others_cannot_see_facilities_authorities_or_relations(client, role):
    make_facility()
    sign_in_as(client, role)
    for url in ("/admin/cases/facility/", "/admin/cases/authority/", "/admin/cases/relation/"):
        assert_refused(client, role, client.get(url))


@visitors(CASE_EDITORS)
def test_case_editors_add_a_facility(client, role):
    user = sign_in_as(client, role)
    url = "/admin/cases/facility/add/"
    response = client.post(url, form_data(client, url, name="Chongori re-education camp", kind="kyohwaso"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Facility.objects.get().history.get().history_user == user


@all_but(CASE_EDITORS)
def test_others_cannot_add_a_facility(client, role):
    sign_in_as(client, role)
    response = client.post("/admin/cases/facility/add/", {"name": "Chongori re-education camp", "kind": "kyohwaso"})
    assert_refused(client, role, response)
    assert not Facility.objects.exists()


@visitors(EDITOR_ONLY)
def test_editors_make_a_facility_public(client, role):
    facility = make_facility(is_public=False)
    sign_in_as(client, role)
    url = f"/admin/cases/facility/{facility.pk}/change/"
    assert client.post(url, form_data(client, url, is_public="on")).status_code == 302
    facility.refresh_from_db()
    assert facility.is_public


@all_but(EDITOR_ONLY)
def test_others_cannot_make_a_facility_public(client, role):
    facility = make_facility(is_public=False)
    sign_in_as(client, role)
    url = f"/admin/cases/facility/{facility.pk}/change/"
    response = client.post(url, form_data(client, url, is_public="on"))
    if role == "caseworker":
        assert response.status_code == 302  # saved, without the box a caseworker does not have
    else:
        assert_refused(client, role, response)
    facility.refresh_from_db()
    assert not facility.is_public


@visitors(VISITORS)
def test_nobody_deletes_a_facility_or_a_relation(client, role):
    facility = make_facility()
    relation = make_relation(make_person(), "sibling", make_person())
    sign_in_as(client, role)
    for url in (f"/admin/cases/facility/{facility.pk}/delete/", f"/admin/cases/relation/{relation.pk}/delete/"):
        assert_refused(client, role, client.post(url, {"post": "yes"}))
    assert Facility.objects.filter(pk=facility.pk).exists()
    assert Relation.objects.filter(pk=relation.pk).exists()

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
from django.test import Client

from cases.history import save_with_history
from cases.models import Person, PublicationState, Status, StatusEvent
from sources.models import Citation, Source
from workflow import services
from workflow.models import PublishedVersion
from workflow.roles import ROLES

from .conftest import admin_form_data, make_citation, make_event, make_person, make_source, make_user, publish_case

pytestmark = pytest.mark.django_db

GROUPS = {"caseworker": "Caseworker", "researcher": "Researcher", "editor": "Editor", "administrator": "Administrator"}
VISITORS = [*GROUPS, "staff-without-group", "anonymous"]
every_visitor = pytest.mark.parametrize("role", VISITORS)

# Who is allowed each action (from DESIGN.md "Roles" and workflow/roles.py).
READERS = {"caseworker", "researcher", "editor"}
CASE_EDITORS = {"caseworker", "editor"}
SOURCE_EDITORS = {"researcher", "editor"}
CITERS = {"caseworker", "researcher", "editor"}
EDITOR_ONLY = {"editor"}
DOWNLOADERS = {"researcher", "editor"}

WORKFLOW_ACTIONS = ["submit", "return_to_draft", "publish", "withdraw"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login_as(client, role: str):
    """Log ``client`` in as a staff user in exactly the group of ``role``; ``None`` for anonymous."""
    if role == "anonymous":
        return None
    user = make_user(role, is_staff=True)
    if role in GROUPS:
        user.groups.add(Group.objects.get(name=GROUPS[role]))
    client.force_login(user)
    return user


def staff_in(group: str, username: str):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


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


def publishable_case(**fields) -> Person:
    """A draft case with nothing stopping publication: a basis, and a public source behind its public event."""
    person = make_person(publication_basis="already_public", **fields)
    event = make_event(person, Status.DETAINED, "2019-05", is_public=True)
    make_citation(make_source(is_restricted=False), status_event=event, locator="p. 3")
    return person


def in_review_by_someone_else() -> Person:
    person = publishable_case()
    services.submit_for_review(person, by=staff_in("Caseworker", "submitter"))
    person.refresh_from_db()
    return person


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# The groups themselves


@pytest.mark.parametrize("group", sorted(ROLES))
def test_group_has_exactly_the_listed_permissions(group):
    permissions = Group.objects.get(name=group).permissions.select_related("content_type")
    assert {f"{p.content_type.app_label}.{p.codename}" for p in permissions} == set(ROLES[group])


@pytest.mark.parametrize("role", list(GROUPS))
def test_staff_user_in_a_group_has_its_permissions_and_no_others(client, role):
    user = login_as(client, role)
    user = type(user).objects.get(pk=user.pk)  # no cached permissions
    assert user.get_all_permissions() == set(ROLES[GROUPS[role]])


# Reading cases


@every_visitor
def test_view_person_list_and_change_page(client, role):
    person = make_person(name="Choi Chun-gil", summary="Detained in 2014.")
    login_as(client, role)
    listing = client.get("/admin/cases/person/")
    page = client.get(f"/admin/cases/person/{person.pk}/change/")
    if role in READERS:
        assert listing.status_code == 200
        assert person.case_id in listing.content.decode()
        assert page.status_code == 200
        assert "Detained in 2014." in page.content.decode()
    else:
        assert_refused(client, role, listing)
        assert_refused(client, role, page)
    assert person.history.count() == 1  # reading writes nothing


# Adding and changing cases


@every_visitor
def test_add_person(client, role):
    user = login_as(client, role)
    url = "/admin/cases/person/add/"
    page = client.get(url)
    if role in CASE_EDITORS:
        assert page.status_code == 200
        response = client.post(url, admin_form_data(page, name="Pak Mun-deok", summary="Arrested at the border."))
        assert response.status_code == 302, response.context["adminform"].form.errors
        person = Person.objects.get()
        assert person.name == "Pak Mun-deok"
        assert person.history.get().history_user == user
    else:
        assert_refused(client, role, page)
        response = client.post(url, {"name": "Pak Mun-deok", "sex": "unknown"})
        assert_refused(client, role, response)
        assert Person.objects.count() == 0


@every_visitor
def test_change_person_summary(client, role):
    person = make_person(name="Kim Kook-ki", summary="Old summary.")
    user = login_as(client, role)
    url = f"/admin/cases/person/{person.pk}/change/"
    response = client.post(url, form_data(client, url, summary="New summary."))
    person.refresh_from_db()
    if role in CASE_EDITORS:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert person.summary == "New summary."
        assert person.history.first().history_user == user
    else:
        assert_refused(client, role, response)
        assert person.summary == "Old summary."
        assert person.history.count() == 1


@every_visitor
def test_record_status_change(client, role):
    person = make_person()
    user = login_as(client, role)
    url = f"/admin/cases/statusevent/add/?person={person.pk}"
    page = client.get(url)
    if role in CASE_EDITORS:
        assert page.status_code == 200
        response = client.post(url, admin_form_data(page, status=Status.ARRESTED, date="2014-10", confidence="likely"))
        assert response.status_code == 302, response.context["adminform"].form.errors
        event = StatusEvent.objects.get()
        assert (event.person, event.status, event.recorded_by) == (person, Status.ARRESTED, user)
        person.refresh_from_db()
        assert person.current_status == Status.ARRESTED
    else:
        assert_refused(client, role, page)
        response = client.post(url, {"person": person.pk, "status": Status.ARRESTED, "confidence": "likely"})
        assert_refused(client, role, response)
        assert not StatusEvent.objects.exists()
        person.refresh_from_db()
        assert person.current_status == ""


# Sources and citations


@every_visitor
def test_add_source(client, role):
    user = login_as(client, role)
    url = "/admin/sources/source/add/"
    page = client.get(url)
    changes = {"title": "Report of the commission of inquiry", "kind": "un", "publisher": "UN Human Rights Council"}
    if role in SOURCE_EDITORS:
        assert page.status_code == 200
        response = client.post(url, admin_form_data(page, **changes))
        assert response.status_code == 302, response.context["adminform"].form.errors
        source = Source.objects.get()
        assert (source.title, source.added_by) == (changes["title"], user)
    else:
        assert_refused(client, role, page)
        assert_refused(client, role, client.post(url, changes))
        assert not Source.objects.exists()


@every_visitor
def test_change_source(client, role):
    source = make_source(title="Old title", publisher="NGO")
    user = login_as(client, role)
    url = f"/admin/sources/source/{source.pk}/change/"
    response = client.post(url, form_data(client, url, title="Corrected title"))
    source.refresh_from_db()
    if role in SOURCE_EDITORS:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert source.title == "Corrected title"
        assert source.history.first().history_user == user
    else:
        assert_refused(client, role, response)
        assert source.title == "Old title"


@every_visitor
def test_add_citation(client, role):
    person = make_person()
    source = make_source()
    user = login_as(client, role)
    url = "/admin/sources/citation/add/"
    changes = {"source": str(source.pk), "person": str(person.pk), "locator": "para. 354"}
    page = client.get(url)
    if role in CITERS:
        assert page.status_code == 200
        response = client.post(url, admin_form_data(page, **changes))
        assert response.status_code == 302, response.context["adminform"].form.errors
        citation = Citation.objects.get()
        assert (citation.source, citation.person, citation.locator, citation.added_by) == (
            source,
            person,
            "para. 354",
            user,
        )
    else:
        assert_refused(client, role, page)
        assert_refused(client, role, client.post(url, changes))
        assert not Citation.objects.exists()


# The review workflow


@every_visitor
def test_submit_for_review(client, role):
    person = make_person()
    user = login_as(client, role)
    response = client.post(workflow_url(person, "submit"))
    person.refresh_from_db()
    if role in CASE_EDITORS:
        assert response.status_code == 302
        assert response["Location"] == f"/admin/cases/person/{person.pk}/change/"
        assert person.publication_state == PublicationState.IN_REVIEW
        assert person.submitted_by == user
    else:
        assert_workflow_refused(client, role, response)
        assert person.publication_state == PublicationState.DRAFT
        assert person.submitted_by is None


@every_visitor
def test_publish(client, role):
    person = in_review_by_someone_else()
    assert services.publication_problems(person) == []
    user = login_as(client, role)
    response = client.post(workflow_url(person, "publish"))
    person.refresh_from_db()
    if role in EDITOR_ONLY:
        assert response.status_code == 302
        assert not any(message.startswith("Not done") for message in messages_of(response))
        assert person.publication_state == PublicationState.PUBLISHED
        version = PublishedVersion.objects.get()
        assert (version.person, version.published_by, version.is_current) == (person, user, True)
    else:
        assert_workflow_refused(client, role, response)
        assert person.publication_state == PublicationState.IN_REVIEW
        assert not PublishedVersion.objects.exists()


@every_visitor
def test_withdraw(client, role):
    person = publish_case(publishable_case())
    login_as(client, role)
    response = client.post(workflow_url(person, "withdraw"), {"reason": "The family asked us to take it down."})
    person.refresh_from_db()
    if role in EDITOR_ONLY:
        assert response.status_code == 302
        assert person.publication_state == PublicationState.WITHDRAWN
        assert not PublishedVersion.objects.public().exists()
        assert person.history.first().history_change_reason == "The family asked us to take it down."
    else:
        assert_workflow_refused(client, role, response)
        assert person.publication_state == PublicationState.PUBLISHED
        assert PublishedVersion.objects.public().filter(person=person).count() == 1


def test_workflow_url_refuses_get(client):
    person = in_review_by_someone_else()
    login_as(client, "editor")
    for action in WORKFLOW_ACTIONS:
        assert client.get(workflow_url(person, action)).status_code == 405
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert not PublishedVersion.objects.exists()


@pytest.mark.parametrize("action", ["delete", "frobnicate", "PUBLISH"])
def test_unknown_workflow_action_is_refused(client, action):
    person = in_review_by_someone_else()
    history_rows = person.history.count()
    login_as(client, "editor")
    response = client.post(workflow_url(person, action), {"reason": "no"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    assert person.history.count() == history_rows
    assert not PublishedVersion.objects.exists()


@pytest.mark.parametrize("action", WORKFLOW_ACTIONS)
def test_anonymous_workflow_post_goes_to_login_and_changes_nothing(client, action):
    person = in_review_by_someone_else()
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
        ("editor", ["return_to_draft", "publish"]),
    ],
)
def test_change_page_offers_only_the_workflow_buttons_the_role_may_use(client, role, buttons):
    person = in_review_by_someone_else()
    login_as(client, role)
    html = client.get(f"/admin/cases/person/{person.pk}/change/").content.decode()
    offered = [action for action in WORKFLOW_ACTIONS if f'action="{workflow_url(person, action)}"' in html]
    assert offered == buttons


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
    person = in_review_by_someone_else()
    login_as(client, "editor")
    page = client.get(f"/admin/cases/person/{person.pk}/change/")
    assert page.status_code == 200
    parser = _FormNesting()
    parser.feed(page.content.decode())
    assert parser.nested == []


# Reverting to an earlier version


@every_visitor
def test_revert_to_earlier_version(client, role):
    person = make_person(name="Lee Jae-geun", summary="First account.")
    first = person.history.get()
    person.summary = "Second account."
    save_with_history(person, by=None, reason="test data: later account")
    url = f"/admin/cases/person/{person.pk}/history/{first.history_id}/"

    superuser = Client()
    superuser.force_login(make_user("root", is_staff=True, is_superuser=True))
    user = login_as(client, role)
    page = client.get(url)
    data = admin_form_data(page if page.status_code == 200 else superuser.get(url))
    assert data["summary"] == "First account."

    response = client.post(url, data)
    person.refresh_from_db()
    if role in EDITOR_ONLY:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert person.summary == "First account."
        latest = person.history.first()
        assert latest.history_user == user
        assert latest.history_change_reason.startswith("Reverted to the version of")
    else:
        assert_refused(client, role, response)
        assert person.summary == "Second account."
        assert person.history.count() == 2


# Uploaded source documents


@every_visitor
def test_download_source_document(client, role, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    content = b"%PDF-1.4 a confidential testimony"
    source = make_source(document=ContentFile(content, name="x.pdf"), is_restricted=True)
    assert (tmp_path / source.document.name).read_bytes() == content
    login_as(client, role)
    response = client.get(f"/staff/sources/{source.pk}/document")
    if role in DOWNLOADERS:
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == content
    else:
        assert_refused(client, role, response)
    source.refresh_from_db()
    assert source.history.count() == 1  # a download writes nothing


# Bulk actions


def submit_selection() -> dict[str, Person]:
    """Cases of each state to select at once: only the drafts can be submitted."""
    withdrawn = publish_case(publishable_case())
    services.withdraw(withdrawn, by=None, reason="test data")
    return {
        "draft": make_person(),
        "other draft": make_person(),
        "in review": in_review_by_someone_else(),
        "withdrawn": Person.objects.get(pk=withdrawn.pk),
    }


@every_visitor
def test_bulk_submit_selected(client, role):
    cases = submit_selection()
    before = {label: (person.publication_state, person.submitted_by_id) for label, person in cases.items()}
    user = login_as(client, role)
    response = client.post(
        "/admin/cases/person/",
        {"action": "submit_selected", "_selected_action": [str(person.pk) for person in cases.values()]},
    )
    for person in cases.values():
        person.refresh_from_db()
    after = {label: (person.publication_state, person.submitted_by_id) for label, person in cases.items()}
    if role in CASE_EDITORS:
        assert response.status_code == 302
        assert after == {
            **before,
            "draft": (PublicationState.IN_REVIEW, user.pk),
            "other draft": (PublicationState.IN_REVIEW, user.pk),
        }
        assert messages_of(response) == [
            "Submitted 2 case(s) for review; 2 skipped (not a draft or not yours to change)."
        ]
    elif role == "researcher":
        # A reader is not offered the action: the list is shown again, nothing done.
        assert response.status_code == 200
        assert after == before
    else:
        assert_refused(client, role, response)
        assert after == before


@every_visitor
def test_bulk_withdraw_status_events_with_confirmation(client, role):
    person = make_person()
    make_event(person, Status.DETAINED, "2014")
    mistaken = make_event(person, Status.RELEASED, "2016")
    login_as(client, role)
    selection = {"action": "withdraw_selected", "_selected_action": [str(mistaken.pk)]}

    confirmation = client.post("/admin/cases/statusevent/", selection)
    mistaken.refresh_from_db()
    assert not mistaken.withdrawn  # nothing happens before the confirmation
    response = client.post("/admin/cases/statusevent/", {**selection, "confirm": "yes", "reason": "Recorded in error."})
    mistaken.refresh_from_db()
    person.refresh_from_db()
    if role in CASE_EDITORS:
        assert confirmation.status_code == 200
        assert 'name="reason"' in confirmation.content.decode()
        assert response.status_code == 302
        assert (mistaken.withdrawn, mistaken.withdrawn_reason) == (True, "Recorded in error.")
        assert person.current_status == Status.DETAINED
    elif role == "researcher":
        # A reader is not offered the action: the list is shown again, nothing done.
        assert confirmation.status_code == 200
        assert 'name="reason"' not in confirmation.content.decode()
        assert response.status_code == 200
        assert not mistaken.withdrawn
        assert person.current_status == Status.RELEASED
    else:
        assert_refused(client, role, confirmation)
        assert_refused(client, role, response)
        assert not mistaken.withdrawn
        assert person.current_status == Status.RELEASED


# Deleting


@every_visitor
def test_nobody_deletes_a_person(client, role):
    person = make_person()
    login_as(client, role)
    response = client.post(f"/admin/cases/person/{person.pk}/delete/", {"post": "yes"})
    if role == "anonymous":
        assert_sent_to_login(client, response)
    else:
        assert response.status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()
    assert person.history.count() == 1


def test_superuser_cannot_delete_a_person_either(client):
    person = make_person()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert client.post(f"/admin/cases/person/{person.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()

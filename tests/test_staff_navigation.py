"""Navigation and identity on the staff side: one header everywhere, a start page per role, a readable history."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from cases.admin import admin_reason
from cases.history import save_with_history
from cases.models import Person, PublicationState, Status
from workflow import services

from .conftest import admin_form_data, make_event, make_person, make_publishable_case, make_staff, signed_in

pytestmark = pytest.mark.django_db

DASHBOARD = "/staff/"
IMPORT = "/staff/import/"
LOGOUT = reverse("admin:logout")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def header(response) -> str:
    html = response.content.decode()
    match = re.search(r'<header id="header">(.*?)</header>', html, re.S)
    assert match, "the page has no staff header"
    return match.group(1)


def links(html: str) -> set[str]:
    return set(re.findall(r'<a [^>]*href="([^"]*)"', html))


def logs_out(html: str) -> bool:
    return f'action="{LOGOUT}"' in html and "Log out" in html


# The admin, the dashboard and the import page link to each other, under one header


def test_the_admin_links_to_the_dashboard_and_the_import_page(editor_client):
    response = editor_client.get(reverse("admin:index"))
    assert response.status_code == 200
    top = header(response)
    assert {DASHBOARD, IMPORT, reverse("admin:index")} <= links(top)
    assert logs_out(top)


def test_the_import_link_is_only_for_those_who_may_import(researcher_client):
    top = header(researcher_client.get(reverse("admin:index")))
    assert DASHBOARD in links(top)
    assert IMPORT not in links(top)


def test_the_dashboard_links_to_the_admin_with_the_same_header(editor_client):
    response = editor_client.get(DASHBOARD)
    assert response.status_code == 200
    top = header(response)
    assert {reverse("admin:index"), IMPORT} <= links(top)
    assert logs_out(top)
    assert reverse("admin:cases_person_changelist") in links(response.content.decode())


def test_the_import_page_has_the_header_with_the_user_menu(editor_client, editor):
    response = editor_client.get(IMPORT)
    assert response.status_code == 200
    top = header(response)
    assert {DASHBOARD, reverse("admin:index")} <= links(top)
    assert logs_out(top)
    assert editor.get_username() in top
    assert "Django administration" not in response.content.decode()


def test_the_two_factor_page_offers_only_log_out(settings):
    settings.STAFF_2FA_REQUIRED = True
    user = make_staff("Editor", "not-yet-verified")
    client = Client()
    client.force_login(user)
    response = client.get(reverse("security:two_factor"))
    assert response.status_code == 200
    top = header(response)
    assert logs_out(top)
    assert links(top) == set(), f"the header links to pages this user cannot open yet: {links(top)}"
    # Indeed: the dashboard and the admin are closed to them until the code is checked.
    assert client.get(DASHBOARD).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 302


# An Administrator's start page


def test_an_administrator_gets_a_page_of_their_own(administrator_client):
    make_person(name="Kim Secret-case")
    response = administrator_client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kim Secret-case" not in html
    assert {
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_group_changelist"),
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:security_auditevent_changelist"),
    } <= links(html)
    assert reverse("admin:cases_person_changelist") not in links(html)
    assert "no-store" in response["Cache-Control"]
    # Each link opens for them.
    for url in links(html) & {reverse("admin:auth_user_changelist"), reverse("admin:security_auditevent_changelist")}:
        assert administrator_client.get(url).status_code == 200, url


def test_staff_with_no_role_are_still_refused():
    client = signed_in(make_staff(None, "no-role"))
    response = client.get(DASHBOARD)
    assert response.status_code == 403


def test_a_case_reader_still_gets_the_dashboard(researcher_client):
    response = researcher_client.get(DASHBOARD)
    assert response.status_code == 200
    assert "Waiting for review" in response.content.decode()


def test_post_to_the_administrators_page_is_refused(administrator_client):
    assert administrator_client.post(DASHBOARD).status_code == 405


# The history page: labels and readable values, and what each admin edit changed


def history_html(client, person: Person) -> str:
    response = client.get(reverse("admin:cases_person_history", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_history_shows_labels_and_values_not_keys(editor_client, caseworker):
    person = make_publishable_case(name="Kim History")
    services.submit_for_review(person, by=caseworker)
    services.publish(Person.objects.get(pk=person.pk), by=make_staff("Editor", "other-editor"))
    html = history_html(editor_client, person)
    assert "Publication state:</strong>" in html
    assert re.search(r"In review\s*(&nbsp;)?\s*&rarr;\s*(&nbsp;)*\s*Published", html), html
    assert "in_review" not in html
    assert "publication_state" not in html


def test_the_history_shows_status_labels_and_partial_dates(editor_client):
    person = make_person(name="Kim Status-history")
    make_event(person, Status.ARRESTED, "2014-10")
    make_event(person, Status.DETAINED, "2015")
    html = history_html(editor_client, person)
    assert "Current status:</strong>" in html
    assert re.search(r"Arrested\s*(&nbsp;)?\s*&rarr;\s*(&nbsp;)*\s*Detained", html)
    assert "October 2014" in html
    assert "arrested &rarr;" not in html
    # Bookkeeping is not listed as a change.
    assert "Version:</strong>" not in html
    assert "name_key" not in html


def test_an_admin_edit_names_the_labels_of_what_it_changed(editor_client):
    person = make_person(name="Kim Reason", summary="Before.")
    url = reverse("admin:cases_person_change", args=[person.pk])
    data = admin_form_data(editor_client.get(url), summary="After.", religion="Christian")
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    reason = person.history.first().history_change_reason
    assert reason == "Changed in admin: religion or belief, public summary"
    html = history_html(editor_client, person)
    assert "Changed in admin: religion or belief, public summary" in html
    assert "Public summary:</strong>" in html


def test_the_reason_uses_the_site_language_whatever_the_editor_reads(editor_client):
    person = make_person(name="Kim Korean-editor")
    url = reverse("admin:cases_person_change", args=[person.pk])
    data = admin_form_data(editor_client.get(url), religion="Buddhist")
    editor_client.post(url, data, HTTP_ACCEPT_LANGUAGE="ko")
    assert person.history.first().history_change_reason == "Changed in admin: religion or belief"


def test_admin_reason_without_changes_says_what_was_done():
    person = make_person(name="Kim Unchanged")

    class Unchanged:
        instance = person
        changed_data: list[str] = []

        def has_changed(self):
            return False

    assert admin_reason(Unchanged(), "Corrected") == "Corrected in admin"


def test_a_workflow_step_reads_in_the_history(editor_client, caseworker):
    person = make_publishable_case(name="Kim Submitted")
    services.submit_for_review(person, by=caseworker)
    person.refresh_from_db()
    assert person.publication_state == PublicationState.IN_REVIEW
    save_with_history(person, by=caseworker, reason="test data", update_fields=["updated_at"])
    html = history_html(editor_client, person)
    assert re.search(r"Draft\s*(&nbsp;)?\s*&rarr;\s*(&nbsp;)*\s*In review", html)

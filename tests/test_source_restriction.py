"""Restricting or withdrawing a source that published cases cite: said first, with a reason, and the public
record keeps its promise that every fact on it is backed by a source listed with it."""

import html

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from cases.models import PublicationBasis, Status
from sources.models import Source
from workflow.models import PublishedVersion

from .conftest import admin_form_data, make_citation, make_event, make_person, make_source, make_user, publish_case

pytestmark = pytest.mark.django_db


def researcher_client() -> Client:
    user = make_user("researcher", is_staff=True)
    user.groups.add(Group.objects.get(name="Researcher"))
    client = Client()
    client.force_login(user)
    return client


def published_case_citing(source: Source, *, also: Source | None = None):
    """A published case: an arrest backed by ``source`` only, a detention backed by ``also`` too."""
    person = make_person(name="Kim Restricted-Source", publication_basis=PublicationBasis.ALREADY_PUBLIC)
    arrest = make_event(person, Status.ARRESTED, "2014", is_public=True, place="Onsong")
    make_citation(source, status_event=arrest, locator="p. 3")
    detention = make_event(person, Status.DETAINED, "2015", is_public=True, place="Chongjin")
    make_citation(source, status_event=detention, locator="p. 4")
    make_citation(also or make_source(title="Second report"), status_event=detention, locator="p. 9")
    return publish_case(person)


def restrict_in_the_admin(client: Client, source: Source, **changes):
    url = f"/admin/sources/source/{source.pk}/change/"
    return client.post(url, admin_form_data(client.get(url), is_restricted="on", **changes))


def test_the_source_page_names_the_published_cases_that_cite_it():
    source = make_source(title="Testimony summary", publisher="Interviews")
    person = published_case_citing(source)
    page = html.unescape(researcher_client().get(f"/admin/sources/source/{source.pk}/change/").content.decode())
    assert "cited by published cases" in page.lower()
    assert f"/admin/cases/person/{person.pk}/change/" in page


def test_restricting_a_cited_source_without_a_reason_is_refused_with_the_cases_listed(client):
    source = make_source(title="Testimony summary", publisher="Interviews")
    person = published_case_citing(source)
    response = restrict_in_the_admin(researcher_client(), source)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Published cases cite this source: " + str(person) in page
    source.refresh_from_db()
    assert source.is_restricted is False
    assert "Onsong" in client.get(f"/cases/{person.case_id}/").content.decode()


def test_restricting_a_cited_source_with_a_reason_takes_its_claims_off_and_keeps_the_promise(client):
    source = make_source(title="Testimony summary", publisher="Interviews")
    person = published_case_citing(source)
    response = restrict_in_the_admin(researcher_client(), source, restriction_reason="The witness asked for it.")
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.is_restricted is True
    assert source.history.first().history_change_reason == "The witness asked for it."
    record = client.get(f"/api/cases/{person.case_id}/").json()
    # The arrest rested on this source alone: it leaves the public record; the detention keeps its other source.
    assert [event["status"] for event in record["events"]] == ["detained"]
    assert all(event["citations"] for event in record["events"])
    assert [source["title"] for source in record["sources"]] == ["Second report"]
    page = client.get(f"/cases/{person.case_id}/").content.decode()
    assert "Onsong" not in page and "Testimony summary" not in page and "Chongjin" in page
    version = PublishedVersion.objects.get(person=person)
    assert version.history.first().history_change_reason.startswith("Public record redacted")


def test_restricting_a_source_no_published_case_cites_needs_no_reason():
    source = make_source(title="Unused report", publisher="NGO")
    assert restrict_in_the_admin(researcher_client(), source).status_code == 302
    source.refresh_from_db()
    assert source.is_restricted is True


def test_withdrawing_cited_sources_lists_the_published_cases_before_it_is_done():
    source = make_source(title="Testimony summary", publisher="Interviews")
    person = published_case_citing(source)
    client = researcher_client()
    response = client.post(
        "/admin/sources/source/", {"action": "withdraw_selected", "_selected_action": [str(source.pk)]}
    )
    page = html.unescape(response.content.decode())
    assert f"“Testimony summary” is cited by the published cases {person}." in page
    source.refresh_from_db()
    assert source.withdrawn is False


def test_every_event_left_on_a_public_record_cites_a_public_source(client):
    """The rule the public page's footer states: a redaction never leaves an unsourced fact behind."""
    first, second = make_source(title="First"), make_source(title="Second")
    person = published_case_citing(first, also=second)
    second.withdraw(by=None, reason="retracted")
    first.is_restricted = True
    first.save()
    record = client.get(f"/api/cases/{person.case_id}/").json()
    assert record["events"] == [] and record["citations"] == [] and record["sources"] == []
    assert record["status"] == ""


def test_the_cases_that_lost_a_public_source_appear_under_needs_attention():
    source = make_source(title="Testimony summary", publisher="Interviews")
    person = published_case_citing(source)
    untouched = published_case_citing(make_source(title="Other report", publisher="UN"))
    client = researcher_client()
    before = html.unescape(client.get("/staff/").content.decode())
    assert "Every public event of every published case is backed by a public source." in before

    restrict_in_the_admin(client, source, restriction_reason="The witness asked for it.")

    page = html.unescape(client.get("/staff/").content.decode())
    attention = page.split('id="attention-heading"', 1)[1].split("</section>", 1)[0]
    assert "Needs attention (1)" in attention
    assert f"/admin/cases/person/{person.pk}/change/" in attention
    assert f"/admin/cases/person/{untouched.pk}/change/" not in attention

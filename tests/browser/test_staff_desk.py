"""The staff desk in a real browser: citing from the claim, the researcher's path, the publication preview,
and axe on every staff page the work goes through (no serious or critical violation), with screenshots."""

import re

from playwright.sync_api import expect

from cases.models import Person, PublicationBasis, Status
from sources.models import Citation
from workflow.models import PublishedVersion
from workflow.services import submit_for_review

from ..factories import make_appeal, make_citation, make_event, make_person, make_source
from .conftest import browser_db, choose_autocomplete, screenshot, sign_in, staff_user
from .test_accessibility import blocking_violations


def two_cases_with_events():
    """Two cases whose events share a status and a year: the citation must land on the one it was made from."""
    first = make_person(name="Kim Jeong-ho", publication_basis=PublicationBasis.ALREADY_PUBLIC)
    make_event(first, Status.ARRESTED, "2016", is_public=True, place="Hoeryong")
    detention = make_event(first, Status.DETAINED, "2017", is_public=True, place="Chongjin")
    other = make_person(name="Kim Jeong-hui")
    make_event(other, Status.DETAINED, "2017", is_public=True, place="Chongjin")
    make_source(title="Report on detention in Chongjin", publisher="An NGO", url="https://example.org/chongjin")
    make_source(title="Report on detention in Chongjin", publisher="A newspaper", published_on="2018-03")
    return first, detention


def cite(page, person, event_label: str, source_label: str):
    page.goto(f"/admin/cases/person/{person.pk}/change/")
    page.get_by_role("link", name=f"Cite a source for “{event_label}”").click()
    expect(page.locator(".citation-claim")).to_contain_text(person.name)
    choose_autocomplete(page, "source", "Chongjin", source_label)
    page.locator("#id_locator").fill("p. 7")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/cases/person/{person.pk}/change/$"))


@browser_db
def test_citing_from_an_event_lands_on_that_event_and_no_other(new_page):
    person, detention = two_cases_with_events()
    staff_user("caseworker", "Caseworker")
    page = new_page()
    sign_in(page, "caseworker")
    # Two sources with one title are told apart by publisher, date and site.
    cite(page, person, "Detained", "Report on detention in Chongjin · A newspaper · 2018-03")
    citation = Citation.objects.get()
    assert citation.status_event == detention
    assert citation.source.publisher == "A newspaper"
    assert citation.person is None
    # The citation's page shows its claim and offers no way to move it.
    page.goto(f"/admin/sources/citation/{citation.pk}/change/")
    expect(page.locator(".citation-claim")).to_contain_text("Kim Jeong-ho")
    expect(page.locator("#id_status_event")).to_have_count(0)
    expect(page.locator("#id_person")).to_have_count(0)
    assert not page.problems, page.problems


@browser_db
def test_a_researcher_cites_from_the_persons_page_without_editing_events(new_page):
    person, detention = two_cases_with_events()
    staff_user("researcher", "Researcher")
    page = new_page()
    sign_in(page, "researcher")
    page.goto("/admin/cases/person/")
    page.get_by_role("link", name=person.case_id).click()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)  # the person is read-only to them
    cite(page, person, "Detained", "Report on detention in Chongjin · An NGO · example.org")
    assert Citation.objects.get().status_event == detention
    screenshot(page, "staff-person-after-citing-1280")
    assert not page.problems, page.problems


@browser_db
def test_the_preview_shows_the_public_record_and_the_diff_and_publishes_it(new_page):
    person, _ = two_cases_with_events()
    for event in person.status_events.all():
        make_citation(make_source(title=f"Source for {event.get_status_display()}"), status_event=event)
    submit_for_review(person, by=staff_user("caseworker", "Caseworker"))
    staff_user("editor", "Editor")
    page = new_page()
    sign_in(page, "editor", next_url=f"/admin/cases/person/{person.pk}/change/")
    panel = page.locator('.workflow-panel[aria-labelledby="workflow-heading"]')
    expect(panel).to_contain_text("In review")
    expect(panel).to_contain_text("caseworker")
    panel.get_by_role("link", name="Preview and publish").click()
    expect(page).to_have_url(re.compile(rf"/staff/cases/{person.case_id}/preview/$"))
    changes = page.locator("table.changes")
    expect(changes).to_contain_text("Detained (2017)")
    expect(changes).to_contain_text("Source for Detained")
    expect(page.locator("article.case-page ol.timeline > li")).to_have_count(2)
    screenshot(page, "staff-publication-preview-1280")
    assert blocking_violations(page) == []
    page.get_by_role("button", name="Publish version 1").click()
    page.get_by_role("link", name="Read the public page").click()
    expect(page).to_have_url(re.compile(rf"/cases/{person.case_id}/$"))
    expect(page.locator("ol.timeline > li")).to_have_count(2)
    version = PublishedVersion.objects.get(person=person)
    assert [event["place"] for event in version.record["events"]] == ["Hoeryong", "Chongjin"]
    assert not page.problems, page.problems


@browser_db
def test_the_staff_pages_of_the_days_work_have_no_serious_or_critical_axe_violation(new_page):
    person, detention = two_cases_with_events()
    source = make_source(title="Cited report", publisher="UN")
    make_citation(source, status_event=detention)
    # An appeal followed up: a WGEID submission with a reply, to see its panels, forms and printable page.
    appeal = make_appeal(person, kind="communication", addressee="wgeid", sent="2017-03")
    reply = appeal.record_reply(by=None, received_on=None, says="No information on the person.", source=source)
    wgeid = make_appeal(person, kind="wgeid_standard", addressee="wgeid")
    staff_user("editor", "Editor")
    page = new_page()
    sign_in(page, "editor", next_url="/staff/")
    pages = {
        "staff-dashboard": "/staff/",
        "staff-admin-index": "/admin/",
        "staff-person-list": "/admin/cases/person/",
        "staff-person-search": "/admin/cases/person/?q=Kim+Jeong-ho",
        "staff-person-change": f"/admin/cases/person/{person.pk}/change/",
        "staff-person-add": "/admin/cases/person/add/",
        "staff-status-event-add": f"/admin/cases/statusevent/add/?person={person.pk}",
        "staff-status-event-change": f"/admin/cases/statusevent/{detention.pk}/change/",
        "staff-citation-add": f"/admin/sources/citation/add/?status_event={detention.pk}",
        "staff-citation-choose-claim": "/admin/sources/citation/add/",
        "staff-source-list": "/admin/sources/source/",
        "staff-source-change": f"/admin/sources/source/{source.pk}/change/",
        "staff-publication-preview": f"/staff/cases/{person.case_id}/preview/",
        "staff-person-history": f"/admin/cases/person/{person.pk}/history/",
        "staff-import": "/staff/import/",
        "staff-appeal-list": "/admin/advocacy/appeal/",
        "staff-appeal-add": f"/admin/advocacy/appeal/add/?persons={person.pk}",
        "staff-appeal-change": f"/admin/advocacy/appeal/{appeal.pk}/change/",
        "staff-appeal-wgeid-change": f"/admin/advocacy/appeal/{wgeid.pk}/change/",
        "staff-appeal-reply": f"/admin/advocacy/appeal/{appeal.pk}/reply/",
        "staff-appeal-reply-status": f"/admin/advocacy/appeal/{appeal.pk}/reply/{reply.pk}/status/",
        "staff-wgeid-submission": f"/staff/appeals/{wgeid.pk}/wgeid/{person.pk}/",
    }
    found, problems = {}, {}
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, url
        screenshot(page, f"{name}-1280")
        # What the page itself did wrong, before axe (whose own probes can trip the CSP) runs on it.
        problems[name] = list(page.problems)
        found[name] = blocking_violations(page)
        page.problems.clear()
    assert found == {name: [] for name in found}, found
    assert problems == {name: [] for name in problems}, problems
    assert Person.objects.count() == 2

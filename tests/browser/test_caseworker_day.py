"""The caseworker's day, through the real pages in a real browser, and the visitor who reads the result.

One story, in the order the people in it act: the caseworker signs in
(password, then two-factor enrolment), creates a person with a Hangul name
and two romanized spellings and records an arrest with a partial date; a
researcher uploads the source PDF and cites it with a locator; the
caseworker submits the case for review; an editor, not the submitter,
publishes it; a visitor finds it by another spelling and reads the timeline
with its numbered citation; the researcher restricts the source, and the
visitor's reload no longer shows it.
"""

import re

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cases.models import Person, PublicationState, Status
from cases.partial_dates import PartialDate
from sources.models import Citation, Source
from workflow.models import PublishedVersion

from .conftest import browser_db, choose_autocomplete, sign_in, staff_user

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SOURCE_TITLE = "Testimony of a former detainee from Hyesan"


def confirmed_device(username: str, role: str) -> None:
    user = staff_user(username, role)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@browser_db
def test_a_case_goes_from_the_caseworkers_desk_to_the_visitors_screen(new_page, settings, tmp_path):
    settings.STAFF_2FA_REQUIRED = True
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    staff_user("caseworker", "Caseworker")  # enrols in the browser, reading the key from the page
    confirmed_device("researcher", "Researcher")
    confirmed_device("editor", "Editor")

    # 1. The caseworker signs in: password, then enrolment in two-factor sign-in.
    caseworker = new_page()
    sign_in(caseworker, "caseworker")
    assert TOTPDevice.objects.get(user__username="caseworker").confirmed

    # 2. A new person: a Hangul name and two romanized spellings (the second row added with the inline's link).
    caseworker.locator("tr.model-person").get_by_role("link", name="Add").click()  # from the admin's index
    expect(caseworker).to_have_url(re.compile(r"/admin/cases/person/add/$"))
    expect(caseworker.locator("#id_name")).to_be_focused()  # the cursor starts in the name
    caseworker.locator("#id_name").fill("Pak Sun-hui")
    caseworker.locator("#id_family_name_native").fill("박")
    caseworker.locator("#id_given_name_native").fill("순희")
    caseworker.locator("#id_summary").fill("A teacher from Hyesan, arrested after her return from China.")
    caseworker.locator("#id_publication_basis").select_option("already_public")
    caseworker.locator("#id_variants-0-name").fill("Park Soon-hee")
    caseworker.locator("#id_variants-0-is_public").check()
    caseworker.get_by_role("button", name="Add another Name variant").click()
    caseworker.locator("#id_variants-1-name").fill("Pak Sun-hi")
    caseworker.locator("#id_variants-1-is_public").check()
    caseworker.get_by_role("button", name="Save and continue editing").click()
    expect(caseworker.locator(".messagelist")).to_contain_text("was added successfully")
    person = Person.objects.get()
    assert (person.name, person.name_native) == ("Pak Sun-hui", "박순희")
    assert sorted(person.variants.filter(is_public=True).values_list("name", flat=True)) == [
        "Pak Sun-hi",
        "Park Soon-hee",
    ]
    assert person.history.latest().history_user.username == "caseworker"

    # 3. The arrest, dated to the month only.
    caseworker.get_by_role("link", name="Record a status change").click()
    expect(caseworker).to_have_url(re.compile(rf"/admin/cases/statusevent/add/\?person={person.pk}$"))
    caseworker.locator("#id_status").select_option(Status.ARRESTED)
    caseworker.locator("#id_date").fill("2019-03")
    caseworker.locator("#id_place").fill("Hyesan")
    caseworker.locator("#id_description").fill("Arrested by the State Security Department at her home.")
    caseworker.locator("#id_confidence").select_option("likely")
    caseworker.locator("#id_is_public").check()
    caseworker.get_by_role("button", name="Save", exact=True).click()
    # Back on the person's page, with the new current status.
    expect(caseworker).to_have_url(re.compile(rf"/admin/cases/person/{person.pk}/change/$"))
    expect(caseworker.locator(".messagelist")).to_contain_text("was added successfully")
    expect(caseworker.locator(".field-current_status")).to_contain_text("Arrested")
    expect(caseworker.locator(".field-status_since")).to_contain_text("2019-03")
    person.refresh_from_db()
    event = person.status_events.get()
    assert (event.status, event.date, event.place) == (Status.ARRESTED, PartialDate.parse("2019-03"), "Hyesan")
    assert (person.current_status, person.status_since) == (Status.ARRESTED, PartialDate.parse("2019-03"))

    # 4. The researcher uploads the source PDF, public, and cites it for the arrest with a locator.
    researcher = new_page()
    sign_in(researcher, "researcher")
    researcher.goto("/admin/sources/source/add/")
    researcher.locator("#id_title").fill(SOURCE_TITLE)
    researcher.locator("#id_kind").select_option("testimony")
    researcher.locator("#id_publisher").fill("Interview by the documentation team")
    researcher.locator("#id_document").set_input_files(
        {"name": "testimony.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    researcher.locator("#id_is_restricted").uncheck()
    researcher.get_by_role("button", name="Save and continue editing").click()
    expect(researcher.locator(".messagelist")).to_contain_text("was added successfully")
    source = Source.objects.get()
    assert (source.is_restricted, source.content_type, source.file_size) == (False, "application/pdf", len(PDF))
    expect(researcher.locator(".field-download").get_by_role("link", name="testimony.pdf")).to_be_visible()

    # From the person's page, on the arrest itself: the citation page names that claim and no other.
    researcher.goto(f"/admin/cases/person/{person.pk}/change/")
    researcher.get_by_role("link", name="Cite a source for “Arrested”").click()
    expect(researcher.locator(".citation-claim")).to_contain_text("Arrested")
    expect(researcher.locator(".citation-claim")).to_contain_text("Pak Sun-hui")
    choose_autocomplete(researcher, "source", "Hyesan", SOURCE_TITLE)
    researcher.locator("#id_locator").fill("p. 4")
    researcher.locator("#id_excerpt").fill("They took her from her home in March 2019.")
    researcher.get_by_role("button", name="Save", exact=True).click()
    expect(researcher).to_have_url(re.compile(rf"/admin/cases/person/{person.pk}/change/$"))
    expect(researcher.locator(".messagelist")).to_contain_text("was added successfully")
    citation = Citation.objects.get()
    assert (citation.source, citation.status_event, citation.locator) == (source, event, "p. 4")

    # 5. The caseworker submits the case for review from its page.
    caseworker.goto(f"/admin/cases/person/{person.pk}/change/")
    expect(caseworker.locator("#workflow-heading")).to_contain_text("Draft")
    expect(caseworker.get_by_role("button", name="Publish")).to_have_count(0)  # not a caseworker's button
    caseworker.get_by_role("button", name="Submit for review").click()
    expect(caseworker.locator(".messagelist")).to_contain_text("Submit for review done")
    person.refresh_from_db()
    assert (person.publication_state, person.submitted_by.username) == (PublicationState.IN_REVIEW, "caseworker")

    # 6. An editor finds it on the dashboard and publishes it.
    editor = new_page()
    sign_in(editor, "editor", next_url="/staff/")
    waiting = editor.locator("section", has=editor.get_by_role("heading", name=re.compile("Waiting for review")))
    expect(waiting).to_contain_text("caseworker")
    waiting.get_by_role("link", name=re.compile("Pak Sun-hui")).click()
    editor.get_by_role("link", name="Preview and publish").click()
    # The public page as it will be, and what becomes public, before the click.
    expect(editor.locator(".preview-panel")).to_contain_text("nothing of this case is published yet")
    expect(editor.locator("article.case-page h1")).to_have_text("Pak Sun-hui")
    expect(editor.locator("article.case-page")).to_contain_text("They took her from her home in March 2019.")
    editor.get_by_role("button", name="Publish version 1").click()
    expect(editor.locator(".messagelist")).to_contain_text("Publish done")
    expect(editor.get_by_role("link", name="Read the public page")).to_have_attribute(
        "href", f"/cases/{person.case_id}/"
    )
    person.refresh_from_db()
    assert person.publication_state == PublicationState.PUBLISHED
    version = PublishedVersion.objects.get(person=person)
    assert version.is_current and version.number == 1

    # 7. A visitor searches by a spelling nobody typed (the generated Revised Romanization, without its hyphen).
    visitor = new_page()
    visitor.goto("/")
    visitor.get_by_label("Name, in any spelling").fill("Bak Sunhui")
    visitor.get_by_label("Name, in any spelling").press("Enter")
    expect(visitor).to_have_url(re.compile(r"/cases/\?q=Bak\+Sunhui$"))
    expect(visitor.locator("#results-heading")).to_have_text("1 case")
    visitor.get_by_role("link", name="Pak Sun-hui").click()
    expect(visitor).to_have_url(re.compile(rf"/cases/{person.case_id}/$"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Pak Sun-hui")
    expect(visitor.locator(".facts")).to_contain_text("박순희")
    expect(visitor.locator(".facts")).to_contain_text("Park Soon-hee")
    timeline = visitor.locator("ol.timeline > li")
    expect(timeline).to_have_count(1)
    expect(timeline).to_contain_text("March 2019")
    expect(timeline).to_contain_text("Arrested")
    expect(timeline).to_contain_text("Hyesan")
    expect(visitor.locator(".timeline-drawing")).to_be_visible()
    reference = timeline.get_by_role("link", name="Source 1")
    expect(reference).to_have_text("[1]")
    reference.click()
    expect(visitor).to_have_url(re.compile(r"#note-1$"))
    note = visitor.locator("#note-1")
    expect(note).to_contain_text(SOURCE_TITLE)
    expect(note).to_contain_text("p. 4")
    expect(note).to_contain_text("They took her from her home in March 2019.")
    assert "Arrested by the State Security" in visitor.content()
    assert not visitor.problems, visitor.problems

    # 8. The researcher restricts the source; the visitor reloads.
    researcher.goto(f"/admin/sources/source/{source.pk}/change/")
    expect(researcher.locator(".field-cited_by_published_cases")).to_contain_text(person.case_id)
    researcher.locator("#id_is_restricted").check()
    researcher.get_by_role("button", name="Save", exact=True).click()
    # Published cases cite it: a reason first.
    expect(researcher.locator(".field-restriction_reason .errorlist")).to_contain_text(person.case_id)
    researcher.get_by_label("Why restrict it?").fill("The witness asked us to keep the testimony confidential.")
    researcher.get_by_role("button", name="Save", exact=True).click()
    expect(researcher.locator(".messagelist")).to_contain_text("was changed successfully")
    source.refresh_from_db()
    assert source.is_restricted

    visitor.reload()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Pak Sun-hui")
    expect(visitor.locator("body")).not_to_contain_text(SOURCE_TITLE)
    expect(visitor.locator("body")).not_to_contain_text("p. 4")
    expect(visitor.locator("#note-1")).to_have_count(0)
    expect(visitor.locator("a.ref")).to_have_count(0)
    # The arrest rested on that source alone: it left the public record, which shows no unsourced fact.
    expect(visitor.locator("ol.timeline > li")).to_have_count(0)
    response = visitor.goto(f"/sources/{source.pk}/")
    assert response.status == 404
    version.refresh_from_db()
    assert version.record["sources"] == [] and version.record["citations"] == []

    # No page of the day broke a script, was refused a file by the CSP or failed a request.
    for page in (caseworker, researcher, editor, visitor):
        assert not page.problems, page.problems

"""The caseworker's day, through the real pages in a real browser, and the visitor who reads the result.

One story, in the order the people in it act: the caseworker signs in
(password, then two-factor enrolment), creates a person with a Hangul name
and two romanized spellings and records an arrest with a partial date; a
researcher uploads the source PDF and cites it with a locator; the
caseworker submits the case for review; an editor, not the submitter,
publishes it; a visitor finds it by another spelling and reads the timeline
with its numbered citation; the researcher restricts the source, and the
visitor's reload no longer shows it.

The same day runs again in Korean: the caseworker's browser asks for Korean
(Accept-Language), the researcher and the editor chose Korean for their
accounts (StaffPreferences) in English-speaking browsers, and the visitor
reads /ko/. Every button, link and message is found by its Korean words,
taken from the catalogue (locale/ko/LC_MESSAGES/django.po, and Django's own
for the admin's), and every staff page on the way says it is in Korean.
"""

import re

import pytest
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cases.models import Person, PublicationState, Status
from cases.partial_dates import PartialDate
from security.models import StaffPreferences
from sources.models import Citation, Source
from workflow.models import PublishedVersion

from .conftest import browser_db, choose_autocomplete, sign_in, staff_user

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SOURCE_TITLE = "Testimony of a former detainee from Hyesan"


# What the people of the day read and click, in Korean (English: the words themselves).
KOREAN = {
    "Add": "추가",
    "Add another Name variant": "이름 이표기 더 추가하기",
    "Save and continue editing": "저장 및 편집 계속",
    "Save": "저장",
    "was added successfully": "성공적으로 추가되었습니다",
    "was changed successfully": "성공적으로 변경되었습니다",
    "Record a status change": "상태 변경 기록",
    "Arrested": "체포",
    "Cite a source for “Arrested”": "“체포”에 출처 인용",
    "Draft": "초안",
    "Publish": "게시",
    "Submit for review": "검토 요청",
    "Submit for review done": "검토 요청 완료",
    "Waiting for review": "검토 대기",
    "Preview and publish": "미리보기 후 게시",
    "nothing of this case is published yet": "이 사례는 아직 아무것도 게시되지 않았습니다",
    "Publish version 1": "버전 1 게시",
    "Publish done": "게시 완료",
    "Read the public page": "공개 페이지 보기",
    "Why restrict it?": "비공개로 하는 이유",
    "Dashboard": "대시보드",
    "Name, in any spelling": "이름(어떤 표기든 가능)",
    "1 case": "사례 1건",
    "March 2019": "2019년 3월",
    "Source 1": "출처 1",
}
HANGUL = re.compile(r"[\uac00-\ud7af]")


def confirmed_device(username: str, role: str) -> None:
    user = staff_user(username, role)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def in_language(page, language: str) -> None:
    """The page says it is written in ``language``, and a Korean page's main heading is in Hangul."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    if language == "ko":
        expect(page.get_by_role("heading", level=1).first).to_have_text(HANGUL)


@browser_db
@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_case_goes_from_the_caseworkers_desk_to_the_visitors_screen(new_page, settings, tmp_path, language):
    def say(english: str) -> str:
        return english if language == "en" else KOREAN[english]

    prefix = "" if language == "en" else f"/{language}"
    # The caseworker's and the visitor's browsers ask for the language; the researcher and the
    # editor chose it for their accounts and use browsers that ask for English.
    browser_locale = "en-GB" if language == "en" else "ko-KR"
    # The case's heading: the romanization first, the Hangul beside it; on Korean pages, the other way round.
    heading = "Pak Sun-hui (박순희)" if language == "en" else "박순희 (Pak Sun-hui)"
    settings.STAFF_2FA_REQUIRED = True
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    staff_user("caseworker", "Caseworker")  # enrols in the browser, reading the key from the page
    confirmed_device("researcher", "Researcher")
    confirmed_device("editor", "Editor")
    if language != "en":
        for user in User.objects.filter(username__in=["researcher", "editor"]):
            StaffPreferences.objects.create(user=user, language=language)

    # 1. The caseworker signs in: password, then enrolment in two-factor sign-in.
    caseworker = new_page(locale=browser_locale)
    sign_in(caseworker, "caseworker", language=language)
    assert TOTPDevice.objects.get(user__username="caseworker").confirmed
    in_language(caseworker, language)

    # 2. A new person: a Hangul name and two romanized spellings (the second row added with the inline's link).
    caseworker.locator("tr.model-person").get_by_role("link", name=say("Add"), exact=True).click()  # admin's index
    expect(caseworker).to_have_url(re.compile(r"/admin/cases/person/add/$"))
    in_language(caseworker, language)
    expect(caseworker.locator("#id_name")).to_be_focused()  # the cursor starts in the name
    caseworker.locator("#id_name").fill("Pak Sun-hui")
    caseworker.locator("#id_family_name_native").fill("박")
    caseworker.locator("#id_given_name_native").fill("순희")
    caseworker.locator("#id_summary").fill("A teacher from Hyesan, arrested after her return from China.")
    caseworker.locator("#id_publication_basis").select_option("already_public")
    caseworker.locator("#id_variants-0-name").fill("Park Soon-hee")
    caseworker.locator("#id_variants-0-is_public").check()
    caseworker.get_by_role("button", name=say("Add another Name variant")).click()
    caseworker.locator("#id_variants-1-name").fill("Pak Sun-hi")
    caseworker.locator("#id_variants-1-is_public").check()
    caseworker.get_by_role("button", name=say("Save and continue editing")).click()
    expect(caseworker.locator(".messagelist")).to_contain_text(say("was added successfully"))
    person = Person.objects.get()
    assert (person.name, person.name_native) == ("Pak Sun-hui", "박순희")
    assert sorted(person.variants.filter(is_public=True).values_list("name", flat=True)) == [
        "Pak Sun-hi",
        "Park Soon-hee",
    ]
    assert person.history.latest().history_user.username == "caseworker"

    # 3. The arrest, dated to the month only.
    caseworker.get_by_role("link", name=say("Record a status change")).click()
    expect(caseworker).to_have_url(re.compile(rf"/admin/cases/statusevent/add/\?person={person.pk}$"))
    caseworker.locator("#id_status").select_option(Status.ARRESTED)
    caseworker.locator("#id_date").fill("2019-03")
    caseworker.locator("#id_place").fill("Hyesan")
    caseworker.locator("#id_description").fill("Arrested by the State Security Department at her home.")
    caseworker.locator("#id_confidence").select_option("likely")
    caseworker.locator("#id_is_public").check()
    caseworker.get_by_role("button", name=say("Save"), exact=True).click()
    # Back on the person's page, with the new current status.
    expect(caseworker).to_have_url(re.compile(rf"/admin/cases/person/{person.pk}/change/$"))
    expect(caseworker.locator(".messagelist")).to_contain_text(say("was added successfully"))
    expect(caseworker.locator(".field-current_status")).to_contain_text(say("Arrested"))
    expect(caseworker.locator(".field-status_since")).to_contain_text("2019-03")
    person.refresh_from_db()
    event = person.status_events.get()
    assert (event.status, event.date, event.place) == (Status.ARRESTED, PartialDate.parse("2019-03"), "Hyesan")
    assert (person.current_status, person.status_since) == (Status.ARRESTED, PartialDate.parse("2019-03"))

    # 4. The researcher uploads the source PDF, public, and cites it for the arrest with a locator.
    researcher = new_page()
    sign_in(researcher, "researcher", language=language, login_language="en")
    researcher.goto("/admin/sources/source/add/")
    in_language(researcher, language)
    researcher.locator("#id_title").fill(SOURCE_TITLE)
    researcher.locator("#id_kind").select_option("testimony")
    researcher.locator("#id_publisher").fill("Interview by the documentation team")
    researcher.locator("#id_document").set_input_files(
        {"name": "testimony.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    researcher.locator("#id_is_restricted").uncheck()
    researcher.get_by_role("button", name=say("Save and continue editing")).click()
    expect(researcher.locator(".messagelist")).to_contain_text(say("was added successfully"))
    source = Source.objects.get()
    assert (source.is_restricted, source.content_type, source.file_size) == (False, "application/pdf", len(PDF))
    expect(researcher.locator(".field-download").get_by_role("link", name="testimony.pdf")).to_be_visible()

    # From the person's page, on the arrest itself: the citation page names that claim and no other.
    researcher.goto(f"/admin/cases/person/{person.pk}/change/")
    researcher.get_by_role("link", name=say("Cite a source for “Arrested”")).click()
    in_language(researcher, language)
    expect(researcher.locator(".citation-claim")).to_contain_text(say("Arrested"))
    expect(researcher.locator(".citation-claim")).to_contain_text("Pak Sun-hui")
    choose_autocomplete(researcher, "source", "Hyesan", SOURCE_TITLE)
    researcher.locator("#id_locator").fill("p. 4")
    researcher.locator("#id_excerpt").fill("They took her from her home in March 2019.")
    researcher.get_by_role("button", name=say("Save"), exact=True).click()
    expect(researcher).to_have_url(re.compile(rf"/admin/cases/person/{person.pk}/change/$"))
    expect(researcher.locator(".messagelist")).to_contain_text(say("was added successfully"))
    citation = Citation.objects.get()
    assert (citation.source, citation.status_event, citation.locator) == (source, event, "p. 4")

    # 5. The caseworker submits the case for review from its page.
    caseworker.goto(f"/admin/cases/person/{person.pk}/change/")
    in_language(caseworker, language)
    expect(caseworker.locator("#workflow-heading")).to_contain_text(say("Draft"))
    expect(caseworker.get_by_role("button", name=say("Publish"), exact=True)).to_have_count(0)  # not a caseworker's
    caseworker.get_by_role("button", name=say("Submit for review")).click()
    expect(caseworker.locator(".messagelist")).to_contain_text(say("Submit for review done"))
    person.refresh_from_db()
    assert (person.publication_state, person.submitted_by.username) == (PublicationState.IN_REVIEW, "caseworker")

    # 6. An editor finds it on the dashboard and publishes it.
    editor = new_page()
    sign_in(editor, "editor", next_url="/staff/", language=language, login_language="en")
    in_language(editor, language)
    expect(editor.get_by_role("heading", level=1)).to_have_text(say("Dashboard"))
    waiting = editor.locator("section", has=editor.get_by_role("heading", name=re.compile(say("Waiting for review"))))
    expect(waiting).to_contain_text("caseworker")
    waiting.get_by_role("link", name=re.compile("Pak Sun-hui")).click()
    in_language(editor, language)
    editor.get_by_role("link", name=say("Preview and publish")).click()
    in_language(editor, language)
    # The public page as it will be, and what becomes public, before the click.
    expect(editor.locator(".preview-panel")).to_contain_text(say("nothing of this case is published yet"))
    expect(editor.locator("article.case-page h1")).to_have_text(heading)
    expect(editor.locator("article.case-page")).to_contain_text("They took her from her home in March 2019.")
    editor.get_by_role("button", name=say("Publish version 1")).click()
    expect(editor.locator(".messagelist")).to_contain_text(say("Publish done"))
    expect(editor.get_by_role("link", name=say("Read the public page"))).to_have_attribute(
        "href", f"{prefix}/cases/{person.case_id}/"
    )
    person.refresh_from_db()
    assert person.publication_state == PublicationState.PUBLISHED
    version = PublishedVersion.objects.get(person=person)
    assert version.is_current and version.number == 1

    # 7. A visitor searches by a spelling nobody typed (the generated Revised Romanization, without its hyphen).
    visitor = new_page(locale=browser_locale)
    visitor.goto(f"{prefix}/")
    in_language(visitor, language)
    visitor.get_by_label(say("Name, in any spelling")).fill("Bak Sunhui")
    visitor.get_by_label(say("Name, in any spelling")).press("Enter")
    expect(visitor).to_have_url(re.compile(rf"{prefix}/cases/\?q=Bak\+Sunhui$"))
    expect(visitor.locator("#results-heading")).to_have_text(say("1 case"))
    visitor.get_by_role("link", name=re.compile("Pak Sun-hui")).click()
    expect(visitor).to_have_url(re.compile(rf"://[^/]+{prefix}/cases/{person.case_id}/$"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(heading)
    in_language(visitor, language)
    expect(visitor.locator(".facts")).to_contain_text("박순희")
    expect(visitor.locator(".facts")).to_contain_text("Park Soon-hee")
    timeline = visitor.locator("ol.timeline > li")
    expect(timeline).to_have_count(1)
    expect(timeline).to_contain_text(say("March 2019"))
    expect(timeline).to_contain_text(say("Arrested"))
    expect(timeline).to_contain_text("Hyesan")
    expect(visitor.locator(".timeline-drawing")).to_be_visible()
    reference = timeline.get_by_role("link", name=say("Source 1"))
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
    researcher.get_by_role("button", name=say("Save"), exact=True).click()
    # Published cases cite it: a reason first.
    expect(researcher.locator(".field-restriction_reason .errorlist")).to_contain_text(person.case_id)
    researcher.get_by_label(say("Why restrict it?")).fill("The witness asked us to keep the testimony confidential.")
    researcher.get_by_role("button", name=say("Save"), exact=True).click()
    expect(researcher.locator(".messagelist")).to_contain_text(say("was changed successfully"))
    source.refresh_from_db()
    assert source.is_restricted

    visitor.reload()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(heading)
    expect(visitor.locator("body")).not_to_contain_text(SOURCE_TITLE)
    expect(visitor.locator("body")).not_to_contain_text("p. 4")
    expect(visitor.locator("#note-1")).to_have_count(0)
    expect(visitor.locator("a.ref")).to_have_count(0)
    # The arrest rested on that source alone: it left the public record, which shows no unsourced fact.
    expect(visitor.locator("ol.timeline > li")).to_have_count(0)
    response = visitor.goto(f"{prefix}/sources/{source.pk}/")
    assert response.status == 404
    version.refresh_from_db()
    assert version.record["sources"] == [] and version.record["citations"] == []

    # No page of the day broke a script, was refused a file by the CSP or failed a request.
    for page in (caseworker, researcher, editor, visitor):
        assert not page.problems, page.problems

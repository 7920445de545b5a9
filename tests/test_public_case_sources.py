"""A case page's sources: each source listed once however often the case cites it, with every place cited, the
references [n] in the text leading to it; and "How to cite this page" with the day it was read."""

import datetime
import html
import re

import pytest
from django.utils import timezone

from cases.models import Status

from .factories import make_citation, make_event, make_person, make_source, publish_case

pytestmark = pytest.mark.django_db


def sources_list(text: str) -> list[tuple[str, str]]:
    """(id, text) of each item of the page's list of sources."""
    section = text.split('<ol class="notes">')[1].split("</ol>")[0]
    return [
        (number, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()))
        for number, item in re.findall(r'<li id="(note-\d+)">(.*?)</li>', section, re.S)
    ]


def references(fragment: str) -> list[tuple[str, str]]:
    """(target, accessible name) of each reference [n] in ``fragment``."""
    return [
        (target, html.unescape(label))
        for target, label in re.findall(r'<a href="#(note-\d+)" class="ref" aria-label="([^"]*)">', fragment)
    ]


def timeline(text: str) -> list[str]:
    section = text.split('<ol class="timeline">')[1].split("</ol>")[0]
    return re.findall(r"<li>(.*?)</li>", section, re.S)


@pytest.fixture
def case_citing_a_report_twice():
    person = make_person(name="Pak Sun-hui", summary="A teacher from Hyesan.")
    report = make_source(title="Report of the commission of inquiry", publisher="United Nations")
    testimony = make_source(title="Interview with a former cellmate", publisher="Documentation team")
    make_citation(report, person=person, locator="para. 354", excerpt="She was returned in 2019.")
    arrested = make_event(person, Status.ARRESTED, "2019-03", is_public=True)
    make_citation(testimony, status_event=arrested, locator="00:14:10")
    make_citation(report, status_event=arrested, locator="p. 12", excerpt="Arrested at her home.")
    sentenced = make_event(person, Status.SENTENCED, "2019-11", is_public=True)
    make_citation(report, status_event=sentenced, locator="p. 12")
    make_citation(report, status_event=sentenced, locator="p. 13")
    return publish_case(person)


def test_a_source_cited_several_times_is_listed_once_with_each_place(client, case_citing_a_report_twice):
    text = client.get(f"/cases/{case_citing_a_report_twice.case_id}/").content.decode()
    listed = sources_list(text)
    assert [number for number, _ in listed] == ["note-1", "note-2"]
    report, testimony = listed[0][1], listed[1][1]
    assert report.startswith("Report of the commission of inquiry , United Nations , para. 354; p. 12; p. 13 .")
    assert testimony.startswith("Interview with a former cellmate , Documentation team , 00:14:10 .")
    # Each quote is shown once, with the place it is from (the source is cited in several).
    assert "She was returned in 2019. para. 354" in report
    assert "Arrested at her home. p. 12" in report


def test_the_references_in_the_text_lead_to_the_source_with_the_places_each_claim_cites(
    client, case_citing_a_report_twice
):
    text = client.get(f"/cases/{case_citing_a_report_twice.case_id}/").content.decode()
    summary = text.split('id="summary-heading"')[1].split("</section>")[0]
    assert references(summary) == [("note-1", "Source 1, para. 354")]
    arrested, sentenced = timeline(text)
    assert references(arrested) == [("note-2", "Source 2, 00:14:10"), ("note-1", "Source 1, p. 12")]
    # One claim citing one source at two places: one reference, both places.
    assert references(sentenced) == [("note-1", "Source 1, p. 12; p. 13")]


def test_a_source_cited_once_reads_as_before(client):
    person = make_person(name="Kim Single")
    event = make_event(person, Status.DETAINED, "2015", is_public=True)
    make_citation(make_source(title="A single report"), status_event=event, locator="p. 4", excerpt="Held.")
    publish_case(person)
    text = client.get(f"/cases/{person.case_id}/").content.decode()
    assert sources_list(text) == [("note-1", "A single report , p. 4 . Held.")]
    assert "<figcaption" not in text
    assert references(timeline(text)[0]) == [("note-1", "Source 1, p. 4")]


def test_a_citation_without_a_place_gives_a_plain_reference(client):
    person = make_person(name="Kim Nowhere")
    event = make_event(person, Status.DETAINED, "2015", is_public=True)
    make_citation(make_source(title="A whole book"), status_event=event)
    publish_case(person)
    text = client.get(f"/cases/{person.case_id}/").content.decode()
    assert references(timeline(text)[0]) == [("note-1", "Source 1")]


# --- How to cite ------------------------------------------------------------------------------------------


def cite_block(text: str) -> str:
    return html.unescape(re.search(r'<p class="cite-as">(.*?)</p>', text, re.S).group(1))


def test_how_to_cite_gives_the_day_the_page_was_read(client, case_citing_a_report_twice):
    case_id = case_citing_a_report_twice.case_id
    today = timezone.localdate()
    published = case_citing_a_report_twice.published_versions.get().published_at
    cite = cite_block(client.get(f"/cases/{case_id}/").content.decode())
    assert cite == (
        f"Whereabouts, case {case_id}: Pak Sun-hui, version 1, published {published.day} "
        f"{published:%B %Y}. http://testserver/cases/{case_id}/versions/1/ "
        f"(accessed {today.day} {today:%B %Y})"
    )


@pytest.mark.parametrize(
    ("prefix", "written"), [("ko", "{year}년 {month}월 {day}일"), ("ja", "{year}年{month}月{day}日")]
)
def test_the_accessed_day_is_written_the_way_the_page_language_writes_dates(
    client, case_citing_a_report_twice, prefix, written
):
    today = timezone.localdate()
    cite = cite_block(client.get(f"/{prefix}/cases/{case_citing_a_report_twice.case_id}/").content.decode())
    assert written.format(year=today.year, month=today.month, day=today.day) in cite


def test_the_next_day_the_page_gives_the_new_day_though_the_data_did_not_change(
    client, case_citing_a_report_twice, monkeypatch
):
    url = f"/cases/{case_citing_a_report_twice.case_id}/"
    today = timezone.localdate()
    assert f"(accessed {today.day} {today:%B %Y})" in cite_block(client.get(url).content.decode())
    tomorrow = today + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    assert f"(accessed {tomorrow.day} {tomorrow:%B %Y})" in cite_block(client.get(url).content.decode())

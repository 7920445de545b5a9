"""Appeals on the public site: a line per public appeal, through a publication only, taken off at once.

An appeal reaches the public as a sentence built from its published line
(``workflow.snapshots.appeal_line``: vocabulary and dates), on the case page
in every language, in the JSON, as a number in the CSV and in the home page's
count; never before an editor publishes the case, and never after it stops
being public.
"""

import csv
import io
import json
import re

import pytest
from django.test import Client

from advocacy.models import AppealOutcome, AppealState
from cases.history import save_with_history
from cases.models import PublicationBasis, Status
from cases.partial_dates import PartialDate
from public.presenters import appeal_sentence
from public.views import appeals_count_text
from workflow.models import PublishedVersion
from workflow.services import WorkflowError, publish, submit_for_review, withdraw

from .factories import (
    make_appeal,
    make_citation,
    make_event,
    make_person,
    make_source,
    make_staff,
    publish_case,
    signed_in,
)
from .test_public_languages import SCRIPT, untranslated
from .test_query_budgets import CASE_PAGE_BUDGET

pytestmark = pytest.mark.django_db

WGEID_LINE = (
    "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
    "— government reply: none"
)


def make_case(name: str = "Park Yong-su", **fields):
    """A publishable case whose arrest (March 2015, Onsong) a WGEID submission can date and place."""
    fields.setdefault("publication_basis", PublicationBasis.ALREADY_PUBLIC)
    person = make_person(name=name, **fields)
    event = make_event(person, Status.ARRESTED, "2015-03", is_public=True, place="Onsong")
    make_citation(make_source(title="Annual report"), status_event=event, locator="p. 4")
    return person


def make_wgeid_appeal(*persons, sent: str | None = "2016-03", **fields):
    """A WGEID submission for ``persons``, with every element the Working Group asks for, public unless said."""
    fields.setdefault("is_public", True)
    return make_appeal(
        *persons,
        kind="wgeid_standard",
        addressee="wgeid",
        forces_responsible="Ministry of State Security",
        steps_by_family="Letters to the authorities",
        family_consent_by="The brother",
        sent=sent,
        **fields,
    )


def appeals_section(html: str) -> str:
    found = re.search(r'<section aria-labelledby="appeals-heading">.*?</section>', html, re.S)
    return found.group(0) if found else ""


def lines_on(client, url: str) -> list[str]:
    """The appeal sentences of a case page, as a reader reads them."""
    section = appeals_section(client.get(url).content.decode())
    return [re.sub(r"\s+", " ", line).strip() for line in re.findall(r"<li>(.*?)</li>", section, re.S)]


def line(**fields) -> dict:
    """A published appeal line (workflow.snapshots.appeal_line) with defaults: a sent WGEID submission."""
    defaults = {
        "id": 1,
        "kind": "wgeid_standard",
        "addressee": "wgeid",
        "country": "",
        "sent_on": "2016-03",
        "state": "sent",
        "outcome": "",
        "closed_on": None,
        "replies": [],
    }
    return {**defaults, **fields}


# --- The sentence -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, WGEID_LINE),
        (
            {"kind": "briefing_recommendation", "addressee": "government", "country": "KP", "sent_on": None},
            "Recommendation in a briefing to the government of North Korea, date unknown — reply: none",
        ),
        (
            {"kind": "letter", "addressee": "government", "country": "GB", "sent_on": "2016-09-01"},
            "Letter to the government of the United Kingdom, 1 September 2016 — reply: none",
        ),
        (
            {"state": "replied", "replies": [{"id": 1, "received_on": "2016-09-12"}]},
            "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
            "— replied on 12 September 2016",
        ),
        (
            {"state": "replied", "replies": [{"id": 1, "received_on": "2016-09-12"}, {"id": 2, "received_on": None}]},
            "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
            "— replied on 12 September 2016",
        ),
        (
            {"state": "replied", "replies": [{"id": 1, "received_on": None}]},
            "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
            "— replied (date unknown)",
        ),
        (
            {"state": "transmitted"},
            "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
            "— transmitted to the government; government reply: none",
        ),
        (
            {
                "state": "closed",
                "outcome": "clarified",
                "closed_on": "2018",
                "replies": [{"id": 1, "received_on": "2017-02"}],
            },
            "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
            "— replied on February 2017; closed: clarified (2018)",
        ),
        (
            {"kind": "urgent_appeal", "addressee": "sr_torture", "state": "closed", "outcome": "no_reply"},
            "Urgent appeal to the UN Special Rapporteur on torture, March 2016 — closed without a reply (date unknown)",
        ),
        (
            {"kind": "meeting", "addressee": "embassy", "country": "CN", "sent_on": "2019~"},
            "Raised in a meeting with the embassy of China, c. 2019 — reply: none",
        ),
    ],
)
def test_each_public_line_reads_as_one_sentence(fields, expected):
    assert appeal_sentence(line(**fields)) == expected


# --- Only through a publication -----------------------------------------------------------------------------------


def test_the_line_appears_only_after_an_editor_publishes_the_case(client):
    person = publish_case(make_case())
    appeal = make_wgeid_appeal(person)
    # Marked public and sent, but the case is not published again: the public page does not change.
    assert appeal.is_public_line
    assert lines_on(client, f"/cases/{person.case_id}/") == []
    assert "appeals-heading" not in client.get(f"/cases/{person.case_id}/").content.decode()
    assert json.loads(client.get(f"/api/cases/{person.case_id}/").content)["appeals"] == []
    publish_case(person)
    assert lines_on(client, f"/cases/{person.case_id}/") == [WGEID_LINE]
    assert lines_on(client, f"/cases/{person.case_id}/versions/2/") == [WGEID_LINE]
    # The first version keeps its own record, which had no appeal.
    assert lines_on(client, f"/cases/{person.case_id}/versions/1/") == []


def test_an_appeal_not_marked_public_or_still_drafted_never_reaches_the_public(client):
    person = make_case()
    make_wgeid_appeal(person, is_public=False)
    make_wgeid_appeal(person, sent=None)  # drafted, though marked public
    publish_case(person)
    html = client.get(f"/cases/{person.case_id}/").content.decode()
    assert "appeals-heading" not in html
    assert json.loads(client.get(f"/api/cases/{person.case_id}/").content)["appeals"] == []


def test_the_json_carries_the_published_lines_and_nothing_else_of_an_appeal(client):
    person = make_case()
    appeal = make_wgeid_appeal(person, request="Secret request", our_reference="OURS-1", their_reference="G/SO 217")
    appeal.record_reply(by=None, received_on=PartialDate.parse("2016-09-12"), says="Secret reply", from_whom="DPRK")
    publish_case(person)
    reply = appeal.replies.get()
    data = json.loads(client.get(f"/api/cases/{person.case_id}/").content)
    assert data["appeals"] == [
        {
            "id": appeal.pk,
            "kind": "wgeid_standard",
            "addressee": "wgeid",
            "country": "",
            "sent_on": "2016-03",
            "state": "replied",
            "outcome": "",
            "closed_on": None,
            "replies": [{"id": reply.pk, "received_on": "2016-09-12"}],
        }
    ]
    listed = json.loads(client.get("/api/cases/").content)["results"]
    assert listed[0]["appeals"] == data["appeals"]


def test_the_csv_counts_each_cases_public_appeals_in_its_column(client):
    with_appeals, without = make_case(), make_case(name="Kim Min-su")
    make_wgeid_appeal(with_appeals)
    make_appeal(with_appeals, sent="2017", is_public=True)
    make_appeal(with_appeals, sent="2017", is_public=False)
    publish_case(with_appeals)
    publish_case(without)
    body = b"".join(client.get("/export/cases.csv").streaming_content).decode().removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    counts = {row["case_id"]: row["appeals"] for row in rows}
    assert counts == {with_appeals.case_id: "2", without.case_id: "0"}


def test_a_version_published_before_appeals_shows_none_and_still_reads(client):
    person = publish_case(make_case())
    version = PublishedVersion.objects.get(person=person)
    del version.record["appeals"]
    version.save()
    assert client.get(f"/cases/{person.case_id}/").status_code == 200
    assert lines_on(client, f"/cases/{person.case_id}/") == []
    assert "appeals" not in json.loads(client.get(f"/api/cases/{person.case_id}/").content)
    body = b"".join(client.get("/export/cases.csv").streaming_content).decode().removeprefix("\ufeff")
    assert [row["appeals"] for row in csv.DictReader(io.StringIO(body))] == ["0"]
    # A redaction for another reason leaves such a version as it was: it never gains an "appeals" key.
    history = version.history.count()
    make_appeal(person, sent="2017", is_public=True).withdraw(by=None, reason="recorded in error")
    version.refresh_from_db()
    assert "appeals" not in version.record
    assert version.history.count() == history


# --- Taken off at once (redaction), without a new publication -------------------------------------------------------


def _make_non_public(appeal, person):
    appeal.is_public = False
    save_with_history(appeal, by=None, reason="not to be public")


def _withdraw(appeal, person):
    appeal.withdraw(by=None, reason="recorded in error")


def _take_the_person_off(appeal, person):
    appeal.persons.remove(person)


@pytest.mark.parametrize("change", [_make_non_public, _withdraw, _take_the_person_off])
def test_an_appeal_that_stops_being_public_leaves_every_published_version_at_once(client, change):
    person = make_case()
    appeal = make_wgeid_appeal(person)
    publish_case(person)
    publish_case(person)  # two versions, both with the line
    for url in (f"/cases/{person.case_id}/", f"/cases/{person.case_id}/versions/1/", "/"):
        client.get(url)  # rendered, and kept in the page cache
    assert lines_on(client, f"/cases/{person.case_id}/") == [WGEID_LINE]

    change(appeal, person)

    for url in (f"/cases/{person.case_id}/", f"/cases/{person.case_id}/versions/1/"):
        assert lines_on(client, url) == [], url
    assert json.loads(client.get(f"/api/cases/{person.case_id}/").content)["appeals"] == []
    assert "appeal-count" not in client.get("/").content.decode()
    assert person.published_versions.count() == 2  # nothing was published
    assert all(version.record["appeals"] == [] for version in person.published_versions.all())
    assert not PublishedVersion.objects.get(person=person, is_current=True).appeals.exists()


def test_a_withdrawn_reply_leaves_the_line_at_once_and_the_appeal_stays(client):
    person = make_case()
    appeal = make_wgeid_appeal(person)
    reply = appeal.record_reply(by=None, received_on=PartialDate.parse("2016-09-12"), says="No information")
    publish_case(person)
    assert lines_on(client, f"/cases/{person.case_id}/") == [
        WGEID_LINE.replace("government reply: none", "replied on 12 September 2016")
    ]
    reply.withdraw(by=None, reason="recorded in error")
    assert lines_on(client, f"/cases/{person.case_id}/") == [WGEID_LINE]
    assert person.published_versions.count() == 1


def test_taking_one_person_off_an_appeal_leaves_it_on_the_others_page(client):
    first, second = make_case(), make_case(name="Kim Min-su")
    appeal = make_appeal(first, second, kind="letter", sent="2017-05", is_public=True)
    publish_case(first)
    publish_case(second)
    appeal.persons.remove(first)
    assert lines_on(client, f"/cases/{first.case_id}/") == []
    assert lines_on(client, f"/cases/{second.case_id}/") == [
        "Letter to the government of North Korea, May 2017 — reply: none"
    ]


# --- Four eyes ----------------------------------------------------------------------------------------------------


def test_an_editor_who_made_an_appeal_public_after_submission_may_not_publish_it_another_editor_may(client):
    person = make_case()
    appeal = make_wgeid_appeal(person, is_public=False)
    publish_case(person)
    submit_for_review(person, by=make_staff("Caseworker", "submitter"))
    editor_a, editor_b = make_staff("Editor", "editor-a"), make_staff("Editor", "editor-b")
    appeal.is_public = True
    save_with_history(appeal, by=editor_a, reason="the family agrees that the submission be known")

    with pytest.raises(WorkflowError) as refused:
        publish(person, by=editor_a)
    assert "four eyes" in str(refused.value)
    preview = signed_in(editor_a).get(f"/staff/cases/{person.case_id}/preview/").content.decode()
    assert "another editor must review your changes" in preview
    assert "publish-form" not in preview
    # The preview shows the line as publishing would make it, and the public page still does not.
    assert WGEID_LINE in re.sub(r"\s+", " ", appeals_section(preview))
    assert lines_on(client, f"/cases/{person.case_id}/") == []

    publish(person, by=editor_b)
    assert lines_on(client, f"/cases/{person.case_id}/") == [WGEID_LINE]


# --- The home page's count ----------------------------------------------------------------------------------------


def test_the_home_page_counts_public_appeals_and_the_cases_they_concern(client):
    assert "appeal-count" not in client.get("/").content.decode()
    first, second, gone = make_case(), make_case(name="Kim Min-su"), make_case(name="Ri Chol")
    make_wgeid_appeal(first)
    make_appeal(first, second, kind="letter", sent="2017", is_public=True)  # one appeal, two cases
    make_appeal(second, sent="2018", is_public=False)
    make_wgeid_appeal(second, sent=None)  # drafted
    make_appeal(gone, sent="2018", is_public=True)
    for person in (first, second, gone):
        publish_case(person)
    withdraw(gone, by=None, reason="the family asked")
    make_appeal(first, sent="2019", is_public=True)  # not published yet

    html = client.get("/").content.decode()
    assert '<p class="appeal-count">2 appeals to the UN and governments, for 2 cases</p>' in html
    assert appeals_count_text(1, 1) == "1 appeal to the UN and governments, for 1 case"
    assert appeals_count_text(0, 0) == ""


def test_the_home_page_count_follows_a_redaction_at_once(client):
    person = make_case()
    appeal = make_wgeid_appeal(person)
    publish_case(person)
    assert "1 appeal to the UN and governments, for 1 case" in client.get("/").content.decode()
    appeal.withdraw(by=None, reason="recorded in error")
    assert "appeal-count" not in client.get("/").content.decode()


# --- Cost -----------------------------------------------------------------------------------------------------------


def test_the_case_page_runs_as_many_queries_with_twenty_appeals_as_with_none(django_assert_max_num_queries):
    without, many = make_case(), make_case(name="Kim Min-su")
    for year in range(1995, 2015):
        appeal = make_appeal(many, kind="letter", sent=str(year), is_public=True)
        appeal.record_reply(by=None, received_on=PartialDate(year + 1), says="No information")
    publish_case(without)
    publish_case(many)
    counts = []
    for person in (without, many):
        for url in (f"/cases/{person.case_id}/", f"/cases/{person.case_id}/versions/1/"):
            client = Client()
            with django_assert_max_num_queries(CASE_PAGE_BUDGET) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
    assert counts[:2] == counts[2:]
    assert len(lines_on(Client(), f"/cases/{many.case_id}/")) == 20


# --- In Korean and Japanese -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "country", "date"),
    [("ko", "영국", "2016년 9월 1일"), ("ja", "イギリス", "2016年9月1日")],
)
def test_the_line_is_written_in_the_pages_language(client, language, country, date):
    person = make_case()
    appeal = make_appeal(person, kind="letter", country="GB", sent="2016-09-01", is_public=True)
    appeal.record_reply(by=None, received_on=PartialDate.parse("2016-10"), says="No information")
    appeal.advance(AppealState.CLOSED, by=None, on=PartialDate(2018), outcome=AppealOutcome.DISCONTINUED)
    make_wgeid_appeal(person)
    publish_case(person)
    html = client.get(f"/{language}/cases/{person.case_id}/").content.decode()
    section = appeals_section(html)
    assert section.count("<li>") == 2
    assert country in section
    assert date in section
    assert SCRIPT[language].search(section)
    assert not untranslated(f'<html lang="{language}"><body>{section}</body></html>', language), section

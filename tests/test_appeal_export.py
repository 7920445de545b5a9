"""Exporting appeals: the staff spreadsheet at /staff/appeals/appeals.csv, and the appeals in export_cases' JSON."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse

from advocacy.models import Appeal, AppealReply, AppealState
from cases.models import Status
from cases.partial_dates import PartialDate
from workflow.models import PublishedVersion

from .factories import (
    make_appeal,
    make_citation,
    make_event,
    make_person,
    make_publishable_case,
    make_source,
    make_staff,
    publish_case,
    signed_in,
)

pytestmark = pytest.mark.django_db

URL = "/staff/appeals/appeals.csv"
HEADER = [
    "Appeal ID",
    "Our reference",
    "Their reference",
    "Kind",
    "Addressed to",
    "Country",
    "Addressee's name",
    "Persons (case IDs)",
    "State",
    "Outcome",
    "Sent on",
    "Acknowledged on",
    "Transmitted to the government on",
    "Closed on",
    "Number of replies",
    "Latest reply received on",
    "Next action",
    "Next action due",
    "Public",
    "Withdrawn",
]
# What only staff may read of an appeal and its replies.
RESTRICTED = {
    "request": "Release him: RESTRICTED-REQUEST",
    "addressee_name": "RESTRICTED-OFFICE",
    "our_reference": "RESTRICTED-OURS",
    "their_reference": "RESTRICTED-THEIRS",
    "internal_notes": "RESTRICTED-NOTE",
    "forces_responsible": "RESTRICTED-FORCES",
    "steps_by_family": "RESTRICTED-FAMILY-STEPS",
    "family_consent_by": "RESTRICTED-CONSENT",
    "next_action": "RESTRICTED-NEXT-ACTION",
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def body(response) -> str:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return text[1:]


def table(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response), newline="")))


def replied_appeal(*persons, source=None, **fields) -> Appeal:
    """An appeal sent in March 2016, acknowledged, transmitted and answered twice (one reply withdrawn)."""
    appeal = make_appeal(*persons, sent="2016-03", addressee="wgad", kind="communication", **fields)
    appeal.advance(AppealState.ACKNOWLEDGED, by=None, on=PartialDate.parse("2016-04-02"), reason="test data")
    appeal.advance(AppealState.TRANSMITTED, by=None, on=PartialDate.parse("2016-05"), reason="test data")
    appeal.record_reply(
        by=None, received_on=PartialDate.parse("2016-09-01"), says="He is alive.", from_whom="A ministry", source=source
    )
    appeal.record_reply(by=None, received_on=PartialDate.parse("2017-02~"), says="Recorded twice.").withdraw(
        by=None, reason="a copy of the first"
    )
    appeal.refresh_from_db()
    return appeal


# The spreadsheet


def test_a_researcher_downloads_every_appeal_with_codes_and_iso_dates(researcher):
    first = make_person(name="Choi Chun-gil")
    second = make_person(name="Kim Kook-ki")
    appeal = replied_appeal(
        second,
        first,
        our_reference="ORG-12",
        their_reference="WGAD 2016/7",
        next_action="Ask for the follow-up",
        next_action_due=datetime.date(2030, 1, 31),
        is_public=True,
    )
    letter = make_appeal(first, sent="2019", addressee="embassy", country="CN", addressee_name="Consular section")
    letter.withdraw(by=None, reason="never sent, in truth")
    drafted = make_appeal(second)

    response = signed_in(researcher).get(URL)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="whereabouts-appeals.csv"'
    assert "no-store" in response["Cache-Control"]
    header, *rows = table(response)
    assert header == HEADER
    assert [row[0] for row in rows] == [str(appeal.pk), str(letter.pk), str(drafted.pk)]
    assert dict(zip(header, rows[0], strict=True)) == {
        "Appeal ID": str(appeal.pk),
        "Our reference": "ORG-12",
        "Their reference": "WGAD 2016/7",
        "Kind": "communication",
        "Addressed to": "wgad",
        "Country": "",
        "Addressee's name": "",
        "Persons (case IDs)": f"{first.case_id}; {second.case_id}",
        "State": "replied",
        "Outcome": "",
        "Sent on": "2016-03",
        "Acknowledged on": "2016-04-02",
        "Transmitted to the government on": "2016-05",
        "Closed on": "",
        "Number of replies": "1",  # the withdrawn one is not a reply
        "Latest reply received on": "2016-09-01",
        "Next action": "Ask for the follow-up",
        "Next action due": "2030-01-31",
        "Public": "true",
        "Withdrawn": "false",
    }
    assert rows[1][header.index("Addressed to")] == "embassy"
    assert rows[1][header.index("Country")] == "CN"
    assert rows[1][header.index("Addressee's name")] == "Consular section"
    assert rows[1][header.index("Sent on")] == "2019"
    assert rows[1][header.index("Withdrawn")] == "true"
    assert rows[2][header.index("State")] == "drafted"
    assert rows[2][header.index("Number of replies")] == "0"
    assert len(rows) == Appeal.objects.count() == 3
    assert AppealReply.objects.filter(appeal=appeal).count() == 2


def test_in_korean_the_header_is_translated_and_the_values_are_not(caseworker_client):
    replied_appeal(make_person(), is_public=True)
    english = table(caseworker_client.get(URL, HTTP_ACCEPT_LANGUAGE="en"))
    korean = table(caseworker_client.get(URL, HTTP_ACCEPT_LANGUAGE="ko"))
    assert english[0] == HEADER
    assert korean[0][HEADER.index("Kind")] == "유형"
    assert korean[1:] == english[1:]


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://evil.example","x")', "+1", "-1", "@SUM(A1)", "\tTAB", "'=already quoted"]
)
def test_formula_looking_cells_are_neutralised(caseworker_client, text):
    appeal = make_appeal(make_person(), our_reference=text, addressee_name=text, next_action=text)

    header, row = table(caseworker_client.get(URL))

    for column in ("Our reference", "Addressee's name", "Next action"):
        assert row[header.index(column)] == "'" + text
    appeal.refresh_from_db()
    assert appeal.our_reference == text  # only the spreadsheet is marked


@pytest.mark.parametrize("visitor", ["caseworker", "researcher", "editor"])
def test_every_role_that_reads_appeals_may_download_them(visitor):
    make_appeal(make_person(), our_reference="ORG-1")
    role = {"caseworker": "Caseworker", "researcher": "Researcher", "editor": "Editor"}[visitor]
    assert "ORG-1" in body(signed_in(make_staff(role)).get(URL))


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    make_appeal(make_person(), our_reference="ORG-1")
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/") and f"next={URL}" in response["Location"]


@pytest.mark.parametrize("role", [None, "Administrator"])
def test_staff_who_may_not_read_appeals_are_refused(role):
    make_appeal(make_person(), our_reference="ORG-1")
    response = signed_in(make_staff(role, "no-appeals")).get(URL)
    assert response.status_code == 403
    assert "ORG-1" not in response.content.decode()


def test_a_user_who_is_not_staff_is_refused_even_with_the_permission():
    from django.contrib.auth.models import Permission

    from .factories import make_user

    user = make_user("not-staff")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="advocacy", codename="view_appeal"))
    assert signed_in(user).get(URL).status_code == 403


def test_post_is_refused(caseworker_client):
    appeal = make_appeal(make_person())
    versions = appeal.history.count()
    assert caseworker_client.post(URL).status_code == 405
    appeal.refresh_from_db()
    assert appeal.history.count() == versions


def test_the_spreadsheet_takes_a_fixed_number_of_queries(caseworker_client, django_assert_max_num_queries):
    def build(n: int) -> None:
        for _ in range(n):
            replied_appeal(make_person(), make_person(), source=make_source())

    build(2)
    with django_assert_max_num_queries(12) as few:
        assert len(table(caseworker_client.get(URL))) == 3
    build(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(table(caseworker_client.get(URL))) == 23


def test_the_appeal_list_in_the_admin_links_to_the_spreadsheet(caseworker_client):
    response = caseworker_client.get("/admin/advocacy/appeal/")
    assert response.status_code == 200
    assert f'<a href="{URL}">' in response.content.decode()


# The JSON of export_cases


def export(*options) -> list[dict]:
    out = io.StringIO()
    call_command("export_cases", "--format", "json", *options, stdout=out)
    return json.loads(out.getvalue())["cases"]


def case_with_appeals():
    """A published case with a public appeal (replied) and a restricted one, both full of restricted values."""
    person = make_publishable_case(name="Kim Appealed", date="2014-10-07")
    other = make_person(name="Lee Also-concerned")
    source = make_source(title="The reply", is_restricted=True)
    public = replied_appeal(person, other, source=source, is_public=True, **RESTRICTED)
    restricted = make_appeal(person, sent="2018-06", addressee="sr_dprk", kind="urgent_appeal")
    public.documents.add(source)
    return publish_case(person), other, public, restricted


def test_the_staff_json_has_every_field_of_every_appeal_and_its_replies():
    person, other, public, restricted = case_with_appeals()
    reply = public.replies.get(withdrawn=False)
    event = reply.record_status_event(person, Status.DETAINED, by=None, date=PartialDate.parse("2016-08"))

    rows = {row["case_id"]: row for row in export()}

    appeals = rows[person.case_id]["appeals"]
    assert [appeal["id"] for appeal in appeals] == [public.pk, restricted.pk]
    full = appeals[0]
    assert rows[other.case_id]["appeals"] == [full]  # the same appeal, under each person it concerns
    assert {field.name for field in Appeal._meta.concrete_fields} <= set(full)
    assert {key: full[key] for key in RESTRICTED} == RESTRICTED
    expected = {
        "kind": "communication",
        "addressee": "wgad",
        "country": "",
        "persons": sorted([person.case_id, other.case_id]),
        "documents": [reply.source_id],
        "state": "replied",
        "outcome": "",
        "sent_on": "2016-03",
        "acknowledged_on": "2016-04-02",
        "transmitted_on": "2016-05",
        "closed_on": None,
        "is_public": True,
        "withdrawn": False,
    }
    assert {key: full[key] for key in expected} == expected
    assert datetime.datetime.fromisoformat(full["created_at"])
    first, withdrawn = full["replies"]
    assert {field.name for field in AppealReply._meta.concrete_fields} <= set(first)
    assert datetime.datetime.fromisoformat(first.pop("recorded_at"))
    assert first == {
        "id": reply.pk,
        "appeal": public.pk,
        "received_on": "2016-09-01",
        "from_whom": "A ministry",
        "says": "He is alive.",
        "source": reply.source_id,
        "status_events": [event.pk],
        "withdrawn": False,
        "withdrawn_reason": "",
        "version": 1,
        "recorded_by": None,
    }
    assert (withdrawn["withdrawn"], withdrawn["withdrawn_reason"]) == (True, "a copy of the first")


def test_the_public_only_json_holds_only_the_published_appeal_lines():
    person, other, public, restricted = case_with_appeals()
    # Made public after the publication: not in the public record until an editor publishes again.
    restricted.is_public = True
    restricted.save()

    out = io.StringIO()
    call_command("export_cases", "--format", "json", "--public-only", stdout=out)
    text = out.getvalue()

    (row,) = json.loads(text)["cases"]
    record = PublishedVersion.objects.current().get(case_id=person.case_id).record
    assert row["appeals"] == record["appeals"]
    assert [line["id"] for line in row["appeals"]] == [public.pk]
    assert row["appeals"][0] == {
        "id": public.pk,
        "kind": "communication",
        "addressee": "wgad",
        "country": "",
        "sent_on": "2016-03",
        "state": "replied",
        "outcome": "",
        "closed_on": None,
        "replies": [{"id": public.replies.get(withdrawn=False).pk, "received_on": "2016-09-01"}],
    }
    for secret in [*RESTRICTED.values(), "He is alive", "A ministry", "The reply", "Recorded twice", "2016-04-02"]:
        assert secret not in text
    assert "Lee Also-concerned" not in text and other.case_id not in text  # not published
    restricted.refresh_from_db()
    assert restricted.is_public and restricted.state == AppealState.SENT


def test_the_staff_json_without_restricted_values_gives_the_public_line():
    from exchange.exporter import person_rows

    person, _other, public, _restricted = case_with_appeals()

    rows = person_rows(include_restricted=False, with_appeals=True)
    row = next(row for row in rows if row["case_id"] == person.case_id)

    assert [line["id"] for line in row["appeals"]] == [public.pk]
    assert "says" not in json.dumps(row["appeals"]) and RESTRICTED["request"] not in json.dumps(row)


def test_the_csv_export_has_no_appeals():
    case_with_appeals()
    out = io.StringIO()
    call_command("export_cases", stdout=out)
    text = out.getvalue()
    assert "appeals" not in text.splitlines()[0]
    for secret in RESTRICTED.values():
        assert secret not in text


def test_the_json_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    def build(n: int) -> None:
        for _ in range(n):
            person = make_person()
            make_citation(make_source(), status_event=make_event(person, Status.DETAINED, "2015"))
            replied_appeal(person, make_person(), source=make_source())

    build(2)
    # Also the facilities and authorities (up to seven queries), each chunk's events' authorities and relations.
    with django_assert_max_num_queries(20) as few:
        assert len(export()) == 4
    build(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(export()) == 24

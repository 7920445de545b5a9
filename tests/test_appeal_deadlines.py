"""The dashboard's appeals sections: replies overdue, next actions due, anniversaries to raise a case again on."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from advocacy.models import Appeal, AppealOutcome, AppealState
from cases.models import Status, StatusEvent
from cases.partial_dates import PartialDate
from workflow import services

from .factories import (
    make_appeal,
    make_event,
    make_person,
    make_publishable_case,
    make_source,
    make_staff,
    publish_case,
    signed_in,
)

pytestmark = pytest.mark.django_db

URL = "/staff/"
CSV_URL = "/staff/appeals/appeals.csv"


@pytest.fixture(autouse=True)
def _deadlines(settings):
    settings.APPEAL_REPLY_DAYS = 90
    settings.APPEAL_ACTION_DAYS = 14
    settings.ANNIVERSARY_DAYS = 30
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today_is(monkeypatch):
    """Make ``timezone.localdate()`` answer a given day, for the view and for the models' checks alike."""

    def set_today(day: datetime.date) -> datetime.date:
        monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day)
        return day

    return set_today


def days_ago(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def section(response, name: str) -> str:
    """The HTML of one dashboard section: overdue, actions or anniversaries."""
    assert response.status_code == 200
    match = re.search(
        rf'<section[^>]*aria-labelledby="{name}-heading"[^>]*>(.*?)</section>', response.content.decode(), re.S
    )
    assert match, f"no {name} section on the dashboard"
    return match.group(1)


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]  # without the header row


def linked_appeals(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/admin/advocacy/appeal/(\d+)/change/"', html)]


def linked_persons(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/admin/cases/person/(\d+)/change/"', html)]


def send(appeal: Appeal, on: str | None) -> Appeal:
    appeal.advance(AppealState.SENT, by=None, on=PartialDate.parse(on) if on else None, reason="test data")
    appeal.refresh_from_db()
    return appeal


# Waiting for a reply


def test_an_appeal_is_overdue_the_day_after_the_reply_days(caseworker_client):
    person = make_person(name="Kim Overdue")
    on_the_day = make_appeal(person, sent=days_ago(90), our_reference="ON-THE-DAY")
    a_day_more = make_appeal(person, sent=days_ago(91), our_reference="A-DAY-MORE")

    html = section(caseworker_client.get(URL), "overdue")

    assert "Waiting for a reply for more than 90 days" in html
    assert linked_appeals(html) == [a_day_more.pk]
    assert "91 days" in html and "ON-THE-DAY" not in html
    assert list(Appeal.objects.overdue(timezone.localdate(), 90)) == [a_day_more]
    on_the_day.refresh_from_db()
    assert on_the_day.state == AppealState.SENT  # waiting, only not for long enough


def test_an_overdue_appeal_shows_its_persons_to_whom_its_kind_and_its_dates(caseworker_client):
    first = make_person(name="Choi Chun-gil")
    second = make_person(name="Kim Kook-ki")
    appeal = make_appeal(first, second, sent="2016-03", kind="urgent_appeal", addressee="wgeid", our_reference="UA-7")

    html = section(caseworker_client.get(URL), "overdue")

    (row,) = rows(html)
    assert f'<a href="/admin/advocacy/appeal/{appeal.pk}/change/">UA-7</a>' in row
    assert f'<a href="/admin/cases/person/{first.pk}/change/">{first.case_id} Choi Chun-gil</a>' in row
    assert f'<a href="/admin/cases/person/{second.pk}/change/">{second.case_id} Kim Kook-ki</a>' in row
    assert "UN Working Group on Enforced or Involuntary Disappearances (WGEID)" in row
    assert "Urgent appeal" in row
    assert "March 2016" in row
    # A month's first day is not the day it was sent: the page names the month instead of counting days.
    assert "since March 2016" in row


def test_the_wait_counts_from_the_transmission_to_the_government(caseworker_client):
    person = make_person()
    appeal = make_appeal(person, sent=days_ago(200), addressee="wgeid", kind="communication")
    appeal.advance(AppealState.TRANSMITTED, by=None, on=PartialDate.parse(days_ago(10)), reason="test data")
    long_transmitted = make_appeal(person, sent=days_ago(300), addressee="wgad", kind="communication")
    long_transmitted.advance(AppealState.TRANSMITTED, by=None, on=PartialDate.parse(days_ago(95)), reason="test")

    html = section(caseworker_client.get(URL), "overdue")

    assert linked_appeals(html) == [long_transmitted.pk]
    assert "95 days" in html


def test_an_unknown_sending_date_is_listed_first(caseworker_client):
    person = make_person()
    old = make_appeal(person, sent=days_ago(400))
    unknown = send(make_appeal(person), None)
    older = make_appeal(person, sent=days_ago(800))

    html = section(caseworker_client.get(URL), "overdue")

    assert linked_appeals(html) == [unknown.pk, older.pk, old.pk]
    assert "since a date nobody recorded" in rows(html)[0]
    assert unknown.sent_on is None and unknown.state == AppealState.SENT


def test_answered_closed_drafted_and_withdrawn_appeals_are_not_waiting(caseworker_client):
    person = make_person()
    replied = make_appeal(person, sent=days_ago(200))
    replied.record_reply(by=None, received_on=PartialDate.parse(days_ago(20)), says="No information.")
    closed = make_appeal(person, sent=days_ago(200))
    closed.advance(
        AppealState.CLOSED, by=None, on=PartialDate.parse(days_ago(5)), outcome=AppealOutcome.NO_REPLY, reason="t"
    )
    drafted = make_appeal(person)
    withdrawn = make_appeal(person, sent=days_ago(200))
    withdrawn.withdraw(by=None, reason="sent to the wrong office")

    html = section(caseworker_client.get(URL), "overdue")

    assert linked_appeals(html) == []
    assert "No appeal has waited for a reply for more than 90 days." in html
    states = dict(Appeal.objects.values_list("pk", "state"))
    assert states == {
        replied.pk: AppealState.REPLIED,
        closed.pk: AppealState.CLOSED,
        drafted.pk: AppealState.DRAFTED,
        withdrawn.pk: AppealState.SENT,
    }


# Next actions due


def test_next_actions_due_within_the_days_soonest_first_with_overdue_ones_said_in_words(caseworker_client):
    today = timezone.localdate()
    person = make_person()

    def due(days: int, action: str, **fields) -> Appeal:
        return make_appeal(person, next_action=action, next_action_due=today + datetime.timedelta(days=days), **fields)

    last_day = due(14, "Ask the embassy again")
    too_late = due(15, "Write to the rapporteur")
    overdue = due(-3, "Send the annex", sent="2024-01")
    today_s = due(0, "Call the family")
    closed = due(-10, "Nothing more", sent="2024-01")
    closed.advance(AppealState.CLOSED, by=None, on=PartialDate.parse("2024-06"), outcome="discontinued", reason="t")

    html = section(caseworker_client.get(URL), "actions")

    assert "Next actions due within 14 days" in html
    assert linked_appeals(html) == [overdue.pk, today_s.pk, last_day.pk]
    listed = rows(html)
    assert "Send the annex" in listed[0] and "overdue" in listed[0]
    assert "Call the family" in listed[1] and "due today" in listed[1] and "overdue" not in listed[1]
    assert "Ask the embassy again" in listed[2] and "overdue" not in listed[2] and "due today" not in listed[2]
    assert (today + datetime.timedelta(days=14)).isoformat() in listed[2]
    assert too_late.next_action not in html and "Nothing more" not in html
    assert set(Appeal.objects.actions_due(today, 14)) == {overdue, today_s, last_day}


def test_no_action_due(caseworker_client):
    make_appeal(make_person(), next_action="Later", next_action_due=timezone.localdate() + datetime.timedelta(days=40))
    html = section(caseworker_client.get(URL), "actions")
    assert "No next action is due within 14 days." in html
    assert linked_appeals(html) == []


# Anniversaries


def test_a_day_anniversary_from_today_to_the_last_day_of_the_window(caseworker_client, today_is):
    today = today_is(datetime.date(2025, 6, 10))
    names = {}
    for date in ["2014-06-09", "2014-06-10", "2014-07-10", "2014-07-11"]:
        names[date] = make_person(name=f"Ri {date}")
        make_event(names[date], Status.ARRESTED, date, place="Hyesan")

    html = section(caseworker_client.get(URL), "anniversaries")

    assert "Anniversaries in the next 30 days" in html
    assert linked_persons(html) == [names["2014-06-10"].pk, names["2014-07-10"].pk]
    first, last = rows(html)
    assert "10 June 2025" in first and "Arrested, 10 June 2014, Hyesan" in first and "11 years" in first
    assert "10 July 2025" in last and "11 years" in last
    events = StatusEvent.objects.anniversaries(today, 30)
    assert [event.person_id for event in events] == [names["2014-06-10"].pk, names["2014-07-10"].pk]


def test_anniversaries_across_a_year_end(caseworker_client, today_is):
    today = today_is(datetime.date(2025, 12, 20))
    january = make_person(name="Pak January")
    make_event(january, Status.ABDUCTED, "2019-01-19")
    december = make_person(name="Pak December")
    make_event(december, Status.DISAPPEARED, "2019-12-25")
    too_late = make_person(name="Pak Too-late")
    make_event(too_late, Status.DETAINED, "2019-01-20")
    too_early = make_person(name="Pak Too-early")
    make_event(too_early, Status.DETAINED, "2019-12-19")

    html = section(caseworker_client.get(URL), "anniversaries")

    assert linked_persons(html) == [december.pk, january.pk]  # this year's before next year's
    first, second = rows(html)
    assert "25 December 2025" in first and "6 years" in first
    assert "19 January 2026" in second and "7 years" in second
    assert [event.person_id for event in StatusEvent.objects.anniversaries(today, 30)] == [december.pk, january.pk]


def test_a_month_anniversary_falls_in_its_month(caseworker_client, today_is):
    today = today_is(datetime.date(2025, 6, 20))  # the window ends on 20 July
    persons = {}
    for date in ["2014-05", "2014-06", "2014-07", "2014-08", "2014", "2025-06", "2025-06-20"]:
        persons[date] = make_person(name=f"Jeong {date}")
        make_event(persons[date], Status.FORCIBLY_REPATRIATED, date)

    html = section(caseworker_client.get(URL), "anniversaries")

    # Not a year alone, and not the event itself (this month, today): an anniversary is a year later.
    assert linked_persons(html) == [persons["2014-06"].pk, persons["2014-07"].pk]
    june, july = rows(html)
    assert "June 2025" in june and "Forcibly repatriated, June 2014" in june and "11 years" in june
    assert "July 2025" in july
    assert StatusEvent.objects.anniversaries(today, 30).count() == 2


def test_only_losses_of_liberty_of_outstanding_cases_still_followed(caseworker_client, today_is):
    today_is(datetime.date(2025, 3, 1))
    outstanding = make_person(name="Han Outstanding")
    make_event(outstanding, Status.DETAINED, "2015-03-05")
    released = make_person(name="Han Released")
    make_event(released, Status.DETAINED, "2015-03-05")
    make_event(released, Status.RELEASED, "2020-01")
    sentenced = make_person(name="Han Sentenced")  # a sentence is not the loss of liberty NGOs mark
    make_event(sentenced, Status.SENTENCED, "2015-03-05")
    withdrawn = publish_case(make_publishable_case(name="Han Withdrawn", date="2015-03-06"))
    services.withdraw(withdrawn, by=None, reason="test data")
    withdrawn_event = make_person(name="Han Withdrawn-event")
    make_event(withdrawn_event, Status.DETAINED, "2015-03-07").withdraw(by=None, reason="recorded in error")

    html = section(caseworker_client.get(URL), "anniversaries")

    assert linked_persons(html) == [outstanding.pk]
    released.refresh_from_db()
    withdrawn.refresh_from_db()
    assert released.is_clarified and withdrawn.publication_state == "withdrawn"


def test_each_anniversary_shows_the_person_s_last_appeal(caseworker_client, today_is):
    today_is(datetime.date(2025, 3, 1))
    appealed = make_person(name="Lee Appealed")
    make_event(appealed, Status.ARRESTED, "2015-03-05")
    make_appeal(appealed, sent="2016-03", our_reference="OLD")
    latest = make_appeal(appealed, sent="2023-11", addressee="wgad", kind="communication")
    never = make_person(name="Lee Never")
    make_event(never, Status.ARRESTED, "2015-03-06")

    html = section(caseworker_client.get(URL), "anniversaries")

    first, second = rows(html)
    assert linked_appeals(first) == [latest.pk]
    assert "November 2023" in first and "Sent" in first and "OLD" not in first
    assert "No appeal yet" in second and linked_appeals(second) == []


def test_the_29th_of_february_is_marked_on_the_28th_in_other_years(caseworker_client, today_is, settings):
    settings.ANNIVERSARY_DAYS = 1
    today = today_is(datetime.date(2025, 2, 27))  # the window ends on the 28th: 2025 has no 29th
    leap = make_person(name="Ko Leap-day")
    event = make_event(leap, Status.ARRESTED, "2016-02-29")

    (row,) = rows(section(caseworker_client.get(URL), "anniversaries"))

    assert "28 February 2025" in row and "9 years" in row
    assert list(StatusEvent.objects.anniversaries(today, 1)) == [event]
    assert event.next_anniversary(datetime.date(2028, 2, 1)) == PartialDate(2028, 2, 29)


def test_no_anniversary(caseworker_client, today_is):
    today_is(datetime.date(2025, 3, 1))
    make_event(make_person(), Status.ARRESTED, "2015-09-05")
    html = section(caseworker_client.get(URL), "anniversaries")
    assert "No anniversary in the next 30 days." in html


def test_the_headings_follow_the_settings(caseworker_client, settings):
    settings.APPEAL_REPLY_DAYS, settings.APPEAL_ACTION_DAYS, settings.ANNIVERSARY_DAYS = 1, 7, 60
    response = caseworker_client.get(URL)
    assert "Waiting for a reply for more than 1 day<" in section(response, "overdue")
    assert "Next actions due within 7 days" in section(response, "actions")
    assert "Anniversaries in the next 60 days" in section(response, "anniversaries")


def test_a_long_list_says_that_only_its_first_rows_are_shown(caseworker_client, monkeypatch):
    monkeypatch.setattr("workflow.views.LISTED", 2)
    person = make_person()
    for days in (100, 200, 300):
        make_appeal(person, sent=days_ago(days))

    html = section(caseworker_client.get(URL), "overdue")

    assert len(linked_appeals(html)) == 2
    assert "Only the first 2 are shown." in html
    assert Appeal.objects.overdue(timezone.localdate(), 90).count() == 3


# Who sees them


@pytest.mark.parametrize("name", ["overdue", "actions"])
def test_the_appeals_sections_link_to_the_spreadsheet(caseworker_client, name):
    assert f'href="{CSV_URL}"' in section(caseworker_client.get(URL), name)


def test_a_case_reader_without_the_appeals_permission_sees_no_appeal_section():
    reader = make_staff(None, "reads-cases-only")
    reader.user_permissions.add(Permission.objects.get(content_type__app_label="cases", codename="view_person"))
    person = make_person(name="Yoon Secret-appeal")
    make_event(person, Status.ARRESTED, days_ago(365))
    make_appeal(person, sent=days_ago(200), our_reference="SECRET-REF", next_action="Call", next_action_due=None)
    assert not reader.has_perm("advocacy.view_appeal")

    response = signed_in(reader).get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("overdue", "actions", "anniversaries"):
        assert f'aria-labelledby="{name}-heading"' not in html
    assert "SECRET-REF" not in html and CSV_URL not in html and "/admin/advocacy/" not in html
    assert 'aria-labelledby="waiting-heading"' in html  # the rest of the dashboard is there


def test_the_dashboard_takes_a_fixed_number_of_queries_whatever_the_appeals(
    caseworker_client, django_assert_max_num_queries
):
    today = timezone.localdate()
    source = make_source()

    def build(n: int) -> None:
        for i in range(n):
            person = make_person(name=f"Gim Appeal {i}")
            # An arrest a few years ago, on a day of the anniversaries' window.
            make_event(person, Status.ARRESTED, (today - datetime.timedelta(days=3 * 365)).isoformat())
            make_appeal(person, make_person(), sent=days_ago(200 + i), next_action="Ask again", next_action_due=today)
            answered = make_appeal(person, sent=days_ago(100))
            answered.record_reply(by=None, received_on=PartialDate.parse(days_ago(1)), says="Nothing.", source=source)

    build(2)
    caseworker_client.get(URL)
    with django_assert_max_num_queries(25) as few:
        response = caseworker_client.get(URL)
    assert len(linked_appeals(section(response, "overdue"))) == 2
    build(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = caseworker_client.get(URL)
    assert len(linked_appeals(section(response, "overdue"))) == 22
    assert len(linked_appeals(section(response, "actions"))) == 22
    assert len(rows(section(response, "anniversaries"))) == 22

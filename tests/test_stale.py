"""The dashboard's stale cases: measured by the date of the latest information, not by the last edit of the row."""

import datetime
import re

import pytest
from django.utils import timezone

from cases.models import Person, Status
from cases.partial_dates import PartialDate
from workflow import services
from workflow.views import stale_cases

from .conftest import make_event, make_person, make_publishable_case, publish_case

pytestmark = pytest.mark.django_db

URL = "/staff/"


@pytest.fixture(autouse=True)
def _thirty_days(settings):
    settings.STALE_CASE_DAYS = 30


def days_ago(days: int) -> str:
    """A day-precision partial date ``days`` before today, as typed."""
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def month_ago(days: int) -> str:
    """A month-precision partial date: the month that contained the day ``days`` before today."""
    return (timezone.localdate() - datetime.timedelta(days=days)).strftime("%Y-%m")


def stale_section(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    match = re.search(
        r'<section[^>]*aria-labelledby="stale-heading"[^>]*>(.*?)</section>', response.content.decode(), re.S
    )
    assert match
    return match.group(1)


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/admin/cases/person/(\d+)/change/"', html)]


def stale_pks() -> list[int]:
    return list(stale_cases(Person.objects.all(), timezone.localdate()).values_list("pk", flat=True))


def set_updated_at(person: Person, days: int) -> None:
    # A raw update, acceptable in a test only: auto_now would overwrite a saved value.
    Person.objects.filter(pk=person.pk).update(updated_at=timezone.now() - datetime.timedelta(days=days))


def test_old_news_is_stale_though_the_row_was_edited_today():
    person = make_person(name="Han Old-news")
    make_event(person, Status.DETAINED, days_ago(400))
    person.summary = "Tidied today."
    person.save()
    assert stale_pks() == [person.pk]


def test_recent_news_is_fresh_though_the_row_is_old():
    person = make_person(name="Han Recent-news")
    make_event(person, Status.DETAINED, days_ago(3))
    set_updated_at(person, 500)
    assert stale_pks() == []


def test_an_unknown_date_is_stale():
    no_events = make_person(name="Han No-events")
    undated = make_person(name="Han Undated")
    make_event(undated, Status.DETAINED, None)
    assert undated.last_confirmed is None
    assert set(stale_pks()) == {no_events.pk, undated.pk}


def test_the_boundary_is_stale_case_days_before_today():
    on_the_day = make_person(name="Han Thirty")
    make_event(on_the_day, Status.DETAINED, days_ago(30))
    a_day_older = make_person(name="Han Thirty-one")
    make_event(a_day_older, Status.DETAINED, days_ago(31))
    assert stale_pks() == [a_day_older.pk]


def test_a_partial_date_counts_from_its_first_day():
    # A month 40 days back starts at least 40 days back: its first day is older than 30 days.
    person = make_person(name="Han Month")
    make_event(person, Status.DETAINED, month_ago(40))
    assert PartialDate.parse(month_ago(40)).first_day < timezone.localdate() - datetime.timedelta(days=30)
    assert stale_pks() == [person.pk]


def test_the_latest_event_decides_not_the_first():
    person = make_person(name="Han Two-events")
    make_event(person, Status.ARRESTED, days_ago(900))
    make_event(person, Status.DETAINED, days_ago(2))
    assert stale_pks() == []


def test_unknown_first_then_oldest_news_first():
    newer = make_person(name="Han Newer")
    make_event(newer, Status.DETAINED, days_ago(100))
    older = make_person(name="Han Older")
    make_event(older, Status.DETAINED, days_ago(1000))
    unknown = make_person(name="Han Unknown")
    assert stale_pks() == [unknown.pk, older.pk, newer.pk]


def test_the_dashboard_shows_both_dates(caseworker_client):
    person = make_person(name="Han Both-dates")
    make_event(person, Status.DETAINED, "2014-10")
    set_updated_at(person, 2)
    html = stale_section(caseworker_client)
    assert listed(html) == [person.pk]
    assert "Latest information" in html and "Last changed" in html
    row = re.search(rf'<tr><td><a href="/admin/cases/person/{person.pk}/change/">.*?</tr>', html, re.S).group(0)
    assert "October 2014" in row
    assert (timezone.localdate() - datetime.timedelta(days=2)).isoformat() in row


def test_the_dashboard_says_unknown_for_a_case_with_no_dated_event(caseworker_client):
    person = make_person(name="Han No-date")
    html = stale_section(caseworker_client)
    assert listed(html) == [person.pk]
    row = re.search(rf'<tr><td><a href="/admin/cases/person/{person.pk}/change/">.*?</tr>', html, re.S).group(0)
    assert "unknown" in row


def test_the_dashboard_leaves_out_fresh_and_withdrawn_cases(caseworker_client):
    fresh = make_person(name="Han Fresh")
    make_event(fresh, Status.DETAINED, days_ago(1))
    set_updated_at(fresh, 400)
    withdrawn = publish_case(make_publishable_case(name="Han Withdrawn"))
    services.withdraw(withdrawn, by=None, reason="test data")
    html = stale_section(caseworker_client)
    assert fresh.name not in html and withdrawn.name not in html


def test_no_stale_case_says_so(caseworker_client):
    make_event(make_person(), Status.DETAINED, days_ago(29))
    html = stale_section(caseworker_client)
    assert listed(html) == []
    assert "Every case has had news within 30 days." in html


def test_the_dashboard_takes_a_fixed_number_of_queries(caseworker_client, caseworker, django_assert_max_num_queries):
    def build(n: int) -> None:
        for i in range(n):
            person = make_person(name=f"Han Stale {i}", assigned_to=caseworker)
            make_event(person, Status.DETAINED, days_ago(400 + i))
            services.submit_for_review(person, by=caseworker)

    build(2)
    caseworker_client.get(URL)
    # 16 for the cases' sections, 3 for the appeals' (tests/test_appeal_deadlines.py counts them with appeals),
    # 1 for the dead or changed sources (tests/test_archive.py lists them), 1 for the possible duplicates to review.
    with django_assert_max_num_queries(21) as few:
        assert caseworker_client.get(URL).status_code == 200
    build(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert caseworker_client.get(URL).status_code == 200

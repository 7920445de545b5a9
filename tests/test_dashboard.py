"""The staff dashboard at /staff/: what needs attention today, each case one click from its admin page."""

import datetime
import re

import pytest
from django.utils import timezone

from cases.history import save_with_history
from cases.models import Person, Status
from workflow import services

from .factories import make_event, make_person, make_publishable_case, make_staff, publish_case

pytestmark = pytest.mark.django_db

URL = "/staff/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def section(response, name: str) -> str:
    """The HTML of one dashboard section: waiting, mine, stale, recent or counts."""
    html = response.content.decode()
    match = re.search(rf'<section[^>]*aria-labelledby="{name}-heading"[^>]*>(.*?)</section>', html, re.DOTALL)
    assert match, f"no {name} section on the dashboard"
    return match.group(1)


def linked_cases(html: str) -> list[int]:
    """The pks of the cases linked from ``html``; fails on any link that is not a case's admin change page."""
    pks = []
    for href in re.findall(r'<a [^>]*href="([^"]*)"', html):
        match = re.fullmatch(r"/admin/cases/person/(\d+)/change/", href)
        assert match, f"{href} is not a link to a case's admin page"
        pks.append(int(match.group(1)))
    return pks


def set_updated_at(person: Person, days_ago: int) -> None:
    # A raw update, acceptable in a test only: auto_now would overwrite a saved value.
    Person.objects.filter(pk=person.pk).update(updated_at=timezone.now() - datetime.timedelta(days=days_ago))


# Who may open it


def test_anonymous_visitor_is_sent_to_a_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "next=/staff/" in response["Location"]
    login_page = client.get(response["Location"])
    assert login_page.status_code == 200, f"{response['Location']} is not a login page"
    assert 'name="password"' in login_page.content.decode()


def test_staff_without_a_role_is_refused(client):
    make_person(name="Kim Secret-case")
    client.force_login(make_staff(None, "no-cases"))
    response = client.get(URL)
    assert response.status_code == 403
    assert "Kim Secret-case" not in response.content.decode()


def test_an_administrator_gets_a_page_of_their_own_without_any_case(client):
    make_person(name="Kim Secret-case")
    client.force_login(make_staff("Administrator", "chief"))
    response = client.get(URL)
    assert response.status_code == 200
    assert "Kim Secret-case" not in response.content.decode()
    assert "/admin/auth/user/" in response.content.decode()


@pytest.mark.parametrize("group", ["Caseworker", "Researcher", "Editor"])
def test_every_role_that_reads_cases_sees_the_dashboard(client, group):
    client.force_login(make_staff(group, "reader"))
    response = client.get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_post_is_refused(caseworker_client, caseworker):
    person = make_person()
    response = caseworker_client.post(URL, {"anything": "1"})
    assert response.status_code == 405
    person.refresh_from_db()
    assert person.history.count() == 1


# What it shows


def test_cases_waiting_for_review_with_who_submitted_them(caseworker_client, caseworker):
    submitter = make_staff("Caseworker", "ri-submitter")
    first = make_person(name="Choi Chun-gil")
    second = make_person(name="Kim Kook-ki")
    draft = make_person(name="Pak Draft-only")
    services.submit_for_review(first, by=submitter)
    services.submit_for_review(second, by=caseworker)
    response = caseworker_client.get(URL)
    assert response.status_code == 200
    waiting = section(response, "waiting")
    assert "Waiting for review (2)" in waiting
    assert linked_cases(waiting) == [first.pk, second.pk]  # oldest submission first
    rows = re.findall(r"<tr>(.*?)</tr>", waiting, re.DOTALL)
    assert "Choi Chun-gil" in rows[1] and "ri-submitter" in rows[1]
    assert "Kim Kook-ki" in rows[2] and "caseworker" in rows[2]
    assert draft.name not in waiting


def test_nothing_waiting_for_review(caseworker_client, caseworker):
    make_person()
    waiting = section(caseworker_client.get(URL), "waiting")
    assert "Nothing is waiting for review." in waiting
    assert linked_cases(waiting) == []


def test_assigned_to_me_lists_only_my_cases(caseworker_client, caseworker):
    colleague = make_staff("Caseworker", "colleague")
    mine = make_person(name="Lee Mine-one", assigned_to=caseworker)
    also_mine = make_person(name="Lee Mine-two", assigned_to=caseworker)
    theirs = make_person(name="Lee Theirs", assigned_to=colleague)
    nobodys = make_person(name="Lee Unassigned")
    response = caseworker_client.get(URL)
    assigned = section(response, "mine")
    assert "Assigned to me (2)" in assigned
    assert sorted(linked_cases(assigned)) == sorted([mine.pk, also_mine.pk])
    assert theirs.name not in assigned and nobodys.name not in assigned


def test_assigned_to_me_is_empty_for_someone_else(caseworker_client, caseworker):
    make_person(name="Lee Theirs", assigned_to=make_staff("Caseworker", "colleague"))
    assigned = section(caseworker_client.get(URL), "mine")
    assert "No cases are assigned to you." in assigned
    assert linked_cases(assigned) == []


def test_stale_cases(caseworker_client, caseworker, settings):
    """Stale: no news (the latest event's date) for STALE_CASE_DAYS, or none known; see tests/test_stale.py."""
    settings.STALE_CASE_DAYS = 30
    today = timezone.localdate()
    unknown = make_person(name="Han Unknown")
    old_news = make_person(name="Han Old-news")
    make_event(old_news, Status.DETAINED, (today - datetime.timedelta(days=45)).isoformat())
    fresh = make_person(name="Han Fresh")
    make_event(fresh, Status.SENTENCED, (today - datetime.timedelta(days=3)).isoformat())
    withdrawn = publish_case(make_publishable_case(name="Han Withdrawn"))
    services.withdraw(withdrawn, by=None, reason="test data")
    set_updated_at(fresh, days_ago=400)  # an old row with recent news is not stale

    listed = section(caseworker_client.get(URL), "stale")
    assert "No new information for 30 days" in listed
    assert linked_cases(listed) == [unknown.pk, old_news.pk]  # unknown first, then the oldest news
    for person in [fresh, withdrawn]:
        assert person.name not in listed


def test_no_stale_cases(caseworker_client, caseworker, settings):
    settings.STALE_CASE_DAYS = 30
    make_event(make_person(), Status.DETAINED, (timezone.localdate() - datetime.timedelta(days=29)).isoformat())
    listed = section(caseworker_client.get(URL), "stale")
    assert "Every case has had news within 30 days." in listed
    assert linked_cases(listed) == []


def test_recent_changes_come_from_the_history_with_who_and_why(caseworker_client, caseworker):
    person = make_person(name="Jeong Recent")
    person.summary = "Arrested in Hyesan."
    save_with_history(person, by=caseworker, reason="Family confirmed the arrest")
    recent = section(caseworker_client.get(URL), "recent")
    rows = re.findall(r"<tr>(.*?)</tr>", recent, re.DOTALL)[1:]
    assert len(rows) == 2
    newest = rows[0]
    assert person.case_id in newest and "Jeong Recent" in newest
    assert "caseworker" in newest
    assert "Family confirmed the arrest" in newest
    assert "test data" in rows[1] and "the system" in rows[1]
    assert linked_cases(recent) == [person.pk, person.pk]


def test_counts_by_current_status(caseworker_client, caseworker):
    for _ in range(2):
        make_event(make_person(), Status.DETAINED, "2018")
    make_event(make_person(), Status.RELEASED, "2019")
    make_person()  # no status recorded
    withdrawn = publish_case(make_publishable_case())  # detained, then withdrawn: not counted
    services.withdraw(withdrawn, by=None, reason="test data")
    counts = section(caseworker_client.get(URL), "counts")
    rows = dict(re.findall(r'<th scope="row"><a href="[^"]*">([^<]+)</a></th><td>(\d+)</td>', counts))
    assert rows["Detained"] == "2"
    assert rows["Released"] == "1"
    assert rows["No status recorded"] == "1"
    assert rows["Sentenced"] == "0"
    assert len(rows) == len(Status.choices) + 1
    assert f'href="/admin/cases/person/?current_status={Status.DETAINED}"' in counts


def test_every_case_entry_links_to_its_admin_change_page(caseworker_client, caseworker, settings):
    settings.STALE_CASE_DAYS = 30
    today = timezone.localdate().isoformat()
    waiting = make_person(name="Yoon Waiting")
    make_event(waiting, Status.DETAINED, today)
    services.submit_for_review(waiting, by=caseworker)
    assigned = make_person(name="Yoon Assigned", assigned_to=caseworker)
    make_event(assigned, Status.DETAINED, today)
    stale = make_person(name="Yoon Stale")  # no news known
    response = caseworker_client.get(URL)
    expected = {"waiting": {waiting.pk}, "mine": {assigned.pk}, "stale": {stale.pk}}
    for name, pks in expected.items():
        assert set(linked_cases(section(response, name))) == pks, name
    assert set(linked_cases(section(response, "recent"))) == {waiting.pk, assigned.pk, stale.pk}
    for person in [waiting, assigned, stale]:
        link = f'<a href="/admin/cases/person/{person.pk}/change/">{person.case_id} {person.name}</a>'
        assert link in section(response, "recent")

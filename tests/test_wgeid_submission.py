"""The printable WGEID submission: one person's case in the Working Group's structure, for staff only."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from advocacy.models import Appeal, AppealState
from cases.models import Status
from security.models import StaffPreferences

from .factories import make_appeal, make_event, make_person, make_staff, make_variant, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def submission_url(appeal: Appeal, person) -> str:
    return reverse("advocacy:wgeid_submission", args=[appeal.pk, person.pk])


def wgeid_appeal(*persons, **fields):
    return make_appeal(*persons, kind="wgeid_standard", addressee="wgeid", **fields)


def missing_items(html: str) -> list[str]:
    section = re.search(r'<section class="missing[^"]*".*?</section>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", section.group(0), re.S) if section else []


def test_the_page_lists_what_is_missing_then_nothing_once_filled_and_the_appeal_is_sent(caseworker, settings):
    settings.ORGANISATION_NAME = "Families of the Disappeared"
    client = signed_in(caseworker)
    person = make_person(name="", descriptor="A teenage boy", family_name_native="김", given_name_native="철옥")
    appeal = wgeid_appeal(person, our_reference="WGEID-2016-1")
    url = submission_url(appeal, person)

    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Missing before this can be sent:" in html
    items = missing_items(html)
    assert len(items) == 6, items
    person_page = reverse("admin:cases_person_change", args=[person.pk])
    appeal_page = reverse("admin:advocacy_appeal_change", args=[appeal.pk])
    assert any("the person&#x27;s full name" in item and person_page in item for item in items)
    assert any("the forces believed responsible" in item and appeal_page in item for item in items)
    assert any("consent" in item and appeal_page in item for item in items)

    # The caseworker fills the case and the appeal.
    person.name = "Kim Cheol-ok"
    person.save()
    make_event(person, Status.ARRESTED, "2016-03", place="Hyesan, Ryanggang Province")
    make_variant(person, "Kim Chol-ok", is_public=False)
    appeal.forces_responsible = "Ministry of State Security"
    appeal.steps_by_family = "The family asked the local security office twice."
    appeal.family_consent_by = "His mother"
    appeal.save()

    html = client.get(url).content.decode()
    assert "Missing before this can be sent:" not in html
    assert missing_items(html) == []
    for text in (
        "Kim Cheol-ok",
        'lang="ko">김',
        "Kim Chol-ok",  # a variant staff may see, public or not
        "March 2016",
        "Hyesan, Ryanggang Province",
        "Ministry of State Security",
        "The family asked the local security office twice.",
        "His mother",
        "Families of the Disappeared",
        "WGEID-2016-1",
    ):
        assert text in html, text

    response = client.post(reverse("admin:advocacy_appeal_step", args=[appeal.pk, "sent"]), {"on": "2016-05"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["The appeal is now “Sent”."]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT


def test_the_appeal_page_links_the_printable_submission_of_each_person(caseworker):
    person = make_person()
    appeal = wgeid_appeal(person)
    html = signed_in(caseworker).get(reverse("admin:advocacy_appeal_change", args=[appeal.pk])).content.decode()
    assert f'href="{submission_url(appeal, person)}"' in html
    assert "Print the WGEID submission" in html


def test_the_page_is_a_complete_page_without_inline_styles_or_scripts(caseworker):
    person = make_person(internal_notes="The informant is her cousin.")
    appeal = wgeid_appeal(person, internal_notes="Ask the cousin again.")
    response = signed_in(caseworker).get(submission_url(appeal, person))
    html = response.content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert re.search(r'<html lang="en">', html)
    assert '<meta name="robots" content="noindex">' in html
    assert "<title>" in html
    assert "css/wgeid-submission.css" in html
    assert "<script" not in html
    assert "<style" not in html
    assert "style=" not in html
    assert "no-store" in response["Cache-Control"]
    # Meant to be sent: restricted notes stay out.
    assert "cousin" not in html


def test_the_page_follows_the_staff_language(caseworker):
    person = make_person()
    appeal = wgeid_appeal(person)
    response = signed_in(caseworker).get(submission_url(appeal, person), HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 200
    assert '<html lang="ko">' in response.content.decode()


def test_a_person_the_appeal_does_not_concern_is_a_404(caseworker):
    person, stranger = make_person(), make_person()
    appeal = wgeid_appeal(person)
    client = signed_in(caseworker)
    assert client.get(submission_url(appeal, stranger)).status_code == 404
    assert client.get(reverse("advocacy:wgeid_submission", args=[appeal.pk, 999999])).status_code == 404
    assert client.get(reverse("advocacy:wgeid_submission", args=[999999, person.pk])).status_code == 404


def test_a_researcher_may_read_it(researcher):
    person = make_person()
    appeal = wgeid_appeal(person)
    assert signed_in(researcher).get(submission_url(appeal, person)).status_code == 200


@pytest.mark.parametrize("role", [None, "Administrator"])
def test_those_who_may_not_read_appeals_and_cases_get_a_404(role):
    person = make_person()
    appeal = wgeid_appeal(person)
    assert signed_in(make_staff(role, "outsider")).get(submission_url(appeal, person)).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client):
    person = make_person()
    appeal = wgeid_appeal(person)
    response = client.get(submission_url(appeal, person))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_page_refuses_post(caseworker):
    person = make_person()
    appeal = wgeid_appeal(person)
    assert signed_in(caseworker).post(submission_url(appeal, person)).status_code == 405


def test_a_korean_caseworker_prints_the_submission_in_english_for_the_working_group():
    user = make_staff("Caseworker")
    StaffPreferences.objects.update_or_create(user=user, defaults={"language": "ko"})
    person = make_person(name="Kim Cheol-ok")
    appeal = make_appeal(person, kind="wgeid_standard", addressee="wgeid")
    url = reverse("advocacy:wgeid_submission", args=[appeal.pk, person.pk])
    client = signed_in(user)

    korean = client.get(url).content.decode()
    assert '<html lang="ko">' in korean and 'href="?language=en"' in korean
    english = client.get(url, {"language": "en"}).content.decode()
    assert '<html lang="en">' in english and "?language=en" not in english
    assert "Submission of a case of enforced or involuntary disappearance" in english
    assert '<html lang="ko">' in client.get(url, {"language": "xx"}).content.decode()


def test_the_submission_takes_the_facility_and_the_authorities_recorded_for_the_arrest(client):
    from cases.models import Responsibility

    from .factories import make_authority, make_facility

    caseworker = make_staff("Caseworker")
    person = make_person(name="Kim Cheol-ok")
    event = make_event(person, "arrested", "2014-10", facility=make_facility("Onsong holding centre", kind="jipkyulso"))
    appeal = make_appeal(person, kind="wgeid_standard", addressee="wgeid", country="")
    assert any("forces believed responsible" in str(m) for m in appeal.wgeid_missing())
    assert not any("place of the arrest" in str(m) for m in appeal.wgeid_missing())
    Responsibility.objects.create(status_event=event, authority=make_authority(), confidence="likely")
    assert not any("forces believed responsible" in str(m) for m in appeal.wgeid_missing())
    page = signed_in(caseworker).get(f"/staff/appeals/{appeal.pk}/wgeid/{person.pk}/?language=en").content.decode()
    assert "Onsong holding centre" in page
    assert "Ministry of State Security (confidence: likely)" in page

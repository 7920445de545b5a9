"""The about page: who runs the site (from the settings, or plainly not given), how cases are checked, how to send
information safely, how to ask for a correction; linked from the foot of every public page, in every language."""

import re

import pytest

from .factories import make_citation, make_event, make_person, make_source, publish_case
from .test_settings import start

pytestmark = pytest.mark.django_db


def about(client, prefix: str = "") -> str:
    response = client.get(f"{prefix}/about/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"])
def test_the_about_page_answers_in_every_language(client, prefix):
    text = about(client, prefix)
    assert f'<html lang="{prefix.strip("/") or "en"}">' in text
    assert '<h1 id="about-heading">' in text


def test_every_public_page_links_to_the_about_page_in_its_language(client):
    person = make_person(name="Ri Footer")
    make_citation(make_source(), status_event=make_event(person, "detained", "2015", is_public=True))
    publish_case(person)
    source_id = person.status_events.get().citations.get().source_id
    for prefix in ("", "/ko", "/ja"):
        for path, status in [
            ("/", 200),
            ("/cases/", 200),
            ("/cases/?year_from=1700", 400),
            (f"/cases/{person.case_id}/", 200),
            (f"/cases/{person.case_id}/versions/1/", 200),
            ("/sources/", 200),
            (f"/sources/{source_id}/", 200),
            ("/about/", 200),
            ("/cases/KP-9999/", 404),
        ]:
            response = client.get(prefix + path)
            assert response.status_code == status, prefix + path
            footer = response.content.decode().split('<footer class="site-footer">')[1]
            assert f'<a href="{prefix}/about/">' in footer, prefix + path


def test_the_about_page_names_the_organisation_given_in_the_settings(client, settings):
    settings.ORGANISATION_NAME = "Seoul Documentation Centre"
    settings.ORGANISATION_CONTACT = "cases@example.org"
    settings.ORGANISATION_ADDRESS = "1 Example Street\nJongno-gu\nSeoul 03000"
    text = about(client)
    assert "This site is run by Seoul Documentation Centre" in text
    assert '<a href="mailto:cases@example.org">cases@example.org</a>' in text
    assert "<address>1 Example Street<br>Jongno-gu<br>Seoul 03000</address>" in text
    assert "has not given its name" not in text
    assert "Not given yet." not in text
    # The contact is the one to write to, for information and for corrections alike.
    assert text.count('href="mailto:cases@example.org"') == 3


def test_a_web_address_as_contact_is_a_link(client, settings):
    settings.ORGANISATION_CONTACT = "https://example.org/contact"
    assert '<a href="https://example.org/contact" rel="noopener noreferrer">' in about(client)


def test_the_about_page_says_plainly_what_is_not_given(client, settings):
    settings.ORGANISATION_NAME = settings.ORGANISATION_CONTACT = settings.ORGANISATION_ADDRESS = ""
    text = about(client)
    assert "has not given its name here yet" in text
    assert "please do not send information about a case" in text
    assert text.count("Not given yet.") == 2
    assert "mailto:" not in text
    assert "This site gives no contact address yet" in text


def test_the_settings_are_shown_as_text(client, settings):
    settings.ORGANISATION_NAME = '<script>alert("x")</script>'
    settings.ORGANISATION_ADDRESS = "<b>Street</b>"
    text = about(client)
    assert "<script>alert" not in text and "<b>Street" not in text
    assert "&lt;script&gt;" in text


def test_the_page_tells_how_cases_are_checked_sent_and_corrected(client):
    text = " ".join(re.sub(r"<[^>]+>", " ", about(client)).split())
    for words in (
        "Every fact on a case page comes from a source that is listed with it",
        "at least two people have read every case",
        "new numbered version with its own address",
        "Do not send names, places, dates, photographs or documents by ordinary e-mail",
        "Think of your family and of others still in North Korea",
        "How to ask for a correction or a removal",
        "(for example KP-0001)",
    ):
        assert words in text, words


def test_the_page_does_not_promise_a_second_reader_when_editors_may_publish_their_own_cases(client, settings):
    settings.WORKFLOW_ALLOW_SELF_PUBLISH = True
    text = about(client)
    assert "at least two people" not in text
    assert "may also publish it" in text


def test_the_example_case_id_follows_the_prefix(client, settings):
    settings.CASE_ID_PREFIX = "AB"
    assert "(for example AB-0001)" in about(client)


@pytest.mark.parametrize("contact", ["call us", "http://example.org/contact", "cases@", "javascript:alert(1)"])
def test_an_organisation_contact_that_is_no_e_mail_nor_https_address_stops_the_start(contact):
    result = start(SECRET_KEY="x" * 50, ORGANISATION_CONTACT=contact)
    assert result.returncode != 0
    assert "ORGANISATION_CONTACT=" in result.stderr
    assert "must be an e-mail address or an https:// address" in result.stderr


@pytest.mark.parametrize("contact", ["cases@example.org", "https://example.org/contact?form=1"])
def test_an_e_mail_or_https_contact_starts(contact):
    assert start(SECRET_KEY="x" * 50, ORGANISATION_CONTACT=contact).returncode == 0

"""The staff pages follow the person: the language chosen on the account, else the browser's."""

import pytest

from security.models import StaffPreferences

pytestmark = pytest.mark.django_db


def page_language(response) -> str:
    html = response.content.decode()
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_without_a_choice_the_staff_pages_follow_the_browser(caseworker_client):
    korean = caseworker_client.get("/staff/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.5")
    assert page_language(korean) == "ko"
    assert "대시보드" in korean.content.decode()
    assert korean["Content-Language"] == "ko"
    english = caseworker_client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert page_language(english) == "en"
    # The staff pages are in English and Korean only: a Japanese browser gets English.
    assert page_language(caseworker_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja")) == "en"


def test_the_sign_in_page_follows_the_browser(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="ko")
    assert page_language(response) == "ko"
    assert "로그인" in response.content.decode()


def test_the_accounts_choice_wins_over_the_browser_and_is_kept(caseworker, caseworker_client):
    response = caseworker_client.post("/staff/language/", {"language": "ko", "next": "/admin/cases/person/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/cases/person/"
    assert StaffPreferences.objects.get(user=caseworker).language == "ko"
    for path in ("/staff/", "/admin/", "/admin/cases/person/", "/staff/import/"):
        assert page_language(caseworker_client.get(path, HTTP_ACCEPT_LANGUAGE="en")) == "ko", path
    # Back to the browser's language.
    caseworker_client.post("/staff/language/", {"language": ""})
    assert StaffPreferences.objects.get(user=caseworker).language == ""
    assert page_language(caseworker_client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_the_language_page_refuses_a_language_the_staff_pages_do_not_have_and_an_outside_next(
    caseworker, caseworker_client
):
    response = caseworker_client.post("/staff/language/", {"language": "ja"})
    assert response.status_code == 200
    assert not StaffPreferences.objects.filter(user=caseworker).exists()
    response = caseworker_client.post("/staff/language/", {"language": "ko", "next": "https://evil.example/"})
    assert response["Location"] == "/staff/"


def test_the_language_page_is_for_signed_in_staff(client):
    response = client.get("/staff/language/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_staff_choice_leaves_the_public_pages_to_their_address(caseworker, caseworker_client):
    StaffPreferences.objects.create(user=caseworker, language="ko")
    assert page_language(caseworker_client.get("/")) == "en"
    assert page_language(caseworker_client.get("/ja/")) == "ja"
    # From a Korean staff page, "View site" opens the Korean public site.
    assert 'href="/ko/"' in caseworker_client.get("/staff/").content.decode()

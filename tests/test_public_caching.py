"""Caching of the public pages: cheap revalidation for proxies, never a stale page after a redaction."""

import pytest

from cases.history import save_with_history
from workflow.models import PublicGeneration
from workflow.services import withdraw

from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

SECRET_SPELLING = "Kim Hidden-spelling"


@pytest.fixture
def case():
    person = make_person(name="Kim Cheol-ok", family_name_native="김", given_name_native="철옥")
    make_variant(person, SECRET_SPELLING)
    source = make_source(title="A report that will be restricted", is_restricted=False)
    make_citation(source, status_event=make_event(person, date="2019", is_public=True), locator="p. 3")
    return publish_case(person)


PUBLIC_PAGES = ["/", "/cases/", "/cases/?q=kim", "/api/cases/", "/feed/", "/sources/", "/export/cases.csv"]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_can_be_revalidated_with_their_etag(client, case, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["ETag"]
    assert response["Last-Modified"]
    assert {"public", "no-cache", "max-age=0"} <= {part.strip() for part in response["Cache-Control"].split(",")}

    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_the_case_page_etag_changes_when_the_case_is_redacted(client, case):
    url = f"/cases/{case.case_id}/"
    first = client.get(url)
    assert SECRET_SPELLING in first.content.decode()
    assert "A report that will be restricted" in first.content.decode()

    source = case.status_events.get().citations.get().source
    source.is_restricted = True
    save_with_history(source, by=None, reason="the author asked us to")

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "A report that will be restricted" not in again.content.decode()


def test_a_cached_search_forgets_a_name_made_non_public(client, case):
    # Warm the cache with the spelling found, then hide the spelling: the
    # search must not find the case by it any more (it would tell who it is).
    assert case.case_id in client.get("/cases/?q=Kim+Hidden-spelling").content.decode()
    assert case.case_id in client.get("/api/cases/?q=Kim+Hidden-spelling").content.decode()

    variant = case.variants.get(name=SECRET_SPELLING)
    variant.is_public = False
    save_with_history(variant, by=None, reason="reprisal risk for the family")

    assert f"/cases/{case.case_id}/" not in client.get("/cases/?q=Kim+Hidden-spelling").content.decode()
    body = client.get("/api/cases/?q=Kim+Hidden-spelling").content.decode()
    assert case.case_id not in body
    assert SECRET_SPELLING not in body


def test_cached_counts_follow_publication_and_withdrawal(client, case):
    assert '"count": 1' in client.get("/api/cases/").content.decode()
    assert f"/cases/{case.case_id}/" in client.get("/cases/?status=detained").content.decode()

    other = make_person(name="Pak Yong-su")
    make_citation(make_source(title="Another report"), status_event=make_event(other, date="2020", is_public=True))
    publish_case(other)
    assert '"count": 2' in client.get("/api/cases/").content.decode()

    withdraw(case, by=None, reason="published in error")
    body = client.get("/api/cases/").content.decode()
    assert '"count": 1' in body
    assert case.case_id not in body
    assert f"/cases/{case.case_id}/" not in client.get("/cases/?status=detained").content.decode()


def test_every_change_of_the_public_data_raises_the_generation(case):
    before = PublicGeneration.current()[0]
    withdraw(case, by=None, reason="published in error")
    assert PublicGeneration.current()[0] > before


def test_a_longer_public_cache_lifetime_can_be_configured(client, case, settings):
    settings.PUBLIC_CACHE_SECONDS = 60
    response = client.get(f"/cases/{case.case_id}/")
    parts = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", "max-age=60"} <= parts
    assert "no-cache" not in parts


def test_errors_and_staff_pages_are_not_made_public(client, case, admin_user):
    missing = client.get("/cases/KP-9999/")
    assert missing.status_code == 404
    assert "public" not in missing.get("Cache-Control", "")
    bad = client.get("/cases/?status=not-a-status")
    assert bad.status_code == 400
    assert "public" not in bad.get("Cache-Control", "")
    client.force_login(admin_user)
    staff = client.get("/staff/")
    assert "no-store" in staff["Cache-Control"]
    assert "public" not in staff["Cache-Control"]

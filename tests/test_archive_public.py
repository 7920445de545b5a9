"""What the public sees of the captures of sources' pages: their date and SHA-256, and a copy only when an editor
lets them download it, of the very capture a published case cites; stopped, withdrawn or restricted, it is gone."""

import pytest
from django.urls import reverse

from archive.models import Capture
from cases.history import save_with_history

from .factories import make_capture, make_publishable_case, make_source, make_staff, publish_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_storage")]

PAGE = b"<html><body><p>The report as it was.</p><script>alert(1)</script></body></html>"


@pytest.fixture
def published(settings):
    settings.ARCHIVE_ON_SAVE = False
    source = make_source(title="Report on Yodok", url="https://example.org/yodok")
    capture = make_capture(source, body=PAGE)
    person = publish_case(make_publishable_case(name="Kim Chol-ho", source=source))
    return person, source, capture


def copy_url(capture) -> str:
    return reverse("public:source_copy", args=[capture.source_id, capture.pk])


def status(client, url: str) -> int:
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)  # read to the end, which closes the file
    return response.status_code


def act(client, action: str, capture: Capture):
    return client.post(
        reverse("admin:archive_capture_changelist"),
        {"action": action, "_selected_action": [capture.pk], "index": 0},
    )


def test_the_source_page_gives_the_capture_date_and_hash_but_no_copy(client, published):
    person, source, capture = published
    page = client.get(reverse("public:source_detail", args=[source.pk])).content.decode()
    assert f"Archived copy captured on {capture.captured_at:%Y-%m-%d}" in page
    assert capture.body_sha256 in page
    assert "How to cite this source" in page and f"SHA-256 {capture.body_sha256}" in page
    assert "Download the archived copy" not in page and "The report as it was" not in page
    assert client.get(copy_url(capture)).status_code == 404
    case_page = client.get(reverse("public:case_detail", args=[person.case_id])).content.decode()
    assert f"captured {capture.captured_at:%Y-%m-%d}, SHA-256" in case_page


def test_an_editor_lets_the_public_download_the_copy_and_stops_it_at_once(client, published):
    _, source, capture = published
    source_page = reverse("public:source_detail", args=[source.pk])
    client.get(source_page)  # kept in the page cache
    editor = make_staff("Editor")
    staff = type(client)()
    staff.force_login(editor)
    assert act(staff, "let_the_public_download", capture).status_code == 302
    capture.refresh_from_db()
    assert capture.copy_public
    assert capture.history.first().history_change_reason == "Copy made public"
    assert capture.history.first().history_user == editor

    page = client.get(source_page).content.decode()
    assert "Download the archived copy" in page and copy_url(capture) in page
    download = client.get(copy_url(capture))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PAGE
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert download["X-Content-Type-Options"] == "nosniff"

    assert act(staff, "stop_public_downloads", capture).status_code == 302
    assert client.get(copy_url(capture)).status_code == 404
    assert "Download the archived copy" not in client.get(source_page).content.decode()


def test_a_withdrawn_capture_or_a_restricted_source_takes_the_copy_off_at_once(client, published):
    _, source, capture = published
    capture.set_copy_public(True, by=None, reason="test")
    assert status(client, copy_url(capture)) == 200
    capture.withdraw(by=None, reason="It shows a witness's face")
    assert client.get(copy_url(capture)).status_code == 404

    # A later capture with the very same bytes, made public, is not the one the record cites.
    twin = make_capture(source, body=PAGE)
    twin.set_copy_public(True, by=None, reason="test")
    assert client.get(copy_url(twin)).status_code == 404
    other = make_capture(source, body=b"<html>another copy</html>")
    Capture.objects.filter(pk=capture.pk).update(withdrawn=False)
    capture.set_copy_public(True, by=None, reason="test")
    assert status(client, copy_url(capture)) == 200
    source.is_restricted = True
    save_with_history(source, by=None, reason="A witness asked")
    assert client.get(copy_url(capture)).status_code == 404
    assert not other.copy_public


def test_only_the_capture_a_published_case_cites_is_offered(client, published):
    person, source, _ = published
    later = make_capture(source, body=b"<html>changed since publication</html>")
    later.set_copy_public(True, by=None, reason="test")
    # The published record names the first capture: the later one is not offered until it is published.
    assert client.get(copy_url(later)).status_code == 404
    assert "Download the archived copy" not in client.get(f"/sources/{source.pk}/").content.decode()
    publish_case(person)
    assert copy_url(later) in client.get(f"/sources/{source.pk}/").content.decode()
    download = client.get(copy_url(later))
    assert b"".join(download.streaming_content) == b"<html>changed since publication</html>"


def test_only_whole_pages_of_public_sources_may_be_made_public(client, settings):
    settings.ARCHIVE_ON_SAVE = False
    restricted = make_source(url="https://example.org/testimony", is_restricted=True)
    gone = make_source(url="https://example.org/gone", is_restricted=False)
    captures = [make_capture(restricted), make_capture(gone, http_status=404)]
    client.force_login(make_staff("Editor"))
    for capture in captures:
        act(client, "let_the_public_download", capture)
        capture.refresh_from_db()
        assert not capture.copy_public


def test_no_copy_of_a_source_citing_a_case_at_risk_of_reprisal_may_be_made_public(client, published):
    _, source, capture = published
    at_risk = make_publishable_case(name="Ri Hidden", source=source)
    at_risk.reprisal_risk, at_risk.pseudonym = True, "Person R"
    save_with_history(at_risk, by=None, reason="test data")
    client.force_login(make_staff("Editor"))
    act(client, "let_the_public_download", capture)
    capture.refresh_from_db()
    assert not capture.copy_public and not capture.may_be_made_public
    # Made public before the case was known to be at risk: the copy is off at once.
    Capture.objects.filter(pk=capture.pk).update(copy_public=True)
    assert client.get(copy_url(capture)).status_code == 404


def test_a_capture_of_an_address_the_source_no_longer_gives_is_not_its_page(client, published):
    person, source, capture = published
    source.url = "https://example.org/moved"
    save_with_history(source, by=None, reason="The report moved")
    publish_case(person)
    page = client.get(f"/sources/{source.pk}/").content.decode()
    assert "https://example.org/moved" in page and capture.body_sha256 not in page


@pytest.mark.parametrize("role", ["Caseworker", "Researcher"])
def test_only_editors_make_a_copy_public(client, published, role):
    _, _, capture = published
    client.force_login(make_staff(role))
    act(client, "let_the_public_download", capture)
    capture.refresh_from_db()
    assert not capture.copy_public

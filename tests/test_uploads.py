"""Uploaded source documents: type from content, size limit, no twins, never at a public URL."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse

from cases.models import Status
from sources.models import Source

from .factories import admin_form_data, make_citation, make_event, make_person, make_source, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_storage")]

ADD_URL = "/admin/sources/source/add/"

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.docx", "not a PDF at all")
    return buffer.getvalue()


ZIP = _zip_bytes()
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x90" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 5


def post_source(client, **changes):
    """Fill in the admin's add-source page as a browser would, with ``changes``."""
    page = client.get(ADD_URL)
    assert page.status_code == 200
    changes.setdefault("title", "A source")
    return client.post(ADD_URL, admin_form_data(page, **changes))


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def document_errors(response) -> str:
    return " ".join(response.context["adminform"].form.errors.get("document", []))


# --- A good upload -----------------------------------------------------------------


def test_pdf_upload_is_described_by_the_server_and_stored_under_an_opaque_name(admin_client, upload_storage):
    # The browser claims text/plain: the server goes by the content, not by what it is told.
    response = post_source(
        admin_client, title="Testimony", document=upload("interview-with-kim-family.pdf", PDF, "text/plain")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get()
    source.refresh_from_db()
    assert source.sha256 == hashlib.sha256(PDF).hexdigest()
    assert source.file_size == len(PDF)
    assert source.content_type == "application/pdf"
    assert source.added_by.username == "admin"
    assert "interview" not in source.document.name
    assert "kim" not in source.document.name.lower()
    assert not source.document.name.endswith(".pdf")
    assert (upload_storage / source.document.name).read_bytes() == PDF
    assert source.history.get().history_user.username == "admin"


def test_two_uploads_of_the_same_file_name_get_different_stored_names(admin_client):
    first = post_source(admin_client, title="First", document=upload("scan.pdf", PDF + b"1"))
    second = post_source(admin_client, title="Second", document=upload("scan.pdf", PDF + b"2"))
    assert first.status_code == second.status_code == 302
    names = set(Source.objects.values_list("document", flat=True))
    assert len(names) == 2


# --- Wrong type --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("archive.zip", ZIP, "application/zip"),
        ("tool", ELF, "application/octet-stream"),
        ("setup.exe", EXE, "application/x-msdownload"),
        # The name and the browser say PDF; the content is a ZIP.
        ("report.pdf", ZIP, "application/pdf"),
        ("photo.png", EXE, "image/png"),
    ],
    ids=["zip", "elf", "exe", "zip-named-pdf", "exe-named-png"],
)
def test_a_file_of_another_type_is_refused_whatever_its_name(admin_client, upload_storage, name, content, claimed):
    response = post_source(admin_client, document=upload(name, content, claimed))
    assert response.status_code == 200
    message = document_errors(response)
    assert "not a PDF, an image (PNG, JPEG, GIF, WebP), an HTML page or plain text" in message
    assert "whatever its name says" in response.content.decode()
    assert not Source.objects.exists()
    assert not any(path.is_file() for path in upload_storage.rglob("*"))


# --- Size --------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_with_the_limit_named(admin_client, settings, upload_storage):
    settings.SOURCE_UPLOAD_MAX_BYTES = 1024
    content = PDF + b"x" * 2000
    response = post_source(admin_client, document=upload("big.pdf", content))
    assert response.status_code == 200
    message = document_errors(response)
    assert f"uploads are limited to {filesizeformat(1024)}" in message
    assert filesizeformat(1024) in response.content.decode()
    assert not Source.objects.exists()
    assert not any(path.is_file() for path in upload_storage.rglob("*"))


def test_a_file_exactly_at_the_limit_is_accepted(admin_client, settings):
    content = PDF + b"x" * (1024 - len(PDF))
    settings.SOURCE_UPLOAD_MAX_BYTES = len(content)
    response = post_source(admin_client, document=upload("exact.pdf", content))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Source.objects.get().file_size == len(content)


# --- Twins -------------------------------------------------------------------------


def test_the_same_file_uploaded_twice_is_refused_with_a_link_to_the_existing_source(admin_client):
    assert post_source(admin_client, title="UN report", document=upload("a.pdf", PDF)).status_code == 302
    existing = Source.objects.get()
    response = post_source(admin_client, title="Same report again", document=upload("renamed.pdf", PDF))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This file is already source" in body
    assert f'href="{reverse("admin:sources_source_change", args=[existing.pk])}"' in body
    assert Source.objects.count() == 1
    existing.refresh_from_db()
    assert existing.title == "UN report"


def test_uploading_another_sources_file_onto_an_existing_source_is_refused(admin_client):
    assert post_source(admin_client, title="Holder", document=upload("a.pdf", PDF)).status_code == 302
    holder = Source.objects.get()
    other = make_source(title="Other", publisher="Someone")
    url = reverse("admin:sources_source_change", args=[other.pk])
    page = admin_client.get(url)
    response = admin_client.post(url, admin_form_data(page, document=upload("again.pdf", PDF)))
    assert response.status_code == 200
    assert reverse("admin:sources_source_change", args=[holder.pk]) in response.content.decode()
    other.refresh_from_db()
    assert not other.document
    assert other.sha256 == ""


def test_the_same_url_twice_is_refused_with_a_link_and_a_different_url_is_accepted(admin_client):
    assert post_source(admin_client, title="Report", url="https://example.org/report").status_code == 302
    existing = Source.objects.get()
    response = post_source(admin_client, title="Report again", url="https://example.org/report")
    assert response.status_code == 200
    body = response.content.decode()
    assert "This URL is already source" in body
    assert f'href="{reverse("admin:sources_source_change", args=[existing.pk])}"' in body
    assert Source.objects.count() == 1

    # Typed without a scheme, it is the same https:// address.
    response = post_source(admin_client, title="Report, no scheme", url="example.org/report")
    assert response.status_code == 200
    assert "This URL is already source" in response.content.decode()
    assert Source.objects.count() == 1

    response = post_source(admin_client, title="Another report", url="https://example.org/other-report")
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Source.objects.count() == 2


# --- Accepted types ----------------------------------------------------------------


def _image(kind: str) -> bytes:
    """A real, tiny image (the upload re-encodes images, so a bare signature is not enough)."""
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(output, kind)
    return output.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.png", _image("PNG"), "image/png"),
        ("a.jpg", _image("JPEG"), "image/jpeg"),
        ("a.gif", _image("GIF"), "image/gif"),
        ("a.webp", _image("WEBP"), "image/webp"),
        ("page.html", b"<!DOCTYPE html><html><head><title>Report</title></head><body>x</body></html>", "text/html"),
        ("page.htm", b"\xef\xbb\xbf\n  <HTML><body>Report</body></HTML>", "text/html"),
        ("notes.txt", b"Interview notes, 12 March 2020.\nArrested in Hyesan.\n", "text/plain"),
        ("notes-ko.txt", "평양에서 체포되었다.\n".encode(), "text/plain"),
    ],
    ids=["png", "jpeg", "gif", "webp", "html", "html-bom-uppercase", "text", "short-korean-text"],
)
def test_images_html_and_plain_text_are_accepted(admin_client, name, content, expected):
    response = post_source(admin_client, document=upload(name, content))
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get()
    assert source.content_type == expected
    # Images are re-encoded without their metadata: the digest is that of the stored file.
    with source.document.open("rb") as handle:
        stored = handle.read()
    assert source.sha256 == hashlib.sha256(stored).hexdigest()
    assert source.file_size == len(stored)
    if not expected.startswith("image/"):
        assert stored == content


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_utf8_korean_text_is_plain_text_wherever_the_sniffed_head_ends(admin_client, padding):
    # Hangul syllables are 3 bytes in UTF-8: with 0, 1 or 2 ASCII bytes in
    # front, byte 2048 falls at each position inside a syllable.
    content = b"x" * padding + ("체포되었다" * 200).encode()
    response = post_source(admin_client, title=f"Korean notes {padding}", document=upload("notes.txt", content))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Source.objects.get().content_type == "text/plain"


# --- No public URL; the staff download ---------------------------------------------


@pytest.fixture
def uploaded(admin_client):
    response = post_source(admin_client, title="Confidential testimony", document=upload("testimony.pdf", PDF))
    assert response.status_code == 302
    return Source.objects.get()


@pytest.mark.parametrize("prefix", ["/media/", "/uploads/", "/static/", "/"])
def test_the_uploaded_copy_is_at_no_public_url(admin_client, uploaded, prefix):
    name = uploaded.document.name
    for client in (Client(), admin_client):  # neither anonymously nor even for staff
        for url in {f"{prefix}{name}", f"{prefix}{name.rsplit('/', 1)[-1]}"}:
            response = client.get(url)
            assert response.status_code == 404, url
            assert PDF not in response.content


def test_the_upload_directory_is_not_served_as_static_files():
    from casetracker import settings as project_settings

    location = str(project_settings.STORAGES["default"]["OPTIONS"]["location"]).rstrip("/")
    static_dirs = [str(project_settings.STATIC_ROOT), *map(str, project_settings.STATICFILES_DIRS)]
    for static_dir in static_dirs:
        static_dir = static_dir.rstrip("/")
        assert not location.startswith(static_dir + "/") and location != static_dir
        assert not static_dir.startswith(location + "/")
    assert not getattr(project_settings, "MEDIA_URL", "")


def test_staff_download_returns_the_exact_bytes_as_a_non_cached_attachment(admin_client, uploaded):
    response = admin_client.get(f"/staff/sources/{uploaded.pk}/document")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    response.close()
    assert response["Content-Disposition"].startswith("attachment")
    # The original name comes back (never used as a path on the server; see tests/test_upload_names.py).
    assert 'filename="testimony.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/pdf"


def test_an_html_copy_is_downloaded_never_rendered(admin_client):
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    assert post_source(admin_client, document=upload("page.html", html)).status_code == 302
    source = Source.objects.get()
    response = admin_client.get(f"/staff/sources/{source.pk}/document")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == html
    response.close()


def test_anonymous_download_is_sent_to_a_login_page(uploaded):
    client = Client()
    response = client.get(f"/staff/sources/{uploaded.pk}/document")
    assert response.status_code == 302
    assert "login" in response["Location"]
    # The login page it is sent to exists.
    login_page = client.get(response["Location"])
    assert login_page.status_code == 200


def test_download_needs_the_download_permission(uploaded):
    client = Client()
    caseworker = make_staff("Caseworker", "caseworker-no-download")
    client.force_login(caseworker)
    assert client.get(f"/staff/sources/{uploaded.pk}/document").status_code == 403

    researcher = make_staff("Researcher", "researcher")
    client.force_login(researcher)
    response = client.get(f"/staff/sources/{uploaded.pk}/document")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    response.close()


def test_download_refuses_post(admin_client, uploaded):
    assert admin_client.post(f"/staff/sources/{uploaded.pk}/document").status_code == 405


def test_download_of_a_source_without_a_document_or_of_no_source_is_404(admin_client):
    source = make_source(url="https://example.org/no-copy")
    assert admin_client.get(f"/staff/sources/{source.pk}/document").status_code == 404
    assert admin_client.get(f"/staff/sources/{source.pk + 1000}/document").status_code == 404


def test_source_change_page_links_to_its_download(admin_client):
    source = make_source(document=ContentFile(PDF, name="x.pdf"))
    response = admin_client.get(reverse("admin:sources_source_change", args=[source.pk]))
    assert response.status_code == 200
    assert f'href="/staff/sources/{source.pk}/document"' in response.content.decode()


# --- Claims citing a source --------------------------------------------------------


def test_source_change_page_lists_every_claim_citing_it(admin_client):
    source = make_source(title="UN COI report")
    person = make_person(name="Kim Kook-ki")
    event = make_event(person, Status.DETAINED, "2014-10")
    other = make_person(name="Lee Young-ho")
    other_event = make_event(other, Status.SENTENCED, "2016")
    make_citation(source, person=person, locator="para. 12")
    make_citation(source, status_event=event, locator="para. 354")
    make_citation(source, status_event=other_event, locator="p. 7")
    make_citation(make_source(title="Unrelated"), person=other, locator="p. 99")

    response = admin_client.get(reverse("admin:sources_source_change", args=[source.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{reverse("admin:cases_person_change", args=[person.pk])}"' in body
    assert f'href="{reverse("admin:cases_statusevent_change", args=[event.pk])}"' in body
    assert f'href="{reverse("admin:cases_statusevent_change", args=[other_event.pk])}"' in body
    assert "para. 12" in body and "para. 354" in body and "p. 7" in body
    assert "p. 99" not in body
    assert "(about the person)" in body

"""An uploaded copy keeps the name it had, as text: shown to staff and given back on download, never a path."""

import re
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sources.models import Source, clean_original_filename
from sources.views import download_name
from tests.conftest import admin_form_data, make_source, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_storage")]

ADD_URL = "/admin/sources/source/add/"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body>A report</body></html>"
OPAQUE = re.compile(r"sources/[0-9a-f]{32}")


def post_source(client, name: str, content: bytes = PDF, **changes):
    """The admin's add-source page, filled in and sent as a browser would, with a file named ``name``."""
    page = client.get(ADD_URL)
    assert page.status_code == 200
    document = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client.post(ADD_URL, admin_form_data(page, title="A source", document=document, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Source.objects.latest("pk")


def download(client, source: Source):
    response = client.get(reverse("sources:document", args=[source.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    response.close()
    return response, body


def test_the_original_name_is_kept_and_the_stored_name_stays_opaque(admin_client, upload_storage):
    source = post_source(admin_client, "interview-with-kim-family.pdf")

    source.refresh_from_db()
    assert source.original_filename == "interview-with-kim-family.pdf"
    assert OPAQUE.fullmatch(source.document.name)
    assert [path.name for path in (upload_storage / "sources").iterdir()] == [source.document.name.split("/")[1]]


def test_the_original_name_comes_back_on_download(admin_client):
    source = post_source(admin_client, "UN report 2014.pdf")

    response, body = download(admin_client, source)

    assert body == PDF
    assert response["Content-Disposition"] == 'attachment; filename="UN report 2014.pdf"'
    assert response["Content-Type"] == "application/pdf"


def test_a_hangul_name_comes_back_encoded_for_the_header(admin_client):
    source = post_source(admin_client, "증언 기록 (김철옥).pdf")

    response, _body = download(admin_client, source)

    assert source.original_filename == "증언 기록 (김철옥).pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''" + quote("증언 기록 (김철옥).pdf")


def test_a_name_with_a_path_is_stored_as_text_without_its_folders(admin_client, upload_storage):
    source = post_source(admin_client, "../../etc/passwd", content=b"root:x:0:0:root:/root:/bin/bash\n")

    source.refresh_from_db()
    assert source.original_filename == "passwd"
    assert OPAQUE.fullmatch(source.document.name)
    assert not (upload_storage.parent / "etc").exists()
    response, _body = download(admin_client, source)
    assert response["Content-Disposition"] == 'attachment; filename="passwd.txt"'


def test_a_name_with_quotes_is_returned_quoted(admin_client):
    source = post_source(admin_client, 'the "final" report.pdf')

    response, _body = download(admin_client, source)

    assert source.original_filename == 'the "final" report.pdf'
    assert response["Content-Disposition"] == r'attachment; filename="the \"final\" report.pdf"'


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("report\r\nSet-Cookie: x=1.pdf", "report Set-Cookie: x=1.pdf"),
        ("tab\there.pdf", "tab here.pdf"),
        ("nul\x00byte.pdf", "nul byte.pdf"),
        ("\u202eredaeh.pdf", "redaeh.pdf"),
        ("조선  보고서.pdf", "조선 보고서.pdf"),
        ("x" * 300 + ".pdf", "x" * 255),
    ],
)
def test_an_unsafe_name_is_cleaned_into_text(typed, stored):
    assert clean_original_filename(typed) == stored


@pytest.mark.parametrize(
    ("original", "header"),
    [
        ('a "quoted"\nname.pdf', r'attachment; filename="a \"quoted\" name.pdf"'),
        ("line\r\nbreak.pdf", 'attachment; filename="line break.pdf"'),
        ("../../etc/passwd", 'attachment; filename="passwd.pdf"'),
        ("보고서.pdf", "attachment; filename*=utf-8''%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf"),
    ],
)
def test_a_name_stored_by_any_path_is_given_back_safely(admin_client, original, header):
    source = make_source(document=ContentFile(PDF, name="x.pdf"))
    Source.objects.filter(pk=source.pk).update(original_filename=original, content_type="application/pdf")

    response, body = download(admin_client, source)

    assert body == PDF
    assert response["Content-Disposition"] == header
    assert "\n" not in response["Content-Disposition"] and "\r" not in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("original", "content", "given_back"),
    [
        ("report.pdf", PDF, "report.pdf"),
        ("report.PDF", PDF, "report.PDF"),
        ("report.pdf", HTML, "report.pdf.html"),
        ("notes.bat", b"echo hello\n", "notes.bat.txt"),
        ("page.htm", HTML, "page.htm"),
        ("no extension", PDF, "no extension.pdf"),
    ],
)
def test_the_extension_given_back_is_that_of_the_content(admin_client, original, content, given_back):
    source = post_source(admin_client, original, content=content)

    assert download_name(source) == given_back


def test_a_copy_uploaded_without_a_name_downloads_under_a_neutral_one(admin_client):
    source = make_source(document=ContentFile(PDF, name="x.pdf"))
    source.refresh_from_db()

    assert source.original_filename == ""
    assert download_name(source) == f"source-{source.pk}.pdf"


# The source's page --------------------------------------------------------------------------------


def test_the_page_names_the_copy_and_links_to_the_staff_download_only(admin_client):
    source = post_source(admin_client, "증언 기록.pdf")

    html = admin_client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()

    download_url = reverse("sources:document", args=[source.pk])
    assert f'<p class="file-upload">Currently: <a href="{download_url}">증언 기록.pdf</a>' in html
    assert source.document.name not in html  # the stored name is nowhere on the page
    for href in re.findall(r'href="([^"]+)"', html):
        assert "sources/" not in href or href.startswith(("/admin/", "/staff/")), href


def test_every_link_on_the_page_answers(admin_client):
    source = post_source(admin_client, "report.pdf")
    html = admin_client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()

    download_url = reverse("sources:document", args=[source.pk])
    links = {
        href
        for href in re.findall(r'href="(/[^"]*)"', html)
        if "logout" not in href and not href.startswith("/static/")
    }
    assert download_url in links
    # The download itself is a streamed file, answered in the tests above; every other link is a page.
    for href in links - {download_url}:
        response = admin_client.get(href)
        assert response.status_code != 404, href


def test_the_page_has_no_clear_box(admin_client):
    source = post_source(admin_client, "report.pdf")

    html = admin_client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()

    assert "document-clear" not in html
    assert 'type="checkbox" name="document' not in html
    assert "Clear" not in html


def test_posting_a_clear_box_anyway_keeps_the_document(admin_client):
    source = post_source(admin_client, "report.pdf")
    url = reverse("admin:sources_source_change", args=[source.pk])
    page = admin_client.get(url)

    response = admin_client.post(url, admin_form_data(page, **{"document-clear": "on"}))

    assert response.status_code == 302
    source.refresh_from_db()
    assert source.document and source.original_filename == "report.pdf"
    assert source.sha256


def test_uploading_another_file_replaces_the_copy_and_the_history_keeps_the_first(admin_client):
    source = post_source(admin_client, "first draft.pdf")
    first = source.document.name
    url = reverse("admin:sources_source_change", args=[source.pk])
    page = admin_client.get(url)
    second = SimpleUploadedFile("final.pdf", PDF + b"% final\n", content_type="application/pdf")

    response = admin_client.post(url, admin_form_data(page, document=second))

    assert response.status_code == 302
    source.refresh_from_db()
    assert source.original_filename == "final.pdf" and source.document.name != first
    assert {row.original_filename for row in source.history.all()} == {"first draft.pdf", "final.pdf"}
    assert first in {row.document for row in source.history.all()}


def test_a_caseworker_sees_the_name_without_a_link_to_a_storage_address(client):
    admin = make_staff("Editor", "editor")
    client.force_login(admin)
    source = post_source(client, "testimony.pdf")
    client.force_login(make_staff("Caseworker", "caseworker"))

    response = client.get(reverse("admin:sources_source_change", args=[source.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "testimony.pdf" in html
    assert source.document.name not in html
    assert 'type="file"' not in html


def test_an_add_page_sent_back_with_an_error_and_a_file_is_shown_again_not_a_server_error(admin_client):
    page = admin_client.get(ADD_URL)
    document = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    response = admin_client.post(ADD_URL, admin_form_data(page, title="", document=document))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["title"]
    assert not Source.objects.exists()

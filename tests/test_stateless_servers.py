"""Two servers behind a balancer behave as one: an import previewed on one is confirmed on the other, once; a
source's uploaded copy lost from the file store or damaged there gets a clear page, never a 500 nor a wrong file."""

import csv
import datetime
import hashlib
import io
import logging
import threading
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.test import Client
from django.utils import timezone

from cases.models import Person, StatusEvent
from exchange import views as exchange_views
from exchange.csv_format import COLUMNS
from exchange.models import ImportPreview
from security.models import AuditEvent
from sources.models import Source

from .conftest import in_thread, make_source, make_staff, make_user, postgresql_only

URL = "/staff/import/"
CONFIRM = "/staff/import/confirm/"
EXPIRED = "This preview has expired or was already imported: upload the file again."
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

KIM = {"external_ref": "ORG-1", "name": "Kim Example", "status": "Arrested", "status_date": "2014-10"}
WITH_SOURCE = {**KIM, "source_title": "A report nobody has added yet", "source_url": "https://example.org/report"}


pytestmark = pytest.mark.usefixtures("upload_storage")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def csv_bytes(*rows: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(column, "") for column in COLUMNS])
    return out.getvalue().encode("utf-8")


def server(user) -> Client:
    """A browser reaching a server that shares only the database with the others: a session of its own,
    and nothing the previous server kept in its memory."""
    for cache in caches.all():
        cache.clear()
    client = Client()
    client.force_login(user)
    return client


def preview(user, data: bytes, name: str = "cases.csv") -> str:
    file = io.BytesIO(data)
    file.name = name
    response = server(user).post(URL, {"file": file})
    assert response.status_code == 200, response.content.decode()
    return response.context["token"]


# --- The import preview lives in the database ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_preview_made_on_one_server_is_confirmed_on_another():
    editor = make_staff("Editor", "editor")
    token = preview(editor, csv_bytes(KIM), name="from-the-field.csv")
    kept = ImportPreview.objects.get()
    assert kept.owner == editor and kept.filename == "from-the-field.csv"
    assert bytes(kept.data) == csv_bytes(KIM)
    assert kept.expires - kept.created == datetime.timedelta(hours=1)
    assert len(kept.pk) >= 40  # 256 random bits

    response = server(editor).post(CONFIRM, {"token": token})

    assert response.status_code == 200
    assert "Imported from-the-field.csv" in response.content.decode()
    person = Person.objects.get()
    assert person.name == "Kim Example"
    assert {row.history_user for row in Person.history.all()} == {editor}
    assert not ImportPreview.objects.exists()


@pytest.mark.django_db
def test_another_users_confirmation_is_refused_and_the_preview_stays_for_its_owner():
    editor = make_staff("Editor", "editor")
    token = preview(editor, csv_bytes(KIM))

    response = server(make_staff("Editor", "other-editor")).post(CONFIRM, {"token": token})

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert not Person.objects.exists()
    assert ImportPreview.objects.filter(owner=editor).exists()
    assert server(editor).post(CONFIRM, {"token": token}).status_code == 200
    assert Person.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "nonsense", "a" * 43])
def test_a_made_up_token_is_refused(token):
    editor = make_staff("Editor", "editor")
    preview(editor, csv_bytes(KIM))

    response = server(editor).post(CONFIRM, {"token": token})

    assert response.status_code == 400 and EXPIRED in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_the_preview_id_alone_is_not_a_token():
    editor = make_staff("Editor", "editor")
    preview(editor, csv_bytes(KIM))

    response = server(editor).post(CONFIRM, {"token": ImportPreview.objects.get().pk})

    assert response.status_code == 400
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_an_expired_preview_is_refused_with_a_clear_message_and_deleted():
    editor = make_staff("Editor", "editor")
    token = preview(editor, csv_bytes(KIM))
    ImportPreview.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))

    response = server(editor).post(CONFIRM, {"token": token})

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert not Person.objects.exists()
    assert not ImportPreview.objects.exists()


@pytest.mark.django_db
def test_a_second_confirmation_is_refused_and_nothing_is_imported_twice():
    editor = make_staff("Editor", "editor")
    token = preview(editor, csv_bytes(KIM))
    assert server(editor).post(CONFIRM, {"token": token}).status_code == 200
    histories = (Person.history.count(), StatusEvent.history.count())

    again = server(editor).post(CONFIRM, {"token": token})

    assert again.status_code == 400 and EXPIRED in again.content.decode()
    assert Person.objects.count() == 1 and StatusEvent.objects.count() == 1
    assert (Person.history.count(), StatusEvent.history.count()) == histories


@pytest.mark.django_db
def test_an_import_refused_at_confirmation_keeps_the_preview():
    editor = make_staff("Editor", "editor")
    token = preview(editor, csv_bytes(WITH_SOURCE))
    # Between the preview and the confirmation, the editor becomes a caseworker, who may not add sources.
    editor.groups.set([Group.objects.get(name="Caseworker")])

    refused = server(editor).post(CONFIRM, {"token": token})

    assert refused.status_code == 400
    assert "nothing was written" in refused.content.decode()
    assert not Person.objects.exists() and not Source.objects.exists()
    assert ImportPreview.objects.count() == 1
    editor.groups.set([Group.objects.get(name="Editor")])
    assert server(editor).post(CONFIRM, {"token": token}).status_code == 200
    assert Person.objects.count() == 1 and Source.objects.count() == 1
    assert not ImportPreview.objects.exists()


@pytest.mark.django_db
def test_making_a_preview_deletes_the_expired_ones_of_every_user():
    editor, other = make_staff("Editor", "editor"), make_staff("Caseworker", "caseworker")
    preview(other, csv_bytes(KIM))
    live = preview(editor, csv_bytes(KIM))
    ImportPreview.objects.filter(owner=other).update(expires=timezone.now() - datetime.timedelta(minutes=1))
    assert ImportPreview.objects.count() == 2

    preview(editor, csv_bytes({**KIM, "name": "Kim Other"}))

    assert not ImportPreview.objects.filter(owner=other).exists()
    assert ImportPreview.objects.filter(owner=editor).count() == 2
    assert server(editor).post(CONFIRM, {"token": live}).status_code == 200


@pytest.mark.django_db
def test_a_preview_checked_with_problems_is_not_kept():
    editor = make_staff("Editor", "editor")
    file = io.BytesIO(csv_bytes({**KIM, "status": "gone"}))
    file.name = "cases.csv"

    response = server(editor).post(URL, {"file": file})

    assert response.status_code == 400
    assert not ImportPreview.objects.exists()


def test_the_preview_is_in_no_admin_and_has_no_permissions_to_grant():
    assert ImportPreview not in admin.site._registry
    assert ImportPreview._meta.default_permissions == ()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_servers_confirming_the_same_preview_at_once_import_it_once(monkeypatch):
    # A transactional test may follow another that emptied the tables, the roles' groups with them.
    editor = make_user("editor", is_staff=True, is_superuser=True)
    token = preview(editor, csv_bytes(KIM))
    first, second = server(editor), server(editor)
    importing, finish = threading.Event(), threading.Event()
    real_import = exchange_views.import_cases
    responses, errors = [], []

    def slow_import(*args, **kwargs):
        # The first confirmation holds the preview locked while it imports.
        if not importing.is_set():
            importing.set()
            finish.wait(10)
        return real_import(*args, **kwargs)

    monkeypatch.setattr(exchange_views, "import_cases", slow_import)
    threads = [
        in_thread(lambda: responses.append(first.post(CONFIRM, {"token": token})), errors),
        in_thread(lambda: responses.append(second.post(CONFIRM, {"token": token})), errors),
    ]
    threads[0].start()
    assert importing.wait(10)
    threads[1].start()
    threads[1].join(timeout=1)
    waited = threads[1].is_alive()  # the second waits for the first's lock
    finish.set()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert waited
    assert sorted(response.status_code for response in responses) == [200, 400]
    assert Person.objects.count() == 1 and StatusEvent.objects.count() == 1
    assert not ImportPreview.objects.exists()


# --- A source's uploaded copy, missing or damaged ---------------------------------------------------------------


def document_url(source: Source) -> str:
    return f"/staff/sources/{source.pk}/document"


@pytest.fixture
def uploaded(db) -> Source:
    source = make_source(
        title="Confidential testimony",
        document=ContentFile(PDF, name="testimony.pdf"),
        original_filename="testimony.pdf",
    )
    source.refresh_from_db()
    assert source.sha256 == hashlib.sha256(PDF).hexdigest()
    return source


def downloads_refused(source: Source) -> int:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.DOCUMENT_DOWNLOADED, target__startswith=f"source {source.pk}:"
    ).count()


def test_an_intact_copy_downloads_as_before(admin_client, uploaded):
    response = admin_client.get(document_url(uploaded))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="testimony.pdf"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DOCUMENT_DOWNLOADED, target=f"source {uploaded.pk}"
    ).exists()
    assert downloads_refused(uploaded) == 0
    # Closed last: closing a streamed response ends the request, which closes the test's database connection.
    response.close()


def test_a_copy_missing_from_the_file_store_gets_a_clear_page_not_a_500(admin_client, uploaded, caplog):
    default_storage.delete(uploaded.document.name)

    with caplog.at_level(logging.ERROR, logger="sources.views"):
        response = admin_client.get(document_url(uploaded))

    assert response.status_code == 404
    html = response.content.decode()
    assert "The uploaded copy of this source is missing from the file store." in html
    assert "An administrator can restore it from the backup." in html
    assert "Confidential testimony" in html
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert f"Source {uploaded.pk}:" in caplog.records[0].getMessage()


def test_a_storage_that_fails_otherwise_gets_the_same_page(admin_client, uploaded, monkeypatch, caplog):
    def unreachable(self, name, mode="rb"):
        raise RuntimeError("the object store did not answer")

    monkeypatch.setattr(FileSystemStorage, "open", unreachable)

    with caplog.at_level(logging.ERROR, logger="sources.views"):
        response = admin_client.get(document_url(uploaded))

    assert response.status_code == 404
    assert "missing from the file store" in response.content.decode()
    assert "the object store did not answer" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    "damaged",
    [PDF.replace(b"Catalog", b"Katalog"), PDF + b"% appended later\n", PDF[:-10]],
    ids=["same size", "grown", "cut short"],
)
def test_a_copy_that_no_longer_matches_its_checksum_is_refused(admin_client, uploaded, upload_storage, damaged, caplog):
    (Path(upload_storage) / uploaded.document.name).write_bytes(damaged)

    with caplog.at_level(logging.ERROR, logger="sources.views"):
        response = admin_client.get(document_url(uploaded))

    assert response.status_code == 409
    html = response.content.decode()
    assert "The stored copy does not match the checksum recorded at upload: it may be damaged." in html
    assert "restore it from the backup" in html
    assert damaged not in response.content
    assert f"Source {uploaded.pk}:" in caplog.records[0].getMessage()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOCUMENT_DOWNLOADED, target__startswith="source")
    assert event.target == f"source {uploaded.pk}: refused, checksum mismatch"
    assert event.details["refused"] == "checksum_mismatch"
    assert event.details["recorded_sha256"] == uploaded.sha256
    assert event.actor.username == "admin"
    uploaded.refresh_from_db()
    assert uploaded.sha256 == hashlib.sha256(PDF).hexdigest()


def test_the_refusal_pages_are_for_staff_who_may_download_only(uploaded):
    default_storage.delete(uploaded.document.name)
    client = Client()
    client.force_login(make_staff("Caseworker", "caseworker"))

    assert client.get(document_url(uploaded)).status_code == 403

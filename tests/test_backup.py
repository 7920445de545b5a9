"""Backup and restore: everything saved, restored into an empty database, verified table by table and file by file."""

import hashlib
import io
import json
import sqlite3
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from cases.models import Person
from security.backup import MANIFEST, file_checksums, table_checksums
from security.models import AuditEvent
from sources.models import Source

from .factories import make_source

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENT = b"%PDF-1.4\n% a confidential testimony\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    location = tmp_path / "media"
    location.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    return location


def _pg_params() -> dict:
    settings_dict = connection.settings_dict
    params = {
        "host": settings_dict.get("HOST") or "",
        "port": str(settings_dict.get("PORT") or ""),
        "user": settings_dict.get("USER") or "",
        "password": settings_dict.get("PASSWORD") or "",
    }
    return {key: value for key, value in params.items() if value}


def _pg_url(name: str) -> str:
    params = _pg_params()
    credentials = params.get("user", "")
    if params.get("password"):
        credentials += f":{params['password']}"
    host = params.get("host", "localhost") + (f":{params['port']}" if params.get("port") else "")
    return f"postgres://{credentials}@{host}/{name}" if credentials else f"postgres://{host}/{name}"


@pytest.fixture
def empty_database(tmp_path):
    """A factory of URLs of new, empty databases of this test run's engine; PostgreSQL ones are dropped after."""
    created: list[str] = []

    def make() -> str:
        name = f"restore_test_{uuid.uuid4().hex[:12]}"
        if connection.vendor == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        with psycopg.connect(dbname="postgres", autocommit=True, **_pg_params()) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _pg_url(name)

    yield make
    if created:
        with psycopg.connect(dbname="postgres", autocommit=True, **_pg_params()) as admin:
            for name in created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_restored(url: str):
    if url.startswith("sqlite:///"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    name = url.rsplit("/", 1)[1]
    return psycopg.connect(dbname=name, **_pg_params())


def archive_manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


def rewrite_archive(archive: Path, destination: Path, change) -> None:
    """Copy ``archive`` to ``destination``, passing each member's bytes through ``change(name, data)``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(destination, "w:gz") as target:
        for member in source.getmembers():
            if not member.isfile():
                target.addfile(member)
                continue
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))


def backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    return out.getvalue()


def restore(archive: Path, url: str, uploads: Path) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), database_url=url, uploads=str(uploads), stdout=out)
    return out.getvalue()


@pytest.fixture
def saved(media, tmp_path):
    """The seed and one uploaded document, backed up."""
    call_command("load_seed", stdout=io.StringIO())
    source = make_source(title="Uploaded testimony", document=ContentFile(DOCUMENT, name="testimony.pdf"))
    archive = tmp_path / "backup.tar.gz"
    output = backup(archive)
    assert "Backed up" in output
    return archive, source


def test_a_backup_restores_into_an_empty_database_exactly(saved, empty_database, tmp_path):
    archive, source = saved
    manifest = archive_manifest(archive)
    assert manifest["engine"] == connection.vendor
    assert {"cases_person", "cases_historicalperson", "sources_source", "security_auditevent"} <= set(
        manifest["tables"]
    )
    assert manifest["files"] == {source.document.name: hashlib.sha256(DOCUMENT).hexdigest()}

    url, uploads = empty_database(), tmp_path / "restored-uploads"
    output = restore(archive, url, uploads)
    assert "Restored and verified" in output

    # Checked again here, independently of the command's own verification.
    restored = open_restored(url)
    try:
        assert table_checksums(restored) == manifest["tables"]
        cursor = restored.cursor()
        cursor.execute("SELECT case_id FROM cases_person ORDER BY case_id")
        assert [row[0] for row in cursor.fetchall()] == list(
            Person.objects.order_by("case_id").values_list("case_id", flat=True)
        )
        cursor.execute("SELECT count(*) FROM cases_historicalperson")
        assert cursor.fetchone()[0] == Person.history.count()
        cursor.execute(f"SELECT sha256 FROM sources_source WHERE id = {int(source.pk)}")  # noqa: S608
        assert cursor.fetchone()[0] == hashlib.sha256(DOCUMENT).hexdigest()
    finally:
        restored.close()
    assert (uploads / source.document.name).read_bytes() == DOCUMENT
    assert file_checksums(uploads) == manifest["files"]


def plain_connection():
    """A DB-API connection to the test database without Django's type conversions, as the backup reads it."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return sqlite3.connect(name, uri=str(name).startswith("file:"))
    return psycopg.connect(dbname=name, **_pg_params())


def test_the_manifest_describes_the_database_as_it_was(saved):
    archive, _source = saved
    # Nothing was written since the backup, whose own audit event is part of it.
    live = plain_connection()
    try:
        assert table_checksums(live) == archive_manifest(archive)["tables"]
    finally:
        live.close()
    assert AuditEvent.objects.filter(action="backup").count() == 1


def test_restoring_into_a_database_that_is_not_empty_is_refused(saved, empty_database, tmp_path):
    archive, _source = saved
    url = empty_database()
    restore(archive, url, tmp_path / "first")
    restored = open_restored(url)
    before = table_checksums(restored)
    restored.close()

    with pytest.raises(CommandError, match=r"not empty|exists"):
        restore(archive, url, tmp_path / "second")
    restored = open_restored(url)
    assert table_checksums(restored) == before  # left as it was
    restored.close()
    assert not (tmp_path / "second").exists() or not any((tmp_path / "second").iterdir())


def test_restoring_into_an_uploads_folder_that_is_not_empty_is_refused(saved, empty_database, tmp_path):
    archive, _source = saved
    uploads = tmp_path / "busy"
    uploads.mkdir()
    (uploads / "someone-elses-file.pdf").write_bytes(b"keep me")
    url = empty_database()
    with pytest.raises(CommandError, match="not empty"):
        restore(archive, url, uploads)
    assert (uploads / "someone-elses-file.pdf").read_bytes() == b"keep me"
    assert sorted(path.name for path in uploads.iterdir()) == ["someone-elses-file.pdf"]


def test_a_tampered_table_checksum_is_detected(saved, empty_database, tmp_path):
    archive, _source = saved

    def tamper(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        count, digest = manifest["tables"]["cases_person"].split(":")
        manifest["tables"]["cases_person"] = f"{count}:{'0' * len(digest)}"
        return json.dumps(manifest).encode()

    tampered = tmp_path / "tampered.tar.gz"
    rewrite_archive(archive, tampered, tamper)
    with pytest.raises(CommandError, match="cases_person"):
        restore(tampered, empty_database(), tmp_path / "uploads-tampered")


def test_a_tampered_uploaded_file_is_detected(saved, empty_database, tmp_path):
    archive, _source = saved

    def tamper(name, data):
        return data.replace(b"confidential", b"CONFIDENTIAL") if name.startswith("uploads/") else data

    tampered = tmp_path / "tampered.tar.gz"
    rewrite_archive(archive, tampered, tamper)
    with pytest.raises(CommandError, match="files differ"):
        restore(tampered, empty_database(), tmp_path / "uploads-tampered")


def test_a_missing_table_is_detected(saved, empty_database, tmp_path):
    archive, _source = saved

    def tamper(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["tables"]["a_table_that_was_lost"] = "1:" + "0" * 64
        return json.dumps(manifest).encode()

    tampered = tmp_path / "tampered.tar.gz"
    rewrite_archive(archive, tampered, tamper)
    with pytest.raises(CommandError):
        restore(tampered, empty_database(), tmp_path / "uploads-tampered")


def test_an_archive_of_one_engine_is_not_restored_into_the_other(saved, tmp_path):
    archive, _source = saved
    other = "postgres://nobody@127.0.0.1:1/none" if connection.vendor == "sqlite" else f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(CommandError, match="restore it to"):
        restore(archive, other, tmp_path / "uploads-other")


def test_a_backup_does_not_overwrite_an_existing_file(media, tmp_path):
    existing = tmp_path / "existing.tar.gz"
    existing.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="exists"):
        backup(existing)
    assert existing.read_bytes() == b"an older backup"


def test_a_backup_without_uploads_restores_too(media, empty_database, tmp_path):
    make_source(title="Only a URL", url="https://example.org/report")
    archive = tmp_path / "backup.tar.gz"
    backup(archive)
    assert archive_manifest(archive)["files"] == {}
    url = empty_database()
    restore(archive, url, tmp_path / "uploads")
    restored = open_restored(url)
    cursor = restored.cursor()
    cursor.execute("SELECT title FROM sources_source")
    assert [row[0] for row in cursor.fetchall()] == ["Only a URL"]
    restored.close()
    assert Source.objects.count() == 1

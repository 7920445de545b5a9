"""Files shared by several servers: uploaded documents and data releases in a private bucket of an S3-compatible
store (S3_BUCKET…), backed up and restored through the storage, into an empty bucket or an empty folder."""

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from casetracker.settings import BASE_DIR
from casetracker.settings import s3_storage as s3_storage_settings
from public.releases import build_release
from sources.models import Source

from .factories import admin_form_data, make_publishable_case, make_source, publish_case
from .s3 import KEYS, s3_server, s3_storage  # noqa: F401 (fixtures)
from .test_backup import archive_manifest, empty_database, open_restored  # noqa: F401 (a fixture)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TESTIMONY = b"%PDF-1.4\n% a confidential testimony, kept in the bucket\n%%EOF\n"
ADD_URL = "/admin/sources/source/add/"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def local_media_root() -> Path:
    return Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "uploads"))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Uploaded documents ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_uploaded_document_is_kept_in_the_bucket_and_staff_download_it_unchanged(admin_client, s3_storage):  # noqa: F811
    page = admin_client.get(ADD_URL)
    document = SimpleUploadedFile("interview.pdf", PDF, content_type="application/pdf")
    response = admin_client.post(ADD_URL, admin_form_data(page, title="Testimony", document=document))
    assert response.status_code == 302, response.context["adminform"].form.errors

    source = Source.objects.get()
    assert source.sha256 == hashlib.sha256(PDF).hexdigest()
    assert s3_storage.object_keys() == [source.document.name]
    assert s3_storage.read(source.document.name) == PDF
    assert not (local_media_root() / source.document.name).exists()
    # Private: no grant to everyone, only the owner's.
    grants = s3_storage.client.get_object_acl(Bucket=s3_storage.name, Key=source.document.name)["Grants"]
    assert ALL_USERS not in {grant["Grantee"].get("URI") for grant in grants}

    download = admin_client.get(f"/staff/sources/{source.pk}/document")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert body(download) == PDF
    # No page hands out the store's address: staff go through the view.
    change_page = admin_client.get(f"/admin/sources/source/{source.pk}/change/")
    assert s3_storage.endpoint not in change_page.content.decode()


@pytest.mark.django_db
def test_a_second_file_of_the_same_name_never_replaces_the_first(s3_storage):  # noqa: F811
    first = default_storage.save("sources/same-name", ContentFile(b"first"))
    second = default_storage.save("sources/same-name", ContentFile(b"second"))
    assert first != second
    assert s3_storage.read(first) == b"first"
    assert s3_storage.read(second) == b"second"


@pytest.mark.django_db
def test_s3_prefix_keeps_every_file_in_its_folder_of_the_bucket(settings, s3_storage, monkeypatch):  # noqa: F811
    for name, value in s3_storage.environment.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage_settings(s3_storage.name, "/whereabouts/prod/")}
    source = make_source(title="Prefixed", document=ContentFile(PDF, name="report.pdf"))
    assert s3_storage.object_keys() == [f"whereabouts/prod/{source.document.name}"]
    source.refresh_from_db()
    with source.document.open("rb") as handle:
        assert handle.read() == PDF


# --- Data releases -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_data_release_is_built_into_the_bucket_and_served_from_data(client, s3_storage):  # noqa: F811
    publish_case(make_publishable_case(name="Kim Chol-su"))
    release = build_release()
    assert release.built_at is not None
    assert release.withdrawn_at is None
    paths = {entry["path"] for entry in release.files}
    assert paths and paths == set(s3_storage.object_keys())
    assert all(path.startswith(release.folder) for path in paths)

    entry = release.file("cases.csv")
    response = client.get(f"/data/{release.number}/cases.csv")
    assert response.status_code == 200
    served = body(response)
    assert served == s3_storage.read(entry["path"])
    assert hashlib.sha256(served).hexdigest() == entry["sha256"]
    assert "Kim Chol-su" in served.decode()


# --- Backup and restore ------------------------------------------------------------------------------------


def backup(path: Path) -> dict:
    call_command("backup", str(path), stdout=io.StringIO())
    return archive_manifest(path)


def restore(archive: Path, url: str, uploads: str) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), database_url=url, uploads=uploads, stdout=out)
    return out.getvalue()


def source_count(url: str) -> int:
    restored = open_restored(url)
    try:
        cursor = restored.cursor()
        cursor.execute("SELECT count(*) FROM sources_source")
        return cursor.fetchone()[0]
    finally:
        restored.close()


@pytest.fixture
def saved_from_the_bucket(s3_storage, tmp_path):  # noqa: F811
    """A document and a data release in the bucket, backed up."""
    source = make_source(title="Uploaded testimony", document=ContentFile(TESTIMONY, name="testimony.pdf"))
    publish_case(make_publishable_case(name="Pak Yong-ho"))
    release = build_release()
    archive = tmp_path / "backup.tar.gz"
    manifest = backup(archive)
    return archive, manifest, source, release


@pytest.mark.django_db(transaction=True)
def test_a_backup_reads_every_file_from_the_bucket(saved_from_the_bucket, s3_storage):  # noqa: F811
    _archive, manifest, source, release = saved_from_the_bucket
    assert manifest["files"][source.document.name] == hashlib.sha256(TESTIMONY).hexdigest()
    assert set(manifest["files"]) == set(s3_storage.object_keys())
    assert {entry["path"] for entry in release.files} <= set(manifest["files"])
    stored = {key: hashlib.sha256(s3_storage.read(key)).hexdigest() for key in s3_storage.object_keys()}
    assert manifest["files"] == stored


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_the_bucket_restores_into_an_empty_bucket_and_into_an_empty_folder(
    saved_from_the_bucket,
    s3_storage,  # noqa: F811
    empty_database,  # noqa: F811
    tmp_path,
):
    archive, manifest, source, _release = saved_from_the_bucket

    target = s3_storage.new_bucket()
    url = empty_database()
    output = restore(archive, url, f"s3://{target}/restored")
    assert f"Restored and verified {len(manifest['tables'])} tables and {len(manifest['files'])} files" in output
    assert s3_storage.object_keys(target) == sorted(f"restored/{name}" for name in manifest["files"])
    assert s3_storage.read(f"restored/{source.document.name}", target) == TESTIMONY
    assert source_count(url) == Source.objects.count()

    folder = tmp_path / "restored-uploads"
    restore(archive, empty_database(), str(folder))
    assert (folder / source.document.name).read_bytes() == TESTIMONY
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() for path in files} == (
        manifest["files"]
    )
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}
    assert {stat.S_IMODE(path.stat().st_mode) for path in [folder, *folder.rglob("*")] if path.is_dir()} == {0o700}


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_a_folder_restores_into_an_empty_bucket(settings, s3_storage, empty_database, tmp_path):  # noqa: F811
    media = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    source = make_source(title="On one server", document=ContentFile(TESTIMONY, name="testimony.pdf"))
    assert (media / source.document.name).read_bytes() == TESTIMONY
    archive = tmp_path / "backup.tar.gz"
    manifest = backup(archive)

    target = s3_storage.new_bucket()
    restore(archive, empty_database(), f"s3://{target}")
    assert s3_storage.object_keys(target) == [source.document.name]
    assert s3_storage.read(source.document.name, target) == TESTIMONY
    assert manifest["files"] == {source.document.name: hashlib.sha256(TESTIMONY).hexdigest()}


@pytest.mark.django_db(transaction=True)
def test_a_restore_without_uploads_writes_into_the_configured_bucket(
    settings,
    saved_from_the_bucket,
    s3_storage,  # noqa: F811
    empty_database,  # noqa: F811
):
    archive, manifest, _source, _release = saved_from_the_bucket
    with pytest.raises(CommandError, match=rf"s3://{s3_storage.name} is not empty"):
        call_command("restore", str(archive), database_url=empty_database(), stdout=io.StringIO())

    # The same deployment, given a new bucket (as after losing the old one).
    target = s3_storage.new_bucket()
    configured = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**configured, "OPTIONS": {**configured["OPTIONS"], "bucket_name": target}},
    }
    output = io.StringIO()
    call_command("restore", str(archive), database_url=empty_database(), stdout=output)
    assert f"into s3://{target} " in output.getvalue()
    assert s3_storage.object_keys(target) == sorted(manifest["files"])


@pytest.mark.django_db(transaction=True)
def test_restoring_into_a_bucket_that_is_not_empty_is_refused(
    saved_from_the_bucket,
    s3_storage,  # noqa: F811
    empty_database,  # noqa: F811
    tmp_path,
):
    archive, manifest, _source, _release = saved_from_the_bucket
    target = s3_storage.new_bucket()
    s3_storage.client.put_object(Bucket=target, Key="someone-elses-file.pdf", Body=b"keep me")
    database = tmp_path / "never-made.sqlite3"
    url = f"sqlite:///{database}" if connection.vendor == "sqlite" else "postgres://nobody@127.0.0.1:1/none"

    with pytest.raises(CommandError, match=rf"s3://{target} is not empty: restore into an empty bucket"):
        restore(archive, url, f"s3://{target}")
    assert s3_storage.object_keys(target) == ["someone-elses-file.pdf"]
    assert s3_storage.read("someone-elses-file.pdf", target) == b"keep me"
    assert not database.exists()  # refused before the database was touched

    # An empty folder of that bucket may take them.
    restore(archive, empty_database(), f"s3://{target}/restored")
    assert s3_storage.object_keys(target) == sorted(
        ["someone-elses-file.pdf", *(f"restored/{name}" for name in manifest["files"])]
    )


@pytest.mark.django_db(transaction=True)
def test_a_file_changed_in_the_archive_is_detected_after_writing_it_to_the_bucket(
    saved_from_the_bucket,
    s3_storage,  # noqa: F811
    empty_database,  # noqa: F811
    tmp_path,
):
    from .test_backup import rewrite_archive

    archive, _manifest, _source, _release = saved_from_the_bucket
    tampered = tmp_path / "tampered.tar.gz"
    rewrite_archive(
        archive,
        tampered,
        lambda name, data: data.replace(b"confidential", b"CONFIDENTIAL") if "uploads/" in name else data,
    )
    with pytest.raises(CommandError, match="files differ"):
        restore(tampered, empty_database(), f"s3://{s3_storage.new_bucket()}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", ["s3://", "s3:///folder", "s3://bucket/../elsewhere", "s3://bucket/a//b", "s3://key:secret@bucket"]
)
def test_a_target_that_is_not_a_bucket_is_refused_with_a_clear_message(target, tmp_path):
    archive = tmp_path / "any.tar.gz"
    archive.write_bytes(b"")
    with pytest.raises(CommandError, match="is not a bucket: write s3://BUCKET or s3://BUCKET/FOLDER"):
        restore(archive, f"sqlite:///{tmp_path / 'db.sqlite3'}", target)


@pytest.mark.django_db(transaction=True)
def test_a_bucket_that_does_not_exist_is_named_in_the_message(saved_from_the_bucket, tmp_path):
    archive, _manifest, _source, _release = saved_from_the_bucket
    with pytest.raises(CommandError, match=r"s3://no-such-bucket-here cannot be read or written: .*NoSuchBucket"):
        restore(archive, f"sqlite:///{tmp_path / 'db.sqlite3'}", "s3://no-such-bucket-here")


@pytest.mark.django_db(transaction=True)
def test_a_backup_whose_bucket_cannot_be_read_fails_with_a_message_and_leaves_no_archive(
    settings,
    s3_storage,  # noqa: F811
    tmp_path,
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket-here"},
        },
    }
    archive = tmp_path / "backup.tar.gz"
    with pytest.raises(CommandError, match=r"s3://no-such-bucket-here cannot be read or written: .*NoSuchBucket"):
        backup(archive)
    assert not archive.exists()


# --- Settings ----------------------------------------------------------------------------------------------


def start(command: list[str], **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DEBUG" and not key.startswith("S3_")}
    environment.update({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x" * 50, **env})
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *command],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


DEFAULT_STORAGE = [
    "shell",
    "-c",
    "import json; from django.conf import settings; print(json.dumps(settings.STORAGES['default']))",
]


def default_storage_of(**env) -> dict:
    result = start(DEFAULT_STORAGE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_s3_bucket_the_files_stay_in_the_local_folder(tmp_path):
    storage = default_storage_of(MEDIA_ROOT=str(tmp_path), S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert storage == {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}


def test_s3_bucket_makes_a_private_bucket_the_default_storage():
    storage = default_storage_of(
        S3_BUCKET="whereabouts-files",
        S3_PREFIX="production/",
        S3_ENDPOINT_URL="https://minio.example.org:9000",
        S3_REGION="eu-west-2",
        **KEYS,
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "whereabouts-files"
    assert options["location"] == "production"
    assert options["endpoint_url"] == "https://minio.example.org:9000"
    assert options["region_name"] == "eu-west-2"
    assert (options["access_key"], options["secret_key"]) == ("testing", "testing")
    assert options["default_acl"] is None
    assert options["file_overwrite"] is False
    assert options["querystring_auth"] is True  # any address of a file is signed and expires
    assert options["custom_domain"] is None


def test_without_keys_boto3s_own_credentials_apply():
    options = default_storage_of(S3_BUCKET="whereabouts-files")["OPTIONS"]
    assert "access_key" not in options
    assert "secret_key" not in options
    assert options["endpoint_url"] is None  # AWS S3
    assert options["region_name"] == "us-east-1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S3_ENDPOINT_URL": "ftp://files.example.org"}, "S3_ENDPOINT_URL='ftp://files.example.org' must be"),
        ({"S3_ENDPOINT_URL": "127.0.0.1:9000"}, "S3_ENDPOINT_URL='127.0.0.1:9000' must be"),
        ({"S3_ENDPOINT_URL": "http://127.0.0.1:port"}, "S3_ENDPOINT_URL='http://127.0.0.1:port' must be"),
        ({"S3_ENDPOINT_URL": "http://key:secret@minio:9000"}, "S3_ENDPOINT_URL='http://***@minio:9000' must be"),
        ({"S3_PREFIX": "files/../other"}, "S3_PREFIX='files/../other' must be a folder inside the bucket"),
        ({"S3_PREFIX": "files//other"}, "S3_PREFIX='files//other' must be"),
        ({"S3_PREFIX": "files\\other"}, "S3_PREFIX='files\\\\other' must be"),
        ({"S3_BUCKET": "Whereabouts_Files"}, "S3_BUCKET='Whereabouts_Files' is not a bucket name"),
        ({"S3_BUCKET": "ab"}, "S3_BUCKET='ab' is not a bucket name"),
        ({"S3_REGION": "EU West"}, "S3_REGION='EU West' must be a region name"),
        ({"S3_ACCESS_KEY_ID": "AKIAEXAMPLE"}, "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together"),
    ],
)
def test_invalid_s3_settings_stop_the_start_with_a_message_naming_the_variable(env, message):
    result = start(["check"], **{"S3_BUCKET": "whereabouts-files", **env})
    assert result.returncode != 0
    assert message in result.stderr
    assert "secret" not in result.stderr.split("ImproperlyConfigured")[-1]

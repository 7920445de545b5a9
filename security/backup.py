"""Backups that take everything (data, history, uploaded files) and restores that prove it.

An archive is a .tar.gz holding:

* ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``) or
  ``database.sqlite3`` (SQLite, through its online backup API, safe while the
  application runs);
* ``uploads/``, every file of the default storage (the uploaded copies of
  sources, the data releases), read through the storage: the local folder
  ``MEDIA_ROOT`` or the bucket that every server shares (``S3_BUCKET``);
* ``manifest.json``: when, which engine, and a checksum of every table and
  every file, so a restore can prove that it restored exactly what was saved.

A restore writes the files into an empty folder or an empty bucket, through
the storage too, and reads each one back to check it.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import posixpath
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import dj_database_url
import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages
from django.db import connection
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"
CHUNK_BYTES = 1024 * 1024


class BackupError(Exception):
    pass


@dataclass
class Uploads:
    """Where a restore writes the files: a folder, or a bucket of the S3-compatible store (the S3_* settings)."""

    storage: Storage
    shown: str  # as messages name it: the folder, or s3://BUCKET/PREFIX
    folder: Path | None = None

    def __str__(self) -> str:
        return self.shown


def uploads_target(given: str | None) -> Uploads:
    """The restore's target for the files: ``PATH`` (a folder), ``s3://BUCKET[/PREFIX]``, or unset, the storage
    this deployment is configured with (MEDIA_ROOT, or S3_BUCKET and S3_PREFIX)."""
    if given is None:
        configured: Any = settings.STORAGES["default"]
        if configured["BACKEND"] == "django.core.files.storage.FileSystemStorage":
            return _folder(Path(configured["OPTIONS"]["location"]))
        return Uploads(storages.create_storage(configured), configured_store())
    if not given.startswith("s3://"):
        return _folder(Path(given))
    parts = urlsplit(given)
    prefix = parts.path.strip("/")
    if (
        not parts.hostname
        or parts.hostname != parts.netloc
        or parts.query
        or parts.fragment
        or (prefix and {"", ".", ".."} & set(prefix.split("/")))
    ):
        raise BackupError(_("%(target)s is not a bucket: write s3://BUCKET or s3://BUCKET/FOLDER.") % {"target": given})
    options = {**settings.S3_CONNECTION, "bucket_name": parts.netloc, "location": prefix}
    storage = storages.create_storage({"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options})
    return Uploads(storage, f"s3://{parts.netloc}/{prefix}".rstrip("/"))


def configured_store() -> str:
    """The default storage, as messages name it: its folder, or s3://BUCKET/PREFIX."""
    configured: Any = settings.STORAGES["default"]
    options = configured.get("OPTIONS", {})
    if "bucket_name" in options:
        return f"s3://{options['bucket_name']}/{options.get('location', '')}".rstrip("/")
    return str(options.get("location", configured["BACKEND"]))


def _folder(folder: Path) -> Uploads:
    storage = FileSystemStorage(
        location=folder,
        file_permissions_mode=settings.FILE_UPLOAD_PERMISSIONS,
        directory_permissions_mode=settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS,
    )
    return Uploads(storage, str(folder), folder)


@contextmanager
def _reading(store: object) -> Iterator[None]:
    """A failure of the file store (unreachable, refused, no such bucket) as a BackupError that names it."""
    try:
        yield
    except BackupError:
        raise
    except Exception as error:  # a folder raises OSError; S3 and other storages their own errors
        raise BackupError(
            _("The files in %(store)s cannot be read or written: %(error)s") % {"store": store, "error": error}
        ) from error


def storage_files(storage: Storage, folder: str = "") -> Iterator[str]:
    """The name of every file in ``storage``, walking its folders (``listdir``); none when it has no folder yet."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a local folder not made yet: nothing uploaded
        return
    for name in sorted(files):
        yield posixpath.join(folder, name)
    for name in sorted(folders):
        yield from storage_files(storage, posixpath.join(folder, name))


def _sha256(source: IO[bytes], copy: IO[bytes] | None = None) -> str:
    """The SHA-256 of what ``source`` holds, read in chunks, each also written to ``copy`` when given."""
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        if copy is not None:
            copy.write(chunk)
    return digest.hexdigest()


def storage_checksums(storage: Storage) -> dict[str, str]:
    """The SHA-256 of every file in ``storage``, by name, read through the storage."""
    sums = {}
    for name in storage_files(storage):
        with storage.open(name, "rb") as handle:
            sums[name] = _sha256(handle)
    return sums


def _one(cursor: Any) -> Any:
    """The single value a query returns."""
    row = cursor.fetchone()
    if row is None:
        raise BackupError(_("The database returned no row."))
    return row[0]


def _pg_dsn(config: Any) -> str:
    parts = {
        "dbname": config["NAME"],
        "user": config.get("USER") or "",
        "password": config.get("PASSWORD") or "",
        "host": config.get("HOST") or "",
        "port": str(config.get("PORT") or ""),
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def _pg_env(config: Any) -> dict:
    env = dict(os.environ)
    if config.get("PASSWORD"):
        env["PGPASSWORD"] = config["PASSWORD"]  # never on the command line, where ps would show it
    return env


def _pg_args(config: Any) -> list[str]:
    args = ["--dbname", config["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if config.get(key):
            args += [flag, str(config[key])]
    return args


def table_checksums(db) -> dict[str, str]:
    """A checksum of every table's rows, independent of row order, for one DB-API connection."""
    cursor = db.cursor()
    if isinstance(db, sqlite3.Connection):
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = sorted(row[0] for row in cursor.fetchall())
    sums = {}
    for table in tables:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the catalogue)
        rows = sorted(json.dumps([str(value) for value in row], ensure_ascii=False) for row in cursor.fetchall())
        digest = hashlib.sha256()
        for row in rows:
            digest.update(row.encode())
            digest.update(b"\n")
        sums[table] = f"{len(rows)}:{digest.hexdigest()}"
    return sums


def file_checksums(root: Path) -> dict[str, str]:
    """The SHA-256 of every file under the folder ``root``, by its path there."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def private_folder(folder: Path) -> None:
    """Make ``folder`` and its missing parents, each readable by this user only (0700).

    Folders that already exist are left as they are: their owner chose them.
    """
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        path.chmod(0o700)  # whatever the umask


def private_file(path: Path):
    """A new file open for writing, readable by this user only (0600) from its first byte.

    It must not exist yet: an archive never overwrites another, nor writes through a link planted in its place.
    """
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.fchmod(descriptor, 0o600)  # whatever the umask
    return os.fdopen(descriptor, "wb")


def create_backup(destination: Path) -> dict:
    """Write an archive of the configured database and uploads to ``destination``.

    The archive holds every restricted record: it is created 0600, in
    folders made 0700 when they do not exist yet.

    The table checksums describe exactly what was dumped: on SQLite they are
    read from the backup copy; on PostgreSQL from the same snapshot that
    pg_dump reads (``--snapshot``), so writes made meanwhile cannot skew them.
    """
    config = settings.DATABASES["default"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if connection.vendor == "sqlite":
            dump = tmp / "database.sqlite3"
            connection.ensure_connection()
            copy = sqlite3.connect(dump)
            connection.connection.backup(copy)
            tables = table_checksums(copy)
            copy.close()
        else:
            dump = tmp / "database.pgdump"
            with psycopg.connect(_pg_dsn(config)) as snapshot:
                snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snapshot_id = _one(snapshot.execute("SELECT pg_export_snapshot()"))
                result = subprocess.run(  # noqa: S603 (PostgreSQL client tools; arguments from settings)
                    [
                        "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        "--no-acl",
                        f"--snapshot={snapshot_id}",
                        "--file",
                        str(dump),
                        *_pg_args(config),
                    ],
                    env=_pg_env(config),
                    capture_output=True,
                    text=True,
                )
                if result.returncode != 0:
                    raise BackupError(_("pg_dump failed: %(error)s") % {"error": result.stderr.strip()})
                tables = table_checksums(snapshot)
        manifest = {
            "created": datetime.datetime.now(datetime.UTC).isoformat(),
            "engine": connection.vendor,
            "tables": tables,
        }
        with private_file(destination) as output, tarfile.open(fileobj=output, mode="w:gz") as archive:
            archive.add(dump, arcname=dump.name)
            with _reading(configured_store()):
                manifest["files"] = _archive_files(archive, default_storage, tmp)
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return manifest


def _archive_files(archive: tarfile.TarFile, storage: Storage, tmp: Path) -> dict[str, str]:
    """Add every file of ``storage`` to ``archive`` under uploads/; returns the SHA-256 of each, by name.

    Each file is read once, into a private temporary file, and the archive
    takes those bytes: what is saved is what was checked. A file deleted
    meanwhile (a data release withdrawn) is left out.
    """
    sums = {}
    for name in storage_files(storage):
        try:
            stored = storage.open(name, "rb")
        except FileNotFoundError:
            continue
        with stored, tempfile.TemporaryFile(dir=tmp) as spool:
            sums[name] = _sha256(stored, spool)
            info = tarfile.TarInfo(f"uploads/{name}")
            info.size, info.mode = spool.tell(), settings.FILE_UPLOAD_PERMISSIONS or 0o600
            info.mtime = int(datetime.datetime.now(datetime.UTC).timestamp())
            spool.seek(0)
            archive.addfile(info, spool)
    return sums


def _make_uploads_private(root: Path) -> None:
    """Restored uploads get the modes of new uploads (settings), whatever an older archive recorded."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS if path.is_dir() else settings.FILE_UPLOAD_PERMISSIONS)


def _is_empty(uploads: Uploads) -> bool:
    if uploads.folder is not None:
        return not uploads.folder.exists() or not any(uploads.folder.iterdir())
    with _reading(uploads):
        folders, files = uploads.storage.listdir("")
    return not folders and not files


def _write_files(extracted: Path, uploads: Uploads) -> None:
    """Write the files under ``extracted`` into ``uploads``, each under its own name."""
    if not extracted.exists():  # an archive of no file
        return
    for path in sorted(extracted.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(extracted).as_posix()
        with _reading(uploads), path.open("rb") as handle:
            saved = uploads.storage.save(name, File(handle, name))
        if saved != name:
            raise BackupError(
                _("%(store)s: %(file)s was written as %(saved)s.") % {"store": uploads, "file": name, "saved": saved}
            )
    if uploads.folder is not None and uploads.folder.exists():
        _make_uploads_private(uploads.folder)


def _extract(source: Path, tmp: Path) -> dict:
    """Unpack the archive ``source`` into ``tmp``; its manifest."""
    try:
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(tmp, filter="data")
        return json.loads((tmp / MANIFEST).read_text())
    except (tarfile.TarError, EOFError, ValueError, FileNotFoundError) as error:
        if not source.exists():
            raise
        raise BackupError(
            _("%(file)s is not a backup archive of this application: %(error)s") % {"file": source, "error": error}
        ) from None


def restore_backup(source: Path, database_url: str, uploads: Uploads | Path) -> dict:
    """Restore an archive into an empty database and an empty folder or bucket for the files, then verify it.

    Returns the manifest; raises :class:`BackupError` when a target is not
    empty or when anything restored differs from what was saved (each file is
    read back through its storage).
    """
    if isinstance(uploads, Path):
        uploads = _folder(uploads)
    config = dj_database_url.parse(database_url)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        manifest = _extract(source, tmp)
        if not _is_empty(uploads):
            if uploads.folder is not None:
                raise BackupError(_("%(folder)s is not empty: restore into an empty folder.") % {"folder": uploads})
            raise BackupError(_("%(bucket)s is not empty: restore into an empty bucket.") % {"bucket": uploads})
        if manifest["engine"] == "sqlite":
            if not config["ENGINE"].endswith("sqlite3"):
                raise BackupError(_("This archive holds an SQLite database: restore it to an sqlite:/// URL."))
            target = Path(config["NAME"])
            if target.exists() and target.stat().st_size > 0:
                raise BackupError(_("%(file)s exists: restore into a new database file.") % {"file": target})
            shutil.copyfile(tmp / "database.sqlite3", target)
            db: Any = sqlite3.connect(target)
        else:
            if not config["ENGINE"].endswith("postgresql"):
                raise BackupError(_("This archive holds a PostgreSQL database: restore it to a postgres:// URL."))
            with psycopg.connect(_pg_dsn(config)) as db:
                if _one(db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")):
                    raise BackupError(
                        _("Database %(name)s is not empty: restore into an empty database.") % {"name": config["NAME"]}
                    )
            result = subprocess.run(  # noqa: S603 (PostgreSQL client tools; arguments from settings)
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    *_pg_args(config),
                    str(tmp / "database.pgdump"),
                ],
                env=_pg_env(config),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(_("pg_restore failed: %(error)s") % {"error": result.stderr.strip()})
            db = psycopg.connect(_pg_dsn(config))
        try:
            restored_tables = table_checksums(db)
        finally:
            db.close()
        _write_files(tmp / "uploads", uploads)
    differences = [name for name in manifest["tables"] if manifest["tables"][name] != restored_tables.get(name)]
    if restored_tables.keys() != manifest["tables"].keys() or differences:
        tables = ", ".join(differences) or _("the list of tables")
        raise BackupError(_("Restored tables differ from the backup: %(tables)s") % {"tables": tables})
    with _reading(uploads):
        restored_files = storage_checksums(uploads.storage)
    if restored_files != manifest["files"]:
        raise BackupError(_("Restored uploaded files differ from the backup."))
    return manifest

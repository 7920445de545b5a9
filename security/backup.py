"""Backups that take everything (data, history, uploaded files) and restores that prove it.

An archive is a .tar.gz holding:

* ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``) or
  ``database.sqlite3`` (SQLite, through its online backup API, safe while the
  application runs);
* ``uploads/``, the uploaded copies of sources;
* ``manifest.json``: when, which engine, and a checksum of every table and
  every file, so a restore can prove that it restored exactly what was saved.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def media_root() -> Path:
    storage: Any = settings.STORAGES["default"]
    return Path(storage["OPTIONS"]["location"])


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
            "files": file_checksums(media_root()),
        }
        with private_file(destination) as output, tarfile.open(fileobj=output, mode="w:gz") as archive:
            archive.add(dump, arcname=dump.name)
            if media_root().exists():
                archive.add(media_root(), arcname="uploads")
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return manifest


def _make_uploads_private(root: Path) -> None:
    """Restored uploads get the modes of new uploads (settings), whatever an older archive recorded."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS if path.is_dir() else settings.FILE_UPLOAD_PERMISSIONS)


def restore_backup(source: Path, database_url: str, uploads: Path) -> dict:
    """Restore an archive into an empty database and an empty uploads folder, then verify it.

    Returns the manifest; raises :class:`BackupError` when the target is not
    empty or when anything restored differs from what was saved.
    """
    config = dj_database_url.parse(database_url)
    with tempfile.TemporaryDirectory() as tmp_name, tarfile.open(source, "r:gz") as archive:
        tmp = Path(tmp_name)
        archive.extractall(tmp, filter="data")
        manifest = json.loads((tmp / MANIFEST).read_text())
        if uploads.exists() and any(uploads.iterdir()):
            raise BackupError(_("%(folder)s is not empty: restore into an empty folder.") % {"folder": uploads})
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
        if (tmp / "uploads").exists():
            shutil.copytree(tmp / "uploads", uploads, dirs_exist_ok=True)
            _make_uploads_private(uploads)
    differences = [name for name in manifest["tables"] if manifest["tables"][name] != restored_tables.get(name)]
    if restored_tables.keys() != manifest["tables"].keys() or differences:
        tables = ", ".join(differences) or _("the list of tables")
        raise BackupError(_("Restored tables differ from the backup: %(tables)s") % {"tables": tables})
    if file_checksums(uploads) != manifest["files"]:
        raise BackupError(_("Restored uploaded files differ from the backup."))
    return manifest

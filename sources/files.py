"""Stored files given back: read whole, checked against their recorded SHA-256, then served as attachments.

Reading a file once and serving what was read means the bytes served are the
bytes checked. Every download of a stored file goes through here: the staff
downloads of sources' uploaded copies and of the captures of their pages
(archive), and the public download of a copy an editor made public.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from django.db.models.fields.files import FieldFile
from django.http import FileResponse

CHUNK_BYTES = 64 * 1024
# A copy up to this size is checked in memory; a larger one in a temporary file, deleted once served.
IN_MEMORY_BYTES = 1024 * 1024


# The extensions a download may keep, by the type read from its content: never one that a
# computer would run (a text file named "notes.bat" downloads as "notes.bat.txt").
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "text/html": (".html", ".htm"),
    "text/plain": (".txt",),
}


def extension_for(content_type: str) -> str:
    """The extension a file of ``content_type`` is given back with (.bin for any other type)."""
    return EXTENSIONS.get(content_type, (".bin",))[0]


class StoredFileMissing(Exception):
    """The stored file cannot be read: it is not in the file store, or the store failed to give it."""


class StoredFileDamaged(Exception):
    """The stored file is not the one recorded: another SHA-256, or larger than its recorded size."""

    def __init__(self, name: str, recorded: str, found: str) -> None:
        super().__init__(f"{name} does not match its recorded SHA-256 {recorded} (found {found or 'a larger file'})")
        self.recorded, self.found = recorded, found


def checked_copy(stored: FieldFile, size: int | None, sha256: str) -> IO[bytes]:
    """The stored file, read whole into a temporary file and found to be the one recorded (``size``, ``sha256``).

    Raises :class:`StoredFileMissing` or :class:`StoredFileDamaged`; the caller closes the copy (a response does).
    """
    copy, found = _read_whole(stored, size)
    if copy is None or found != sha256:
        if copy is not None:
            copy.close()
        raise StoredFileDamaged(str(stored.name), sha256, found)
    return copy


def attachment(copy: IO[bytes], *, filename: str, content_type: str) -> FileResponse:
    """``copy`` as a download, never rendered in the browser (a stored HTML page could run scripts)."""
    response = FileResponse(
        copy,
        as_attachment=True,
        # Django quotes the name in the header (filename="…", or filename*=utf-8''… beyond ASCII).
        filename=filename,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _read_whole(stored: FieldFile, size: int | None) -> tuple[IO[bytes] | None, str]:
    """The stored file, read whole into a temporary file, and its SHA-256; None when it is larger than ``size``.

    A file that grew past its recorded size is damaged: it is not read further.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 (closed by the response)
    digest, read = hashlib.sha256(), 0
    try:
        with stored.storage.open(str(stored.name), "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                read += len(chunk)
                if size is not None and read > size:
                    spool.close()
                    return None, ""
                digest.update(chunk)
                spool.write(chunk)
    except Exception as error:
        spool.close()
        # A file system says FileNotFoundError or another OSError; other storages raise their own errors.
        raise StoredFileMissing(f"{type(error).__name__}: {error}") from error
    spool.seek(0)
    return spool, digest.hexdigest()

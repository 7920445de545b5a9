"""Reading a stored file back whole and checking it against its recorded SHA-256 before it is served.

Reading it once and serving what was read means the bytes served are the
bytes checked. Used by the downloads of sources' uploaded copies and of the
captures of their pages (archive).
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from django.db.models.fields.files import FieldFile

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


class StoredFileMissing(Exception):
    """The stored file cannot be read: it is not in the file store, or the store failed to give it."""


def verified_copy(stored: FieldFile, size: int | None) -> tuple[IO[bytes] | None, str]:
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

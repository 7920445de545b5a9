"""Data releases (/data/): every published case as a Frictionless data package, numbered and dated.

A release is built from the current published records and from nothing
else (``PublishedVersion.objects.current()``): what it holds is what the
public case pages show. The records are read in chunks and each row is
written to its file as it is read, so memory does not grow with the cases
(only the ids of the sources already written are kept). The files are kept
in the shared storage under ``releases/<number>/`` and served by public/data.py.

What a release holds, each table with its Table Schema in ``datapackage.json``:
cases, names, events, responsibilities, citations, sources, relations and
appeals as CSV; every record as JSON Lines; a data dictionary; the licence;
SHA-256 checksums; and all of it in one zip.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation

from workflow.models import DataRelease, PublicGeneration, PublishedVersion

from .release_dictionary import data_dictionary, licence_text
from .release_tables import (
    CASES,
    CHECKSUMS_NAME,
    DICTIONARY_NAME,
    FILE_TITLES,
    JSONL_NAME,
    LICENSE_NAME,
    PACKAGE_DESCRIPTOR,
    TABLES,
    case_url,
    citation,
    licence,
    media_type,
    rows_of,
    text_value,
    utc,
    zip_name,
)

logger = logging.getLogger(__name__)

# Records read from the database at a time.
CHUNK_SIZE = 500
PACKAGE_NAME = "whereabouts-cases"


# --- Writing: files in a folder, as the records are read. ---


@dataclass
class Written:
    """A file of the package, written: its name, size, digest and (a table) how many rows."""

    name: str
    bytes: int
    sha256: str
    rows: int | None = None

    def entry(self, path: str) -> dict:
        return {
            "name": self.name,
            "path": path,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "rows": self.rows,
            "media_type": media_type(self.name),
        }


def _measured(path: Path, rows: int | None = None) -> Written:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return Written(path.name, size, digest.hexdigest(), rows)


def records() -> Iterator[PublishedVersion]:
    """The current published versions, by case ID, read in chunks (never all at once)."""
    current = PublishedVersion.objects.current().order_by("case_id")
    return current.only("case_id", "number", "published_at", "record").iterator(chunk_size=CHUNK_SIZE)


def write_tables(folder: Path, versions: Iterable[PublishedVersion], progress: Callable = iter) -> dict[str, Any]:
    """Write every table and the JSON Lines file into ``folder`` as ``versions`` are read.

    Returns the files written, by name, and the categories met (their codes and English names, for the
    data dictionary). Each source is written once, the first time a record cites it.
    """
    handles = {table.name: (folder / table.filename).open("w", newline="", encoding="utf-8") for table in TABLES}
    counts = dict.fromkeys(handles, 0)
    categories: dict[str, str] = {}
    seen_sources: set[int] = set()
    try:
        writers = {name: csv.writer(handle) for name, handle in handles.items()}
        for table in TABLES:
            writers[table.name].writerow([column.name for column in table.columns])
        with (folder / JSONL_NAME).open("w", encoding="utf-8", newline="\n") as lines:
            for version in progress(versions):
                url = case_url(version)
                lines.write(json.dumps({**version.record, "url": url}, ensure_ascii=False) + "\n")
                for category in version.record["categories"]:
                    categories.setdefault(category["slug"], category.get("name", category["slug"]))
                for name, rows in rows_of(version, url).items():
                    if name == "sources":
                        rows = [row for row in rows if row[0] not in seen_sources]
                        seen_sources.update(row[0] for row in rows)
                    writers[name].writerows([text_value(value) for value in row] for row in rows)
                    counts[name] += len(rows)
    finally:
        for handle in handles.values():
            handle.close()
    written = {table.filename: _measured(folder / table.filename, counts[table.name]) for table in TABLES}
    written[JSONL_NAME] = _measured(folder / JSONL_NAME, counts["cases"])
    return {"files": written, "categories": dict(sorted(categories.items()))}


def descriptor(release: DataRelease, files: dict[str, Written], built: datetime.datetime) -> dict:
    """The Frictionless data package descriptor (v1) of the release."""
    common = {"encoding": "utf-8"}
    resources: list[dict] = [
        {
            "name": table.name,
            "path": table.filename,
            "profile": "tabular-data-resource",
            "title": str(table.title),
            "description": f"{table.title!s}: {table.row}.",
            "format": "csv",
            "mediatype": "text/csv",
            **common,
            "dialect": {"delimiter": ",", "doubleQuote": True, "quoteChar": '"', "header": True},
            "bytes": files[table.filename].bytes,
            "hash": f"sha256:{files[table.filename].sha256}",
            "schema": table.schema(),
        }
        for table in TABLES
    ]
    for name, resource_name, file_format, mediatype in (
        (JSONL_NAME, "cases-jsonl", "jsonl", "application/jsonl"),
        (DICTIONARY_NAME, "data-dictionary", "md", "text/markdown"),
        (LICENSE_NAME, "license", "txt", "text/plain"),
    ):
        resources.append(
            {
                "name": resource_name,
                "path": name,
                "type": "file",
                "profile": "data-resource",
                "title": str(FILE_TITLES[name]),
                "format": file_format,
                "mediatype": mediatype,
                **common,
                "bytes": files[name].bytes,
                "hash": f"sha256:{files[name].sha256}",
            }
        )
    package = {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "id": f"{PACKAGE_NAME}-{release.number}",
        "title": "Whereabouts: published cases of detained and disappeared persons",
        "description": (
            "Every case published on the Whereabouts public site when the release was built, as its public "
            f"pages show it, and nothing else. See {DICTIONARY_NAME}."
        ),
        "version": str(release.number),
        "created": utc(built),
        "licenses": [licence()],
        "citation": citation(release.number, built.date()),
        "resources": resources,
    }
    if settings.DATA_RELEASE_SITE_URL:
        package["homepage"] = settings.DATA_RELEASE_SITE_URL + reverse("public:data_releases")
    if settings.ORGANISATION_NAME:
        package["contributors"] = [{"title": settings.ORGANISATION_NAME, "role": "publisher"}]
    return package


def _write_text(folder: Path, name: str, text: str) -> Written:
    (folder / name).write_text(text, encoding="utf-8", newline="\n")
    return _measured(folder / name)


def write_package(folder: Path, release: DataRelease, built: datetime.datetime, progress: Callable = iter) -> dict:
    """Write every file of the release into ``folder``; returns them by name, the zip last, and the case count."""
    tables = write_tables(folder, records(), progress)
    files: dict[str, Written] = tables["files"]
    cases = files[CASES.filename].rows or 0
    rows = {table.name: files[table.filename].rows or 0 for table in TABLES}
    dictionary = data_dictionary(release.number, built, rows, tables["categories"])
    files[DICTIONARY_NAME] = _write_text(folder, DICTIONARY_NAME, dictionary)
    files[LICENSE_NAME] = _write_text(folder, LICENSE_NAME, licence_text(release.number, built))
    files[PACKAGE_DESCRIPTOR] = _write_text(
        folder, PACKAGE_DESCRIPTOR, json.dumps(descriptor(release, files, built), ensure_ascii=False, indent=2) + "\n"
    )
    sums = "".join(f"{written.sha256}  {name}\n" for name, written in files.items())
    files[CHECKSUMS_NAME] = _write_text(folder, CHECKSUMS_NAME, sums)
    archive = folder / zip_name(release.number)
    top = Path(zip_name(release.number)).stem
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name in files:
            bundle.write(folder / name, f"{top}/{name}")
    files[archive.name] = _measured(archive)
    return {"files": files, "cases": cases}


# --- A release: numbered, written, stored, listed. ---


def _started() -> DataRelease:
    """A new release row, numbered after the last one and not yet listed (committed before the records are read,
    so that a withdrawal meanwhile reaches it)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                # Not while a withdrawal or a redaction is on its way: it would miss this release, and this
                # release would read the records before it (DataRelease.withdraw_containing takes the lock too).
                PublicGeneration.lock()
                number = (DataRelease.objects.aggregate(last=Max("number"))["last"] or 0) + 1
                return DataRelease.objects.create(
                    number=number, generation=PublicGeneration.current()[0], licence=settings.DATA_RELEASE_LICENSE
                )
        except IntegrityError:  # another build took the number at the same moment
            continue
    raise RuntimeError("No number could be allocated to a new data release.")


# A release still unfinished this long after it began was abandoned (its process stopped: a restart, a worker
# killed for its time): it is marked failed and its files deleted, so that it no longer holds back a new one.
ABANDONED_AFTER = datetime.timedelta(hours=2)


def abandon_stale_builds() -> int:
    """Mark the releases abandoned half-way as failed and delete what they wrote; returns how many."""
    stale = list(
        DataRelease.objects.filter(built_at=None, withdrawn_at=None, created_at__lt=timezone.now() - ABANDONED_AFTER)
    )
    for release in stale:
        DataRelease.objects.filter(pk=release.pk).update(
            withdrawn_at=timezone.now(), withdrawn_reason=DataRelease.Withdrawal.BUILD_FAILED
        )
        release.delete_files()
    return len(stale)


def build_release(progress: Callable = iter) -> DataRelease:
    """Build, store and list a new release of every published case; returns it.

    A case changed or withdrawn while the release is written withdraws it
    (:meth:`DataRelease.withdraw_containing`): it is then returned withdrawn,
    its files deleted, and never listed as available. ``progress`` wraps
    the records as they are read (a progress bar).
    """
    abandon_stale_builds()
    release = _started()
    try:
        with translation.override("en"), tempfile.TemporaryDirectory(prefix="whereabouts-release-") as folder:
            built = timezone.now()
            package = write_package(Path(folder), release, built, progress)
            entries = []
            for name, written in package["files"].items():
                with (Path(folder) / name).open("rb") as handle:
                    entries.append(written.entry(default_storage.save(release.folder + name, File(handle, name))))
                    release.files = entries  # so that a failure below deletes what is stored already
    except BaseException:
        DataRelease.objects.filter(pk=release.pk).update(
            withdrawn_at=timezone.now(), withdrawn_reason=DataRelease.Withdrawal.BUILD_FAILED
        )
        release.delete_files()
        raise
    finished = DataRelease.objects.filter(pk=release.pk, withdrawn_at=None).update(
        built_at=built, files=entries, case_count=package["cases"]
    )
    release.refresh_from_db()
    if not finished:
        release.files = entries
        release.delete_files()
    return release


def build_after_change(**kwargs) -> None:
    """After a publication, a withdrawal or a redaction has committed: a new release, when the setting asks for
    one and no release of the public data as it is now is available or being written."""
    if not settings.DATA_RELEASE_AFTER_PUBLICATION:
        return
    abandon_stale_builds()
    generation = PublicGeneration.current()[0]
    if DataRelease.objects.filter(generation=generation, withdrawn_at=None).exists():
        return
    build_release()

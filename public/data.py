"""The data releases' pages: /data/ lists them, /data/<number>/<file> serves a file from the shared storage.

The listing is read afresh on every request (a handful of rows), not kept
under the public generation: a release built or withdrawn shows at once.
A file is served only when its release is listed and not withdrawn, and
only under a name the release lists: the storage is never read by a path
from the address.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from workflow.models import DataRelease

from .release_tables import DICTIONARY_NAME, FILE_TITLES, citation, licence, zip_name

logger = logging.getLogger(__name__)

# Opened in the browser rather than saved: the descriptor, the dictionary, the licence and the checksums.
SHOWN_INLINE = (".json", ".md", ".txt", "")


def _revalidated(response: HttpResponseBase) -> HttpResponseBase:
    """Kept by proxies and browsers, but asked for again each time: a withdrawn release disappears at once."""
    patch_cache_control(response, public=True, max_age=0, no_cache=True)
    return response


@require_safe
def data_releases(request: HttpRequest) -> HttpResponseBase:
    releases = list(DataRelease.objects.listed())
    listed = [
        {
            "release": release,
            "zip": release.file(zip_name(release.number)),
            "files": [
                {**entry, "title": FILE_TITLES.get(entry["name"], "")}
                for entry in release.files
                if entry["name"] != zip_name(release.number)
            ],
            "citation": citation(release.number, release.built_at.date()) if release.built_at else "",
        }
        for release in releases
    ]
    context = {
        "releases": listed,
        "latest": next((item for item in listed if item["release"].withdrawn_at is None), None),
        "licence": licence(),
        "dictionary_name": DICTIONARY_NAME,
        "site_url": settings.DATA_RELEASE_SITE_URL,
    }
    return _revalidated(render(request, "public/data_releases.html", context))


def _available(number: int) -> DataRelease:
    release = DataRelease.objects.available().filter(number=number).first()
    if release is None:
        raise Http404
    return release


@require_safe
def data_release_file(request: HttpRequest, number: int, filename: str) -> HttpResponseBase:
    """One file of a release, streamed from the storage, its SHA-256 as its ETag."""
    entry = _available(number).file(filename)
    if entry is None:
        raise Http404
    etag = f'"{entry["sha256"]}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return _revalidated(not_modified)
    try:
        handle = default_storage.open(entry["path"], "rb")
    except Exception as error:
        # A file system says FileNotFoundError or another OSError; other storages raise their own errors.
        # Either way the file is not there to give: a 404, and the administrator told.
        logger.error(
            "Data release %s: %s cannot be read from the storage (%s: %s)",
            number,
            filename,
            type(error).__name__,
            error,
        )
        raise Http404 from None
    inline = Path(filename).suffix in SHOWN_INLINE
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=entry["media_type"])
    response["Content-Length"] = str(entry["bytes"])
    response["ETag"] = etag
    return _revalidated(response)


@require_safe
def data_release_latest(request: HttpRequest, filename: str) -> HttpResponseBase:
    """A file of the newest release not withdrawn, by a fixed address (the zip: by the name "latest.zip")."""
    release = DataRelease.objects.available().first()
    if release is None:
        raise Http404
    name = zip_name(release.number) if filename == "latest.zip" else filename
    if release.file(name) is None:
        raise Http404
    response = HttpResponseRedirect(reverse("public:data_release_file", args=[release.number, name]))
    return _revalidated(response)

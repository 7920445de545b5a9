"""Staff only: download a capture's files (as attachments, never rendered), and ask for a capture now."""

import logging

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from security.audit import record as audit
from security.models import AuditEvent
from sources.files import StoredFileDamaged, StoredFileMissing, attachment, checked_copy, extension_for
from sources.models import Source

from .jobs import request_capture
from .models import Capture

logger = logging.getLogger(__name__)

# What each part of a capture is: its field, its recorded size and SHA-256, and the name it is given back under.
PARTS = {"warc": ("warc", "warc_size", "warc_sha256"), "copy": ("body", "body_size", "body_sha256")}


def download_name(capture: Capture, part: str) -> str:
    stem = f"source-{capture.source_id}-capture-{capture.pk}"
    if part == "warc":
        return f"{stem}.warc.gz"
    return stem + extension_for(capture.content_type)


def _unavailable(request: HttpRequest, capture: Capture, problem: str, status: int) -> HttpResponseBase:
    return render(request, "archive/capture_unavailable.html", {"capture": capture, "problem": problem}, status=status)


@require_safe
@never_cache
@login_required
@permission_required("archive.download_capture", raise_exception=True)
def download(request: HttpRequest, pk: int, part: str) -> HttpResponseBase:
    if part not in PARTS:
        raise Http404("No such part of a capture.")
    capture = get_object_or_404(Capture.objects.select_related("source"), pk=pk)
    field, size_field, sha_field = PARTS[part]
    stored, size, recorded = getattr(capture, field), getattr(capture, size_field), getattr(capture, sha_field)
    try:
        copy = checked_copy(stored, size, recorded)
    except StoredFileMissing as error:
        logger.error("Capture %s: its %s cannot be read from the file store (%s)", pk, part, error)
        return _unavailable(request, capture, "missing", 404)
    except StoredFileDamaged as error:
        logger.error("Capture %s: its %s is damaged, download refused: %s", pk, part, error)
        audit(
            AuditEvent.Action.DOCUMENT_DOWNLOADED,
            request=request,
            target=f"capture {pk} ({part}): refused, checksum mismatch",
            refused="checksum_mismatch",
            recorded_sha256=error.recorded,
            stored_sha256=error.found,
        )
        return _unavailable(request, capture, "damaged", 409)
    content_type = "application/warc" if part == "warc" else capture.content_type
    response = attachment(copy, filename=download_name(capture, part), content_type=content_type)
    audit(AuditEvent.Action.DOCUMENT_DOWNLOADED, request=request, target=f"capture {pk} ({part})")
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@permission_required("archive.add_capture", raise_exception=True)
def capture_now(request: HttpRequest, source_pk: int) -> HttpResponseBase:
    """Asked on a page of its own (a button inside the source's form would be the one Enter presses)."""
    source = get_object_or_404(Source, pk=source_pk)
    if request.method != "POST":
        context = {**admin.site.each_context(request), "source": source, "title": _("Capture this page now")}
        return render(request, "archive/capture_now.html", context)
    if not source.url:
        messages.error(request, _("This source has no URL to capture."))
    elif request_capture(source, by=request.user if request.user.is_authenticated else None) is None:
        messages.info(request, _("A capture of this source is already waiting for the worker."))
    else:
        messages.success(request, _("The worker will capture this source's page in a few seconds."))
    return HttpResponseRedirect(reverse("admin:sources_source_change", args=[source.pk]))

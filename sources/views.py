"""Staff downloads of uploaded source documents: never from a public URL.

A copy is served only after it is read whole and found to match the SHA-256
recorded at upload: a copy lost from the file store, or damaged there, gets a
page that says so (and is logged), never a 500 and never a wrong file.
"""

import logging
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from security.audit import record as audit
from security.models import AuditEvent

from .files import EXTENSIONS, StoredFileDamaged, StoredFileMissing, attachment, checked_copy, extension_for
from .models import Source, clean_original_filename

logger = logging.getLogger(__name__)


def download_name(source: Source) -> str:
    """The name the file is given back under: its original name, with the extension of what it really is.

    The original name is text typed by whoever uploaded it: it is cleaned of
    control characters when stored (a line break would end the header) and
    never used as a path. Its extension is kept only when it agrees with the
    type read from the content, so "report.pdf" holding a web page downloads
    as "report.pdf.html" and opens as what it is.
    """
    name = clean_original_filename(source.original_filename)
    if not name:
        return f"source-{source.pk}{extension_for(source.content_type)}"
    if PurePosixPath(name).suffix.lower() in EXTENSIONS.get(source.content_type, ()):
        return name
    return name + extension_for(source.content_type)


def _refused(request: HttpRequest, source: Source, problem: str, status: int) -> HttpResponseBase:
    return render(request, "sources/document_unavailable.html", {"source": source, "problem": problem}, status=status)


@require_safe
@never_cache
@login_required
@permission_required("sources.download_document", raise_exception=True)
def document(request: HttpRequest, pk: int) -> HttpResponseBase:
    source = get_object_or_404(Source, pk=pk)
    if not source.document:
        raise Http404("This source has no uploaded copy.")
    try:
        copy = checked_copy(source.document, source.file_size, source.sha256)
    except StoredFileMissing as error:
        logger.error("Source %s: its uploaded copy cannot be read from the file store (%s)", source.pk, error)
        return _refused(request, source, "missing", 404)
    except StoredFileDamaged as error:
        logger.error("Source %s: its uploaded copy is damaged, download refused: %s", source.pk, error)
        audit(
            AuditEvent.Action.DOCUMENT_DOWNLOADED,
            request=request,
            target=f"source {source.pk}: refused, checksum mismatch",
            refused="checksum_mismatch",
            recorded_sha256=error.recorded,
            stored_sha256=error.found,
        )
        return _refused(request, source, "damaged", 409)
    response = attachment(copy, filename=download_name(source), content_type=source.content_type)
    audit(AuditEvent.Action.DOCUMENT_DOWNLOADED, request=request, target=f"source {source.pk}")
    return response

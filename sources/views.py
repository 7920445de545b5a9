"""Staff downloads of uploaded source documents: never from a public URL."""

import mimetypes

from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from security.audit import record as audit
from security.models import AuditEvent

from .models import Source


@require_safe
@never_cache
@login_required
@permission_required("sources.download_document", raise_exception=True)
def document(request: HttpRequest, pk: int) -> HttpResponseBase:
    source = get_object_or_404(Source, pk=pk)
    if not source.document:
        raise Http404("This source has no uploaded copy.")
    extension = mimetypes.guess_extension(source.content_type) or ".bin"
    response = FileResponse(
        source.document.open("rb"),
        as_attachment=True,  # never rendered in the browser: an HTML copy could run scripts
        filename=f"source-{source.pk}{extension}",
        content_type=source.content_type or "application/octet-stream",
    )
    audit(AuditEvent.Action.DOCUMENT_DOWNLOADED, request=request, target=f"source {source.pk}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response

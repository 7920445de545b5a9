"""The staff's publication preview: the public case page exactly as publishing now would make it.

Rendered with the public page's own template and presenter from the record
that :mod:`workflow.preview` builds with the publishing code, beside what
would change on the public site. A staff page (under /staff/: signed in,
second factor checked, never cached); nothing here is public.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from workflow.preview import preview_case
from workflow.services import record_digest

from . import rendering


@require_safe
@never_cache
@login_required
def publication_preview(request: HttpRequest, case_id: str) -> HttpResponse:
    result = preview_case(case_id, request.user)  # type: ignore[arg-type]  # signed in (login_required)
    version = result.version
    context = rendering.case_context(request, version)
    context.update(
        preview=result,
        # The version publishing would make, before those already published.
        versions=[version, *context["versions"]],
        previewed=record_digest(version.record),
        publish_url=reverse("admin:cases_person_workflow", args=[result.person.pk, "publish"]),
        person_url=reverse("admin:cases_person_change", args=[result.person.pk]),
    )
    return render(request, "public/preview.html", context)

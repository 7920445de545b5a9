"""The staff dashboard: what needs attention today."""

import datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cases.models import Person, PublicationState, Status


@require_safe
@never_cache
@login_required
@permission_required("cases.view_person", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    stale_after = datetime.timedelta(days=settings.STALE_CASE_DAYS)
    active = Person.objects.exclude(publication_state=PublicationState.WITHDRAWN)
    status_counts = dict(active.values_list("current_status").annotate(count=Count("pk")).order_by())
    context = {
        # The admin's header, user links and menu, as on every other staff page.
        **admin.site.each_context(request),
        "waiting": Person.objects.filter(publication_state=PublicationState.IN_REVIEW)
        .select_related("submitted_by")
        .order_by("submitted_at"),
        "stale": active.annotate(last_event=Max("status_events__recorded_at"))
        .filter(updated_at__lt=now - stale_after)
        .filter(Q(last_event__isnull=True) | Q(last_event__lt=now - stale_after))
        .order_by("updated_at")[:50],
        "stale_days": settings.STALE_CASE_DAYS,
        "recent": Person.history.select_related("history_user").order_by("-history_date")[:20],
        "mine": active.filter(assigned_to=request.user).order_by("case_id"),
        "status_counts": [
            (label, status_counts.get(value, 0), value)
            for value, label in [("", "No status recorded"), *Status.choices]
        ],
        "now": now,
    }
    return render(request, "workflow/dashboard.html", context)

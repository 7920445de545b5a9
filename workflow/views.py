"""The staff dashboard: what needs attention today (and, for an Administrator, their own start page)."""

import datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cases.models import Person, PublicationState, Status, StatusEvent
from sources.models import Citation

# What an Administrator looks after (users, roles, authenticator devices, the audit): any of these opens their page.
ADMINISTRATION_PERMISSIONS = (
    "auth.view_user",
    "auth.view_group",
    "otp_totp.view_totpdevice",
    "security.view_auditevent",
)


def stale_cases(persons, today: datetime.date):
    """``persons`` with no information newer than ``STALE_CASE_DAYS`` before ``today``: oldest news first.

    "Information" is the date of the latest status event (``last_confirmed``,
    compared by its first day), not the last edit of the row: a case whose
    record was tidied yesterday but whose last news is years old is stale. A
    case with no dated event is stale too: nobody knows how old its news is.
    """
    stale_before = today - datetime.timedelta(days=settings.STALE_CASE_DAYS)
    return persons.filter(Q(last_confirmed__isnull=True) | Q(last_confirmed__lt=stale_before)).order_by(
        F("last_confirmed").asc(nulls_first=True), "case_id"
    )


def needing_attention():
    """Published cases with a public event that no public source backs any more.

    A source was restricted or withdrawn, or a citation withdrawn: the event
    has left the public record (``workflow.snapshots``) until an editor cites
    another public source and publishes again, or makes the event non-public.
    """
    backed = Citation.objects.public().filter(status_event__isnull=False).values("status_event_id")
    unsourced = StatusEvent.objects.public().exclude(pk__in=backed)
    return Person.objects.filter(
        publication_state=PublicationState.PUBLISHED, pk__in=unsourced.values("person_id")
    ).order_by("case_id")


@require_safe
@never_cache
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("cases.view_person"):
        if any(request.user.has_perm(permission) for permission in ADMINISTRATION_PERMISSIONS):
            return administration(request)
        raise PermissionDenied
    now = timezone.now()
    active = Person.objects.exclude(publication_state=PublicationState.WITHDRAWN)
    status_counts = dict(active.values_list("current_status").annotate(count=Count("pk")).order_by())
    context = {
        # The admin's header, user links and menu, as on every other staff page.
        **admin.site.each_context(request),
        "waiting": Person.objects.filter(publication_state=PublicationState.IN_REVIEW)
        .select_related("submitted_by")
        .order_by("submitted_at"),
        "stale": stale_cases(active, timezone.localdate(now))[:50],
        "attention": needing_attention()[:50],
        "stale_days": settings.STALE_CASE_DAYS,
        "recent": Person.history.select_related("history_user").order_by("-history_date")[:20],
        "mine": active.filter(assigned_to=request.user).order_by("case_id"),
        "status_counts": [
            (label, status_counts.get(value, 0), value)
            for value, label in [("", _("No status recorded")), *Status.choices]
        ],
        "now": now,
    }
    return render(request, "workflow/dashboard.html", context)


def administration(request: HttpRequest) -> HttpResponse:
    """An Administrator's start page: accounts, roles, authenticator devices and the audit, nothing of the cases."""
    return render(request, "workflow/administration.html", admin.site.each_context(request))

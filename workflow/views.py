"""The staff dashboard: what needs attention today (and, for an Administrator, their own start page)."""

import datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from advocacy.models import Appeal, last_appeals
from archive.models import LinkCheck
from cases.models import Person, PublicationState, Status, StatusEvent
from cases.partial_dates import DAY, PartialDate
from linkage.models import CandidatePair, pending_count
from sources.models import CITED_PERSON_PATHS, Citation

# Rows a dashboard list shows at most; it says when there are more.
LISTED = 50

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


def troubled_links() -> tuple[list[tuple[LinkCheck, list[Person]]], bool]:
    """Sources whose page is dead, unreachable or changed since it was captured, each with the cases citing it."""
    checks, more = _first(LinkCheck.objects.troubled().select_related("source").order_by("-checked_at", "-pk"))
    sources = [check.source_id for check in checks]
    cited = Citation.objects.active().filter(source_id__in=sources)
    citing: dict[int, set[int]] = {}
    for source_id, *persons in cited.values_list("source_id", *CITED_PERSON_PATHS):
        citing.setdefault(source_id, set()).update(pk for pk in persons if pk is not None)
    persons = Person.objects.only("pk", "case_id", "name", "descriptor").in_bulk(
        {pk for pks in citing.values() for pk in pks}
    )
    rows = [
        (check, sorted((persons[pk] for pk in citing.get(check.source_id, ())), key=lambda p: p.case_id))
        for check in checks
    ]
    return rows, more


def _first(rows) -> tuple[list, bool]:
    """The first ``LISTED`` rows and whether there are more, in one query."""
    rows = list(rows[: LISTED + 1])
    return rows[:LISTED], len(rows) > LISTED


def _days_since(date: PartialDate | None, today: datetime.date) -> int | None:
    """Days from a date known to the day; for a month or a year the page names the date instead."""
    if date is None or date.precision != DAY:
        return None
    return (today - date.first_day).days


def appeals_to_follow(today: datetime.date) -> dict:
    """The appeals sections: replies overdue, next actions due, and anniversaries to raise a case again on."""
    concerned = Prefetch("persons", queryset=Person.objects.only("pk", "case_id", "name", "descriptor"))
    overdue, more_overdue = _first(
        Appeal.objects.overdue(today, settings.APPEAL_REPLY_DAYS).prefetch_related(concerned)
    )
    actions, more_actions = _first(
        Appeal.objects.actions_due(today, settings.APPEAL_ACTION_DAYS).prefetch_related(concerned)
    )
    events, more_anniversaries = _first(
        StatusEvent.objects.anniversaries(today, settings.ANNIVERSARY_DAYS).select_related("person")
    )
    last = last_appeals(event.person for event in events)
    anniversaries = []
    for event in events:
        on = event.next_anniversary(today)
        assert on is not None and event.date is not None  # anniversaries() has only events dated to a month or day
        anniversaries.append(
            {"event": event, "on": on, "years": on.year - event.date.year, "last_appeal": last.get(event.person_id)}
        )
    return {
        "today": today,
        "overdue": [(appeal, appeal.waiting_since, _days_since(appeal.waiting_since, today)) for appeal in overdue],
        "more_overdue": more_overdue,
        "reply_days": settings.APPEAL_REPLY_DAYS,
        "actions": actions,
        "more_actions": more_actions,
        "action_days": settings.APPEAL_ACTION_DAYS,
        "anniversaries": anniversaries,
        "more_anniversaries": more_anniversaries,
        "anniversary_days": settings.ANNIVERSARY_DAYS,
    }


@require_safe
@never_cache
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("cases.view_person"):
        if any(request.user.has_perm(permission) for permission in ADMINISTRATION_PERMISSIONS):
            return administration(request)
        raise PermissionDenied
    now = timezone.now()
    active = Person.objects.active()
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
    if request.user.has_perm("linkage.review_candidatepair"):
        context["duplicates_waiting"] = pending_count()
    if request.user.has_perm("cases.merge_person"):
        context["merges_waiting"] = CandidatePair.objects.to_merge().count()
    if request.user.has_perm("archive.view_linkcheck"):
        context["troubled_links"], context["more_troubled_links"] = troubled_links()
    if request.user.has_perm("advocacy.view_appeal"):
        context |= appeals_to_follow(timezone.localdate(now))
    return render(request, "workflow/dashboard.html", context)


def administration(request: HttpRequest) -> HttpResponse:
    """An Administrator's start page: accounts, roles, authenticator devices and the audit, nothing of the cases."""
    return render(request, "workflow/administration.html", admin.site.each_context(request))

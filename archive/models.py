"""Preserved copies of the web pages that sources cite, the jobs that fetch them, and the checks of their links.

A capture is what one fetch of a source's URL brought back, kept as it came:
the WARC file (request and response of every hop, as the Berkeley Protocol
asks) and the body of the final response, each with its SHA-256, the time,
the final URL, the HTTP status, the content type and the tool that fetched
it. A capture is never changed or overwritten: fetching again makes a new
one. Its files are served to staff only, as attachments.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.history import EvidentialQuerySet, WithdrawableModel, save_with_history
from cases.models import Person
from sources.models import Citation, Source

__all__ = ["ArchiveJob", "Capture", "JobKind", "JobState", "LinkCheck", "LinkOutcome"]


def capture_path(instance: Capture, filename: str) -> str:
    # Opaque, like the uploaded copies: a page's address may itself be sensitive.
    return f"captures/{uuid.uuid4().hex}{'.warc.gz' if filename.endswith('.warc.gz') else ''}"


class CaptureQuerySet(EvidentialQuerySet):
    def active(self) -> CaptureQuerySet:
        return self.filter(withdrawn=False)

    def complete(self) -> CaptureQuerySet:
        """Captures not withdrawn whose page came back whole (HTTP 2xx): the rule of ``Capture.is_complete``."""
        return self.active().filter(http_status__gte=200, http_status__lt=300)

    def copyable(self) -> CaptureQuerySet:
        """Captures an editor may let the public download (the rule of ``Capture.may_be_made_public``): whole
        pages of public sources that no case at risk of reprisal cites (a copied page may name them)."""
        cited_at_risk = Citation.objects.active().about(Person.objects.filter(reprisal_risk=True).values("pk"))
        return (
            self.complete()
            .filter(source__in=Source.objects.public())
            .exclude(source__in=cited_at_risk.values("source_id"))
        )

    def public_copies(self) -> CaptureQuerySet:
        """Copies the public may download: copyable, and marked public by an editor (the rule of
        ``Capture.is_public_copy``; the public pages also ask that a published case cites the capture)."""
        return self.copyable().filter(copy_public=True)

    def latest_complete(self, source_ids) -> dict[int, Capture]:
        """The latest complete capture of each of ``source_ids`` that has one, by source id, in one query."""
        if not source_ids:
            return {}
        # Of the source's URL as it is now: a capture of an address it no longer gives is not its page.
        latest = (
            Capture.objects.complete()
            .filter(source=OuterRef("source"), requested_url=OuterRef("source__url"))
            .order_by("-captured_at", "-pk")
            .values("pk")
        )
        found = self.complete().filter(source__in=list(source_ids), pk=Subquery(latest[:1]))
        return {capture.source_id: capture for capture in found}


class Capture(WithdrawableModel):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="captures", verbose_name=_("source"))
    requested_url = models.URLField(_("requested URL"), max_length=2000)
    final_url = models.URLField(_("final URL"), max_length=2000, help_text=_("After redirects."))
    redirects = models.JSONField(_("redirects"), default=list, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"))
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    ip_address = models.CharField(_("server address"), max_length=45, blank=True)
    captured_at = models.DateTimeField(_("captured at"), db_index=True)
    warc = models.FileField(_("WARC file"), upload_to=capture_path, max_length=200)
    warc_sha256 = models.CharField(_("SHA-256 of the WARC file"), max_length=64)
    warc_size = models.PositiveBigIntegerField(_("size of the WARC file in bytes"))
    body = models.FileField(_("copy of the page"), upload_to=capture_path, max_length=200)
    body_sha256 = models.CharField(_("SHA-256 of the copy"), max_length=64, db_index=True)
    body_size = models.PositiveBigIntegerField(_("size of the copy in bytes"))
    tool = models.CharField(_("captured with"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    # An editor's decision: the public may download this copy of the page, from the page of the source (when
    # the source is public and a published case cites this very capture). Off until an editor turns it on.
    copy_public = models.BooleanField(
        _("copy public"),
        default=False,
        editable=False,
        help_text=_("The public may download this copy of the page from the source's public page."),
    )

    history = HistoricalRecords()
    objects = CaptureQuerySet.as_manager()

    class Meta:
        ordering = ["-captured_at", "-pk"]
        verbose_name = _("capture")
        verbose_name_plural = _("captures")
        permissions = [
            ("download_capture", "Can download the captured copy of a source's page"),
            ("publish_capture", "Can let the public download a captured copy"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(warc_sha256__regex=r"^[0-9a-f]{64}$"), name="capture_warc_sha256_hex"),
            models.CheckConstraint(condition=Q(body_sha256__regex=r"^[0-9a-f]{64}$"), name="capture_body_sha256_hex"),
        ]
        indexes = [
            # A source's latest capture (its page, the snapshot, the link check's comparison).
            models.Index(fields=["source", "-captured_at"], name="capture_source_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.source} · {timezone.localtime(self.captured_at):%Y-%m-%d %H:%M}"

    @property
    def may_be_made_public(self) -> bool:
        """The rule of ``Capture.objects.copyable()``."""
        return Capture.objects.copyable().filter(pk=self.pk).exists()

    @property
    def is_public_copy(self) -> bool:
        """The rule of ``Capture.objects.public_copies()``."""
        return self.copy_public and self.may_be_made_public

    def set_copy_public(self, public: bool, *, by, reason: str) -> None:
        """Let the public download this copy, or stop it: on record, with who and why."""
        self.copy_public = public
        save_with_history(self, by=by, reason=reason, update_fields=["copy_public"])

    @property
    def is_complete(self) -> bool:
        """The page came back whole and not as an error (a 404's capture proves the page was gone instead)."""
        return not self.withdrawn and 200 <= self.http_status < 300


class JobKind(models.TextChoices):
    CAPTURE = "capture", _("capture")
    CHECK = "check", _("link check")


class JobState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ArchiveJobQuerySet(models.QuerySet):
    def pending(self) -> ArchiveJobQuerySet:
        return self.filter(state__in=[JobState.QUEUED, JobState.RUNNING])


class ArchiveJob(models.Model):
    """One fetch asked of the worker, what became of it, and why it failed.

    The queue itself is django-tasks' table; this row is what staff see: queued,
    running, done, or failed with the reason, and when the next try is due.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="archive_jobs", verbose_name=_("source"))
    kind = models.CharField(_("kind"), max_length=10, choices=JobKind, default=JobKind.CAPTURE)
    state = models.CharField(_("state"), max_length=10, choices=JobState, default=JobState.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("reason of the last failure"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    capture = models.ForeignKey(
        Capture, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("capture")
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ArchiveJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("archiving job")
        verbose_name_plural = _("archiving jobs")
        constraints = [
            # One capture and one check at a time per source: asking again while one waits asks nothing more.
            models.UniqueConstraint(
                fields=["source", "kind"],
                condition=Q(state__in=["queued", "running"]),
                name="archive_job_pending_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.source}"

    def retry_delay(self) -> datetime.timedelta:
        """The wait before the next attempt: ARCHIVE_RETRY_SECONDS, four times longer after each failure."""
        return datetime.timedelta(seconds=settings.ARCHIVE_RETRY_SECONDS * 4 ** max(self.attempts - 1, 0))


class LinkOutcome(models.TextChoices):
    ALIVE = "alive", _("unchanged")
    CHANGED = "changed", _("changed")
    DEAD = "dead", _("dead")
    UNREACHABLE = "unreachable", _("unreachable")


# What the dashboard lists: the page is gone, cannot be reached, or is not what was captured.
TROUBLE = (LinkOutcome.CHANGED, LinkOutcome.DEAD, LinkOutcome.UNREACHABLE)


class LinkCheckQuerySet(models.QuerySet):
    def latest_per_source(self) -> LinkCheckQuerySet:
        """Each source's latest check only."""
        latest = LinkCheck.objects.filter(source=OuterRef("source")).order_by("-checked_at", "-pk").values("pk")[:1]
        return self.filter(pk=Subquery(latest))

    def troubled(self) -> LinkCheckQuerySet:
        """Latest checks that found a dead, unreachable or changed page, of sources still in use."""
        return self.latest_per_source().filter(outcome__in=TROUBLE, source__withdrawn=False)


class LinkCheck(models.Model):
    """One check of a source's URL: is the page still there, and is it still what was captured?"""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="link_checks", verbose_name=_("source"))
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    url = models.URLField(_("URL"), max_length=2000)
    final_url = models.URLField(_("final URL"), max_length=2000, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    body_sha256 = models.CharField(_("SHA-256 of the page"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=LinkOutcome)
    detail = models.TextField(_("detail"), blank=True)
    # A changed page is captured again: the new capture, beside the one it differs from.
    capture = models.ForeignKey(
        Capture, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("new capture")
    )
    previous_sha256 = models.CharField(_("SHA-256 of the capture compared"), max_length=64, blank=True)

    objects = LinkCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_at", "-pk"]
        verbose_name = _("link check")
        verbose_name_plural = _("link checks")
        indexes = [
            # A source's latest check (the dashboard, the scheduler's "due" test).
            models.Index(fields=["source", "-checked_at"], name="linkcheck_source_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.source} · {self.get_outcome_display()}"

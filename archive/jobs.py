"""Capturing sources' pages and checking their links, on the queue (django-tasks, database backend).

Every fetch goes through one path: ``request_capture`` or ``request_check``
records an ``ArchiveJob`` and puts a task on the queue, in the caller's
transaction (a save that rolls back asks for nothing). The worker
(``manage.py archive_worker``, ``make worker``) runs ``run_job``: it fetches
through ``sources.fetch`` (which refuses what is not a public address), keeps
what came back as a new ``Capture``, and on a passing failure (a timeout, a
refused connection, a server error) asks again later, each wait four times
longer, until ``ARCHIVE_ATTEMPTS``. ``schedule_link_checks`` runs every hour
and asks a check of each cited URL not checked for ``ARCHIVE_CHECK_DAYS``.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cases.history import save_with_history
from sources.fetch import Fetched, FetchError, FetchFailed, fetch
from sources.files import checked_copy
from sources.models import Citation, Source

from .models import ArchiveJob, Capture, JobKind, JobState, LinkCheck, LinkOutcome

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# How often the scheduler looks for links due a check, and how many checks it asks at a time (12,000 a day).
SCHEDULE_EVERY = datetime.timedelta(hours=1)
CHECKS_PER_ROUND = 500
# The queue's own rows of finished tasks are deleted after this (ArchiveJob and LinkCheck keep the outcomes).
KEEP_FINISHED_TASKS = datetime.timedelta(days=30)


# A capture asked by someone (a source saved, "Capture now") goes before the hourly round's link checks.
PRIORITY = {JobKind.CAPTURE: 10, JobKind.CHECK: 0}


def _enqueue(job: ArchiveJob, run_after: datetime.datetime | None = None) -> None:
    runner = run_job.using(priority=PRIORITY[JobKind(job.kind)])
    (runner.using(run_after=run_after) if run_after else runner).enqueue(job.pk)


def request_capture(source: Source, *, by: User | None = None) -> ArchiveJob | None:
    """Ask the worker to capture ``source``'s URL; none when it has no URL or a capture is already waiting."""
    return _request(source, JobKind.CAPTURE, by=by)


def request_captures(sources: list[Source], *, by: User | None = None) -> int:
    """Ask a capture of each of ``sources`` (new ones, written in bulk) that has a URL, when captures on save
    are on (``ARCHIVE_ON_SAVE``); how many were asked."""
    if not settings.ARCHIVE_ON_SAVE:
        return 0
    jobs = ArchiveJob.objects.bulk_create(
        ArchiveJob(source=source, kind=JobKind.CAPTURE, requested_by=by) for source in sources if source.url
    )
    for job in jobs:
        _enqueue(job)
    return len(jobs)


def request_check(source: Source) -> ArchiveJob | None:
    """Ask the worker to check ``source``'s URL again (and capture it anew if it changed)."""
    return _request(source, JobKind.CHECK, by=None)


def _request(source: Source, kind: str, *, by: User | None) -> ArchiveJob | None:
    if not source.url:
        return None
    if ArchiveJob.objects.pending().filter(source=source, kind=kind).exists():
        return None
    try:
        with transaction.atomic():
            job = ArchiveJob.objects.create(source=source, kind=kind, requested_by=by)
            _enqueue(job)
    except IntegrityError:  # asked at the same moment by someone else (archive_job_pending_once)
        return None
    return job


@task()
def run_job(job_id: int) -> str:
    """The worker's task: run one archiving job, and keep the outcome on the job."""
    return _run(job_id)


def capture_here(source: Source, *, by: User | None = None) -> ArchiveJob:
    """Capture ``source`` in this process (``archive_sources``); a passing failure is left to the worker.

    A capture already waiting on the queue is the one run here (its task then finds it done); one the worker
    is running is left to it.
    """
    pending = ArchiveJob.objects.pending().filter(source=source, kind=JobKind.CAPTURE)
    job = pending.first()
    if job is None:
        try:
            with transaction.atomic():
                job = ArchiveJob.objects.create(source=source, kind=JobKind.CAPTURE, requested_by=by)
        except IntegrityError:  # asked at this moment by a save
            job = pending.get()
    _run(job.pk)
    job.refresh_from_db()
    return job


def _run(job_id: int) -> str:
    with transaction.atomic():
        job = ArchiveJob.objects.select_for_update().select_related("source").filter(pk=job_id).first()
        if job is None or job.state != JobState.QUEUED:
            return "skipped"
        job.state, job.attempts, job.next_attempt_at = JobState.RUNNING, job.attempts + 1, None
        job.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    url = job.source.url
    try:
        fetched = fetch_url(url)
    except FetchError as error:
        return _failed(job, error)
    except Exception as error:
        # Not a refusal or a passing failure the fetcher knows: say so on the job rather than leave it running.
        logger.exception("Archiving job %s for source %s: the fetch broke", job.pk, job.source_id)
        return _failed(job, FetchError(_("The fetch failed unexpectedly: %(error)s") % {"error": error}))
    if fetched.status >= 500:
        # The server failed, not the page: worth another try before it is kept as the answer.
        fetched.close()
        message = _("The web server answered with an error (HTTP %(status)d).") % {"status": fetched.status}
        return _failed(job, FetchFailed(message))
    stored: Capture | None = None
    try:
        # The files go to the store (and are read back) before the transaction: under SQLite the database is
        # not held while megabytes are written.
        latest = _latest_capture(job.source, url)
        if job.kind == JobKind.CAPTURE or _changed(fetched, latest):
            stored = store(job.source, fetched, by=job.requested_by)
        with transaction.atomic():
            if job.kind == JobKind.CAPTURE:
                job.capture = keep(stored)
            else:
                job.capture = _record_check(job.source, url, fetched, latest, stored)
            job.state, job.finished_at, job.last_error = JobState.DONE, timezone.now(), ""
            job.save(update_fields=["state", "finished_at", "last_error", "capture", "updated_at"])
    except Exception as error:
        # The storage or the database failed, not the page: say so on the job (the queue keeps the traceback).
        job.state, job.finished_at = JobState.FAILED, timezone.now()
        job.last_error = _("The capture could not be stored: %(error)s") % {"error": error}
        job.save(update_fields=["state", "finished_at", "last_error", "updated_at"])
        if stored is not None and stored.pk is None:
            stored.warc.delete(save=False)
            stored.body.delete(save=False)
        raise
    finally:
        fetched.close()
    return "done"


def fetch_url(url: str) -> Fetched:
    """Fetch ``url`` with the settings' limits, proxy and (for the tests only) loopback."""
    return fetch(
        url,
        max_bytes=settings.ARCHIVE_MAX_BYTES,
        timeout=settings.ARCHIVE_TIMEOUT_SECONDS,
        proxy_url=settings.ARCHIVE_PROXY_URL,
        allow_loopback=settings.ARCHIVE_ALLOW_LOOPBACK,
    )


def _failed(job: ArchiveJob, error: FetchError) -> str:
    """Try a passing failure again later; give up on the others, or after the last attempt."""
    job.last_error = str(error)
    if error.retry and job.attempts < settings.ARCHIVE_ATTEMPTS:
        job.state, job.next_attempt_at = JobState.QUEUED, timezone.now() + job.retry_delay()
        with transaction.atomic():
            job.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
            _enqueue(job, run_after=job.next_attempt_at)
        return "retrying"
    job.state, job.finished_at = JobState.FAILED, timezone.now()
    with transaction.atomic():
        job.save(update_fields=["state", "last_error", "finished_at", "updated_at"])
        if job.kind == JobKind.CHECK:
            LinkCheck.objects.create(
                source=job.source, url=job.source.url, outcome=LinkOutcome.UNREACHABLE, detail=str(error)
            )
    logger.warning("Archiving job %s for source %s failed: %s", job.pk, job.source_id, error)
    return "failed"


def store(source: Source, fetched: Fetched, *, by: User | None = None) -> Capture:
    """What a fetch brought back as a new capture of ``source``, its files (WARC, copy) in the store, unsaved."""
    capture = Capture(
        source=source,
        requested_url=fetched.requested_url,
        final_url=fetched.final_url,
        redirects=list(fetched.redirects),
        http_status=fetched.status,
        content_type=fetched.content_type[:100],
        ip_address=fetched.ip_address,
        captured_at=fetched.started_at,
        warc_sha256=fetched.warc_sha256,
        warc_size=fetched.warc_size,
        body_sha256=fetched.body_sha256,
        body_size=fetched.body_size,
        tool=fetched.tool[:200],
        requested_by=by,
    )
    fetched.warc.seek(0)
    fetched.body.seek(0)
    capture.warc.save("capture.warc.gz", File(fetched.warc), save=False)
    capture.body.save("capture", File(fetched.body), save=False)
    # Read back from the file store and checked before the capture is recorded: a capture on record is whole.
    checked_copy(capture.warc, fetched.warc_size, fetched.warc_sha256).close()
    checked_copy(capture.body, fetched.body_size, fetched.body_sha256).close()
    return capture


def keep(capture: Capture | None) -> Capture:
    """Record a stored capture (``store``), on its history."""
    assert capture is not None
    save_with_history(
        capture, by=capture.requested_by, reason=_("Captured from %(url)s") % {"url": capture.requested_url}
    )
    return capture


def _latest_capture(source: Source, url: str) -> Capture | None:
    """The latest capture of ``source`` at ``url``: a check compares the page with it (never with another URL's)."""
    return Capture.objects.active().filter(source=source, requested_url=url).order_by("-captured_at", "-pk").first()


def _changed(fetched: Fetched, latest: Capture | None) -> bool:
    """A check found a page that is there and not the one last captured (or none was)."""
    return fetched.status < 400 and (latest is None or latest.body_sha256 != fetched.body_sha256)


def _record_check(
    source: Source, url: str, fetched: Fetched, latest: Capture | None, stored: Capture | None
) -> Capture | None:
    """Record what the check found; a page that differs from the latest capture is kept as a new one."""
    capture = None
    if fetched.status >= 400:
        outcome = LinkOutcome.DEAD
    elif _changed(fetched, latest):
        outcome = LinkOutcome.CHANGED if latest is not None else LinkOutcome.ALIVE
        capture = keep(stored)
    else:
        outcome = LinkOutcome.ALIVE
    LinkCheck.objects.create(
        source=source,
        url=url,
        final_url=fetched.final_url,
        http_status=fetched.status,
        body_sha256=fetched.body_sha256,
        outcome=outcome,
        capture=capture,
        previous_sha256=latest.body_sha256 if latest else "",
    )
    return capture


def sources_due_a_check(now: datetime.datetime):
    """Sources cited by an active citation, with a URL, not checked for ``ARCHIVE_CHECK_DAYS``."""
    since = now - datetime.timedelta(days=settings.ARCHIVE_CHECK_DAYS)
    cited = Citation.objects.active().filter(source=OuterRef("pk"))
    recent = LinkCheck.objects.filter(source=OuterRef("pk"), checked_at__gte=since)
    recent_capture = Capture.objects.filter(source=OuterRef("pk"), captured_at__gte=since)
    return (
        Source.objects.filter(withdrawn=False)
        .exclude(url="")
        .filter(Exists(cited))
        .exclude(Exists(recent) | Exists(recent_capture))
        .exclude(Exists(ArchiveJob.objects.pending().filter(source=OuterRef("pk"))))
        .order_by("pk")
    )


def recover_interrupted(older_than: datetime.timedelta) -> int:
    """Queue again the jobs left running by a worker that stopped (killed, or the server restarted)."""
    stuck = ArchiveJob.objects.filter(state=JobState.RUNNING, updated_at__lt=timezone.now() - older_than)
    recovered = 0
    for job in stuck:
        job.last_error = _("The worker stopped during this attempt.")
        with transaction.atomic():
            if job.attempts >= settings.ARCHIVE_ATTEMPTS:
                job.state, job.finished_at = JobState.FAILED, timezone.now()
                job.save(update_fields=["state", "last_error", "finished_at", "updated_at"])
                continue
            job.state = JobState.QUEUED
            job.save(update_fields=["state", "last_error", "updated_at"])
            _enqueue(job)
        recovered += 1
    return recovered


def interrupted_after() -> datetime.timedelta:
    """How long a job may run before it is taken for one whose worker stopped (a fetch is cut long before)."""
    return datetime.timedelta(seconds=2 * settings.ARCHIVE_TIMEOUT_SECONDS + 60)


@task()
def schedule_link_checks() -> int:
    """The hourly round: ask a check of every cited URL that is due one, queue again the jobs of a worker that
    stopped, and forget the queue's finished tasks after a month (each job keeps its own outcome)."""
    # The next round first: whatever happens below, the rounds go on.
    schedule_link_checks.using(run_after=timezone.now() + SCHEDULE_EVERY).enqueue()
    recover_interrupted(interrupted_after())
    DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=timezone.now() - KEEP_FINISHED_TASKS,
    ).delete()
    asked = 0
    for source in sources_due_a_check(timezone.now())[:CHECKS_PER_ROUND]:
        asked += request_check(source) is not None
    return asked


def round_waiting() -> bool:
    """Is a link-check round on the queue? (One left running longer than a round takes is a dead one.)"""
    rounds = DBTaskResult.objects.filter(task_path=schedule_link_checks.module_path)
    return (
        rounds.filter(status=TaskResultStatus.READY).exists()
        or rounds.filter(status=TaskResultStatus.RUNNING, started_at__gte=timezone.now() - SCHEDULE_EVERY).exists()
    )

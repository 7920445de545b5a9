"""Capture the page of every source with a URL: the ones never captured, or all of them again (--all)."""

import sys
from functools import partial

from django.core.management.base import BaseCommand
from django.db.models import Exists, OuterRef
from tqdm import tqdm

from archive.jobs import capture_here, request_capture
from archive.models import Capture, JobState
from sources.models import Source


class Command(BaseCommand):
    help = "Capture the page of every source with a URL that has no capture yet (--all: every one again)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Capture every source again, even those captured.")
        parser.add_argument(
            "--queue", action="store_true", help="Only put the captures on the worker's queue (make worker)."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, all: bool, queue: bool, quiet: bool, **options) -> None:
        sources = Source.objects.filter(withdrawn=False).exclude(url="").order_by("pk")
        if not all:
            sources = sources.exclude(Exists(Capture.objects.active().filter(source=OuterRef("pk"))))
        total = sources.count()
        # tqdm draws on stderr, and only when stderr is a terminal (disable=None).
        progress = partial(tqdm, file=sys.stderr, total=total, unit=" sources", disable=True if quiet else None)
        captured = queued = failed = 0
        for source in progress(sources.iterator(chunk_size=100)):
            if queue:
                queued += request_capture(source) is not None
                continue
            job = capture_here(source)
            if job.state == JobState.DONE:
                captured += 1
            elif job.state == JobState.RUNNING:
                queued += 1  # the worker has it in hand
            elif job.state == JobState.QUEUED:
                queued += 1
                self.stderr.write(f"Source {source.pk} ({source.url}): {job.last_error} The worker will try again.")
            else:
                failed += 1
                self.stderr.write(f"Source {source.pk} ({source.url}): {job.last_error}")
        self.stdout.write(
            f"{total} source(s) with a URL: {captured} captured, {queued} left to the worker, {failed} failed."
        )

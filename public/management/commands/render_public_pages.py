"""python manage.py render_public_pages [--language CODE] [--processes N] [--quiet]: keep every case page (README)."""

import multiprocessing
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils.translation import gettext as _
from tqdm import tqdm

from public.rendering import BATCH, keep_pages, unkept


class Command(BaseCommand):
    help = (
        "Render and keep the public page of every published case not yet kept by this deployment, in every "
        "language (or those given): run it after a deployment, so that no reader waits for a page to be rendered."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--language", action="append", dest="languages", metavar="CODE", help="only this language (repeatable)"
        )
        parser.add_argument(
            "--processes", type=int, default=1, help="pages rendered side by side (PostgreSQL; one per core at most)"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary; errors only")

    def handle(self, *args, languages=None, processes=1, quiet=False, **options):
        known = [code for code, _name in settings.LANGUAGES]
        for code in languages or ():
            if code not in known:
                raise CommandError(
                    _("Unknown language %(code)s: choose among %(known)s.") % {"code": code, "known": ", ".join(known)}
                )
        codes = languages or known
        versions = unkept(codes)
        # tqdm draws on stderr, and only when stderr is a terminal (disable=None).
        with tqdm(file=sys.stderr, total=len(versions), unit=" cases", disable=True if quiet else None) as bar:
            if processes > 1 and connection.vendor == "postgresql":
                kept = _side_by_side(versions, codes, processes, bar.update)
            else:
                kept = keep_pages(versions, languages=codes, progress=bar.update)
        if not quiet:
            self.stdout.write(
                _("%(kept)s pages kept for %(cases)s cases (%(languages)s).")
                % {"kept": kept, "cases": len(versions), "languages": ", ".join(codes)}
            )


def _side_by_side(versions: list[int], codes: list[str], processes: int, progress) -> int:
    """keep_pages over ``processes`` forked processes, a batch at a time, each on its own connection."""
    batches = [(versions[start : start + BATCH], codes) for start in range(0, len(versions), BATCH)]
    connections.close_all()  # the children open their own: none may share the parent's
    kept = 0
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for count, done in pool.imap_unordered(_keep_batch, batches):
            kept += count
            progress(done)
    return kept


def _keep_batch(batch: tuple[list[int], list[str]]) -> tuple[int, int]:
    ids, codes = batch
    return keep_pages(ids, languages=codes), len(ids)

"""python manage.py find_duplicates [--quiet]: the full pass over every case (see linkage.matching)."""

import sys
import time
from functools import partial

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from tqdm import tqdm

from linkage.matching import full_pass
from linkage.models import CandidatePair


class Command(BaseCommand):
    help = (
        "Compare every case not withdrawn with the others and store the pairs that may be one person for review "
        "at /staff/duplicates/. Pairs already marked the same person or different persons are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary; errors only")

    def handle(self, *args, quiet=False, **options):
        # tqdm draws on stderr, and only when stderr is a terminal (disable=None).
        progress = partial(tqdm, file=sys.stderr, disable=True if quiet else None)
        start = time.perf_counter()
        created, updated = full_pass(progress)
        if quiet:
            return
        self.stdout.write(
            _(
                "%(total)d possible duplicates to review; %(created)d new, %(updated)d with an updated score "
                "(%(seconds).1f s)."
            )
            % {
                "total": CandidatePair.objects.pending().count(),
                "created": created,
                "updated": updated,
                "seconds": time.perf_counter() - start,
            }
        )

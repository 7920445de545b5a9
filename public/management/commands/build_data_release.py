"""python manage.py build_data_release [--quiet]: a new data release of every published case (see the README)."""

import sys
from functools import partial

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _
from tqdm import tqdm

from public.release_tables import CASES, TABLES
from public.releases import build_release
from workflow.models import PublishedVersion


class Command(BaseCommand):
    help = (
        "Build a new data release: every published case, as the public pages show it, as a Frictionless data "
        "package (CSV tables with their schemas, JSON Lines, a data dictionary, the licence and SHA-256 "
        "checksums, and a zip of it all), listed at /data/. Run it at night when DATA_RELEASE_AFTER_PUBLICATION "
        "is off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary; errors only")

    def handle(self, *args, quiet=False, **options):
        # tqdm draws on stderr, and only when stderr is a terminal (disable=None).
        total = PublishedVersion.objects.current().count()
        progress = partial(tqdm, file=sys.stderr, total=total, unit=" cases", disable=True if quiet else None)
        release = build_release(progress)
        if release.withdrawn_at is not None:
            raise CommandError(
                _("Release %(number)s was withdrawn while it was built: a case in it changed. Run the command again.")
                % {"number": release.number}
            )
        if quiet:
            return
        rows = {entry["name"]: entry["rows"] for entry in release.files}
        counts = ", ".join(f"{rows[table.filename]} {table.name}" for table in TABLES if table is not CASES)
        self.stdout.write(
            _("Data release %(number)s: %(cases)s cases (%(counts)s), %(files)s files.")
            % {"number": release.number, "cases": release.case_count, "counts": counts, "files": len(release.files)}
        )
        self.stdout.write(
            _("Stored under %(folder)s; listed at %(url)s.")
            % {"folder": release.folder, "url": reverse("public:data_releases")}
        )

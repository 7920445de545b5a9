"""python manage.py import_cases FILE.csv [--dry-run]: see the README, "Importing and exporting cases"."""

import sys
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from exchange.importer import SYSTEM_USERNAME, import_cases


class Command(BaseCommand):
    help = (
        "Import persons from a CSV file (one row per person; see the README for the columns). Every row is "
        "checked first: with any problem, each is reported with its line and nothing is written. "
        f"History rows name the system user “{SYSTEM_USERNAME}” and the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8; a byte-order mark and CRLF line ends are fine)")
        parser.add_argument("--dry-run", action="store_true", help="check and report what would happen; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s.") % {"file": path, "error": error.strerror}
            ) from None
        # tqdm draws on stderr, and only when stderr is a terminal (disable=None).
        progress = partial(tqdm, file=sys.stderr, unit=" rows", disable=True if options["no_progress"] else None)
        result = import_cases(data, filename=path.name, dry_run=options["dry_run"], progress=progress)
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problems:
            raise CommandError(result.summary())
        self.stdout.write(result.summary())

"""python manage.py import_facilities FILE.json [--dry-run]: the facilities and authorities of a JSON export."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exchange.facilities import import_facilities
from exchange.importer import SYSTEM_USERNAME, system_user


class Command(BaseCommand):
    help = (
        "Load the authorities and facilities of a JSON file written by export_cases --format json (or in the "
        "seed's shape): with their parents and operating authorities by name, other names and citations. One "
        "whose English name exists is left as it is. Everything is checked first: with any problem, each is "
        f"reported and nothing is written. History rows name the system user “{SYSTEM_USERNAME}”."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file")
        parser.add_argument("--dry-run", action="store_true", help="check and report what would happen; write nothing")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s.") % {"file": path, "error": error.strerror}
            ) from None
        result = import_facilities(data, by=system_user(), dry_run=options["dry_run"])
        for problem in result.problems:
            self.stderr.write(problem)
        if result.problems:
            raise CommandError(
                ngettext(
                    "%(file)s: %(count)d problem found; nothing was written.",
                    "%(file)s: %(count)d problems found; nothing was written.",
                    len(result.problems),
                )
                % {"file": path.name, "count": len(result.problems)}
            )
        values = {
            "file": path.name,
            "authorities": ngettext("%(count)d authority", "%(count)d authorities", result.authorities)
            % {"count": result.authorities},
            "facilities": ngettext("%(count)d facility", "%(count)d facilities", result.facilities)
            % {"count": result.facilities},
            "unchanged": result.unchanged,
        }
        if options["dry_run"]:
            message = _(
                "Dry run of %(file)s, nothing was written: would add %(authorities)s and %(facilities)s; "
                "%(unchanged)d already there, left as they are."
            )
        else:
            message = _(
                "Imported %(file)s: added %(authorities)s and %(facilities)s; %(unchanged)d already there, "
                "left as they are."
            )
        self.stdout.write(message % values)

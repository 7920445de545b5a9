"""python manage.py export_cases [--format csv|json] [--public-only] [--output FILE].

The JSON carries the facilities and authorities, and each case's appeals, events and relations beside the
import's columns (``exchange.exporter``).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exchange.exporter import csv_chunks, json_export, person_rows, public_rows


class Command(BaseCommand):
    help = (
        "Export every case in the import's format, to standard output or a file. Without --public-only the "
        "export holds restricted values (internal notes, restricted sources, non-public facilities, authorities "
        "and relations, and in JSON every field of each appeal with its replies): keep it as safe as the "
        "database. With --public-only it holds what the public site shows and nothing else. Exporting a CSV and "
        "importing it back changes nothing; appeals and relations are not imported, and the JSON's facilities "
        "and authorities load into another database with import_facilities."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument(
            "--public-only",
            action="store_true",
            help="only what the public site shows: the current published version of each published case",
        )
        parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")

    def handle(self, *args, **options):
        # Whoever runs a command has the database at hand: they may have its restricted values too.
        if options["format"] == "json":
            chunks = json_export(public_only=options["public_only"])
        else:
            chunks = csv_chunks(public_rows() if options["public_only"] else person_rows(include_restricted=True))
        if not options["output"]:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        try:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                for chunk in chunks:
                    out.write(chunk)
        except OSError as error:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s.") % {"file": options["output"], "error": error.strerror}
            ) from None

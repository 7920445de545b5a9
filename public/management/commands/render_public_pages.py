"""python manage.py render_public_pages [--language CODE] [--quiet]: keep every case page (see the README)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from public.rendering import keep_pages, unkept


class Command(BaseCommand):
    help = (
        "Render and keep the public page of every published case not yet kept by this deployment, in every "
        "language (or those given): run it after a deployment, so that no reader waits for a page to be rendered."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--language", action="append", dest="languages", metavar="CODE", help="only this language (repeatable)"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary; errors only")

    def handle(self, *args, languages=None, quiet=False, **options):
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
            kept = keep_pages(versions, languages=codes, progress=bar.update)
        if not quiet:
            self.stdout.write(
                _("%(kept)s pages kept for %(cases)s cases (%(languages)s).")
                % {"kept": kept, "cases": len(versions), "languages": ", ".join(codes)}
            )

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from security.audit import record
from security.backup import BackupError, create_backup
from security.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Back up everything (database with its history, and the files of the default storage, folder or bucket: "
        "uploaded copies and data releases) into one .tar.gz archive, "
        "readable by this user only (0600; missing folders are made 0700)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "archive", nargs="?", help="where to write the archive (default: whereabouts-<date>.tar.gz here)"
        )

    def handle(self, *args, **options):
        archive = Path(options["archive"] or f"whereabouts-{timezone.now():%Y%m%d-%H%M%S}.tar.gz")
        if archive.exists():
            raise CommandError(_("%(file)s exists: choose a new file name.") % {"file": archive})
        record(AuditEvent.Action.BACKUP, target=str(archive.name))
        try:
            manifest = create_backup(archive)
        except FileExistsError:
            raise CommandError(_("%(file)s exists: choose a new file name.") % {"file": archive}) from None
        except BackupError as error:
            archive.unlink(missing_ok=True)
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up {len(manifest['tables'])} tables and {len(manifest['files'])} files to {archive}. "
            "Keep it encrypted and off this machine: it holds every restricted record."
        )

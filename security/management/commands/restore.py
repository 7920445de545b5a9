from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from security.backup import BackupError, media_root, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive into an empty database and an empty uploads folder, "
        "then check that every table and file is exactly as saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--database-url", help="the empty database to restore into (default: DATABASE_URL of this deployment)"
        )
        parser.add_argument("--uploads", help="the empty folder for uploaded files (default: MEDIA_ROOT)")

    def handle(self, *args, **options):
        url = options["database_url"] or _configured_url()
        uploads = Path(options["uploads"]) if options["uploads"] else media_root()
        try:
            manifest = restore_backup(Path(options["archive"]), url, uploads)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored and verified {len(manifest['tables'])} tables and {len(manifest['files'])} files "
            f"(backup of {manifest['created']})."
        )


def _configured_url() -> str:
    import os

    return os.environ.get("DATABASE_URL") or f"sqlite:///{settings.DATABASES['default']['NAME']}"

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from security.backup import BackupError, restore_backup, uploads_target


class Command(BaseCommand):
    help = (
        "Restore a backup archive into an empty database and an empty folder or bucket for the files, "
        "then check that every table and file is exactly as saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--database-url", help="the empty database to restore into (default: DATABASE_URL of this deployment)"
        )
        parser.add_argument(
            "--uploads",
            help=(
                "the empty folder, or the empty bucket (s3://BUCKET[/PREFIX], the store's address and keys from "
                "the S3_* variables), for the uploaded files and data releases (default: MEDIA_ROOT or S3_BUCKET)"
            ),
        )

    def handle(self, *args, **options):
        url = options["database_url"] or _configured_url()
        try:
            uploads = uploads_target(options["uploads"])
            manifest = restore_backup(Path(options["archive"]), url, uploads)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored and verified {len(manifest['tables'])} tables and {len(manifest['files'])} files "
            f"into {uploads} (backup of {manifest['created']})."
        )


def _configured_url() -> str:
    import os

    return os.environ.get("DATABASE_URL") or f"sqlite:///{settings.DATABASES['default']['NAME']}"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = _("Web archive")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the capture of a source saved with a new URL)

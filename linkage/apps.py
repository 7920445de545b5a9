from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkageConfig(AppConfig):
    name = "linkage"
    verbose_name = _("Possible duplicates")

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the receivers)

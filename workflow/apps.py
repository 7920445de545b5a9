from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Review and publishing")

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the receivers)

from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "Review and publishing"

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the receivers)

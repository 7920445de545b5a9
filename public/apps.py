from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public site")

    def ready(self) -> None:
        from workflow.models import public_records_changed

        from .releases import build_after_change

        # A new data release after a publication, a withdrawal or a redaction commits (DATA_RELEASE_AFTER_PUBLICATION).
        public_records_changed.connect(build_after_change, dispatch_uid="public.releases.build_after_change")

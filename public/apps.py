from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public site")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from workflow.models import PublishedVersion, public_records_changed

        from .releases import build_after_change
        from .rendering import keep_after_publication

        # A new data release after a publication, a withdrawal or a redaction commits (DATA_RELEASE_AFTER_PUBLICATION).
        public_records_changed.connect(build_after_change, dispatch_uid="public.releases.build_after_change")
        # A version published: its case page rendered in every language once the publication commits.
        post_save.connect(
            keep_after_publication, sender=PublishedVersion, dispatch_uid="public.rendering.keep_after_publication"
        )

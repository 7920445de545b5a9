"""A source saved with a new URL is captured: the worker fetches it within seconds."""

from django.conf import settings
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from sources.models import Source

from .jobs import request_capture


@receiver(post_init, sender=Source)
def remember_url(sender, instance: Source, **kwargs) -> None:
    # The URL as loaded, to tell a new address from an unchanged one without reading the row again.
    instance.__dict__["_archive_loaded_url"] = instance.__dict__.get("url", "")


@receiver(post_save, sender=Source)
def capture_new_url(sender, instance: Source, created: bool, raw: bool = False, **kwargs) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or not settings.ARCHIVE_ON_SAVE or (update_fields is not None and "url" not in update_fields):
        return
    if "url" not in instance.__dict__ or not instance.url:
        return  # loaded without its URL (``only()``), and saved without it: not a new address
    if created or instance.url != instance.__dict__.get("_archive_loaded_url", ""):
        request_capture(instance, by=getattr(instance, "_history_user", None))
    instance.__dict__["_archive_loaded_url"] = instance.url

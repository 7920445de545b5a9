"""A CSV file checked on the staff import page, waiting for its confirmation.

It lives in the database, not on the server that checked it: behind a load
balancer the confirmation may reach another server, which must find it. It
holds personal data, so it is kept an hour at most, is never shown in the
admin, and goes as soon as it is imported or expired.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long a preview may be confirmed.
PREVIEW_LIFETIME = datetime.timedelta(hours=1)


def new_preview_id() -> str:
    # 256 random bits: the id names the row and cannot be guessed.
    return secrets.token_urlsafe(32)


class ImportPreviewQuerySet(models.QuerySet):
    def expired(self) -> ImportPreviewQuerySet:
        return self.filter(expires__lte=timezone.now())

    def unexpired(self) -> ImportPreviewQuerySet:
        return self.filter(expires__gt=timezone.now())

    def purge_expired(self) -> int:
        """Delete the previews nobody confirmed in time; how many there were."""
        deleted, _by_model = self.expired().delete()
        return deleted

    def keep(self, data: bytes, *, filename: str, owner) -> ImportPreview:
        """Keep a checked file for ``owner`` to confirm within the lifetime; expired ones go first."""
        self.purge_expired()
        now = timezone.now()
        return self.create(owner=owner, filename=filename, data=data, created=now, expires=now + PREVIEW_LIFETIME)

    def for_confirmation(self, preview_id: str, owner) -> ImportPreview | None:
        """The unexpired preview ``preview_id`` of ``owner``, locked until the transaction ends; else None.

        The lock makes a second confirmation of the same preview wait, then
        find it deleted: a file is never imported twice.
        """
        return self.select_for_update().unexpired().filter(pk=preview_id, owner=owner).first()


class ImportPreview(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_preview_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    filename = models.CharField(_("file name"), max_length=255)
    data = models.BinaryField(_("file"))
    created = models.DateTimeField(_("checked at"), default=timezone.now)
    # Serves purge_expired and the unexpired lookup.
    expires = models.DateTimeField(_("expires at"), db_index=True)

    objects = ImportPreviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("import preview")
        verbose_name_plural = _("import previews")
        # Nobody is ever granted a look at a preview (it is in no admin): no permissions to grant.
        default_permissions = ()

    def __str__(self) -> str:
        return self.filename

    @property
    def is_expired(self) -> bool:
        return self.expires <= timezone.now()

"""Published versions: the public record of a case, frozen when an editor publishes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Person, Status


class PublishedVersionQuerySet(models.QuerySet):
    def public(self) -> PublishedVersionQuerySet:
        """Versions the public may read: every version of a case that is not withdrawn."""
        return self.filter(withdrawn_at__isnull=True)

    def current(self) -> PublishedVersionQuerySet:
        """The latest public version of each published case: what the public site lists."""
        return self.public().filter(is_current=True)


class PublishedVersion(models.Model):
    """One published version of a case's public record.

    ``record`` holds everything the public may see of the case at that
    version, and nothing else: it is built from public fields, public name
    variants, public status events and public citations of public sources
    when an editor publishes (see ``workflow.snapshots``). The public site
    reads only these rows, so an unreviewed edit never reaches it and a
    restricted field cannot leak through a template. The columns beside the
    record repeat a few of its values for the public list's filters and sorts.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="published_versions")
    number = models.PositiveIntegerField(_("version"))
    is_current = models.BooleanField(_("current"), default=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    record = models.JSONField(_("public record"))

    case_id = models.CharField(_("case ID"), max_length=20)
    name = models.CharField(_("public name"), max_length=200)
    status = models.CharField(_("status"), max_length=30, choices=Status, blank=True)
    is_clarified = models.BooleanField(_("fate clarified"), default=False)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)

    history = HistoricalRecords()
    objects = PublishedVersionQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "number"]
        verbose_name = _("published version")
        verbose_name_plural = _("published versions")
        constraints = [
            models.UniqueConstraint(fields=["person", "number"], name="publishedversion_number_unique"),
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_current=True), name="publishedversion_one_current_per_person"
            ),
        ]
        indexes = [
            # The case page and its versions: current()/public() by case_id.
            models.Index(fields=["case_id", "number"], name="publishedversion_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.number}"

"""Published versions: the public record of a case, frozen when an editor publishes it."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Category, Person, Status

# A version the public list shows: the current one of a case that is not withdrawn.
CURRENT = Q(is_current=True, withdrawn_at=None)


class PublishedVersionQuerySet(models.QuerySet):
    def public(self) -> PublishedVersionQuerySet:
        """Versions the public may read: every version of a case that is not withdrawn."""
        return self.filter(withdrawn_at__isnull=True)

    def current(self) -> PublishedVersionQuerySet:
        """The latest public version of each published case: what the public site lists."""
        return self.filter(CURRENT)


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
    # Shown beside the romanized name in the list and search results, in every language.
    name_native = models.CharField(_("public name in native script"), max_length=160, blank=True)
    status = models.CharField(_("status"), max_length=30, choices=Status, blank=True)
    is_clarified = models.BooleanField(_("fate clarified"), default=False)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    status_since_day = models.DateField(_("status since (first day)"), null=True, blank=True)
    # The list's rows show these without reading the whole record.
    status_since = models.CharField(_("status since"), max_length=20, blank=True)
    is_synthetic = models.BooleanField(_("synthetic demo data"), default=False)
    first_event_year = models.PositiveSmallIntegerField(_("year of the first event"), null=True, blank=True)
    # The statistics' years (public.statistics): of the first arrest, abduction, disappearance, detention or
    # forced repatriation the record dates (Status.loss_of_liberty), and of its latest dated event.
    taken_year = models.PositiveSmallIntegerField(_("year of arrest or disappearance"), null=True, blank=True)
    latest_year = models.PositiveSmallIntegerField(_("year of the latest information"), null=True, blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="+")

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
            # The public list, one index per sort, over current public versions only; a page's ids
            # are read from the index alone (public.queries.IdsFirstPaginator), hence the included id.
            models.Index(fields=["name", "case_id"], name="pv_current_by_name", condition=CURRENT, include=["id"]),
            models.Index(
                fields=["-published_at", "case_id"], name="pv_current_by_update", condition=CURRENT, include=["id"]
            ),
            models.Index(
                fields=["-status_since_day", "case_id"], name="pv_current_by_date", condition=CURRENT, include=["id"]
            ),
            # The list's counts per status, fate and nationality (CaseQuery.facets): read from
            # these indexes alone, not from the rows with their records.
            models.Index(fields=["status"], name="pv_current_status", condition=CURRENT),
            models.Index(fields=["is_clarified"], name="pv_current_fate", condition=CURRENT),
            models.Index(fields=["nationality"], name="pv_current_nationality", condition=CURRENT),
            # The feed: every public version, newest first.
            models.Index(fields=["-published_at", "-id"], name="pv_public_by_date", condition=Q(withdrawn_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.number}"


class PublishedName(models.Model):
    """One public name of a case's current published version, with its search keys.

    The name-search index: rebuilt from the record whenever the current
    version changes, and empty for a withdrawn case.
    """

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    # Exact and folded matches (public.search). On PostgreSQL ``key`` also has
    # a GIN trigram index for the fuzzy step (migration 0004).
    key = models.CharField(max_length=200, db_index=True)
    folded = models.CharField(max_length=200, db_index=True)
    # Canonical family name: the fuzzy step compares names within one family name.
    family = models.CharField(max_length=50, blank=True, db_index=True)

    class Meta:
        verbose_name = _("published name")

    def __str__(self) -> str:
        return self.name


class PublishedSource(models.Model):
    """A public source cited by a case's current published version (the /sources/ pages)."""

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="cited_sources")
    source_id = models.PositiveBigIntegerField(db_index=True)
    title = models.CharField(max_length=500)
    publisher = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20)
    published_on = models.CharField(max_length=12, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    archived_url = models.URLField(max_length=2000, blank=True)
    # The language the source is written in (its title), for the pages' lang attributes.
    language = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("published source")

    def __str__(self) -> str:
        return self.title


class PublishedAppeal(models.Model):
    """A public appeal line of a case's current published version (the home page's count of appeals)."""

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="appeals")
    appeal_id = models.PositiveBigIntegerField(db_index=True)
    kind = models.CharField(max_length=30)
    addressee = models.CharField(max_length=20)

    class Meta:
        verbose_name = _("published appeal")

    def __str__(self) -> str:
        return f"{self.version} appeal {self.appeal_id}"


class PublishedPlacement(models.Model):
    """A public event of a case's current published version at a public facility.

    The facility pages' cases, with their dates, and the public list's facets by facility and kind of facility.
    """

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="placements")
    facility_id = models.PositiveBigIntegerField(db_index=True)
    facility_kind = models.CharField(max_length=30, db_index=True)
    event_id = models.PositiveBigIntegerField()
    status = models.CharField(max_length=30)
    date = models.CharField(max_length=12, blank=True)

    class Meta:
        verbose_name = _("published placement")

    def __str__(self) -> str:
        return f"{self.version} at facility {self.facility_id}"


class PublishedAuthority(models.Model):
    """A public authority believed responsible for an event of a case's current published version (the facet)."""

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="authorities")
    authority_id = models.PositiveBigIntegerField(db_index=True)

    class Meta:
        verbose_name = _("published responsibility")

    def __str__(self) -> str:
        return f"{self.version} authority {self.authority_id}"


class PublicGeneration(models.Model):
    """A number raised whenever what the public may see changes, and when.

    Publishing, withdrawing, redacting, purging and renaming a category raise
    it (workflow.signals; bulk writers call :meth:`advance` themselves). The
    public pages cache what they compute (facet counts, page counts, search
    results) under the current number, and give it as their ETag, so a
    change, a redaction above all, is never served from a stale copy: a
    proxy revalidates and gets the new page.
    """

    generation = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("public data generation")

    def __str__(self) -> str:
        return f"generation {self.generation} ({self.changed_at:%Y-%m-%d %H:%M})" if self.changed_at else "generation 0"

    @classmethod
    def current(cls) -> tuple[int, datetime.datetime | None]:
        """(number, time of the last change); (0, None) before the first change."""
        row = cls.objects.filter(pk=1).values_list("generation", "changed_at").first()
        return row or (0, None)

    @classmethod
    def advance(cls) -> None:
        """Raise the number, in the current transaction (a rolled-back change leaves it as it was)."""
        now = timezone.now()
        if not cls.objects.filter(pk=1).update(generation=F("generation") + 1, changed_at=now):
            cls.objects.get_or_create(pk=1, defaults={"generation": 1, "changed_at": now})

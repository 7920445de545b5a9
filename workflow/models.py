"""Published versions: the public record of a case, frozen when an editor publishes it."""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import F, Min, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Category, Person, Status

from .prepared import first_row

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
    # When what this version shows last changed: its publication, or the latest redaction of it (a restricted
    # source, a name withheld…). Those who mirror the data ask for what changed since (``updated_since``).
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
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
            # What changed since a moment (updated_since), for those who mirror the data.
            models.Index(fields=["changed_at"], name="pv_current_changed", condition=CURRENT),
            # The statistics' years (public.statistics), counted the same way.
            models.Index(fields=["taken_year"], name="pv_current_taken_year", condition=CURRENT),
            models.Index(fields=["latest_year"], name="pv_current_latest_year", condition=CURRENT),
            # The feed: every public version, newest first.
            models.Index(fields=["-published_at", "-id"], name="pv_public_by_date", condition=Q(withdrawn_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.number}"

    @property
    def is_pseudonymous(self) -> bool:
        """Published under a pseudonym (the family faces reprisals): no other name, and no other case, may lead
        to it (former names, the addresses of a case merged into it)."""
        return bool(self.record.get("pseudonymous"))


class PublishedName(models.Model):
    """One public name of a case's current published version, with its search keys.

    The name-search index: rebuilt from the record whenever the current
    version changes, and empty for a withdrawn case.
    """

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    # Exact and folded matches (public.search). On PostgreSQL a GIN index on
    # (family, the given name's trigrams: the folded key without the family
    # name) serves the contained and fuzzy steps (migration 0022); the older
    # trigram index on the whole key (0004) no longer serves the search.
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
    # The latest whole capture of its page when the version was published (archive.Capture): when, and the
    # SHA-256 of the copy and of the WARC file. Never the copy itself.
    capture_id = models.PositiveBigIntegerField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    capture_sha256 = models.CharField(max_length=64, blank=True)
    capture_warc_sha256 = models.CharField(max_length=64, blank=True)

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


class CaseMergeQuerySet(models.QuerySet):
    def in_force(self) -> CaseMergeQuerySet:
        """Merges not undone."""
        return self.filter(undone_at=None)

    def redirecting(self) -> CaseMergeQuerySet:
        """Merges in force whose merged case's public addresses lead to the surviving case (``redirects``)."""
        return self.in_force().filter(redirects=True)


class CaseMerge(models.Model):
    """One record of a person merged into another record of the same person (``workflow.merging``).

    Everything the merged record held moved to the surviving one; ``moved``
    says what, and what each changed field held before, so that an editor
    can undo the merge while nothing else has changed. The merged record
    keeps its case ID (never reused) and says "merged into" the survivor.
    ``redirects``: both were on the public site, neither under a pseudonym,
    when they were merged, so the merged case's public addresses lead to the
    surviving case (``public.queries.moved_to``); otherwise they answer as
    any unknown case does. The case IDs are kept here as the public site
    reads them, without the working records.
    """

    survivor = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="merges_received", verbose_name=_("surviving record")
    )
    merged = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="merges_made", verbose_name=_("merged record")
    )
    survivor_case_id = models.CharField(_("surviving case ID"), max_length=20)
    merged_case_id = models.CharField(_("merged case ID"), max_length=20, db_index=True)
    pair = models.ForeignKey(
        "linkage.CandidatePair",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merges",
        verbose_name=_("possible duplicate reviewed"),
    )
    reason = models.TextField(_("reason"))
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    merged_at = models.DateTimeField(_("merged at"))
    redirects = models.BooleanField(_("public addresses lead to the surviving case"), default=False)
    moved = models.JSONField(_("what moved"), default=dict)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undo_reason = models.TextField(_("reason for undoing"), blank=True)

    history = HistoricalRecords()
    objects = CaseMergeQuerySet.as_manager()

    class Meta:
        ordering = ["-merged_at", "-pk"]
        verbose_name = _("merge of two records")
        verbose_name_plural = _("merges of records")
        constraints = [
            models.CheckConstraint(condition=~Q(survivor=F("merged")), name="casemerge_two_records"),
            # A record is merged once: into one survivor, until that merge is undone.
            models.UniqueConstraint(fields=["merged"], condition=Q(undone_at=None), name="casemerge_merged_once"),
            models.CheckConstraint(condition=Q(undone_at=None) | ~Q(undo_reason=""), name="casemerge_undo_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_case_id} → {self.survivor_case_id}"

    @property
    def is_in_force(self) -> bool:
        """Not undone: the rule of ``CaseMerge.objects.in_force()``."""
        return self.undone_at is None


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
        # Read by every public page: its query compiled once (the ORM took longer to compile it than the
        # database to answer) and prepared (workflow.prepared), where the routers read it: the primary.
        sql, params = cls.current_query()
        return cls.from_row(first_row(cls, sql, params))

    @classmethod
    @functools.cache
    def current_query(cls) -> tuple[str, tuple]:
        """:meth:`current`'s SQL and parameters."""
        return cls.objects.filter(pk=1).values_list("generation", "changed_at").query.sql_with_params()

    @classmethod
    def from_row(cls, row: Sequence | None) -> tuple[int, datetime.datetime | None]:
        """(number, time of the last change) from the first two columns of a row read in SQL, the time converted
        as the ORM converts it (SQLite gives it as text); (0, None) for no row."""
        if row is None:
            return 0, None
        number, changed_at = row[0], row[1]
        field: Any = cls._meta.get_field("changed_at")
        column = field.get_col(cls._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
            changed_at = converter(changed_at, column, connection)
        return number, changed_at

    @classmethod
    def lock(cls) -> None:
        """Hold the generation's row until the transaction ends: a data release begins only once no change to
        the public records is on its way (DataRelease.withdraw_containing and public.releases take it)."""
        cls.objects.get_or_create(pk=1)
        cls.objects.select_for_update().filter(pk=1).first()

    @classmethod
    def advance(cls, *, pages_of: Q | None = None) -> None:
        """Raise the number, in the current transaction (a rolled-back change leaves it as it was).

        ``pages_of`` selects the published versions whose kept pages (:class:`PublishedRendering`) the change
        makes stale: they are dropped after the raise, in the same transaction, so that a page rendered from
        what the transaction changes is never kept (PublishedRendering.keep).
        """
        now = timezone.now()
        if not cls.objects.filter(pk=1).update(generation=F("generation") + 1, changed_at=now):
            cls.objects.get_or_create(pk=1, defaults={"generation": 1, "changed_at": now})
        if pages_of is not None:
            PublishedRendering.objects.filter(version__in=PublishedVersion.objects.filter(pages_of)).delete()


class PublishedRendering(models.Model):
    """A current version's public case page in one language, rendered once and served as it was rendered.

    A published version changes only by a redaction, so its page is the same
    for every reader until then (public.rendering). It is kept without the
    site's address and the day it is read, which are written in when it is
    served, and with the build it was rendered by (casetracker.build): a new
    deployment renders pages anew. A change to what a page shows drops it in
    the same transaction (:meth:`PublicGeneration.advance`).
    """

    version = models.ForeignKey(PublishedVersion, on_delete=models.CASCADE, related_name="renderings")
    language = models.CharField(max_length=10)
    build = models.CharField(max_length=64)
    html = models.TextField()
    rendered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("kept public page")
        constraints = [
            models.UniqueConstraint(fields=["version", "language"], name="publishedrendering_one_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.language})"

    @classmethod
    def keep(cls, version: PublishedVersion, language: str, build: str, html: str, *, generation: int) -> bool:
        """Keep ``html``, rendered from ``version`` when the generation was ``generation``, unless the public
        data has changed since: a change under way waits for this (the generation's row lock), and one made
        meanwhile would have dropped it before it was kept. Whether it was kept."""
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # FOR SHARE: readers keeping pages do not wait for one another, only for a change.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT generation FROM {PublicGeneration._meta.db_table} WHERE id = 1 FOR SHARE"  # noqa: S608 (our own table)
                    )
                    row = cursor.fetchone()
            else:  # SQLite: one writer at a time, and this is it until the end of the transaction.
                row = PublicGeneration.objects.filter(pk=1).values_list("generation").first()
            if (row[0] if row else 0) != generation:
                return False
            page = PublishedRendering(
                version=version, language=language, build=build, html=html, rendered_at=timezone.now()
            )
            PublishedRendering.objects.bulk_create(
                [page],
                update_conflicts=True,
                unique_fields=["version", "language"],
                update_fields=["build", "html", "rendered_at"],
            )
        return True


# Sent after the commit of a transaction that published, withdrew, redacted or erased published versions
# (workflow.signals, workflow.services.publish_many, DataRelease.withdraw_containing). The public layer builds a
# new data release then, when DATA_RELEASE_AFTER_PUBLICATION is on (public/apps.py): workflow never imports it.
public_records_changed = Signal()


def announce_public_records_changed() -> None:
    """Send :data:`public_records_changed` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: public_records_changed.send(sender=PublishedVersion), robust=True)


class DataReleaseQuerySet(models.QuerySet):
    def listed(self) -> DataReleaseQuerySet:
        """Releases the /data/ page lists, newest first: every finished one, the withdrawn ones marked."""
        return self.filter(built_at__isnull=False).order_by("-number")

    def available(self) -> DataReleaseQuerySet:
        """Finished releases not withdrawn: the ones whose files may be downloaded."""
        return self.listed().filter(withdrawn_at=None)


class DataRelease(models.Model):
    """A dated, numbered download of every published case (a Frictionless data package, public/releases.py).

    Its files live in the shared storage (``releases/<number>/``), served
    only through the /data/ views. A release holds copies of public
    records: when one of them changes or leaves the public site, every
    release that may hold it is withdrawn at once and its files deleted
    (:meth:`withdraw_containing`); the listing keeps its number and date.
    """

    class Withdrawal(models.TextChoices):
        CASE_CHANGED = (
            "case_changed",
            _("Withdrawn because a case in it changed or left the public site; a newer release replaces it."),
        )
        BUILD_FAILED = "build_failed", _("The release could not be completed.")

    number = models.PositiveIntegerField(_("release number"), unique=True)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    # Null while the release is being written: it is not listed until then.
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)
    # The public data's generation (PublicGeneration) when the records were read.
    generation = models.PositiveBigIntegerField(_("public data generation"), default=0)
    case_count = models.PositiveIntegerField(_("cases"), default=0)
    licence = models.CharField(_("licence"), max_length=40)
    # One entry per file: name, path (in the storage), bytes, sha256, rows (tables), media_type.
    files = models.JSONField(_("files"), default=list)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("why withdrawn"), max_length=30, choices=Withdrawal, blank=True)

    objects = DataReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        verbose_name = _("data release")
        verbose_name_plural = _("data releases")

    def __str__(self) -> str:
        return f"data release {self.number}"

    @property
    def folder(self) -> str:
        """Where its files are kept in the shared storage."""
        return f"releases/{self.number}/"

    def file(self, name: str) -> dict | None:
        """The entry of its file called ``name``, or None."""
        return next((entry for entry in self.files if entry["name"] == name), None)

    def delete_files(self) -> None:
        """Delete its files from the storage: those it lists, and any a build left behind in its folder."""
        paths = {entry["path"] for entry in self.files}
        with contextlib.suppress(FileNotFoundError, NotImplementedError):
            paths |= {self.folder + name for name in default_storage.listdir(self.folder)[1]}
        for path in paths:
            default_storage.delete(path)

    @classmethod
    def withdraw_containing(cls, person_ids, *, reason: str = Withdrawal.CASE_CHANGED) -> int:
        """Withdraw every release that may hold a record of these persons: the one rule, for every path that
        rewrites, withdraws or erases published versions (redaction, withdrawal, purge).

        "May hold": finished after the person's first publication, or still
        being written. The rows are marked in the caller's transaction; the
        files are deleted after it commits (a rolled-back change keeps
        them). Call it before the versions are deleted. Returns how many.
        """
        person_ids = set(person_ids)
        if not person_ids:
            return 0
        # A release that begins now waits for this transaction (public.releases takes the same lock): it reads
        # the records as they are after it, or it is among those withdrawn here.
        PublicGeneration.lock()
        first = PublishedVersion.objects.filter(person_id__in=person_ids).aggregate(first=Min("published_at"))
        if first["first"] is None:
            return 0
        releases = cls.objects.filter(withdrawn_at=None).filter(Q(built_at=None) | Q(built_at__gte=first["first"]))
        pks = list(releases.values_list("pk", flat=True))
        if not pks:
            return 0
        cls.objects.filter(pk__in=pks).update(withdrawn_at=timezone.now(), withdrawn_reason=reason)

        def delete_files() -> None:
            for release in cls.objects.filter(pk__in=pks):
                release.delete_files()

        transaction.on_commit(delete_files, robust=True)
        announce_public_records_changed()
        return len(pks)

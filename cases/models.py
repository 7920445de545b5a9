"""Individuals and their status history."""

from __future__ import annotations

import calendar
import datetime
import unicodedata
from collections.abc import Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from . import names
from .history import (
    EvidentialModel,
    EvidentialQuerySet,
    VersionedModel,
    WithdrawableModel,
    save_with_history,
    withdrawal_check,
)
from .partial_dates import DAY, MONTH, PartialDate, PartialDateField, partial_date_check
from .places import Authority, Facility, FacilityName
from .vocabularies import (
    Category,
    Confidence,
    PublicationBasis,
    PublicationState,
    RelationKind,
    Sex,
    Status,
    in_every_language,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "TIMELINE_ORDER",
    "Authority",
    "CaseIdCounter",
    "Category",
    "Confidence",
    "Facility",
    "FacilityName",
    "NameVariant",
    "Person",
    "PublicationBasis",
    "PublicationState",
    "Relation",
    "RelationKind",
    "Responsibility",
    "Sex",
    "Status",
    "StatusEvent",
    "derive_status",
    "timeline_order",
]


class CaseIdCounter(models.Model):
    """The last case number handed out for a prefix.

    A row lock on the counter serializes allocations, so two cases created at
    the same moment get different numbers, and a number is never handed out
    twice, even after its case is withdrawn.
    """

    prefix = models.CharField(max_length=10, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_number}"

    @classmethod
    def allocate(cls, prefix: str | None = None) -> str:
        return cls.allocate_many(1, prefix)[0]

    @classmethod
    def allocate_many(cls, count: int, prefix: str | None = None) -> list[str]:
        """``count`` new case IDs at once (bulk loading), under the same row lock."""
        prefix = prefix or settings.CASE_ID_PREFIX
        with transaction.atomic():
            cls.objects.get_or_create(prefix=prefix)
            counter = cls.objects.select_for_update().get(prefix=prefix)
            first = counter.last_number + 1
            counter.last_number += count
            counter.save(update_fields=["last_number"])
        return [f"{prefix}-{number:04d}" for number in range(first, first + count)]


# Persons in one "IN (…)" list when many persons' events are read at once.
LOOKUP_BATCH = 1000


class PersonQuerySet(EvidentialQuerySet):
    def active(self) -> PersonQuerySet:
        """Cases not withdrawn: the staff's working set (the dashboard, the duplicate review)."""
        return self.exclude(publication_state=PublicationState.WITHDRAWN)

    def refresh_statuses(
        self, persons: Iterable[Person], *, unsaved_events: Iterable[StatusEvent] = ()
    ) -> list[Person]:
        """:meth:`Person.refresh_status` for many persons at once (the bulk writers): the persons whose fields changed.

        The saved persons' active events are read in one query per
        :data:`LOOKUP_BATCH` persons. ``unsaved_events`` are events a bulk
        writer is about to insert with these persons, each with its
        ``person`` set: a new person's fields are derived before the person
        is inserted with its events, so its row is written once. Nothing is
        saved here: the caller writes the persons returned, with their
        history rows (:class:`cases.bulk.BulkWriter`).
        """
        persons = list(persons)
        # Keyed by the object: a person not saved yet has no pk.
        timelines: dict[int, list] = {id(person): [] for person in persons}
        saved = {person.pk: person for person in persons if person.pk is not None}
        pks = list(saved)
        for start in range(0, len(pks), LOOKUP_BATCH):
            events = (
                StatusEvent.objects.active()
                .filter(person__in=pks[start : start + LOOKUP_BATCH])
                .order_by("person_id", *TIMELINE_ORDER)
            )
            for person_id, status, date, recorded_at, pk in events.values_list(
                "person_id", "status", "date", "recorded_at", "pk"
            ):
                timelines[id(saved[person_id])].append(
                    SimpleNamespace(status=status, date=date, recorded_at=recorded_at, pk=pk)
                )
        with_unsaved = set()
        for event in unsaved_events:
            if not event.withdrawn:
                timelines[id(event.person)].append(event)
                with_unsaved.add(id(event.person))
        changed = []
        for person in persons:
            timeline = timelines[id(person)]
            if id(person) in with_unsaved:
                timeline = timeline_order(timeline)
            if person.take_status_from(timeline):
                changed.append(person)
        return changed


class Person(EvidentialModel, VersionedModel):
    case_id = models.CharField(_("case ID"), max_length=20, unique=True, editable=False)
    external_ref = models.CharField(
        _("external reference"), max_length=100, blank=True, help_text=_("Your organisation's own reference.")
    )

    name = models.CharField(
        _("name"), max_length=200, blank=True, help_text=_("Primary romanized name, family name first.")
    )
    descriptor = models.CharField(
        _("descriptor"),
        max_length=200,
        blank=True,
        help_text=_("For an unnamed person, e.g. “Teenage boy, sentenced January 2024”."),
    )
    family_name_native = models.CharField(_("family name (native script)"), max_length=50, blank=True)
    given_name_native = models.CharField(_("given name (native script)"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex, default=Sex.UNKNOWN)
    birth_date = PartialDateField(_("birth date"))
    nationality = CountryField(_("nationality"), blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="persons", verbose_name=_("categories"))
    religion = models.CharField(_("religion or belief"), max_length=100, blank=True)
    summary = models.TextField(_("public summary"), blank=True)
    # The same summary for Korean and Japanese readers (public pages under /ko/ and /ja/).
    summary_ko = models.TextField(_("public summary in Korean"), blank=True)
    summary_ko_is_translation = models.BooleanField(
        _("the Korean summary is a translation"),
        default=False,
        help_text=_("Tick when the Korean text was translated from the English: the page says so."),
    )
    summary_ja = models.TextField(_("public summary in Japanese"), blank=True)
    summary_ja_is_translation = models.BooleanField(
        _("the Japanese summary is a translation"),
        default=False,
        help_text=_("Tick when the Japanese text was translated from the English: the page says so."),
    )
    internal_notes = models.TextField(_("internal notes"), blank=True, help_text=_("Restricted: never public."))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned caseworker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_persons",
    )

    publication_state = models.CharField(
        _("publication state"), max_length=20, choices=PublicationState, default=PublicationState.DRAFT
    )
    publication_basis = models.CharField(
        _("basis for publication"), max_length=20, choices=PublicationBasis, blank=True
    )
    consent_given_by = models.CharField(_("consent given by"), max_length=200, blank=True)
    consent_given_on = PartialDateField(_("consent given on"))
    public_interest_reason = models.TextField(_("public-interest reason"), blank=True)
    reprisal_risk = models.BooleanField(
        _("reprisal risk"), default=False, help_text=_("The family faces reprisals: publish under the pseudonym only.")
    )
    pseudonym = models.CharField(_("pseudonym"), max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted for review by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted for review at"), null=True, blank=True, editable=False)
    # Set by a merge (workflow.merging) and only there: this record is the same person as that one, and
    # everything it held moved there. It keeps its case ID, which is never reused.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_records",
    )

    # Derived from the status events by take_status_from(), and only there (DERIVED_STATUS_FIELDS).
    current_status = models.CharField(_("current status"), max_length=30, choices=Status, blank=True, editable=False)
    status_since = PartialDateField(_("status since"), editable=False)
    last_confirmed = PartialDateField(_("last confirmed"), editable=False)

    # Derived from the name on save, for finding the same person under another spelling.
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    name_folded = models.CharField(max_length=200, blank=True, editable=False)
    native_key = models.CharField(max_length=100, blank=True, editable=False)

    is_synthetic = models.BooleanField(
        _("synthetic"), default=False, editable=False, help_text=_("Made up by generate_demo_data: not a real case.")
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[categories])
    objects = PersonQuerySet.as_manager()

    # The fields derived from the status events, in the order derive_status() gives them.
    DERIVED_STATUS_FIELDS = ("current_status", "status_since", "last_confirmed")
    # Derived from the events or from the name: saving only these is not an edit (see VersionedModel).
    unversioned_fields = frozenset({*DERIVED_STATUS_FIELDS, "updated_at", "name_key", "name_folded", "native_key"})

    class Meta:
        ordering = ["case_id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [
            ("submit_person", "Can submit a case for review"),
            ("publish_person", "Can publish a case"),
            ("withdraw_person", "Can withdraw a case from publication"),
            ("revert_history", "Can revert a record to an earlier version"),
            ("merge_person", "Can merge two records of one person"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name="") | ~Q(descriptor=""), name="person_has_name_or_descriptor"),
            models.UniqueConstraint(
                fields=["external_ref"], condition=~Q(external_ref=""), name="person_external_ref_unique"
            ),
            models.CheckConstraint(
                condition=Q(reprisal_risk=False) | ~Q(pseudonym=""), name="person_reprisal_risk_has_pseudonym"
            ),
            models.CheckConstraint(
                condition=~Q(publication_state=PublicationState.PUBLISHED) | ~Q(publication_basis=""),
                name="person_published_has_basis",
            ),
            models.CheckConstraint(
                condition=~Q(publication_basis=PublicationBasis.CONSENT) | ~Q(consent_given_by=""),
                name="person_consent_names_who",
            ),
            models.CheckConstraint(
                condition=~Q(publication_basis=PublicationBasis.PUBLIC_INTEREST) | ~Q(public_interest_reason=""),
                name="person_public_interest_has_reason",
            ),
            # A merged record is out of the working set (PersonQuerySet.active) with the withdrawn cases.
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(publication_state=PublicationState.WITHDRAWN),
                name="person_merged_is_withdrawn",
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("pk")), name="person_not_merged_into_itself"),
            partial_date_check("birth_date", "person"),
            partial_date_check("consent_given_on", "person"),
            partial_date_check("status_since", "person"),
            partial_date_check("last_confirmed", "person"),
        ]
        indexes = [
            # The import's check of a name and birth date already on record (exchange.plan), and the blocks of the
            # duplicate review (linkage.matching).
            models.Index(fields=["name_key"], name="person_name_key"),
            models.Index(fields=["name_folded"], name="person_name_folded"),
            models.Index(fields=["native_key"], name="person_native_key"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.display_name}".strip()

    @property
    def name_native(self) -> str:
        return f"{self.family_name_native}{self.given_name_native}"

    @property
    def display_name(self) -> str:
        """The name staff see: the name, else the descriptor."""
        return self.name or self.descriptor

    @property
    def public_name(self) -> str:
        """The name the public may see: the pseudonym when the family faces reprisals."""
        return self.pseudonym if self.reprisal_risk else self.display_name

    def is_closed_to(self, user) -> bool:
        """A withdrawn case is out of everyone's hands but an editor's (who may withdraw cases) until an
        editor returns it to draft: its person, events and citations alike, by any path. A merged record is
        out of everyone's hands: only undoing the merge gives it back."""
        if self.merged_into_id is not None:
            return True
        return self.publication_state == PublicationState.WITHDRAWN and not user.has_perm("cases.withdraw_person")

    def may_be_changed_by(self, user) -> bool:
        """Whether ``user`` may change this case, by any path (the admin, the import, the workflow)."""
        return user.has_perm("cases.change_person") and not self.is_closed_to(user)

    @property
    def is_clarified(self) -> bool:
        return Status.is_clarified(self.current_status)

    def loss_of_liberty(self) -> StatusEvent | None:
        """The first active event in which the person was taken or lost (arrested, abducted, disappeared…):
        the date and place a WGEID submission gives for the arrest or disappearance."""
        events = list(self.status_events.active().filter(status__in=Status.loss_of_liberty()).in_timeline_order())
        dated = [event for event in events if event.date is not None]
        return (dated or events or [None])[0]

    def all_names(self, variants: Iterable[NameVariant] | None = None) -> list[str]:
        """Every name the person is known by, public or not: the identity policy looks for each.

        The name, the name in native script and its romanizations, and every
        name variant (``variants`` when they are already in memory).
        """
        variants = self.variants.all() if variants is None else variants
        return [
            name
            for name in (
                self.name,
                self.name_native,
                *names.romanizations(self.family_name_native, self.given_name_native),
                *(variant.name for variant in variants),
            )
            if name
        ]

    def set_name_keys(self) -> None:
        """Normalise the native name and derive the search keys (done by save(); bulk loaders call it)."""
        # Hangul typed on different systems arrives composed (NFC) or decomposed (NFD): store it composed.
        self.family_name_native = unicodedata.normalize("NFC", self.family_name_native)
        self.given_name_native = unicodedata.normalize("NFC", self.given_name_native)
        self.name_key = names.normalise(self.name)
        self.name_folded = names.fold(self.name)
        self.native_key = names.normalise(self.name_native)

    def save(self, *args, **kwargs) -> None:
        self.set_name_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is None and not self._state.adding:
            # Only refresh_status() writes the status fields: an edit made on a
            # copy read before the last status change must not put back the old
            # ones, in the row or in its history.
            self.refresh_from_db(fields=self.DERIVED_STATUS_FIELDS)
            update_fields = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.DERIVED_STATUS_FIELDS
            ]
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_key", "name_folded", "native_key"}
        if not self.case_id:
            with transaction.atomic():
                self.case_id = CaseIdCounter.allocate()
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)

    def record_status(
        self,
        status: str,
        *,
        by,
        reason: str = "",
        date: PartialDate | None = None,
        place: str = "",
        facility: Facility | None = None,
        description: str = "",
        internal_note: str = "",
        confidence: str = Confidence.UNVERIFIED,
        is_public: bool = False,
        **translations: str,
    ) -> StatusEvent:
        """Record a status change: the one way a status event comes to be.

        Writes the event and the person's derived fields in one transaction,
        each with a history row naming ``by`` and ``reason``. ``translations``:
        the place and description in Korean and Japanese (``place_ko=…``).
        """
        unknown = set(translations) - {*in_every_language("place"), *in_every_language("description")}
        if unknown:
            raise TypeError(f"Not a translated text of a status event: {', '.join(sorted(unknown))}.")
        event = StatusEvent(
            status=status,
            date=date,
            place=place,
            facility=facility,
            description=description,
            internal_note=internal_note,
            confidence=confidence,
            is_public=is_public,
            **translations,
        )
        label = dict(Status.choices).get(status, status)
        return self.record_event(event, by=by, reason=reason or f"Recorded status: {label}")

    def record_event(self, event: StatusEvent, *, by: User | None, reason: str) -> StatusEvent:
        """Record an unsaved status event built elsewhere (a form); see :meth:`record_status`."""
        event.person, event.recorded_by = self, by
        event.full_clean(exclude=["person", "recorded_by"])
        with transaction.atomic():
            self._lock()
            save_with_history(event, by=by, reason=reason)
            self.refresh_status(by=by, reason=reason)
        return event

    def refresh_status(self, *, by: User | None, reason: str) -> None:
        """Recompute the current status, its "since" date and "last confirmed", and save them if they changed.

        With :meth:`PersonQuerySet.refresh_statuses` (its bulk counterpart),
        the only code that writes those fields; both derive them by
        :meth:`take_status_from`.
        """
        if self.take_status_from(self.status_events.active().in_timeline_order()):
            save_with_history(self, by=by, reason=reason, update_fields=[*self.DERIVED_STATUS_FIELDS, "updated_at"])

    def take_status_from(self, timeline: Iterable[StatusEvent]) -> bool:
        """Set the derived fields from the person's active events in timeline order; whether they changed.

        The current status is the latest event by date, ties broken by
        recording time; an event with an unknown date never displaces a dated
        one. Withdrawn events count for nothing (the caller leaves them out).
        """
        derived = dict(zip(self.DERIVED_STATUS_FIELDS, derive_status(timeline), strict=True))
        changed = any(getattr(self, name) != value for name, value in derived.items())
        for name, value in derived.items():
            setattr(self, name, value)
        return changed

    def _lock(self) -> None:
        """Take the person's row lock so status changes to one person queue up."""
        Person.objects.select_for_update().filter(pk=self.pk).first()


class NameVariantQuerySet(models.QuerySet):
    def public(self) -> NameVariantQuerySet:
        """Names a public record may show (the rule of ``NameVariant.is_public``)."""
        return self.filter(is_public=True)


class NameVariant(models.Model):
    """Another name of a person: a spelling, an alias, a former name, a native form."""

    class Kind(models.TextChoices):
        ROMANIZATION = "romanization", _("Romanization variant")
        ALIAS = "alias", _("Alias")
        FORMER = "former", _("Former name")
        NATIVE = "native", _("Native script")
        OTHER = "other", _("Other")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="variants", verbose_name=_("person"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.ROMANIZATION)
    is_public = models.BooleanField(_("public"), default=False)
    note = models.CharField(_("internal note"), max_length=300, blank=True)
    key = models.CharField(max_length=200, editable=False)
    folded = models.CharField(max_length=200, editable=False)

    history = HistoricalRecords()
    objects = NameVariantQuerySet.as_manager()

    class Meta:
        ordering = ["person", "name"]
        verbose_name = _("name variant")
        verbose_name_plural = _("name variants")
        constraints = [
            models.UniqueConstraint(fields=["person", "name"], name="namevariant_unique_per_person"),
            models.CheckConstraint(condition=~Q(name=""), name="namevariant_not_blank"),
        ]
        indexes = [
            # The blocks of the duplicate review (linkage.matching) and the staff's name search (cases.search).
            models.Index(fields=["key"], name="namevariant_key"),
            models.Index(fields=["folded"], name="namevariant_folded"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.set_name_keys()
        super().save(*args, **kwargs)

    def set_name_keys(self) -> None:
        """Normalise the name and derive its search keys (done by save(); bulk loaders call it)."""
        self.name = unicodedata.normalize("NFC", self.name)
        self.key = names.normalise(self.name)
        self.folded = names.fold(self.name)


# Oldest first by first day (whatever the precision), then by recording time;
# events with an unknown date come before every dated one, so the last event
# is the current one.
TIMELINE_ORDER: list[Any] = [Substr("date", 1, 10).asc(nulls_first=True), "recorded_at", "pk"]


class StatusEventQuerySet(EvidentialQuerySet):
    def active(self) -> StatusEventQuerySet:
        return self.filter(withdrawn=False)

    def public(self) -> StatusEventQuerySet:
        """Events a public record may show: public and not withdrawn (the rule of ``is_public_claim``)."""
        return self.active().filter(is_public=True)

    def in_timeline_order(self) -> StatusEventQuerySet:
        """Oldest first; events with an unknown date before every dated one."""
        return self.order_by(*TIMELINE_ORDER)

    def anniversaries(self, today: datetime.date, days: int) -> StatusEventQuerySet:
        """Losses of liberty (arrests, abductions, disappearances…) of outstanding cases not withdrawn whose
        anniversary falls from ``today`` to ``days`` days later, the soonest first (the rule of
        :meth:`StatusEvent.next_anniversary`).

        NGOs raise a case again on the anniversary of the arrest or the
        disappearance. An event known to the day has its anniversary on that
        day, one known to the month in that month; a year alone has none to
        mark. Read from the stored text (``2014-10-07d``: month and day, then
        precision), so that it runs the same on SQLite and PostgreSQL.
        """
        end = today + datetime.timedelta(days=days)
        first, last = f"{today:%m-%d}", f"{end:%m-%d}"
        if last == "02-28" and not calendar.isleap(end.year):
            last = "02-29"  # marked on the 28th in a year without one
        if days >= 365:
            in_window = Q()
        elif first <= last:
            in_window = Q(anniversary_day__gte=first, anniversary_day__lte=last)
        else:  # across a year end
            in_window = Q(anniversary_day__gte=first) | Q(anniversary_day__lte=last)
        months = min(12, (end.year - today.year) * 12 + end.month - today.month + 1)
        # This year's anniversaries before next year's (a window across a year end), then by their day.
        this_year = Q(anniversary_day__gte=first) | Q(precision=MONTH, anniversary_month=f"{today:%m}")
        return (
            self.active()
            .filter(status__in=Status.loss_of_liberty())
            .exclude(person__publication_state=PublicationState.WITHDRAWN)
            .exclude(person__current_status__in=Status.clarified())
            .alias(
                anniversary_day=Substr("date", 6, 5, output_field=models.CharField()),
                anniversary_month=Substr("date", 6, 2, output_field=models.CharField()),
                precision=Substr("date", 11, 1, output_field=models.CharField()),
            )
            .filter(
                # Not the event itself (today, or this month): an anniversary comes a year or more later.
                (Q(precision=DAY, date__lt=today) & in_window)
                | Q(
                    precision=MONTH,
                    anniversary_month__in=[f"{(today.month - 1 + step) % 12 + 1:02d}" for step in range(months)],
                    date__lt=today.replace(day=1),
                )
            )
            .order_by(
                Case(When(this_year, then=Value(0)), default=Value(1)),
                "anniversary_day",
                "person__case_id",
                "pk",
            )
        )


class StatusEvent(WithdrawableModel, VersionedModel):
    """One change in a person's situation, as far as it is known."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="status_events", verbose_name=_("person"))
    status = models.CharField(_("status"), max_length=30, choices=Status)
    date = PartialDateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    place_ko = models.CharField(_("place in Korean"), max_length=200, blank=True)
    place_ja = models.CharField(_("place in Japanese"), max_length=200, blank=True)
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("facility"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_events",
        help_text=_("Where it happened or where the person is held, when the facility is known."),
    )
    description = models.TextField(_("public description"), blank=True)
    description_ko = models.TextField(_("public description in Korean"), blank=True)
    description_ja = models.TextField(_("public description in Japanese"), blank=True)
    internal_note = models.TextField(_("internal note"), blank=True, help_text=_("Restricted: never public."))
    confidence = models.CharField(_("confidence"), max_length=20, choices=Confidence, default=Confidence.UNVERIFIED)
    is_public = models.BooleanField(_("public"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = StatusEventQuerySet.as_manager()

    class Meta:
        ordering = ["person", *TIMELINE_ORDER]
        verbose_name = _("status event")
        verbose_name_plural = _("status events")
        constraints = [
            partial_date_check("date", "statusevent"),
            withdrawal_check("statusevent"),
        ]

    def __str__(self) -> str:
        date = self.date.display() if self.date else _("date unknown")
        event = f"{self.get_status_display()} ({date})"
        # Whose event it is: where events of many persons are listed (the
        # autocomplete of a citation, the withdraw confirmation, the
        # citations list) a status and a date alone do not say.
        return f"{self.person}: {event}" if self.person_id else event

    @property
    def is_clarified(self) -> bool:
        return Status.is_clarified(self.status)

    @property
    def is_public_claim(self) -> bool:
        """Public and not withdrawn: the same rule as ``StatusEvent.objects.public()``."""
        return self.is_public and not self.withdrawn

    def next_anniversary(self, today: datetime.date) -> PartialDate | None:
        """The event's anniversary on or after ``today``, at its own precision: a day, or a month (the rule
        of ``StatusEvent.objects.anniversaries()``). ``None`` when only the year, or nothing, is known.

        The 29th of February is marked on the 28th in other years.
        """
        date = self.date
        if date is None or date.month is None:
            return None
        if date.day is None:
            year = today.year if date.month >= today.month else today.year + 1
            return PartialDate(year, date.month)
        year = today.year if (date.month, date.day) >= (today.month, today.day) else today.year + 1
        day = 28 if (date.month, date.day) == (2, 29) and not calendar.isleap(year) else date.day
        return PartialDate(year, date.month, day)

    CORRECTABLE_FIELDS = frozenset(
        {
            "status",
            "date",
            *in_every_language("place"),
            "facility",
            *in_every_language("description"),
            "internal_note",
            "confidence",
            "is_public",
        }
    )

    def correct(self, *, by: User | None, reason: str, **changes) -> None:
        """Correct an event's details; the person's derived fields follow."""
        unknown = set(changes) - self.CORRECTABLE_FIELDS
        if unknown:
            raise TypeError(f"Cannot correct {', '.join(sorted(unknown))} on a status event.")
        for field, value in changes.items():
            setattr(self, field, value)
        self.full_clean(exclude=["person", "recorded_by"])
        with transaction.atomic():
            self.person._lock()
            save_with_history(self, by=by, reason=reason)
            self.person.refresh_status(by=by, reason=reason)

    def withdraw(self, *, by: User | None, reason: str) -> None:
        """Withdraw an event recorded in error. It stays in the history; the person's status follows."""
        with transaction.atomic():
            self.person._lock()
            super().withdraw(by=by, reason=reason)
            self.person.refresh_status(by=by, reason=reason)


class Responsibility(VersionedModel):
    """An authority believed responsible for what a status event records, and how confident that is."""

    status_event = models.ForeignKey(
        StatusEvent, on_delete=models.CASCADE, related_name="responsibilities", verbose_name=_("status event")
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="responsibilities", verbose_name=_("authority")
    )
    confidence = models.CharField(_("confidence"), max_length=20, choices=Confidence, default=Confidence.UNVERIFIED)

    history = HistoricalRecords()

    class Meta:
        ordering = ["status_event", "authority__name"]
        verbose_name = _("authority believed responsible")
        verbose_name_plural = _("authorities believed responsible")
        constraints = [
            models.UniqueConstraint(fields=["status_event", "authority"], name="responsibility_once_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.authority} ({self.get_confidence_display()})"


class RelationQuerySet(EvidentialQuerySet):
    def active(self) -> RelationQuerySet:
        return self.filter(withdrawn=False)

    def of(self, person: Person | int) -> RelationQuerySet:
        """The relations the person is on either side of."""
        return self.filter(Q(person=person) | Q(other=person))

    def persons_related_to(self, person: Person | int) -> set[int]:
        """The pks of the persons on the other side of ``person``'s relations: their records name it."""
        pk = person.pk if isinstance(person, Person) else person
        return {other for pair in self.of(pk).values_list("person_id", "other_id") for other in pair} - {pk}


class Relation(WithdrawableModel, VersionedModel):
    """How two persons are connected: family, detained together, taken in the same incident.

    Read "``person`` is the ``kind`` of ``other``". A family link can
    identify relatives still in the country: a relation is public only when
    it is marked public, both cases are on the public site and neither family
    faces reprisals (``workflow.snapshots.relation_is_public``).
    """

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="relations_from", verbose_name=_("person")
    )
    kind = models.CharField(_("relation"), max_length=30, choices=RelationKind)
    other = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="relations_to", verbose_name=_("other person")
    )
    confidence = models.CharField(_("confidence"), max_length=20, choices=Confidence, default=Confidence.UNVERIFIED)
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Shown only while both cases are published and neither family faces reprisals."),
    )
    note = models.TextField(_("internal note"), blank=True, help_text=_("Restricted: never public."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()
    objects = RelationQuerySet.as_manager()

    class Meta:
        ordering = ["person", "kind", "other"]
        verbose_name = _("relation between persons")
        verbose_name_plural = _("relations between persons")
        constraints = [
            models.CheckConstraint(condition=~Q(person=models.F("other")), name="relation_between_two_persons"),
            models.UniqueConstraint(
                fields=["person", "other", "kind"], condition=Q(withdrawn=False), name="relation_recorded_once"
            ),
            withdrawal_check("relation"),
        ]

    def __str__(self) -> str:
        names = {"person": self.person, "other": self.other}
        if self.kind == RelationKind.DETAINED_TOGETHER:
            return _("%(person)s was detained together with %(other)s") % names
        if self.kind == RelationKind.SAME_INCIDENT:
            return _("%(person)s was taken in the same incident as %(other)s") % names
        return _("%(person)s is the %(kind)s of %(other)s") % {**names, "kind": str(self.get_kind_display()).lower()}

    def seen_from(self, person_id: int) -> tuple[str, Person]:
        """(the relation as the other person is to ``person_id``, the other person)."""
        if person_id == self.person_id:
            return RelationKind.inverse(self.kind), self.other
        return self.kind, self.person

    def clean(self) -> None:
        super().clean()
        if self.person_id and self.person_id == self.other_id:
            raise ValidationError({"other": _("A relation is between two different persons.")})


def derive_status(timeline: Iterable[Any]) -> tuple[str, PartialDate | None, PartialDate | None]:
    """(current status, since, last confirmed) from events in timeline order.

    An event is anything with a ``status`` and a ``date`` (a partial date or None): status
    events, or the events of a public record.

    "Since" is the date of the first event in the run that agrees with the
    latest, so a later confirmation of "detained" does not move it.
    """
    timeline = list(timeline)
    if not timeline:
        return "", None, None
    latest = timeline[-1]
    since = None
    for event in reversed(timeline):
        if event.status != latest.status:
            break
        since = event.date or since
    return latest.status, since, latest.date


def timeline_order(events: Iterable[StatusEvent]) -> list[StatusEvent]:
    """Events in timeline order, for lists already fetched (same order as the queryset)."""
    return sorted(
        events,
        key=lambda e: (e.date is not None, e.date.first_day if e.date else None, e.recorded_at, e.pk or 0),
    )

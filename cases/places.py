"""Where people are held and by whom: detention facilities and the authorities responsible.

A facility or an authority is public only when an editor has made it so
(:attr:`Facility.is_public_place`, :meth:`FacilityQuerySet.public`); only
someone who may publish them may change one that is public
(:meth:`Facility.may_be_changed_by`), so nothing reaches the public site
unreviewed. Both are withdrawn, never deleted, and every change is in their
history.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from . import names
from .history import EvidentialQuerySet, VersionedModel, WithdrawableModel, withdrawal_check
from .partial_dates import PartialDateField, partial_date_check
from .vocabularies import TEXT_LANGUAGES, FacilityKind, LocationPrecision

__all__ = ["Authority", "Facility", "FacilityName", "spelling_keys"]

PUBLISH_PERMISSION = "cases.publish_facility"


def spelling_keys(name: str) -> tuple[str, str]:
    """(normalised, folded) keys of a place's or a body's name: "Yodŏk", "Yodeok" and "Yodok" fold alike."""
    key = names.normalise(name)
    return key, (names.fold_given(key) if key.isascii() else key)


def _in_language(record: models.Model, field: str) -> str:
    language = get_language()
    return (getattr(record, f"{field}_{language}") if language in TEXT_LANGUAGES else "") or getattr(record, field)


class PlaceQuerySet(EvidentialQuerySet):
    def active(self):
        return self.filter(withdrawn=False)

    def public(self):
        """What the public may see: made public by an editor and not withdrawn (the rule of ``is_public_place``)."""
        return self.active().filter(is_public=True)

    def matching(self, query: str, *, public_only: bool = False) -> list:
        """Those with a name or a spelling containing ``query`` in any spelling ("Yodok", "Yodeok", "요덕").

        Read in Python: there are hundreds of facilities, not millions.
        """
        key, folded = spelling_keys(query)
        if not key:
            return list(self)
        return [
            record
            for record in self
            if any(
                key in name_key or folded in name_folded
                for name_key, name_folded in map(spelling_keys, record.spellings(public_only=public_only))
            )
        ]


class PlaceRecord(WithdrawableModel, VersionedModel):
    """What facilities and authorities share: names in every language, a public flag, notes, history."""

    name = models.CharField(_("name"), max_length=200, help_text=_("In English; unique."))
    name_ko = models.CharField(_("name in Korean"), max_length=200, blank=True)
    name_ja = models.CharField(_("name in Japanese"), max_length=200, blank=True)
    country = CountryField(_("country"), blank=True)
    description = models.TextField(_("public description"), blank=True)
    description_ko = models.TextField(_("public description in Korean"), blank=True)
    description_ja = models.TextField(_("public description in Japanese"), blank=True)
    internal_notes = models.TextField(_("internal notes"), blank=True, help_text=_("Restricted: never public."))
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Shown on the public site, with the published cases that name it. Only an editor may tick it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def is_public_place(self) -> bool:
        """Public and not withdrawn: the same rule as ``objects.public()``."""
        return self.is_public and not self.withdrawn

    @property
    def name_in_language(self) -> str:
        return _in_language(self, "name")

    def may_be_changed_by(self, user) -> bool:
        """A public record is on the public site: only someone who may publish it may change it."""
        app, model = self._meta.app_label, self._meta.model_name
        if not user.has_perm(f"{app}.change_{model}"):
            return False
        return not (self.pk and self.is_public) or user.has_perm(PUBLISH_PERMISSION)

    def spellings(self, *, public_only: bool = False) -> list[str]:
        return [name for name in (self.name, self.name_ko, self.name_ja) if name]

    def save(self, *args, **kwargs) -> None:
        for field in ("name", "name_ko", "name_ja"):
            setattr(self, field, unicodedata.normalize("NFC", getattr(self, field)).strip())
        super().save(*args, **kwargs)


class Authority(PlaceRecord):
    """A body or unit believed responsible for detentions: the Ministry of State Security, a provincial bureau…

    Named individuals are out of scope: they need their own legal review.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent body"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="authority_has_name"),
            models.UniqueConstraint(fields=["name"], name="authority_name_unique"),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="authority_not_its_own_parent"),
            withdrawal_check("authority"),
        ]

    def chain(self, authorities: dict[int, Authority] | None = None) -> list[Authority]:
        """The authority and the bodies above it, nearest first; a cycle (two saves at the same moment could
        make one) is walked once. ``authorities``: every authority by pk, to walk in memory rather than by query."""
        chain: list[Authority] = []
        seen: set[int] = set()
        body: Authority | None = self
        while body is not None and body.pk not in seen:
            chain.append(body)
            seen.add(body.pk)
            if authorities is None:
                body = body.parent
            else:
                body = authorities.get(body.parent_id) if body.parent_id is not None else None
        return chain

    def clean(self) -> None:
        super().clean()
        if self.parent is not None and self.pk and self.pk in {body.pk for body in self.parent.chain()}:
            raise ValidationError({"parent": _("An authority cannot be placed under itself or one of its units.")})


class Facility(PlaceRecord):
    """A place where people are held: a political prison camp, a holding centre, a repatriation centre abroad…"""

    name_hanja = models.CharField(_("name in Hanja"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=FacilityKind, default=FacilityKind.OTHER)
    authority = models.ForeignKey(
        Authority,
        verbose_name=_("operating authority"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilities",
    )
    province = models.CharField(_("province"), max_length=100, blank=True)
    province_ko = models.CharField(_("province in Korean"), max_length=100, blank=True)
    province_ja = models.CharField(_("province in Japanese"), max_length=100, blank=True)
    county = models.CharField(_("county or city"), max_length=100, blank=True)
    county_ko = models.CharField(_("county or city in Korean"), max_length=100, blank=True)
    county_ja = models.CharField(_("county or city in Japanese"), max_length=100, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
        help_text=_("Decimal degrees, e.g. 39.75"),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
        help_text=_("Decimal degrees, e.g. 127.05"),
    )
    precision = models.CharField(
        _("precision of the coordinates"), max_length=20, choices=LocationPrecision, blank=True
    )
    opened_on = PartialDateField(_("opened"))
    closed_on = PartialDateField(_("closed"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        permissions = [("publish_facility", "Can make facilities and authorities public, and change public ones")]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="facility_has_name"),
            models.UniqueConstraint(fields=["name"], name="facility_name_unique"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True, precision="")
                | Q(latitude__isnull=False, longitude__isnull=False) & ~Q(precision=""),
                name="facility_coordinates_with_precision",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="facility_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="facility_longitude_in_range",
            ),
            partial_date_check("opened_on", "facility"),
            partial_date_check("closed_on", "facility"),
            withdrawal_check("facility"),
        ]

    def spellings(self, *, public_only: bool = False) -> list[str]:
        """Every name the facility is known by: its names, the romanizations of its Korean name, its variants
        (only the public ones for the public site)."""
        return [
            *super().spellings(),
            *([self.name_hanja] if self.name_hanja else []),
            *names.place_romanizations(self.name_ko),
            *self.other_names(public_only=public_only),
        ]

    def other_names(self, *, public_only: bool) -> list[str]:
        """The facility's other names and spellings; with ``public_only``, those the public may see (the one
        place that decides it: ``FacilityName.is_public``). Reads ``variants`` as prefetched."""
        variants: Iterable[FacilityName] = self.variants.all()
        return [variant.name for variant in variants if variant.is_public or not public_only]

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def location_in_language(self) -> str:
        """ "Yodok County, South Hamgyong" in the active language, as far as it is known."""
        return ", ".join(part for part in (_in_language(self, "county"), _in_language(self, "province")) if part)

    def clean(self) -> None:
        super().clean()
        errors = {}
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = _(
                "Give both the latitude and the longitude, or neither."
            )
        elif self.has_coordinates and not self.precision:
            errors["precision"] = _("Say how precise the coordinates are.")
        elif not self.has_coordinates and self.precision:
            errors["precision"] = _("A precision needs coordinates.")
        if self.opened_on and self.closed_on and self.closed_on.first_day < self.opened_on.first_day:
            errors["closed_on"] = _("A facility cannot close before it opened.")
        if errors:
            raise ValidationError(errors)


class FacilityName(models.Model):
    """Another name or spelling of a facility: "Yodeok", "Camp 15", "요덕수용소"."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="variants", verbose_name=_("facility")
    )
    name = models.CharField(_("name"), max_length=200)
    is_public = models.BooleanField(_("public"), default=False)
    note = models.CharField(_("internal note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["facility", "name"]
        verbose_name = _("other name of a facility")
        verbose_name_plural = _("other names of a facility")
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="facilityname_unique_per_facility"),
            models.CheckConstraint(condition=~Q(name=""), name="facilityname_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = unicodedata.normalize("NFC", self.name).strip()
        super().save(*args, **kwargs)

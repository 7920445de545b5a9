"""The words cases are described with: statuses, confidence, sex, publication states and bases, categories.

Kept apart from the working records (``cases.models``) so that the public
site, which reads only published versions, can name them without reaching
the models it must never read (an import-linter contract in
``pyproject.toml`` holds it to that).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# The languages a public text (summary, event description and place, category name) may be written in
# beside English, its original: the field ``summary`` has ``summary_ko`` and ``summary_ja``.
TEXT_LANGUAGES = ("ko", "ja")


# The languages' names as pages and messages say them ("shown in English", "the public summary (Korean)"),
# from this project's catalogues (Django's own Japanese name for English is "英語(米国)").
LANGUAGE_NAMES = {"en": _("English"), "ko": _("Korean"), "ja": _("Japanese")}


def language_name(code: str) -> str:
    """A language's name in the active language."""
    return str(LANGUAGE_NAMES.get(code, code))


def in_every_language(field: str) -> list[str]:
    """``field`` and its Korean and Japanese fields: ``["summary", "summary_ko", "summary_ja"]``."""
    return [field, *(f"{field}_{language}" for language in TEXT_LANGUAGES)]


class Status(models.TextChoices):
    DISAPPEARED = "disappeared", _("Whereabouts unknown (disappeared)")
    ABDUCTED = "abducted", _("Abducted")
    ARRESTED = "arrested", _("Arrested")
    FORCIBLY_REPATRIATED = "forcibly_repatriated", _("Forcibly repatriated")
    DETAINED = "detained", _("Detained")
    SENTENCED = "sentenced", _("Sentenced")
    PRISON_CAMP = "political_prison_camp", _("Held in a political prison camp")
    RELEASED = "released", _("Released")
    REACHED_SAFETY = "reached_safety", _("Reached safety")
    DECEASED_REPORTED = "deceased_reported", _("Deceased (reported)")
    DECEASED_CONFIRMED = "deceased_confirmed", _("Deceased (confirmed)")
    UNKNOWN = "unknown", _("Unknown")

    @classmethod
    def clarified(cls) -> frozenset[str]:
        """Statuses that clarify a person's fate (UN WGEID's "clarified" cases).

        Every other status leaves the case "outstanding". A reported death is
        outstanding until it is confirmed.
        """
        return frozenset({cls.RELEASED, cls.REACHED_SAFETY, cls.DECEASED_CONFIRMED})

    @classmethod
    def is_clarified(cls, value: str) -> bool:
        return value in cls.clarified()

    @classmethod
    def loss_of_liberty(cls) -> frozenset[str]:
        """Statuses that say a person was taken or lost: the arrest or disappearance a WGEID case dates,
        and whose anniversaries NGOs mark by raising the case again."""
        return frozenset({cls.DISAPPEARED, cls.ABDUCTED, cls.ARRESTED, cls.FORCIBLY_REPATRIATED, cls.DETAINED})


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    LIKELY = "likely", _("Likely")
    POSSIBLE = "possible", _("Possible")
    UNVERIFIED = "unverified", _("Unverified")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PublicationBasis(models.TextChoices):
    NONE = "", _("Not recorded")
    CONSENT = "consent", _("Consent of the person or their family")
    ALREADY_PUBLIC = "already_public", _("Already public in the cited sources")
    PUBLIC_INTEREST = "public_interest", _("Editor's public-interest decision")


class Category(models.Model):
    """A kind of case: forcibly repatriated refugee, missionary, abductee…"""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_ko = models.CharField(_("name in Korean"), max_length=100, blank=True)
    name_ja = models.CharField(_("name in Japanese"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        """The name in the active language when the category has one there, else the English name."""
        language = get_language()
        return (getattr(self, f"name_{language}") if language in TEXT_LANGUAGES else "") or self.name


class FacilityKind(models.TextChoices):
    """Kinds of places of detention, in the words of the UN Commission of Inquiry (A/HRC/25/CRP.1)."""

    POLITICAL_PRISON_CAMP = "kwanliso", _("Political prison camp (kwanliso)")
    REEDUCATION_CAMP = "kyohwaso", _("Re-education camp (kyohwaso)")
    HOLDING_CENTRE = "jipkyulso", _("Holding centre (jipkyulso)")
    PRE_TRIAL_DETENTION = "kuryujang", _("Pre-trial detention centre (kuryujang)")
    LABOUR_TRAINING_CAMP = "rodong_dallyeondae", _("Labour training camp (rodong dallyeondae)")
    INTERROGATION = "interrogation", _("Interrogation facility")
    FOREIGN_DETENTION = "foreign_detention", _("Detention or repatriation centre abroad")
    OTHER = "other", _("Other")


class LocationPrecision(models.TextChoices):
    """How closely a facility's coordinates are known: a map draws a pin, a small area or a region."""

    EXACT = "exact", _("Exact")
    APPROXIMATE = "approximate", _("Approximate (within a few kilometres)")
    REGION = "region", _("Region only")


class RelationKind(models.TextChoices):
    """How one person is connected to another, read "the person is the … of the other"."""

    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    SPOUSE = "spouse", _("Spouse")
    OTHER_RELATIVE = "relative", _("Other relative")
    DETAINED_TOGETHER = "detained_together", _("Detained together")
    SAME_INCIDENT = "same_incident", _("Same incident")

    @classmethod
    def inverse(cls, kind: str) -> str:
        """The relation read from the other person's side: the parent's child, a sibling's sibling."""
        return {cls.PARENT: cls.CHILD, cls.CHILD: cls.PARENT}.get(kind, kind)  # type: ignore[call-overload]

    @classmethod
    def is_family(cls, kind: str) -> bool:
        return kind in {cls.PARENT, cls.CHILD, cls.SIBLING, cls.SPOUSE, cls.OTHER_RELATIVE}

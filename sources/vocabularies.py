"""The words sources are described with: their kinds and reliability (see ``cases.vocabularies``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    UN = "un", _("UN document")
    GOVERNMENT = "government", _("Government")
    PARLIAMENTARY = "parliamentary", _("Parliamentary")
    NGO = "ngo", _("NGO report")
    NEWS = "news", _("News")
    COURT = "court", _("Court document")
    TESTIMONY = "testimony", _("Testimony or interview")
    OTHER = "other", _("Other")


class Reliability(models.TextChoices):
    HIGHLY_RELIABLE = "highly_reliable", _("Highly reliable")
    RELIABLE = "reliable", _("Reliable")
    FAIRLY_RELIABLE = "fairly_reliable", _("Fairly reliable")
    UNRELIABLE = "unreliable", _("Unreliable")
    UNKNOWN = "unknown", _("Unknown")

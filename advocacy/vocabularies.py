"""The words appeals are described with: to whom, of what kind, in which state, with what outcome.

Kept apart from the working records (``advocacy.models``) so that the public
site, which reads only published versions, can name them (see
``cases.vocabularies``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Addressee(models.TextChoices):
    """Who an appeal is addressed to: a UN mechanism, a government, an embassy, a parliament."""

    WGEID = "wgeid", _("UN Working Group on Enforced or Involuntary Disappearances (WGEID)")
    WGAD = "wgad", _("UN Working Group on Arbitrary Detention (WGAD)")
    SR_DPRK = "sr_dprk", _("UN Special Rapporteur on the situation of human rights in the DPRK")
    SR_FORB = "sr_forb", _("UN Special Rapporteur on freedom of religion or belief")
    SR_TORTURE = "sr_torture", _("UN Special Rapporteur on torture")
    OHCHR_SEOUL = "ohchr_seoul", _("UN Human Rights Office in Seoul (OHCHR)")
    GOVERNMENT = "government", _("A government")
    EMBASSY = "embassy", _("An embassy")
    PARLIAMENT = "parliament", _("A parliament")
    OTHER = "other", pgettext_lazy("addressee", "Other")

    @classmethod
    def of_a_country(cls) -> frozenset[str]:
        """Addressees that are a country's: the appeal names the country."""
        return frozenset({cls.GOVERNMENT, cls.EMBASSY, cls.PARLIAMENT})

    @classmethod
    def un_mechanisms(cls) -> frozenset[str]:
        """UN mechanisms, which transmit a case to the government concerned."""
        return frozenset({cls.WGEID, cls.WGAD, cls.SR_DPRK, cls.SR_FORB, cls.SR_TORTURE, cls.OHCHR_SEOUL})


class AppealKind(models.TextChoices):
    WGEID_STANDARD = "wgeid_standard", _("WGEID standard procedure")
    WGEID_URGENT = "wgeid_urgent", _("WGEID urgent procedure")
    URGENT_APPEAL = "urgent_appeal", _("Urgent appeal")
    ALLEGATION_LETTER = "allegation_letter", _("Allegation letter")
    COMMUNICATION = "communication", _("Communication")
    LETTER = "letter", _("Letter")
    BRIEFING_RECOMMENDATION = "briefing_recommendation", _("Recommendation in a briefing")
    MEETING = "meeting", _("Meeting")

    @classmethod
    def wgeid(cls) -> frozenset[str]:
        """The WGEID's own procedures: a case submitted in the structure of its questionnaire."""
        return frozenset({cls.WGEID_STANDARD, cls.WGEID_URGENT})


class AppealState(models.TextChoices):
    """drafted → sent → acknowledged → transmitted → replied → closed (some steps may be skipped)."""

    DRAFTED = "drafted", _("Drafted")
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    TRANSMITTED = "transmitted", _("Transmitted to the government")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", pgettext_lazy("appeal", "Closed")

    @classmethod
    def awaiting_reply(cls) -> frozenset[str]:
        """Sent and not yet answered."""
        return frozenset({cls.SENT, cls.ACKNOWLEDGED, cls.TRANSMITTED})


class AppealOutcome(models.TextChoices):
    NONE = "", _("Not closed")
    CLARIFIED = "clarified", _("Clarified")
    DISCONTINUED = "discontinued", _("Discontinued")
    NO_REPLY = "no_reply", _("No reply")

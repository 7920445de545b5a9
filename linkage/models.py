"""Possible duplicates: two records that may be one person, and what a reviewer decided about them.

The same person reaches an organisation many times (a press report, a
family's call, a partner's spreadsheet) under different spellings. The passes
of :mod:`linkage.matching` find pairs of records that may be one person and
store them here with their score; a reviewer marks each pair the same person,
different persons or unsure, with a reason, through :meth:`CandidatePair.decide`.
A pair marked the same or different is never asked again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.history import save_with_history
from cases.models import Person

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Decision(models.TextChoices):
    PENDING = "", _("Not reviewed yet")
    SAME = "same", _("The same person")
    DIFFERENT = "different", _("Different persons")
    UNSURE = "unsure", _("Unsure")


# What each part of a score stands for, as a reviewer reads it (the keys of CandidatePair.reasons).
REASON_LABELS = {
    "given_name": _("given name"),
    "birth_year": _("birth year"),
    "sex": _("sex"),
    "facility": _("place of detention"),
    "place": _("place"),
    "categories": _("categories"),
}


# Which block found a pair (CandidatePair.blocked_on), as a reviewer reads it: see linkage.matching.
BLOCK_BIRTH_YEAR = "family name and birth year"
BLOCK_FAMILY = "family name (birth year unknown)"
BLOCK_FACILITY = "family name, facility and date"
BLOCK_PLACE = "family name, place and date"
BLOCK_NAMED = "named by a reviewer"
BLOCK_LABELS = {
    BLOCK_BIRTH_YEAR: _("the same family name, born at most two years apart"),
    BLOCK_FAMILY: _("the same family name (a birth year is unknown)"),
    BLOCK_FACILITY: _("the same family name, held at the same facility within a year"),
    BLOCK_PLACE: _("the same family name, at the same place within a year"),
    BLOCK_NAMED: _("a reviewer, who named both records (the passes did not pair them)"),
}


class CandidatePairQuerySet(models.QuerySet):
    def open(self) -> CandidatePairQuerySet:
        """Pairs still in the review queue (not reviewed, or marked unsure), both records still active.

        A withdrawn case is out of the queue: it is out of the passes too (see
        :mod:`linkage.matching`). The rule of :attr:`CandidatePair.is_open`.
        """
        active = Person.objects.active()
        return self.filter(decision__in=[Decision.PENDING, Decision.UNSURE], first__in=active, second__in=active)

    def to_merge(self) -> CandidatePairQuerySet:
        """Pairs marked the same person whose records are both still active: an editor merges them
        (``workflow.merging``). Once merged, the merged record is out of the working set, and so is the pair."""
        active = Person.objects.active()
        return self.filter(decision=Decision.SAME, first__in=active, second__in=active)

    def pending(self) -> CandidatePairQuerySet:
        """Pairs nobody has reviewed yet: the head of the queue."""
        return self.open().filter(decision=Decision.PENDING)

    def unsure(self) -> CandidatePairQuerySet:
        """Pairs a reviewer could not decide: they stay in the queue, in a section of their own."""
        return self.open().filter(decision=Decision.UNSURE)

    def for_person(self, person: Person | int) -> CandidatePairQuerySet:
        pk = person.pk if isinstance(person, Person) else person
        return self.filter(Q(first_id=pk) | Q(second_id=pk))

    def purge(self) -> None:
        """Delete for good, history included: only when a case is purged (``purge_case``), since a
        reviewer's reason may name the person."""
        pks = list(self.values_list("pk", flat=True))
        self.filter(pk__in=pks).delete()
        CandidatePair.history.filter(id__in=pks).delete()


def pending_count() -> int:
    """How many pairs wait for a first review (for a link on the staff dashboard)."""
    return CandidatePair.objects.pending().count()


class CandidatePair(models.Model):
    """Two records that may be one person, with the score that found them and the reviewer's decision."""

    first = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("first record"))
    second = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("second record"))
    score = models.FloatField(_("score"))
    # The parts of the score, each from 0 to 1 (linkage.matching.WEIGHTS names them).
    reasons = models.JSONField(_("parts of the score"), default=dict)
    blocked_on = models.CharField(_("found by"), max_length=100)
    found_at = models.DateTimeField(_("found"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("score updated"), default=timezone.now, editable=False)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision, blank=True, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    history = HistoricalRecords()
    objects = CandidatePairQuerySet.as_manager()

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        permissions = [("review_candidatepair", "Can review possible duplicates")]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="candidatepair_unique"),
            # One row per pair, whichever record a pass met first.
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="candidatepair_ordered"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="candidatepair_score_range"),
            models.CheckConstraint(condition=Q(decision="") | ~Q(reason=""), name="candidatepair_decision_has_reason"),
            models.CheckConstraint(
                condition=Q(decision__in=["", "same", "different", "unsure"]), name="candidatepair_decision_valid"
            ),
        ]
        indexes = [
            # The review queue: open pairs, highest score first (CandidatePairQuerySet.pending/unsure).
            models.Index(fields=["decision", "-score"], name="candidatepair_queue"),
            # CandidatePairQuerySet.for_person() on the second record (the unique constraint serves the first).
            models.Index(fields=["second"], name="candidatepair_second"),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} / {self.second_id} ({self.score:.2f})"

    @property
    def is_open(self) -> bool:
        """Still to be reviewed, or marked unsure: the rule of ``CandidatePair.objects.open()`` (for the pair
        itself; the queue also leaves out withdrawn cases)."""
        return self.decision in (Decision.PENDING, Decision.UNSURE)

    @property
    def blocked_on_label(self) -> str:
        return str(BLOCK_LABELS.get(self.blocked_on, self.blocked_on))

    @property
    def explanations(self) -> list[tuple[str, float]]:
        """The parts of the score as a reviewer reads them: (what, from 0 to 1), the strongest first."""
        parts = [(str(REASON_LABELS.get(key, key)), value) for key, value in self.reasons.items()]
        return sorted(parts, key=lambda part: -part[1])

    def decide(self, decision: str, *, by: User | None, reason: str) -> None:
        """Record a reviewer's decision, with the reason: the one path for a decision.

        A pair marked the same person or different persons leaves the queue for
        good (the passes never ask it again); one marked unsure stays in its
        own section. The history keeps who decided what, when and why.
        """
        reason = (reason or "").strip()
        if decision not in (Decision.SAME, Decision.DIFFERENT, Decision.UNSURE):
            raise ValidationError(_("Choose the same person, different persons or unsure."), code="invalid")
        if not reason:
            raise ValidationError(_("Give the reason for the decision."), code="required")
        with transaction.atomic():
            # Two reviewers at once: the second is told, and nothing of theirs overwrites the first's decision.
            current = CandidatePair.objects.select_for_update().get(pk=self.pk)
            if current.decision in (Decision.SAME, Decision.DIFFERENT):
                raise ValidationError(_("Someone else decided this pair meanwhile."), code="decided")
            self._record(decision, by=by, reason=reason, history=f"Marked: {Decision(decision).label}. {reason}")

    def overrule(self, decision: str, *, by: User | None, reason: str) -> None:
        """Replace a decision found wrong (a merge undone because the records are two persons): the history keeps
        the first decision and says who overruled it and why."""
        if not (reason or "").strip():
            raise ValidationError(_("Give the reason for the decision."), code="required")
        reason = reason.strip()
        with transaction.atomic():
            CandidatePair.objects.select_for_update().filter(pk=self.pk).first()
            self._record(
                decision, by=by, reason=reason, history=f"Decision overruled: {Decision(decision).label}. {reason}"
            )

    def _record(self, decision: str, *, by: User | None, reason: str, history: str) -> None:
        self.decision, self.reason = decision, reason
        self.decided_by, self.decided_at = by, timezone.now()
        save_with_history(self, by=by, reason=history, update_fields=["decision", "reason", "decided_by", "decided_at"])

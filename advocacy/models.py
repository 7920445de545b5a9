"""Appeals: what was asked for a person, of whom, and what came of it.

An appeal moves drafted → sent → acknowledged → transmitted → replied →
closed, by :meth:`Appeal.advance` and :meth:`Appeal.record_reply` only (the
admin's buttons call them), each step with its date, who took it and why in
the history. A reply that clarifies a person's fate becomes a status event
through the one status path, citing the reply (:meth:`AppealReply.record_status_event`).
What the public may see of an appeal is a line built from its vocabulary,
through a publication (``workflow.snapshots``), and only when an editor
marked it public.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from cases.history import EvidentialQuerySet, VersionedModel, WithdrawableModel, save_with_history, withdrawal_check
from cases.models import Confidence, Person, StatusEvent
from cases.partial_dates import PartialDate, PartialDateField, not_in_the_future, partial_date_check
from sources.models import Citation, Source

from .vocabularies import Addressee, AppealKind, AppealOutcome, AppealState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["Addressee", "Appeal", "AppealError", "AppealKind", "AppealOutcome", "AppealReply", "AppealState"]


class AppealError(Exception):
    """A step an appeal may not take now; ``problems`` says every reason."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(" ".join(self.problems))


# Which state may follow which (a step may be skipped: a government acknowledges nothing and transmits nothing).
NEXT_STATES: dict[str, frozenset[str]] = {
    AppealState.DRAFTED: frozenset({AppealState.SENT}),
    AppealState.SENT: frozenset(
        {AppealState.ACKNOWLEDGED, AppealState.TRANSMITTED, AppealState.REPLIED, AppealState.CLOSED}
    ),
    AppealState.ACKNOWLEDGED: frozenset({AppealState.TRANSMITTED, AppealState.REPLIED, AppealState.CLOSED}),
    AppealState.TRANSMITTED: frozenset({AppealState.REPLIED, AppealState.CLOSED}),
    AppealState.REPLIED: frozenset({AppealState.REPLIED, AppealState.CLOSED}),
    AppealState.CLOSED: frozenset(),
}
# The date each step records.
STEP_DATES: dict[str, str] = {
    AppealState.SENT: "sent_on",
    AppealState.ACKNOWLEDGED: "acknowledged_on",
    AppealState.TRANSMITTED: "transmitted_on",
    AppealState.CLOSED: "closed_on",
}


class AppealQuerySet(EvidentialQuerySet):
    def active(self) -> AppealQuerySet:
        return self.filter(withdrawn=False)

    def public(self) -> AppealQuerySet:
        """Appeals a public record may show: marked public, sent, not withdrawn (the rule of ``is_public_line``)."""
        return self.active().filter(is_public=True).exclude(state=AppealState.DRAFTED)

    def awaiting_reply(self) -> AppealQuerySet:
        return self.active().filter(state__in=AppealState.awaiting_reply())

    def overdue(self, today: datetime.date, days: int) -> AppealQuerySet:
        """Waiting for a reply for more than ``days`` days, counted from the transmission to the government
        when there was one, else from the sending (``Appeal.waiting_since``); or since a date nobody recorded.
        The longest wait first, an unknown date before every known one."""
        before = today - datetime.timedelta(days=days)
        return (
            self.awaiting_reply()
            .filter(
                Q(transmitted_on__lt=before)
                | Q(transmitted_on__isnull=True, sent_on__lt=before)
                | Q(transmitted_on__isnull=True, sent_on__isnull=True)
            )
            .order_by(Coalesce("transmitted_on", "sent_on").asc(nulls_first=True), "pk")
        )

    def actions_due(self, today: datetime.date, days: int) -> AppealQuerySet:
        """Open appeals whose next action is due within ``days`` days, or overdue; the soonest first."""
        return (
            self.active()
            .exclude(state=AppealState.CLOSED)
            .filter(next_action_due__lte=today + datetime.timedelta(days=days))
            .order_by("next_action_due", "pk")
        )


class Appeal(WithdrawableModel, VersionedModel):
    """What was asked for one or more persons, and of whom: a UN mechanism, a government, an embassy…"""

    kind = models.CharField(gettext_lazy("kind"), max_length=30, choices=AppealKind)
    addressee = models.CharField(gettext_lazy("addressed to"), max_length=20, choices=Addressee)
    country = CountryField(
        gettext_lazy("country"),
        blank=True,
        help_text=gettext_lazy("Whose government, embassy or parliament it is addressed to."),
    )
    addressee_name = models.CharField(
        gettext_lazy("addressee's name"),
        max_length=300,
        blank=True,
        help_text=gettext_lazy("e.g. “Foreign, Commonwealth & Development Office”. Restricted."),
    )
    persons = models.ManyToManyField(Person, related_name="appeals", verbose_name=gettext_lazy("persons concerned"))
    request = models.TextField(
        gettext_lazy("what was asked"), blank=True, help_text=gettext_lazy("Restricted: never public.")
    )
    our_reference = models.CharField(gettext_lazy("our reference"), max_length=100, blank=True)
    their_reference = models.CharField(
        gettext_lazy("their reference"), max_length=100, blank=True, help_text=gettext_lazy("e.g. a WGEID case number.")
    )

    state = models.CharField(
        gettext_lazy("state"), max_length=20, choices=AppealState, default=AppealState.DRAFTED, editable=False
    )
    outcome = models.CharField(
        gettext_lazy("outcome"), max_length=20, choices=AppealOutcome, blank=True, editable=False
    )
    sent_on = PartialDateField(gettext_lazy("sent on"))
    acknowledged_on = PartialDateField(gettext_lazy("acknowledged on"))
    transmitted_on = PartialDateField(
        gettext_lazy("transmitted to the government on"),
        help_text=gettext_lazy("When the UN mechanism transmitted the case to the government concerned."),
    )
    closed_on = PartialDateField(gettext_lazy("closed on"))

    next_action = models.CharField(gettext_lazy("next action"), max_length=300, blank=True)
    next_action_due = models.DateField(gettext_lazy("next action due"), null=True, blank=True)

    documents = models.ManyToManyField(
        Source,
        blank=True,
        related_name="appeals",
        verbose_name=gettext_lazy("documents"),
        help_text=gettext_lazy(
            "The appeal itself and its annexes, as sources: restricted, unless a researcher makes one public."
        ),
    )

    # The elements of a WGEID submission the case itself does not hold.
    forces_responsible = models.TextField(
        gettext_lazy("forces believed responsible"),
        blank=True,
        help_text=gettext_lazy("State agents or others believed responsible for the arrest or disappearance."),
    )
    steps_by_family = models.TextField(
        gettext_lazy("steps taken by the family"),
        blank=True,
        help_text=gettext_lazy("Searches, complaints, letters to the authorities, and what came of them."),
    )
    steps_by_source = models.TextField(gettext_lazy("steps taken by the submitting organisation"), blank=True)
    family_consent_by = models.CharField(
        gettext_lazy("family's consent given by"),
        max_length=200,
        blank=True,
        help_text=gettext_lazy("Who in the family agreed to the submission."),
    )
    family_consent_on = PartialDateField(gettext_lazy("family's consent given on"))

    internal_notes = models.TextField(
        gettext_lazy("internal notes"), blank=True, help_text=gettext_lazy("Restricted: never public.")
    )
    is_public = models.BooleanField(
        gettext_lazy("public"),
        default=False,
        help_text=gettext_lazy(
            "Show that the case was raised, with whom and when, and whether there was a reply, on the public "
            "page once an editor publishes the case. Nothing else of the appeal is ever public."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[persons, documents])
    objects = AppealQuerySet.as_manager()

    unversioned_fields = frozenset({"updated_at"})

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = gettext_lazy("appeal")
        verbose_name_plural = gettext_lazy("appeals")
        constraints = [
            withdrawal_check("appeal"),
            models.CheckConstraint(
                condition=Q(state=AppealState.CLOSED, outcome__in=[o for o in AppealOutcome.values if o])
                | (~Q(state=AppealState.CLOSED) & Q(outcome="")),
                name="appeal_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(addressee__in=sorted(Addressee.of_a_country())) | ~Q(country=""),
                name="appeal_country_addressee_names_country",
            ),
            partial_date_check("sent_on", "appeal"),
            partial_date_check("acknowledged_on", "appeal"),
            partial_date_check("transmitted_on", "appeal"),
            partial_date_check("closed_on", "appeal"),
            partial_date_check("family_consent_on", "appeal"),
        ]
        indexes = [
            # The dashboard: appeals waiting for a reply, and next actions due.
            models.Index(fields=["state", "withdrawn"], name="appeal_state"),
            models.Index(fields=["next_action_due"], name="appeal_next_action_due"),
        ]

    def __str__(self) -> str:
        sent = f" ({self.sent_on.display()})" if self.sent_on else ""
        return f"{self.get_kind_display()}: {self.addressee_label}{sent}"

    @property
    def addressee_label(self) -> str:
        """To whom, as people read it: "A government (United Kingdom)", "WGEID"."""
        label = self.get_addressee_display()
        if self.country:
            return f"{label} ({self.country.name})"
        return str(label)

    @property
    def is_public_line(self) -> bool:
        """Marked public, sent, not withdrawn: the same rule as ``Appeal.objects.public()``."""
        return self.is_public and not self.withdrawn and self.state != AppealState.DRAFTED

    @property
    def waiting_since(self) -> PartialDate | None:
        """What a reply is awaited from: the transmission to the government when there was one, else the
        sending; ``None`` when nobody recorded it. The same rule as ``Appeal.objects.overdue()``."""
        return self.transmitted_on or self.sent_on

    def is_before_sending(self, date: PartialDate | None) -> bool:
        """Whether ``date`` comes before the appeal was sent: no later step can (the rule of clean() and
        step_problems())."""
        return date is not None and self.sent_on is not None and date.first_day < self.sent_on.first_day

    @property
    def chronology(self) -> tuple:
        """Where the appeal stands among a person's appeals: by its sending, as a timeline orders events
        (an unknown date before every known one), then by its recording."""
        return (self.sent_on is not None, self.sent_on.first_day if self.sent_on else None, self.created_at, self.pk)

    @property
    def is_wgeid(self) -> bool:
        return self.kind in AppealKind.wgeid()

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if self.addressee in Addressee.of_a_country() and not self.country:
            errors.setdefault("country", []).append(
                _("Name the country whose government, embassy or parliament it is.")
            )
        # A date in the future is refused by each date field itself (PartialDateField, not_in_the_future).
        for field in ("acknowledged_on", "transmitted_on", "closed_on"):
            if self.is_before_sending(getattr(self, field)):
                errors.setdefault(field, []).append(_("This is before the appeal was sent."))
        if errors:
            raise ValidationError(errors)

    # --- The steps of an appeal: the only code that changes its state. ---

    def advance(
        self,
        state: str,
        *,
        by: User | None,
        on: PartialDate | None = None,
        outcome: str = "",
        reason: str = "",
    ) -> None:
        """Take the appeal to ``state`` on date ``on`` (sent, acknowledged, transmitted or closed).

        Refused with :class:`AppealError` when the step does not follow the
        current state, when the date is in the future or before the sending,
        when a WGEID submission still lacks an element (:meth:`wgeid_missing`),
        or when a closing gives no outcome or says "no reply" to an appeal that
        had one. Replies come through :meth:`record_reply`.
        """
        with transaction.atomic():
            appeal = Appeal.objects.select_for_update().get(pk=self.pk)
            problems = appeal.step_problems(state, on=on, outcome=outcome)
            if state == AppealState.REPLIED:
                problems.append(_("A reply is recorded with its date, its source and what it says: record the reply."))
            if problems:
                raise AppealError(problems)
            self.refresh_from_db()
            self.state = state
            fields = ["state", "updated_at"]
            if state in STEP_DATES:
                setattr(self, STEP_DATES[state], on)
                fields.append(STEP_DATES[state])
            if state == AppealState.CLOSED:
                self.outcome = outcome
                fields.append("outcome")
            label = AppealState(state).label
            save_with_history(self, by=by, reason=reason or f"Appeal: {label}", update_fields=fields)

    def step_problems(self, state: str, *, on: PartialDate | None = None, outcome: str = "") -> list[str]:
        """Why the appeal may not go to ``state`` now, in words a caseworker can act on."""
        problems = []
        if self.withdrawn:
            return [_("This appeal was withdrawn: it takes no more steps.")]
        if state not in NEXT_STATES.get(self.state, frozenset()):
            return [
                _("An appeal that is “%(current)s” cannot become “%(next)s”.")
                % {
                    "current": self.get_state_display(),
                    "next": AppealState(state).label if state in AppealState.values else state,
                }
            ]
        if on is not None:
            try:
                not_in_the_future(on)
            except ValidationError as error:
                problems += error.messages
            else:
                if state != AppealState.SENT and self.is_before_sending(on):
                    problems.append(_("“%(value)s” is before the appeal was sent.") % {"value": on})
        if state == AppealState.SENT:
            if not self.pk or not self.persons.exists():
                problems.append(_("Say which persons the appeal concerns."))
            if self.is_wgeid:
                problems += [
                    _("The WGEID submission lacks: %(element)s.") % {"element": element}
                    for element in self.wgeid_missing()
                ]
        if state == AppealState.CLOSED:
            if outcome not in AppealOutcome.values or not outcome:
                problems.append(_("Say how the appeal ended: clarified, discontinued or no reply."))
            elif outcome == AppealOutcome.NO_REPLY and self.replies.active().exists():
                problems.append(_("This appeal had a reply: close it as clarified or discontinued."))
        return problems

    def next_steps(self) -> list[str]:
        """The states the appeal may go to now (the admin's buttons); a reply has its own form."""
        if self.withdrawn:
            return []
        return [
            state for state in AppealState.values if state in NEXT_STATES[self.state] and state != AppealState.REPLIED
        ]

    def record_reply(
        self,
        *,
        by: User | None,
        received_on: PartialDate | None,
        says: str,
        from_whom: str = "",
        source: Source | None = None,
        reason: str = "",
    ) -> AppealReply:
        """Record a reply: its date, who sent it, its source and what it says; the appeal becomes "replied"."""
        with transaction.atomic():
            appeal = Appeal.objects.select_for_update().get(pk=self.pk)
            problems = appeal.step_problems(AppealState.REPLIED, on=received_on)
            if not says.strip():
                problems.append(_("Say what the reply says (or “no substantive information”)."))
            if problems:
                raise AppealError(problems)
            reply = AppealReply(
                appeal=appeal, received_on=received_on, says=says, from_whom=from_whom, source=source, recorded_by=by
            )
            reply.full_clean(exclude=["appeal", "recorded_by"])
            save_with_history(reply, by=by, reason=reason or "Reply recorded")
            self.refresh_from_db()
            if self.state != AppealState.REPLIED:
                self.state = AppealState.REPLIED
                save_with_history(
                    self, by=by, reason=reason or "Appeal: reply recorded", update_fields=["state", "updated_at"]
                )
        return reply

    def wgeid_missing(self, person: Person | None = None) -> list[str]:
        """The elements the WGEID asks for that are not recorded yet, for ``person`` (or every person concerned).

        The Working Group's minimum: the person's full name, the date of the
        arrest or disappearance (at least the month and year), its place, the
        forces believed responsible, the steps taken to find the person, and
        the family's consent to the submission. The submission also names one
        person: one appeal per person.
        """
        return [element for element, _where in self.wgeid_missing_where(person)]

    def wgeid_missing_where(self, person: Person | None = None) -> list[tuple[str, Person | None]]:
        """:meth:`wgeid_missing`, each element with the person whose case holds it (``None``: the appeal does),
        so that a page can say where to fill it."""
        persons = [person] if person is not None else list(self.persons.all()) if self.pk else []
        missing: list[tuple[str, Person | None]] = []
        # The forces believed responsible may be the authorities recorded for the event, or the appeal's own text.
        responsibility_recorded = False
        if len(persons) != 1:
            missing.append((_("exactly one person (the WGEID takes one case per person)"), None))
        for who in persons:
            prefix = f"{who.case_id}: " if len(persons) > 1 else ""
            if not who.name:
                missing.append((prefix + _("the person's full name"), who))
            loss = who.loss_of_liberty()
            if loss is None or loss.date is None or loss.date.month is None:
                missing.append(
                    (prefix + _("the date of the arrest or disappearance (at least the month and the year)"), who)
                )
            if loss is None or not (loss.place.strip() or loss.facility_id):
                missing.append((prefix + _("the place of the arrest or disappearance"), who))
            if loss is not None and loss.responsibilities.exists():
                responsibility_recorded = True
        if not (self.forces_responsible.strip() or responsibility_recorded):
            missing.append((_("the forces believed responsible"), None))
        if not (self.steps_by_family.strip() or self.steps_by_source.strip()):
            missing.append((_("the steps taken by the family or by the submitting organisation"), None))
        if not self.family_consent_by.strip():
            missing.append((_("the family's consent (who gave it)"), None))
        return missing


class AppealReplyQuerySet(EvidentialQuerySet):
    def active(self) -> AppealReplyQuerySet:
        return self.filter(withdrawn=False)


class AppealReply(WithdrawableModel, VersionedModel):
    """One reply to an appeal: when it came, from whom, its document and what it says (all restricted)."""

    appeal = models.ForeignKey(
        Appeal, on_delete=models.PROTECT, related_name="replies", verbose_name=gettext_lazy("appeal")
    )
    received_on = PartialDateField(gettext_lazy("received on"))
    from_whom = models.CharField(
        pgettext_lazy("reply", "from"),
        max_length=300,
        blank=True,
        help_text=gettext_lazy("e.g. “Government of the DPRK, through the WGEID”."),
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeal_replies",
        verbose_name=gettext_lazy("source"),
        help_text=gettext_lazy("The reply's document, as a source: a status event drawn from the reply cites it."),
    )
    says = models.TextField(gettext_lazy("what it says"), help_text=gettext_lazy("Restricted: never public."))
    status_events = models.ManyToManyField(
        StatusEvent,
        blank=True,
        related_name="appeal_replies",
        verbose_name=gettext_lazy("status events drawn from it"),
        editable=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(gettext_lazy("recorded at"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = AppealReplyQuerySet.as_manager()

    class Meta:
        ordering = ["appeal", "recorded_at", "pk"]
        verbose_name = gettext_lazy("reply")
        verbose_name_plural = gettext_lazy("replies")
        constraints = [
            partial_date_check("received_on", "appealreply"),
            withdrawal_check("appealreply"),
        ]

    def __str__(self) -> str:
        date = self.received_on.display() if self.received_on else _("date unknown")
        return _("Reply of %(date)s to “%(appeal)s”") % {"date": date, "appeal": self.appeal}

    def record_status_event(
        self,
        person: Person,
        status: str,
        *,
        by: User | None,
        date: PartialDate | None = None,
        place: str = "",
        description: str = "",
        internal_note: str = "",
        confidence: str = Confidence.UNVERIFIED,
        is_public: bool = False,
        locator: str = "",
        excerpt: str = "",
        reason: str = "",
    ) -> StatusEvent:
        """What the reply says of ``person`` becomes a status event, citing the reply's source.

        Through the one status path (:meth:`cases.models.Person.record_status`),
        so the person's current status follows; the citation and the link
        from the reply to the event are written in the same transaction.
        """
        problems = []
        if self.withdrawn:
            problems.append(_("This reply was withdrawn."))
        if not self.appeal.persons.filter(pk=person.pk).exists():
            problems.append(_("The appeal does not concern %(person)s.") % {"person": person})
        if self.source is None:
            problems.append(
                _("The reply has no source: record its document as a source first, so that the event can cite it.")
            )
        if by is not None and not person.may_be_changed_by(by):
            problems.append(_("This case is withdrawn: only an editor may change it, after returning it to draft."))
        if problems:
            raise AppealError(problems)
        assert self.source is not None
        reason = reason or f"From the reply of {self.received_on or 'unknown date'} to appeal {self.appeal_id}"
        with transaction.atomic():
            event = person.record_status(
                status,
                by=by,
                reason=reason,
                date=date,
                place=place,
                description=description,
                internal_note=internal_note,
                confidence=confidence,
                is_public=is_public,
            )
            citation = Citation(
                source=self.source,
                status_event=event,
                locator=locator,
                excerpt=excerpt,
                note=_("Reply to the appeal “%(appeal)s”.") % {"appeal": self.appeal},
                added_by=by,
            )
            citation.full_clean()
            save_with_history(citation, by=by, reason=reason)
            self.status_events.add(event)
        return event


def last_appeals(persons: Iterable[Person]) -> dict[int, Appeal]:
    """Each person's latest active appeal (by its sending, then its creation), in one query."""
    pks = [person.pk for person in persons]
    through = Appeal.persons.through
    latest: dict[int, Appeal] = {}
    for row in through.objects.filter(person_id__in=pks, appeal__withdrawn=False).select_related("appeal"):
        current = latest.get(row.person_id)
        if current is None or row.appeal.chronology > current.chronology:
            latest[row.person_id] = row.appeal
    return latest

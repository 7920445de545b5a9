"""The review workflow: draft → in review → published → withdrawn, and back to draft.

Publishing writes across apps (the case, its public record built from its
citations and sources), so the transitions live here rather than on Person.
Each transition runs in one transaction, writes its history with the user and
a reason, and refuses with a :class:`WorkflowError` that says why.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocacy.models import Appeal, AppealReply
from cases.bulk import BulkWriter
from cases.history import save_with_history
from cases.models import (
    NameVariant,
    Person,
    PublicationBasis,
    PublicationState,
    Relation,
    Responsibility,
    StatusEvent,
)
from security.audit import record as audit
from security.models import AuditEvent
from sources.models import Citation

from .models import DataRelease, PublicGeneration, PublishedVersion, announce_public_records_changed
from .snapshots import (
    LOOKUP_BATCH,
    CaseRows,
    PublicName,
    case_rows,
    denormalise,
    identity_problems,
    index_in_bulk,
    reindex,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class WorkflowError(Exception):
    """A transition that is not allowed; ``problems`` says every reason."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(" ".join(self.problems))


def _locked(person: Person) -> Person:
    """The person's current row, locked until the transaction ends."""
    return Person.objects.select_for_update().get(pk=person.pk)


def _set_state(person: Person, state: str, *, by: User | None, reason: str, **fields) -> None:
    person.publication_state = state
    for name, value in fields.items():
        setattr(person, name, value)
    save_with_history(person, by=by, reason=reason, update_fields=["publication_state", *fields, "updated_at"])


def publication_problems(person: Person, rows: CaseRows | None = None) -> list[str]:
    """What stops ``person`` from being published, in words an editor can act on.

    ``rows``: the case's related rows when they are read already
    (:func:`workflow.snapshots.case_rows`, which :func:`publish_many` reads for many cases at once).
    """
    rows = rows or case_rows([person])[person.pk]
    problems = []
    basis = person.publication_basis
    if not basis:
        problems.append(
            _(
                "No basis for publication is recorded: choose consent, already public in the cited sources, "
                "or a public-interest decision."
            )
        )
    elif basis == PublicationBasis.CONSENT and not (person.consent_given_by and person.consent_given_on):
        problems.append(_("Consent is the basis, but who gave it and when are not both recorded."))
    elif basis == PublicationBasis.PUBLIC_INTEREST and not person.public_interest_reason.strip():
        problems.append(_("A public-interest decision is the basis, but its reason is not recorded."))
    if person.reprisal_risk and not person.pseudonym.strip():
        problems.append(_("The family faces reprisals, but there is no pseudonym to publish under."))
    events = [event for event in rows.events if event.is_public_claim]
    for event in events:
        if not _cites_a_public_source(rows.event_citations.get(event.pk, [])):
            problems.append(_("The public status event “%(event)s” cites no public source.") % {"event": event})
    if basis == PublicationBasis.ALREADY_PUBLIC and not (
        _cites_a_public_source(rows.person_citations)
        or any(_cites_a_public_source(rows.event_citations.get(event.pk, [])) for event in events)
    ):
        problems.append(_("“Already public in the cited sources” needs at least one public source cited."))
    naming = identity_problems(person, rows)
    if naming:
        problems.append(
            _(
                "The family faces reprisals, but these public texts name the person: %(places)s. Take the name "
                "out of each (or make the event, citation or source non-public)."
            )
            % {"places": "; ".join(naming)}
        )
    return problems


def _cites_a_public_source(citations: list[Citation]) -> bool:
    return any(citation.is_public_evidence for citation in citations)


def case_histories(person: Person) -> list:
    """The history of everything that reaches the public with the case: the person, its names, events and the
    authorities believed responsible for them, its relations, citations and appeals (one queryset each).

    Who changed the case since it was submitted (:func:`changed_since_submission`), and whether anything changed
    since a merge (:func:`workflow.merging.undo_problems`), are read from these.
    """
    event_ids = list(person.status_events.values_list("pk", flat=True))
    appeal_ids = list(person.appeals.values_list("pk", flat=True))
    relation_ids = list(
        Relation.history.filter(Q(person_id=person.pk) | Q(other_id=person.pk)).values_list("id", flat=True).distinct()
    )
    return [
        Person.history.filter(id=person.pk),
        NameVariant.history.filter(person_id=person.pk),
        StatusEvent.history.filter(person_id=person.pk),
        Responsibility.history.filter(status_event_id__in=event_ids),
        # A relation reaches the public with the case (and names the other case).
        Relation.history.filter(id__in=relation_ids),
        Citation.history.filter(
            Q(person_id=person.pk) | Q(status_event_id__in=event_ids) | Q(relation_id__in=relation_ids)
        ),
        # An appeal marked public, or its line's dates and replies, reach the public with the case.
        Appeal.history.filter(id__in=appeal_ids),
        AppealReply.history.filter(appeal_id__in=appeal_ids),
    ]


def changed_since_submission(person: Person) -> set[int]:
    """The users who changed the case (:func:`case_histories`) since it was submitted.

    Their changes are their own unreviewed work: none of them may publish
    it, any more than the person who submitted it (four eyes).
    """
    if person.submitted_at is None:
        return set()
    users: set[int] = set()
    for history in case_histories(person):
        users |= set(
            history.filter(history_date__gt=person.submitted_at, history_user__isnull=False).values_list(
                "history_user_id", flat=True
            )
        )
    return users


def four_eyes_problem(person: Person, user: User | None) -> str | None:
    """Why ``user`` may not publish ``person`` under the four-eyes rule, or None."""
    if user is None or settings.WORKFLOW_ALLOW_SELF_PUBLISH:
        return None
    if person.submitted_by_id == user.pk:
        return _("You submitted this version for review: another editor must publish it (four eyes).")
    if user.pk in changed_since_submission(person):
        return _(
            "You changed this case after it was submitted for review: another editor must review your changes "
            "and publish it (four eyes)."
        )
    return None


@transaction.atomic
def submit_for_review(person: Person, *, by: User | None, reason: str = "") -> Person:
    person = _locked(person)
    if not _may_submit(person):
        raise WorkflowError(
            _("A case that is %(state)s cannot be submitted.")
            % {"state": person.get_publication_state_display().lower()}
        )
    _set_state(
        person,
        PublicationState.IN_REVIEW,
        by=by,
        reason=reason or "Submitted for review",
        submitted_by=by,
        submitted_at=timezone.now(),
    )
    return person


@transaction.atomic
def return_to_draft(person: Person, *, by: User | None, reason: str) -> Person:
    if not reason.strip():
        raise WorkflowError(_("Say why the case goes back to draft."))
    person = _locked(person)
    if not _may_return_to_draft(person):
        raise WorkflowError(_("Only a case in review or withdrawn can go back to draft."))
    _set_state(person, PublicationState.DRAFT, by=by, reason=reason, submitted_by=None, submitted_at=None)
    return person


def publication_refusals(person: Person, by: User | None, rows: CaseRows | None = None) -> list[str]:
    """Why ``by`` may not publish ``person`` now: every reason, or none. The checks of publish() and publish_many()."""
    if not _may_publish(person):
        return [_("Only a case in review can be published: submit it for review first.")]
    problems = publication_problems(person, rows)
    four_eyes = four_eyes_problem(person, by)
    if four_eyes:
        problems.insert(0, four_eyes)
    return problems


def record_digest(record: dict) -> str:
    """A fingerprint of a public record as a reader sees it (its publication time left out)."""
    shown = {key: value for key, value in record.items() if key != "published_at"}
    return hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def next_version_number(person: Person) -> int:
    """The number the next published version of ``person`` gets (numbers are never reused)."""
    return (person.published_versions.aggregate(Max("number"))["number__max"] or 0) + 1


def next_version(
    person: Person,
    *,
    by: User | None,
    at: datetime.datetime,
    number: int | None = None,
    rows: CaseRows | None = None,
) -> PublishedVersion:
    """The version publishing ``person`` now stores, not saved: :func:`publish` and :func:`publish_many` save it,
    the preview shows it. ``number`` and ``rows``, when a bulk caller has read them for many cases at once."""
    number = number or next_version_number(person)
    rows = rows or case_rows([person])[person.pk]
    version = PublishedVersion(
        person=person,
        number=number,
        published_at=at,
        changed_at=at,
        published_by=by,
        record=rows.record(person, number=number, published_at=at),
    )
    denormalise(version)
    return version


@transaction.atomic
def publish(person: Person, *, by: User | None, reason: str = "", previewed: str | None = None) -> PublishedVersion:
    """Publish the case: check the rules, then store its public record as a new version.

    ``by`` is ``None`` only for the system (the seed loader), which has no
    four-eyes partner. ``previewed``, the digest of the record an editor read
    in the preview (:func:`record_digest`), refuses the publication when the
    case has changed since: what goes public is what was read.
    """
    person = _locked(person)
    rows = case_rows([person])[person.pk]  # read once, for the checks and the record
    problems = publication_refusals(person, by, rows)
    if problems:
        raise WorkflowError(problems)

    now = timezone.now()
    previous = list(person.published_versions.filter(is_current=True))
    version = next_version(person, by=by, at=now, rows=rows)
    if previewed is not None and previewed != record_digest(version.record):
        raise WorkflowError(
            _("The case changed after you previewed it, so nothing was published: preview it again, then publish.")
        )
    number = version.number
    for old in previous:
        old.is_current = False
        save_with_history(old, by=by, reason=f"Superseded by version {number}")
        reindex(old)
    save_with_history(version, by=by, reason=reason or f"Published version {number}")
    reindex(version)
    # Versions withdrawn with the case stay withdrawn: whatever made the case
    # come down may be in them. Only the new version is public.
    _set_state(person, PublicationState.PUBLISHED, by=by, reason=reason or f"Published version {number}")
    audit(AuditEvent.Action.PUBLISHED, actor=by, target=f"{person.case_id} v{number}")
    return version


@transaction.atomic
def publish_many(persons: Iterable[Person], *, by: User | None, reason: str) -> list[PublishedVersion]:
    """Publish many cases at once (bulk loading): :func:`publish` for each, its checks included, its writes in bulk.

    Every case must pass what publish() checks (in review,
    :func:`publication_problems`, four eyes when ``by`` is given), or
    nothing is written and :class:`WorkflowError` lists every reason of
    every refused case, each after its case ID. Then, with a fixed number
    of queries whatever the number of cases, the cases' rows are read
    (:func:`workflow.snapshots.case_rows`), their records built by the same
    builder as publish()'s, the versions stored with their history rows,
    denormalised and indexed, the cases marked published with their history
    rows (their version raised, as an edit), and the public generation
    raised once. Each publication gets its audit row, as with publish(); a
    case published before has its current version superseded as publish()
    does it, one by one.
    """
    if not reason.strip():
        raise WorkflowError(_("Say why the cases are published."))
    pks = list(dict.fromkeys(person.pk for person in persons))
    locked = {}
    for start in range(0, len(pks), LOOKUP_BATCH):
        for person in Person.objects.select_for_update().filter(pk__in=pks[start : start + LOOKUP_BATCH]):
            locked[person.pk] = person
    persons = [locked[pk] for pk in pks]
    rows = case_rows(persons)
    # Cases published together are on the public site together: their relations to each other count.
    for person in persons:
        for other in {relation.person_id for relation in rows[person.pk].relations} | {
            relation.other_id for relation in rows[person.pk].relations
        }:
            if other in locked and other != person.pk:
                rows[person.pk].on_public_site[other] = PublicName(
                    locked[other].case_id, locked[other].public_name, locked[other].name_native
                )
    refused = [
        _("%(case_id)s: %(problem)s") % {"case_id": person.case_id, "problem": problem}
        for person in persons
        for problem in publication_refusals(person, by, rows[person.pk])
    ]
    if refused:
        raise WorkflowError(refused)

    now = timezone.now()
    numbers: dict[int, int] = {}
    for start in range(0, len(pks), LOOKUP_BATCH):
        last = PublishedVersion.objects.filter(person__in=pks[start : start + LOOKUP_BATCH]).values("person_id")
        for person_id, number in last.annotate(last=Max("number")).values_list("person_id", "last"):
            numbers[person_id] = number
        previous = PublishedVersion.objects.filter(person__in=pks[start : start + LOOKUP_BATCH], is_current=True)
        for old in previous:
            old.is_current = False
            save_with_history(old, by=by, reason=f"Superseded by version {numbers[old.person_id] + 1}")
            reindex(old)
    versions = [
        next_version(person, by=by, at=now, number=numbers.get(person.pk, 0) + 1, rows=rows[person.pk])
        for person in persons
    ]
    writer = BulkWriter(by=by, reason=reason, now=now, memberships={pk: rows[pk].memberships for pk in pks})
    writer.insert(PublishedVersion, versions)
    index_in_bulk(versions, writer)
    for person in persons:
        person.publication_state = PublicationState.PUBLISHED
    writer.update(Person, persons, ["publication_state"])
    writer.history(Person, persons, created=False)
    for version in versions:
        audit(AuditEvent.Action.PUBLISHED, actor=by, target=f"{version.case_id} v{version.number}")
    PublicGeneration.advance()
    # Inserted in bulk, the versions send no post_save: a data release is built after them all the same.
    announce_public_records_changed()
    return versions


@transaction.atomic
def withdraw(person: Person, *, by: User | None, reason: str) -> Person:
    """Take the case off the public site at once, every version of it; nothing is deleted."""
    if not reason.strip():
        raise WorkflowError(_("Say why the case is withdrawn."))
    person = _locked(person)
    if not _may_withdraw(person):
        raise WorkflowError(_("Only a published case can be withdrawn."))
    take_off_public_site(person, by=by, reason=reason)
    _set_state(person, PublicationState.WITHDRAWN, by=by, reason=reason)
    audit(AuditEvent.Action.WITHDRAWN, actor=by, target=person.case_id, reason=reason)
    return person


def take_off_public_site(person: Person, *, by: User | None, reason: str) -> list[PublishedVersion]:
    """Every public version of the case withdrawn at once, and the data releases that may hold it: for a
    withdrawal, and for a record merged into another (workflow.merging). Nothing is deleted. Returns the
    versions withdrawn."""
    versions = list(person.published_versions.public())
    now = timezone.now()
    for version in versions:
        version.withdrawn_at = now
        save_with_history(version, by=by, reason=reason)
        reindex(version)
    DataRelease.withdraw_containing([person.pk])
    return versions


# --- Which transition may happen now: one table, read by the services above and by the admin's panel. ---


def _may_submit(person: Person) -> bool:
    return person.publication_state in (PublicationState.DRAFT, PublicationState.PUBLISHED)


def _may_return_to_draft(person: Person) -> bool:
    # A merged record comes back only by undoing the merge (workflow.merging.undo).
    return person.merged_into_id is None and person.publication_state in (
        PublicationState.IN_REVIEW,
        PublicationState.WITHDRAWN,
    )


def _may_publish(person: Person) -> bool:
    return person.publication_state == PublicationState.IN_REVIEW


def _may_withdraw(person: Person) -> bool:
    # A published case, or one resubmitted for changes whose last version is still public.
    return person.publication_state == PublicationState.PUBLISHED or (
        person.publication_state == PublicationState.IN_REVIEW and person.published_versions.public().exists()
    )


@dataclass(frozen=True)
class Transition:
    """One step of the workflow: who may take it, from where, and what it does."""

    action: str
    label: str | Promise
    permission: str
    allowed: Callable[[Person], bool]
    run: Callable[..., object]
    needs_reason: bool = False
    # A step that puts the case back into someone's hands: only for who may change it
    # (Person.may_be_changed_by: a withdrawn case stays with the editors).
    needs_change_rights: bool = False

    def may(self, user: User, person: Person) -> bool:
        """Whether ``user`` may take this step on ``person`` now."""
        return (
            user.has_perm(self.permission)
            and self.allowed(person)
            and (not self.needs_change_rights or person.may_be_changed_by(user))
        )


TRANSITIONS: dict[str, Transition] = {
    transition.action: transition
    for transition in (
        Transition(
            "submit",
            gettext_lazy("Submit for review"),
            "cases.submit_person",
            _may_submit,
            submit_for_review,
            needs_change_rights=True,
        ),
        Transition(
            "return_to_draft",
            gettext_lazy("Return to draft"),
            "cases.submit_person",
            _may_return_to_draft,
            return_to_draft,
            needs_reason=True,
            needs_change_rights=True,
        ),
        Transition("publish", gettext_lazy("Publish"), "cases.publish_person", _may_publish, publish),
        Transition(
            "withdraw",
            gettext_lazy("Withdraw from publication"),
            "cases.withdraw_person",
            _may_withdraw,
            withdraw,
            needs_reason=True,
        ),
    )
}


def available_transitions(person: Person, user: User) -> list[Transition]:
    """The transitions ``user`` may take on ``person`` now (the buttons of the workflow panel)."""
    return [t for t in TRANSITIONS.values() if t.may(user, person)]

"""Merging two records of one person, and undoing a merge.

A reviewer marks a pair of records the same person (``linkage``); an editor
then merges one record, the *merged* one, into the other, the *survivor*.
The rules live here, once:

- :func:`plan` says what a merge would do and what stops it: the page an
  editor reads before merging shows it, and :func:`merge` carries out the
  same plan under both records' row locks.
- Everything the merged record holds moves to the survivor through the
  normal paths, each change with its history row naming the editor and the
  reason: status events (with their citations and the authorities believed
  responsible), the citations about the person, appeals, relations and name
  variants. The merged record's name becomes a name of the survivor; a field
  the survivor lacks is filled from the merged record; where both say
  something different, the survivor's stays and the internal notes say what
  the other record said. Nothing is deleted: the merged record keeps its
  own fields, its case ID (never reused) and its history, and says "merged
  into" the survivor.
- The merged record's published versions leave the public site. Its public
  addresses lead to the survivor (``CaseMerge.redirects``) only when both
  were public under their names: otherwise they answer as an unknown case
  does, so that a merge never tells that an unpublished record existed, nor
  links a pseudonym to a name.
- Four eyes: the editor who merges is not the reviewer who marked the pair
  the same person.
- :func:`undo` puts back everything :func:`merge` moved and changed, while
  nothing else has changed in either record since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocacy.models import Appeal
from cases import names
from cases.history import ConcurrentEdit, attribute_changes, save_with_history
from cases.models import Category, NameVariant, Person, PublicationState, Relation, Sex, StatusEvent
from linkage.models import CandidatePair, Decision
from security.audit import record as audit
from security.models import AuditEvent
from sources.models import Citation

from .models import CaseMerge, PublishedVersion
from .services import WorkflowError, case_histories, take_off_public_site
from .snapshots import denormalise, redact_published_versions, reindex

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PERMISSION = "cases.merge_person"

# The survivor's fields a merge fills from the merged record when the survivor has none; the fields of a group
# move together, and the first of each says whether the survivor has one.
FILLED_GROUPS: tuple[tuple[str, ...], ...] = (
    ("name",),
    ("family_name_native", "given_name_native"),
    ("sex",),
    ("birth_date",),
    ("nationality",),
    ("religion",),
    ("summary",),
    ("summary_ko", "summary_ko_is_translation"),
    ("summary_ja", "summary_ja_is_translation"),
    ("external_ref",),
    ("assigned_to",),
    ("publication_basis", "consent_given_by", "consent_given_on", "public_interest_reason"),
)
# An event, a name or a relation saved by someone else while a merge or an undo moved it (the row's version moved).
_SOMEONE_ELSE = gettext_lazy("Someone changed one of these records at the same moment, so nothing was done: try again.")

# The merged record's fields a merge changes, put back by an undo.
MERGED_FIELDS = ("merged_into", "publication_state", "external_ref", "submitted_by", "submitted_at")


@dataclass
class Plan:
    """What merging ``merged`` into ``survivor`` does, read from both records as they are now."""

    survivor: Person
    merged: Person
    problems: list[str] = field(default_factory=list)
    events: list[StatusEvent] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    # (relation, the side the merged record is on: "person" or "other")
    relations: list[tuple[Relation, str]] = field(default_factory=list)
    # A moved relation the survivor already has (same kind, same other person): withdrawn, its citations moved
    # to the survivor's. Keyed by the moved relation's pk.
    doubled_relations: dict[int, Relation] = field(default_factory=dict)
    variants: list[NameVariant] = field(default_factory=list)
    # The merged record's own names (its name, its name in native script) as new names of the survivor.
    new_names: list[NameVariant] = field(default_factory=list)
    # field name → the merged record's value, for the survivor's empty fields.
    filled: dict[str, Any] = field(default_factory=dict)
    # (what, the survivor's, the merged record's): where both say something different, the survivor's stays.
    differences: list[tuple[str, str, str]] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    versions: list[PublishedVersion] = field(default_factory=list)
    redirects: bool = False
    names_stay_public: bool = False

    @property
    def takes_reprisal_risk(self) -> bool:
        """The merged record's family faces reprisals, and the survivor takes the risk (and a pseudonym)."""
        return "reprisal_risk" in self.filled

    @property
    def filled_labels(self) -> list[str]:
        """The survivor's empty fields the merge fills, as staff read them (a group by its first field)."""
        firsts = {group[0] for group in FILLED_GROUPS} | {"reprisal_risk"}
        return [_label(name) for name in self.filled if name in firsts]


def is_public_under_name(person: Person) -> bool:
    """On the public site now, under the person's own name (not a pseudonym: a reprisal risk flagged makes the
    published record pseudonymous at once, workflow.signals)."""
    version = PublishedVersion.objects.current().filter(person=person).only("record").first()
    return version is not None and not version.is_pseudonymous


def plan(survivor: Person, merged: Person, *, by: User | None, pair: CandidatePair | None) -> Plan:
    """What merging ``merged`` into ``survivor`` would do, and every reason it may not be done now."""
    result = Plan(survivor, merged)
    result.problems = _problems(survivor, merged, by=by, pair=pair)
    if survivor.pk == merged.pk:
        return result
    result.events = list(StatusEvent.objects.filter(person=merged).order_by("pk"))
    result.citations = list(Citation.objects.filter(person=merged).select_related("source").order_by("pk"))
    result.appeals = list(Appeal.objects.filter(persons=merged).order_by("pk"))
    kept = {
        (relation.person_id, relation.other_id, relation.kind): relation
        for relation in Relation.objects.active().of(survivor)
    }
    # A relation between the two records (a withdrawn one: an active one stops the merge) stays on the merged
    # record: moved, it would be a relation of the survivor to itself.
    for relation in Relation.objects.of(merged).exclude(Q(person=survivor) | Q(other=survivor)).order_by("pk"):
        side = "person" if relation.person_id == merged.pk else "other"
        result.relations.append((relation, side))
        moved = (
            survivor.pk if side == "person" else relation.person_id,
            survivor.pk if side == "other" else relation.other_id,
            relation.kind,
        )
        if not relation.withdrawn and moved in kept:
            result.doubled_relations[relation.pk] = kept[moved]
    merged_was_public = is_public_under_name(merged)
    result.redirects = merged_was_public and is_public_under_name(survivor)
    # A name stays public on the survivor only where the public read it already: the merged record on the public
    # site under its name, and no family at risk. Any other is for an editor to make public, and review.
    result.names_stay_public = merged_was_public and not survivor.reprisal_risk
    survivor_names = {names.normalise(name) for name in survivor.all_names()}
    for variant in NameVariant.objects.filter(person=merged).order_by("pk"):
        if names.normalise(variant.name) not in survivor_names:
            result.variants.append(variant)
            survivor_names.add(names.normalise(variant.name))
    # The merged record's names become names of the survivor; where the survivor has none, they fill its own.
    own_names = (
        (merged.name if survivor.name else "", NameVariant.Kind.ROMANIZATION),
        (merged.name_native if survivor.name_native else "", NameVariant.Kind.NATIVE),
    )
    for name, kind in own_names:
        if name and names.normalise(name) not in survivor_names:
            survivor_names.add(names.normalise(name))
            result.new_names.append(
                NameVariant(
                    person=survivor,
                    name=name,
                    kind=kind,
                    is_public=result.names_stay_public,
                    note=_("Name of %(case)s, merged into this record") % {"case": merged.case_id},
                )
            )
    for group in FILLED_GROUPS:
        first = group[0]
        mine, theirs = _value(survivor, first), _value(merged, first)
        if _is_empty(first, theirs):
            continue
        if _is_empty(first, mine):
            result.filled.update({name: getattr(merged, _attname(name)) for name in group})
        elif mine != theirs and first not in ("name", "family_name_native"):
            result.differences.append((_label(first), _shown(survivor, first), _shown(merged, first)))
    if merged.reprisal_risk and not survivor.reprisal_risk:
        result.filled["reprisal_risk"] = True
        result.filled["pseudonym"] = survivor.pseudonym or merged.pseudonym
    have = set(survivor.categories.values_list("pk", flat=True))
    result.categories = [category for category in merged.categories.all() if category.pk not in have]
    result.versions = list(merged.published_versions.public())
    return result


def _problems(survivor: Person, merged: Person, *, by: User | None, pair: CandidatePair | None) -> list[str]:
    if survivor.pk == merged.pk:
        return [_("A record cannot be merged into itself.")]
    problems = []
    if by is not None and not by.has_perm(PERMISSION):
        problems.append(_("Only an editor may merge records."))
    for person in (survivor, merged):
        if person.merged_into is not None:
            problems.append(
                _("%(case)s was merged into %(other)s already.")
                % {"case": person.case_id, "other": person.merged_into.case_id}
            )
    if pair is None or {pair.first_id, pair.second_id} != {survivor.pk, merged.pk} or pair.decision != Decision.SAME:
        problems.append(
            _(
                "Nobody has marked these two records the same person: review the pair among the possible "
                "duplicates first."
            )
        )
    elif by is not None and pair.decided_by_id == by.pk and not settings.WORKFLOW_ALLOW_SELF_PUBLISH:
        problems.append(_("You marked these records the same person: another editor must merge them (four eyes)."))
    if merged.reprisal_risk and not survivor.reprisal_risk and is_public_under_name(survivor):
        problems.append(
            _(
                "The family of %(merged)s faces reprisals, and %(survivor)s is on the public site under its name: "
                "merged, the one would name the other. Keep %(merged)s instead, or withdraw %(survivor)s first."
            )
            % {"merged": merged.case_id, "survivor": survivor.case_id}
        )
    between = (
        Relation.objects.active().filter(Q(person=survivor, other=merged) | Q(person=merged, other=survivor)).first()
    )
    if between is not None:
        problems.append(
            _(
                "The two records are recorded as related (%(relation)s): if they are one person, withdraw that "
                "relation first."
            )
            % {"relation": between}
        )
    return problems


def _field(name: str) -> models.Field:
    return cast(models.Field, Person._meta.get_field(name))


def _attname(name: str) -> str:
    return _field(name).attname


def _value(person: Person, name: str) -> Any:
    return getattr(person, _attname(name))


def _is_empty(name: str, value: Any) -> bool:
    return value in ("", None) or (name == "sex" and value == Sex.UNKNOWN)


def _label(name: str) -> str:
    return str(_field(name).verbose_name)


def _shown(person: Person, name: str) -> str:
    """A field's value as staff read it."""
    model_field = _field(name)
    if model_field.choices:
        return str(getattr(person, f"get_{name}_display")())
    value = getattr(person, name)
    if hasattr(value, "display"):
        return str(value.display())
    if name == "nationality":
        return str(value.name)
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _stored(person: Person, names_: list[str] | tuple[str, ...]) -> dict[str, str | None]:
    """The values of fields of ``person``, as text an undo puts back (:func:`_restore`)."""
    values: dict[str, str | None] = {}
    for name in names_:
        model_field = _field(name)
        raw = model_field.value_from_object(person)
        values[name] = None if raw is None else model_field.value_to_string(person)
    return values


def _restore(person: Person, values: dict[str, str | None]) -> None:
    for name, text in values.items():
        model_field = _field(name)
        setattr(person, model_field.attname, None if text is None else model_field.to_python(text))


def _locked(*persons: Person) -> list[Person]:
    """The persons' current rows, locked in one order (two merges at once never wait for each other in a circle)."""
    rows = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[p.pk for p in persons]).order_by("pk")}
    return [rows[person.pk] for person in persons]


def merge(
    survivor: Person,
    merged: Person,
    *,
    by: User | None,
    reason: str,
    pair: CandidatePair | None,
    read_at: tuple[int, int] | None = None,
) -> CaseMerge:
    """Merge ``merged`` into ``survivor``: the plan (:func:`plan`) carried out in one transaction.

    ``read_at``: the records' versions when the editor read the plan; if
    either changed since, nothing is merged (the editor reads it again).
    Refused with :class:`WorkflowError`, saying every reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Say why the records are one person."))
    with transaction.atomic():
        survivor, merged = _locked(survivor, merged)
        if read_at is not None and (survivor.version, merged.version) != tuple(read_at):
            raise WorkflowError(
                _("One of the records changed after you opened this page, so nothing was merged: read them again.")
            )
        todo = plan(survivor, merged, by=by, pair=pair)
        if todo.problems:
            raise WorkflowError(todo.problems)
        try:
            return _carry_out(todo, by=by, reason=reason, pair=pair)
        except ConcurrentEdit as error:
            raise WorkflowError(str(_SOMEONE_ELSE)) from error


def _carry_out(todo: Plan, *, by: User | None, reason: str, pair: CandidatePair | None) -> CaseMerge:
    survivor, merged = todo.survivor, todo.merged
    why = f"Merged {merged.case_id} into {survivor.case_id}: {reason}"
    now = timezone.now()
    moved: dict[str, Any] = {"merged_fields": _stored(merged, MERGED_FIELDS)}
    # The public records the merge may change, as they are before it: the merged case's versions, the survivor's,
    # and those of the cases related to the merged one, whose records the redactions of the moves rewrite
    # (workflow.signals). An undo writes them back once everything is in place again.
    related = Relation.objects.persons_related_to(merged) | {survivor.pk}
    moved["related"] = sorted(related)
    moved["records"] = {
        str(pk): record
        for pk, record in PublishedVersion.objects.filter(person_id__in={merged.pk, *related}).values_list(
            "pk", "record"
        )
    }

    # The merged record first: its external reference may be the survivor's next (one record each).
    merged.merged_into = survivor
    merged.publication_state = PublicationState.WITHDRAWN
    if "external_ref" in todo.filled:
        merged.external_ref = ""
    merged.submitted_by, merged.submitted_at = None, None
    save_with_history(merged, by=by, reason=why, update_fields=[*MERGED_FIELDS, "updated_at"])

    for event in todo.events:
        event.person = survivor
        save_with_history(event, by=by, reason=why, update_fields=["person"])
    moved["events"] = [event.pk for event in todo.events]
    for citation in todo.citations:
        citation.person = survivor
        save_with_history(citation, by=by, reason=why, update_fields=["person"])
    moved["citations"] = [citation.pk for citation in todo.citations]

    moved["relations"], moved["relations_withdrawn"], moved["relation_citations"] = [], [], []
    for relation, side in todo.relations:
        kept = todo.doubled_relations.get(relation.pk)
        if kept is not None:
            for citation in Citation.objects.filter(relation=relation).order_by("pk"):
                citation.relation = kept
                save_with_history(citation, by=by, reason=why, update_fields=["relation"])
                moved["relation_citations"].append([citation.pk, relation.pk])
            relation.withdraw(by=by, reason=f"{why} (recorded on {survivor.case_id} already)")
            moved["relations_withdrawn"].append(relation.pk)
        setattr(relation, side, survivor)
        save_with_history(relation, by=by, reason=why, update_fields=[side])
        moved["relations"].append([relation.pk, side])

    on_both = set(
        Appeal.objects.filter(persons=survivor, pk__in=[a.pk for a in todo.appeals]).values_list("pk", flat=True)
    )
    moved["appeals"] = []
    for appeal in todo.appeals:
        attribute_changes(appeal, by=by, reason=why)
        appeal.persons.remove(merged)
        if appeal.pk not in on_both:
            appeal.persons.add(survivor)
        moved["appeals"].append([appeal.pk, appeal.pk not in on_both])

    moved["variants"] = [[variant.pk, variant.is_public] for variant in todo.variants]
    for variant in todo.variants:
        variant.person = survivor
        variant.is_public = variant.is_public and todo.names_stay_public
        save_with_history(variant, by=by, reason=why)
    for variant in todo.new_names:
        save_with_history(variant, by=by, reason=why)
    moved["new_names"] = [variant.pk for variant in todo.new_names]

    changed = [*todo.filled, "internal_notes"]
    moved["survivor_fields"] = _stored(survivor, changed)
    for name, value in todo.filled.items():
        setattr(survivor, _attname(name), getattr(value, "pk", value))
    survivor.internal_notes = "\n\n".join(
        part for part in (survivor.internal_notes.strip(), _merge_note(todo, by=by, reason=reason, at=now)) if part
    )
    save_with_history(survivor, by=by, reason=why, update_fields=[*changed, "updated_at"])
    if todo.categories:
        attribute_changes(survivor, by=by, reason=why)
        survivor.categories.add(*todo.categories)
    moved["categories"] = [category.pk for category in todo.categories]

    moved["versions"] = [version.pk for version in take_off_public_site(merged, by=by, reason=why)]

    survivor.refresh_status(by=by, reason=why)
    merged.refresh_status(by=by, reason=why)
    done = CaseMerge(
        survivor=survivor,
        merged=merged,
        survivor_case_id=survivor.case_id,
        merged_case_id=merged.case_id,
        pair=pair,
        reason=reason,
        merged_by=by,
        # After every change above: an undo refuses when anything changed later (undo_problems).
        merged_at=timezone.now(),
        redirects=todo.redirects,
        moved=moved,
    )
    save_with_history(done, by=by, reason=why)
    audit(AuditEvent.Action.MERGED, actor=by, target=f"{merged.case_id} → {survivor.case_id}")
    return done


def _merge_note(todo: Plan, *, by: User | None, reason: str, at) -> str:
    """What the survivor's internal notes keep of the merge: when, who, why, what the other record said."""
    lines = [
        _("%(date)s: %(case)s was merged into this record by %(user)s. Reason: %(reason)s")
        % {"date": f"{at:%Y-%m-%d}", "case": todo.merged.case_id, "user": by or _("the system"), "reason": reason}
    ]
    for what, mine, theirs in todo.differences:
        lines.append(
            _("%(field)s: this record's “%(mine)s” was kept; %(case)s said “%(theirs)s”.")
            % {"field": what, "mine": mine, "theirs": theirs, "case": todo.merged.case_id}
        )
    if todo.merged.internal_notes.strip():
        lines.append(
            _("Internal notes of %(case)s: %(notes)s")
            % {"case": todo.merged.case_id, "notes": todo.merged.internal_notes.strip()}
        )
    return "\n".join(lines)


def undo_problems(done: CaseMerge, *, by: User | None) -> list[str]:
    """Why the merge ``done`` may not be undone now: every reason, or none."""
    if done.undone_at is not None:
        return [_("This merge was undone already.")]
    problems = []
    if by is not None and not by.has_perm(PERMISSION):
        problems.append(_("Only an editor may undo a merge."))
    since = done.merged_at
    changed = [
        person.case_id
        for person in (done.survivor, done.merged)
        if any(history.filter(history_date__gt=since).exists() for history in _histories(person))
    ]
    # The related cases' public records, which the merge rewrote and an undo writes back.
    related = PublishedVersion.history.filter(person_id__in=done.moved.get("related", []), history_date__gt=since)
    changed += sorted(set(related.values_list("case_id", flat=True)) - set(changed))
    if changed:
        problems.append(
            _(
                "%(cases)s changed after the merge, so it can no longer be undone: correct the records by hand "
                "(their history shows what the merge moved)."
            )
            % {"cases": ", ".join(changed)}
        )
    elif not _all_still_there(done.moved):
        problems.append(
            _(
                "Some of what the merge moved was purged since, so it can no longer be undone: correct the "
                "records by hand."
            )
        )
    return problems


def _all_still_there(moved: dict) -> bool:
    """Whether every row the merge moved or changed still exists (a purge of a related case erases some)."""
    wanted: list[tuple[Any, list[int]]] = [
        (StatusEvent, moved["events"]),
        (Citation, [*moved["citations"], *(pk for pk, _relation in moved["relation_citations"])]),
        (Relation, [*(pk for pk, _side in moved["relations"]), *moved["relations_withdrawn"]]),
        (Appeal, [pk for pk, _added in moved["appeals"]]),
        (NameVariant, [pk for pk, _public in moved["variants"]]),
        (PublishedVersion, [int(pk) for pk in moved["records"]]),
    ]
    return all(model.objects.filter(pk__in=pks).count() == len(set(pks)) for model, pks in wanted)


def _put_back_public_records(moved: dict, *, merged: Person, by: User | None, reason: str) -> None:
    """The public records as they were before the merge: the merged case's versions on the public site again if
    they were, and the related cases' records as they named it. The moves back, each redacting what it touched,
    left them in between. Then one redaction, so that whatever was restricted meanwhile stays out."""
    withdrawn_by_merge = set(moved["versions"])
    for version in PublishedVersion.objects.filter(pk__in=[int(pk) for pk in moved["records"]]).order_by("pk"):
        record = moved["records"][str(version.pk)]
        if version.record == record and version.pk not in withdrawn_by_merge:
            continue
        version.record = record
        denormalise(version)
        if version.pk in withdrawn_by_merge:
            version.withdrawn_at = None
        save_with_history(version, by=by, reason=reason)
        reindex(version)
    redact_published_versions({merged.pk, *moved["related"]}, by=by, reason=reason)


def _histories(person: Person) -> list:
    return [*case_histories(person), PublishedVersion.history.filter(person_id=person.pk)]


def undo(done: CaseMerge, *, by: User | None, reason: str, mark_different: bool = False) -> CaseMerge:
    """Put back everything the merge ``done`` moved and changed, while nothing else changed since.

    ``mark_different``: the reviewer's decision on the pair was wrong; it becomes "different persons", with
    ``reason``, so that the pair is not offered for merging again.
    """
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Say why the merge is undone."))
    try:
        return _undo(done, by=by, reason=reason, mark_different=mark_different)
    except ConcurrentEdit as error:
        raise WorkflowError(str(_SOMEONE_ELSE)) from error


def _undo(done: CaseMerge, *, by: User | None, reason: str, mark_different: bool) -> CaseMerge:
    with transaction.atomic():
        done = CaseMerge.objects.select_for_update().get(pk=done.pk)
        survivor, merged = _locked(done.survivor, done.merged)
        problems = undo_problems(done, by=by)
        if problems:
            raise WorkflowError(problems)
        why = f"Merge of {merged.case_id} into {survivor.case_id} undone: {reason}"
        moved = done.moved

        attribute_changes(survivor, by=by, reason=why)
        if moved["categories"]:
            survivor.categories.remove(*moved["categories"])
        _restore(survivor, moved["survivor_fields"])
        save_with_history(survivor, by=by, reason=why, update_fields=[*moved["survivor_fields"], "updated_at"])
        for variant in NameVariant.objects.filter(pk__in=moved["new_names"]):
            attribute_changes(variant, by=by, reason=why)
            variant.delete()
        was_public = dict(moved["variants"])
        for variant in NameVariant.objects.filter(pk__in=was_public):
            variant.person, variant.is_public = merged, was_public[variant.pk]
            save_with_history(variant, by=by, reason=why)
        for appeal_pk, added in moved["appeals"]:
            appeal = Appeal.objects.get(pk=appeal_pk)
            attribute_changes(appeal, by=by, reason=why)
            if added:
                appeal.persons.remove(survivor)
            appeal.persons.add(merged)
        relations = Relation.objects.in_bulk([pk for pk, _side in moved["relations"]])
        for pk, side in moved["relations"]:
            relation = relations[pk]
            setattr(relation, side, merged)
            save_with_history(relation, by=by, reason=why, update_fields=[side])
        for relation in Relation.objects.filter(pk__in=moved["relations_withdrawn"]):
            relation.withdrawn, relation.withdrawn_reason = False, ""
            save_with_history(relation, by=by, reason=why, update_fields=["withdrawn", "withdrawn_reason"])
        for citation_pk, relation_pk in moved["relation_citations"]:
            citation = Citation.objects.get(pk=citation_pk)
            citation.relation_id = relation_pk
            save_with_history(citation, by=by, reason=why, update_fields=["relation"])
        for citation in Citation.objects.filter(pk__in=moved["citations"]):
            citation.person = merged
            save_with_history(citation, by=by, reason=why, update_fields=["person"])
        for event in StatusEvent.objects.filter(pk__in=moved["events"]):
            event.person = merged
            save_with_history(event, by=by, reason=why, update_fields=["person"])
        _restore(merged, moved["merged_fields"])
        save_with_history(merged, by=by, reason=why, update_fields=[*moved["merged_fields"], "updated_at"])
        survivor.refresh_status(by=by, reason=why)
        merged.refresh_status(by=by, reason=why)
        _put_back_public_records(moved, merged=merged, by=by, reason=why)
        if mark_different and done.pair is not None:
            done.pair.overrule(Decision.DIFFERENT, by=by, reason=reason)

        done.undone_at, done.undone_by, done.undo_reason = timezone.now(), by, reason
        save_with_history(done, by=by, reason=why, update_fields=["undone_at", "undone_by", "undo_reason"])
        audit(AuditEvent.Action.MERGE_UNDONE, actor=by, target=f"{merged.case_id} → {survivor.case_id}", reason=reason)
    return done

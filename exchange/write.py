"""Writing an import's plan: in chunks, with bulk inserts and updates, each row with its history row.

The path a single edit takes in the admin costs some forty queries a row
(about 90 ms a row on PostgreSQL on the development machine: two and a half
hours for 100,000 rows), so :func:`write_plan` writes a chunk of rows with a
fixed number of statements (:class:`cases.bulk.BulkWriter`: COPY on
PostgreSQL) and keeps that path's rules through the same bulk counterparts:

* a person's status, its "since" date and "last confirmed" are derived by
  ``Person.objects.refresh_statuses``, the bulk counterpart of
  ``Person.refresh_status()``: a new person's before it is written, from the
  row's event; an existing person's after the new events are written, from
  all of its active events. Status history is only ever appended to;
* an edit of an existing person (a field, a category, another name) raises
  their version through ``BulkWriter.update``, so an admin form opened before
  the import is refused instead of silently undoing it;
* a new event's authorities believed responsible are written with it, its
  facility on it (both found by name when the file was read, ``exchange.places``);
* every row written gets its history row, naming the user and the reason
  ("Imported from cases.csv"), and a person's history rows carry their
  categories as simple-history's own many-to-many snapshot does;
* case IDs come from the same locked counter as every other case.
"""

from __future__ import annotations

import unicodedata

from archive.jobs import request_captures
from cases.bulk import BulkWriter
from cases.models import CaseIdCounter, NameVariant, Person, Responsibility, StatusEvent
from linkage.tasks import request_full_pass
from sources.models import Citation, Source
from workflow.snapshots import redact_published_versions

from .plan import Item, Plan, batches, build_instance

# Rows written together (one set of bulk statements); also the progress step.
CHUNK_ROWS = 2000
# Rows after which PostgreSQL's statistics are refreshed (cases.bulk.BulkWriter.analyze).
ANALYZE_AFTER = 10_000

# Fields Person.save() derives from the names, and bulk writes must therefore derive themselves.
NAMES = frozenset({"name", "family_name_native", "given_name_native"})
NAME_KEY_FIELDS = ["family_name_native", "given_name_native", "name_key", "name_folded", "native_key"]


def write_plan(plan: Plan, *, by, reason: str, progress) -> None:
    """Write every row of ``plan`` that changes something, as ``by`` for ``reason``, in chunks of :data:`CHUNK_ROWS`."""
    writer = Writer(by=by, reason=reason, now=plan.now, memberships=plan.memberships)
    for source in plan.new_sources:
        source.added_by = by
    writer.insert(Source, plan.new_sources)
    # Written in bulk, without Source.save(): their pages are asked for here, as a save would.
    request_captures(plan.new_sources, by=by)
    new_items = [item for item in plan.items if item.is_new]
    for item, case_id in zip(new_items, CaseIdCounter.allocate_many(len(new_items)) if new_items else [], strict=True):
        item.person.case_id = case_id
    bar = progress(desc="Importing", total=len(plan.items))
    for chunk in batches(plan.items, CHUNK_ROWS):
        writer.write([item for item in chunk if item.action != "unchanged"])
        bar.update(len(chunk))
    bar.close()
    # A person at risk given a new name or spelling: every public text is read for it at once, as when a
    # name is added in the admin (workflow.signals), so a published version never keeps it.
    at_risk = [item.person.pk for item in plan.items if item.action == "update" and item.person.reprisal_risk]
    if at_risk:
        redact_published_versions(at_risk, by=by, reason=f"Public record redacted: {reason}")
    if new_items:
        # Written in bulk, without signals: the new cases are compared with all others by the worker.
        request_full_pass()
    if len(plan.items) >= ANALYZE_AFTER:
        writer.analyze([Source, Person, Person.categories.through, NameVariant, StatusEvent, Responsibility, Citation])


def _variant(person: Person, name: str) -> NameVariant:
    # An imported name is not public until someone decides it is.
    latin = name.isascii() or all(not char.isalpha() or unicodedata.name(char, "").startswith("LATIN") for char in name)
    kind = NameVariant.Kind.OTHER if latin else NameVariant.Kind.NATIVE
    return build_instance(NameVariant, person_id=person.pk, name=name, kind=kind, is_public=False)


class Writer(BulkWriter):
    """Writes planned rows in bulk (:class:`cases.bulk.BulkWriter`), each with its history row."""

    def write(self, items: list[Item]) -> None:
        """Write one chunk of planned rows (none of them unchanged)."""
        created = [item.person for item in items if item.is_new]
        first_events = []
        for item in items:
            if item.is_new and item.event is not None:
                item.event.person = item.person
                first_events.append(item.event)
        # A new person's only event is the row's: their fields are derived before their row is written.
        Person.objects.refresh_statuses(created, unsaved_events=first_events)
        created_rows = self.insert(Person, created, prepare=Person.set_name_keys, history=False)

        edited = [item for item in items if item.edits_person]
        for item in edited:
            if NAMES.intersection(item.edited):
                item.person.set_name_keys()
        through = Person.categories.through
        memberships = [
            build_instance(through, person_id=item.person.pk, category_id=pk)
            for item in items
            for pk in item.category_ids
        ]
        self.insert(through, memberships, history=False)
        self.add_memberships(memberships)
        self.insert(
            NameVariant,
            [_variant(item.person, name) for item in items for name in item.other_names],
            prepare=NameVariant.set_name_keys,
        )
        events = []
        for item in items:
            if item.event is not None:
                item.event.person_id, item.event.recorded_by_id = item.person.pk, self.by.pk
                events.append(item.event)
        self.insert(StatusEvent, events)
        self.insert(
            Responsibility,
            [
                build_instance(Responsibility, status_event_id=item.event.pk, authority_id=pk, confidence=confidence)
                for item in items
                if item.event is not None
                for pk, confidence in item.responsibilities
            ],
        )
        restatused = Person.objects.refresh_statuses([item.person for item in items if not item.is_new and item.event])

        # The edited persons (their version raised), then those whose derived status alone changed.
        edited_pks = {item.person.pk for item in edited}
        fields = {column for item in edited for column in item.edited}
        if fields & NAMES:
            fields.update(NAME_KEY_FIELDS)
        if restatused:
            fields.update(Person.DERIVED_STATUS_FIELDS)
        self.update(Person, [item.person for item in edited], fields, edited=True)
        restatused_only = [person for person in restatused if person.pk not in edited_pks]
        self.update(Person, restatused_only, Person.DERIVED_STATUS_FIELDS)
        # A history row for every person written: those whose categories or other names changed included.
        self.history(Person, created, created=True, rows=created_rows)
        self.history(Person, [item.person for item in edited] + restatused_only, created=False)

        citations = [
            build_instance(
                Citation,
                source_id=getattr(item.source, "pk", None),  # every citing item has its source
                status_event_id=item.cited_event.pk if item.cited_event else None,
                person_id=None if item.cited_event else item.person.pk,
                locator=item.locator,
                added_by_id=self.by.pk,
            )
            for item in items
            if item.cites
        ]
        self.insert(Citation, citations)

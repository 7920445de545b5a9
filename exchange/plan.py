"""Planning an import: each row read against the database, and what it would do decided, before anything is written.

:class:`Plan` reads, a batch of values at a time, what the file refers to
(existing cases by case ID or external reference, their names, categories,
events and citations, sources by URL or title), reports every problem with
its line and column, and gives each row an :class:`Item`: the person it
creates or updates, the status event (with its facility and the authorities
believed responsible, found by name: :mod:`exchange.places`), source and
citation it adds. Writing
the plan is :mod:`exchange.write`'s; :func:`exchange.importer.import_cases`
runs both.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases import names
from cases.models import (
    TIMELINE_ORDER,
    Category,
    NameVariant,
    Person,
    PublicationState,
    Responsibility,
    Status,
    StatusEvent,
)
from linkage.matching import Candidate, candidates_for_rows
from sources.models import Citation, Source

from .csv_format import Problem, Row
from .places import Places, responsible_names

# Values in one "IN (…)" list when reading what the file refers to.
LOOKUP_BATCH = 2000

# Person fields a column sets as they are (name_native is split in two).
PERSON_FIELDS = (
    "external_ref",
    "name",
    "descriptor",
    "sex",
    "birth_date",
    "nationality",
    "religion",
    "summary",
    "internal_notes",
)


@dataclass
class Item:
    """What one row does to one person."""

    row: Row
    person: Person
    is_new: bool
    edited: list[str] = dataclass_field(default_factory=list)
    changes: list[str] = dataclass_field(default_factory=list)
    other_names: list[str] = dataclass_field(default_factory=list)
    category_ids: list[int] = dataclass_field(default_factory=list)
    event: StatusEvent | None = None
    # The event the row's source backs: the new event, or an existing one
    # when the row's status is already known; None for the person itself.
    cited_event: StatusEvent | SimpleNamespace | None = None
    # The authorities believed responsible for the new event: (authority pk, confidence).
    responsibilities: list[tuple[int, str]] = dataclass_field(default_factory=list)
    source: Source | None = None
    locator: str = ""
    cites: bool = False

    @property
    def edits_person(self) -> bool:
        """Whether the row changes the person's own record: a field, a category or another name.

        Such a change raises the person's version, as an edit in the admin
        does, so that a form opened before the import cannot save over it.
        A new status event or citation does not: the person's form holds
        neither (their derived status is not an edit, see VersionedModel).
        """
        return not self.is_new and bool(self.edited or self.other_names or self.category_ids)

    @property
    def action(self) -> str:
        if self.is_new:
            return "create"
        touched = self.edits_person or self.event or self.cites
        return "update" if touched else "unchanged"


@cache
def _status_labels(language: str | None) -> dict[str, str]:
    """The status labels in ``language`` (the active one: the key keeps each language's labels apart)."""
    return {value: str(label) for value, label in Status.choices}


@cache
def _defaults(model) -> list[tuple[str, Callable | None, object]]:
    """Each field's attname, and its default: a function to call (timezone.now) or a value."""
    return [
        (field.attname, field.get_default, None)
        if field.has_default() and callable(field.default)
        else (field.attname, None, field.get_default())
        for field in model._meta.concrete_fields
    ]


def build_instance(model, **values):
    """``model(**values)``, built from positional arguments in field order.

    The same instance, at a third of the cost: with keyword arguments,
    Model.__init__ looks up every field's default and pops every keyword,
    which for 100,000 rows of five models takes seconds.
    """
    args = [
        values.pop(attname) if attname in values else (make() if make else default)
        for attname, make, default in _defaults(model)
    ]
    if values:
        raise TypeError(f"{model.__name__} has no field {', '.join(values)}.")
    return model(*args)


def _not_yours(person: Person) -> str:
    if person.merged_into_id is not None:
        merged_into = Person.objects.filter(pk=person.merged_into_id).values_list("case_id", flat=True).first()
        return _("%(case_id)s was merged into %(other)s: change %(other)s instead.") % {
            "case_id": person.case_id,
            "other": merged_into,
        }
    if person.publication_state == PublicationState.WITHDRAWN:
        return _("%(case_id)s is withdrawn: until an editor returns it to draft, only an editor may change it.") % {
            "case_id": person.case_id
        }
    return _("you may not change %(case_id)s.") % {"case_id": person.case_id}


def _short(value, limit: int = 60) -> str:
    text = "—" if value in (None, "") else str(value)
    return f"“{text}”" if len(text) <= limit else f"“{text[: limit - 1]}…”"


def batches(values: Iterable, size: int = LOOKUP_BATCH) -> Iterator[list]:
    iterator = iter(values)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class Plan:
    """Everything the rows would do, decided before anything is written."""

    def __init__(self, rows: list[Row], *, by=None, can_add_sources: bool) -> None:
        self.rows = rows
        self.by = by
        self.can_add_sources = can_add_sources
        self.problems: list[Problem] = []
        self.items: list[Item] = []
        # Everything one import writes is recorded at the same moment.
        self.now = timezone.now()
        self.new_sources: list[Source] = []
        # Read from the database only when a row names a facility or an authority.
        self.places = Places()

    def problem(self, row: Row, column: str, message: str) -> None:
        self.problems.append(Problem(row.line, column, message))

    # Reading what the file refers to, a batch of values at a time.

    def _persons(self, **lookup) -> Iterator[Person]:
        ((name, values),) = lookup.items()
        for batch in batches(values):
            yield from Person.objects.filter(**{f"{name}__in": batch}).order_by("pk")

    def lock(self) -> None:
        """Lock the persons the import changes, and refuse any that changed since they were read.

        Only the rows to be written are locked: locking every row of a file
        that changes little would cost more than the rest of the import.
        Status changes lock the person too (Person.record_event), so they
        queue behind the import or are seen here.
        """
        persons = {item.person.pk: item for item in self.items if item.action == "update"}
        for batch in batches(sorted(persons)):
            current = Person.objects.select_for_update().filter(pk__in=batch).order_by("pk")
            derived = Person.DERIVED_STATUS_FIELDS
            for pk, *state in current.values_list("pk", "version", *derived):
                person = persons[pk].person
                if state != [person.version, *(getattr(person, name) for name in derived)]:
                    self.problem(
                        persons[pk].row,
                        "case_id",
                        _("%(case_id)s was changed by someone else while the file was checked: import it again.")
                        % {"case_id": person.case_id},
                    )

    def build(self, progress) -> None:
        rows = self.rows
        by_case_id = {p.case_id: p for p in self._persons(case_id={r.get("case_id") for r in rows} - {None})}
        by_ref = {p.external_ref: p for p in self._persons(external_ref={r.get("external_ref") for r in rows} - {None})}
        resolved = self._resolve(by_case_id, by_ref)
        existing = {person.pk: person for person in resolved.values() if person is not None}
        self._load_existing(existing)
        self._load_sources()
        self.categories = {}
        for category in Category.objects.all():
            self.categories[category.name.casefold()] = category
            self.categories[category.slug.casefold()] = category
        duplicates = self._possible_duplicates([row for row in rows if resolved[row.line] is None])
        bar = progress(desc="Checking", total=len(rows))
        for row in rows:
            person = resolved[row.line]
            item = self._new(row) if person is None else self._update(row, person)
            if row.line in duplicates:
                self.problem(row, "name" if row.get("name") else "descriptor", duplicates[row.line])
            self._plan_names(item)
            self._plan_status(item)
            self._plan_source(item)
            if item.action == "update" and not self._may_change(item.person):
                self.problem(row, "case_id" if row.get("case_id") else "external_ref", _not_yours(item.person))
            self.items.append(item)
            bar.update(1)
        bar.close()

    def _may_change(self, person: Person) -> bool:
        # Whoever runs the command has the database at hand: without a user, any case may be changed.
        return self.by is None or person.may_be_changed_by(self.by)

    def _resolve(self, by_case_id: dict, by_ref: dict) -> dict[int, Person | None]:
        """Each row's existing person (or None for a new case), with the file's own conflicts."""
        resolved: dict[int, Person | None] = {}
        seen_ref: dict[str, int] = {}
        seen_person: dict[int, int] = {}
        for row in self.rows:
            case_id, ref = row.get("case_id"), row.get("external_ref")
            person = None
            if ref is not None:
                if ref in seen_ref:
                    message = _("“%(ref)s” is also on line %(line)s: each is one person.")
                    self.problem(row, "external_ref", message % {"ref": ref, "line": seen_ref[ref]})
                seen_ref.setdefault(ref, row.line)
            if case_id is not None:
                person = by_case_id.get(case_id)
                if person is None:
                    message = _("there is no case %(case_id)s: leave case_id blank for a new case.")
                    self.problem(row, "case_id", message % {"case_id": case_id})
                elif ref is not None and ref in by_ref and by_ref[ref].pk != person.pk:
                    message = _("“%(ref)s” is the reference of %(other)s, not of %(case_id)s.")
                    self.problem(
                        row, "external_ref", message % {"ref": ref, "other": by_ref[ref].case_id, "case_id": case_id}
                    )
            elif ref is not None:
                person = by_ref.get(ref)
            if person is not None:
                if person.pk in seen_person:
                    self.problem(
                        row,
                        "case_id" if case_id else "external_ref",
                        _("%(case_id)s is also on line %(line)s: one row per person.")
                        % {"case_id": person.case_id, "line": seen_person[person.pk]},
                    )
                seen_person.setdefault(person.pk, row.line)
            resolved[row.line] = person
        return resolved

    def _load_existing(self, persons: dict[int, Person]) -> None:
        self.variant_names: dict[int, set[str]] = defaultdict(set)
        self.category_ids: dict[int, set[int]] = defaultdict(set)
        # Each person's (through row pk, category pk): the categories their history rows record.
        self.memberships: dict[int, list[tuple[int, int]]] = defaultdict(list)
        # Each person's active events, as (pk, status, date, facility_id): what derive_status reads, and the facility.
        self.events: dict[int, list[Any]] = defaultdict(list)
        # The authorities believed responsible for each of those events, as (authority pk, confidence); read only
        # when the file names authorities.
        self.responsibilities: dict[int, set[tuple[int, str]]] = defaultdict(set)
        names_authorities = any("status_responsible" in row.filled for row in self.rows)
        # (person pk or None, event pk or None, source pk, locator) of every active citation.
        self.citations: set[tuple] = set()
        through = Person.categories.through
        for batch in batches(persons):
            for person_id, name in NameVariant.objects.filter(person__in=batch).values_list("person_id", "name"):
                self.variant_names[person_id].add(name)
            for pk, person_id, category_id in through.objects.filter(person__in=batch).values_list(
                "pk", "person_id", "category_id"
            ):
                self.category_ids[person_id].add(category_id)
                self.memberships[person_id].append((pk, category_id))
            events = StatusEvent.objects.active().filter(person__in=batch).order_by("person_id", *TIMELINE_ORDER)
            for pk, person_id, status, date, facility_id in events.values_list(
                "pk", "person_id", "status", "date", "facility_id"
            ):
                self.events[person_id].append(SimpleNamespace(pk=pk, status=status, date=date, facility_id=facility_id))
            if names_authorities:
                held = Responsibility.objects.filter(status_event__person__in=batch, status_event__withdrawn=False)
                for event_id, authority_id, confidence in held.values_list(
                    "status_event_id", "authority_id", "confidence"
                ):
                    self.responsibilities[event_id].add((authority_id, confidence))
            for citation in (
                Citation.objects.active().filter(person__in=batch).values_list("person_id", "source_id", "locator")
            ):
                self.citations.add((citation[0], None, *citation[1:]))
            for citation in (
                Citation.objects.active()
                .filter(status_event__person__in=batch)
                .values_list("status_event_id", "source_id", "locator")
            ):
                self.citations.add((None, *citation))

    def _load_sources(self) -> None:
        urls = {row.get("source_url") for row in self.rows} - {None}
        titles = {row.get("source_title") for row in self.rows if row.get("source_url") is None} - {None}
        self.sources_by_url: dict[str, Source] = {}
        self.sources_by_title: dict[str, Source] = {}
        for batch in batches(urls):
            for source in Source.objects.filter(url__in=batch):
                self.sources_by_url[source.url] = source
        for batch in batches(titles):
            for source in Source.objects.filter(title__in=batch).order_by("pk"):
                self.sources_by_title.setdefault(source.title, source)

    def _possible_duplicates(self, rows: list[Row]) -> dict[int, str]:
        """Rows for a new case without case_id or external_ref whose person may already exist.

        A name alone never identifies a person, but a row with the same name
        (or descriptor) and birth date as a case, or as an earlier row, is
        much more likely to be that person again (the same file imported
        twice) than someone new: a person must say which it is.
        """
        rows = [row for row in rows if row.get("case_id") is None and row.get("external_ref") is None]
        if not rows:
            return {}

        def identity(name: str, descriptor: str, birth_date) -> tuple:
            if name:
                return ("name", names.normalise(name) or name, birth_date)
            return ("descriptor", descriptor.lower(), birth_date)

        # identity → ("case", case ID) of an existing person, or ("line", number) of an earlier row.
        known: dict[tuple, tuple[str, object]] = {}
        name_keys = {names.normalise(row.get("name")) for row in rows if row.get("name")}
        descriptors = {row.get("descriptor").lower() for row in rows if row.get("descriptor") and not row.get("name")}
        for batch in batches(name_keys):
            for person in Person.objects.filter(name_key__in=batch).only("case_id", "name", "birth_date"):
                known.setdefault(identity(person.name, "", person.birth_date), ("case", person.case_id))
        for batch in batches(descriptors):
            candidates = Person.objects.annotate(lowered=Lower("descriptor")).filter(name="", lowered__in=batch)
            for person in candidates.only("case_id", "descriptor", "birth_date"):
                known.setdefault(identity("", person.descriptor, person.birth_date), ("case", person.case_id))
        duplicates = {}
        for row in rows:
            key = identity(row.get("name", ""), row.get("descriptor", ""), row.get("birth_date"))
            by_name = key[0] == "name"
            kind, other = known.setdefault(key, ("line", row.line))
            if kind == "case":
                message = (
                    _(
                        "%(case_id)s already has this name and birth date. To update it, put %(case_id)s in "
                        "case_id; if this is someone else, give the row an external_ref to create a new case."
                    )
                    if by_name
                    else _(
                        "%(case_id)s already has this descriptor and birth date. To update it, put %(case_id)s in "
                        "case_id; if this is someone else, give the row an external_ref to create a new case."
                    )
                )
                duplicates[row.line] = message % {"case_id": other}
            elif other != row.line:
                message = (
                    _(
                        "line %(line)s has the same name and birth date. If both are one person, keep one row; "
                        "if not, give each row an external_ref."
                    )
                    if by_name
                    else _(
                        "line %(line)s has the same descriptor and birth date. If both are one person, keep one "
                        "row; if not, give each row an external_ref."
                    )
                )
                duplicates[row.line] = message % {"line": other}
        return duplicates

    def possible_matches(self, rows: int) -> dict[int, list[Candidate]]:
        """The existing cases each new row of the first ``rows`` may be, scored as the review queue scores
        possible duplicates (:mod:`linkage.matching`), by line: shown in the preview, for a person to decide."""
        new = [item for item in self.items if item.is_new][:rows]
        found = candidates_for_rows([(item.person, item.other_names, item.category_ids) for item in new])
        return {item.row.line: candidates for item, candidates in zip(new, found, strict=True) if candidates}

    # Planning one row.

    def _new(self, row: Row) -> Item:
        values = {column: row.values[column] for column in PERSON_FIELDS if column in row.values}
        if "name_native" in row.values:
            values["family_name_native"], values["given_name_native"] = cast(tuple, row.values["name_native"])
        item = Item(row, build_instance(Person, **values), is_new=True)
        if not {"name", "descriptor"} & row.filled:
            self.problem(row, "name", _("a new case needs a name, or a descriptor for an unnamed person."))
        return item

    def _update(self, row: Row, person: Person) -> Item:
        item = Item(row, person, is_new=False)
        for column in PERSON_FIELDS:
            if column not in row.values:
                continue
            old, new = getattr(person, column), row.values[column]
            if column == "nationality":
                old = old.code if old else ""
            if old != new:
                setattr(person, column, new)
                item.edited.append(column)
                label = getattr(Person._meta.get_field(column), "verbose_name", column)
                item.changes.append(
                    _("%(field)s: %(old)s → %(new)s") % {"field": label, "old": _short(old), "new": _short(new)}
                )
        if "name_native" in row.values:
            old = (person.family_name_native, person.given_name_native)
            if row.values["name_native"] != old:
                person.family_name_native, person.given_name_native = cast(tuple, row.values["name_native"])
                item.edited.extend(["family_name_native", "given_name_native"])
                item.changes.append(
                    _("native name: %(old)s → %(new)s")
                    % {"old": _short("".join(old)), "new": _short(person.name_native)}
                )
        return item

    def _plan_names(self, item: Item) -> None:
        row, person = item.row, item.person
        known = self.variant_names.get(person.pk, set())
        categories_known = self.category_ids.get(person.pk, set())
        for name in row.get("other_names", []):
            if name not in known and name != person.name:
                item.other_names.append(name)
        if item.other_names:
            item.changes.append(_("other names added: %(names)s") % {"names": ", ".join(item.other_names)})
        categories = []
        for text in row.get("categories", []):
            category = self.categories.get(text.casefold())
            if category is None:
                known_names = ", ".join(sorted({c.name for c in self.categories.values()}))
                message = _("unknown category “%(text)s”: use one of %(names)s.")
                self.problem(row, "categories", message % {"text": text, "names": known_names})
            elif category.pk not in categories_known and category.pk not in item.category_ids:
                item.category_ids.append(category.pk)
                categories.append(category.name)
        if categories:
            item.changes.append(_("categories added: %(categories)s") % {"categories": ", ".join(categories)})

    def _plan_status(self, item: Item) -> None:
        """A new event when the row's status is not already known; else the known event (to cite)."""
        row, person = item.row, item.person
        status = row.get("status")
        if status is None:
            return
        date = row.get("status_date")
        places = self.places.of(row.values, lambda column, message: self.problem(row, column, message))
        recorded = self._recorded_event(person, status, date)
        if recorded is not None:
            item.cited_event = recorded
            for column, message in self.places.differences(
                places, recorded.facility_id, self.responsibilities.get(recorded.pk, set())
            ):
                self.problem(row, column, message)
            return
        details = {"confidence": row.values["status_confidence"]} if "status_confidence" in row.values else {}
        event = build_instance(
            StatusEvent,
            status=status,
            date=date,
            place=row.get("status_place", ""),
            facility_id=places.facility.pk if places.facility else None,
            is_public=False,
            recorded_at=self.now,
            **details,
        )
        item.event = item.cited_event = event
        item.responsibilities = sorted(places.responsibility_keys)
        label = _status_labels(get_language())[status]
        when = date.display() if date else _("date unknown")
        item.changes.append(_("status recorded: %(status)s, %(date)s") % {"status": label, "date": when})
        if places.facility:
            item.changes.append(_("at the facility %(facility)s") % {"facility": _short(places.facility.name)})
        if item.responsibilities:
            held = responsible_names(places.responsibility_keys, self.places.authorities)
            item.changes.append(_("authorities believed responsible: %(authorities)s") % {"authorities": held})

    def _recorded_event(self, person: Person, status: str, date) -> SimpleNamespace | None:
        """The event already recording the row's status, if any: the current status is already known, and an
        older fact already recorded (the same status on the same date) is not recorded twice."""
        known = [event for event in self.events.get(person.pk, []) if event.status == status]
        if known and status == person.current_status:
            return known[-1]
        return next((event for event in reversed(known) if event.date == date), None)

    def _plan_source(self, item: Item) -> None:
        row = item.row
        url, title = row.get("source_url"), row.get("source_title")
        if url is None and title is None:
            return
        source = self.sources_by_url.get(url) if url else self.sources_by_title.get(title)
        if source is None:
            source = self._new_source(row)
            if source is None:
                return
        elif source.withdrawn:
            self.problem(
                row,
                "source_url" if url else "source_title",
                _("the source “%(title)s” was withdrawn: cite another.") % {"title": source.title},
            )
            return
        item.source, item.locator = source, row.get("source_locator", "")
        event = item.cited_event
        key: tuple
        if event is not None:
            target_is_new, key = event.pk is None, (None, event.pk, source.pk, item.locator)
        else:
            target_is_new, key = item.person.pk is None, (item.person.pk, None, source.pk, item.locator)
        # Something new (the source, the person or the event) has no citations yet.
        item.cites = target_is_new or source.pk is None or key not in self.citations
        if item.cites:
            title = _short(source.title)
            item.changes.append(
                _("cites %(source)s, %(locator)s") % {"source": title, "locator": item.locator}
                if item.locator
                else _("cites %(source)s") % {"source": title}
            )

    def _new_source(self, row: Row) -> Source | None:
        url, title = row.get("source_url"), row.get("source_title")
        if title is None:
            if "source_title" not in row.filled:  # else the title's own problem is reported already
                self.problem(row, "source_title", _("no source has this URL: a new source needs a title too."))
            return None
        if not self.can_add_sources:
            self.problem(
                row,
                "source_title",
                _(
                    "the source %(title)s is new, and you may not add sources: ask a researcher to add it, "
                    "or leave the source columns blank."
                )
                % {"title": _short(title)},
            )
            return None
        source = Source(
            title=title, url=url or "", publisher=row.get("source_publisher", ""), published_on=row.get("source_date")
        )
        if url:
            self.sources_by_url[url] = source
        self.sources_by_title.setdefault(title, source)
        self.new_sources.append(source)
        return source

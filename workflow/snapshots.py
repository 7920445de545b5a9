"""What the public may see of a case: decided here, and only here.

:func:`build_record` makes a case's public record when an editor publishes
it; :func:`redact_published_versions` takes out of every stored version what
has since become restricted. The public site renders nothing but these
records, so the HTML pages, the JSON, the CSV and the feed cannot disagree,
and a field that is not copied here cannot reach the public.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.models import Appeal, AppealReply
from archive.models import Capture
from cases import names
from cases.bulk import BulkWriter
from cases.history import save_with_history
from cases.models import (
    TIMELINE_ORDER,
    Authority,
    Category,
    Facility,
    NameVariant,
    Person,
    Relation,
    Responsibility,
    Status,
    StatusEvent,
    derive_status,
)
from cases.partial_dates import PartialDate
from cases.vocabularies import TEXT_LANGUAGES, in_every_language, language_name
from sources.models import Citation, Source

from .models import (
    DataRelease,
    PublishedAppeal,
    PublishedAuthority,
    PublishedName,
    PublishedPlacement,
    PublishedSource,
    PublishedVersion,
)

# Persons in one "IN (…)" list when many cases' rows are read at once.
LOOKUP_BATCH = 1000

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _date(value: PartialDate | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class PublicName:
    """A case on the public site, as its current public record names it."""

    case_id: str
    name: str
    name_native: str


def on_public_site(person_ids: Iterable[int]) -> dict[int, PublicName]:
    """Those of the persons whose cases are on the public site (a current version not withdrawn), by pk."""
    ids, found = list(set(person_ids)), {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        current = PublishedVersion.objects.current().filter(person__in=ids[start : start + LOOKUP_BATCH])
        for person_id, case_id, name, native in current.values_list("person_id", "case_id", "name", "name_native"):
            found[person_id] = PublicName(case_id, name, native)
    return found


def relation_is_public(relation: Relation, on_site: Iterable[int]) -> bool:
    """Whether a relation between two persons may be shown: the one rule, for every public surface.

    Marked public, not withdrawn, both cases on the public site (``on_site``:
    the pks of the persons whose cases are, the case being published among
    them) and neither family facing reprisals: a family link can identify
    relatives still in the country.
    """
    on_site = set(on_site)
    return (
        relation.is_public
        and not relation.withdrawn
        and all(person.pk in on_site and not person.reprisal_risk for person in (relation.person, relation.other))
    )


@dataclass
class CaseRows:
    """A case's related rows, as its public record is built from them (:func:`record_from`)."""

    variants: list = dataclass_field(default_factory=list)
    categories: list = dataclass_field(default_factory=list)
    # (pk of the membership row, category pk) of each category: a person's history rows carry them.
    memberships: list[tuple[int, int]] = dataclass_field(default_factory=list)
    person_citations: list = dataclass_field(default_factory=list)
    # Every event, in timeline order (record_from keeps the public ones).
    events: list = dataclass_field(default_factory=list)
    event_citations: dict[int, list[Citation]] = dataclass_field(default_factory=dict)
    # The appeals made for the person (every one: record_from keeps the public ones), with their replies.
    appeals: list = dataclass_field(default_factory=list)
    appeal_replies: dict[int, list[AppealReply]] = dataclass_field(default_factory=dict)
    # The authorities believed responsible for each event, by the event's id.
    responsibilities: dict[int, list[Responsibility]] = dataclass_field(default_factory=dict)
    # The person's relations (every one: record_from keeps the public ones), with their citations.
    relations: list[Relation] = dataclass_field(default_factory=list)
    relation_citations: dict[int, list[Citation]] = dataclass_field(default_factory=dict)
    # The other persons of the relations whose cases are on the public site: what their public records call them.
    on_public_site: dict[int, PublicName] = dataclass_field(default_factory=dict)

    def record(self, person: Person, *, number: int, published_at: datetime.datetime, identity_policy=True) -> dict:
        return record_from(
            person,
            variants=self.variants,
            categories=self.categories,
            person_citations=self.person_citations,
            events=self.events,
            event_citations=self.event_citations,
            appeals=self.appeals,
            appeal_replies=self.appeal_replies,
            responsibilities=self.responsibilities,
            relations=self.relations,
            relation_citations=self.relation_citations,
            on_public_site=self.on_public_site,
            number=number,
            published_at=published_at,
            identity_policy=identity_policy,
        )


def case_rows(persons: Iterable[Person]) -> dict[int, CaseRows]:
    """The related rows of each of ``persons``, by pk, read in one query per kind of row and thousand persons."""
    by_pk: dict[int, Person] = {person.pk: person for person in persons}
    rows = {pk: CaseRows() for pk in by_pk}
    pks = list(by_pk)
    through = Person.categories.through
    for start in range(0, len(pks), LOOKUP_BATCH):
        batch = pks[start : start + LOOKUP_BATCH]
        cited_sources: list[Source] = []
        for variant in NameVariant.objects.filter(person__in=batch).order_by("person_id", "name"):
            rows[variant.person_id].variants.append(variant)
        memberships = through.objects.filter(person__in=batch).select_related("category")
        for membership in memberships.order_by("person_id", "category__name", "category_id"):
            rows[membership.person_id].categories.append(membership.category)
            rows[membership.person_id].memberships.append((membership.pk, membership.category_id))
        for citation in Citation.objects.filter(person__in=batch).select_related("source").order_by("pk"):
            rows[citation.person_id].person_citations.append(citation)
            cited_sources.append(citation.source)
        events: dict[int, StatusEvent] = {}
        in_order = StatusEvent.objects.filter(person__in=batch).select_related("facility")
        for event in in_order.order_by("person_id", *TIMELINE_ORDER):
            event.person = by_pk[event.person_id]  # in memory: an event names its person (str(event))
            rows[event.person_id].events.append(event)
            events[event.pk] = event
        cited = Citation.objects.filter(status_event__person__in=batch).select_related("source").order_by("pk")
        for citation in cited:
            person_id = events[citation.status_event_id].person_id
            rows[person_id].event_citations.setdefault(citation.status_event_id, []).append(citation)
            cited_sources.append(citation.source)
        concerned = Appeal.persons.through.objects.filter(person__in=batch).select_related("appeal")
        appeals: dict[int, Appeal] = {}
        for row in concerned.order_by("person_id", "appeal_id"):
            rows[row.person_id].appeals.append(row.appeal)
            appeals[row.appeal_id] = row.appeal
        replies: dict[int, list[AppealReply]] = {}
        for reply in AppealReply.objects.filter(appeal__in=list(appeals)).order_by("pk"):
            replies.setdefault(reply.appeal_id, []).append(reply)
        for person_rows in (rows[pk] for pk in batch):
            person_rows.appeal_replies = {a.pk: replies.get(a.pk, []) for a in person_rows.appeals}
        held = Responsibility.objects.filter(status_event__person__in=batch).select_related("authority")
        for responsibility in held.order_by("authority__name", "pk"):
            person_id = events[responsibility.status_event_id].person_id
            rows[person_id].responsibilities.setdefault(responsibility.status_event_id, []).append(responsibility)
        relations = Relation.objects.filter(Q(person__in=batch) | Q(other__in=batch)).select_related("person", "other")
        relation_citations: dict[int, list[Citation]] = {}
        for citation in Citation.objects.filter(relation__in=relations).select_related("source").order_by("pk"):
            relation_citations.setdefault(citation.relation_id, []).append(citation)
            cited_sources.append(citation.source)
        others: dict[int, set[int]] = {}
        for relation in relations.order_by("pk"):
            for side, other in ((relation.person_id, relation.other_id), (relation.other_id, relation.person_id)):
                if side in by_pk:
                    rows[side].relations.append(relation)
                    rows[side].relation_citations[relation.pk] = relation_citations.get(relation.pk, [])
                    others.setdefault(side, set()).add(other)
        latest = Capture.objects.latest_complete({source.pk for source in cited_sources})
        for source in cited_sources:
            source.latest_capture = latest.get(source.pk)  # type: ignore[attr-defined]  # read by source_line
        site = on_public_site({pk for pks in others.values() for pk in pks})
        for side, other_ids in others.items():
            rows[side].on_public_site = {pk: site[pk] for pk in other_ids if pk in site}
    return rows


def build_record(person: Person, *, number: int, published_at: datetime.datetime, identity_policy: bool = True) -> dict:
    """The public record of ``person`` as it is in the database now (see :func:`record_from`)."""
    return case_rows([person])[person.pk].record(
        person, number=number, published_at=published_at, identity_policy=identity_policy
    )


def record_from(
    person: Person,
    *,
    variants: Iterable,
    categories: Iterable,
    person_citations: Iterable[Citation],
    events: Iterable,
    event_citations: dict[int, list[Citation]],
    number: int,
    published_at: datetime.datetime,
    identity_policy: bool = True,
    appeals: Iterable[Appeal] = (),
    appeal_replies: dict[int, list[AppealReply]] | None = None,
    responsibilities: dict[int, list[Responsibility]] | None = None,
    relations: Iterable[Relation] = (),
    relation_citations: dict[int, list[Citation]] | None = None,
    on_public_site: dict[int, PublicName] | None = None,
) -> dict:
    """The public record of ``person`` from its related records already in memory.

    ``events`` in timeline order; ``event_citations`` maps an event's id to its
    citations (with their sources). Only public facts are copied: public name
    variants, public events that are not withdrawn, citations that are not
    withdrawn of sources that are public, and of the public appeals
    (:meth:`advocacy.models.Appeal.is_public_line`) a line made of their
    vocabulary and dates, never their texts or references; of an event's
    facility and the authorities believed responsible, only public ones
    (:attr:`cases.places.PlaceRecord.is_public_place`), by name and kind; the
    relations :func:`relation_is_public` allows, with the other case's public
    name; then the identity policy applies (``identity_policy=False`` only
    to find what it would take out).
    """
    variants = list(variants)
    citations = [citation for citation in person_citations if citation.is_public_evidence]
    person_citation_ids = [citation.pk for citation in citations]
    event_records = []
    for event in events:
        if not event.is_public_claim:
            continue
        cited = [citation for citation in event_citations.get(event.pk, []) if citation.is_public_evidence]
        citations.extend(cited)
        event_records.append(
            {
                "id": event.pk,
                "status": event.status,
                "date": _date(event.date),
                **{
                    field: getattr(event, field)
                    for field in (*in_every_language("place"), *in_every_language("description"))
                },
                "facility": place_line(event.facility),
                "responsible": [
                    {**line, "confidence": held.confidence}
                    for held in (responsibilities or {}).get(event.pk, [])
                    if (line := place_line(held.authority)) is not None
                ],
                "confidence": event.confidence,
                "citations": [citation.pk for citation in cited],
            }
        )
    on_site = {**(on_public_site or {})}
    relation_records = []
    for relation in relations:
        if not relation_is_public(relation, {person.pk, *on_site}):
            continue
        kind, other = relation.seen_from(person.pk)
        cited = [c for c in (relation_citations or {}).get(relation.pk, []) if c.is_public_evidence]
        citations.extend(cited)
        relation_records.append(
            {
                "id": relation.pk,
                "kind": kind,
                "case_id": on_site[other.pk].case_id,
                "name": on_site[other.pk].name,
                "name_native": on_site[other.pk].name_native,
                "confidence": relation.confidence,
                "citations": [citation.pk for citation in cited],
            }
        )
    sources: dict[int, Source] = {citation.source_id: citation.source for citation in citations}
    record = {
        "case_id": person.case_id,
        "version": number,
        "published_at": published_at.isoformat(),
        "name": person.display_name,
        "name_native": person.name_native,
        "romanized": names.romanizations(person.family_name_native, person.given_name_native),
        "other_names": [{"id": variant.pk, "name": variant.name} for variant in variants if variant.is_public],
        "pseudonymous": False,
        "synthetic": person.is_synthetic,
        "sex": person.sex,
        "birth_date": _date(person.birth_date),
        "nationality": str(person.nationality or ""),
        "categories": [
            {"slug": c.slug, **{field: getattr(c, field) for field in in_every_language("name")}} for c in categories
        ],
        **{field: getattr(person, field) for field in in_every_language("summary")},
        **{
            f"summary_{language}_is_translation": getattr(person, f"summary_{language}_is_translation")
            for language in TEXT_LANGUAGES
        },
        "events": event_records,
        "relations": relation_records,
        "appeals": [
            appeal_line(appeal, (appeal_replies or {}).get(appeal.pk, []))
            for appeal in sorted(appeals, key=lambda appeal: appeal.chronology)
            if appeal.is_public_line
        ],
        "person_citations": person_citation_ids,
        "citations": [
            {"id": c.pk, "source": c.source_id, "locator": c.locator, "excerpt": c.excerpt} for c in citations
        ],
        "sources": [source_line(source) for source in sources.values()],
    }
    record = _only_what_is_cited(record)
    if identity_policy:
        record = _apply_identity_policy(record, person, person.all_names(variants))
    return _with_status(record)


def source_line(source: Source) -> dict:
    """What the public may see of a public source: its description and addresses, never its notes or its copy.

    With the latest capture of its page (``archive``), when one came back whole: when it was captured and the
    SHA-256 of the copy and of the WARC file, so that a reader can ask for the copy and check it; never the copy.
    """
    capture = getattr(source, "latest_capture", None)
    return {
        "id": source.pk,
        "title": source.title,
        "kind": source.kind,
        "publisher": source.publisher,
        "published_on": _date(source.published_on),
        "url": source.url,
        "archived_url": source.archived_url,
        "language": source.language,
        "capture": None
        if capture is None
        else {
            "id": capture.pk,
            "captured_at": capture.captured_at.astimezone(datetime.UTC).isoformat(timespec="seconds"),
            "sha256": capture.body_sha256,
            "warc_sha256": capture.warc_sha256,
        },
    }


def capture_columns(capture: dict | None) -> dict:
    """A source line's capture as the columns of its index row (``PublishedSource``)."""
    if not capture:
        return {"capture_id": None, "captured_at": None, "capture_sha256": "", "capture_warc_sha256": ""}
    return {
        "capture_id": capture["id"],
        "captured_at": datetime.datetime.fromisoformat(capture["captured_at"]),
        "capture_sha256": capture["sha256"],
        "capture_warc_sha256": capture["warc_sha256"],
    }


def place_line(place: Facility | Authority | None) -> dict | None:
    """A public facility or authority as a case's record names it: its id, names and (a facility) kind.

    ``None`` for none, or one that is not public.
    """
    if place is None or not place.is_public_place:
        return None
    line = {"id": place.pk, **{field: getattr(place, field) for field in in_every_language("name")}}
    if isinstance(place, Facility):
        line["kind"] = place.kind
    return line


def appeal_line(appeal: Appeal, replies: Iterable[AppealReply]) -> dict:
    """What the public may see of a public appeal: to whom, what kind, when, and whether it was answered.

    "Raised with the UN Working Group on Enforced or Involuntary
    Disappearances (2016); government reply: none". Vocabulary and dates
    only: what was asked, the references, the documents and what the
    replies say stay inside.
    """
    return {
        "id": appeal.pk,
        "kind": appeal.kind,
        "addressee": appeal.addressee,
        "country": str(appeal.country or ""),
        "sent_on": _date(appeal.sent_on),
        "state": appeal.state,
        "outcome": appeal.outcome,
        "closed_on": _date(appeal.closed_on),
        "replies": [
            {"id": reply.pk, "received_on": _date(reply.received_on)} for reply in replies if not reply.withdrawn
        ],
    }


def _only_what_is_cited(record: dict) -> dict:
    """Events and relations a public source in the record backs, citations of the claims it holds, and their sources.

    A citation of an event that has left the record (made non-public,
    withdrawn) would otherwise keep its locator, its excerpt and its source
    on the public side. And an event whose every public source has been
    restricted or withdrawn leaves the record too, until an editor acts: a
    public page promises that every fact on it is backed by the sources
    listed with it (publication requires it, and a redaction keeps it).
    """
    present = {citation["id"] for citation in record["citations"]}
    events = [{**event, "citations": [pk for pk in event["citations"] if pk in present]} for event in record["events"]]
    events = [event for event in events if event["citations"]]
    relations = [
        {**relation, "citations": [pk for pk in relation["citations"] if pk in present]}
        for relation in record.get("relations", [])
    ]
    relations = [relation for relation in relations if relation["citations"]]
    person_citations = [pk for pk in record["person_citations"] if pk in present]
    claimed = {
        *person_citations,
        *(pk for event in events for pk in event["citations"]),
        *(pk for relation in relations for pk in relation["citations"]),
    }
    citations = [citation for citation in record["citations"] if citation["id"] in claimed]
    cited_sources = {citation["source"] for citation in citations}
    # A version published before relations has no such key: adding an empty list would count as a change.
    with_relations = {"relations": relations} if "relations" in record else {}
    return {
        **record,
        **with_relations,
        "citations": citations,
        "person_citations": person_citations,
        "events": events,
        "sources": [source for source in record["sources"] if source["id"] in cited_sources],
    }


def _with_status(record: dict) -> dict:
    """Set the public status from the public events the record holds, and from nothing else."""
    timeline = [
        SimpleNamespace(status=event["status"], date=PartialDate.parse(event["date"], allow_future=True))
        for event in record["events"]
    ]
    status, since, last_confirmed = derive_status(timeline)
    record.update(status=status, status_since=_date(since), last_confirmed=_date(last_confirmed))
    return record


def _record_names(record: dict) -> list[str]:
    """The names a record shows before the identity policy replaces them (a pseudonym is no name to hide)."""
    if record.get("pseudonymous"):
        return []
    return [record["name"], record["name_native"], *record["romanized"], *(n["name"] for n in record["other_names"])]


def public_texts(record: dict) -> Iterator[tuple[str, str]]:
    """Every free text of a public record, each with where it stands, in words an editor can find it by."""
    for field, language in _in_languages("summary"):
        yield _("the public summary") + language, record.get(field, "")
    for event in record["events"]:
        label = Status(event["status"]).label if event["status"] in Status.values else event["status"]
        where = {"event": label, "date": event["date"] or _("date unknown")}
        for field, language in _in_languages("description"):
            yield _("the description of the event “%(event)s (%(date)s)”") % where + language, event.get(field, "")
        for field, language in _in_languages("place"):
            yield _("the place of the event “%(event)s (%(date)s)”") % where + language, event.get(field, "")
    titles = {source["id"]: source["title"] for source in record["sources"]}
    for source in record["sources"]:
        yield _("the title of the source “%(title)s”") % {"title": source["title"]}, source["title"]
        yield _("the publisher of the source “%(title)s”") % {"title": source["title"]}, source["publisher"]
        yield _("the address of the source “%(title)s”") % {"title": source["title"]}, source["url"]
        yield _("the archived address of the source “%(title)s”") % {"title": source["title"]}, source["archived_url"]
    for citation in record["citations"]:
        where = {"title": titles.get(citation["source"], ""), "locator": citation["locator"] or "—"}
        yield _("the locator of a citation of “%(title)s” (%(locator)s)") % where, citation["locator"]
        yield _("the excerpt quoted from “%(title)s” (%(locator)s)") % where, citation["excerpt"]


def _in_languages(field: str) -> Iterator[tuple[str, str]]:
    """A text field's name in each language, with the words that tell an editor which one it is."""
    yield field, ""
    for language in TEXT_LANGUAGES:
        yield f"{field}_{language}", f" ({language_name(language)})"


def naming_texts(record: dict, finder: names.NameFinder) -> list[str]:
    """Where the record's public texts name the person ``finder`` looks for."""
    return [where for where, text in public_texts(record) if finder.finds(text)]


def _apply_identity_policy(record: dict, person: Person, known_names: Iterable[str]) -> dict:
    """When the family faces reprisals, nothing public names the person.

    The pseudonym replaces the name, and the native name, romanizations,
    other names and birth date are left out. Every public text is then read
    for every name the person is known by (public or not, in any spelling):
    a summary, description, place, locator or excerpt that names them is
    emptied, and a source whose title or publisher names them leaves the
    record with its citations. Publication is refused while any text would be
    emptied (:func:`identity_problems`), so this takes effect when a case is
    flagged after publication: the editor then reviews it.
    """
    if not person.reprisal_risk:
        return record
    finder = names.NameFinder([*known_names, *_record_names(record)])
    record = {
        **record,
        "name": person.pseudonym,
        "name_native": "",
        "romanized": [],
        "other_names": [],
        "birth_date": None,
        "pseudonymous": True,
    }
    if not finder:
        return record

    def unnamed(text: str) -> str:
        return "" if finder.finds(text) else text

    sources = [
        source
        for source in record["sources"]
        if not any(finder.finds(source[key]) for key in ("title", "publisher", "url", "archived_url"))
    ]
    kept_sources = {source["id"] for source in sources}
    texts = [*in_every_language("description"), *in_every_language("place")]
    record.update(
        {field: unnamed(record.get(field, "")) for field in in_every_language("summary")},
        events=[{**event, **{field: unnamed(event.get(field, "")) for field in texts}} for event in record["events"]],
        sources=sources,
        citations=[
            {**citation, "locator": unnamed(citation["locator"]), "excerpt": unnamed(citation["excerpt"])}
            for citation in record["citations"]
            if citation["source"] in kept_sources
        ],
    )
    return _only_what_is_cited(record)


def identity_problems(person: Person, rows: CaseRows | None = None) -> list[str]:
    """Where the texts that publishing would make public name a person at reprisal risk.

    ``rows``: the case's related rows, when they are read already (:func:`case_rows`).
    """
    if not person.reprisal_risk:
        return []
    rows = rows or case_rows([person])[person.pk]
    record = rows.record(person, number=0, published_at=timezone.now(), identity_policy=False)
    return naming_texts(record, names.NameFinder([*person.all_names(rows.variants), *_record_names(record)]))


def cases_naming(person: Person) -> list[PublishedVersion]:
    """Other published cases whose public texts name ``person`` (listed for an editor when a risk is flagged).

    Versions are first narrowed in the database to those whose record holds
    a word that any spelling of the names begins with — the family name in
    any of its spellings (Kim, Gim…), or the name itself when its family name
    is not known, or the name in Korean script — then read by the name finder,
    which knows the other spellings. A common family name reads many records:
    this runs where an editor looks at a case at risk, not on a public page.
    """
    known = [name for name in person.all_names() if name]
    finder = names.NameFinder(known)
    if not finder:
        return []
    terms: set[str] = set()
    for name in known:
        family = names.split_family(name)[0]
        terms |= names.family_spellings(family) if family else {names.normalise(name)[:8] or name}
    narrowed = Q()
    for term in terms:
        # JSON on SQLite is stored with non-ASCII characters escaped.
        narrowed |= Q(record__icontains=term) | Q(record__icontains=json.dumps(term)[1:-1])
    candidates = PublishedVersion.objects.current().exclude(person=person).filter(narrowed).order_by("case_id")
    return [version for version in candidates if naming_texts(version.record, finder)]


def denormalise(version: PublishedVersion) -> None:
    """Copy the record's values that the public list filters and sorts on to the version's columns."""
    record = version.record
    dated = [PartialDate.parse(event["date"], allow_future=True) for event in record["events"] if event["date"]]
    taken = [
        PartialDate.parse(event["date"], allow_future=True)
        for event in record["events"]
        if event["date"] and event["status"] in Status.loss_of_liberty()
    ]
    since = PartialDate.parse(record["status_since"], allow_future=True) if record["status_since"] else None
    version.case_id = record["case_id"]
    version.name = record["name"]
    version.name_native = record["name_native"]
    version.status = record["status"]
    version.is_clarified = Status.is_clarified(record["status"])
    version.nationality = record["nationality"]
    version.status_since_day = since.first_day if since else None
    version.status_since = record["status_since"] or ""
    version.is_synthetic = bool(record.get("synthetic"))
    version.first_event_year = min(date.first_day for date in dated if date).year if dated else None
    version.taken_year = min(date.first_day for date in taken if date).year if taken else None
    version.latest_year = max(date.first_day for date in dated if date).year if dated else None


IndexRows = tuple[
    list[PublishedName],
    list[PublishedSource],
    list[PublishedAppeal],
    list[PublishedPlacement],
    list[PublishedAuthority],
]


def former_public_names(version: PublishedVersion) -> list[str]:
    """The public names of the case's earlier versions that are still public: a renamed case is still found
    under the name the press used. None for a pseudonymous or an unnamed record (its earlier names are not to
    lead to it), none of a withdrawn version, and none that a redaction took out of those versions (they are
    read as they are now)."""
    if version.number <= 1 or version.is_pseudonymous:
        return []
    if Person.objects.filter(pk=version.person_id, name="").exists():
        return []  # unnamed now (its record shows a descriptor): no earlier name leads to it
    earlier = PublishedVersion.objects.public().filter(person_id=version.person_id, number__lt=version.number)
    return [name for record in earlier.values_list("record", flat=True) for name in _record_names(record)]


def index_rows(version: PublishedVersion) -> IndexRows:
    """The search-, source-, appeal-, facility- and authority-index rows of a current public version, unsaved.

    Its name rows are its own public names, then those of its earlier public versions (``former_public_names``).
    """
    record = version.record
    public_names = [
        record["name"],
        record["name_native"],
        *record["romanized"],
        *(other["name"] for other in record["other_names"]),
        *former_public_names(version),
    ]
    rows, seen = [], set()
    for name in public_names:
        key = names.normalise(name)
        if key and key not in seen:
            seen.add(key)
            rows.append(
                PublishedName(
                    version=version,
                    name=name,
                    key=key,
                    folded=names.fold(name),
                    family=names.split_family(name)[0],
                )
            )
    cited = [
        PublishedSource(
            version=version,
            source_id=source["id"],
            title=source["title"],
            publisher=source["publisher"],
            kind=source["kind"],
            published_on=source["published_on"] or "",
            url=source["url"],
            archived_url=source["archived_url"],
            language=source.get("language", ""),
            **capture_columns(source.get("capture")),
        )
        for source in record["sources"]
    ]
    appeals = [
        PublishedAppeal(version=version, appeal_id=appeal["id"], kind=appeal["kind"], addressee=appeal["addressee"])
        for appeal in record.get("appeals", [])
    ]
    placements = [
        PublishedPlacement(
            version=version,
            facility_id=event["facility"]["id"],
            facility_kind=event["facility"]["kind"],
            event_id=event["id"],
            status=event["status"],
            date=event["date"] or "",
        )
        for event in record["events"]
        if event.get("facility")
    ]
    authority_ids = dict.fromkeys(held["id"] for event in record["events"] for held in event.get("responsible", []))
    authorities = [PublishedAuthority(version=version, authority_id=pk) for pk in authority_ids]
    return rows, cited, appeals, placements, authorities


def index_in_bulk(versions: list[PublishedVersion], writer: BulkWriter) -> None:
    """:func:`reindex` for many new current public versions at once, through a bulk writer (no history)."""
    categories = dict(Category.objects.values_list("slug", "pk"))
    through = PublishedVersion.categories.through
    name_rows, source_rows, appeal_rows, placement_rows, authority_rows, memberships = [], [], [], [], [], []
    for version in versions:
        version_names, version_sources, version_appeals, version_placements, version_authorities = index_rows(version)
        name_rows += version_names
        source_rows += version_sources
        appeal_rows += version_appeals
        placement_rows += version_placements
        authority_rows += version_authorities
        memberships += [
            through(publishedversion_id=version.pk, category_id=categories[category["slug"]])
            for category in version.record["categories"]
            if category["slug"] in categories
        ]
    writer.insert(PublishedName, name_rows, history=False)
    writer.insert(PublishedSource, source_rows, history=False)
    writer.insert(PublishedAppeal, appeal_rows, history=False)
    writer.insert(PublishedPlacement, placement_rows, history=False)
    writer.insert(PublishedAuthority, authority_rows, history=False)
    writer.insert(through, memberships, history=False)


def reindex(version: PublishedVersion) -> None:
    """Rebuild the search and source index of ``version``: only a current, public version has one."""
    version.names.all().delete()
    version.cited_sources.all().delete()
    version.appeals.all().delete()
    version.placements.all().delete()
    version.authorities.all().delete()
    if not version.is_current or version.withdrawn_at is not None:
        version.categories.clear()
        return
    record = version.record
    version.categories.set(Category.objects.filter(slug__in=[c["slug"] for c in record["categories"]]))
    name_rows, source_rows, appeal_rows, placement_rows, authority_rows = index_rows(version)
    PublishedName.objects.bulk_create(name_rows)
    PublishedSource.objects.bulk_create(source_rows)
    PublishedAppeal.objects.bulk_create(appeal_rows)
    PublishedPlacement.objects.bulk_create(placement_rows)
    PublishedAuthority.objects.bulk_create(authority_rows)


def redact(
    record: dict,
    person: Person,
    *,
    event_ids: set,
    variant_ids: set,
    citation_ids: set,
    known_names: Iterable[str],
    appeal_ids: set | None = None,
    reply_ids: set | None = None,
    relations: dict[int, PublicName] | None = None,
    places: dict[tuple, dict] | None = None,
) -> dict:
    """``record`` without what is no longer public; never adds anything.

    What stays is said as it is said now: ``places`` holds each event's
    public facility and public authorities believed responsible, keyed
    ``("facility", event pk, facility pk)`` and ``("authority", event pk,
    authority pk)``, each with its line as a record gives it now (a facility
    renamed, a confidence lowered); ``relations`` the public relations by
    pk, each with the other case as its current public record names it (a
    family that asked for the name to go has it gone from the cases related
    to it too).
    """
    places, relations = places or {}, relations or {}

    def facility(event: dict) -> dict | None:
        line = event["facility"]
        return None if line is None else places.get(("facility", event["id"], line["id"]))

    events = [
        {
            **event,
            **({"facility": facility(event)} if "facility" in event else {}),
            **(
                {
                    "responsible": [
                        places[key]
                        for held in event["responsible"]
                        if (key := ("authority", event["id"], held["id"])) in places
                    ]
                }
                if "responsible" in event
                else {}
            ),
        }
        for event in record["events"]
        if event["id"] in event_ids
    ]
    redacted = {
        **record,
        "other_names": [name for name in record["other_names"] if name["id"] in variant_ids],
        "citations": [c for c in record["citations"] if c["id"] in citation_ids],
        "events": events,
    }
    if "relations" in record:
        redacted["relations"] = [
            {
                **relation,
                "name": relations[relation["id"]].name,
                "name_native": relations[relation["id"]].name_native,
            }
            for relation in record["relations"]
            if relation["id"] in relations
        ]
    # A version published before appeals has no such key: adding an empty list would count as a change.
    if "appeals" in record:
        redacted["appeals"] = [
            {**appeal, "replies": [reply for reply in appeal["replies"] if reply["id"] in (reply_ids or set())]}
            for appeal in record["appeals"]
            if appeal["id"] in (appeal_ids or set())
        ]
    redacted = _apply_identity_policy(_only_what_is_cited(redacted), person, known_names)
    return _with_status(redacted)


@transaction.atomic
def redact_published_versions(person_ids: Iterable[int], *, by: User | None, reason: str) -> int:
    """Rebuild every published version of these persons without what has become restricted.

    Called whenever a source is restricted or withdrawn, a citation
    withdrawn, an event or a name variant made non-public, a reprisal risk
    flagged, a facility or an authority made non-public (or changed: a
    record says it as it is now), a relation made non-public or one of its
    cases taken off the public site or published again (its name as its
    current record gives it), so the change takes effect on the public
    record at once, in every version. Returns how many versions changed.
    """
    versions = list(
        PublishedVersion.objects.filter(person_id__in=set(person_ids)).select_related("person").order_by("pk")
    )
    changed, redacted = 0, set()
    for person_id in {version.person_id for version in versions}:
        person = next(version.person for version in versions if version.person_id == person_id)
        relations = list(Relation.objects.of(person).select_related("person", "other"))
        places: dict[tuple, dict] = {}
        for event in person.status_events.filter(facility__in=Facility.objects.public()).select_related("facility"):
            places[("facility", event.pk, event.facility_id)] = place_line(event.facility) or {}
        held_by_public_authorities = Responsibility.objects.filter(
            status_event__person=person, authority__in=Authority.objects.public()
        ).select_related("authority")
        for held in held_by_public_authorities:
            key = ("authority", held.status_event_id, held.authority_id)
            places[key] = {**(place_line(held.authority) or {}), "confidence": held.confidence}
        site = on_public_site({pk for relation in relations for pk in (relation.person_id, relation.other_id)})
        # The person's citations and its events' citations, each through its own index (an OR across
        # the join to the events would read every citation).
        event_ids = list(person.status_events.values_list("pk", flat=True))
        allowed: dict[str, Any] = {
            "event_ids": set(person.status_events.public().values_list("pk", flat=True)),
            "variant_ids": set(person.variants.public().values_list("pk", flat=True)),
            "citation_ids": set(
                Citation.objects.filter(Q(person=person) | Q(status_event_id__in=event_ids))
                .public()
                .values_list("pk", flat=True)
            )
            | set(Citation.objects.filter(relation__in=relations).public().values_list("pk", flat=True)),
            "relations": {
                relation.pk: site[relation.seen_from(person.pk)[1].pk]
                for relation in relations
                if relation_is_public(relation, site)
            },
            "places": places,
            "known_names": person.all_names() if person.reprisal_risk else [],
            "appeal_ids": set(person.appeals.public().values_list("pk", flat=True)),
            "reply_ids": set(AppealReply.objects.active().filter(appeal__persons=person).values_list("pk", flat=True)),
        }
        for version in (v for v in versions if v.person_id == person_id):
            record = redact(version.record, person, **allowed)
            if record != version.record:
                version.record = record
                version.changed_at = timezone.now()
                denormalise(version)
                save_with_history(version, by=by, reason=reason)
                changed += 1
                redacted.add(person_id)
        # Once every version is saved: the current version's index holds the earlier versions' names too
        # (former_public_names), so a name taken out of an earlier version only leaves the index with it.
        if person_id in redacted:
            for version in (v for v in versions if v.person_id == person_id and v.is_current):
                reindex(version)
    # The data releases that hold these records as they were are withdrawn with them.
    DataRelease.withdraw_containing(redacted)
    return changed

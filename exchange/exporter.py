"""Exporting cases in the exchange format: the import's columns, so that an export imports back unchanged.

:func:`person_rows` reads the working records, for staff; restricted values
(internal notes, restricted sources) only when the reader may see them.
:func:`public_rows` reads nothing but the current published versions'
records, the same records the public site shows, so a public export cannot
say more than the site does. Both give one dict a person, keyed by
:data:`exchange.csv_format.COLUMNS`; :func:`csv_chunks` and
:func:`json_chunks` turn them into text, a row at a time, so that memory does
not grow with the number of cases.

The JSON (:func:`json_export`) is an object: the ``authorities`` and
``facilities`` (for staff :mod:`exchange.facilities`' entries, by name; in a
public export the public site's own records, ``workflow.places``), then the
``cases``, each adding what a spreadsheet row cannot hold. Under
``appeals``: from :func:`person_rows` with ``with_appeals``, every appeal
made for the person, every field with its replies (with restricted values
only when the reader may see them, else the public line of each public
appeal); from :func:`public_rows`, the published record's own list of
appeals, and so only their public line (``workflow.snapshots.appeal_line``).
Under ``events``, every event with its facility and authorities by name
(from a public record, its public events and their public places); under
``relations``, the case's relations by case ID. The CSV has none of these
but the latest event's facility and authorities; the import reads no
appeal or relation.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import models

from advocacy.models import Appeal, AppealReply
from cases.models import TIMELINE_ORDER, Authority, Facility, NameVariant, Person, Responsibility, StatusEvent
from cases.spreadsheet import csv_lines
from sources.models import Citation
from workflow.models import PublishedVersion
from workflow.places import public_authorities, public_facilities
from workflow.snapshots import appeal_line

from .csv_format import COLUMNS, SEPARATOR, join_native_name, responsible_cell
from .facilities import authority_entries, facility_entries, relations_of

CHUNK_SIZE = 1000


def _text(value) -> str:
    return "" if value is None else str(value)


def _row(*, event: dict | None = None, source: dict | None = None, **cells) -> dict:
    """One export row: ``cells`` by column, the status columns from ``event`` (its status, date,
    place, confidence, facility by name, authorities believed responsible) and the source columns
    from ``source`` (title, url, publisher, published_on, locator); every column not given is blank."""
    row = dict.fromkeys(COLUMNS, "")
    if event:
        row |= {
            "status": event["status"],
            "status_date": _text(event["date"]),
            "status_place": event["place"],
            "status_confidence": event["confidence"],
            "status_facility": event.get("facility") or "",
            "status_responsible": responsible_cell(
                (held["authority"], held["confidence"]) for held in event.get("responsible", [])
            ),
        }
    if source:
        row |= {
            "source_title": source["title"],
            "source_url": source["url"],
            "source_publisher": source["publisher"],
            "source_date": _text(source["published_on"]),
            "source_locator": source["locator"],
        }
    return row | cells


PERSON_FIELDS = (
    "pk",
    "case_id",
    "external_ref",
    "name",
    "family_name_native",
    "given_name_native",
    "descriptor",
    "sex",
    "birth_date",
    "nationality",
    "religion",
    "summary",
    "internal_notes",
)


def person_rows(*, include_restricted: bool, with_appeals: bool = False) -> Iterator[dict]:
    """Every person's row from the working records, in case ID order.

    The status columns describe the latest event (the one the current status
    comes from), the source columns its first citation; for a person without
    events, the first citation of the person. With ``with_appeals`` (the
    JSON), each row also has the person's ``appeals`` (:func:`appeals_of`),
    ``events`` (every active event, with its facility and the authorities
    believed responsible) and ``relations``
    (:func:`exchange.facilities.relations_of`). Read a thousand persons at a
    time, with a fixed number of queries each.
    """
    places = _place_names(include_restricted=include_restricted)
    last = ""
    while True:
        persons = list(Person.objects.filter(case_id__gt=last).order_by("case_id").values(*PERSON_FIELDS)[:CHUNK_SIZE])
        if not persons:
            return
        rows = _rows(persons, include_restricted=include_restricted, places=places, every_event=with_appeals)
        if with_appeals:
            appeals = appeals_of([person["pk"] for person in persons], include_restricted=include_restricted)
            relations = relations_of(persons, include_restricted=include_restricted)
            rows = (
                row | {"appeals": appeals[person["pk"]], "relations": relations[person["pk"]]}
                for row, person in zip(rows, persons, strict=True)
            )
        yield from rows
        last = persons[-1]["case_id"]


def _place_names(*, include_restricted: bool) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the facilities and of the authorities, by pk: every one for staff, else the public ones."""
    facilities = Facility.objects.all() if include_restricted else Facility.objects.public()
    authorities = Authority.objects.all() if include_restricted else Authority.objects.public()
    return dict(facilities.values_list("pk", "name")), dict(authorities.values_list("pk", "name"))


def appeals_of(person_ids: list[int], *, include_restricted: bool) -> dict[int, list[dict]]:
    """Each person's appeals, in the order they were recorded, in five queries.

    For staff (``include_restricted``) every appeal, withdrawn ones too, with
    every field (:func:`_fields`), the case IDs of all the persons it
    concerns, its documents' source IDs and every reply with its fields and
    the status events drawn from it. Otherwise only the public line of each
    public appeal, as a publication would build it.
    """
    through = Appeal.persons.through
    concerned = through.objects.filter(person__in=person_ids).select_related("appeal").order_by("appeal_id")
    by_person: dict[int, list[Appeal]] = defaultdict(list)
    for row in concerned:
        by_person[row.person_id].append(row.appeal)
    appeal_ids = sorted({appeal.pk for appeals in by_person.values() for appeal in appeals})
    replies: dict[int, list[AppealReply]] = defaultdict(list)
    for reply in AppealReply.objects.filter(appeal__in=appeal_ids).order_by("pk"):
        replies[reply.appeal_id].append(reply)
    if not include_restricted:
        return {
            pk: [appeal_line(appeal, replies[appeal.pk]) for appeal in by_person[pk] if appeal.is_public_line]
            for pk in person_ids
        }
    case_ids, documents, drawn = defaultdict(list), defaultdict(list), defaultdict(list)
    everyone = through.objects.filter(appeal__in=appeal_ids).order_by("person__case_id")
    for appeal_id, case_id in everyone.values_list("appeal_id", "person__case_id"):
        case_ids[appeal_id].append(case_id)
    attached = Appeal.documents.through.objects.filter(appeal__in=appeal_ids).order_by("source_id")
    for appeal_id, source_id in attached.values_list("appeal_id", "source_id"):
        documents[appeal_id].append(source_id)
    events = AppealReply.status_events.through.objects.filter(appealreply__appeal__in=appeal_ids)
    for reply_id, event_id in events.order_by("statusevent_id").values_list("appealreply_id", "statusevent_id"):
        drawn[reply_id].append(event_id)
    return {
        pk: [
            _fields(appeal)
            | {
                "persons": case_ids[appeal.pk],
                "documents": documents[appeal.pk],
                "replies": [_fields(reply) | {"status_events": drawn[reply.pk]} for reply in replies[appeal.pk]],
            }
            for appeal in by_person[pk]
        ]
        for pk in person_ids
    }


def _fields(instance: models.Model) -> dict:
    """Every column of ``instance``, by field name, as JSON: a foreign key as its ID, a partial date as
    typed ("2014-10~"), dates and times in ISO 8601, a country as its code, unknown as null."""
    return {field.name: _json_value(field.value_from_object(instance)) for field in instance._meta.concrete_fields}


def _json_value(value):
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime.date):  # and datetime.datetime
        return value.isoformat()
    return str(value)


def _rows(
    persons: list[dict], *, include_restricted: bool, places: tuple[dict, dict], every_event: bool = False
) -> Iterator[dict]:
    facility_names, authority_names = places
    ids = [person["pk"] for person in persons]
    other_names, categories, timelines = defaultdict(list), defaultdict(list), defaultdict(list)
    variants = NameVariant.objects.filter(person__in=ids).order_by("person_id", "name")
    for person_id, name in variants.values_list("person_id", "name"):
        other_names[person_id].append(name)
    memberships = Person.categories.through.objects.filter(person__in=ids).order_by("category__name")
    for person_id, slug in memberships.values_list("person_id", "category__slug"):
        categories[person_id].append(slug)
    events = StatusEvent.objects.active().filter(person__in=ids).order_by("person_id", *TIMELINE_ORDER)
    for event in events.values("pk", "person_id", "status", "date", "place", "confidence", "is_public", "facility_id"):
        event["facility"] = facility_names.get(event.pop("facility_id"))
        event["responsible"] = []
        timelines[event["person_id"]].append(event)
    latest = {person_id: timeline[-1] for person_id, timeline in timelines.items()}  # the last in timeline order
    described = [event for timeline in timelines.values() for event in timeline] if every_event else latest.values()
    by_pk = {event["pk"]: event for event in described}
    held = Responsibility.objects.filter(status_event__in=list(by_pk)).order_by("authority__name", "pk")
    for event_id, authority_id, confidence in held.values_list("status_event_id", "authority_id", "confidence"):
        if authority_id in authority_names:
            by_pk[event_id]["responsible"].append(
                {"authority": authority_names[authority_id], "confidence": confidence}
            )
    # Staff read every active citation of a source not withdrawn; others what the public may see.
    citations = (
        Citation.objects.active().filter(source__withdrawn=False) if include_restricted else Citation.objects.public()
    )
    citations = citations.order_by("pk")
    columns = ("locator", "source__title", "source__url", "source__publisher", "source__published_on")
    cited: dict[tuple[str, int], dict] = {}  # ("event" or "person", pk) → its first citation
    for citation in citations.filter(status_event__in=[event["pk"] for event in latest.values()]).values(
        "status_event_id", *columns
    ):
        cited.setdefault(("event", citation["status_event_id"]), citation)
    without_events = [pk for pk in ids if pk not in latest]
    for citation in citations.filter(person__in=without_events).values("person_id", *columns):
        cited.setdefault(("person", citation["person_id"]), citation)

    for person in persons:
        pk = person["pk"]
        last_event = latest.get(pk)
        first_citation = cited.get(("event", last_event["pk"]) if last_event else ("person", pk))
        row = _row(
            case_id=person["case_id"],
            external_ref=person["external_ref"],
            name=person["name"],
            name_native=join_native_name(person["family_name_native"], person["given_name_native"]),
            other_names=other_names[pk],
            descriptor=person["descriptor"],
            sex=person["sex"],
            birth_date=_text(person["birth_date"]),
            nationality=person["nationality"] or "",
            categories=categories[pk],
            religion=person["religion"],
            summary=person["summary"],
            internal_notes=person["internal_notes"] if include_restricted else "",
            event=last_event,
            source=first_citation
            and {
                "title": first_citation["source__title"],
                "url": first_citation["source__url"],
                "publisher": first_citation["source__publisher"],
                "published_on": first_citation["source__published_on"],
                "locator": first_citation["locator"],
            },
        )
        if every_event:
            row["events"] = [_event_entry(event, with_public_flag=True) for event in timelines[pk]]
        yield row


def _event_entry(event: dict, *, with_public_flag: bool = False) -> dict:
    """An event in the JSON: status, partial date as typed, place, confidence, facility by name, and the
    authorities believed responsible by name, each with its confidence."""
    return {
        "status": event["status"],
        "date": _text(event["date"]),
        "place": event["place"],
        "confidence": event["confidence"],
        **({"is_public": event["is_public"]} if with_public_flag else {}),
        "facility": event["facility"],
        "responsible": event["responsible"],
    }


def public_rows() -> Iterator[dict]:
    """Every published case's row, from its current public record and nothing else.

    What the record does not hold stays blank: the external reference, the
    descriptor (the record's name is the name, else the descriptor, or the
    pseudonym when the family faces reprisals), religion and internal notes.
    ``appeals`` is the record's list of public appeal lines, ``events`` its
    public events (each with its public facility and public authorities, by
    name) and ``relations`` its public relations (read by the JSON only).
    """
    versions = PublishedVersion.objects.current().order_by("case_id").only("record")
    for version in versions.iterator(chunk_size=CHUNK_SIZE):
        record = version.record
        events = [_public_event(event) for event in record["events"]]
        latest = record["events"][-1] if record["events"] else None
        cited = latest["citations"] if latest else record["person_citations"]
        citation = next((c for c in record["citations"] if cited and c["id"] == cited[0]), None)
        source = next((s for s in record["sources"] if citation and s["id"] == citation["source"]), None)
        yield _row(
            case_id=record["case_id"],
            name=record["name"],
            name_native=record["name_native"],
            other_names=[other["name"] for other in record["other_names"]],
            sex=record["sex"],
            birth_date=_text(record["birth_date"]),
            nationality=record["nationality"],
            categories=[category["slug"] for category in record["categories"]],
            summary=record["summary"],
            status=record["status"],
            event=events[-1] if events else None,
            source=source and {**source, "locator": citation["locator"] if citation else ""},
            # Each public appeal's line, as the record holds it: nothing else of an appeal is ever published.
            appeals=record.get("appeals", []),
            events=[_event_entry(event) for event in events],
            # Read "person is the kind of other": the record says what the other case is to this one.
            relations=[
                {
                    "person": relation["case_id"],
                    "kind": relation["kind"],
                    "other": record["case_id"],
                    "confidence": relation["confidence"],
                }
                for relation in record.get("relations", [])
            ],
        )


def _public_event(event: dict) -> dict:
    """A public record's event with its facility and authorities by name, as the export writes them.

    A version published before facilities has neither key: it names none.
    """
    facility = event.get("facility")
    return {
        **event,
        "facility": facility["name"] if facility else None,
        "responsible": [
            {"authority": held["name"], "confidence": held["confidence"]} for held in event.get("responsible", [])
        ],
    }


def csv_chunks(rows: Iterable[dict]) -> Iterator[str]:
    """The CSV text, a line at a time (``cases.spreadsheet.csv_lines``): lists joined with ``;``."""
    return csv_lines(
        COLUMNS,
        (
            (f"{SEPARATOR} ".join(value) if isinstance(value, list) else value for value in (row[c] for c in COLUMNS))
            for row in rows
        ),
    )


def json_chunks(rows: Iterable[dict], *, authorities: list[dict], facilities: list[dict]) -> Iterator[str]:
    """A JSON object: ``authorities`` and ``facilities``, then ``cases``, a list of objects with the CSV's keys
    (other_names and categories as lists) and what the rows add (appeals, events, relations), one a line."""
    yield "{\n"
    yield '"authorities": ' + json.dumps(authorities, ensure_ascii=False) + ",\n"
    yield '"facilities": ' + json.dumps(facilities, ensure_ascii=False) + ",\n"
    yield '"cases": ['
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n}\n"


def json_export(*, public_only: bool) -> Iterator[str]:
    """The JSON export: for staff every record (restricted values included); with ``public_only`` the public
    site's records only (``workflow.places`` for facilities and authorities, the published versions for cases)."""
    if public_only:
        return json_chunks(
            public_rows(), authorities=list(public_authorities().values()), facilities=public_facilities()
        )
    return json_chunks(
        person_rows(include_restricted=True, with_appeals=True),
        authorities=authority_entries(),
        facilities=facility_entries(),
    )

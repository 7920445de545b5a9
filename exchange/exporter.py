"""Exporting cases in the exchange format: the import's columns, so that an export imports back unchanged.

:func:`person_rows` reads the working records, for staff; restricted values
(internal notes, restricted sources) only when the reader may see them.
:func:`public_rows` reads nothing but the current published versions'
records, the same records the public site shows, so a public export cannot
say more than the site does. Both give one dict a person, keyed by
:data:`exchange.csv_format.COLUMNS`; :func:`csv_chunks` and
:func:`json_chunks` turn them into text, a row at a time, so that memory does
not grow with the number of cases.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import Prefetch

from cases.models import TIMELINE_ORDER, NameVariant, Person, StatusEvent
from sources.models import Citation
from workflow.models import PublishedVersion

from .csv_format import COLUMNS, SEPARATOR, join_native_name, neutralise

CHUNK_SIZE = 1000


def _text(value) -> str:
    return "" if value is None else str(value)


def _citations(*, include_restricted: bool):
    citations = Citation.objects.active().filter(source__withdrawn=False).select_related("source").order_by("pk")
    return citations if include_restricted else citations.filter(source__is_restricted=False)


def person_rows(*, include_restricted: bool) -> Iterator[dict]:
    """Every person's row from the working records.

    The status columns describe the latest event (the one the current status
    comes from), the source columns its first citation; for a person without
    events, the first citation of the person.
    """
    citations = _citations(include_restricted=include_restricted)
    timeline = (
        StatusEvent.objects.active()
        .order_by(*TIMELINE_ORDER)
        .prefetch_related(Prefetch("citations", queryset=citations, to_attr="cited"))
    )
    persons = Person.objects.order_by("case_id").prefetch_related(
        Prefetch("variants", queryset=NameVariant.objects.order_by("name"), to_attr="other_names"),
        "categories",
        Prefetch("status_events", queryset=timeline, to_attr="timeline"),
        Prefetch("citations", queryset=citations, to_attr="cited"),
    )
    for person in persons.iterator(chunk_size=CHUNK_SIZE):
        latest = person.timeline[-1] if person.timeline else None
        cited = latest.cited if latest else person.cited
        citation = cited[0] if cited else None
        source = citation.source if citation else None
        yield {
            "case_id": person.case_id,
            "external_ref": person.external_ref,
            "name": person.name,
            "name_native": join_native_name(person.family_name_native, person.given_name_native),
            "other_names": [variant.name for variant in person.other_names],
            "descriptor": person.descriptor,
            "sex": person.sex,
            "birth_date": _text(person.birth_date),
            "nationality": person.nationality.code or "",
            "categories": [category.name for category in person.categories.all()],
            "religion": person.religion,
            "summary": person.summary,
            "internal_notes": person.internal_notes if include_restricted else "",
            "status": latest.status if latest else "",
            "status_date": _text(latest.date) if latest else "",
            "status_place": latest.place if latest else "",
            "status_confidence": latest.confidence if latest else "",
            "source_title": source.title if source else "",
            "source_url": source.url if source else "",
            "source_publisher": source.publisher if source else "",
            "source_date": _text(source.published_on) if source else "",
            "source_locator": citation.locator if citation else "",
        }


def public_rows() -> Iterator[dict]:
    """Every published case's row, from its current public record and nothing else.

    What the record does not hold stays blank: the external reference, the
    descriptor (the record's name is the name, else the descriptor, or the
    pseudonym when the family faces reprisals), religion and internal notes.
    """
    versions = PublishedVersion.objects.current().order_by("case_id").only("record")
    for version in versions.iterator(chunk_size=CHUNK_SIZE):
        record = version.record
        latest = record["events"][-1] if record["events"] else None
        cited = latest["citations"] if latest else record["person_citations"]
        citation = next((c for c in record["citations"] if cited and c["id"] == cited[0]), None)
        source = next((s for s in record["sources"] if citation and s["id"] == citation["source"]), None)
        yield {
            "case_id": record["case_id"],
            "external_ref": "",
            "name": record["name"],
            "name_native": record["name_native"],
            "other_names": [other["name"] for other in record["other_names"]],
            "descriptor": "",
            "sex": record["sex"],
            "birth_date": _text(record["birth_date"]),
            "nationality": record["nationality"],
            "categories": [category["name"] for category in record["categories"]],
            "religion": "",
            "summary": record["summary"],
            "internal_notes": "",
            "status": record["status"],
            "status_date": _text(latest["date"]) if latest else "",
            "status_place": latest["place"] if latest else "",
            "status_confidence": latest["confidence"] if latest else "",
            "source_title": source["title"] if source else "",
            "source_url": source["url"] if source else "",
            "source_publisher": source["publisher"] if source else "",
            "source_date": _text(source["published_on"]) if source else "",
            "source_locator": citation["locator"] if citation else "",
        }


class _Line:
    def write(self, text: str) -> str:
        return text


def csv_chunks(rows: Iterable[dict]) -> Iterator[str]:
    """The CSV text: a byte-order mark (so Excel reads UTF-8), the header, then a line a row.

    Lists are joined with ``;``; a cell that a spreadsheet would run as a
    formula gets a leading ``'``, which the importer takes away again.
    """
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow(
            neutralise(f"{SEPARATOR} ".join(value) if isinstance(value, list) else value)
            for value in (row[column] for column in COLUMNS)
        )


def json_chunks(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON list of objects with the CSV's keys; other_names and categories are lists."""
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"

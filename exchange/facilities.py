"""Facilities, authorities and relations between persons in the exchange JSON, for staff.

The staff export (``export_cases --format json``) carries every facility and
authority, each naming the others by name (an authority its parent, a
facility its operating authority), so that ``import_facilities`` can load
them into another database where the primary keys differ; and each case's
relations, naming both persons by case ID. A public export carries none of
this: it takes the public site's records (``workflow.places``, the published
versions), see :mod:`exchange.exporter`. :func:`import_facilities` loads the
authorities and facilities of such a file (``workflow.place_loading``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from cases.models import Authority, Facility, FacilityName, Relation
from cases.partial_dates import PartialDate
from cases.vocabularies import in_every_language
from sources.models import Citation, Reliability, Source, SourceKind
from workflow.place_loading import LoadedPlaces, load_places
from workflow.snapshots import on_public_site, relation_is_public

__all__ = ["authority_entries", "facility_entries", "import_facilities", "relations_of"]

# The reason every history row of an import_facilities names.
REASON = "Imported facilities and authorities (import_facilities)"


def _withdrawal(record) -> dict:
    return {"withdrawn": record.withdrawn, "withdrawn_reason": record.withdrawn_reason}


def _citations(citations: Iterable[Citation], *, include_restricted: bool) -> list[dict]:
    """A record's citations, each with its source described well enough to be found, or added, elsewhere."""
    return [
        {
            "source": {
                "title": citation.source.title,
                "url": citation.source.url,
                "publisher": citation.source.publisher,
                "published_on": "" if citation.source.published_on is None else str(citation.source.published_on),
                "kind": citation.source.kind,
                "language": citation.source.language,
                "reliability": citation.source.reliability,
                "is_restricted": citation.source.is_restricted,
            },
            "locator": citation.locator,
            "excerpt": citation.excerpt,
            **({"note": citation.note} if include_restricted else {}),
        }
        for citation in citations
        if include_restricted or citation.is_public_evidence
    ]


def authority_entries() -> list[dict]:
    """Every authority, restricted fields included (staff), by name, its parent by name.

    A public export takes the public site's own records instead (``workflow.places``).
    """
    authorities = Authority.objects.all()
    entries = []
    for authority in authorities.select_related("parent").order_by("name", "pk"):
        parent = authority.parent
        entries.append(
            {
                **{field: getattr(authority, field) for field in in_every_language("name")},
                "country": str(authority.country or ""),
                "parent": parent.name if parent is not None else None,
                **{field: getattr(authority, field) for field in in_every_language("description")},
                "internal_notes": authority.internal_notes,
                "is_public": authority.is_public,
                **_withdrawal(authority),
            }
        )
    return entries


def facility_entries() -> list[dict]:
    """Every facility, restricted fields included (staff), with its other names and citations; its operating
    authority by name. Four queries. A public export takes ``workflow.places``' records instead."""
    facilities = Facility.objects.all()
    variants = FacilityName.objects.order_by("name")
    citations = Citation.objects.active().filter(source__withdrawn=False).select_related("source").order_by("pk")
    entries = []
    for facility in (
        facilities.select_related("authority")
        .prefetch_related(Prefetch("variants", queryset=variants), Prefetch("citations", queryset=citations))
        .order_by("name", "pk")
    ):
        authority = facility.authority
        entries.append(
            {
                **{field: getattr(facility, field) for field in in_every_language("name")},
                "name_hanja": facility.name_hanja,
                "other_names": [
                    {"name": variant.name, "is_public": variant.is_public, "note": variant.note}
                    for variant in facility.variants.all()
                ],
                "kind": facility.kind,
                "authority": authority.name if authority is not None else None,
                "country": str(facility.country or ""),
                **{field: getattr(facility, field) for field in in_every_language("province")},
                **{field: getattr(facility, field) for field in in_every_language("county")},
                "latitude": None if facility.latitude is None else str(facility.latitude),
                "longitude": None if facility.longitude is None else str(facility.longitude),
                "precision": facility.precision,
                "opened_on": "" if facility.opened_on is None else str(facility.opened_on),
                "closed_on": "" if facility.closed_on is None else str(facility.closed_on),
                **{field: getattr(facility, field) for field in in_every_language("description")},
                "internal_notes": facility.internal_notes,
                "is_public": facility.is_public,
                **_withdrawal(facility),
                "citations": _citations(facility.citations.all(), include_restricted=True),
            }
        )
    return entries


def relations_of(persons: list[dict], *, include_restricted: bool) -> dict[int, list[dict]]:
    """Each person's relations (``persons``: dicts with ``pk``), read "person is the kind of other", both by case ID.

    For staff every relation, withdrawn ones too, with its note and its
    citations; otherwise only those :func:`workflow.snapshots.relation_is_public`
    allows. Three queries (four without ``include_restricted``).
    """
    ids = [person["pk"] for person in persons]
    either_side = Relation.objects.filter(Q(person__in=ids) | Q(other__in=ids))
    columns = ("kind", "confidence", "is_public", "note", "withdrawn", "withdrawn_reason")
    both = ("person__case_id", "person__reprisal_risk", "other__case_id", "other__reprisal_risk")
    relations = list(either_side.select_related("person", "other").only(*columns, *both).order_by("pk"))
    if not include_restricted:
        site = on_public_site({pk for relation in relations for pk in (relation.person_id, relation.other_id)})
        relations = [relation for relation in relations if relation_is_public(relation, site)]
    cited: dict[int, list[Citation]] = defaultdict(list)
    if relations:
        citations = Citation.objects.active().filter(relation__in=relations, source__withdrawn=False)
        for citation in citations.select_related("source").order_by("pk"):
            cited[citation.relation_id].append(citation)
    by_person: dict[int, list[dict]] = {pk: [] for pk in ids}
    for relation in relations:
        entry = {
            "person": relation.person.case_id,
            "kind": relation.kind,
            "other": relation.other.case_id,
            "confidence": relation.confidence,
            **(
                {"is_public": relation.is_public, "note": relation.note, **_withdrawal(relation)}
                if include_restricted
                else {}
            ),
            "citations": _citations(cited[relation.pk], include_restricted=include_restricted),
        }
        for side in (relation.person_id, relation.other_id):
            if side in by_person:
                by_person[side].append(entry)
    return by_person


def source_finder(*, by) -> Callable[[Any], Source | None]:
    """The source a citation in the file describes: an existing one with its URL (else its title), or a new one
    described by the file (restricted unless the file says otherwise), the same object for the same description."""
    found: dict[tuple[str, str], Source | None] = {}

    def find(value: Any) -> Source | None:
        if not isinstance(value, dict):
            return None
        title, url = str(value.get("title") or "").strip(), str(value.get("url") or "").strip()
        if (url, title) not in found:
            existing = Source.objects.filter(url=url) if url else Source.objects.filter(title=title)
            source = existing.order_by("pk").first() if url or title else None
            if source is None and title:
                source = Source(
                    title=title,
                    url=url,
                    publisher=str(value.get("publisher") or ""),
                    published_on=PartialDate.parse(str(value.get("published_on") or "")),
                    kind=value.get("kind") or SourceKind.OTHER,
                    language=str(value.get("language") or ""),
                    reliability=value.get("reliability") or Reliability.UNKNOWN,
                    is_restricted=bool(value.get("is_restricted", True)),
                    added_by=by,
                )
            found[url, title] = source
        return found[url, title]

    return find


def import_facilities(data: bytes, *, by, dry_run: bool = False) -> LoadedPlaces:
    """Load the authorities and facilities of a JSON file (a staff export, or the seed's shape) that do not exist
    yet, by name; all of them or, with any problem or on a dry run, none."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        return LoadedPlaces(problems=[_("The file cannot be read as JSON: %(error)s.") % {"error": error}])
    if not isinstance(document, dict) or not {"authorities", "facilities"} & set(document):
        return LoadedPlaces(
            problems=[_("The file has no “authorities” or “facilities”: export them with export_cases --format json.")]
        )
    with transaction.atomic():
        result = load_places(document, source=source_finder(by=by), by=by, reason=REASON)
        if dry_run or result.problems:
            transaction.set_rollback(True)
    return result

"""What the public may see of detention facilities and the authorities responsible: decided here, and only here.

A facility is on the public site when an editor has made it public and it
is not withdrawn (:meth:`cases.places.PlaceQuerySet.public`); of it the
public sees its names and public spellings, kind, location at its
precision, dates, public description, its public operating authority and
the bodies above it that are public, and the citations of public sources
that back it. Its internal notes, its non-public spellings and whatever
cites a restricted source never leave the staff side. The cases held
there come from the published versions alone (``PublishedPlacement``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch

from cases.models import Authority, Facility, FacilityName
from cases.places import PlaceQuerySet
from cases.vocabularies import in_every_language
from sources.models import Citation

from .snapshots import _date, source_line

__all__ = [
    "authority_record",
    "facility_record",
    "public_authorities",
    "public_facilities",
    "public_facility",
    "public_facility_lines",
]


# Decimal places a public coordinate keeps at each precision: a region to a tenth of a degree (about 11 km),
# an approximate place to a hundredth (about 1 km), an exact one as recorded. Every public surface (the pages,
# the maps, the public export) reads the coordinates from here, so none says more than the precision claims.
_DECIMALS = {"region": 1, "approximate": 2}


def _coordinate(value, precision: str) -> float | None:
    if value is None:
        return None
    decimals = _DECIMALS.get(precision)
    return float(value) if decimals is None else round(float(value), decimals)


def _authorities() -> dict[int, Authority]:
    """Every authority, by pk, in one query (there are tens, not thousands): the chains of parent bodies are
    walked in memory."""
    return {authority.pk: authority for authority in Authority.objects.order_by("name", "pk")}


def _public_facilities() -> PlaceQuerySet:
    return (
        Facility.objects.public()
        .select_related("authority")
        .prefetch_related(
            Prefetch("variants", queryset=FacilityName.objects.order_by("name")),
            Prefetch("citations", queryset=Citation.objects.public().select_related("source").order_by("pk")),
        )
        .order_by("name", "pk")
    )


def authority_record(authority: Authority, authorities: dict[int, Authority] | None = None) -> dict:
    """A public authority: its names, description and, nearest first, the public bodies above it.

    ``authorities``: every authority by pk (:func:`_authorities`), when many records are made at once.
    """
    authorities = _authorities() if authorities is None else authorities
    return {
        "id": authority.pk,
        **{field: getattr(authority, field) for field in in_every_language("name")},
        **{field: getattr(authority, field) for field in in_every_language("description")},
        "country": str(authority.country or ""),
        "parents": [
            {"id": body.pk, **{field: getattr(body, field) for field in in_every_language("name")}}
            for body in authority.chain(authorities)[1:]
            if body.is_public_place
        ],
    }


def facility_record(facility: Facility, authorities: dict[int, Authority] | None = None) -> dict:
    """What the public may see of a public facility (read with :func:`_public_facilities`' prefetches)."""
    citations = [citation for citation in facility.citations.all() if citation.is_public_evidence]
    sources = {citation.source_id: citation.source for citation in citations}
    authority = facility.authority
    return {
        "id": facility.pk,
        **{field: getattr(facility, field) for field in in_every_language("name")},
        "name_hanja": facility.name_hanja,
        "other_names": facility.other_names(public_only=True),
        "kind": facility.kind,
        "country": str(facility.country or ""),
        **{field: getattr(facility, field) for field in in_every_language("province")},
        **{field: getattr(facility, field) for field in in_every_language("county")},
        "latitude": _coordinate(facility.latitude, facility.precision),
        "longitude": _coordinate(facility.longitude, facility.precision),
        "precision": facility.precision,
        "opened_on": _date(facility.opened_on),
        "closed_on": _date(facility.closed_on),
        **{field: getattr(facility, field) for field in in_every_language("description")},
        "authority": (
            authority_record(authority, authorities) if authority is not None and authority.is_public_place else None
        ),
        "citations": [
            {"id": c.pk, "source": c.source_id, "locator": c.locator, "excerpt": c.excerpt} for c in citations
        ],
        "sources": [source_line(source) for source in sources.values()],
    }


def public_facilities(query: str = "") -> list[dict]:
    """Every public facility, by name; with ``query``, those with a public name or spelling containing it in any
    spelling ("Yodok", "Yodeok", "요덕")."""
    facilities = _public_facilities()
    found = facilities.matching(query, public_only=True) if query.strip() else list(facilities)
    authorities = _authorities()
    return [facility_record(facility, authorities) for facility in found]


def public_facility(pk: int) -> dict | None:
    """The public facility ``pk``, or ``None`` when there is none the public may see."""
    facility = _public_facilities().filter(pk=pk).first()
    return None if facility is None else facility_record(facility)


def public_authorities() -> dict[int, dict]:
    """Every public authority, by pk (the names of the public list's facet and of the case pages' links)."""
    every = _authorities()
    return {pk: authority_record(authority, every) for pk, authority in every.items() if authority.is_public_place}


def public_facility_lines(ids: Iterable[int] | None = None) -> dict[int, dict]:
    """The public facilities (those among ``ids`` when given) by pk, in one query: names, kind and location.

    What a link, a facet or a map needs and no more: ``name``, ``name_ko``,
    ``name_ja``, ``kind``, ``latitude`` and ``longitude`` (floats, or
    ``None``) and ``precision``.
    """
    facilities = Facility.objects.public()
    if ids is not None:
        facilities = facilities.filter(pk__in=set(ids))
    rows = facilities.order_by("name", "pk").values(
        "pk", *in_every_language("name"), "kind", "latitude", "longitude", "precision"
    )
    lines = {}
    for row in rows:
        pk = row.pop("pk")
        for axis in ("latitude", "longitude"):
            row[axis] = _coordinate(row[axis], row["precision"])
        lines[pk] = row
    return lines

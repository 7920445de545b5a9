"""Finding the facility or the authority a file names, by any of its names or spellings.

A file names a facility as people write it: its English name, its Korean
name, a romanization ("Yodok", "Yodeok", "요덕") or another name it is known
by. :class:`PlaceFinder` reads every facility (or authority) once, when a
file first names one, and answers each distinct name once: an import of
100,000 rows naming a dozen facilities reads them in two queries
(:meth:`cases.places.PlaceQuerySet.matching` does the matching, in memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cases.places import Authority, Facility, PlaceRecord, spelling_keys

from .csv_format import responsible_cell

Place = TypeVar("Place", bound=PlaceRecord)

# Names listed in a message about a name that could be several facilities.
LISTED = 5


@dataclass(frozen=True)
class Found(Generic[Place]):
    """The record a name stands for, or why it stands for none."""

    record: Place | None
    problem: str = ""


class PlaceFinder(Generic[Place]):
    """Facilities or authorities by the names a file gives them.

    A name that is exactly one of a record's spellings (case, spaces,
    hyphens and accents aside) finds it; else a name that only one record's
    spellings contain ("Yodok" in "Kwanliso No. 15 (Yodok)"). A name that
    two records share, or that none has, is a problem to report; so is a
    withdrawn record.
    """

    def __init__(self, records: QuerySet[Place]) -> None:
        self._queryset = records
        self._loaded = False
        self._found: dict[str, Found[Place]] = {}

    def _records(self) -> QuerySet[Place]:
        if not self._loaded:
            # Evaluated once: matching() then reads the cached rows, and every record by pk is at hand.
            self.by_pk = {record.pk: record for record in self._queryset}
            self._loaded = True
        return self._queryset

    def get(self, pk: int | None) -> Place | None:
        self._records()
        return None if pk is None else self.by_pk.get(pk)

    def find(self, name: str) -> Found[Place]:
        if name not in self._found:
            self._found[name] = self._find(name)
        return self._found[name]

    def _find(self, name: str) -> Found[Place]:
        records = self._records()
        key, folded = spelling_keys(name)
        candidates = records.matching(name) if key else []  # type: ignore[attr-defined]  # (PlaceQuerySet)
        active = [record for record in candidates if not record.withdrawn]
        exact = [
            record
            for record in active
            if any(key == spelled or folded == spelled_folded for spelled, spelled_folded in _keys(record))
        ]
        chosen = exact or active
        if len(chosen) == 1:
            return Found(chosen[0])
        if chosen:
            names = ", ".join(f"“{record.name}”" for record in sorted(chosen, key=lambda record: record.name)[:LISTED])
            return Found(None, self._ambiguous(name, names))
        if candidates:
            return Found(None, self._withdrawn(candidates[0].name))
        return Found(None, self._unknown(name))

    def _is_facility(self) -> bool:
        return self._queryset.model is Facility

    def _unknown(self, name: str) -> str:
        if self._is_facility():
            return _(
                "no facility is called “%(name)s”: use one of its names or spellings, or add the facility first."
            ) % {"name": name}
        return _(
            "no authority is called “%(name)s”: use its name in English, Korean or Japanese, or add the authority "
            "first. A confidence goes in brackets after the name: (confirmed), (likely), (possible) or "
            "(unverified)."
        ) % {"name": name}

    def _ambiguous(self, name: str, names: str) -> str:
        if self._is_facility():
            return _("“%(name)s” could be the facility %(names)s: use a name only one of them has.") % {
                "name": name,
                "names": names,
            }
        return _("“%(name)s” could be the authority %(names)s: use a name only one of them has.") % {
            "name": name,
            "names": names,
        }

    def _withdrawn(self, name: str) -> str:
        if self._is_facility():
            return _("the facility “%(name)s” was withdrawn: name another.") % {"name": name}
        return _("the authority “%(name)s” was withdrawn: name another.") % {"name": name}


def _keys(record: PlaceRecord) -> list[tuple[str, str]]:
    return [spelling_keys(spelled) for spelled in record.spellings()]


def facility_finder() -> PlaceFinder[Facility]:
    """Every facility, withdrawn ones included (to say so), with its other names: two queries, on first use."""
    return PlaceFinder(Facility.objects.prefetch_related("variants").order_by("pk"))


def authority_finder() -> PlaceFinder[Authority]:
    """Every authority, withdrawn ones included (to say so): one query, on first use."""
    return PlaceFinder(Authority.objects.order_by("pk"))


@dataclass
class EventPlaces:
    """The facility and the authorities believed responsible that a row gives its status change.

    ``facility_given`` and ``responsible_given`` say whether the row's cells
    were filled: a blank cell says nothing, and leaves a recorded event as it is.
    """

    facility: Facility | None = None
    responsible: list[tuple[Authority, str]] = field(default_factory=list)
    facility_given: bool = False
    responsible_given: bool = False
    # False when a name found nothing (already reported): the row is refused, nothing more to compare.
    found_all: bool = True

    @property
    def responsibility_keys(self) -> set[tuple[int, str]]:
        return {(authority.pk, str(confidence)) for authority, confidence in self.responsible}


class Places:
    """What the rows of one file name in ``status_facility`` and ``status_responsible``, found once for all rows."""

    def __init__(self) -> None:
        self.facilities = facility_finder()
        self.authorities = authority_finder()

    def of(self, values: dict, report) -> EventPlaces:
        """The row's facility and authorities; ``report(column, message)`` for each name that finds none."""
        places = EventPlaces(
            facility_given="status_facility" in values, responsible_given="status_responsible" in values
        )
        if places.facility_given:
            found = self.facilities.find(values["status_facility"])
            places.facility = found.record
            if found.problem:
                report("status_facility", found.problem)
                places.found_all = False
        seen: dict[int, str] = {}
        for name, confidence in values.get("status_responsible", []):
            found_authority = self.authorities.find(name)
            authority = found_authority.record
            if authority is None:
                report("status_responsible", found_authority.problem)
                places.found_all = False
            elif authority.pk in seen:
                report(
                    "status_responsible",
                    _("“%(name)s” and “%(other)s” are both the authority “%(authority)s”: give it once.")
                    % {"name": name, "other": seen[authority.pk], "authority": authority.name},
                )
            else:
                seen[authority.pk] = name
                places.responsible.append((authority, confidence))
        return places

    def differences(
        self, places: EventPlaces, facility_id: int | None, recorded: set[tuple[int, str]]
    ) -> list[tuple[str, str]]:
        """(column, message) for each cell that disagrees with the event already recorded for the row's status.

        The import adds status changes; it never changes one already recorded
        (a correction goes through ``StatusEvent.correct()`` in the admin, with its reason).
        """
        found: list[tuple[str, str]] = []
        if not places.found_all:
            return found
        if places.facility_given and places.facility is not None and places.facility.pk != facility_id:
            at = self.facilities.get(facility_id)
            found.append(
                (
                    "status_facility",
                    _(
                        "this status is already recorded with the facility %(facility)s: an import adds status "
                        "changes but does not correct recorded ones. Correct it in the admin, or leave the cell blank."
                    )
                    % {"facility": f"“{at.name}”" if at else pgettext("no facility recorded", "none")},
                )
            )
        if places.responsible_given and places.responsibility_keys != recorded:
            named = responsible_names(recorded, self.authorities)
            found.append(
                (
                    "status_responsible",
                    _(
                        "this status is already recorded with the authorities %(authorities)s: an import adds status "
                        "changes but does not correct recorded ones. Correct it in the admin, or leave the cell blank."
                    )
                    % {"authorities": f"“{named}”" if named else pgettext("no authority recorded", "none")},
                )
            )
        return found


def responsible_names(recorded: set[tuple[int, str]], authorities: PlaceFinder[Authority]) -> str:
    """The cell for (authority pk, confidence) pairs: "Ministry of State Security (likely); …", by name."""
    return responsible_cell(
        sorted((authority.name, confidence) for pk, confidence in recorded if (authority := authorities.get(pk)))
    )

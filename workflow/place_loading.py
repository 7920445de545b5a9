"""Loading authorities and facilities from JSON: the seed's (``load_seed``), a staff export's (``import_facilities``).

Both files have the same shape: ``authorities``, each naming its parent by
name, and ``facilities``, each naming its operating authority by name, with
its other names and its citations (``exchange.facilities`` writes it). A
record is known by its English name: one that already exists is left as it
is, so that loading a file twice changes nothing and never overwrites later
edits. Everything is checked before anything is written; the caller holds
the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cases.history import save_with_history
from cases.models import Authority, Facility, FacilityName
from cases.partial_dates import PartialDate
from cases.vocabularies import in_every_language
from sources.models import Citation, Source

__all__ = ["LoadedPlaces", "load_places"]

AUTHORITY_FIELDS = (*in_every_language("name"), "country", *in_every_language("description"), "internal_notes")
FACILITY_FIELDS = (
    *in_every_language("name"),
    "name_hanja",
    "kind",
    "country",
    *in_every_language("province"),
    *in_every_language("county"),
    "precision",
    *in_every_language("description"),
    "internal_notes",
)
CITATION_FIELDS = ("locator", "excerpt", "note")


@dataclass
class LoadedPlaces:
    """What a file added, what it left as it was (by name), and why it could not be loaded."""

    authorities: int = 0
    facilities: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Planned:
    """A record to add, built from its entry, and the name of the body above it (an authority's parent body, a
    facility's operating authority)."""

    record: Any
    entry: dict
    where: str
    body: str | None = None


def load_places(data: dict, *, source: Callable[[Any], Source | None], by, reason: str) -> LoadedPlaces:
    """Add the authorities and facilities of ``data`` that do not exist yet, with their other names and citations.

    ``source(value)`` is the source a citation's ``source`` value stands for:
    an existing source, a new unsaved one (saved here, with the citation; the
    same object each time it is asked for the same value), or ``None`` for
    none; a ``ValueError`` says why it cannot be read (both are problems).
    Every record is checked first; with any problem nothing is written and
    the problems are returned, each saying where
    (``facilities[2] “Kwanliso No. 15 (Yodok)”``).
    """
    result = LoadedPlaces()
    authorities = _plan(data.get("authorities", []), "authorities", Authority, AUTHORITY_FIELDS, result)
    new_authorities = {planned.record.name: planned for planned in authorities}
    for planned in authorities:
        _check_body(planned, "parent", new_authorities, result)
    _check_cycles(new_authorities, result)
    facilities = _plan(data.get("facilities", []), "facilities", Facility, FACILITY_FIELDS, result)
    for planned in facilities:
        _check_body(planned, "authority", new_authorities, result)
        _check_facility(planned, source, result)
    if result.problems:
        return result

    saved: dict[str, Authority] = {}
    for planned in _parents_first(new_authorities):
        if planned.body:
            planned.record.parent = saved.get(planned.body) or Authority.objects.get(name=planned.body)
        save_with_history(planned.record, by=by, reason=reason)
        saved[planned.record.name] = planned.record
    for planned in facilities:
        facility = planned.record
        if planned.body:
            facility.authority = saved.get(planned.body) or Authority.objects.get(name=planned.body)
        save_with_history(facility, by=by, reason=reason)
        for variant in planned.entry.get("other_names", []):
            name = FacilityName(facility=facility, **_variant_fields(variant))
            save_with_history(name, by=by, reason=reason)
        for value in planned.entry.get("citations", []):
            cited = source(value["source"])
            assert cited is not None  # checked above
            if cited.pk is None:
                save_with_history(cited, by=by, reason=reason)
            citation = Citation(
                source=cited, facility=facility, **{name: value.get(name, "") for name in CITATION_FIELDS}
            )
            save_with_history(citation, by=by, reason=reason)
    result.authorities, result.facilities = len(authorities), len(facilities)
    return result


def _where(kind: str, index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"{kind}[{index}] “{name}”" if name else f"{kind}[{index}]"


def _plan(entries: Any, kind: str, model, fields: tuple[str, ...], result: LoadedPlaces) -> list[_Planned]:
    """The records of ``entries`` not in the database yet (by name), built and checked, not saved."""
    if not isinstance(entries, list):
        result.problems.append(_("%(kind)s: a list is expected.") % {"kind": kind})
        return []
    names = [entry.get("name") for entry in entries if isinstance(entry, dict)]
    existing = set(
        model.objects.filter(name__in=[name for name in names if isinstance(name, str)]).values_list("name", flat=True)
    )
    planned, seen = [], set()
    for index, entry in enumerate(entries):
        where = _where(kind, index, entry)
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            result.problems.append(_("%(where)s: a name is needed.") % {"where": where})
            continue
        if entry["name"] in seen:
            result.problems.append(_("%(where)s: this name is in the file twice.") % {"where": where})
            continue
        seen.add(entry["name"])
        if entry["name"] in existing:
            result.unchanged += 1
            continue
        problems_before = len(result.problems)
        _check_types(entry, where, fields, result)
        if len(result.problems) > problems_before:
            continue
        record = model(**{name: entry[name] for name in fields if entry.get(name) is not None})
        # Public only when the file says so, with a JSON true: "false" or 1 is a problem, not a yes.
        record.is_public = entry.get("is_public") is True
        if entry.get("withdrawn") is True:
            record.withdrawn, record.withdrawn_reason = True, str(entry.get("withdrawn_reason") or "")
        if model is Facility:
            _read_location(record, entry, where, result)
        if len(result.problems) > problems_before:
            continue
        try:
            record.full_clean(exclude=["parent", "authority"])
        except ValidationError as error:
            result.problems.extend(_messages(where, error))
        if len(result.problems) > problems_before:
            continue
        body = entry.get("parent" if model is Authority else "authority")
        planned.append(_Planned(record, entry, where, body if isinstance(body, str) and body else None))
    return planned


def _check_types(entry: dict, where: str, fields: tuple[str, ...], result: LoadedPlaces) -> None:
    """Texts are strings, flags JSON booleans, lists lists: anything else is a problem, said with where it is."""
    expected = {
        **{name: (str, _("a text")) for name in (*fields, "parent", "authority", "opened_on", "closed_on")},
        **{name: (bool, _("true or false")) for name in ("is_public", "withdrawn")},
        **{name: (list, _("a list")) for name in ("other_names", "citations")},
        "withdrawn_reason": (str, _("a text")),
    }
    for name, (kind, words) in expected.items():
        value = entry.get(name)
        if value is not None and not isinstance(value, kind):
            what = {"where": where, "field": name, "expected": words}
            result.problems.append(_("%(where)s, %(field)s: %(expected)s is expected.") % what)
    for variant in entry["other_names"] if isinstance(entry.get("other_names"), list) else []:
        if isinstance(variant, dict) and (
            not isinstance(variant.get("name"), str)
            or not isinstance(variant.get("is_public", False), bool)
            or not isinstance(variant.get("note", ""), str)
        ):
            result.problems.append(
                _("%(where)s, other_names: each is a text, or a name (a text) with “is_public” (true or false).")
                % {"where": where}
            )


def _read_location(facility: Facility, entry: dict, where: str, result: LoadedPlaces) -> None:
    """The coordinates (numbers or text, "39.75") and the partial dates ("1990~") of a facility's entry."""
    for axis in ("latitude", "longitude"):
        value = entry.get(axis)
        if value in (None, ""):
            continue
        try:
            setattr(facility, axis, Decimal(str(value)).quantize(Decimal("0.00001")))
        except (InvalidOperation, ValueError):
            result.problems.append(
                _("%(where)s, %(field)s: “%(value)s” is not a number of degrees.")
                % {"where": where, "field": axis, "value": value}
            )
    for name in ("opened_on", "closed_on"):
        value = entry.get(name) or ""
        try:
            setattr(facility, name, PartialDate.parse(value) if value else None)
        except ValueError as error:
            result.problems.append(
                _("%(where)s, %(field)s: %(error)s") % {"where": where, "field": name, "error": error}
            )


def _messages(where: str, error: ValidationError) -> list[str]:
    return [
        _("%(where)s, %(field)s: %(message)s") % {"where": where, "field": name, "message": message}
        if name != "__all__"
        else _("%(where)s: %(message)s") % {"where": where, "message": message}
        for name, messages in error.message_dict.items()
        for message in messages
    ]


def _check_body(planned: _Planned, field_name: str, new: dict[str, _Planned], result: LoadedPlaces) -> None:
    """The parent (an authority's) or the operating authority (a facility's) is in the file or in the database."""
    if planned.body and planned.body not in new and not Authority.objects.filter(name=planned.body).exists():
        result.problems.append(
            _("%(where)s, %(field)s: there is no authority “%(name)s”, in the file or in the database.")
            % {"where": planned.where, "field": field_name, "name": planned.body}
        )


def _check_cycles(new: dict[str, _Planned], result: LoadedPlaces) -> None:
    for planned in new.values():
        seen, name = set(), planned.record.name
        while name in new and name not in seen:
            seen.add(name)
            name = new[name].body
        if name in seen:
            result.problems.append(
                _("%(where)s, parent: an authority cannot be placed under itself or one of its units.")
                % {"where": planned.where}
            )


def _parents_first(new: dict[str, _Planned]) -> list[_Planned]:
    ordered: list[_Planned] = []
    done: set[str] = set()

    def add(planned: _Planned) -> None:
        if planned.record.name in done:
            return
        if planned.body in new:
            add(new[planned.body])
        done.add(planned.record.name)
        ordered.append(planned)

    for planned in new.values():
        add(planned)
    return ordered


def _variant_fields(variant: Any) -> dict:
    """An other name: ``"Camp 15"`` (a public name, as the seed writes them) or ``{"name": …, "is_public": …,
    "note": …}`` (not public unless ``"is_public": true``)."""
    if isinstance(variant, str):
        return {"name": variant, "is_public": True}
    return {
        "name": variant.get("name") or "",
        "is_public": variant.get("is_public") is True,
        "note": variant.get("note") or "",
    }


def _check_facility(planned: _Planned, source: Callable[[Any], Source | None], result: LoadedPlaces) -> None:
    """A facility's other names and citations, as far as they can be checked before the facility is saved."""
    names = set()
    for variant in planned.entry.get("other_names", []):
        fields = _variant_fields(variant) if isinstance(variant, str | dict) else {"name": ""}
        name = FacilityName(**fields)
        try:
            name.clean_fields(exclude=["facility"])
        except ValidationError as error:
            result.problems.extend(_messages(f"{planned.where}, other_names", error))
        if name.name.strip() in names:
            result.problems.append(
                _("%(where)s, other_names: “%(name)s” is there twice.") % {"where": planned.where, "name": name.name}
            )
        names.add(name.name.strip())
    for index, value in enumerate(planned.entry.get("citations", [])):
        where = f"{planned.where}, citations[{index}]"
        try:
            cited = source(value.get("source")) if isinstance(value, dict) else None
        except ValueError as error:
            result.problems.append(_("%(where)s, source: %(error)s") % {"where": where, "error": error})
            continue
        if cited is None:
            result.problems.append(_("%(where)s: no such source.") % {"where": where})
            continue
        if cited.withdrawn:
            result.problems.append(
                _("%(where)s: the source “%(title)s” was withdrawn: cite another.")
                % {"where": where, "title": cited.title}
            )
        if cited.pk is None:
            try:
                cited.full_clean()
            except ValidationError as error:
                result.problems.extend(_messages(f"{where}, source", error))
        citation = Citation(source=cited, **{name: value.get(name, "") for name in CITATION_FIELDS})
        try:
            citation.clean_fields(exclude=["source", "person", "status_event", "facility", "relation"])
        except ValidationError as error:
            result.problems.extend(_messages(where, error))

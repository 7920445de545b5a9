"""The facility pages: public detention facilities, the published cases held at each, and the maps.

What the public may see of a facility or an authority is decided in
``workflow.places`` alone; this module only shows it. The cases held at a
facility come from the index of the current published versions
(``PublishedPlacement``), so a case shows here exactly when its public
record names the facility.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django_countries import countries

from cases.partial_dates import PartialDate, display_partial_date
from cases.vocabularies import FacilityKind, LocationPrecision, Status
from workflow.models import PublishedPlacement, PublishedSource, PublishedVersion
from workflow.places import public_facilities, public_facility, public_facility_lines

from . import maps
from .caching import public_page
from .presenters import CasePage, Event, Notes, PlaceLink, Text, place_link, text_in
from .queries import paginate

CASES_PAGE_SIZE = 50

# What a facility's precision means, said in words beside (and instead of) the map.
PRECISION_SENTENCES = {
    LocationPrecision.EXACT: gettext_lazy("The location is known exactly."),
    LocationPrecision.APPROXIMATE: gettext_lazy("The location is approximate, within a few kilometres."),
    LocationPrecision.REGION: gettext_lazy("Only the region is known: the map shows an area, not a place."),
}
NOT_MAPPED = gettext_lazy("The location is not known well enough to be shown on a map.")


def _date(value: str | None) -> str:
    return display_partial_date(PartialDate.parse(value, allow_future=True)) if value else ""


def _degrees(value: float, positive: str, negative: str) -> str:
    """39.75 → "39.75° N" in the page's language: as many decimals as were recorded, no more."""
    number = f"{abs(value):.5f}".rstrip("0").rstrip(".")
    return (positive if value >= 0 else negative) % {"degrees": number}


@dataclass(frozen=True)
class OtherName:
    """One of a facility's names in another script or spelling: what it is, and the language it is written in."""

    label: str
    value: str
    language: str  # "" for a spelling in no particular language (translate="no")


@dataclass(frozen=True)
class AuthorityLine:
    """The operating authority, with the public bodies above it, nearest first."""

    link: PlaceLink
    description: Text
    parents: list[PlaceLink]


class FacilityPage:
    """A public facility's record (``workflow.places.facility_record``), ready to show."""

    def __init__(self, record: dict, *, cases: int = 0) -> None:
        self.record = record
        self.id: int = record["id"]
        self.cases = cases  # how many current published cases name it
        notes = Notes(record)
        # The facility's sources back the facility as a whole: one [n] each, after its description.
        self.refs = notes.refs([citation["id"] for citation in record["citations"]])
        self.notes = notes.notes

    @property
    def name(self) -> Text:
        return text_in(self.record, "name")

    @property
    def second_name(self) -> Text:
        """The name beside the page's own: the Korean one, or where the page shows that, the English one."""
        if self.name.language != "ko" and self.record.get("name_ko"):
            return Text(self.record["name_ko"], "ko")
        if self.name.language == "ko":
            return Text(self.record["name"], "en")
        return Text("", "")

    @property
    def other_names(self) -> list[OtherName]:
        """Every public name: in English, Korean, Hanja and Japanese, then the other public spellings."""
        names = [
            OtherName(str(label), self.record.get(key) or "", language)
            for key, label, language in (
                ("name", _("In English"), "en"),
                ("name_ko", _("In Korean"), "ko"),
                ("name_hanja", _("In Hanja (Chinese characters)"), "ko-Hani"),
                ("name_ja", _("In Japanese"), "ja"),
            )
        ]
        spellings = ", ".join(self.record.get("other_names", []))
        names.append(OtherName(_("Other names and spellings"), spellings, ""))
        return [name for name in names if name.value]

    @property
    def kind_label(self) -> str:
        kind = self.record["kind"]
        return str(FacilityKind(kind).label) if kind in FacilityKind.values else ""

    @property
    def location(self) -> list[Text]:
        """County and province in the page's language (as far as written), then the country."""
        parts = [text_in(self.record, "county"), text_in(self.record, "province")]
        if self.record.get("country"):
            parts.append(Text(countries.name(self.record["country"]), ""))
        return [part for part in parts if part]

    @property
    def has_coordinates(self) -> bool:
        return self.record.get("latitude") is not None and self.record.get("longitude") is not None

    @property
    def precision_sentence(self) -> str:
        if not self.has_coordinates:
            return str(NOT_MAPPED)
        return str(PRECISION_SENTENCES.get(self.record["precision"], NOT_MAPPED))

    @property
    def coordinates(self) -> str:
        """ "39.75° N, 127.05° E"; nothing for a place known only by its region (a point would say more)."""
        if not self.has_coordinates or self.record["precision"] == LocationPrecision.REGION:
            return ""
        return _("%(latitude)s, %(longitude)s") % {
            "latitude": _degrees(self.record["latitude"], _("%(degrees)s° N"), _("%(degrees)s° S")),
            "longitude": _degrees(self.record["longitude"], _("%(degrees)s° E"), _("%(degrees)s° W")),
        }

    @property
    def opened(self) -> str:
        return _date(self.record.get("opened_on"))

    @property
    def closed(self) -> str:
        return _date(self.record.get("closed_on"))

    @property
    def description(self) -> Text:
        return text_in(self.record, "description")

    @property
    def authority(self) -> AuthorityLine | None:
        authority = self.record.get("authority")
        if not authority:
            return None
        return AuthorityLine(
            link=place_link(authority),
            description=text_in(authority, "description"),
            parents=[place_link(parent) for parent in authority.get("parents", [])],
        )

    def map_place(self) -> maps.MapPlace | None:
        if not self.has_coordinates or not self.record.get("precision"):
            return None
        return maps.MapPlace(
            label=str(self.name),
            url=reverse("public:facility_detail", args=[self.id]),
            latitude=self.record["latitude"],
            longitude=self.record["longitude"],
            precision=self.record["precision"],
        )


def _case_counts() -> dict[int, int]:
    """How many current published cases name each facility (one query)."""
    rows = (
        PublishedPlacement.objects.filter(version__in=PublishedVersion.objects.current())
        .order_by()
        .values_list("facility_id")
        .annotate(n=Count("version_id", distinct=True))
    )
    return dict(rows)


class FacilitySearch(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name, in any spelling"), max_length=200, required=False)


@require_safe
@public_page
def facility_list(request: HttpRequest) -> HttpResponse:
    """Every public facility on a map and in a list by kind; ``q`` finds a name in any spelling."""
    search = FacilitySearch(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    counts = _case_counts()
    facilities = [FacilityPage(record, cases=counts.get(record["id"], 0)) for record in public_facilities(query)]
    groups = [
        (label, [facility for facility in facilities if facility.record["kind"] == kind])
        for kind, label in FacilityKind.choices
    ]
    places = [place for place in (facility.map_place() for facility in facilities) if place is not None]
    context = {
        "search": search,
        "query": query,
        "facilities": facilities,
        "groups": [(label, members) for label, members in groups if members],
        "map": _map(places, title=_("Map of the detention facilities listed on this page")) if places else "",
        "unmapped": len(facilities) - len(places),
    }
    return render(request, "public/facility_list.html", context, status=200 if search.is_valid() else 400)


def _map(places: list[maps.MapPlace], *, title: str, path: bool = False, listed: bool = True) -> SafeString:
    """The map of ``places``; ``listed``: the page lists them beside it (their text equivalent), in the map's
    order, so the map's own description need not read them out again."""
    if path:
        description = _(
            "The facilities in the order of the events, joined by a line; the same places are listed below."
        )
    elif listed:
        description = _("Each mark links to the facility's page. The same facilities are listed below the map.")
    else:
        description = _("The mark links to the facility's page.")
    return maps.peninsula_map(places, title=title, description=description, path=path, list_places=not listed)


@dataclass
class HeldThere:
    """A published case with what its public record says happened at the facility, in order."""

    version: PublishedVersion
    events: list[tuple[str, str]]  # (status in words, date in words)


@require_safe
@public_page
def facility_detail(request: HttpRequest, facility_id: int) -> HttpResponse:
    """A public facility, its map and the published cases held there; one 404 for every other number."""
    record = public_facility(facility_id)
    if record is None:
        raise Http404(_("No public facility has this number."))
    placements = PublishedPlacement.objects.filter(facility_id=facility_id)
    cases = (
        PublishedVersion.objects.current()
        .filter(pk__in=placements.values("version_id"))
        .defer("record")  # a row shows the version's columns, as on the list
        .order_by("name", "case_id")
    )
    page = paginate(request, cases, CASES_PAGE_SIZE)
    events: dict[int, list[tuple[PartialDate | None, str]]] = {}
    on_this_page = placements.filter(version__in=[version.pk for version in page.object_list])
    for version_id, status, date in on_this_page.values_list("version_id", "status", "date"):
        events.setdefault(version_id, []).append((PartialDate.parse(date, allow_future=True) if date else None, status))
    held = [
        HeldThere(
            version,
            [
                (str(Status(status).label) if status in Status.values else "", display_partial_date(date))
                for date, status in sorted(events.get(version.pk, []), key=_undated_last)
            ],
        )
        for version in page.object_list
    ]
    facility = FacilityPage(record, cases=page.paginator.count)
    place = facility.map_place()
    # A source's page lists the cases that cite it: one that only facilities cite has none to link to.
    cited = {note.source["id"] for note in facility.notes}
    with_pages = PublishedSource.objects.filter(source_id__in=cited, version__in=PublishedVersion.objects.current())
    context = {
        "facility": facility,
        "unlinked_sources": cited - set(with_pages.values_list("source_id", flat=True)) if cited else set(),
        "held": held,
        "page_obj": page,
        "map": _map([place], title=_("Where %(name)s is") % {"name": facility.name}, listed=False) if place else "",
        # The footer's "Data as CSV/JSON" give the cases held here, as the list filtered by the facility would.
        "data_querystring": f"facility={facility_id}",
    }
    return render(request, "public/facility_detail.html", context)


def _undated_last(item: tuple[PartialDate | None, str]) -> tuple:
    date = item[0]
    return (date is None, date.first_day if date is not None else None)


def _has_coordinates(line: dict | None) -> bool:
    return line is not None and line["latitude"] is not None and line["longitude"] is not None


@dataclass(frozen=True)
class Stop:
    """A facility on a case's path, numbered as the map numbers it, with the events recorded there."""

    number: int
    facility: PlaceLink
    events: list[Event]


def case_map(page: CasePage) -> dict:
    """The case's path between the public facilities of its events, in timeline order, on a map.

    Only the facilities public now and with coordinates are drawn (``workflow.places``, one query); empty when
    none is. ``stops`` is the map's text equivalent, numbered as the map numbers them.
    """
    path = page.facility_path()
    if not path:
        return {}
    lines = public_facility_lines(link.id for link, _events in path)
    mapped = [(link, events, lines[link.id]) for link, events in path if _has_coordinates(lines.get(link.id))]
    if not mapped:
        return {}
    places = [
        maps.MapPlace(
            label=str(link.name),
            url=reverse("public:facility_detail", args=[link.id]),
            latitude=line["latitude"],
            longitude=line["longitude"],
            precision=line["precision"],
        )
        for link, _events, line in mapped
    ]
    title = _("Where the events of this case took place, in order")
    return {
        "svg": _map(places, title=title, path=len(places) > 1),
        "stops": [Stop(number, link, events) for number, (link, events, _line) in enumerate(mapped, start=1)],
    }

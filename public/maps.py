"""A map of the Korean peninsula drawn on the server as an inline SVG, with places marked at their precision.

No tile server and nothing fetched by the reader's browser: the outline is
Natural Earth's (``public/data/korea_outline.json``, written by
``scripts/make_outline.py``, `make outline`), read once per process, and the
drawing uses presentation attributes only (the Content-Security-Policy
forbids inline styles) and no scripts, fonts or images.

How a place is drawn says how well its position is known: an exact place is a
dot, an approximate one a small area, a region-only one a large translucent
area ("a region is an area, not a pin"). Places outside the map's box are not
drawn; the map's description says how many were left out.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from cases.vocabularies import LocationPrecision

OUTLINE_PATH = Path(__file__).resolve().parent / "data" / "korea_outline.json"

# The map's box (west, south, east, north) in degrees, as the outline was clipped to it.
WEST, SOUTH, EAST, NORTH = 124.0, 33.0, 131.0, 43.5
# Equirectangular, a degree of longitude shortened by the cosine of the middle latitude: the peninsula keeps
# its shape. SCALE is drawing units per degree of latitude.
SCALE = 60.0
X_SCALE = SCALE * math.cos(math.radians((SOUTH + NORTH) / 2))
WIDTH = round((EAST - WEST) * X_SCALE, 1)
HEIGHT = round((NORTH - SOUTH) * SCALE, 1)
UNITS_PER_KM = SCALE / 111.32  # a degree of latitude is 111.32 km

# The radius of the area drawn for a place known only approximately, or only by its region. At this scale
# 5 km is under three units, so the approximate area is drawn at least MIN_AREA_RADIUS across to be seen.
APPROXIMATE_KM = 5.0
REGION_KM = 28.0
DOT_RADIUS = 4.0
MIN_AREA_RADIUS = 7.5

SEA = "#d3e3f0"
COAST = "#5b6573"
KOREA_FILL = "#d8d0bd"
KOREA_STROKE = "#3d4450"
NEIGHBOUR_FILL = "#f3f1ec"
NEIGHBOUR_STROKE = "#8a929c"
MARK = "#a4161a"
MARK_STROKE = "#1b2129"
ROUTE = "#1b2129"

_ID_PREFIX = re.compile(r"[A-Za-z][\w-]*")


@dataclass(frozen=True)
class MapPlace:
    label: str  # the accessible name: the facility's name in the page's language
    url: str  # where the mark links to ("" for no link): a path on this site
    latitude: float
    longitude: float
    precision: str  # "exact" | "approximate" | "region" (cases.vocabularies.LocationPrecision values)

    def __post_init__(self) -> None:
        # Coordinates may come as Decimals (a model's DecimalField): the drawing computes in floats.
        object.__setattr__(self, "latitude", float(self.latitude))
        object.__setattr__(self, "longitude", float(self.longitude))
        if self.precision not in LocationPrecision.values:
            raise ValueError(f"Unknown location precision {self.precision!r}")
        if not (math.isfinite(self.latitude) and math.isfinite(self.longitude)):
            raise ValueError("A place on the map needs finite coordinates")
        # Links stay on this site: the map makes no reference to another one.
        if self.url and not (self.url.startswith("/") and not self.url.startswith("//")):
            raise ValueError(f"A place's link must be a path on this site, not {self.url!r}")


@dataclass(frozen=True)
class LegendEntry:
    precision: str
    label: str | Promise  # the precision's name (LocationPrecision's label, lazy: translated when shown)
    symbol: SafeString  # a small SVG of the mark as the map draws it, hidden from assistive technology


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """The point (x, y) in the map's drawing units: x eastwards from the west edge, y southwards from the top."""
    return (longitude - WEST) * X_SCALE, (NORTH - latitude) * SCALE


def in_box(latitude: float, longitude: float) -> bool:
    return SOUTH <= latitude <= NORTH and WEST <= longitude <= EAST


def mark_radius(precision: str) -> float:
    """How large a place's mark is: a dot for an exact place, an area for the others."""
    if precision == LocationPrecision.EXACT:
        return DOT_RADIUS
    kilometres = REGION_KM if precision == LocationPrecision.REGION else APPROXIMATE_KM
    return max(kilometres * UNITS_PER_KM, MIN_AREA_RADIUS)


@functools.cache
def outline() -> dict:
    """The outline file, read once per process."""
    return json.loads(OUTLINE_PATH.read_text())


def attribution() -> str:
    """Where the outline comes from, for a page's credits ("Natural Earth, via world-atlas …")."""
    return str(outline()["attribution"])


def within_outline(latitude: float, longitude: float) -> bool:
    """Whether the point is on land in the outline (North or South Korea, or the neighbouring land drawn)."""
    if not in_box(latitude, longitude):
        return False
    return any(
        _in_polygon(longitude, latitude, polygon)
        for country in outline()["countries"]
        for polygon in country["polygons"]
    )


def _in_polygon(x: float, y: float, rings: list[list[list[float]]]) -> bool:
    """Even–odd over the outer ring and its holes."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


@functools.cache
def _land_paths() -> tuple[tuple[str, str], ...]:
    """(role, path data) for each country, neighbours first: computed once per process."""
    paths = []
    for country in outline()["countries"]:
        parts = []
        for polygon in country["polygons"]:
            for ring in polygon:
                points = [project(lat, lon) for lon, lat in ring[:-1]]
                parts.append("M" + "L".join(f"{_number(x)} {_number(y)}" for x, y in points) + "Z")
        paths.append((country["role"], "".join(parts)))
    return tuple(paths)


# Where the countries' names go (latitude, longitude, ISO code), each well inside its land.
_COUNTRY_LABELS = (
    (40.45, 127.35, "KP"),
    (36.45, 128.1, "KR"),
    (42.75, 125.6, "CN"),
    (33.2, 130.35, "JP"),
)


@functools.cache
def _land_shapes() -> SafeString:
    """The filled countries, the same on every map: built once per process."""
    return format_html_join(
        "",
        '<path d="{}" fill="{}" stroke="{}" stroke-width="{}" stroke-linejoin="round" fill-rule="evenodd"'
        ' vector-effect="non-scaling-stroke"/>',
        (
            (d, KOREA_FILL, KOREA_STROKE, "1.2") if role == "korea" else (d, NEIGHBOUR_FILL, NEIGHBOUR_STROKE, "0.8")
            for role, d in _land_paths()
        ),
    )


def _land() -> SafeString:
    """The countries and their names, in the active language."""
    names = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-family="sans-serif" font-size="12" fill="{}">{}</text>',
        (
            (_number(x), _number(y), COAST, countries.name(code))
            for x, y, code in ((*project(lat, lon), code) for lat, lon, code in _COUNTRY_LABELS)
        ),
    )
    return format_html('<g class="land">{}</g><g class="names" aria-hidden="true">{}</g>', _land_shapes(), names)


def _scale_bar() -> SafeString:
    """100 km, in the Yellow Sea's empty corner: what the areas' sizes mean."""
    length = 100 * UNITS_PER_KM
    x, y = 12.0, HEIGHT - 14
    return format_html(
        '<g class="scale" aria-hidden="true"><path d="M{} {}v4h{}v-4" fill="none" stroke="{}" stroke-width="1.5"/>'
        '<text x="{}" y="{}" font-family="sans-serif" font-size="11" fill="{}">{}</text></g>',
        _number(x),
        _number(y),
        _number(length),
        MARK_STROKE,
        _number(x),
        _number(y - 4),
        MARK_STROKE,
        _("%(kilometres)d km") % {"kilometres": 100},
    )


def _shape(precision: str, x: float, y: float) -> SafeString:
    """A place's mark at (x, y): a solid dot, or a translucent area with a dashed edge."""
    radius = _number(mark_radius(precision))
    if precision == LocationPrecision.EXACT:
        return format_html(
            '<circle cx="{}" cy="{}" r="{}" fill="{}" stroke="{}" stroke-width="1.5"/>',
            _number(x),
            _number(y),
            radius,
            MARK,
            MARK_STROKE,
        )
    opacity, dashes = ("0.35", "3 2") if precision == LocationPrecision.APPROXIMATE else ("0.2", "5 3")
    return format_html(
        '<circle cx="{}" cy="{}" r="{}" fill="{}" fill-opacity="{}" stroke="{}" stroke-width="1.5"'
        ' stroke-dasharray="{}"/>',
        _number(x),
        _number(y),
        radius,
        MARK,
        opacity,
        MARK,
        dashes,
    )


def _badge(numbers: str, x: float, y: float, precision: str) -> SafeString:
    """The place's number in the path, beside its mark (up and to the right) so the mark stays visible."""
    offset = mark_radius(precision) * 0.7 + 5
    width = max(13.0, 6.5 * len(numbers) + 5)
    bx, by = min(x + offset, WIDTH - width / 2), max(y - offset, 7.5)
    return format_html(
        '<g class="number" aria-hidden="true"><rect x="{}" y="{}" width="{}" height="13" rx="6.5" fill="#fff"'
        ' stroke="{}" stroke-width="1"/><text x="{}" y="{}" text-anchor="middle" font-family="sans-serif"'
        ' font-size="10" font-weight="bold" fill="{}">{}</text></g>',
        _number(bx - width / 2),
        _number(by - 6.5),
        _number(width),
        MARK_STROKE,
        _number(bx),
        _number(by + 3.5),
        MARK_STROKE,
        numbers,
    )


def _route(points: list[tuple[float, float] | None]) -> SafeString:
    """The path between the places in order, broken where a place is off the map, an arrowhead mid-way on
    each leg long enough to carry one."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        elif not runs[-1] or runs[-1][-1] != point:
            runs[-1].append(point)
    lines, arrows = [], []
    for run in (run for run in runs if len(run) > 1):
        lines.append(" ".join(f"{_number(x)},{_number(y)}" for x, y in run))
        for (x1, y1), (x2, y2) in itertools.pairwise(run):
            length = math.hypot(x2 - x1, y2 - y1)
            if length < 16:
                continue
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            corners = [(mx + 5 * ux, my + 5 * uy), (mx - 4 * ux - 4 * uy, my - 4 * uy + 4 * ux)]
            corners.append((mx - 4 * ux + 4 * uy, my - 4 * uy - 4 * ux))
            arrows.append(" ".join(f"{_number(x)},{_number(y)}" for x, y in corners))
    return format_html(
        '<g class="route" aria-hidden="true">{}{}</g>',
        format_html_join(
            "",
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.8" stroke-linejoin="round"/>',
            ((line, ROUTE) for line in lines),
        ),
        format_html_join("", '<polygon points="{}" fill="{}"/>', ((arrow, ROUTE) for arrow in arrows)),
    )


def _place_name(place: MapPlace, number: int | None) -> str:
    precision = LocationPrecision(place.precision).label
    if number is None:
        return _("%(name)s — %(precision)s") % {"name": place.label, "precision": precision}
    return _("%(number)d. %(name)s — %(precision)s") % {"number": number, "name": place.label, "precision": precision}


def _default_prefix(places: Sequence[MapPlace], title: str, path: bool) -> str:
    """An id prefix from what the map shows: the same map drawn twice on one page needs ``id_prefix``."""
    key = repr((title, path, [(p.label, p.url, p.latitude, p.longitude, p.precision) for p in places]))
    return "map-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def peninsula_map(
    places: Sequence[MapPlace],
    *,
    title: str,
    description: str = "",
    path: bool = False,
    id_prefix: str = "",
    list_places: bool = True,
) -> SafeString:
    """An inline <svg> of the peninsula with the places marked at their precision.

    ``title`` names the map and ``description`` (optional) says what it shows; the description read out
    also lists the places (unless ``list_places`` is false: a page that lists many places beside the map
    need not have them read twice) and says how many were left out for lying off the map. Each mark is a link to its
    place's ``url`` (a path on this site) named by its label and precision.

    With ``path``, the places are a person's path in the given order: numbered, joined by a line with an
    arrow on each leg. A place off the map keeps its number and breaks the line.

    Ids start with ``id_prefix`` (letters, digits, ``-``, ``_``); by default one derived from the map's
    content, distinct for different maps. Pass one when the same map can appear twice on a page.

    Larger marks are drawn first, so a dot is never hidden under an area; a mark's focus order is then
    regions, approximate places, exact places (each in the given order).
    """
    prefix = id_prefix or _default_prefix(places, title, path)
    if not _ID_PREFIX.fullmatch(prefix):
        raise ValueError(f"An id prefix is letters, digits, '-' and '_', starting with a letter: {prefix!r}")

    positions: list[tuple[float, float] | None] = [
        project(place.latitude, place.longitude) if in_box(place.latitude, place.longitude) else None
        for place in places
    ]
    shown = [index for index, position in enumerate(positions) if position is not None]
    left_out = len(places) - len(shown)

    # On a path, a place visited twice (or two places at one point) shows its numbers in one badge.
    numbers_at: dict[tuple[float, float], list[str]] = {}
    if path:
        for index in shown:
            position = positions[index]
            assert position is not None
            numbers_at.setdefault(position, []).append(str(index + 1))

    size_order = {LocationPrecision.REGION: 0, LocationPrecision.APPROXIMATE: 1, LocationPrecision.EXACT: 2}
    marks, badges = [], []
    badged: set[tuple[float, float]] = set()
    for index in sorted(shown, key=lambda index: size_order[LocationPrecision(places[index].precision)]):
        place, position = places[index], positions[index]
        assert position is not None
        x, y = position
        name = _place_name(place, index + 1 if path else None)
        shape = _shape(place.precision, x, y)
        if place.url:
            marks.append(
                format_html(
                    '<a href="{}" class="place place-{}" aria-label="{}"><title>{}</title>{}</a>',
                    place.url,
                    place.precision,
                    name,
                    name,
                    shape,
                )
            )
        else:
            marks.append(format_html('<g class="place place-{}"><title>{}</title>{}</g>', place.precision, name, shape))
        if path and position not in badged:
            badged.add(position)
            badges.append(_badge(",".join(numbers_at[position]), x, y, place.precision))

    listed = [_place_name(places[index], index + 1 if path else None) for index in shown]
    sentences = [str(description)] if description else []
    if listed and list_places:
        sentences.append(_("Marked: %(places)s.") % {"places": "; ".join(listed)})
    if left_out:
        sentences.append(
            ngettext(
                "%(count)d place lies outside the area shown and is not marked.",
                "%(count)d places lie outside the area shown and are not marked.",
                left_out,
            )
            % {"count": left_out}
        )
    if not sentences:
        sentences.append(_("A map of the Korean peninsula."))

    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="peninsula-map" viewBox="0 0 {} {}" width="{}" height="{}"'
        ' aria-labelledby="{}-title" aria-describedby="{}-desc">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        '<rect class="sea" width="{}" height="{}" fill="{}"/>{}{}{}<g class="places">{}</g>'
        '<rect class="frame" width="{}" height="{}" fill="none" stroke="{}" stroke-width="1"/></svg>',
        _number(WIDTH),
        _number(HEIGHT),
        _number(WIDTH),
        _number(HEIGHT),
        prefix,
        prefix,
        prefix,
        title,
        prefix,
        " ".join(sentences),
        _number(WIDTH),
        _number(HEIGHT),
        SEA,
        _land(),
        _scale_bar(),
        _route(positions) if path else "",
        format_html_join("", "{}", ((piece,) for piece in [*marks, *badges])),
        _number(WIDTH),
        _number(HEIGHT),
        COAST,
    )


def legend() -> list[LegendEntry]:
    """The kinds of mark, with their names (LocationPrecision's labels) and a small drawing of each."""
    entries = []
    for precision in (LocationPrecision.EXACT, LocationPrecision.APPROXIMATE, LocationPrecision.REGION):
        half = mark_radius(precision) + 1.5
        symbol = format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="map-legend-symbol" viewBox="0 0 {} {}" width="{}"'
            ' height="{}" aria-hidden="true">{}</svg>',
            _number(2 * half),
            _number(2 * half),
            _number(2 * half),
            _number(2 * half),
            _shape(precision, half, half),
        )
        entries.append(LegendEntry(precision=precision.value, label=precision.label, symbol=symbol))
    return entries

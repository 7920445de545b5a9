"""Write the outline of the Korean peninsula that ``public/maps.py`` draws: run by `make outline`.

Reads Natural Earth's 1:50m country boundaries as world-atlas redistributes them
(``node_modules/world-atlas/countries-50m.json``, TopoJSON, installed by
``npm ci``) and writes ``public/data/korea_outline.json``: North and South
Korea whole, China, Russia and Japan clipped to the map's box, each as a list
of polygons (GeoJSON's MultiPolygon coordinates: rings of ``[lon, lat]``, the
first the outer one). The result is committed, so running the site, the tests
and CI need neither npm nor the network.

Each arc is simplified once, before the rings are put together, so that a
border shared by two countries stays one line and the two fills meet exactly.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"
TARGET = ROOT / "public" / "data" / "korea_outline.json"

# The map's box (west, south, east, north), in degrees: Jeju to the Tumen, the Yellow Sea to Ulleungdo.
BOX = (124.0, 33.0, 131.0, 43.5)
# Douglas–Peucker tolerance, in degrees (0.01° is about 1 km): finer than a mark on the map.
TOLERANCE = 0.01
# Coordinates are written to three decimals (about 100 m).
DECIMALS = 3
# ISO 3166-1 numeric codes, as world-atlas names the countries; "korea" is drawn filled, "neighbour" lighter.
COUNTRIES = {
    "408": ("North Korea", "korea"),
    "410": ("South Korea", "korea"),
    "156": ("China", "neighbour"),
    "643": ("Russia", "neighbour"),
    "392": ("Japan", "neighbour"),
}

Point = tuple[float, float]
Ring = list[Point]


def decode_arcs(topology: dict) -> list[list[Point]]:
    """The arcs in degrees: each quantized arc is delta-encoded from its first position."""
    (scale_x, scale_y), (translate_x, translate_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + translate_x, y * scale_y + translate_y))
        arcs.append(points)
    return arcs


def _distance_to_segment(point: Point, start: Point, end: Point) -> float:
    (px, py), (ax, ay), (bx, by) = point, start, end
    dx, dy = bx - ax, by - ay
    if dx == dy == 0:  # a closed arc (an island) starts and ends at the same point
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker, keeping both ends (where arcs meet), without recursion (the arcs are long)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, distance = first, 0.0
        for index in range(first + 1, last):
            d = _distance_to_segment(points[index], points[first], points[last])
            if d > distance:
                farthest, distance = index, d
        if distance > tolerance:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def ring_from_arcs(indexes: list[int], arcs: list[list[Point]]) -> Ring:
    """A ring from its arcs: a negative index ``~i`` is arc ``i`` reversed; arcs share their end points."""
    ring: Ring = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(arc[1:] if ring else arc)
    return ring


def clip(ring: Ring, box: tuple[float, float, float, float]) -> Ring:
    """Sutherland–Hodgman against the box: right for any ring, as the box is convex.

    Where a coast leaves the box and comes back, the clipped ring runs along the box's edge: the
    fill is right, and the edge lies on the map's border where nobody sees it.
    """
    west, south, east, north = box
    edges = [
        (lambda p: p[0] >= west, lambda a, b: _cross_x(a, b, west)),
        (lambda p: p[0] <= east, lambda a, b: _cross_x(a, b, east)),
        (lambda p: p[1] >= south, lambda a, b: _cross_y(a, b, south)),
        (lambda p: p[1] <= north, lambda a, b: _cross_y(a, b, north)),
    ]
    for inside, crossing in edges:
        if not ring:
            break
        clipped: Ring = []
        previous = ring[-1]
        for point in ring:
            if inside(point):
                if not inside(previous):
                    clipped.append(crossing(previous, point))
                clipped.append(point)
            elif inside(previous):
                clipped.append(crossing(previous, point))
            previous = point
        ring = clipped
    return ring


def _cross_x(a: Point, b: Point, x: float) -> Point:
    return (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))


def _cross_y(a: Point, b: Point, y: float) -> Point:
    return (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)


def area(ring: Ring) -> float:
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def finish(ring: Ring) -> list[list[float]]:
    """Rounded, without repeated points, closed (first point repeated last, as in GeoJSON)."""
    rounded: list[list[float]] = []
    for x, y in ring:
        point = [round(x, DECIMALS), round(y, DECIMALS)]
        if not rounded or point != rounded[-1]:
            rounded.append(point)
    if len(rounded) > 1 and rounded[0] == rounded[-1]:
        rounded.pop()
    return [*rounded, rounded[0]] if rounded else []


def country_polygons(geometry: dict, arcs: list[list[Point]]) -> list[list[list[list[float]]]]:
    polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
    result = []
    for polygon in polygons:
        rings = []
        for indexes in polygon:
            ring = finish(clip(ring_from_arcs(indexes, arcs), BOX))
            # Islets smaller than the tolerance would be a speck: a ring needs three corners and some area.
            if len(ring) >= 4 and area([(x, y) for x, y in ring]) > TOLERANCE * TOLERANCE:
                rings.append(ring)
            elif not rings:
                break  # the outer ring is gone, so are its holes
        if rings:
            result.append(rings)
    return result


def natural_earth_version(readme: Path) -> str:
    """The edition of Natural Earth the package redistributes, as its README says ("… vector data, version 4.1.0")."""
    found = re.search(r"vector data\S*, version (\d+(?:\.\d+)+)", readme.read_text())
    if found is None:
        raise SystemExit(f"{readme}: no Natural Earth version found; update natural_earth_version().")
    return found.group(1)


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE.relative_to(ROOT)} is missing: run `npm ci` first (or `make outline`).", file=sys.stderr)
        return 1
    topology = json.loads(SOURCE.read_text())
    package = json.loads((SOURCE.parent / "package.json").read_text())
    arcs = [simplify(arc, TOLERANCE) for arc in decode_arcs(topology)]
    countries = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry.get("id") not in COUNTRIES:
            continue
        name, role = COUNTRIES[geometry["id"]]
        polygons = country_polygons(geometry, arcs)
        if polygons:
            countries.append({"id": geometry["id"], "name": name, "role": role, "polygons": polygons})
    countries.sort(key=lambda country: (country["role"] == "korea", country["id"]))  # neighbours drawn first
    outline = {
        "attribution": f"Natural Earth, via world-atlas {package['version']} (public domain; world-atlas is ISC)",
        "source": {
            "package": "world-atlas",
            "version": package["version"],
            "file": SOURCE.name,
            "natural_earth": natural_earth_version(SOURCE.parent / "README.md"),
        },
        "bbox": list(BOX),
        "tolerance": TOLERANCE,
        "countries": countries,
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(outline, separators=(",", ":")) + "\n")
    points = sum(len(ring) for country in countries for polygon in country["polygons"] for ring in polygon)
    print(f"{TARGET.relative_to(ROOT)}: {len(countries)} countries, {points} points, {TARGET.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The peninsula map (public/maps.py): a self-contained, accessible SVG with places marked at their precision."""

import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import translation

from cases.vocabularies import LocationPrecision
from public import maps
from public.maps import MapPlace, legend, peninsula_map, project, within_outline

SVG = "{http://www.w3.org/2000/svg}"

# Coordinates to a few kilometres (enough for these tests, which only need the points well inland).
PYONGYANG = (39.03, 125.75)
SEOUL = (37.57, 126.98)
# Kwalliso 15 lies in a valley of Yodok County, South Hamgyong, some 110 km north-east of Pyongyang.
YODOK = (39.75, 126.85)
# Kaechon (Kwalliso 14 is in Kaechon County, South Pyongan).
KAECHON = (39.70, 125.90)
# Mount Halla, the middle of Jeju island.
HALLA = (33.36, 126.53)
YELLOW_SEA = (36.5, 124.5)
EAST_SEA = (39.0, 130.0)


def place(label="Yodok", url="/facilities/1/", where=YODOK, precision="approximate"):
    latitude, longitude = where
    return MapPlace(label=label, url=url, latitude=latitude, longitude=longitude, precision=precision)


def parse(svg):
    return ET.fromstring(str(svg))  # noqa: S314 (the app's own output, parsed as a browser would)


def marks(root):
    return [element for element in root.iter() if "place" in element.get("class", "").split()]


def circle(mark):
    return mark.find(f"{SVG}circle")


def test_map_is_a_graphic_of_links_named_by_its_title_and_described_by_its_description():
    # No role="img": an image's children are presentational, and its links would be hidden from screen
    # readers (axe: nested-interactive); an <svg> is a graphics document by itself.
    root = parse(peninsula_map([place()], title="Where Kim is held", description="The camp's valley."))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") is None
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Where Kim is held"
    assert desc.text.startswith("The camp's valley.")
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")


def test_description_lists_the_places_marked():
    root = parse(peninsula_map([place(label="Yodok", precision="region")], title="Map"))

    assert "Yodok — Region only" in root.find(f"{SVG}desc").text


def test_a_page_listing_the_places_can_leave_them_out_of_the_description():
    places = [place(label="Yodok", where=YODOK), place(label="Far away", where=(45.0, 125.0))]
    root = parse(peninsula_map(places, title="Map", description="Listed below.", list_places=False))

    assert root.find(f"{SVG}desc").text == "Listed below. 1 place lies outside the area shown and is not marked."


def test_every_mark_is_a_link_with_an_accessible_name():
    places = [
        place(label="Pyongyang", url="/facilities/1/", where=PYONGYANG, precision="exact"),
        place(label="Yodok", url="/facilities/2/", where=YODOK, precision="region"),
        place(label="Kaechon", url="/facilities/3/", where=KAECHON, precision="approximate"),
    ]
    found = marks(parse(peninsula_map(places, title="Facilities")))

    assert len(found) == 3
    by_link = {mark.get("href"): mark for mark in found}
    assert set(by_link) == {"/facilities/1/", "/facilities/2/", "/facilities/3/"}
    for link, label in [("/facilities/1/", "Pyongyang"), ("/facilities/2/", "Yodok"), ("/facilities/3/", "Kaechon")]:
        mark = by_link[link]
        assert mark.tag == f"{SVG}a"
        assert mark.get("aria-label").startswith(label)
        assert mark.find(f"{SVG}title").text.startswith(label)


def test_a_place_without_a_link_is_named_but_not_a_link():
    (mark,) = marks(parse(peninsula_map([place(label="Unknown camp", url="")], title="Map")))

    assert mark.tag == f"{SVG}g"
    assert mark.get("href") is None
    assert mark.find(f"{SVG}title").text.startswith("Unknown camp")


def test_a_region_is_an_area_larger_than_an_approximate_place_and_an_exact_place_is_a_dot():
    places = [
        place(label="exact", where=PYONGYANG, precision="exact"),
        place(label="approximate", where=KAECHON, precision="approximate"),
        place(label="region", where=YODOK, precision="region"),
    ]
    radius = {
        mark.find(f"{SVG}title").text.split(" — ")[0]: float(circle(mark).get("r"))
        for mark in marks(parse(peninsula_map(places, title="Map")))
    }
    shapes = {mark.get("class"): circle(mark) for mark in marks(parse(peninsula_map(places, title="Map")))}

    assert radius["exact"] < radius["approximate"] < radius["region"]
    # About 28 km: a region is an area, not a pin.
    assert radius["region"] == pytest.approx(28 * maps.UNITS_PER_KM, abs=0.1)
    # The dot is solid; the areas are translucent, with a dashed edge so they read without colour.
    assert shapes["place place-exact"].get("fill-opacity") is None
    assert shapes["place place-exact"].get("stroke-dasharray") is None
    for kind in ("approximate", "region"):
        assert float(shapes[f"place place-{kind}"].get("fill-opacity")) < 1
        assert shapes[f"place place-{kind}"].get("stroke-dasharray")


def test_labels_and_title_are_escaped():
    label = 'Camp <script>alert("x")</script> & "16"'
    svg = str(peninsula_map([place(label=label)], title='<script>"t"</script>', description="<b>d</b>"))
    root = parse(svg)

    assert "<script" not in svg and "<b>" not in svg
    (mark,) = marks(root)
    assert mark.get("aria-label").startswith(label)
    assert mark.find(f"{SVG}title").text.startswith(label)
    assert root.find(f"{SVG}title").text == '<script>"t"</script>'


def test_map_makes_no_reference_to_another_site_and_has_no_styles_or_scripts():
    places = [place(where=where) for where in (PYONGYANG, SEOUL, YODOK)]
    svg = str(peninsula_map(places, title="Map", path=True))
    root = parse(svg)

    assert re.findall(r"https?://[^\s\"']*", svg) == ["http://www.w3.org/2000/svg"]
    assert "url(" not in svg and "xlink" not in svg and "@import" not in svg
    for element in root.iter():
        assert element.tag not in {f"{SVG}style", f"{SVG}script", f"{SVG}image", f"{SVG}foreignObject"}
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
        assert element.get("href", "/").startswith("/")


def test_a_link_to_another_site_is_refused():
    for url in ("https://example.org/", "//example.org/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            place(url=url)


def test_coordinates_may_be_decimals():
    assert place(where=(Decimal("39.03"), Decimal("125.75"))).latitude == 39.03


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError):
        place(precision="pin")


@pytest.mark.parametrize("where", [PYONGYANG, SEOUL, YODOK, KAECHON, HALLA])
def test_known_places_are_on_land(where):
    assert within_outline(*where)


@pytest.mark.parametrize("where", [YELLOW_SEA, EAST_SEA, (38.0, 124.3), (45.0, 126.0), (37.5, 135.0)])
def test_the_sea_and_the_world_beyond_the_map_are_not(where):
    assert not within_outline(*where)


def test_the_outline_stays_within_the_map_box_and_small():
    outline = json.loads(maps.OUTLINE_PATH.read_text())
    rings = [ring for country in outline["countries"] for polygon in country["polygons"] for ring in polygon]

    assert {country["id"] for country in outline["countries"]} >= {"408", "410", "156"}
    assert outline["attribution"].startswith("Natural Earth, via world-atlas")
    assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in rings)
    assert all(maps.WEST <= lon <= maps.EAST and maps.SOUTH <= lat <= maps.NORTH for ring in rings for lon, lat in ring)
    assert maps.OUTLINE_PATH.stat().st_size < 60_000


def test_a_mark_sits_at_the_projection_of_its_place():
    places = [
        place(label="Pyongyang", where=PYONGYANG, precision="exact"),
        place(label="Seoul", where=SEOUL, precision="region"),
    ]
    found = marks(parse(peninsula_map(places, title="Map")))

    for mark, where in zip(
        sorted(found, key=lambda mark: mark.find(f"{SVG}title").text), [PYONGYANG, SEOUL], strict=True
    ):
        x, y = project(*where)
        assert float(circle(mark).get("cx")) == pytest.approx(x, abs=0.05)
        assert float(circle(mark).get("cy")) == pytest.approx(y, abs=0.05)
    # The projection is the outline's: Pyongyang's point is drawn on North Korea's land.
    x, y = project(*PYONGYANG)
    latitude, longitude = maps.NORTH - y / maps.SCALE, maps.WEST + x / maps.X_SCALE
    assert within_outline(latitude, longitude)
    assert 0 < x < maps.WIDTH and 0 < y < maps.HEIGHT


def test_a_path_joins_the_places_in_order_and_numbers_them():
    stops = [PYONGYANG, YODOK, SEOUL]
    places = [place(label=f"Stop {n}", url=f"/facilities/{n}/", where=where) for n, where in enumerate(stops, 1)]
    root = parse(peninsula_map(places, title="Path", path=True))

    (line,) = root.iter(f"{SVG}polyline")
    points = [tuple(map(float, point.split(","))) for point in line.get("points").split()]
    expected = [project(*where) for where in stops]
    assert [coordinate for point in points for coordinate in point] == pytest.approx(
        [coordinate for point in expected for coordinate in point], abs=0.05
    )
    assert len(list(root.iter(f"{SVG}polygon"))) == 2  # an arrow on each leg
    names = sorted(mark.get("aria-label") for mark in marks(root))
    assert [name.split(" — ")[0] for name in names] == ["1. Stop 1", "2. Stop 2", "3. Stop 3"]
    numbers = [text.text for group in root.iter(f"{SVG}g") if group.get("class") == "number" for text in group]
    assert sorted(n for n in numbers if n) == ["1", "2", "3"]


def test_without_path_there_is_no_line_and_no_numbers():
    root = parse(peninsula_map([place(where=PYONGYANG), place(where=SEOUL)], title="Map"))

    assert list(root.iter(f"{SVG}polyline")) == []
    assert not any(group.get("class") == "number" for group in root.iter(f"{SVG}g"))


def test_a_place_off_the_map_is_not_drawn_breaks_the_path_and_is_counted():
    places = [
        place(label="Pyongyang", where=PYONGYANG),
        place(label="Beijing", where=(39.9, 116.4)),
        place(label="Yodok", where=YODOK),
        place(label="Seoul", where=SEOUL),
    ]
    root = parse(peninsula_map(places, title="Path", path=True))

    assert sorted(mark.get("aria-label").split(" — ")[0] for mark in marks(root)) == [
        "1. Pyongyang",
        "3. Yodok",
        "4. Seoul",
    ]
    (line,) = root.iter(f"{SVG}polyline")
    assert len(line.get("points").split()) == 2  # Yodok to Seoul; no line through Beijing
    assert "1 place lies outside the area shown" in root.find(f"{SVG}desc").text


def test_a_place_visited_twice_shows_both_numbers_once():
    places = [place(label="Yodok", where=YODOK), place(label="Seoul", where=SEOUL), place(label="Yodok", where=YODOK)]
    root = parse(peninsula_map(places, title="Path", path=True))

    numbers = [group.find(f"{SVG}text").text for group in root.iter(f"{SVG}g") if group.get("class") == "number"]
    assert sorted(numbers) == ["1,3", "2"]
    assert len(marks(root)) == 3


def test_two_maps_on_one_page_have_distinct_ids():
    first = parse(peninsula_map([place(where=PYONGYANG)], title="Facility"))
    second = parse(peninsula_map([place(where=YODOK)], title="Path", path=True))
    same = parse(peninsula_map([place(where=PYONGYANG)], title="Facility", id_prefix="again"))

    ids = [[element.get("id") for element in root.iter() if element.get("id")] for root in (first, second, same)]
    assert all(ids)
    assert len({id_ for page in ids for id_ in page}) == sum(len(page) for page in ids)


def test_an_id_prefix_must_be_a_plain_name():
    with pytest.raises(ValueError):
        peninsula_map([place()], title="Map", id_prefix='x" onload="y')


def test_the_same_map_is_drawn_the_same_way_each_time():
    assert peninsula_map([place()], title="Map") == peninsula_map([place()], title="Map")


def test_map_reads_in_the_page_language():
    with translation.override("ko"):
        svg = str(peninsula_map([place(precision="region")], title="지도"))
        region = str(LocationPrecision.REGION.label)

    assert "중국" in svg and "China" not in svg  # the neighbours' names
    assert f"Yodok — {region}" in svg


def test_legend_names_each_kind_of_mark_with_its_drawing():
    entries = legend()

    assert [entry.precision for entry in entries] == ["exact", "approximate", "region"]
    assert [str(entry.label) for entry in entries] == ["Exact", "Approximate (within a few kilometres)", "Region only"]
    for entry in entries:
        symbol = parse(entry.symbol)
        assert symbol.get("aria-hidden") == "true"
        assert symbol.find(f"{SVG}circle") is not None

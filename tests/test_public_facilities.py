"""The facility pages (/facilities/, /facilities/<id>/), the list's facets by facility, kind and authority, and
where and by whom on the case page: only public facilities and authorities, only published cases."""

import re

import pytest

from cases.history import save_with_history
from cases.models import Responsibility, Status
from cases.partial_dates import PartialDate
from workflow.models import PublishedRendering
from workflow.services import withdraw

from .factories import (
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_person,
    make_source,
    publish_case,
)

pytestmark = pytest.mark.django_db

PREFIXES = pytest.mark.parametrize("prefix", ["", "/ko", "/ja"], ids=["English", "Korean", "Japanese"])


def held_at(person, facility, status=Status.DETAINED, date="2015", *, authorities=(), source=None, **fields):
    """A public event of ``person`` at ``facility``, cited by a public source, with the authorities believed
    responsible (``(authority, confidence)``)."""
    event = make_event(person, status, date, is_public=True, facility=facility, **fields)
    make_citation(source or make_source(title="Annual report"), status_event=event, locator="p. 4")
    for authority, confidence in authorities:
        Responsibility.objects.create(status_event=event, authority=authority, confidence=confidence)
    return event


def plant():
    """Two public facilities, one not public, their authorities, two published cases held there and a draft."""
    mss = make_authority(
        "Ministry of State Security",
        name_ko="국가보위성",
        name_ja="国家保衛省",
        description="The political police.",
        description_ko="정치 경찰.",
    )
    bureau = make_authority("North Hamgyong Provincial Security Bureau", name_ko="함경북도 보위국", parent=mss)
    yodok = make_facility(
        "Yodok political prison camp",
        name_ko="요덕 정치범수용소",
        name_ja="耀徳政治犯収容所",
        name_hanja="耀德政治犯收容所",
        authority=mss,
        country="KP",
        province="South Hamgyong",
        province_ko="함경남도",
        county="Yodok County",
        county_ko="요덕군",
        description="A political prison camp in the valley of the Ipsok river.",
        description_ko="입석천 골짜기의 정치범수용소.",
        opened_on=PartialDate(1969),
        variants=["Camp 15"],
    )
    onsong = make_facility(
        "Onsong holding centre",
        kind="jipkyulso",
        name_ko="온성 집결소",
        latitude="42.95700",
        longitude="129.99300",
        precision="exact",
        authority=bureau,
        country="KP",
    )
    secret = make_facility("Hidden camp", is_public=False, name_ko="비밀 수용소")
    park = make_person(name="Park Yong-su", family_name_native="박", given_name_native="용수")
    held_at(park, onsong, Status.FORCIBLY_REPATRIATED, "2014-03", authorities=[(bureau, "confirmed")])
    held_at(park, yodok, Status.PRISON_CAMP, "2015", authorities=[(mss, "likely")])
    held_at(park, secret, Status.DETAINED, "2016")
    publish_case(park)
    kim = make_person(name="Kim Yong-hwa")
    held_at(kim, yodok, Status.DETAINED, "2001~", authorities=[(mss, "possible")])
    publish_case(kim)
    draft = make_person(name="Choe Draft")
    held_at(draft, yodok)
    return {"mss": mss, "bureau": bureau, "yodok": yodok, "onsong": onsong, "secret": secret, "park": park, "kim": kim}


def text(response) -> str:
    return response.content.decode()


# --- /facilities/ -------------------------------------------------------------------------------------------


@PREFIXES
def test_the_list_shows_every_public_facility_by_kind_on_a_map_and_in_a_table(client, prefix):
    planted = plant()
    response = client.get(f"{prefix}/facilities/")
    assert response.status_code == 200
    html = text(response)
    assert f'<html lang="{prefix.strip("/") or "en"}">' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="peninsula-map"' in html
    for facility in (planted["yodok"], planted["onsong"]):
        assert f'href="{prefix}/facilities/{facility.pk}/"' in html
    assert f"{prefix}/facilities/{planted['secret'].pk}/" not in html
    assert "Hidden camp" not in html and "비밀" not in html
    # The number of published cases held at each, linked to the list filtered by it.
    assert f'<a href="{prefix}/cases/?facility={planted["yodok"].pk}">2</a>' in html
    assert f'<a href="{prefix}/cases/?facility={planted["onsong"].pk}">1</a>' in html
    # Its operating authority, linked to the cases it is believed responsible for.
    assert f'href="{prefix}/cases/?authority={planted["mss"].pk}"' in html


def test_the_list_names_each_facility_in_the_page_language_with_its_korean_name(client):
    planted = plant()
    english = text(client.get("/facilities/"))
    assert "Yodok political prison camp" in english
    assert '<span class="second-name" lang="ko">요덕 정치범수용소</span>' in english
    assert "Yodok County" in english and "South Hamgyong" in english
    korean = text(client.get("/ko/facilities/"))
    assert f'<a href="/ko/facilities/{planted["yodok"].pk}/">요덕 정치범수용소</a>' in korean
    assert '<span class="second-name" lang="en">Yodok political prison camp</span>' in korean
    assert "요덕군" in korean and "함경남도" in korean
    japanese = text(client.get("/ja/facilities/"))
    assert f'<a href="/ja/facilities/{planted["yodok"].pk}/">耀徳政治犯収容所</a>' in japanese
    # A name not written in Japanese is shown in English, marked as such.
    assert f'<a href="/ja/facilities/{planted["onsong"].pk}/" lang="en">Onsong holding centre</a>' in japanese


@pytest.mark.parametrize("spelling", ["Yodok", "Yodeok", "요덕", "yodŏk", "camp 15"])
def test_the_search_finds_a_facility_in_any_spelling(client, spelling):
    planted = plant()
    html = text(client.get("/facilities/", {"q": spelling}))
    assert f'href="/facilities/{planted["yodok"].pk}/"' in html
    assert f'href="/facilities/{planted["onsong"].pk}/"' not in html
    assert "1 facility matches" in html


def test_the_search_finds_no_facility_that_is_not_public_nor_by_a_spelling_that_is_not(client):
    planted = plant()
    from cases.models import FacilityName

    FacilityName.objects.create(facility=planted["yodok"], name="Secret spelling", is_public=False)
    for query in ("Hidden", "비밀", "Secret spelling"):
        html = text(client.get("/facilities/", {"q": query}))
        assert "/facilities/" + str(planted["secret"].pk) not in html
        assert f'href="/facilities/{planted["yodok"].pk}/"' not in html
        assert "No public facility has this name" in html


def test_a_search_too_long_is_refused_with_a_message(client):
    plant()
    response = client.get("/facilities/", {"q": "x" * 201})
    assert response.status_code == 400
    assert 'role="alert"' in text(response)


# --- /facilities/<id>/ ----------------------------------------------------------------------------------------


@PREFIXES
def test_a_facility_page_lists_the_published_cases_held_there_with_their_dates(client, prefix):
    planted = plant()
    response = client.get(f"{prefix}/facilities/{planted['yodok'].pk}/")
    assert response.status_code == 200
    html = text(response)
    assert f'href="{prefix}/cases/{planted["park"].case_id}/"' in html
    assert f'href="{prefix}/cases/{planted["kim"].case_id}/"' in html
    assert "Choe Draft" not in html
    assert html.count('<tr>\n          <th scope="row">') == 2
    if not prefix:
        assert "<li>Held in a political prison camp, 2015</li>" in html
        assert "<li>Detained, c. 2001</li>" in html


def test_a_facility_page_shows_its_names_location_precision_dates_authority_and_map(client):
    planted = plant()
    html = text(client.get(f"/facilities/{planted['yodok'].pk}/"))
    assert '<dd lang="ko">요덕 정치범수용소</dd>' in html
    assert '<dd lang="ko-Hani">耀德政治犯收容所</dd>' in html
    assert '<dd lang="ja">耀徳政治犯収容所</dd>' in html
    assert '<dd translate="no">Camp 15</dd>' in html
    assert "Political prison camp (kwanliso)" in html
    assert "The location is approximate, within a few kilometres. 39.75° N, 127.05° E" in html
    assert "<dd>1969</dd>" in html
    assert "A political prison camp in the valley of the Ipsok river." in html
    assert f'href="/cases/?authority={planted["mss"].pk}">Ministry of State Security</a>' in html
    assert 'class="peninsula-map"' in html and "place-approximate" in html
    # The operating authority's parent bodies.
    onsong = text(client.get(f"/facilities/{planted['onsong'].pk}/"))
    assert "North Hamgyong Provincial Security Bureau" in onsong
    assert f'Part of: <a href="/cases/?authority={planted["mss"].pk}">Ministry of State Security</a>' in onsong
    assert "place-exact" in onsong


def test_a_facility_page_in_korean_uses_the_korean_texts_and_says_when_one_is_only_in_english(client):
    planted = plant()
    html = text(client.get(f"/ko/facilities/{planted['yodok'].pk}/"))
    assert "입석천 골짜기의 정치범수용소." in html
    assert "정치 경찰." in html
    planted["yodok"].description_ko = ""
    save_with_history(planted["yodok"], by=None, reason="test")
    html = text(client.get(f"/ko/facilities/{planted['yodok'].pk}/"))
    assert '<p lang="en">A political prison camp in the valley of the Ipsok river.' in html
    assert 'class="text-language"' in html


def test_a_region_only_location_is_an_area_and_says_so_without_coordinates(client):
    camp = make_facility("Hwasong camp", latitude="41.2", longitude="129.2", precision="region")
    html = text(client.get(f"/facilities/{camp.pk}/"))
    assert "Only the region is known: the map shows an area, not a place." in html
    assert "41.2°" not in html
    assert "place-region" in html


def test_a_facility_without_coordinates_has_no_map_but_says_why(client):
    camp = make_facility("Unknown camp", latitude=None, longitude=None, precision="")
    html = text(client.get(f"/facilities/{camp.pk}/"))
    assert "peninsula-map" not in html
    assert "The location is not known well enough to be shown on a map." in html
    listing = text(client.get("/facilities/"))
    assert "1 facility listed below is not on the map" in listing


@PREFIXES
@pytest.mark.parametrize("address", ["secret", "withdrawn", "unknown", "malformed", "huge", "negative"])
def test_a_facility_that_is_not_public_or_does_not_exist_is_404(client, prefix, address):
    planted = plant()
    planted["onsong"].withdraw(by=None, reason="recorded twice")
    ids = {
        "secret": planted["secret"].pk,
        "withdrawn": planted["onsong"].pk,
        "unknown": 999999,
        "malformed": "abc",
        "huge": 10**30,
        "negative": -1,
    }
    response = client.get(f"{prefix}/facilities/{ids[address]}/")
    assert response.status_code == 404
    assert "Hidden camp" not in text(response) and "Onsong" not in text(response)


def test_a_facility_made_non_public_leaves_its_page_the_list_and_the_case_pages_at_once(client):
    planted = plant()
    yodok = planted["yodok"]
    assert client.get(f"/facilities/{yodok.pk}/").status_code == 200
    yodok.is_public = False
    save_with_history(yodok, by=None, reason="not sure of it")
    assert client.get(f"/facilities/{yodok.pk}/").status_code == 404
    assert "Yodok" not in text(client.get("/facilities/"))
    assert "Yodok" not in text(client.get(f"/cases/{planted['park'].case_id}/"))
    assert "Yodok" not in text(client.get("/cases/"))
    assert client.get(f"/cases/?facility={yodok.pk}").status_code == 400


def test_a_withdrawn_case_leaves_the_facility_page(client):
    planted = plant()
    withdraw(planted["kim"], by=None, reason="the family asked")
    html = text(client.get(f"/facilities/{planted['yodok'].pk}/"))
    assert "Kim Yong-hwa" not in html
    assert planted["park"].case_id in html


def test_the_cases_held_at_a_facility_are_paged(client, monkeypatch):
    monkeypatch.setattr("public.facilities.CASES_PAGE_SIZE", 1)
    planted = plant()
    first = text(client.get(f"/facilities/{planted['yodok'].pk}/"))
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert client.get(f"/facilities/{planted['yodok'].pk}/?page=2").status_code == 200
    assert client.get(f"/facilities/{planted['yodok'].pk}/?page=3").status_code == 404


def test_a_facility_page_cites_its_public_sources_only(client):
    planted = plant()
    public = make_source(title="Satellite imagery report", publisher="HRNK", url="https://example.org/report")
    restricted = make_source(title="Confidential testimony", is_restricted=True)
    make_citation(public, facility=planted["yodok"], locator="p. 12", excerpt="The camp has two zones.")
    make_citation(restricted, facility=planted["yodok"], locator="p. 1")
    html = text(client.get(f"/facilities/{planted['yodok'].pk}/"))
    assert "Satellite imagery report" in html and "The camp has two zones." in html
    assert 'href="#note-1"' in html
    assert "Confidential testimony" not in html
    # Cited by no published case: no source page to link to.
    assert f"/sources/{public.pk}/" not in html


def test_facility_pages_are_revalidated_with_their_etag_and_follow_a_change(client):
    planted = plant()
    url = f"/facilities/{planted['yodok'].pk}/"
    response = client.get(url)
    assert "public" in response["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    planted["yodok"].description = "A new description."
    save_with_history(planted["yodok"], by=None, reason="rewritten")
    changed = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert changed.status_code == 200
    assert "A new description." in text(changed)


def test_the_navigation_links_to_the_facilities_in_the_page_language(client):
    assert '<a href="/facilities/">' in text(client.get("/"))
    assert '<a href="/ko/facilities/">' in text(client.get("/ko/cases/"))


# --- The case list's facets ------------------------------------------------------------------------------------


def case_ids(html: str) -> list[str]:
    return re.findall(r'<span class="case-id">([^<]+)</span>', html)


def test_the_list_filters_by_facility_kind_and_authority(client):
    planted = plant()
    park, kim = planted["park"].case_id, planted["kim"].case_id
    for params, expected in (
        ({"facility": planted["yodok"].pk}, {park, kim}),
        ({"facility": planted["onsong"].pk}, {park}),
        ({"facility_kind": "jipkyulso"}, {park}),
        ({"facility_kind": "kwanliso"}, {park, kim}),
        ({"facility_kind": "kyohwaso"}, set()),
        ({"authority": planted["mss"].pk}, {park, kim}),
        ({"authority": planted["bureau"].pk}, {park}),
        ({"authority": planted["bureau"].pk, "facility": planted["yodok"].pk}, {park}),
    ):
        response = client.get("/cases/", params)
        assert response.status_code == 200, params
        assert set(case_ids(text(response))) == expected, params


def test_the_facets_count_each_facility_kind_and_authority_once_per_case(client):
    planted = plant()
    held_at(planted["park"], planted["yodok"], Status.SENTENCED, "2016")  # a second event there
    publish_case(planted["park"])
    html = text(client.get("/cases/"))
    facets = html[html.index('id="facets-heading"') :]
    yodok, onsong, mss = planted["yodok"].pk, planted["onsong"].pk, planted["mss"].pk
    assert f'<a href="?facility={yodok}">Yodok political prison camp</a> <span class="count">2</span>' in facets
    assert f'<a href="?facility={onsong}">Onsong holding centre</a> <span class="count">1</span>' in facets
    assert (
        '<a href="?facility_kind=kwanliso">Political prison camp (kwanliso)</a> <span class="count">2</span>' in facets
    )
    assert f'<a href="?authority={mss}">Ministry of State Security</a> <span class="count">2</span>' in facets
    assert "Hidden camp" not in html
    # The selects offer the public facilities and authorities the published cases name, with their counts.
    assert f'<option value="{yodok}">Yodok political prison camp (2)</option>' in html
    assert f'<option value="{planted["secret"].pk}"' not in html
    # With a filter, the other facets count within it.
    filtered = text(client.get("/cases/", {"facility": onsong}))
    facets = filtered[filtered.index('id="facets-heading"') :]
    assert f'<a href="?facility={onsong}&amp;authority={mss}">Ministry of State Security</a>' in facets
    assert '<span class="count">1</span>' in facets


@pytest.mark.parametrize(
    "params",
    [
        {"facility": "abc"},
        {"facility": "999999"},
        {"facility": "secret"},
        {"facility_kind": "prison"},
        {"authority": "-1"},
        {"authority": "secret"},
    ],
)
def test_an_unknown_or_non_public_facility_kind_or_authority_is_a_clear_400(client, params):
    planted = plant()
    secret_authority = make_authority("Secret unit", is_public=False)
    params = {
        key: {"secret": str(planted["secret"].pk if key == "facility" else secret_authority.pk)}.get(value, value)
        for key, value in params.items()
    }
    for url in ("/cases/", "/api/cases/", "/export/cases.csv"):
        response = client.get(url, params)
        assert response.status_code == 400, (url, params)
    html = text(client.get("/cases/", params))
    assert "These filters could not be used" in html
    assert "Hidden camp" not in html and "Secret unit" not in html


def test_the_facility_filters_have_chips_and_the_data_links_keep_them(client):
    planted = plant()
    yodok, mss = planted["yodok"].pk, planted["mss"].pk
    html = text(client.get("/cases/", {"facility": yodok, "facility_kind": "kwanliso", "authority": mss}))
    assert '<span class="chip-name">Facility:</span> Yodok political prison camp' in html
    assert '<span class="chip-name">Kind of facility:</span> Political prison camp (kwanliso)' in html
    assert '<span class="chip-name">Authority believed responsible:</span> Ministry of State Security' in html
    assert f'href="/cases/?facility_kind=kwanliso&amp;authority={mss}"' in html  # the facility's chip removes it
    data = f"facility={yodok}&amp;facility_kind=kwanliso&amp;authority={mss}"
    assert f'href="/export/cases.csv?{data}"' in html
    assert f'href="/api/cases/?{data}"' in html
    korean = text(client.get("/ko/cases/", {"facility": yodok}))
    assert "요덕 정치범수용소" in korean


def test_the_api_and_the_csv_filter_by_facility_too(client):
    planted = plant()
    data = client.get("/api/cases/", {"facility": planted["onsong"].pk}).json()
    assert [case["case_id"] for case in data["results"]] == [planted["park"].case_id]
    body = b"".join(client.get("/export/cases.csv", {"authority": planted["bureau"].pk}).streaming_content).decode()
    assert planted["park"].case_id in body and planted["kim"].case_id not in body


# --- The case page: where, and by whom ---------------------------------------------------------------------------


@PREFIXES
def test_the_case_page_says_where_each_event_happened_and_who_is_believed_responsible(client, prefix):
    planted = plant()
    html = text(client.get(f"{prefix}/cases/{planted['park'].case_id}/"))
    assert f'href="{prefix}/facilities/{planted["yodok"].pk}/"' in html
    assert f'href="{prefix}/facilities/{planted["onsong"].pk}/"' in html
    assert f'href="{prefix}/cases/?authority={planted["mss"].pk}"' in html
    assert f'href="{prefix}/cases/?authority={planted["bureau"].pk}"' in html
    assert "Hidden camp" not in html and "비밀" not in html
    if not prefix:
        assert (
            f'<a href="/cases/?authority={planted["mss"].pk}">Ministry of State Security</a> (confidence: Likely)'
            in html
        )
        assert "</a> · Political prison camp (kwanliso)</dd>" in html


def test_the_case_page_maps_the_path_between_facilities_in_timeline_order(client):
    planted = plant()
    html = text(client.get(f"/cases/{planted['park'].case_id}/"))
    assert 'id="map-heading"' in html
    assert '<g class="route"' in html
    stops = html[html.index('<ol class="map-stops">') : html.index("</ol>", html.index('<ol class="map-stops">'))]
    assert stops.index("Onsong holding centre") < stops.index("Yodok political prison camp")
    assert "Forcibly repatriated, March 2014" in stops
    assert "Hidden camp" not in stops


def test_no_map_on_a_case_page_without_a_facility_with_coordinates(client):
    camp = make_facility("Unmapped camp", latitude=None, longitude=None, precision="")
    person = make_person(name="Lee Unmapped")
    held_at(person, camp)
    publish_case(person)
    html = text(client.get(f"/cases/{person.case_id}/"))
    assert "Unmapped camp" in html
    assert "peninsula-map" not in html and 'id="map-heading"' not in html


def test_the_case_json_carries_the_public_facilities_and_authorities(client):
    planted = plant()
    data = client.get(f"/api/cases/{planted['park'].case_id}/").json()
    facilities = [event["facility"] for event in data["events"]]
    assert [facility and facility["id"] for facility in facilities] == [
        planted["onsong"].pk,
        planted["yodok"].pk,
        None,
    ]
    assert data["events"][1]["responsible"] == [
        {
            "id": planted["mss"].pk,
            "name": "Ministry of State Security",
            "name_ko": "국가보위성",
            "name_ja": "国家保衛省",
            "confidence": "likely",
        }
    ]
    assert "Hidden camp" not in str(data)


def test_the_csv_names_the_public_facilities_and_authorities_of_each_case(client):
    planted = plant()
    body = b"".join(client.get("/export/cases.csv").streaming_content).decode("utf-8-sig")
    header, *rows = body.splitlines()
    assert header.endswith(",appeals,facilities,authorities,related_cases")
    park = next(row for row in rows if row.startswith(planted["park"].case_id))
    assert park.endswith(
        ",Onsong holding centre; Yodok political prison camp,"
        "North Hamgyong Provincial Security Bureau; Ministry of State Security,"
    )
    assert "Hidden camp" not in body


# --- Query budgets -----------------------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from public.caching import caches

    for alias in ("default", "pages"):
        caches[alias].clear()  # a first request: nothing cached yet
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(context)


def more_of_everything(planted, count: int) -> None:
    """``count`` more facilities, each with a published case held there by the planted authorities."""
    for n in range(count):
        camp = make_facility(f"Camp {n}", name_ko=f"수용소 {n}", authority=planted["bureau"], kind="kyohwaso")
        person = make_person(name=f"Kim Extra {n}")
        held_at(person, camp, authorities=[(planted["bureau"], "likely"), (planted["mss"], "possible")])
        held_at(person, planted["yodok"], Status.PRISON_CAMP, "2018")
        publish_case(person)


# A public page opens no transaction (public.caching.public_page). The facility list: the generation, the number
# of cases at each facility, the facilities with their other names and citations. A facility's page: the generation, the
# facility with its other names and citations, the cases held there (a count and a page) and their events there,
# and which of its sources have a page of their own. A case page: as without facilities, and the coordinates of
# its public facilities, rendered and kept (public.rendering: its transaction, the generation's check, the insert;
# kept pages are dropped before each count, so that it is rendered each time). The list filtered by facility: as
# tests/test_query_budgets.py's. The facility list and a facility's page also read every authority once (the
# bodies above one are walked in memory).
BUDGETS = {"list": 6, "detail": 9, "case": 8, "filtered list": 13}


def test_the_facility_pages_case_page_and_filtered_list_run_a_fixed_number_of_queries(client):
    planted = plant()
    yodok, park = planted["yodok"].pk, planted["park"].case_id
    make_citation(make_source(title="Imagery"), facility=planted["yodok"], locator="p. 1")
    urls = {
        "list": "/facilities/",
        "detail": f"/facilities/{yodok}/",
        "case": f"/cases/{park}/",
        "filtered list": f"/cases/?facility={yodok}&authority={planted['mss'].pk}&facility_kind=kwanliso",
    }
    PublishedRendering.objects.all().delete()
    few = {name: count_queries(client, url) for name, url in urls.items()}
    more_of_everything(planted, 12)
    PublishedRendering.objects.all().delete()
    many = {name: count_queries(client, url) for name, url in urls.items()}
    assert many == few
    assert many == BUDGETS


def test_the_publication_preview_shows_where_and_by_whom_and_the_map_as_the_public_page_will(editor_client, client):
    planted = plant()
    case_id = planted["park"].case_id
    preview = editor_client.get(f"/staff/cases/{case_id}/preview/").content.decode()
    public = text(client.get(f"/cases/{case_id}/"))
    for opening, closing in (('<dl class="event-places">', "</dl>"), ('<ol class="map-stops">', "</ol>")):
        shown = re.findall(f"{re.escape(opening)}.*?{closing}", public, flags=re.DOTALL)
        assert shown and shown == re.findall(f"{re.escape(opening)}.*?{closing}", preview, flags=re.DOTALL)
    assert "Hidden camp" not in preview


def test_a_version_published_before_facilities_and_relations_still_reads_everywhere(client):
    from workflow.models import PublishedVersion

    planted = plant()
    version = PublishedVersion.objects.get(person=planted["park"], is_current=True)
    record = version.record
    record.pop("relations")
    for event in record["events"]:
        event.pop("facility")
        event.pop("responsible")
    PublishedVersion.objects.filter(pk=version.pk).update(record=record)
    for url in (f"/cases/{planted['park'].case_id}/", f"/api/cases/{planted['park'].case_id}/", "/export/cases.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"map-stops" not in body and b"event-places" not in body

"""The staff forms and lists fit a laptop: no sideways scrolling at 1280 and 1024 px; screenshots at 1280 px."""

import pytest

from cases.models import Status
from tests.conftest import make_citation, make_event, make_person, make_source

from .conftest import browser_db, screenshot

WIDTHS = (1280, 1024)


@pytest.fixture
def case():
    person = make_person(
        name="Choi Chun-gil",
        family_name_native="최",
        given_name_native="춘길",
        summary="A missionary detained near the border; the longest summary a caseworker writes " * 3,
    )
    event = make_event(
        person,
        Status.DETAINED,
        "2014-10~",
        is_public=True,
        place="Dandong, Liaoning Province, near the Sino-Korean Friendship Bridge",
        description="Detained by the Ministry of State Security after crossing the river. " * 4,
    )
    source = make_source(
        title="Report of the detailed findings of the commission of inquiry on human rights in the DPRK",
        publisher="United Nations Human Rights Council",
        url="https://www.ohchr.org/en/hr-bodies/hrc/co-idprk/reportofthe-commissionofinquiry-dprk",
    )
    make_citation(source, status_event=event, locator="para. 354", excerpt="A long quoted excerpt. " * 10)
    return person, event, source


def staff_pages(person, event, source) -> dict[str, str]:
    return {
        "person-add": "/admin/cases/person/add/",
        "person-change": f"/admin/cases/person/{person.pk}/change/",
        "status-event-add": f"/admin/cases/statusevent/add/?person={person.pk}",
        "status-event-change": f"/admin/cases/statusevent/{event.pk}/change/",
        "source-add": "/admin/sources/source/add/",
        "source-change": f"/admin/sources/source/{source.pk}/change/",
        "citation-add": f"/admin/sources/citation/add/?status_event={event.pk}",
        "person-list": "/admin/cases/person/",
        "status-event-list": "/admin/cases/statusevent/",
        "source-list": "/admin/sources/source/",
        "citation-list": "/admin/sources/citation/",
    }


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@browser_db
def test_the_staff_forms_and_lists_fit_1280_and_1024_pixels(editor_page, case):
    page = editor_page
    too_wide = []
    for name, url in staff_pages(*case).items():
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(url)
            assert response.status == 200, f"{name}: {response.status}"
            scroll_width, inner_width = overflow(page)
            if scroll_width > inner_width:
                too_wide.append(f"{name} at {width} px: {scroll_width} px wide")
            if width == 1280:
                screenshot(page, f"staff-{name}-1280")

    assert not too_wide, "sideways scrolling: " + "; ".join(too_wide)
    assert not page.problems


@browser_db
def test_the_citation_rows_of_a_status_change_are_on_screen_at_1024_pixels(editor_page, case):
    page = editor_page
    _person, event, _source = case
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(f"/admin/cases/statusevent/{event.pk}/change/")

    for column in ("source", "locator", "excerpt", "note"):
        box = page.locator(f"td.field-{column}").first.bounding_box()
        assert box is not None, column
        assert box["x"] + box["width"] <= 1024, f"{column} ends at {box['x'] + box['width']:.0f} px"


@browser_db
def test_the_status_event_list_shows_its_columns(editor_page, case):
    page = editor_page
    page.goto("/admin/cases/statusevent/")

    headers = page.locator("#result_list thead th").all_inner_texts()

    assert len(headers) >= 5, headers
    for label in ("Person", "Status", "Date", "Confidence"):
        assert any(label.casefold() in header.casefold() for header in headers), (label, headers)

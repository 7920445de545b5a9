"""The public list on a phone (390 px) and a wide screen: results first, filters behind a disclosure that the
keyboard opens, chips that remove a filter, rows that keep their columns; the feed read as a page; the about page."""

import re
import shutil

import pytest
from playwright.sync_api import expect

from cases.models import Status
from tests.conftest import make_citation, make_event, make_person, make_source, publish_case

from .conftest import DESKTOP, PHONE, browser_db, screenshot
from .test_accessibility import blocking_violations, tab_to
from .test_html_validity import nu_errors

# Chromium says, on a page made by XSLT, that XSLT is going away: its notice's inline styles and handler are
# refused by the site's CSP. Those are the browser's words, not the site's.
CHROMIUM_XSLT_NOTICE = ("Applying inline style violates", "Executing inline event handler violates")
RECTS = "elements => elements.map(element => element.getBoundingClientRect().toJSON())"


def a_case_with_a_long_status() -> str:
    person = make_person(
        name="Synthetic person with a long descriptor, sentenced in a closed trial in the spring",
        is_synthetic=True,
    )
    event = make_event(person, Status.PRISON_CAMP, "2016-04", is_public=True)
    make_citation(make_source(), status_event=event)
    return publish_case(person).case_id


@browser_db
def test_on_a_phone_the_results_come_before_the_filters(new_page, seed):
    page = new_page(viewport=PHONE)
    page.goto("/cases/?status=disappeared&category=missionary")
    summary = page.locator(".filters-disclosure > summary")
    first_row = page.locator(".case-list .case").first
    # The filters are one line, closed; the chips and the first results are on the first screen.
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("(2 in use)")
    assert summary.bounding_box()["height"] < 60
    expect(page.locator("#id_q")).to_be_hidden()
    expect(page.locator(".chip")).to_have_count(2)
    expect(first_row).to_be_in_viewport()
    assert page.locator("#results-heading").bounding_box()["y"] > summary.bounding_box()["y"]
    assert first_row.bounding_box()["y"] + first_row.bounding_box()["height"] < PHONE["height"]
    # Nothing overflows the screen sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "public-list-phone")
    assert blocking_violations(page) == []
    assert not page.problems, page.problems


@browser_db
def test_on_a_phone_the_keyboard_opens_the_filters_and_searches(new_page, seed):
    page = new_page(viewport=PHONE)
    page.goto("/cases/")
    tab_to(page, ".filters-disclosure > summary")
    page.keyboard.press("Enter")
    expect(page.locator(".filters-disclosure")).to_have_attribute("open", "")
    expect(page.locator("#id_q")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator("#id_q")).to_be_focused()
    page.keyboard.type("kim kook kie")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/cases/\?q=kim\+kook\+kie"))
    expect(page.locator("#results-heading")).to_have_text("1 case")
    # The search is a chip above the result; the chip, reached by the keyboard, removes it.
    expect(page.locator(".chip")).to_have_text(re.compile("Name: “kim kook kie”"))
    expect(page.locator("#id_q")).to_be_hidden()
    tab_to(page, ".chip")
    page.keyboard.press("Enter")
    # The form sent its empty fields too: only the order, the one value chosen, is kept.
    expect(page).to_have_url(re.compile(r"/cases/\?sort=relevance$"))
    expect(page.locator("#results-heading")).to_have_text("6 cases")
    # Space closes the disclosure again.
    tab_to(page, ".filters-disclosure > summary")
    page.keyboard.press("Space")
    expect(page.locator("#id_q")).to_be_visible()
    page.keyboard.press("Space")
    expect(page.locator("#id_q")).to_be_hidden()
    assert not page.problems, page.problems


@browser_db
def test_on_a_wide_screen_the_filters_are_shown_beside_the_results(new_page, seed):
    page = new_page(viewport=DESKTOP)
    page.goto("/cases/?fate=outstanding")
    expect(page.locator(".filters-disclosure > summary")).to_be_hidden()
    expect(page.locator("#id_q")).to_be_visible()
    expect(page.locator("#filters-heading")).to_be_visible()
    form, results = page.locator("form.filters").bounding_box(), page.locator(".results").bounding_box()
    assert form["x"] + form["width"] <= results["x"]
    assert abs(form["y"] - results["y"]) < 2
    tab_to(page, "#id_q")  # the form is in the keyboard's way without opening anything
    screenshot(page, "public-list-wide")
    assert not page.problems, page.problems


@browser_db
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["wide", "phone"])
def test_list_rows_keep_their_columns_whatever_their_length(new_page, seed, viewport):
    long_one = a_case_with_a_long_status()
    page = new_page(viewport=viewport)
    for url in ("/cases/", "/"):
        page.goto(url)
        expect(page.locator(f".case:has-text('{long_one}') .synthetic")).to_be_visible()
        rows = page.locator(".case-list .case")
        boxes = {
            cell: page.locator(f".case-list .{cell}").evaluate_all(RECTS)
            for cell in ("case-title", "case-id", "case-status", "case-fate")
        }
        count = rows.count()
        assert count >= 7 if url == "/cases/" else count >= 1
        assert all(len(found) == count for found in boxes.values())
        # Every row's status starts where the others' do, and its ID ends where the others' do.
        assert len({round(box["left"]) for box in boxes["case-status"]}) == 1, boxes["case-status"]
        assert len({round(box["right"]) for box in boxes["case-id"]}) == 1, boxes["case-id"]
        for title, status in zip(boxes["case-title"], boxes["case-status"], strict=True):
            assert title["bottom"] <= status["top"] + 1  # the status under the name, never beside it
    screenshot(page, f"public-rows-{viewport['width']}")
    assert not page.problems, page.problems


@browser_db
@pytest.mark.parametrize("prefix", ["", "/ko"])
def test_the_feed_reads_as_a_page_in_a_browser(new_page, seed, prefix):
    page = new_page(viewport=PHONE)
    response = page.goto(f"{prefix}/feed/")
    assert response.headers["content-type"].startswith("application/xml")
    expect(page.locator("html")).to_have_attribute("lang", prefix.strip("/") or "en")
    expect(page.locator("h1")).to_have_text(re.compile("Whereabouts"))
    entries = page.locator(".feed-entries > li")
    expect(entries).to_have_count(6)
    expect(page.locator(".feed-address")).to_have_text(re.compile(rf"{prefix}/feed/$"))
    # The site's stylesheet styles it; an entry leads to the case page, in the same language.
    assert page.locator(".feed-entries").evaluate("element => getComputedStyle(element).listStyleType") == "none"
    screenshot(page, f"public-feed{prefix.replace('/', '-')}")
    entries.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"{prefix}/cases/KP-000\d/versions/1/$"))
    expect(page.locator("#case-heading")).to_be_visible()
    problems = [problem for problem in page.problems if not problem.startswith(CHROMIUM_XSLT_NOTICE)]
    assert not problems, problems


@browser_db
@pytest.mark.parametrize("width", [1280, 390])
def test_the_about_page_and_a_list_with_chips_have_no_serious_axe_violation(new_page, seed, width):
    page = new_page(viewport={"width": width, "height": 900})
    for url in ("/about/", "/ko/about/", "/cases/?status=disappeared&fate=outstanding", "/ja/cases/?fate=outstanding"):
        assert page.goto(url).status == 200, url
        assert blocking_violations(page) == [], url
    page.goto("/cases/")
    page.get_by_role("link", name=re.compile("About this site")).click()
    expect(page).to_have_url(re.compile(r"/about/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("About this site")
    assert not page.problems, page.problems


@browser_db
def test_the_site_has_an_icon(new_page, seed):
    page = new_page()
    page.goto("/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(href)
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    legacy = page.request.get("/favicon.ico")  # followed to the icon
    assert legacy.status == 200 and legacy.body() == icon.body()


@browser_db
def test_the_about_page_and_lists_with_chips_are_valid_html(page, seed, tmp_path):
    if shutil.which("java") is None:
        pytest.skip("Java not found: the Nu HTML checker needs it")
    files = []
    for name, url in {
        "about": "/about/",
        "about-ko": "/ko/about/",
        "chips": "/cases/?status=disappeared&category=missionary&sort=name",
        "chips-ja": "/ja/cases/?fate=outstanding&nationality=KP",
    }.items():
        response = page.request.get(url)
        assert response.status == 200, url
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.body())
        files.append(path)
    assert nu_errors(files) == []

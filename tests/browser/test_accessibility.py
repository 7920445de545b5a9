"""Accessibility in a real browser: axe-core on the public pages (in English, Korean and Japanese) and the staff
dashboard, and the keyboard alone (search, filters, the language switcher)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from cases.models import Person

from .conftest import browser_db, public_pages, translated_pages

BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one readable line per element."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {node['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


@browser_db
@pytest.mark.parametrize("width", [1280, 390])
def test_the_public_pages_have_no_serious_or_critical_axe_violation(new_page, seed, width):
    page = new_page(viewport={"width": width, "height": 900})
    found = {}
    for name, (url, status) in public_pages().items():
        response = page.goto(url)
        assert response.status == status, url
        found[name] = blocking_violations(page)
    assert found == {name: [] for name in found}, found
    assert not page.problems, page.problems


@browser_db
@pytest.mark.parametrize("width", [1280, 390])
def test_the_korean_and_japanese_pages_have_no_serious_or_critical_axe_violation(new_page, seed, width):
    page = new_page(viewport={"width": width, "height": 900})
    found = {}
    for name, (url, status) in translated_pages().items():
        response = page.goto(url)
        assert response.status == status, url
        # The page says which language it is in: screen readers pick their voice by it.
        expect(page.locator("html")).to_have_attribute("lang", name.split("-")[0])
        found[name] = blocking_violations(page)
    assert found == {name: [] for name in found}, found
    assert not page.problems, page.problems


@browser_db
def test_the_staff_dashboard_has_no_serious_or_critical_axe_violation(editor_page, seed):
    expect(editor_page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    assert blocking_violations(editor_page) == []
    assert not editor_page.problems, editor_page.problems


def tab_to(page, selector: str, *, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus, as a keyboard user would; it must show it."""
    page.wait_for_load_state()  # after a navigation: Tab on the new page, not the old one
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            outline = target.evaluate("element => getComputedStyle(element).outlineStyle")
            assert outline != "none", f"{selector} has the focus but shows no outline"
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


@browser_db
def test_search_and_filters_work_with_the_keyboard_alone(page, seed):
    page.goto("/")
    # The first Tab shows the skip link; following it puts the focus on the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))

    tab_to(page, "#search-q")
    page.keyboard.type("kim kook kie")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/cases/\?q=kim\+kook\+kie$"))
    expect(page.locator("#results-heading")).to_have_text("1 case")
    expect(page.locator(".case-list .case-name")).to_have_text(["Kim Kook-ki (김국기)"])

    # A broader search, then a filter chosen and applied from the keyboard.
    tab_to(page, "#id_q")
    page.keyboard.press("Control+A")
    page.keyboard.type("Kim")
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_have_text("3 cases")
    tab_to(page, "#id_category")
    for _ in range(10):  # a closed select takes the arrow keys without opening
        page.keyboard.press("ArrowDown")
        if page.locator("#id_category").input_value() == "forcibly-repatriated-refugee":
            break
    tab_to(page, ".filters button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]category=forcibly-repatriated-refugee(&|$)"))
    expect(page.locator("#results-heading")).to_have_text("1 case")
    expect(page.locator(".case-list .case-name")).to_have_text(["Kim Cheol-ok (김철옥)"])

    # The result opens with Enter.
    tab_to(page, ".case-list .case-name")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kim Cheol-ok (김철옥)")
    assert not page.problems, page.problems


@browser_db
def test_the_language_switcher_leads_to_the_same_case_in_japanese_with_the_keyboard_alone(page, seed):
    person = Person.objects.get(name="Kim Jeong-wook")
    page.goto(f"/ko/cases/{person.case_id}/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", level=1)).to_have_text("김정욱 (Kim Jeong-wook)")
    switcher = page.locator("nav.languages")
    expect(switcher.get_by_text("한국어")).to_have_attribute("aria-current", "true")
    tab_to(page, '.languages a[hreflang="ja"]')
    expect(switcher.get_by_role("link", name="日本語")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/ja/cases/{person.case_id}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("김정욱 (Kim Jeong-wook)")
    expect(switcher.get_by_text("日本語")).to_have_attribute("aria-current", "true")
    expect(switcher.get_by_role("link", name="한국어")).to_have_attribute("href", f"/ko/cases/{person.case_id}/")
    assert not page.problems, page.problems

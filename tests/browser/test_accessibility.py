"""Accessibility in a real browser: axe-core on the public pages and the staff dashboard, and the keyboard alone."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from sources.models import Source
from workflow.models import PublishedSource

from .conftest import a_case_with_a_timeline, browser_db

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


def public_pages() -> dict[str, tuple[str, int]]:
    source = Source.objects.get(pk=PublishedSource.objects.values_list("source_id", flat=True).first())
    return {
        "home": ("/", 200),
        "list": ("/cases/", 200),
        "search results": ("/cases/?q=Kim+Kook-kie", 200),
        "filters refused": ("/cases/?year_from=1700&status=lost", 400),
        "case": ("/cases/KP-0003/", 200),
        "case with a timeline": (f"/cases/{a_case_with_a_timeline()}/", 200),
        "sources": ("/sources/", 200),
        "source": (f"/sources/{source.pk}/", 200),
        "not found": ("/cases/KP-9999/", 404),
    }


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
    expect(page.locator(".case-list .case-name")).to_have_text(["Kim Kook-ki"])

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
    expect(page.locator(".case-list .case-name")).to_have_text(["Kim Cheol-ok"])

    # The result opens with Enter.
    tab_to(page, ".case-list .case-name")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kim Cheol-ok")
    assert not page.problems, page.problems

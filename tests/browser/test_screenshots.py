"""Screenshots of the main pages at desktop and phone widths, for a person to look at.

They are written to ``$SCREENSHOT_DIR`` (default /tmp/whereabouts-screenshots),
named in the summary at the end of the run. At the phone width the pages
must also fit: nothing wider than the screen, so nothing scrolls sideways.
The Korean and Japanese pages are taken too (public-ko-*, public-ja-*), and
their Hangul, kana and kanji must be drawn with a CJK font, not as empty boxes.
"""

import pytest
from playwright.sync_api import expect

from cases.models import Person, Status
from workflow.services import submit_for_review

from ..conftest import make_event, make_person
from .conftest import DESKTOP, PHONE, a_case_with_a_timeline, browser_db, screenshot, staff_user


@browser_db
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_public_pages(new_page, seed, viewport):
    pages = {"home": "/", "list": "/cases/", "case": f"/cases/{a_case_with_a_timeline()}/"}
    page = new_page(viewport=viewport)
    for name, url in pages.items():
        assert page.goto(url).status == 200
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth") - viewport["width"]
        assert overflow <= 0, f"{url} is {overflow}px wider than a {viewport['width']}px screen"
        screenshot(page, f"public-{name}-{viewport['width']}")
    expect(page.locator(".timeline-drawing .mark")).to_have_count(4)
    expect(page.locator("a.ref")).to_have_count(4)
    assert not page.problems, page.problems


CJK_FONT = {"ko": "CJK KR", "ja": "CJK JP"}  # Noto Sans CJK KR, Noto Sans CJK JP


def fonts_drawing(page, selector: str) -> set[str]:
    """The families of the fonts Chromium drew the text of the elements matching ``selector`` with."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
        assert nodes, f"nothing matches {selector} on {page.url}"
        return {
            font["familyName"]
            for node in nodes
            for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            if font["glyphCount"]
        }
    finally:
        cdp.detach()


@browser_db
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_public_pages_in_korean_and_japanese(new_page, seed, viewport):
    case_id = Person.objects.get(name="Kim Jeong-wook").case_id  # a seed case with Korean and Japanese texts
    pages = {
        "home": "/",
        "list": "/cases/",
        "search": "/cases/?q=김정욱",
        "case": f"/cases/{case_id}/",
        "case-timeline": f"/cases/{a_case_with_a_timeline()}/",
    }
    page = new_page(viewport=viewport)
    for language in ("ko", "ja"):
        for name, url in pages.items():
            assert page.goto(f"/{language}{url}").status == 200
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth") - viewport["width"]
            assert overflow <= 0, f"/{language}{url} is {overflow}px wider than a {viewport['width']}px screen"
            # The menu, in the page's language, and the names, in Hangul (lang="ko"), are drawn with the
            # CJK font of their language (fonts-noto-cjk): glyphs, not boxes, and kanji in their Japanese forms.
            for selector, written_in in ((".site-header nav a", language), (".name-native", "ko")):
                if page.locator(selector).count():
                    fonts = fonts_drawing(page, selector)
                    wanted = CJK_FONT[written_in]
                    assert any(wanted in family for family in fonts), f"{selector} on /{language}{url}: {fonts}"
            screenshot(page, f"public-{language}-{name}-{viewport['width']}")
    assert not page.problems, page.problems


@browser_db
def test_staff_dashboard(editor_page, seed):
    caseworker = staff_user("caseworker", "Caseworker")
    person = make_person(name="Han Song-i", by=caseworker)
    make_event(person, Status.DETAINED, "2023-11", by=caseworker, place="Musan")
    submit_for_review(person, by=caseworker)
    editor_page.reload()
    # The admin's header and links, as on every staff page, and one heading.
    expect(editor_page.locator("#site-name")).to_have_text("Whereabouts")
    expect(editor_page.get_by_role("button", name="Log out")).to_be_visible()
    expect(editor_page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(editor_page.get_by_role("heading", name="Waiting for review (1)")).to_be_visible()
    screenshot(editor_page, "staff-dashboard-1280")
    assert not editor_page.problems, editor_page.problems

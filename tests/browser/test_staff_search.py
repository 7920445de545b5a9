"""Staff search in a real browser: the admin's person list finds each seed person by every spelling and in Hangul."""

import unicodedata

from playwright.sync_api import expect

from cases.models import Person

from .conftest import browser_db, screenshot

SPELLINGS = {
    "Kim Kook-ki": ["Kim Kook-kie", "Kim Kook-ki", "Gim Guk-gi", "김국기", unicodedata.normalize("NFD", "김국기")],
    "Choi Chun-gil": ["Choi-Chun-gil", "Choe Chun-gil", "choi chungil", "최춘길"],
    "Kim Jeong-wook": ["Kim Jung-wook", "김정욱"],
    "Kim Cheol-ok": ["Kim Chol-ok", "김철옥"],
}


@browser_db
def test_the_person_list_finds_each_seed_person_by_every_spelling(editor_page, seed):
    page = editor_page
    page.goto("/admin/cases/person/")
    for name, spellings in SPELLINGS.items():
        case_id = Person.objects.get(name=name).case_id
        for spelling in spellings:
            box = page.locator("#searchbar")
            box.fill(spelling)
            box.press("Enter")
            page.wait_for_load_state()
            first_row = page.locator("#result_list tbody tr").first
            expect(first_row).to_contain_text(case_id)
            expect(first_row).to_contain_text(name)
    screenshot(page, "staff-search-hangul")
    assert not page.problems, page.problems


@browser_db
def test_a_case_found_by_spelling_opens_from_the_list(editor_page, seed):
    page = editor_page
    page.goto("/admin/cases/person/")
    page.locator("#searchbar").fill("Choe Chun-gil")
    page.locator("#searchbar").press("Enter")
    page.locator("#result_list tbody tr").first.get_by_role("link").first.click()
    expect(page.locator("#id_name")).to_have_value("Choi Chun-gil")
    screenshot(page, "staff-search-opened-case")

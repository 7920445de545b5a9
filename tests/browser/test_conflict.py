"""Two people edit the same case in two browsers: the second save is refused, and nothing is lost."""

import re

from playwright.sync_api import expect

from cases.models import Person

from ..conftest import make_person
from .conftest import browser_db, screenshot, sign_in, staff_user

SUMMARY_BEFORE = "Detained in Onsong in 2016."
ALICES_SUMMARY = "Detained in Onsong in 2016; moved to Jongori in 2018."
BOBS_NOTE = "The cousin who called on 3 May asked us not to name the village."


@browser_db
def test_the_second_save_is_refused_with_what_changed_and_nothing_is_lost(new_page):
    staff_user("alice", "Caseworker")
    staff_user("bob", "Caseworker")
    person = make_person(name="Ri Chol-ho", summary=SUMMARY_BEFORE)
    url = f"/admin/cases/person/{person.pk}/change/"

    alice, bob = new_page(), new_page()  # two browser contexts: two sessions
    sign_in(alice, "alice", next_url=url)
    sign_in(bob, "bob", next_url=url)
    # Both have the page open at the same version.
    expect(alice.locator("#id_summary")).to_have_value(SUMMARY_BEFORE)
    expect(bob.locator("#id_summary")).to_have_value(SUMMARY_BEFORE)

    alice.locator("#id_summary").fill(ALICES_SUMMARY)
    alice.get_by_role("button", name="Save and continue editing").click()
    expect(alice.locator(".messagelist")).to_contain_text("was changed successfully")

    bob.locator("#id_internal_notes").fill(BOBS_NOTE)
    bob.get_by_role("button", name="Save and continue editing").click()

    # Refused, saying why, who changed what, and what to do.
    error = bob.locator(".errorlist.nonfield")
    expect(error).to_contain_text("Someone else saved this person while you were editing it")
    expect(error).to_contain_text("Reload the page to see the current version")
    expect(error.locator("li li")).to_have_count(1)
    expect(error.locator("li li")).to_contain_text(
        re.compile(r"alice: Changed in admin: public summary \(public summary: ")
    )
    expect(bob.locator(".errornote")).to_be_visible()
    expect(bob.locator(".messagelist")).to_have_count(0)
    screenshot(bob, "staff-conflict-refused-1280")
    # Bob's typing is still in his form, to copy; Alice's save stands.
    expect(bob.locator("#id_internal_notes")).to_have_value(BOBS_NOTE)
    person.refresh_from_db()
    assert (person.summary, person.internal_notes) == (ALICES_SUMMARY, "")
    assert person.history.count() == 2  # created, then Alice's save: nothing from Bob

    # Bob reloads, sees Alice's summary, makes his change again: both are kept.
    bob.goto(url)
    expect(bob.locator("#id_summary")).to_have_value(ALICES_SUMMARY)
    bob.locator("#id_internal_notes").fill(BOBS_NOTE)
    bob.get_by_role("button", name="Save and continue editing").click()
    expect(bob.locator(".messagelist")).to_contain_text("was changed successfully")
    person.refresh_from_db()
    assert (person.summary, person.internal_notes) == (ALICES_SUMMARY, BOBS_NOTE)
    assert list(person.history.order_by("-history_date").values_list("history_user__username", flat=True)[:2]) == [
        "bob",
        "alice",
    ]
    assert Person.objects.count() == 1

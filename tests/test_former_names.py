"""A case renamed and published again is still found under the public names of its earlier versions, pointing to
the current case; a redaction takes a name out of every version's index at once."""

import pytest

from cases.history import save_with_history
from cases.models import NameVariant

from .factories import make_publishable_case, make_variant, publish_case

pytestmark = pytest.mark.django_db


def found(client, query: str) -> str:
    return client.get("/cases/", {"q": query}).content.decode()


def api_found(client, query: str) -> list[str]:
    return [case["case_id"] for case in client.get("/api/cases/", {"q": query}).json()["results"]]


@pytest.fixture
def renamed():
    person = publish_case(make_publishable_case(name="Ri Oldnamex"))
    person.name = "Ri Newnamey"
    save_with_history(person, by=None, reason="The family gave the right spelling")
    return publish_case(person)


def test_a_renamed_case_is_found_under_its_former_public_name(client, renamed):
    page = found(client, "Ri Oldnamex")
    assert f"/cases/{renamed.case_id}/" in page and "Ri Newnamey" in page
    assert api_found(client, "Oldnamex") == [renamed.case_id]
    assert api_found(client, "Ri Newnamey") == [renamed.case_id]
    # The former name points to the current case, once.
    assert page.count(f'href="/cases/{renamed.case_id}/"') == 1


def test_a_name_withheld_for_a_reprisal_risk_leaves_every_index_at_once(client, renamed):
    renamed.reprisal_risk, renamed.pseudonym = True, "Person K"
    save_with_history(renamed, by=None, reason="The family fears reprisals")
    assert api_found(client, "Ri Oldnamex") == []
    assert api_found(client, "Ri Newnamey") == []
    assert f"/cases/{renamed.case_id}/" not in found(client, "Ri Oldnamex")


def test_a_spelling_made_non_public_leaves_the_index_of_the_renamed_case(client, renamed):
    variant = make_variant(renamed, "Ri Yongtaekx", is_public=True)
    publish_case(renamed)
    renamed.name = "Ri Thirdnamez"
    save_with_history(renamed, by=None, reason="Another correction")
    publish_case(renamed)
    assert api_found(client, "Ri Yongtaekx") == [renamed.case_id]
    assert api_found(client, "Ri Oldnamex") == [renamed.case_id]
    variant.is_public = False
    save_with_history(variant, by=None, reason="The family asked")
    assert api_found(client, "Ri Yongtaekx") == []
    assert api_found(client, "Ri Oldnamex") == [renamed.case_id]  # the other former names stay
    assert not NameVariant.objects.filter(person=renamed, is_public=True).exists()


def test_the_names_of_a_withdrawn_version_are_not_searched(client):
    from workflow.services import return_to_draft, withdraw

    person = publish_case(make_publishable_case(name="Ri Wrongmanx"))
    withdraw(person, by=None, reason="Published by mistake: another man's name")
    return_to_draft(person, by=None, reason="To correct it")
    person.refresh_from_db()
    person.name = "Ri Rightmany"
    save_with_history(person, by=None, reason="The right person")
    publish_case(person)
    assert api_found(client, "Ri Rightmany") == [person.case_id]
    assert api_found(client, "Ri Wrongmanx") == []


def test_a_case_now_unnamed_is_not_found_under_its_former_name(client, renamed):
    renamed.name, renamed.descriptor = "", "A man detained in 2019 (name withheld)"
    save_with_history(renamed, by=None, reason="The family asked that the name be withheld")
    publish_case(renamed)
    assert api_found(client, "Ri Oldnamex") == []
    assert api_found(client, "Ri Newnamey") == []


def test_an_earlier_pseudonym_is_not_indexed_as_a_name(client):
    person = make_publishable_case(name="Han Realnamex", reprisal_risk=True, pseudonym="Person Q")
    publish_case(person)
    person.reprisal_risk = False
    save_with_history(person, by=None, reason="The family no longer fears reprisals")
    publish_case(person)
    assert api_found(client, "Han Realnamex") == [person.case_id]
    assert api_found(client, "Person Q") == []

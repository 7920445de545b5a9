"""Staff search: the admin's person list finds a case by any spelling of any name staff may see, best match first."""

import io
import unicodedata

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from cases.models import Person

from .conftest import make_person, make_variant

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:cases_person_changelist")


@pytest.fixture(scope="module")
def _seed_for_this_module(django_db_setup, django_db_blocker):
    """The seed, loaded once for the module, in a transaction rolled back at its end (each test runs in a savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_seed", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seed(_seed_for_this_module, db):
    pass


def case_id_of(name: str) -> str:
    return Person.objects.get(name=name).case_id


def listed(client, q: str, **params) -> list[str]:
    response = client.get(CHANGELIST, {"q": q, **params})
    assert response.status_code == 200, (q, response.status_code)
    return [person.case_id for person in response.context["cl"].result_list]


SPELLINGS = [
    ("Kim Kook-kie", "Kim Kook-ki"),
    ("Kim Kook-ki", "Kim Kook-ki"),
    ("Gim Guk-gi", "Kim Kook-ki"),
    ("Kim Kuk-ki", "Kim Kook-ki"),
    ("김국기", "Kim Kook-ki"),
    (unicodedata.normalize("NFD", "김국기"), "Kim Kook-ki"),
    ("Choi-Chun-gil", "Choi Chun-gil"),
    ("Choe Chun-gil", "Choi Chun-gil"),
    ("choi chungil", "Choi Chun-gil"),
    ("최춘길", "Choi Chun-gil"),
    ("Kim Jung-wook", "Kim Jeong-wook"),
    ("Kim Jeong-wook", "Kim Jeong-wook"),
    ("김정욱", "Kim Jeong-wook"),
    (unicodedata.normalize("NFD", "김정욱"), "Kim Jeong-wook"),
    ("Kim Chol-ok", "Kim Cheol-ok"),
    ("Cheol-ok Kim", "Kim Cheol-ok"),
    ("김철옥", "Kim Cheol-ok"),
]


@pytest.mark.parametrize(
    ("query", "name"), SPELLINGS, ids=[query.encode("unicode_escape").decode() for query, _ in SPELLINGS]
)
def test_each_seed_spelling_lists_the_case_first(editor_client, seed, query, name):
    found = listed(editor_client, query)
    assert found, f"{query!r} found nothing"
    assert found[0] == case_id_of(name)


def test_the_nfd_queries_really_are_decomposed():
    assert unicodedata.normalize("NFD", "김정욱") != "김정욱"


def test_the_changelist_shows_the_found_case(caseworker_client, seed):
    response = caseworker_client.get(CHANGELIST, {"q": "Choe Chun-gil"})
    person = Person.objects.get(name="Choi Chun-gil")
    html = response.content.decode()
    assert reverse("admin:cases_person_change", args=[person.pk]) in html
    assert "Choi Chun-gil" in html


def test_a_hangul_name_lists_only_its_person(editor_client, seed):
    assert listed(editor_client, "김국기") == [case_id_of("Kim Kook-ki")]
    assert listed(editor_client, "최춘길") == [case_id_of("Choi Chun-gil")]


@pytest.mark.parametrize(("query", "name"), [("Kim Kok-ki", "Kim Kook-ki"), ("Choi Chun-gill", "Choi Chun-gil")])
def test_small_misspellings_list_the_case_first(editor_client, seed, query, name):
    found = listed(editor_client, query)
    assert found
    assert found[0] == case_id_of(name)


def test_a_non_public_variant_is_found_by_staff(caseworker_client, db):
    person = make_person(name="Ri Myong-chol")
    make_variant(person, "Lee Myung-chul", is_public=False)
    make_person(name="Pak Sun-hui")
    assert listed(caseworker_client, "Lee Myung-chul") == [person.case_id]
    assert listed(caseworker_client, "Yi Myung-chul") == [person.case_id]


def test_an_unpublished_draft_is_found_by_its_native_name(caseworker_client, db):
    person = make_person(name="Jeong Min-jun", family_name_native="정", given_name_native="민준")
    make_person(name="Jeong Min-ho", family_name_native="정", given_name_native="민호")
    assert listed(caseworker_client, "정민준")[0] == person.case_id
    assert listed(caseworker_client, "Jung Min-jun")[0] == person.case_id


def test_the_case_id_lists_its_case_first(editor_client, seed):
    case_id = case_id_of("Kim Kook-ki")
    assert listed(editor_client, case_id)[0] == case_id
    assert listed(editor_client, case_id.lower())[0] == case_id


def test_the_external_reference_lists_its_case(editor_client, seed):
    assert listed(editor_client, "seed-choi-chun-gil") == [case_id_of("Choi Chun-gil")]


def test_the_descriptor_of_an_unnamed_person_still_finds_them(editor_client, seed):
    found = listed(editor_client, "Teenage boy")
    assert len(found) == 2
    assert set(found) == set(Person.objects.filter(name="").values_list("case_id", flat=True))


def test_the_exact_spelling_ranks_above_a_near_one(editor_client, db):
    near = make_person(name="Ryu Myong-sik")
    exact = make_person(name="Ryu Myong-si")
    assert listed(editor_client, "Ryu Myong-si")[:2] == [exact.case_id, near.case_id]


def test_a_column_chosen_by_the_user_orders_the_results(editor_client, seed):
    # Ordered by the case ID column, descending, as the list's header link does.
    columns = editor_client.get(CHANGELIST).context["cl"].list_display
    found = listed(editor_client, "Kim", o=f"-{columns.index('case_id')}")
    assert found == sorted(found, reverse=True)
    assert len(found) >= 3


def test_search_keeps_the_list_filters(editor_client, seed):
    assert listed(editor_client, "Choe Chun-gil", publication_state="draft") == []


def test_nothing_found_says_so(editor_client, seed):
    response = editor_client.get(CHANGELIST, {"q": "Zzyzx Qwerty"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_an_empty_query_lists_every_case(editor_client, seed):
    assert len(listed(editor_client, "  ")) == Person.objects.count()


def test_the_search_needs_a_staff_account(client, seed):
    response = client.get(CHANGELIST, {"q": "Kim Kook-ki"})
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_a_changelist_search_takes_a_fixed_number_of_queries(editor_client, seed, django_assert_max_num_queries):
    for n in range(30):
        person = make_person(name=f"Kim Kook-ki {n}", family_name_native="김", given_name_native="국기")
        make_variant(person, f"Gim Guk-gi {n}", is_public=False)
    editor_client.get(CHANGELIST, {"q": "Kim Kook-ki"})  # the session and permissions cached
    for query in ("Gim Guk-gi", "김국기", "Kim Kok-ki"):
        with django_assert_max_num_queries(25):
            response = editor_client.get(CHANGELIST, {"q": query})
        assert response.status_code == 200

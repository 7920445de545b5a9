"""Adding a person warns of possible duplicates under any spelling of the name, and creates nothing."""

import unicodedata

import pytest
from django.urls import reverse

from cases.models import NameVariant, Person

from .factories import admin_form_data, make_person, make_staff, make_variant

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/cases/person/add/"
WARNING = "These cases may be this person"


def add_person(client, **changes):
    page = client.get(ADD_URL)
    assert page.status_code == 200
    return client.post(ADD_URL, admin_form_data(page, **changes))


def assert_warned_about(response, *existing: Person, total: int) -> None:
    """The add was refused with the duplicate warning linking to ``existing``; nothing was created."""
    assert response.status_code == 200
    body = response.content.decode()
    assert WARNING in body
    assert "None of the possible duplicates is this person" in body
    for person in existing:
        assert f'href="{reverse("admin:cases_person_change", args=[person.pk])}"' in body
        assert person.case_id in body
    errors = response.context["adminform"].form.non_field_errors()
    assert any(WARNING in error for error in errors)
    assert Person.objects.count() == total


def test_a_spelling_of_an_existing_name_warns_and_creates_nothing(admin_client):
    existing = make_person(name="Kim Kook-ki")
    response = add_person(admin_client, name="Kim Kook-kie")
    assert_warned_about(response, existing, total=1)
    assert not Person.objects.filter(name="Kim Kook-kie").exists()


def test_the_warning_lists_only_the_matching_cases(admin_client):
    existing = make_person(name="Kim Kook-ki")
    unrelated = make_person(name="Park Young-soo")
    response = add_person(admin_client, name="Kim Kook-kie")
    assert_warned_about(response, existing, total=2)
    assert reverse("admin:cases_person_change", args=[unrelated.pk]) not in response.content.decode()


def test_a_match_through_a_name_variant_of_the_existing_person(admin_client):
    existing = make_person(name="Jang Song-il")
    make_variant(existing, "Ahn Myong-chol", kind="alias")
    response = add_person(admin_client, name="An Myung-chul")
    assert_warned_about(response, existing, total=1)


def test_a_match_through_a_romanization_typed_in_the_new_persons_variants(admin_client):
    existing = make_person(name="Kim Kook-ki")
    response = add_person(
        admin_client,
        descriptor="Man arrested in Hyesan, 2019",
        **{"variants-0-name": "Gim Guk-gi", "variants-0-kind": "romanization"},
    )
    assert_warned_about(response, existing, total=1)
    assert not NameVariant.objects.filter(name="Gim Guk-gi").exists()


def test_a_match_through_the_hangul_name(admin_client):
    existing = make_person(name="Kim Kook-ki", family_name_native="김", given_name_native="국기")
    response = add_person(
        admin_client, descriptor="Man from Hoeryong", family_name_native="김", given_name_native="국기"
    )
    assert_warned_about(response, existing, total=1)


def test_a_match_through_the_hangul_name_typed_decomposed(admin_client):
    existing = make_person(name="Kim Kook-ki", family_name_native="김", given_name_native="국기")
    family, given = unicodedata.normalize("NFD", "김"), unicodedata.normalize("NFD", "국기")
    assert family != "김" and given != "국기"
    response = add_person(
        admin_client, descriptor="Man from Hoeryong", family_name_native=family, given_name_native=given
    )
    assert_warned_about(response, existing, total=1)


def test_a_decomposed_hangul_name_on_record_matches_a_composed_one_typed(admin_client):
    existing = make_person(
        name="Kim Kook-ki",
        family_name_native=unicodedata.normalize("NFD", "김"),
        given_name_native=unicodedata.normalize("NFD", "국기"),
    )
    response = add_person(
        admin_client, descriptor="Man from Hoeryong", family_name_native="김", given_name_native="국기"
    )
    assert_warned_about(response, existing, total=1)


@pytest.mark.parametrize("typed", ["김국기", "김 국기"])
def test_the_hangul_name_typed_as_the_name_matches_the_native_names(admin_client, typed):
    existing = make_person(name="Kim Kook-ki", family_name_native="김", given_name_native="국기")
    response = add_person(admin_client, name=typed)
    assert_warned_about(response, existing, total=1)


@pytest.mark.parametrize(
    ("on_record", "typed"),
    [
        ("Choi-Chun-gil", "CHOI chun gil"),
        ("Choi-Chun-gil", "choi chungil"),
        ("CHOI chun gil", "Choi-Chun-gil"),
        ("Ch'oe Ch'un-gil", "Choe Chun-gil"),
    ],
)
def test_case_hyphen_space_and_apostrophe_differences_match(admin_client, on_record, typed):
    existing = make_person(name=on_record)
    response = add_person(admin_client, name=typed)
    assert_warned_about(response, existing, total=1)


def test_ticking_not_a_duplicate_creates_the_new_case(admin_client):
    existing = make_person(name="Kim Kook-ki")
    response = add_person(
        admin_client,
        name="Kim Kook-kie",
        not_a_duplicate="on",
        **{"variants-0-name": "Gim Guk-gi", "variants-0-kind": "romanization"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Person.objects.count() == 2
    created = Person.objects.exclude(pk=existing.pk).get()
    assert created.name == "Kim Kook-kie"
    assert created.variants.get().name == "Gim Guk-gi"
    assert created.history.get().history_user.username == "admin"


def test_an_unrelated_name_is_created_without_warning(admin_client):
    make_person(name="Kim Kook-ki", family_name_native="김", given_name_native="국기")
    response = add_person(admin_client, name="Park Young-soo", family_name_native="박", given_name_native="영수")
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Person.objects.filter(name="Park Young-soo").exists()
    follow = admin_client.get(response["Location"])
    assert WARNING not in follow.content.decode()


def test_the_first_person_is_created_without_warning(admin_client):
    response = add_person(admin_client, name="Kim Kook-ki")
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Person.objects.get().name == "Kim Kook-ki"


def test_editing_an_existing_person_does_not_warn(admin_client):
    make_person(name="Kim Kook-ki")
    twin = make_person(name="Kim Kook-kie")
    url = reverse("admin:cases_person_change", args=[twin.pk])
    page = admin_client.get(url)
    assert "not_a_duplicate" not in page.content.decode()
    response = admin_client.post(url, admin_form_data(page, summary="Arrested in 2019."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    twin.refresh_from_db()
    assert twin.summary == "Arrested in 2019."


def test_renaming_to_another_persons_spelling_does_not_warn(admin_client):
    make_person(name="Kim Kook-ki")
    other = make_person(name="Park Young-soo")
    url = reverse("admin:cases_person_change", args=[other.pk])
    response = admin_client.post(url, admin_form_data(admin_client.get(url), name="Kim Kook-kie"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    other.refresh_from_db()
    assert other.name == "Kim Kook-kie"


def test_a_caseworker_gets_the_same_warning(client):
    caseworker = make_staff("Caseworker", "caseworker-1")
    client.force_login(caseworker)
    existing = make_person(name="Kim Kook-ki")
    response = add_person(client, name="Kim Kook-kie")
    assert_warned_about(response, existing, total=1)


def test_a_user_without_add_permission_cannot_add_at_all(client):
    researcher = make_staff("Researcher", "researcher-1")
    client.force_login(researcher)
    make_person(name="Kim Kook-ki")
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, {"name": "Kim Kook-kie", "not_a_duplicate": "on"}).status_code == 403
    assert Person.objects.count() == 1


def test_the_birth_year_weighs_in_the_warning(admin_client):
    """One rule with the duplicate review: a namesake born forty years apart is not this person."""
    from cases.partial_dates import PartialDate

    make_person(name="Kim Kook-ki", birth_date=PartialDate(1950))
    near = make_person(name="Kim Kuk-ki", birth_date=PartialDate(1988))
    response = add_person(admin_client, name="Kim Kook-kie", birth_date="1989")
    assert_warned_about(response, near, total=2)
    assert "score" in response.content.decode()
    created = add_person(admin_client, name="Kim Kook-kie", birth_date="1930")
    assert created.status_code == 302 and Person.objects.count() == 3


def test_a_merged_or_withdrawn_record_is_not_offered(admin_client):
    from cases.models import PublicationState

    gone = make_person(name="Kim Kook-ki", publication_state=PublicationState.WITHDRAWN)
    response = add_person(admin_client, name="Kim Kook-kie")
    assert response.status_code == 302
    assert reverse("admin:cases_person_change", args=[gone.pk]) not in response.content.decode()

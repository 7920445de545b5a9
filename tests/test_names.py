"""Name keys: one person found under many spellings of a name."""

import unicodedata

import pytest

from cases.models import NameVariant, Person
from cases.names import SURNAMES, NameFinder, fold, normalise
from tests.conftest import make_person, make_variant

HANGUL = "김철옥"
HANGUL_NFD = unicodedata.normalize("NFD", HANGUL)


# --- The normalised key -------------------------------------------------------


@pytest.mark.parametrize("spelling", ["Choi Chun-gil", "Choi-Chun-gil", "CHOI Chun Gil", "choi chungil", "ChoiChungil"])
def test_normalise_ignores_case_spaces_and_hyphens(spelling):
    assert normalise(spelling) == normalise("Choi Chun-gil") == "choichungil"


@pytest.mark.parametrize(
    ("spelling", "plain"),
    [
        ("Ch'oe Ch'un-gil", "Choe Chun-gil"),
        ("Ch’oe Ch’un-gil", "Choe Chun-gil"),
        ("Kim Chŏng-uk", "Kim Chong-uk"),
        ("Ŭn-hŭi Pak", "Un-hui Pak"),
        ("  Kim\tCheol–ok ", "Kim Cheol-ok"),
    ],
)
def test_normalise_ignores_apostrophes_accents_and_odd_separators(spelling, plain):
    assert normalise(spelling) == normalise(plain)


def test_normalise_keeps_hangul_composed_so_nfc_and_nfd_agree():
    assert HANGUL_NFD != HANGUL
    assert normalise(HANGUL_NFD) == normalise(HANGUL) == HANGUL
    assert normalise("김 철옥") == HANGUL


def test_normalise_does_not_join_different_names():
    assert normalise("Choi Chun-gil") != normalise("Choe Chun-gil")
    assert normalise("Kim Cheol-ok") != normalise("Kim Cheol-uk")


@pytest.mark.parametrize("empty", ["", "   ", "-", " - ' ", None])
def test_empty_name_gives_empty_keys(empty):
    assert normalise(empty) == ""
    assert fold(empty) == ""


# --- The folded key -----------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        pytest.param(["Kim Kook-ki", "Kim Kook-kie", "Gim Guk-gi", "Kim Kuk-ki"], id="kim-kook-ki"),
        pytest.param(["Choi Chun-gil", "Choe Chun-gil", "Ch'oe Ch'un-gil", "CHOI CHUN GIL"], id="choi-chun-gil"),
        pytest.param(["Kim Jeong-wook", "Kim Jung-wook", "Kim Chŏng-uk"], id="kim-jeong-wook"),
        pytest.param(["Kim Cheol-ok", "Kim Chul-ok", "Gim Cheol-ok"], id="kim-cheol-ok"),
    ],
)
def test_fold_gives_one_key_for_romanization_variants(spellings):
    keys = {fold(spelling) for spelling in spellings}

    assert len(keys) == 1, dict(zip(spellings, map(fold, spellings), strict=True))
    assert keys != {""}


@pytest.mark.parametrize(
    "surnames",
    [
        pytest.param(["Lee", "Yi", "Rhee", "Ri"], id="lee"),
        pytest.param(["Park", "Pak", "Bak"], id="park"),
        pytest.param(["Jeong", "Jung", "Chung"], id="jeong"),
        pytest.param(["Kim", "Gim"], id="kim"),
        pytest.param(["Choi", "Choe"], id="choi"),
    ],
)
def test_fold_maps_family_name_spellings_to_one(surnames):
    canonical = {SURNAMES[surname.lower()] for surname in surnames}
    keys = {fold(f"{surname} Min-ho") for surname in surnames}

    assert len(canonical) == 1
    assert len(keys) == 1, keys
    assert keys.pop().startswith(canonical.pop())


@pytest.mark.parametrize(
    ("western", "eastern"),
    [
        ("Cheol-ok Kim", "Kim Cheol-ok"),
        ("Kook-ki Gim", "Kim Kook-ki"),
        ("Yong-su Pak", "Park Yong-su"),
    ],
)
def test_fold_reads_western_order_like_family_name_first(western, eastern):
    assert fold(western) == fold(eastern)


@pytest.mark.parametrize(
    ("western", "eastern"),
    [
        # The given name's first syllable is also a family name (Min, Sung, Chun), but the
        # hyphenated "Min-ho" is clearly the given name and "Park" the family name.
        ("Min-ho Park", "Park Min-ho"),
        ("Sung-min Kim", "Kim Sung-min"),
        ("Chun-gil Choe", "Choi Chun-gil"),
    ],
)
def test_fold_reads_western_order_when_the_given_name_starts_with_a_family_name_syllable(western, eastern):
    assert fold(western) == fold(eastern)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Kim Cheol-ok", "Kim Jeong-wook"),
        ("Park Min-ho", "Lee Min-ho"),
        ("Kim Min-ho", "Choi Min-ho"),
        ("Kim Min-ho", "Kim Min-su"),
        ("Kim Cheol-ok", "Cheol-ok Park"),
    ],
)
def test_fold_keeps_different_people_apart(one, other):
    assert fold(one) != fold(other)


def test_fold_of_hangul_is_the_normalised_key_for_nfc_and_nfd():
    assert fold(HANGUL) == fold(HANGUL_NFD) == normalise(HANGUL) == HANGUL


def test_fold_of_a_single_name_folds_it_without_a_family_name():
    assert fold("Kook-ki") == fold("Guk-gi")
    assert fold("Kim") == "kim"


# --- Finding persons ----------------------------------------------------------


def may_be(name: str) -> list[Person]:
    """The existing persons a new person of this name may be: the rule of the add form, the import preview and the
    duplicate review (linkage.matching)."""
    from linkage.matching import candidates_for_rows

    entered = Person(name=name)
    entered.set_name_keys()
    return [candidate.person for candidate in candidates_for_rows([(entered, [], [])])[0]]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Kim Kook-ki", "kim kookki", "Gim Guk-gi", "Kim Kuk-ki", "Kook-ki Kim"])
def test_a_new_name_may_be_finds_a_person_under_a_variant_spelling(query):
    person = make_person(name="Kim Kook-ki")
    make_person(name="Lee Min-ho")

    assert list(may_be(query)) == [person]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Pak Yong-su", "PARK YONG SU", "Bak Yong-soo"])
def test_a_new_name_may_be_finds_a_person_by_a_name_variant(query):
    person = make_person(name="Kim Cheol-ok")
    make_variant(person, "Park Yong-su", kind=NameVariant.Kind.ALIAS)
    make_person(name="Park Min-ho")

    assert list(may_be(query)) == [person]


@pytest.mark.django_db
def test_a_new_name_may_be_finds_a_native_script_variant_from_nfd_input():
    person = make_person(name="Kim Cheol-ok")
    make_variant(person, HANGUL, kind=NameVariant.Kind.NATIVE)

    assert list(may_be(HANGUL_NFD)) == [person]


@pytest.mark.django_db
def test_a_new_name_may_be_returns_a_person_once_even_when_several_names_match():
    person = make_person(name="Choi Chun-gil")
    make_variant(person, "Choe Chun-gil")
    make_variant(person, "Ch'oe Ch'un-gil")

    assert may_be("Choi Chun-gil") == [person]


@pytest.mark.django_db
def test_a_new_name_may_be_does_not_find_an_unrelated_person():
    make_person(name="Kim Cheol-ok")
    other = make_person(name="Lee Min-ho")
    make_variant(other, "Yi Min-ho")

    assert not may_be("Kim Jeong-wook")
    assert not may_be("Park Min-ho")


@pytest.mark.django_db
def test_matching_an_empty_name_finds_nobody():
    make_person(name="", descriptor="Teenage boy, sentenced January 2024")

    assert not may_be("")
    assert not may_be("  -  ")


@pytest.mark.parametrize(
    "text",
    ["Kim Jeong-wook은 2014년에 체포되었다.", "Kim Jeong-wookさんは拘束された。", "報告書:Kim Jeong-wook", "김정욱Kim"],
)
def test_a_romanized_name_written_against_korean_or_japanese_words_is_found(text):
    assert NameFinder(["Kim Jeong-wook", "김정욱"]).finds(text)

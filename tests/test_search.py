"""Name search on the public case list: a family's spelling finds the person, and nothing restricted is searchable."""

import io
import re
import unicodedata

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from cases.history import save_with_history
from cases.models import Person, PublicationState, Status
from workflow.models import PublishedVersion
from workflow.services import return_to_draft, submit_for_review, withdraw

from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

NO_MATCH = "No published case matches"


@pytest.fixture(scope="module", autouse=True)
def _seed_for_this_module(django_db_setup, django_db_blocker):
    """The seed, loaded once for every test of this module, in a transaction rolled back at the module's end.

    Each test runs inside it in its own savepoint, so what a test changes (a
    withdrawal, a new case) is undone before the next test.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_seed", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seed(_seed_for_this_module, db):
    assert PublishedVersion.objects.current().count() == 6


def search(client, q, **params):
    response = client.get(reverse("public:case_list"), {"q": q, **params})
    assert response.status_code == 200, (q, response.status_code)
    return response


def found(response) -> list[str]:
    return [version.case_id for version in response.context["cases"]]


def html_of(response) -> str:
    return response.content.decode()


def results_html(response) -> str:
    """The results section of the list page only (the search form and the search's chip repeat the query)."""
    html = html_of(response)
    results = html[html.index('<section class="results"') :]
    return re.sub(r'<div class="active-filters">.*?</div>', "", results, flags=re.S)


def published_person(name: str, *, status: str = Status.DETAINED, date: str = "2015", **fields) -> Person:
    person = make_person(name=name, **fields)
    event = make_event(person, status, date, is_public=True)
    make_citation(make_source(), status_event=event)
    return publish_case(person)


# --- Spellings of the seed names ---------------------------------------------------------------

SPELLINGS = [
    ("choi chungil", "KP-0004", "Choi Chun-gil"),
    ("Choi-Chun-gil", "KP-0004", "Choi Chun-gil"),
    ("CHOI Chun Gil", "KP-0004", "Choi Chun-gil"),
    ("Choe Chun-gil", "KP-0004", "Choi Chun-gil"),
    ("Ch'oe Ch'un-gil", "KP-0004", "Choi Chun-gil"),
    ("최춘길", "KP-0004", "Choi Chun-gil"),
    ("Kim Kook-ki", "KP-0003", "Kim Kook-ki"),
    ("Kim Kook-kie", "KP-0003", "Kim Kook-ki"),
    ("Gim Guk-gi", "KP-0003", "Kim Kook-ki"),
    ("Kim Kuk-ki", "KP-0003", "Kim Kook-ki"),
    ("김국기", "KP-0003", "Kim Kook-ki"),
    (unicodedata.normalize("NFD", "김국기"), "KP-0003", "Kim Kook-ki"),
    ("Kim Cheol-ok", "KP-0001", "Kim Cheol-ok"),
    ("Kim Chol-ok", "KP-0001", "Kim Cheol-ok"),
    ("Cheol-ok Kim", "KP-0001", "Kim Cheol-ok"),
    ("김철옥", "KP-0001", "Kim Cheol-ok"),
    ("Kim Jeong-wook", "KP-0002", "Kim Jeong-wook"),
    ("Kim Jung-wook", "KP-0002", "Kim Jeong-wook"),
]


@pytest.mark.parametrize(
    ("query", "case_id", "name"), SPELLINGS, ids=[s[0].encode("unicode_escape").decode() for s in SPELLINGS]
)
def test_each_spelling_finds_the_person_first(client, seed, query, case_id, name):
    response = search(client, query)
    ids = found(response)
    assert ids, f"{query!r} found nothing"
    assert ids[0] == case_id
    # The row is the current version's (a row of the list holds only the columns it shows).
    first = PublishedVersion.objects.get(pk=response.context["cases"][0].pk)
    assert first.name == name
    assert first.is_current and first.withdrawn_at is None
    html = results_html(response)
    assert f'href="{reverse("public:case_detail", args=[case_id])}"' in html
    assert name in html
    assert NO_MATCH not in html


def test_the_nfd_query_really_is_decomposed():
    # Guard: the NFD case above tests something only if the input differs from the stored NFC form.
    nfd = unicodedata.normalize("NFD", "김국기")
    assert nfd != "김국기"
    assert len(nfd) > 3


def test_a_hangul_name_finds_only_its_person(client, seed):
    assert found(search(client, "김국기")) == ["KP-0003"]
    assert found(search(client, "최춘길")) == ["KP-0004"]
    assert found(search(client, "김철옥")) == ["KP-0001"]


@pytest.mark.parametrize(
    ("query", "case_id"),
    [("Kim Kok-ki", "KP-0003"), ("Choi Chun-gill", "KP-0004"), ("Kim Cheol-ock", "KP-0001")],
)
def test_small_misspellings_still_find_the_person_first(client, seed, query, case_id):
    ids = found(search(client, query))
    assert ids
    assert ids[0] == case_id


def test_an_unrelated_name_finds_nothing(client, seed):
    response = search(client, "Park Min-ho")
    assert found(response) == []
    assert response.context["page_obj"].paginator.count == 0
    html = results_html(response)
    assert NO_MATCH in html
    assert "0 cases" in html
    for name in ("Kim Cheol-ok", "Kim Jeong-wook", "Kim Kook-ki", "Choi Chun-gil"):
        assert name not in html


def test_without_a_query_every_published_case_is_listed(client, seed):
    response = client.get(reverse("public:case_list"))
    assert sorted(found(response)) == [f"KP-000{n}" for n in range(1, 7)]


# --- Ranking -------------------------------------------------------------------------------------


def test_an_exact_match_ranks_above_a_one_letter_difference(client):
    # Created first, so a tie broken by case ID would put the fuzzy match first.
    near = published_person("Han Sang-bin")
    exact = published_person("Han Sang-min")
    assert near.case_id < exact.case_id

    ids = found(search(client, "Han Sang-min"))
    assert ids[0] == exact.case_id
    assert near.case_id in ids  # found, but below
    assert ids.index(near.case_id) > ids.index(exact.case_id)

    ids = found(search(client, "Han Sang-bin"))
    assert ids[0] == near.case_id
    assert ids.index(exact.case_id) > 0


def test_an_exact_match_ranks_above_a_longer_name_containing_it(client):
    longer = published_person("Kim Min-ho Sok")
    exact = published_person("Kim Min-ho")
    ids = found(search(client, "Kim Min-ho"))
    assert ids[:2] == [exact.case_id, longer.case_id]


def test_the_given_name_alone_finds_the_person(client, seed):
    assert found(search(client, "Kook-ki"))[0] == "KP-0003"
    assert found(search(client, "Chun-gil"))[0] == "KP-0004"


# --- No search oracle on restricted values -------------------------------------------------------

HIDDEN = {
    "variant": "Zorvath Quennick",
    "notes": "Mirabel Tosskin",
    "external_ref": "Fennimore Blatch",
    "source_title": "Ulvarra Destrine",
    "citation_note": "Hexley Pondrake",
    "event_note": "Worrabine Selk",
    "variant_note": "Caddoway Prunk",
    PublicationState.DRAFT: "Yzolda Marrant",
    PublicationState.IN_REVIEW: "Brenquist Avolo",
    PublicationState.WITHDRAWN: "Telmarra Oskovin",
    "withdrawn_after_publication": "Quillon Barravet",
    "unpublished_edit": "Sarrow Imblethune",
}


@pytest.fixture
def planted(db):
    person = make_person(
        name="Ri Public-name",
        internal_notes=f"Internal: {HIDDEN['notes']}",
        external_ref=HIDDEN["external_ref"],
    )
    make_variant(person, HIDDEN["variant"], is_public=False)
    make_variant(person, "Ri Public-alias", is_public=True, note=HIDDEN["variant_note"])
    event = make_event(person, Status.ARRESTED, "2014", is_public=True, internal_note=HIDDEN["event_note"])
    make_citation(make_source(), status_event=event, note=HIDDEN["citation_note"])
    make_citation(make_source(title=HIDDEN["source_title"], is_restricted=True), person=person)
    publish_case(person)

    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.WITHDRAWN):
        make_person(name=HIDDEN[state], publication_state=state)

    gone = published_person(HIDDEN["withdrawn_after_publication"])
    withdraw(gone, by=None, reason="test: withdrawn")

    # Published under one name, then renamed in a draft that no editor has published.
    edited = published_person("Ri Edited-later")
    edited.refresh_from_db()
    edited.name = HIDDEN["unpublished_edit"]
    save_with_history(edited, by=None, reason="test: unreviewed rename")
    submit_for_review(edited, by=None)
    return person


@pytest.mark.parametrize("what", list(HIDDEN))
def test_a_restricted_value_is_not_searchable(client, planted, what):
    value = HIDDEN[what]
    for query in (value, value.upper(), value.replace(" ", "-"), value[:-1]):  # the last one: fuzzy
        response = search(client, query)
        assert found(response) == [], (what, query)
        assert response.context["page_obj"].paginator.count == 0
        html = results_html(response)
        assert NO_MATCH in html
        assert "Ri Public-name" not in html


def test_the_public_names_of_the_planted_case_are_searchable(client, planted):
    for query in ("Ri Public-name", "Ri Public-alias", "Lee Public-name"):
        response = search(client, query)
        assert found(response)[0] == planted.case_id, query
        assert "Ri Public-name" in results_html(response)
    assert found(search(client, "Ri Edited-later"))  # the published name still finds the edited case


def test_restricted_values_are_not_shown_on_the_search_results(client, planted):
    response = search(client, "Ri Public-name")
    html = results_html(response)
    for value in HIDDEN.values():
        assert value not in html


def test_a_name_made_non_public_after_publication_stops_being_found(client):
    person = make_person(name="Pak Visible-one")
    variant = make_variant(person, "Dralven Ostrichy", is_public=True)
    make_citation(make_source(), person=person)
    publish_case(person)
    assert found(search(client, "Dralven Ostrichy")) == [person.case_id]

    variant.is_public = False
    save_with_history(variant, by=None, reason="test: the family asked")

    response = search(client, "Dralven Ostrichy")
    assert found(response) == []
    assert NO_MATCH in results_html(response)
    assert found(search(client, "Dralven Ostrichi")) == []  # nor by a near spelling
    assert found(search(client, "Pak Visible-one")) == [person.case_id]  # the case itself stays
    page = client.get(reverse("public:case_detail", args=[person.case_id])).content.decode()
    assert "Dralven Ostrichy" not in page
    assert "Dralven Ostrichy" not in str(PublishedVersion.objects.get(person=person).record)


def test_a_deleted_public_variant_stops_being_found(client):
    person = make_person(name="Pak Visible-two")
    variant = make_variant(person, "Gorrimund Taffle", is_public=True)
    make_citation(make_source(), person=person)
    publish_case(person)
    assert found(search(client, "Gorrimund Taffle")) == [person.case_id]
    variant.delete()
    assert found(search(client, "Gorrimund Taffle")) == []


def test_a_withdrawn_case_is_not_found(client, seed):
    person = Person.objects.get(case_id="KP-0003")
    assert found(search(client, "Kim Kook-ki"))[0] == "KP-0003"
    withdraw(person, by=None, reason="test: withdrawn")
    person.refresh_from_db()
    assert person.publication_state == PublicationState.WITHDRAWN
    for query in ("Kim Kook-ki", "Kim Kook-kie", "김국기", "Gim Guk-gi", "Kim Kok-ki"):
        response = search(client, query)
        assert "KP-0003" not in found(response), query
        assert "Kim Kook-ki" not in results_html(response)
    assert found(search(client, "Choi Chun-gil")) == ["KP-0004"]


def test_a_case_published_again_is_found_once_under_its_new_version(client, seed):
    person = Person.objects.get(case_id="KP-0003")
    publish_case(person)
    response = search(client, "Kim Kook-kie")
    assert found(response).count("KP-0003") == 1
    assert found(response)[0] == "KP-0003"
    assert PublishedVersion.objects.get(pk=response.context["cases"][0].pk).number == 2

    withdraw(person, by=None, reason="test: withdrawn")
    assert "KP-0003" not in found(search(client, "Kim Kook-ki"))
    return_to_draft(person, by=None, reason="test: corrected")
    publish_case(person)
    response = search(client, "Kim Kook-ki")
    assert found(response)[0] == "KP-0003"
    assert PublishedVersion.objects.get(pk=response.context["cases"][0].pk).number == 3


def test_a_reprisal_risk_case_is_found_by_its_pseudonym_only(client):
    person = make_person(
        name="Byeon Cheol-ung",
        family_name_native="변",
        given_name_native="철웅",
        reprisal_risk=True,
        pseudonym="Witness Seventeen",
    )
    make_variant(person, "Pyon Chol-ung", is_public=True)
    make_citation(make_source(), person=person)
    publish_case(person)

    response = search(client, "Witness Seventeen")
    assert found(response) == [person.case_id]
    assert response.context["cases"][0].name == "Witness Seventeen"
    assert "Witness Seventeen" in results_html(response)
    for query in ("Byeon Cheol-ung", "Byeon Cheol-ong", "변철웅", "Pyon Chol-ung", "Pyeon Cheol-ung", "Cheol-ung"):
        response = search(client, query)
        assert found(response) == [], query
        assert "Witness Seventeen" not in results_html(response)


def test_a_reprisal_risk_flagged_after_publication_hides_the_real_name_at_once(client):
    person = make_person(name="Byeon Sun-hui", family_name_native="변", given_name_native="순희")
    make_citation(make_source(), person=person)
    publish_case(person)
    assert found(search(client, "Byeon Sun-hui")) == [person.case_id]
    assert found(search(client, "변순희")) == [person.case_id]

    person.refresh_from_db()
    person.reprisal_risk = True
    person.pseudonym = "Witness Eighteen"
    save_with_history(person, by=None, reason="test: reprisals reported")

    for query in ("Byeon Sun-hui", "변순희", "Pyon Sun-hui"):
        assert found(search(client, query)) == [], query
    response = search(client, "Witness Eighteen")
    assert found(response) == [person.case_id]
    assert "Byeon Sun-hui" not in html_of(response)


# --- Search with filters and sorting -------------------------------------------------------------


def test_search_combined_with_a_status_filter(client, seed):
    arrested = published_person("Kim Sang-chol", status=Status.ARRESTED)

    response = search(client, "Kim", status=Status.DISAPPEARED)
    ids = found(response)
    assert sorted(ids) == ["KP-0001", "KP-0002", "KP-0003"]
    assert all(version.status == Status.DISAPPEARED for version in response.context["cases"])
    assert "Kim Sang-chol" not in results_html(response)

    response = search(client, "Kim", status=Status.ARRESTED)
    assert found(response) == [arrested.case_id]
    assert "Kim Sang-chol" in results_html(response)

    assert found(search(client, "Choi Chun-gil", status=Status.ARRESTED)) == []
    assert found(search(client, "Choi Chun-gil", status=Status.DISAPPEARED)) == ["KP-0004"]
    assert found(search(client, "Kim Kook-kie", category="missionary"))[0] == "KP-0003"
    assert "KP-0001" not in found(search(client, "Kim Cheol-ok", category="missionary"))
    assert found(search(client, "Kim Cheol-ok", category="forcibly-repatriated-refugee")) == ["KP-0001"]


def test_search_with_an_invalid_filter_is_a_400_with_the_error(client, seed):
    response = client.get(reverse("public:case_list"), {"q": "Kim", "status": "no-such-status"})
    assert response.status_code == 400
    assert found(response) == []
    assert "These filters could not be used" in html_of(response)
    assert any(error.startswith("status:") for error in response.context["errors"])


def test_search_sorted_by_name(client, seed):
    by_relevance = found(search(client, "Kim"))
    assert sorted(by_relevance) == ["KP-0001", "KP-0002", "KP-0003"]

    response = search(client, "Kim", sort="name")
    assert [version.name for version in response.context["cases"]] == [
        "Kim Cheol-ok",
        "Kim Jeong-wook",
        "Kim Kook-ki",
    ]
    html = results_html(response)
    assert html.index("Kim Cheol-ok") < html.index("Kim Jeong-wook") < html.index("Kim Kook-ki")

    # The ranked order is different from the alphabetical one for a specific spelling.
    ranked = found(search(client, "Kim Kook-kie"))
    assert ranked[0] == "KP-0003"
    assert found(search(client, "Kim Kook-kie", sort="name")) == sorted(
        ranked, key=lambda case_id: Person.objects.get(case_id=case_id).name
    )


def test_search_sorted_by_relevance_is_the_default(client, seed):
    default = found(search(client, "Kim Jung-wook"))
    assert found(search(client, "Kim Jung-wook", sort="relevance")) == default
    assert default[0] == "KP-0002"


# --- Odd input never gives a server error --------------------------------------------------------

ODD_QUERIES = [
    "",
    " ",
    "%",
    "%%",
    "_",
    "%_%",
    "\\",
    "*",
    "[a-z]",
    "'",
    "''",
    '"',
    "-",
    "--",
    "' OR 1=1 --",
    "Kim'; DROP TABLE cases_person; --",
    ".,;:!?()[]{}",
    "\x7f",
    "\u200b",
    "\u202eKim",
    "\ufeff",
    "\u0301",
    "\u0301\u0301\u0301",
    "🙂",
    "👨‍👩‍👧",
    "Kim 🙂 Kook-ki",
    "ᄀ",
    "ㄱ",
    "ＫＩＭ",
    "𝕂𝕚𝕞",
    "ß",
    "İ",
    "\ufdfd",
    "a" * 200,
    "Kim " * 50,
    "김" * 200,
    "%" * 200,
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=[q[:20].encode("unicode_escape").decode() for q in ODD_QUERIES])
def test_odd_queries_are_not_server_errors(client, seed, query):
    response = client.get(reverse("public:case_list"), {"q": query})
    assert response.status_code == 200, response.status_code
    ids = found(response)
    assert len(ids) == len(set(ids))
    assert set(ids) <= {f"KP-000{n}" for n in range(1, 7)}


@pytest.mark.parametrize("query", ["", " ", "   "])
def test_an_empty_query_lists_every_case(client, seed, query):
    response = client.get(reverse("public:case_list"), {"q": query})
    assert response.status_code == 200
    assert sorted(found(response)) == [f"KP-000{n}" for n in range(1, 7)]


@pytest.mark.parametrize("query", ["%", "_", "%_%", "\\", "-", "'", ".,;:!?()[]{}", "🙂", "\u200b", "\x7f"])
def test_wildcard_and_punctuation_queries_do_not_match_everything(client, seed, query):
    # A LIKE wildcard or a query that normalises to nothing must not list every case as "matching".
    response = client.get(reverse("public:case_list"), {"q": query})
    assert response.status_code == 200
    assert found(response) == []


def test_the_query_is_shown_escaped(client, seed):
    response = client.get(reverse("public:case_list"), {"q": "<script>alert(1)</script>"})
    assert response.status_code == 200
    html = html_of(response)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("length", [201, 5000, 100_000])
def test_an_over_long_query_is_refused_not_a_server_error(client, seed, length):
    response = client.get(reverse("public:case_list"), {"q": "k" * length})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert found(response) == []
        assert any(error.startswith("q:") for error in response.context["errors"])


# No one types a control character into a search box: refused before the search sees it (security/input.py).
CONTROL_QUERIES = ["   \t  ", "\n", "\x01\x02", "\x01\x02\x1f\x7f", "Kim\x07Kook", "Kim\x00Kook"]


@pytest.mark.parametrize("query", CONTROL_QUERIES, ids=[q.encode("unicode_escape").decode() for q in CONTROL_QUERIES])
def test_a_query_with_a_control_character_is_refused_with_400(client, seed, query):
    response = client.get(reverse("public:case_list"), {"q": query})
    assert response.status_code == 400
    assert "KP-0001" not in html_of(response)


def test_odd_queries_on_the_api_are_not_server_errors(client, seed):
    for query in ("%", "_", "\x01", "🙂", "a" * 200, "a" * 5000, "Kim\x00"):
        response = client.get(reverse("public:api_case_list"), {"q": query})
        assert response.status_code in (200, 400), (query, response.status_code)
        data = response.json()
        assert ("results" in data) if response.status_code == 200 else ("errors" in data)

"""The duplicate review queue: blocking and scoring, decisions remembered, the passes, the queue page and the import."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases.models import Person, PublicationState
from cases.partial_dates import PartialDate
from linkage.matching import THRESHOLD, full_pass, pairs_for
from linkage.models import CandidatePair, Decision, pending_count
from tests.factories import make_event, make_facility, make_person, make_staff, make_variant, signed_in

pytestmark = pytest.mark.django_db

QUEUE = "/staff/duplicates/"


def seed() -> None:
    call_command("load_seed", stdout=io.StringIO())


def pair_of(a: Person, b: Person) -> CandidatePair | None:
    first, second = sorted([a.pk, b.pk])
    return CandidatePair.objects.filter(first_id=first, second_id=second).first()


def born(year: int) -> PartialDate:
    return PartialDate(year)


# Blocking and scoring ------------------------------------------------------------------------------


def test_the_seeds_hidden_spellings_are_paired_with_a_new_record():
    """The seed knows each missionary once, with the other spelling as a variant; a partner's spreadsheet
    brings them in again under that spelling."""
    seed()
    kook_ki = Person.objects.get(name="Kim Kook-ki")
    chun_gil = Person.objects.get(name="Choi Chun-gil")
    kook_kie = make_person(name="Kim Kook-kie")
    choi = make_person(name="Choi-Chun-gil")

    created, _updated = full_pass()

    assert created >= 2
    for seeded, again in ((kook_ki, kook_kie), (chun_gil, choi)):
        pair = pair_of(seeded, again)
        assert pair is not None
        assert pair.decision == Decision.PENDING
        assert pair.score >= THRESHOLD
        assert pair.reasons["given_name"] == 1.0
        assert set(pair.reasons) == {"given_name", "birth_year", "sex", "facility", "place", "categories"}
    # Kim Jeong-wook shares the family name only: not a candidate of either.
    jeong_wook = Person.objects.get(name="Kim Jeong-wook")
    assert pair_of(jeong_wook, kook_kie) is None


def test_spellings_of_family_and_given_name_in_the_birth_year_window_are_paired():
    first = make_person(name="Kim Kook-ki", birth_date=born(1965), sex="male")
    second = make_person(name="Gim Guk-gi", birth_date=born(1967), sex="male")
    full_pass()
    pair = pair_of(first, second)
    assert pair is not None
    assert pair.blocked_on == "family name and birth year"
    assert pair.reasons["birth_year"] == 0.5
    assert pair.reasons["sex"] == 1.0


def test_a_namesake_born_far_apart_is_not_paired():
    make_person(name="Park Min-ho", birth_date=born(1950))
    make_person(name="Park Min-ho", birth_date=born(1990))
    make_person(name="Park Min-ho", birth_date=born(1953))  # three years from the first: out of the window
    full_pass()
    assert not CandidatePair.objects.exists()


def test_a_different_given_name_is_not_paired():
    make_person(name="Lee Young-hee", birth_date=born(1970))
    make_person(name="Lee Chol-su", birth_date=born(1970))
    full_pass()
    assert not CandidatePair.objects.exists()


def test_a_name_variant_and_the_hangul_name_count():
    first = make_person(name="Choe Chun-gil", birth_date=born(1960))
    make_variant(first, "Choi Chun-kil")
    second = make_person(name="Ri Chun-gil", family_name_native="최", given_name_native="춘길", birth_date=born(1960))
    third = make_person(name="Han Yu-mi", family_name_native="한", given_name_native="유미", birth_date=born(1980))
    fourth = make_person(name="Hahn Yoo-mee", birth_date=born(1980))
    full_pass()
    assert pair_of(first, second) is not None  # through the Hangul name: 최 is Choi
    assert pair_of(third, fourth) is not None  # Han/Hahn, Yu-mi/Yoo-mee


def test_records_of_unknown_birth_year_in_a_large_block_meet_at_the_same_facility(monkeypatch):
    monkeypatch.setattr("linkage.matching.SMALL_BLOCK", 2)
    camp = make_facility()
    unknown = make_person(name="Kim Sun-ok")
    known = make_person(name="Kim Sun-ok", birth_date=born(1970))
    elsewhere = make_person(name="Kim Sun-ok", birth_date=born(1990))
    make_event(unknown, date="2015-03", facility=camp)
    make_event(known, date="2015-10", facility=camp)
    full_pass()
    pair = pair_of(unknown, known)
    assert pair is not None
    assert pair.blocked_on == "family name, facility and date"
    assert pair.reasons["facility"] == 1.0
    assert pair_of(unknown, elsewhere) is None  # a large block: met nowhere


def test_withdrawn_cases_are_left_out():
    make_person(name="Kang Mi-ran", birth_date=born(1980))
    make_person(name="Kang Mi-ran", birth_date=born(1980), publication_state=PublicationState.WITHDRAWN)
    full_pass()
    assert not CandidatePair.objects.exists()


# Decisions ------------------------------------------------------------------------------------------


def two_of_a_kind(name: str = "Jang Song-il", year: int = 1975) -> tuple[Person, Person, CandidatePair]:
    first = make_person(name=name, birth_date=born(year))
    second = make_person(name=name.replace("-", " "), birth_date=born(year))
    full_pass()
    pair = pair_of(first, second)
    assert pair is not None
    return first, second, pair


def test_decisions_are_remembered_by_a_second_full_pass(caseworker):
    _a, _b, same = two_of_a_kind("Jang Song-il")
    _c, _d, different = two_of_a_kind("Yoon Hye-jin")
    _e, _f, unsure = two_of_a_kind("Seo Dong-chol")
    same.decide("same", by=caseworker, reason="Same parents named in both reports.")
    different.decide("different", by=caseworker, reason="The second was released in 2019; the first died in 2015.")
    unsure.decide("unsure", by=caseworker, reason="Ask the family.")

    created, _updated = full_pass()

    assert created == 0
    assert CandidatePair.objects.count() == 3
    for pair, decision in ((same, "same"), (different, "different"), (unsure, "unsure")):
        pair.refresh_from_db()
        assert pair.decision == decision
        assert pair.decided_by == caseworker
    assert list(CandidatePair.objects.pending()) == []
    assert list(CandidatePair.objects.unsure()) == [unsure]
    assert pending_count() == 0
    # Who decided what, and why, is on record.
    history = different.history.order_by("-history_date").first()
    assert history.history_user == caseworker
    assert "released in 2019" in history.history_change_reason


def test_a_decision_needs_a_reason(caseworker):
    _a, _b, pair = two_of_a_kind()
    with pytest.raises(ValidationError):
        pair.decide("same", by=caseworker, reason="  ")
    with pytest.raises(ValidationError):
        pair.decide("maybe", by=caseworker, reason="Looks alike.")
    pair.refresh_from_db()
    assert pair.decision == Decision.PENDING
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidatePair.objects.filter(pk=pair.pk).update(decision="same", reason="")


def test_a_pair_is_stored_once_first_record_first():
    first, second, pair = two_of_a_kind()
    assert pair.first_id < pair.second_id
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidatePair.objects.create(first=second, second=first, score=0.9, blocked_on="test")


# The incremental pass ------------------------------------------------------------------------------


def test_a_saved_person_is_compared_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        existing = make_person(name="Hwang Kwang-chol", birth_date=born(1962))
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = make_person(name="Hwang Gwang-cheol", birth_date=born(1963))
    pair = pair_of(existing, newcomer)
    assert pair is not None
    assert pair.blocked_on == "family name and birth year"


def test_a_new_variant_finds_its_pair(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the saves' own passes, done
        existing = make_person(name="Kwon Ok-sun", birth_date=born(1950))
        other = make_person(name="Kwon Mi-ra", birth_date=born(1951))
    full_pass()
    assert pair_of(existing, other) is None
    with django_capture_on_commit_callbacks(execute=True):
        make_variant(other, "Kwon Ok-sun")
    assert pair_of(existing, other) is not None


def test_the_incremental_pass_keeps_decisions(caseworker):
    _first, second, pair = two_of_a_kind()
    pair.decide("different", by=caseworker, reason="Different villages.")
    assert pairs_for(second) == (0, 0)
    pair.refresh_from_db()
    assert pair.decision == "different"


# The command ----------------------------------------------------------------------------------------


def test_the_command_prints_its_summary():
    make_person(name="Song Hye-rim", birth_date=born(1985))
    make_person(name="Song Hye Rim", birth_date=born(1985))
    out = io.StringIO()
    call_command("find_duplicates", stdout=out, stderr=io.StringIO())
    assert "1 possible duplicates to review; 1 new, 0 with an updated score" in out.getvalue()
    quiet = io.StringIO()
    call_command("find_duplicates", "--quiet", stdout=quiet, stderr=io.StringIO())
    assert quiet.getvalue() == ""


# The queue page -------------------------------------------------------------------------------------


def test_a_caseworker_reviews_the_queue_and_decides(caseworker):
    first, second, pair = two_of_a_kind("Kim Kook-ki")
    client = signed_in(caseworker)
    response = client.get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    assert first.case_id in html and second.case_id in html
    assert f'href="/admin/cases/person/{first.pk}/change/"' in html
    assert "given name 100%" in html

    response = client.post(
        f"{QUEUE}{pair.pk}/decide/",
        {f"pair-{pair.pk}-decision": "unsure", f"pair-{pair.pk}-reason": "Waiting for the family's call."},
    )
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    pair.refresh_from_db()
    assert pair.decision == "unsure"
    assert pair.decided_by == caseworker
    html = client.get(QUEUE).content.decode()
    assert "Marked unsure (1)" in html
    assert "Waiting for the family&#x27;s call." in html

    client.post(
        f"{QUEUE}{pair.pk}/decide/",
        {f"pair-{pair.pk}-decision": "same", f"pair-{pair.pk}-reason": "The family confirmed it."},
    )
    pair.refresh_from_db()
    assert pair.decision == "same"
    # Decided: out of the queue, and not open to another decision.
    response = client.get(QUEUE)
    assert response.context["pending_rows"] == response.context["unsure_rows"] == []
    response = client.post(
        f"{QUEUE}{pair.pk}/decide/", {f"pair-{pair.pk}-decision": "different", f"pair-{pair.pk}-reason": "No."}
    )
    assert response.status_code == 404


def test_a_decision_without_a_reason_is_refused(editor):
    _a, _b, pair = two_of_a_kind()
    response = signed_in(editor).post(
        f"{QUEUE}{pair.pk}/decide/", {f"pair-{pair.pk}-decision": "same", f"pair-{pair.pk}-reason": ""}
    )
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.decision == Decision.PENDING


def test_the_decision_is_posted_only(caseworker):
    _a, _b, pair = two_of_a_kind()
    assert signed_in(caseworker).get(f"{QUEUE}{pair.pk}/decide/").status_code == 405


@pytest.mark.parametrize("role", ["Researcher", "Administrator", None])
def test_others_may_not_see_or_decide(role):
    _a, _b, pair = two_of_a_kind()
    client = signed_in(make_staff(role, f"someone-{role}"))
    assert client.get(QUEUE).status_code == 403
    response = client.post(
        f"{QUEUE}{pair.pk}/decide/", {f"pair-{pair.pk}-decision": "same", f"pair-{pair.pk}-reason": "Sure."}
    )
    assert response.status_code == 403
    pair.refresh_from_db()
    assert pair.decision == Decision.PENDING


def test_anonymous_visitors_are_sent_to_sign_in(client):
    _a, _b, pair = two_of_a_kind()
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    response = client.post(f"{QUEUE}{pair.pk}/decide/", {})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.decision == Decision.PENDING


def test_the_queue_page_takes_the_same_queries_whatever_the_number_of_pairs(caseworker, django_assert_max_num_queries):
    client = signed_in(caseworker)
    camp = make_facility()
    for n, name in enumerate(["Baek Il-nam", "Moon Jae-sik", "Oh Hyon-ju"]):
        person = make_person(name=name, birth_date=born(1960 + n))
        make_event(person, date="2010", facility=camp)
    full_pass()
    for name in ["Baek Il-nam", "Moon Jae-sik", "Oh Hyon-ju"]:
        make_person(name=name.replace("-", ""), birth_date=born(1961))
    full_pass()
    assert CandidatePair.objects.pending().count() == 3
    client.get(QUEUE)  # the session and permissions, as after the first page
    with django_assert_max_num_queries(16) as few:
        assert client.get(QUEUE).status_code == 200
    for n in range(12):
        make_person(name=f"Nam Chol-{n}ho", birth_date=born(1970 + 5 * n))
        make_person(name=f"Nam Chol {n}ho", birth_date=born(1970 + 5 * n))
    full_pass()
    assert CandidatePair.objects.pending().count() == 15
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(QUEUE).status_code == 200


# The import preview ---------------------------------------------------------------------------------


def test_the_import_preview_shows_the_scored_candidates(caseworker):
    seed()
    kook_ki = Person.objects.get(name="Kim Kook-ki")
    data = b"name,birth_date,sex\r\nKim Kook-kie,,male\r\nPark Ji-hoon,1990,male\r\n"
    response = signed_in(caseworker).post(
        "/staff/import/", {"file": SimpleUploadedFile("partner.csv", data, content_type="text/csv")}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "May already be" in html
    assert f'<a href="/admin/cases/person/{kook_ki.pk}/change/">{kook_ki.case_id}</a> Kim Kook-ki' in html
    assert "birth year unknown: score 0.75" in html
    rows = response.context["result"].rows
    assert [candidate.person for candidate in rows[0].candidates] == [kook_ki]
    assert rows[1].candidates == []


def test_the_dashboard_links_to_the_pairs_waiting_for_review(client):
    make_person(name="Kim Kook-ki", birth_date=PartialDate(1967))
    make_person(name="Kim Kook-kie", birth_date=PartialDate(1967))
    full_pass()
    client.force_login(make_staff("Caseworker"))
    page = client.get(reverse("workflow:dashboard")).content.decode()
    assert "Possible duplicates to review (1)" in page and reverse("linkage:queue") in page
    client.force_login(make_staff("Researcher"))
    assert "Possible duplicates to review" not in client.get(reverse("workflow:dashboard")).content.decode()


def test_one_pass_per_transaction_and_none_for_a_publication(django_capture_on_commit_callbacks, monkeypatch):
    import linkage.signals

    passes = []
    monkeypatch.setattr(linkage.signals, "pairs_for", passes.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        person = make_person(name="Kim Kook-ki")
        make_variant(person, "Kim Guk-gi")
        make_variant(person, "Gim Kook-ki")
        make_event(person, "detained", "2019")
    assert len(callbacks) == 1 and passes == [person.pk]
    passes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        person.publication_state = PublicationState.IN_REVIEW
        person.save(update_fields=["publication_state"])
    assert passes == []


def test_an_import_asks_the_worker_for_a_full_pass(tmp_path):
    from django_tasks_db.models import DBTaskResult

    from linkage.tasks import find_all_pairs, request_full_pass

    make_person(name="Kim Kook-ki", birth_date=born(1967))
    path = tmp_path / "cases.csv"
    path.write_text("name,birth_date,status,status_date\nKim Kook-kie,1967,detained,2019\n", encoding="utf-8")
    call_command("import_cases", str(path), "--no-progress", stdout=io.StringIO())
    request_full_pass()  # one pass waits, not two
    assert DBTaskResult.objects.filter(task_path="linkage.tasks.find_all_pairs", status="READY").count() == 1
    assert not CandidatePair.objects.exists()
    find_all_pairs.call()  # as the worker runs it
    assert CandidatePair.objects.pending().count() >= 1


def test_a_second_reviewer_does_not_overwrite_the_first_decision(caseworker):
    _first, _second, pair = two_of_a_kind("Jang Song-il", 1990)
    stale = CandidatePair.objects.get(pk=pair.pk)  # read by a second reviewer before the first decided
    pair.decide("same", by=caseworker, reason="Same father's name in both testimonies.")
    with pytest.raises(ValidationError, match="Someone else decided this pair meanwhile"):
        stale.decide("different", by=make_staff("Editor"), reason="Different villages.")
    pair.refresh_from_db()
    assert (pair.decision, pair.decided_by) == ("same", caseworker)


def test_only_the_full_pass_removes_a_pair_that_no_longer_matches():
    _first, second, pair = two_of_a_kind("Ku Hyon-nam", 1980)
    second.birth_date = born(1950)  # corrected: thirty years apart
    second.save()
    pairs_for(second)  # reads fewer records than the full pass: it adds and rescores, never removes
    assert CandidatePair.objects.filter(pk=pair.pk).exists()
    full_pass()
    assert not CandidatePair.objects.filter(pk=pair.pk).exists()

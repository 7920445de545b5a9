"""The plain public pages show published cases and public facts only."""

import pytest
from django.core.management import call_command
from django.db.utils import OperationalError
from django.urls import reverse

from cases.models import PublicationState, Status
from workflow.models import PublishedVersion

from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-7f3a-restricted"


def public_pages(client) -> str:
    return "".join(
        client.get(url).content.decode()
        for url in (reverse("public:home"), reverse("public:case_list"), reverse("public:case_list") + "?page=1")
    )


def test_home_shows_counts_and_recent_seed_cases(client):
    call_command("load_seed")
    response = client.get(reverse("public:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Teenage boy sentenced in January 2024 (second of two)" in html
    assert len(response.context["recent"]) == 6
    assert response.context["total"] == 6
    assert response.context["outstanding"] == 6
    assert response.context["clarified"] == 0


def test_case_list_shows_published_cases_with_their_status(client):
    call_command("load_seed")
    response = client.get(reverse("public:case_list"))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("Kim Cheol-ok", "Kim Jeong-wook", "Kim Kook-ki", "Choi Chun-gil", "Teenage boy sentenced"):
        assert name in html
    assert "Whereabouts unknown (disappeared)" in html
    assert "since January 2024" in html


def test_unpublished_cases_are_not_shown(client):
    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.WITHDRAWN):
        make_person(name=f"{SENTINEL} {state}", publication_state=state)
    assert SENTINEL not in public_pages(client)


def test_restricted_fields_of_a_published_case_are_not_shown(client):
    person = make_person(name="Park Public", internal_notes=SENTINEL, external_ref=SENTINEL)
    make_variant(person, f"{SENTINEL} hidden variant", is_public=False)
    event = make_event(person, Status.ARRESTED, "2014", is_public=True, internal_note=SENTINEL)
    make_citation(make_source(), status_event=event, note=SENTINEL)
    publish_case(person)
    html = public_pages(client)
    assert "Park Public" in html
    assert SENTINEL not in html


def test_status_of_a_non_public_event_does_not_show_through(client):
    person = make_person(name="Lee Public")
    make_citation(make_source(), status_event=make_event(person, Status.ARRESTED, "2014", is_public=True))
    make_event(person, Status.DECEASED_REPORTED, "2020", is_public=False)
    publish_case(person)
    person.refresh_from_db()
    assert person.current_status == Status.DECEASED_REPORTED  # staff see it
    case_row = client.get(reverse("public:case_list")).context["cases"][0]
    assert case_row.status == Status.ARRESTED
    html = client.get(reverse("public:case_detail", args=[person.case_id])).content.decode()
    assert "Arrested" in html
    assert "Deceased" not in html


def test_reprisal_risk_shows_only_the_pseudonym(client):
    person = make_person(name=f"{SENTINEL} real name", reprisal_risk=True, pseudonym="Ms A")
    make_variant(person, f"{SENTINEL} variant", is_public=True)
    make_citation(make_source(), person=person)
    publish_case(person)
    html = public_pages(client)
    assert "Ms A" in html
    assert SENTINEL not in html


def test_bad_page_number_is_not_a_server_error(client):
    for page in ("abc", "999", "-1", "1.5"):
        assert client.get(reverse("public:case_list"), {"page": page}).status_code == 404


def test_public_pages_refuse_writes(client):
    assert client.post(reverse("public:home")).status_code == 405
    assert client.post(reverse("public:case_list")).status_code == 405


def test_healthz_answers_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_healthz_reports_an_unavailable_database(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(PublishedVersion.objects, "exists", broken)
    response = client.get("/healthz")
    assert response.status_code == 503

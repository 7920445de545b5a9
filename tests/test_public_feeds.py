"""The Atom feeds: one entry per public version, none for a withdrawn case, no real name under a reprisal risk."""

import datetime

import pytest
from django.urls import reverse

from cases.history import save_with_history
from cases.models import Person, Status
from workflow.models import PublishedVersion
from workflow.services import return_to_draft, withdraw

from .factories import make_person, publish_case
from .public_data import (
    ATOM,
    SEED_IDS,
    api_case,
    atom,
    csv_rows,
    entries,
    parse_xml,
    published_person,
    republish,
    seed_for_this_module,  # noqa: F401 (a fixture, for every test of the module)
    status_label,
)

pytestmark = pytest.mark.django_db


# --- Atom ------------------------------------------------------------------------------------------


def test_site_feed_has_one_entry_per_public_version(client):
    root = atom(client, reverse("public:feed"))
    items = entries(root)
    assert len(items) == 6
    assert sorted(item["id"] for item in items) == sorted(f"whereabouts:{case_id}:v1" for case_id in SEED_IDS)
    kook_ki = next(item for item in items if item["id"] == "whereabouts:KP-0003:v1")
    assert kook_ki["title"] == "Kim Kook-ki (KP-0003) published: version 1"
    assert kook_ki["link"].endswith("/cases/KP-0003/versions/1/")
    assert kook_ki["summary"].startswith(status_label(Status.DISAPPEARED))
    assert len({item["id"] for item in items}) == len(items)


def test_case_feed_lists_the_case_versions(client):
    root = atom(client, reverse("public:case_feed", args=["KP-0003"]))
    assert root.findtext(f"{ATOM}title") == "Whereabouts: Kim Kook-ki (KP-0003)"
    items = entries(root)
    assert [item["id"] for item in items] == ["whereabouts:KP-0003:v1"]

    republish("KP-0003")
    items = entries(atom(client, reverse("public:case_feed", args=["KP-0003"])))
    assert [item["id"] for item in items] == ["whereabouts:KP-0003:v2", "whereabouts:KP-0003:v1"]
    assert items[0]["title"] == "Kim Kook-ki (KP-0003) updated: version 2"
    assert items[0]["link"].endswith("/cases/KP-0003/versions/2/")

    site = entries(atom(client, reverse("public:feed")))
    assert len(site) == 7
    assert site[0]["id"] == "whereabouts:KP-0003:v2"  # newest first


def test_feed_updated_is_the_latest_publication(client):
    republish("KP-0002")
    root = atom(client, reverse("public:feed"))
    latest = PublishedVersion.objects.public().latest("published_at").published_at
    assert datetime.datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == latest


def test_a_withdrawn_case_leaves_the_feeds(client):
    republish("KP-0003")
    assert len(entries(atom(client, reverse("public:feed")))) == 7
    withdraw(Person.objects.get(case_id="KP-0003"), by=None, reason="test: withdrawn")
    items = entries(atom(client, reverse("public:feed")))
    assert len(items) == 5
    assert not any("KP-0003" in item["id"] or "Kim Kook-ki" in item["title"] for item in items)
    assert client.get(reverse("public:case_feed", args=["KP-0003"])).status_code == 404


def test_a_case_published_again_after_withdrawal_shows_only_its_new_version(client):
    person = Person.objects.get(case_id="KP-0003")
    withdraw(person, by=None, reason="test: withdrawn")
    return_to_draft(person, by=None, reason="test: corrected")
    publish_case(person)
    items = entries(atom(client, reverse("public:case_feed", args=["KP-0003"])))
    assert [item["id"] for item in items] == ["whereabouts:KP-0003:v2"]
    assert [v["version"] for v in api_case(client, "KP-0003")["versions"]] == [2]
    assert client.get("/cases/KP-0003/versions/1/").status_code == 404
    assert {row["case_id"]: row["version"] for row in csv_rows(client)}["KP-0003"] == "2"


def test_unknown_or_unpublished_case_feed_is_404(client):
    assert client.get(reverse("public:case_feed", args=["KP-9999"])).status_code == 404
    draft = make_person(name="Ri Draft-feed")
    assert client.get(reverse("public:case_feed", args=[draft.case_id])).status_code == 404


def test_feed_never_shows_a_real_name_after_a_reprisal_risk_is_flagged(client):
    person = published_person("Byeon Real-name", family_name_native="변", given_name_native="진주")
    republish(person.case_id)
    person.refresh_from_db()
    person.reprisal_risk = True
    person.pseudonym = "Witness Twenty"
    save_with_history(person, by=None, reason="test: reprisals reported")

    for url in (reverse("public:feed"), reverse("public:case_feed", args=[person.case_id])):
        response = client.get(url)
        assert b"Byeon Real-name" not in response.content
        assert "변진주".encode() not in response.content
        titles = [item["title"] for item in entries(parse_xml(response.content)) if person.case_id in item["id"]]
        assert len(titles) == 2
        assert all(title.startswith("Witness Twenty") for title in titles)
    for body in (
        client.get(reverse("public:api_case_list")).content,
        client.get(reverse("public:api_case_detail", args=[person.case_id])).content,
        b"".join(client.get(reverse("public:export_csv")).streaming_content),
    ):
        assert b"Byeon Real-name" not in body
        assert "변진주".encode() not in body
        assert b"Witness Twenty" in body

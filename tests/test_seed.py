"""The seed data from the North Korea briefing, loaded idempotently."""

import json
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from advocacy.models import Appeal, AppealState
from cases.history import save_with_history
from cases.models import Person, PublicationState, Status
from sources.models import Citation, Source
from workflow.management.commands.load_seed import DEFAULT_FILE, load_seed

pytestmark = pytest.mark.django_db


def row_counts() -> dict:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def load(capsys=None) -> str:
    call_command("load_seed")
    return capsys.readouterr().out if capsys else ""


def test_seed_loads_the_persons_of_the_briefing(capsys):
    assert "6 persons, 7 sources, 5 authorities, 7 facilities and 4 appeals added" in load(capsys)
    names = set(Person.objects.values_list("name", flat=True))
    assert {"Kim Cheol-ok", "Kim Jeong-wook", "Kim Kook-ki", "Choi Chun-gil"} <= names
    boys = Person.objects.filter(name="", descriptor__startswith="Teenage boy sentenced in January 2024")
    assert boys.count() == 2
    for boy in boys:
        assert boy.current_status == Status.SENTENCED
        assert str(boy.status_since) == "2024-01"
        assert "16 years of hard labour" in boy.status_events.get().description


def test_seed_records_the_spellings_of_the_briefing():
    load()
    assert Person.objects.get(name="Kim Kook-ki").variants.filter(name="Kim Kook-kie", is_public=True).exists()
    assert Person.objects.get(name="Choi Chun-gil").variants.filter(name="Choi-Chun-gil", is_public=True).exists()
    assert Person.objects.get(name="Kim Cheol-ok").name_native == "김철옥"


def test_seed_keeps_unknowns_unknown():
    load()
    for name in ("Kim Cheol-ok", "Kim Jeong-wook", "Kim Kook-ki", "Choi Chun-gil"):
        person = Person.objects.get(name=name)
        assert person.current_status == Status.DISAPPEARED
        assert person.birth_date is None
        assert all(event.date is None for event in person.status_events.all())
    assert Person.objects.get(name="Kim Kook-ki").nationality == ""
    assert Person.objects.get(name="Kim Cheol-ok").nationality == "KP"


def test_seed_sources_are_the_briefing_its_five_footnotes_and_the_commissions_detailed_findings():
    load()
    assert Source.objects.count() == 7
    findings = Source.objects.get(title__endswith="(A/HRC/25/CRP.1)")
    assert (str(findings.published_on), findings.kind, findings.url) == ("2014-02-07", "un", "")
    coi = Source.objects.get(url="https://documents.un.org/doc/undoc/gen/g14/108/66/pdf/g1410866.pdf")
    assert str(coi.published_on) == "2014-02-07"
    assert coi.kind == "un"
    assert str(Source.objects.get(publisher__startswith="All-Party").published_on) == "2021-07"
    assert not Source.objects.filter(is_restricted=True).exists()


def test_every_seed_claim_cites_a_source_and_every_case_is_published():
    load()
    for person in Person.objects.all():
        assert person.publication_state == PublicationState.PUBLISHED
        assert person.citations.exists()
        for event in person.status_events.all():
            assert event.is_public
            assert Citation.objects.filter(status_event=event, source__is_restricted=False).exists()


def test_seed_changes_are_in_the_history_with_a_reason():
    load()
    person = Person.objects.get(name="Kim Cheol-ok")
    reasons = set(person.history.values_list("history_change_reason", flat=True))
    assert all(reason and reason.startswith("Seed data") for reason in reasons)


def test_loading_twice_changes_nothing(capsys):
    load()
    before = row_counts()
    assert "0 persons, 0 sources, 0 authorities, 0 facilities and 0 appeals added" in load(capsys)
    assert row_counts() == before


def test_loading_again_never_overwrites_later_edits():
    load()
    person = Person.objects.get(name="Kim Cheol-ok")
    person.summary = "Edited by a caseworker"
    save_with_history(person, by=None, reason="test")
    load()
    person.refresh_from_db()
    assert person.summary == "Edited by a caseworker"


# --- Appeals: the briefing's recommendations ------------------------------------------------------------------------

KIM_CHEOL_OK = (
    "Clarify the fate and whereabouts of repatriated North Korean refugee Kim Cheol-ok and allow her to contact "
    "her family"
)
CLARIFY_MISSIONARIES = (
    "Clarify the fate and whereabouts of missionaries Kim Jeong-wook, Kim Kook-kie and Choi-Chun-gil and allow "
    "them to contact their families, lawyers and consular officials."
)
RETURN_MISSIONARIES = (
    "Immediately return all abductees, detainees and unrepatriated POWs, including missionaries Kim Jeong-wook, "
    "Kim Kook-ki and Choi Chun-gil."
)
RELEASE = "Release all persons currently detained in prison camps immediately and unconditionally."
MISSIONARIES = {"seed-kim-jeong-wook", "seed-kim-kook-ki", "seed-choi-chun-gil"}
BOYS = {"seed-teenage-boy-1", "seed-teenage-boy-2"}
BRIEFING_LINE = "Recommendation in a briefing to the government of North Korea, date unknown — reply: none"


def test_the_briefings_recommendations_become_appeals_for_the_persons_they_name_or_cover():
    load()
    appeals = {appeal.our_reference: appeal for appeal in Appeal.objects.all()}
    assert sorted(appeals) == [f"seed-briefing-{n}" for n in (1, 2, 3, 4)]
    expected = {
        "seed-briefing-1": (KIM_CHEOL_OK, {"seed-kim-cheol-ok"}),
        "seed-briefing-2": (CLARIFY_MISSIONARIES, MISSIONARIES),
        "seed-briefing-3": (RETURN_MISSIONARIES, MISSIONARIES),
        "seed-briefing-4": (RELEASE, BOYS),
    }
    briefing = Source.objects.get(title="North Korea briefing")
    for reference, (request, persons) in expected.items():
        appeal = appeals[reference]
        assert appeal.request == request
        assert set(appeal.persons.values_list("external_ref", flat=True)) == persons
        assert list(appeal.documents.all()) == [briefing]
        # Addressed as the briefing addresses it: "To the government of North Korea".
        assert (appeal.kind, appeal.addressee, appeal.country.code) == ("briefing_recommendation", "government", "KP")
        # Sent (the briefing made it), on a date the briefing does not give; public, as the briefing is.
        assert appeal.state == AppealState.SENT
        assert appeal.sent_on is None
        assert appeal.is_public_line
        assert not appeal.replies.exists()


def test_the_seeded_case_pages_show_their_appeals_from_the_first_published_version(client):
    load()
    lines = {"seed-kim-cheol-ok": 1, **dict.fromkeys(MISSIONARIES, 2), **dict.fromkeys(BOYS, 1)}
    for reference, count in lines.items():
        person = Person.objects.get(external_ref=reference)
        version = person.published_versions.get()
        assert len(version.record["appeals"]) == count
        assert client.get(f"/cases/{person.case_id}/").content.decode().count(BRIEFING_LINE) == count
        for prefix in ("/ko", "/ja"):
            page = client.get(f"{prefix}/cases/{person.case_id}/").content.decode()
            section = re.search(r'<ul class="appeals">(.*?)</ul>', page, re.S)
            assert section is not None
            assert section.group(1).count("<li>") == count
    assert "4 appeals to the UN and governments, for 6 cases" in client.get("/").content.decode()


def test_seed_appeals_are_in_the_history_with_the_seeds_reason():
    load()
    history = Appeal.history.all()
    assert history.exists()
    assert {row.history_change_reason for row in history} == {"Seed data: CSW North Korea briefing"}


def test_an_appeal_for_persons_loaded_before_is_created_once_and_waits_for_an_editor():
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    nothing = {"persons": 0, "sources": 0, "authorities": 0, "facilities": 0, "appeals": 0}
    assert load_seed({**data, "appeals": []}) == {
        **nothing,
        "persons": 6,
        "sources": 7,
        "authorities": 5,
        "facilities": 7,
    }
    assert load_seed(data) == {**nothing, "appeals": 4}
    assert load_seed(data) == nothing
    assert Appeal.objects.count() == 4
    assert Person.objects.get(external_ref="seed-kim-cheol-ok").appeals.count() == 1
    # The persons were published before: their public record changes when an editor publishes them again.
    for person in Person.objects.all():
        assert person.published_versions.get().record["appeals"] == []


def test_an_appeal_naming_a_person_the_seed_does_not_have_stops_the_whole_load():
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    data["appeals"][0]["persons"].append("seed-nobody")
    with pytest.raises(CommandError, match="seed-nobody"):
        load_seed(data)
    assert not Person.objects.exists()
    assert not Appeal.objects.exists()

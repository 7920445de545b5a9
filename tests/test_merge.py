"""Merging two records of one person: everything moves with its history, the merged case's public addresses
redirect only when both were public, four eyes, no lost update, and an undo while nothing else changed."""

import io
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from advocacy.models import Appeal
from cases.history import save_with_history
from cases.models import Category, NameVariant, Person, PublicationState, Relation, RelationKind, Sex, StatusEvent
from cases.partial_dates import PartialDate
from linkage.matching import full_pass
from linkage.models import CandidatePair, Decision
from security.models import AuditEvent
from sources.models import Citation
from workflow import merging
from workflow.models import CaseMerge, PublishedVersion
from workflow.services import WorkflowError, publish, submit_for_review

from .conftest import in_thread, postgresql_only
from .factories import (
    make_appeal,
    make_citation,
    make_event,
    make_person,
    make_publishable_case,
    make_relation,
    make_source,
    make_staff,
    make_variant,
    publish_case,
    restore_roles,
    signed_in,
)
from .test_admin_query_budgets import count

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-MERGE-7c1f"


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


@pytest.fixture
def purge(admin_user):
    """Purge a case as an Administrator does (purge_case)."""
    admin_user.groups.add(Group.objects.get(name="Administrator"))

    def run(person: Person) -> None:
        call_command(
            "purge_case",
            person.case_id,
            confirm=person.case_id,
            reason="The family asked",
            by=admin_user.username,
            stdout=io.StringIO(),
        )

    return run


@pytest.fixture
def reviewer():
    return make_staff("Caseworker", "reviewer")


@pytest.fixture
def editor():
    return make_staff("Editor", "merger")


def marked_same(a: Person, b: Person, by) -> CandidatePair:
    first, second = sorted([a, b], key=lambda person: person.pk)
    pair, _created = CandidatePair.objects.get_or_create(
        first=first, second=second, defaults={"score": 0.9, "blocked_on": "family name and birth year"}
    )
    pair.decide(Decision.SAME, by=by, reason="Same birth date and camp; the family confirmed")
    return pair


@pytest.fixture
def two_public_records(reviewer):
    """The seed's missionary twice: once as the NGO recorded him, once from a partner's spreadsheet."""
    survivor = publish_case(make_publishable_case(name="Kim Kook-ki", birth_date=PartialDate(1954), sex=Sex.UNKNOWN))
    merged = publish_case(
        make_publishable_case(
            name="Kim Kook-kie",
            birth_date=PartialDate(1955),
            sex=Sex.MALE,
            family_name_native="김",
            given_name_native="국기",
            internal_notes=f"From the partner's spreadsheet {SENTINEL}",
            date="2014-10",
        )
    )
    return survivor, merged, marked_same(survivor, merged, reviewer)


# What moves --------------------------------------------------------------------------------------------------


def test_a_merge_moves_everything_with_its_history(two_public_records, editor, reviewer):
    survivor, merged, pair = two_public_records
    third = make_person(name="Kim Third")
    relation = make_relation(merged, RelationKind.SIBLING, third, source=make_source())
    about = make_citation(make_source(), person=merged, locator="p. 9")
    appeal = make_appeal(merged)
    variant = make_variant(merged, "Gim Guk-gi", is_public=True)
    category = Category.objects.first() or Category.objects.create(slug="religious", name="Religious")
    merged.categories.add(category)
    events = list(merged.status_events.all())
    event_citations = list(Citation.objects.filter(status_event__in=events))

    done = merging.merge(survivor, merged, by=editor, reason="One man: the family confirmed", pair=pair)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert done.merged_case_id == merged.case_id and done.survivor_case_id == survivor.case_id
    assert done.redirects
    for event in events:
        event.refresh_from_db()
        assert event.person == survivor
        last = event.history.latest("history_date")
        assert last.history_user == editor and "One man: the family confirmed" in last.history_change_reason
    assert all(citation.status_event.person_id == survivor.pk for citation in event_citations)
    about.refresh_from_db()
    assert about.person == survivor and about.history.latest("history_date").history_user == editor
    assert list(Appeal.objects.get(pk=appeal.pk).persons.all()) == [survivor]
    relation.refresh_from_db()
    assert (relation.person, relation.other) == (survivor, third)
    variant.refresh_from_db()
    assert variant.person == survivor
    # The merged record's own names become the survivor's other names; public, as both were public.
    added = NameVariant.objects.get(person=survivor, name="Kim Kook-kie")
    assert added.is_public and added.history.get().history_user == editor
    # Empty fields filled, the survivor's kept where both say something, and the internal notes say so.
    assert survivor.sex == Sex.MALE
    assert survivor.birth_date == PartialDate(1954)
    assert survivor.family_name_native == "김" and survivor.given_name_native == "국기"
    assert "1955" in survivor.internal_notes and merged.case_id in survivor.internal_notes
    assert SENTINEL in survivor.internal_notes  # the merged record's notes are kept where staff will read them
    assert category in survivor.categories.all()
    assert survivor.history.latest("history_date").history_user == editor
    # The merged record: says where it went, keeps its case ID and fields, leaves the working set.
    assert merged.merged_into == survivor
    assert merged.publication_state == PublicationState.WITHDRAWN
    assert merged.name == "Kim Kook-kie" and merged.case_id == done.merged_case_id
    assert merged not in Person.objects.active()
    assert merged.history.latest("history_date").history_user == editor
    assert not PublishedVersion.objects.public().filter(person=merged).exists()
    # The survivor's status follows the events it now holds.
    assert survivor.current_status == StatusEvent.objects.filter(person=survivor).latest("date").status
    assert survivor.status_events.count() == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MERGED, actor=editor).exists()
    # The case ID is never handed out again.
    assert make_person(name="Someone New").case_id not in (merged.case_id, survivor.case_id)


def test_a_relation_recorded_on_both_is_kept_once_with_both_sources(reviewer, editor):
    third = make_person(name="Kim Third")
    survivor, merged = make_person(name="Kim Kook-ki"), make_person(name="Kim Kook-kie")
    kept = make_relation(survivor, RelationKind.SIBLING, third, source=make_source())
    doubled = make_relation(merged, RelationKind.SIBLING, third, source=make_source())
    pair = marked_same(survivor, merged, reviewer)

    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)

    doubled.refresh_from_db()
    assert doubled.withdrawn and survivor.case_id in doubled.withdrawn_reason
    assert Relation.objects.active().filter(person=survivor, other=third).get() == kept
    assert Citation.objects.filter(relation=kept).count() == 2


def test_merging_is_refused_without_a_second_person_or_a_reviewed_pair(two_public_records, reviewer):
    survivor, merged, pair = two_public_records
    # The reviewer who marked the pair is an editor too: still not the one to merge it.
    reviewer.groups.add(*make_staff("Editor", "other-editor").groups.all())
    with pytest.raises(WorkflowError, match="four eyes"):
        merging.merge(survivor, merged, by=reviewer, reason="Mine", pair=pair)
    other = make_person(name="Kim Other")
    with pytest.raises(WorkflowError, match="Nobody has marked"):
        merging.merge(survivor, other, by=make_staff("Editor", "e2"), reason="Guess", pair=pair)
    caseworker = make_staff("Caseworker", "cw2")
    with pytest.raises(WorkflowError, match="Only an editor"):
        merging.merge(survivor, merged, by=caseworker, reason="x", pair=pair)
    with pytest.raises(WorkflowError, match="Say why"):
        merging.merge(survivor, merged, by=make_staff("Editor", "e3"), reason="  ", pair=pair)
    assert not CaseMerge.objects.exists()
    merged.refresh_from_db()
    assert merged.merged_into is None and merged.status_events.count() == 1


def test_two_records_recorded_as_relatives_are_not_merged(reviewer, editor):
    survivor, merged = make_person(name="Kim Kook-ki"), make_person(name="Kim Kook-kie")
    make_relation(survivor, RelationKind.SIBLING, merged)
    pair = marked_same(survivor, merged, reviewer)
    with pytest.raises(WorkflowError, match="recorded as related"):
        merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)


def test_a_merge_read_before_a_change_writes_nothing(two_public_records, editor):
    survivor, merged, pair = two_public_records
    read_at = (survivor.version, merged.version)
    other_copy = Person.objects.get(pk=survivor.pk)
    other_copy.summary = "Changed by a colleague meanwhile"
    save_with_history(other_copy, by=None, reason="A colleague's edit")

    with pytest.raises(WorkflowError, match="changed after you opened"):
        merging.merge(survivor, merged, by=editor, reason="One man", pair=pair, read_at=read_at)

    merged.refresh_from_db()
    assert merged.merged_into is None and merged.status_events.count() == 1
    assert not CaseMerge.objects.exists()


def test_a_record_is_merged_once(two_public_records, editor):
    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    with pytest.raises(WorkflowError, match="merged into"):
        merging.merge(survivor, merged, by=make_staff("Editor", "late"), reason="Again", pair=pair)
    assert CaseMerge.objects.count() == 1


def test_a_merged_record_is_closed_to_everyone(two_public_records, editor):
    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    merged.refresh_from_db()
    assert not merged.may_be_changed_by(editor)
    page = signed_in(editor).get(f"/admin/cases/person/{merged.pk}/change/").content.decode()
    assert "was merged into" in page and survivor.case_id in page


# The public addresses ----------------------------------------------------------------------------------------


def test_the_merged_cases_public_addresses_redirect_when_both_were_public(client, two_public_records, editor):
    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    old, new = merged.case_id, survivor.case_id
    for address, target in (
        (f"/cases/{old}/", f"/cases/{new}/"),
        (f"/cases/{old}/versions/1/", f"/cases/{new}/"),
        (f"/api/cases/{old}/", f"/api/cases/{new}/"),
        (f"/cases/{old}/feed/", f"/cases/{new}/feed/"),
        (f"/ko/cases/{old}/", f"/ko/cases/{new}/"),
        (f"/ja/cases/{old}/versions/1/", f"/ja/cases/{new}/"),
    ):
        response = client.get(address)
        assert response.status_code == 301, address
        assert response["Location"] == target
        assert client.get(target).status_code == 200
    # The merged record is no longer listed nor found as a case of its own.
    cases = [case["case_id"] for case in client.get("/api/cases/").json()["results"]]
    assert old not in cases and new in cases
    assert SENTINEL not in client.get(f"/cases/{new}/").content.decode()


@pytest.mark.parametrize("unpublished", ["survivor", "merged"])
def test_a_merge_with_an_unpublished_record_reveals_nothing(client, reviewer, editor, unpublished):
    public = publish_case(make_publishable_case(name="Kim Kook-ki"))
    hidden = make_publishable_case(
        name=f"Kim Kook-kie {SENTINEL}", internal_notes=SENTINEL, summary=SENTINEL, external_ref=SENTINEL
    )
    survivor, merged = (hidden, public) if unpublished == "survivor" else (public, hidden)
    done = merging.merge(survivor, merged, by=editor, reason="One man", pair=marked_same(public, hidden, reviewer))
    assert not done.redirects
    for address in (
        f"/cases/{merged.case_id}/",
        f"/cases/{merged.case_id}/versions/1/",
        f"/api/cases/{merged.case_id}/",
        f"/cases/{merged.case_id}/feed/",
        f"/ko/cases/{merged.case_id}/",
    ):
        response = client.get(address)
        assert response.status_code == 404, address
        body = response.content.decode()
        assert SENTINEL not in body and survivor.case_id not in body
    for address in ("/cases/", "/api/cases/", "/feed/", "/export/cases.csv"):
        assert SENTINEL not in body_of(client.get(address)), address
    # The search page repeats what was asked; nothing answers it.
    assert client.get("/api/cases/", {"q": SENTINEL}).json()["results"] == []


def test_a_merge_into_a_pseudonymous_case_does_not_redirect(client, reviewer, editor):
    named = publish_case(make_publishable_case(name="Kim Kook-kie"))
    at_risk = publish_case(make_publishable_case(name="Kim Kook-ki", reprisal_risk=True, pseudonym="Person K"))
    done = merging.merge(at_risk, named, by=editor, reason="One man", pair=marked_same(named, at_risk, reviewer))
    assert not done.redirects
    response = client.get(f"/cases/{named.case_id}/")
    assert response.status_code == 404 and at_risk.case_id not in response.content.decode()
    # The name of the merged record is not made public on the pseudonymous record.
    assert not NameVariant.objects.get(person=at_risk, name="Kim Kook-kie").is_public


def test_a_redirect_stops_when_the_survivor_leaves_the_public_site(client, two_public_records, editor):
    from workflow.services import withdraw

    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    withdraw(survivor, by=editor, reason="The family asked")
    assert client.get(f"/cases/{merged.case_id}/").status_code == 404


def test_merges_one_after_another_lead_to_the_last_survivor(client, two_public_records, editor, reviewer):
    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    last = publish_case(make_publishable_case(name="Gim Guk-gi"))
    survivor.refresh_from_db()
    merging.merge(last, survivor, by=editor, reason="The same man again", pair=marked_same(survivor, last, reviewer))
    response = client.get(f"/cases/{merged.case_id}/")
    assert response.status_code == 301 and response["Location"] == f"/cases/{last.case_id}/"


# Undo --------------------------------------------------------------------------------------------------------


def test_undo_puts_everything_back(client, two_public_records, editor, reviewer):
    survivor, merged, pair = two_public_records
    appeal = make_appeal(merged)
    variant = make_variant(merged, "Gim Guk-gi")
    before = {
        "survivor": Person.objects.filter(pk=survivor.pk).values().get(),
        "merged": Person.objects.filter(pk=merged.pk).values().get(),
    }
    events = set(merged.status_events.values_list("pk", flat=True))
    done = merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)

    merging.undo(done, by=make_staff("Editor", "second-editor"), reason="Two brothers after all", mark_different=True)

    after = {
        "survivor": Person.objects.filter(pk=survivor.pk).values().get(),
        "merged": Person.objects.filter(pk=merged.pk).values().get(),
    }
    ignored = {"version", "updated_at"}
    for side in ("survivor", "merged"):
        assert {k: v for k, v in after[side].items() if k not in ignored} == {
            k: v for k, v in before[side].items() if k not in ignored
        }, side
    assert set(merged.status_events.values_list("pk", flat=True)) == events
    assert list(Appeal.objects.get(pk=appeal.pk).persons.all()) == [merged]
    variant.refresh_from_db()
    assert variant.person == merged
    assert not NameVariant.objects.filter(person=survivor, name="Kim Kook-kie").exists()
    assert client.get(f"/cases/{merged.case_id}/").status_code == 200
    done.refresh_from_db()
    assert done.undone_at is not None and done.undo_reason == "Two brothers after all"
    pair.refresh_from_db()
    assert pair.decision == Decision.DIFFERENT
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MERGE_UNDONE).exists()


def test_undo_is_refused_once_something_else_changed(two_public_records, editor):
    survivor, merged, pair = two_public_records
    done = merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    make_event(Person.objects.get(pk=survivor.pk), "released", "2025-01", by=editor)
    with pytest.raises(WorkflowError, match="changed after the merge"):
        merging.undo(done, by=editor, reason="Oops")
    merged.refresh_from_db()
    assert merged.merged_into == survivor


# The staff pages ---------------------------------------------------------------------------------------------


def test_an_editor_reads_the_plan_then_merges_and_undoes_through_the_pages(two_public_records, editor):
    survivor, merged, pair = two_public_records
    browser = signed_in(editor)
    listing = browser.get("/staff/merges/").content.decode()
    assert f"/staff/merges/pairs/{pair.pk}/" in listing
    page = browser.get(f"/staff/merges/pairs/{pair.pk}/?keep={survivor.pk}")
    text = page.content.decode()
    assert page.status_code == 200
    assert f"Merge {merged.case_id} into {survivor.case_id}" in text
    assert "will lead to" in text
    form = page.context["form"]
    data = {**{name: form[name].value() for name in form.fields}, "reason": "One man: the family confirmed"}

    response = browser.post(f"/staff/merges/pairs/{pair.pk}/", data)

    assert response.status_code == 302 and response["Location"] == f"/admin/cases/person/{survivor.pk}/change/"
    done = CaseMerge.objects.get()
    assert done.merged == merged and done.merged_by == editor
    assert browser.get(f"/staff/merges/pairs/{pair.pk}/").status_code == 404  # no longer waiting
    undo_page = browser.get(f"/staff/merges/{done.pk}/undo/").content.decode()
    assert "Undo the merge" in undo_page
    response = browser.post(f"/staff/merges/{done.pk}/undo/", {"reason": "Wrong record kept"})
    assert response.status_code == 302
    done.refresh_from_db()
    assert done.undone_at is not None


def test_a_stale_merge_page_merges_nothing(two_public_records, editor):
    survivor, merged, pair = two_public_records
    browser = signed_in(editor)
    form = browser.get(f"/staff/merges/pairs/{pair.pk}/?keep={survivor.pk}").context["form"]
    data = {**{name: form[name].value() for name in form.fields}, "reason": "One man"}
    merged.summary = "A colleague's change"
    save_with_history(merged, by=None, reason="meanwhile")

    response = browser.post(f"/staff/merges/pairs/{pair.pk}/", data)

    assert response.status_code == 200
    assert "changed after you opened this page" in response.content.decode()
    assert not CaseMerge.objects.exists()


@pytest.mark.parametrize("role", ["Caseworker", "Researcher", None])
def test_only_editors_reach_the_merge_pages(two_public_records, role):
    _survivor, _merged, pair = two_public_records
    browser = signed_in(make_staff(role, f"visitor-{role}"))
    for address in ("/staff/merges/", f"/staff/merges/pairs/{pair.pk}/"):
        assert browser.get(address).status_code == 403, address


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_editors_merging_the_pair_each_way_at_once_merge_it_once():
    """One keeps the first record, the other the second, at the same moment: one merge is done, the other is
    refused, and neither record ends merged into the other both ways."""
    restore_roles()
    first, second = make_person(name="Kim Kook-ki"), make_person(name="Kim Kook-kie")
    make_event(second, "detained", "2014-10")
    pair = marked_same(first, second, make_staff("Caseworker", "cw-race"))
    editors = [make_staff("Editor", "ed-race-1"), make_staff("Editor", "ed-race-2")]
    start, outcomes, errors = threading.Barrier(2), [], []

    def run(survivor, merged, editor):
        start.wait(10)
        try:
            outcomes.append(merging.merge(survivor, merged, by=editor, reason="One man", pair=pair))
        except WorkflowError as error:
            outcomes.append(error)

    threads = [
        in_thread(lambda: run(first, second, editors[0]), errors),
        in_thread(lambda: run(second, first, editors[1]), errors),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(outcomes) == 2
    assert sum(isinstance(outcome, CaseMerge) for outcome in outcomes) == 1
    assert CaseMerge.objects.count() == 1
    assert Person.objects.filter(merged_into__isnull=False).count() == 1
    survivor = Person.objects.get(merged_into__isnull=True, pk__in=[first.pk, second.pk])
    assert survivor.status_events.count() == 1


# Purge -------------------------------------------------------------------------------------------------------


def test_a_survivor_is_purged_only_after_the_records_merged_into_it(two_public_records, editor, purge):
    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    with pytest.raises(CommandError, match=merged.case_id):
        purge(survivor)
    purge(merged)
    assert not CaseMerge.objects.exists()
    purge(survivor)
    assert not Person.objects.filter(case_id__in=[survivor.case_id, merged.case_id]).exists()


# From an import to a redirect --------------------------------------------------------------------------------


def test_a_seed_person_imported_again_is_found_reviewed_merged_and_redirected(client):
    """The issue's "done when": two records of the same seed person created by an import are found by the queue,
    reviewed and merged, and the old case ID redirects."""
    call_command("load_seed", stdout=io.StringIO())
    seeded = Person.objects.get(name="Kim Kook-ki")
    caseworker, editor, second_editor = (
        make_staff("Caseworker", "cw"),
        make_staff("Editor", "ed1"),
        make_staff("Editor", "ed2"),
    )
    csv = (
        "external_ref,name,sex,status,status_date,status_confidence,source_title,source_url\n"
        "PARTNER-17,Kim Kook-kie,male,detained,2014-10,confirmed,Partner list,https://example.org/list\n"
    )
    importer = signed_in(editor)
    preview = importer.post(
        "/staff/import/", {"file": SimpleUploadedFile("partner.csv", csv.encode(), content_type="text/csv")}
    )
    assert preview.status_code == 200, preview.context["result"].problems
    # The import's own check already names the seed record.
    assert seeded.case_id in preview.content.decode()
    assert importer.post("/staff/import/confirm/", {"token": preview.context["token"]}).status_code == 200
    imported = Person.objects.get(name="Kim Kook-kie")
    # A researcher checks the partner's list, makes it and the event public; the case goes through review.
    event = imported.status_events.get()
    event.correct(by=editor, reason="Checked against the partner's list", is_public=True)
    source = Citation.objects.get(status_event=event).source
    source.is_restricted = False
    save_with_history(source, by=editor, reason="The partner's list is published")
    imported.refresh_from_db()
    imported.publication_basis = "already_public"
    save_with_history(imported, by=caseworker, reason="Basis")
    submit_for_review(imported, by=caseworker)
    publish(imported, by=editor)
    assert client.get(f"/cases/{imported.case_id}/").status_code == 200

    full_pass()
    queue = signed_in(caseworker).get("/staff/duplicates/").content.decode()
    first, second = sorted([seeded.pk, imported.pk])
    pair = CandidatePair.objects.get(first_id=first, second_id=second)
    assert f"pair-{pair.pk}" in queue
    decided = signed_in(caseworker).post(
        f"/staff/duplicates/{pair.pk}/decide/",
        {f"pair-{pair.pk}-decision": "same", f"pair-{pair.pk}-reason": "Same camp, same year: one man"},
    )
    assert decided.status_code == 302

    merger = signed_in(second_editor)
    form = merger.get(f"/staff/merges/pairs/{pair.pk}/?keep={seeded.pk}").context["form"]
    data = {**{name: form[name].value() for name in form.fields}, "reason": "The partner's record of Kim Kook-ki"}
    assert merger.post(f"/staff/merges/pairs/{pair.pk}/", data).status_code == 302

    response = client.get(f"/cases/{imported.case_id}/")
    assert response.status_code == 301 and response["Location"] == f"/cases/{seeded.case_id}/"
    assert NameVariant.objects.filter(person=seeded, name="Kim Kook-kie").exists()


# Two records the passes did not pair -------------------------------------------------------------------------


def test_a_reviewer_names_two_records_the_passes_did_not_pair(reviewer, editor):
    before = make_person(name="Kim Chol-su", birth_date=PartialDate(1960))
    after = make_person(name="Pak Chol-su", birth_date=PartialDate(1960))  # took another family name
    full_pass()
    assert not CandidatePair.objects.exists()
    browser = signed_in(reviewer)
    assert "Two records the passes did not pair" in browser.get("/staff/duplicates/").content.decode()

    response = browser.post(
        "/staff/duplicates/named/",
        {
            "named-first": f" {before.case_id.lower()} ",
            "named-second": after.case_id,
            "named-decision": "same",
            "named-reason": "She took her husband's family name",
        },
    )

    assert response.status_code == 302
    pair = CandidatePair.objects.get()
    assert (pair.first, pair.second, pair.decision, pair.decided_by) == (before, after, Decision.SAME, reviewer)
    assert pair.blocked_on == "named by a reviewer" and 0 <= pair.score <= 1
    full_pass()  # a decided pair stays, though no pass finds it
    assert CandidatePair.objects.get() == pair
    assert f"/staff/merges/pairs/{pair.pk}/" in signed_in(editor).get("/staff/merges/").content.decode()


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [("KP-9999", None, "No case KP-9999"), (None, None, "Name two different records")],
)
def test_naming_a_pair_wrongly_records_nothing(reviewer, first, second, message):
    record = make_person(name="Kim Chol-su")
    browser = signed_in(reviewer)
    response = browser.post(
        "/staff/duplicates/named/",
        {
            "named-first": first or record.case_id,
            "named-second": second or record.case_id,
            "named-decision": "same",
            "named-reason": "x",
        },
        follow=True,
    )
    assert message in response.content.decode()
    assert not CandidatePair.objects.exists()


# Query budgets -----------------------------------------------------------------------------------------------


def test_the_merges_page_runs_a_fixed_number_of_queries(reviewer, editor):
    def add_merged_pair(n: int) -> None:
        survivor, merged = make_person(name=f"Kim Survivor-{n}"), make_person(name=f"Kim Merged-{n}")
        merging.merge(survivor, merged, by=editor, reason="One man", pair=marked_same(survivor, merged, reviewer))
        marked_same(make_person(name=f"Ri Waiting-{n}"), make_person(name=f"Ri Waiting-{n}x"), reviewer)

    browser = signed_in(editor)
    add_merged_pair(0)
    few = count(browser, "/staff/merges/")
    for n in range(1, 8):
        add_merged_pair(n)
    assert count(browser, "/staff/merges/") == few


def test_the_merge_page_runs_a_fixed_number_of_queries_whatever_moves(reviewer, editor):
    def pair_with(related: int) -> CandidatePair:
        survivor, merged = make_person(name="Kim Kook-ki"), make_person(name="Kim Kook-kie")
        source = make_source()
        for n in range(related):
            make_variant(merged, f"Gim Guk-gi {n}")
            make_citation(source, status_event=make_event(merged, "detained", str(1990 + n)))
            make_citation(source, person=merged, locator=f"p. {n}")
            make_relation(merged, RelationKind.DETAINED_TOGETHER, make_person(name=f"Other {n}"))
            make_appeal(merged)
        return marked_same(survivor, merged, reviewer)

    browser = signed_in(editor)
    small, large = pair_with(1), pair_with(12)
    assert count(browser, f"/staff/merges/pairs/{large.pk}/") == count(browser, f"/staff/merges/pairs/{small.pk}/")


# What a review of the merge found ----------------------------------------------------------------------------


def test_a_record_at_risk_is_not_merged_into_one_public_under_its_name(client, reviewer, editor):
    named = publish_case(make_publishable_case(name="Kim Kook-ki"))
    at_risk = publish_case(make_publishable_case(name="Kim Kook-kie", reprisal_risk=True, pseudonym="Person K"))
    pair = marked_same(named, at_risk, reviewer)
    with pytest.raises(WorkflowError, match="faces reprisals"):
        merging.merge(named, at_risk, by=editor, reason="One man", pair=pair)
    assert "Person K" not in client.get(f"/cases/{named.case_id}/").content.decode()
    # Kept the other way, the record at risk stays under its pseudonym and the named one leaves the site.
    merging.merge(at_risk, named, by=editor, reason="One man", pair=pair)
    assert client.get(f"/cases/{named.case_id}/").status_code == 404
    page = client.get(f"/cases/{at_risk.case_id}/").content.decode()
    assert "Person K" in page and "Kim Kook-ki" not in page


def test_names_of_an_unpublished_record_do_not_become_public_by_a_merge(reviewer, editor):
    survivor = publish_case(make_publishable_case(name="Kim Kook-ki"))
    draft = make_person(name="Kim Kook-kie")
    spelling = make_variant(draft, "Gim Guk-gi", is_public=True)
    done = merging.merge(survivor, draft, by=editor, reason="One man", pair=marked_same(survivor, draft, reviewer))
    spelling.refresh_from_db()
    assert spelling.person == survivor and not spelling.is_public
    assert not NameVariant.objects.get(person=survivor, name="Kim Kook-kie").is_public
    merging.undo(done, by=editor, reason="Two persons")
    spelling.refresh_from_db()
    assert spelling.person == draft and spelling.is_public


def test_a_redirect_is_kept_no_longer_than_a_public_page(client, two_public_records, editor, settings):
    survivor, merged, pair = two_public_records
    merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    settings.PUBLIC_CACHE_SECONDS = 300
    response = client.get(f"/cases/{merged.case_id}/")
    assert response.status_code == 301 and "max-age=300" in response["Cache-Control"]


def test_undo_gives_back_the_public_records_as_they_were(client, reviewer, editor):
    """The merged case's record, and that of a case related to it, which the moves back redact one by one."""
    merged = make_publishable_case(name="Kim Kook-kie", date="2014-10")
    make_citation(make_source(), status_event=make_event(merged, "sentenced", "2015-02", is_public=True))
    relative = make_publishable_case(name="Kim Relative")
    make_relation(relative, RelationKind.SIBLING, merged, source=make_source())
    publish_case(merged)
    publish_case(relative)
    records = dict(PublishedVersion.objects.values_list("pk", "record"))
    assert client.get(f"/api/cases/{relative.case_id}/").json()["relations"]
    survivor = make_person(name="Kim Kook-ki")  # a draft: the relation leaves the relative's public record
    done = merging.merge(survivor, merged, by=editor, reason="One man", pair=marked_same(survivor, merged, reviewer))
    assert not client.get(f"/api/cases/{relative.case_id}/").json()["relations"]

    merging.undo(done, by=editor, reason="Two persons")

    assert dict(PublishedVersion.objects.values_list("pk", "record")) == records
    assert len(client.get(f"/api/cases/{merged.case_id}/").json()["events"]) == 2
    assert client.get(f"/api/cases/{relative.case_id}/").json()["relations"]


def test_a_withdrawn_relation_between_the_two_records_stays_on_the_merged_one(reviewer, editor):
    survivor, merged = make_person(name="Kim Kook-ki"), make_person(name="Kim Kook-kie")
    between = make_relation(merged, RelationKind.SIBLING, survivor)
    between.withdraw(by=None, reason="They are one man")
    merging.merge(survivor, merged, by=editor, reason="One man", pair=marked_same(survivor, merged, reviewer))
    between.refresh_from_db()
    assert (between.person, between.other) == (merged, survivor)


def test_undo_after_a_related_case_was_purged_is_refused_with_a_reason(two_public_records, editor, purge):
    survivor, merged, pair = two_public_records
    relative = make_person(name="Kim Relative")
    make_relation(merged, RelationKind.SIBLING, relative)
    done = merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    purge(relative)
    browser = signed_in(editor)
    response = browser.post(f"/staff/merges/{done.pk}/undo/", {"reason": "Two persons"})
    assert response.status_code == 200
    assert "can no longer be undone" in response.content.decode()
    done.refresh_from_db()
    assert done.undone_at is None


def test_odd_merge_forms_get_an_answer_not_an_error(two_public_records, editor):
    survivor, _merged, pair = two_public_records
    browser = signed_in(editor)
    assert browser.get(f"/staff/merges/pairs/{pair.pk}/?keep=²").status_code == 200
    assert browser.get(f"/staff/merges/pairs/{pair.pk}/?keep=-1").status_code == 200
    form = browser.get(f"/staff/merges/pairs/{pair.pk}/?keep={survivor.pk}").context["form"]
    data = {name: form[name].value() for name in form.fields}
    for garbled in ({"survivor": "999999"}, {"merged": str(survivor.pk)}, {"survivor": "²"}, {"merged_version": ""}):
        response = browser.post(f"/staff/merges/pairs/{pair.pk}/", {**data, "reason": "One man", **garbled})
        assert response.status_code == 200, garbled
    assert not CaseMerge.objects.exists()
    assert browser.post("/staff/merges/999999/undo/", {"reason": "x"}).status_code == 404


def test_an_event_saved_by_someone_else_during_a_merge_stops_it_whole(two_public_records, editor, monkeypatch):
    """Someone saves an event of the merged record between the plan and its move: nothing is merged."""
    from django.db.models import F

    survivor, merged, pair = two_public_records
    real_save = merging.save_with_history

    def colleague_first(instance, **kwargs):
        if isinstance(instance, StatusEvent):
            StatusEvent.objects.filter(pk=instance.pk).update(version=F("version") + 1)
        real_save(instance, **kwargs)

    monkeypatch.setattr(merging, "save_with_history", colleague_first)
    with pytest.raises(WorkflowError, match="at the same moment"):
        merging.merge(survivor, merged, by=editor, reason="One man", pair=pair)
    merged.refresh_from_db()
    assert merged.merged_into is None and merged.status_events.count() == 1
    assert not CaseMerge.objects.exists()


def test_editors_read_the_merges_in_the_admin(two_public_records, editor):
    survivor, merged, pair = two_public_records
    done = merging.merge(survivor, merged, by=editor, reason="One man: the family confirmed", pair=pair)
    browser = signed_in(make_staff("Editor", "reader"))
    listing = browser.get("/admin/workflow/casemerge/").content.decode()
    assert merged.case_id in listing and survivor.case_id in listing
    page = browser.get(f"/admin/workflow/casemerge/{done.pk}/change/")
    assert page.status_code == 200 and "One man: the family confirmed" in page.content.decode()
    assert "survivor_fields" not in page.content.decode()  # what an undo reads is not shown
    assert browser.post(f"/admin/workflow/casemerge/{done.pk}/change/", {}).status_code == 403
    assert signed_in(make_staff("Caseworker", "cw-reader")).get("/admin/workflow/casemerge/").status_code == 403


def test_a_purge_erases_the_public_records_a_merge_kept_of_a_related_case(reviewer, editor, purge):
    import json

    relative = publish_case(make_publishable_case(name="Kim Purgedx"))
    survivor, merged = make_person(name="Kim Kook-ki"), make_person(name="Kim Kook-kie")
    make_relation(relative, RelationKind.SIBLING, merged)
    merging.merge(survivor, merged, by=editor, reason="One man", pair=marked_same(survivor, merged, reviewer))
    assert "Kim Purgedx" in json.dumps(CaseMerge.objects.get().moved, ensure_ascii=False)
    purge(relative)
    kept = [*CaseMerge.objects.values_list("moved", flat=True), *CaseMerge.history.values_list("moved", flat=True)]
    assert kept and "Purgedx" not in json.dumps(kept, ensure_ascii=False)

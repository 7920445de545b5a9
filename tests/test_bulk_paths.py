"""The bulk counterparts of the single-record paths give what those paths give: derived status, publication."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Category, Person, PublicationBasis, PublicationState, Status, StatusEvent
from cases.partial_dates import PartialDate
from security.models import AuditEvent
from workflow.models import PublicGeneration, PublishedName, PublishedSource, PublishedVersion
from workflow.services import WorkflowError, publish, publish_many, submit_for_review
from workflow.snapshots import build_record

from .conftest import make_citation, make_event, make_person, make_source, make_user, make_variant

pytestmark = pytest.mark.django_db

DERIVED = Person.DERIVED_STATUS_FIELDS


def derived(person: Person) -> tuple:
    return tuple(getattr(person, name) for name in DERIVED)


def persons_with_timelines() -> list[Person]:
    """Persons whose status each path must derive alike: unknown dates, ties, withdrawn events, no events."""
    mixed = make_person(name="Kim Mixed")
    make_event(mixed, Status.ARRESTED, None)
    make_event(mixed, Status.DETAINED, "2014-10")
    make_event(mixed, Status.DETAINED, "2015")
    make_event(mixed, Status.DISAPPEARED, None)  # an unknown date never displaces a dated event
    make_event(mixed, Status.RELEASED, "2019-03").withdraw(by=None, reason="recorded in error")

    undated = make_person(name="Lee Undated")
    make_event(undated, Status.ABDUCTED, None)
    make_event(undated, Status.DISAPPEARED, None)

    same_day = make_person(name="Park Same-Day")
    make_event(same_day, Status.DETAINED, "2020-01-05")
    make_event(same_day, Status.SENTENCED, "2020-01")  # the same first day: recording time decides

    all_withdrawn = make_person(name="Choi Withdrawn")
    make_event(all_withdrawn, Status.DETAINED, "2011").withdraw(by=None, reason="wrong person")

    nothing = make_person(name="Jeong Nothing")
    return [mixed, undated, same_day, all_withdrawn, nothing]


def test_refresh_statuses_derives_what_refresh_status_derives_for_many_persons_in_one_query():
    persons = persons_with_timelines()
    # What refresh_status() wrote, event by event.
    expected = {person.pk: derived(Person.objects.get(pk=person.pk)) for person in persons}
    assert expected[persons[0].pk] == ("detained", PartialDate.parse("2014-10"), PartialDate.parse("2015"))
    fresh = list(Person.objects.filter(pk__in=expected).order_by("pk"))
    for person in fresh:
        person.current_status, person.status_since, person.last_confirmed = "", None, None

    with CaptureQueriesContext(connection) as queries:
        changed = Person.objects.refresh_statuses(fresh)

    assert len(queries) == 1
    assert {person.pk: derived(person) for person in fresh} == expected
    # The persons without an active event keep their blank fields: only the others changed.
    assert [person.pk for person in changed] == [person.pk for person in persons[:3]]
    # Nothing is saved by the bulk counterpart: its caller writes the persons with their history rows.
    assert {person.pk: derived(person) for person in Person.objects.filter(pk__in=expected)} == expected


def test_refresh_statuses_returns_nobody_when_the_fields_are_already_right():
    persons = persons_with_timelines()
    assert Person.objects.refresh_statuses(Person.objects.filter(pk__in=[p.pk for p in persons])) == []


def test_refresh_statuses_derives_a_new_persons_fields_from_the_events_about_to_be_written():
    recorded = make_person(name="Kim Recorded")
    timeline = [
        (Status.ARRESTED, None),
        (Status.DETAINED, "2014-10"),
        (Status.DETAINED, "2015"),
        (Status.DISAPPEARED, None),
    ]
    for status, date in timeline:
        make_event(recorded, status, date)
    recorded.refresh_from_db()
    new = Person(name="Kim Not-Yet-Saved")
    events = [
        StatusEvent(person=new, status=status, date=PartialDate.parse(date) if date else None)
        for status, date in timeline
    ]
    withdrawn = StatusEvent(person=new, status=Status.RELEASED, date=PartialDate.parse("2019"), withdrawn=True)

    with CaptureQueriesContext(connection) as queries:
        changed = Person.objects.refresh_statuses([new], unsaved_events=[*events, withdrawn])

    assert len(queries) == 0
    assert changed == [new]
    assert derived(new) == derived(recorded)


def test_the_import_derives_status_through_refresh_statuses_like_recording_it_one_by_one():
    from exchange.importer import import_cases

    existing = make_person(name="Kim Existing", external_ref="ORG-1")
    make_event(existing, Status.DETAINED, "2010")
    make_event(existing, Status.SENTENCED, "2012").withdraw(by=None, reason="wrong")
    history = existing.history.count()
    data = (
        b"external_ref,name,status,status_date\n"
        b"ORG-1,Kim Existing,released,2011\n"
        b"ORG-2,Lee Newcomer,arrested,2018-04\n"
        b"ORG-3,Park Undated,detained,\n"
    )

    result = import_cases(data, filename="cases.csv")

    assert result.problems == []
    for person in Person.objects.all():
        one_by_one = Person.objects.get(pk=person.pk)
        one_by_one.refresh_status(by=None, reason="check")  # saves nothing when the fields are right
        assert derived(person) == derived(one_by_one)
        assert person.history.count() == (history + 1 if person.pk == existing.pk else 1)
    assert derived(Person.objects.get(external_ref="ORG-1")) == (
        "released",
        PartialDate.parse("2011"),
        PartialDate.parse("2011"),
    )


# --- publish_many -----------------------------------------------------------------------------------------


def editor(username: str = "editor"):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def case_in_review(name: str, *, by=None, **fields) -> Person:
    """A case with everything a record holds: public and private names, events, citations, a category."""
    fields.setdefault("publication_basis", PublicationBasis.ALREADY_PUBLIC)
    person = make_person(name=name, family_name_native="김", given_name_native="철수", **fields)
    category, _ = Category.objects.get_or_create(slug="bulk-test", defaults={"name": "Bulk test category"})
    person.categories.add(category)
    make_variant(person, f"{name} Public-Spelling")
    make_variant(person, f"{name} Private-Spelling", is_public=False)
    public_source = make_source(title="UN report", url=f"https://example.org/un/{person.pk}")
    restricted = make_source(title="Testimony", is_restricted=True)
    detained = make_event(person, Status.DETAINED, "2014-10", is_public=True, place="Hyesan")
    make_citation(public_source, status_event=detained, locator="para. 4")
    make_citation(restricted, status_event=detained, locator="interview 2")
    make_event(person, Status.SENTENCED, "2015", is_public=False)
    make_event(person, Status.RELEASED, "2016", is_public=True).withdraw(by=None, reason="wrong")
    make_citation(public_source, person=person, locator="p. 2")
    submit_for_review(person, by=by)
    person.refresh_from_db()
    return person


def what_is_written() -> dict:
    return {
        "versions": PublishedVersion.objects.count(),
        "version history": PublishedVersion.history.count(),
        "names": PublishedName.objects.count(),
        "sources": PublishedSource.objects.count(),
        "person history": Person.history.count(),
        "states": sorted(Person.objects.values_list("case_id", "publication_state", "version")),
        "audit": AuditEvent.objects.filter(action=AuditEvent.Action.PUBLISHED).count(),
        "generation": PublicGeneration.current()[0],
    }


def refusal(person: Person, *, by=None) -> list[str]:
    with pytest.raises(WorkflowError) as refused:
        publish(person, by=by)
    return refused.value.problems


def test_publish_many_refuses_every_case_publish_refuses_with_the_same_reasons_and_writes_nothing():
    good = case_in_review("Kim Publishable")
    no_basis = case_in_review("Lee Nobasis", publication_basis="")
    unsourced = case_in_review("Park Unsourced")
    make_event(unsourced, Status.SENTENCED, "2016-02", is_public=True)  # cites nothing
    named = case_in_review("Choi Named", reprisal_risk=True, pseudonym="Person A", summary="Choi Named was taken.")
    draft = make_person(name="Jeong Draft", publication_basis=PublicationBasis.ALREADY_PUBLIC)
    refused_cases = [no_basis, unsourced, named, draft]
    reasons = {person.case_id: refusal(person) for person in refused_cases}
    assert all(reasons.values())
    before = what_is_written()

    with pytest.raises(WorkflowError) as refused:
        publish_many([good, *refused_cases], by=None, reason="Bulk publication")

    assert refused.value.problems == [
        f"{person.case_id}: {problem}" for person in refused_cases for problem in reasons[person.case_id]
    ]
    assert what_is_written() == before


def test_publish_many_keeps_four_eyes_when_a_user_is_given():
    submitter, other = editor("submitter"), editor("other")
    person = case_in_review("Kim Foureyes", by=submitter)
    reasons = refusal(person, by=submitter)
    assert "four eyes" in reasons[0]
    before = what_is_written()

    with pytest.raises(WorkflowError) as refused:
        publish_many([person], by=submitter, reason="Bulk publication")

    assert refused.value.problems == [f"{person.case_id}: {problem}" for problem in reasons]
    assert what_is_written() == before
    publish_many([person], by=other, reason="Bulk publication")
    person.refresh_from_db()
    assert person.publication_state == PublicationState.PUBLISHED


def test_publish_many_refuses_without_a_reason():
    person = case_in_review("Kim Reasonless")
    before = what_is_written()
    with pytest.raises(WorkflowError):
        publish_many([person], by=None, reason=" ")
    assert what_is_written() == before


def index_of(version: PublishedVersion) -> tuple:
    return (
        sorted(version.names.values_list("name", "key", "folded", "family")),
        sorted(version.cited_sources.values_list("source_id", "title", "url")),
        sorted(version.categories.values_list("slug", flat=True)),
    )


def columns_of(version: PublishedVersion) -> tuple:
    return (
        version.case_id,
        version.name,
        version.status,
        version.is_clarified,
        version.nationality,
        version.status_since_day,
        version.status_since,
        version.is_synthetic,
        version.first_event_year,
    )


def without_number(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in {"version", "published_at"}}


def test_publish_many_makes_the_version_publish_makes():
    others = [case_in_review(f"Lee Other-{n}") for n in range(3)]
    person = case_in_review("Kim Compared", reprisal_risk=True, pseudonym="Person B")
    generation = PublicGeneration.current()[0]
    history = person.history.count()

    versions = publish_many([person, *others], by=None, reason="Bulk publication")

    first = PublishedVersion.objects.get(person=person)
    assert versions[0].pk == first.pk
    assert first.record == build_record(person, number=1, published_at=first.published_at)
    assert first.record["pseudonymous"] is True and first.record["name"] == "Person B"
    assert (first.number, first.is_current, first.withdrawn_at) == (1, True, None)
    assert first.history.get().history_change_reason == "Bulk publication"
    assert PublicGeneration.current()[0] == generation + 1
    person.refresh_from_db()
    assert person.publication_state == PublicationState.PUBLISHED
    assert person.history.count() == history + 1
    latest = person.history.first()
    assert (latest.history_type, latest.history_change_reason, latest.version) == (
        "~",
        "Bulk publication",
        person.version,
    )
    assert {c.category_id for c in latest.categories.all()} == {c.pk for c in person.categories.all()}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PUBLISHED, target=f"{person.case_id} v1").exists()

    # The same case published by publish(): the same record, columns and index.
    first_index = index_of(first)
    submit_for_review(person, by=None)
    second = publish(person, by=None, reason="Bulk publication")
    first.refresh_from_db()
    assert without_number(second.record) == without_number(first.record)
    assert columns_of(second) == columns_of(first)
    assert index_of(second) == first_index != ([], [], [])
    assert first.is_current is False and index_of(first) == ([], [], [])

    # And publish_many() after publish(): the version publish() made is superseded, as publish() does it.
    second_index = index_of(second)
    submit_for_review(person, by=None)
    (third,) = publish_many([person], by=None, reason="Bulk publication")
    second.refresh_from_db()
    assert third.number == 3 and third.is_current
    assert without_number(third.record) == without_number(second.record)
    assert index_of(third) == second_index
    assert second.is_current is False and index_of(second) == ([], [], [])
    assert second.history.first().history_change_reason == "Superseded by version 3"


def test_the_demo_generator_publishes_only_cases_that_pass_the_publication_checks():
    from django.core.management import call_command

    from workflow.services import publication_problems

    call_command("generate_demo_data", persons=60, seed=11, no_progress=True, batch=20)

    published = Person.objects.filter(publication_state__in=[PublicationState.PUBLISHED, PublicationState.WITHDRAWN])
    assert published.exists()
    for person in published:
        assert publication_problems(person) == []
        version = person.published_versions.get()
        assert version.record == build_record(person, number=1, published_at=version.published_at)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PUBLISHED).count() == published.count()
    withdrawn = PublishedVersion.objects.exclude(withdrawn_at=None)
    assert set(withdrawn.values_list("person__publication_state", flat=True)) <= {PublicationState.WITHDRAWN}

"""Importing cases from CSV: checked first, written all or nothing, the same file twice changes nothing."""

import csv
import io
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.urls import reverse

from cases.models import Category, Confidence, NameVariant, Person, PublicationState, Sex, Status, StatusEvent
from cases.partial_dates import PartialDate
from exchange import plan, write
from exchange.csv_format import COLUMNS
from exchange.importer import SYSTEM_USERNAME, import_cases
from exchange.models import ImportPreview
from sources.models import Citation, Source
from workflow.models import PublishedVersion

from .conftest import make_citation, make_event, make_person, make_source, make_user, publish_case

pytestmark = pytest.mark.django_db

EXAMPLE = Path(settings.BASE_DIR) / "fixtures" / "example-import.csv"


def csv_bytes(*rows: dict, columns=COLUMNS, bom: bool = False, crlf: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def run(data: bytes, **options):
    options.setdefault("filename", "cases-2024.csv")
    return import_cases(data, **options)


def everything() -> dict[str, int]:
    """The number of rows of every table, history and many-to-many tables included."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models(include_auto_created=True)}


KIM = {
    "external_ref": "ORG-1",
    "name": "Kim Example",
    "name_native": "김예시",
    "other_names": "Gim Ye-si; Kim Yeshi",
    "sex": "Male",
    "birth_date": "1970~",
    "nationality": "kp",
    "categories": "Missionary; religious-prisoner",
    "religion": "Christian",
    "summary": "Fictional test person.",
    "internal_notes": "Restricted note.",
    "status": "Arrested",
    "status_date": "2014-10",
    "status_place": "Example City",
    "status_confidence": "likely",
    "source_title": "Example report",
    "source_url": "https://example.org/report",
    "source_publisher": "Example NGO",
    "source_date": "2015-02",
    "source_locator": "p. 12",
}
UNNAMED = {
    "external_ref": "ORG-2",
    "descriptor": "Teenage boy, sentenced January 2024 (fictional)",
    "status": "sentenced",
    "status_date": "2024-01",
}


# A valid file ------------------------------------------------------------------


def test_a_valid_file_creates_persons_events_sources_and_citations():
    result = run(csv_bytes(KIM, UNNAMED))

    assert result.problems == [] and result.written
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (2, 0, 0)
    assert (result.counts.status_events, result.counts.sources, result.counts.citations) == (2, 1, 1)
    kim = Person.objects.get(external_ref="ORG-1")
    assert kim.case_id == "KP-0001"
    assert (kim.name, kim.family_name_native, kim.given_name_native) == ("Kim Example", "김", "예시")
    assert (kim.sex, kim.birth_date, str(kim.nationality)) == (Sex.MALE, PartialDate(1970, approximate=True), "KP")
    assert sorted(kim.categories.values_list("slug", flat=True)) == ["missionary", "religious-prisoner"]
    assert (kim.religion, kim.summary, kim.internal_notes) == (
        "Christian",
        "Fictional test person.",
        "Restricted note.",
    )
    assert kim.publication_state == PublicationState.DRAFT
    assert (kim.name_key, kim.native_key) == ("kimexample", "김예시")
    assert sorted(kim.variants.values_list("name", "is_public")) == [("Gim Ye-si", False), ("Kim Yeshi", False)]
    assert kim.variants.get(name="Gim Ye-si").key == "gimyesi"
    assert (kim.current_status, kim.status_since, kim.last_confirmed) == (
        Status.ARRESTED,
        PartialDate(2014, 10),
        PartialDate(2014, 10),
    )
    event = kim.status_events.get()
    assert (event.status, event.place, event.confidence, event.is_public) == (
        Status.ARRESTED,
        "Example City",
        Confidence.LIKELY,
        False,
    )
    assert event.recorded_by.username == SYSTEM_USERNAME
    source = Source.objects.get()
    assert (source.title, source.url, source.publisher, source.published_on) == (
        "Example report",
        "https://example.org/report",
        "Example NGO",
        PartialDate(2015, 2),
    )
    assert source.is_restricted  # until a researcher decides otherwise
    citation = Citation.objects.get()
    assert (citation.status_event, citation.person, citation.locator) == (event, None, "p. 12")

    unnamed = Person.objects.get(external_ref="ORG-2")
    assert (unnamed.case_id, unnamed.name, unnamed.descriptor) == ("KP-0002", "", UNNAMED["descriptor"])
    assert (unnamed.sex, unnamed.current_status) == (Sex.UNKNOWN, Status.SENTENCED)


def test_every_history_row_names_the_system_user_and_the_file():
    run(csv_bytes(KIM, UNNAMED))

    for model in (Person, NameVariant, StatusEvent, Source, Citation):
        rows = list(model.history.all())
        assert rows, model
        assert {(row.history_user.username, row.history_change_reason) for row in rows} == {
            (SYSTEM_USERNAME, "Imported from cases-2024.csv")
        }
    system = Person.history.first().history_user
    assert not system.is_active and not system.has_usable_password()


def test_history_rows_are_copies_of_the_rows_and_carry_the_categories():
    run(csv_bytes(KIM))

    kim = Person.objects.get()
    record = kim.history.get()
    assert record.history_type == "+"
    for field in Person._meta.concrete_fields:
        assert getattr(record, field.attname) == getattr(kim, field.attname), field.name
    assert sorted(record.categories.values_list("category__slug", flat=True)) == ["missionary", "religious-prisoner"]
    event = kim.status_events.get()
    assert event.history.get().instance.status == event.status


def test_an_import_by_a_staff_user_is_recorded_under_their_name():
    user = make_user("caseworker")
    run(csv_bytes(KIM), by=user)

    assert {row.history_user for row in Person.history.all()} == {user}
    assert StatusEvent.objects.get().recorded_by == user
    assert Source.objects.get().added_by == user


def test_example_file_imports_cleanly_and_twice_changes_nothing():
    out = io.StringIO()
    call_command("import_cases", str(EXAMPLE), "--no-progress", stdout=out)

    assert "3 created" in out.getvalue()
    assert Person.objects.count() == 3
    assert Person.objects.get(family_name_native="남궁").given_name_native == "예시"
    before = everything()
    out = io.StringIO()
    call_command("import_cases", str(EXAMPLE), "--no-progress", stdout=out)
    assert "0 created, 0 updated, 3 unchanged" in out.getvalue()
    assert everything() == before


def test_hangul_with_a_byte_order_mark_and_crlf_line_ends():
    decomposed = unicodedata.normalize("NFD", "최춘길")
    row = {**KIM, "name_native": decomposed, "other_names": unicodedata.normalize("NFD", "최 춘길"), "summary": "a\nb"}
    result = run(csv_bytes(row, UNNAMED, bom=True, crlf=True))

    assert result.problems == []
    kim = Person.objects.get(external_ref="ORG-1")
    assert (kim.family_name_native, kim.given_name_native) == ("최", "춘길")
    assert unicodedata.is_normalized("NFC", kim.name_native)
    assert list(kim.variants.filter(kind=NameVariant.Kind.NATIVE).values_list("name", flat=True)) == ["최 춘길"]
    assert kim.summary == "a\nb"
    assert Person.objects.get(external_ref="ORG-2").current_status == Status.SENTENCED


def test_two_syllable_family_names_are_kept_together():
    run(csv_bytes({**KIM, "name_native": "황보철"}, {**UNNAMED, "name": "Kim", "name_native": "김 철옥"}))

    assert Person.objects.get(external_ref="ORG-1").family_name_native == "황보"
    assert Person.objects.get(external_ref="ORG-2").given_name_native == "철옥"


def test_a_cell_neutralised_against_formulas_is_read_back_without_its_quote():
    run(csv_bytes({**KIM, "summary": "'=SUM(A1)", "religion": "'-"}))

    kim = Person.objects.get()
    assert (kim.summary, kim.religion) == ("=SUM(A1)", "-")


def test_header_names_are_read_in_any_case_and_columns_may_be_left_out():
    result = run(csv_bytes({"Name": "Kim Short"}, columns=["Name"]))

    assert result.problems == []
    assert Person.objects.get().name == "Kim Short"


# Problems, each with its line and column -----------------------------------------

BAD_ROWS = [
    ({"status": "detaind"}, "status", "unknown status “detaind”"),
    ({"status_confidence": "sure"}, "status_confidence", "unknown confidence “sure”"),
    ({"sex": "f"}, "sex", "unknown sex “f”"),
    ({"birth_date": "1970-02-30"}, "birth_date", "not a real day"),
    ({"status_date": "2014-13"}, "status_date", "has no month 13"),
    ({"status_date": "3000"}, "status_date", "is in the future"),
    ({"source_date": "14 Octember 2014"}, "source_date", "is not a date"),
    ({"nationality": "XX"}, "nationality", "not an ISO 3166-1 two-letter country code"),
    ({"nationality": "PRK"}, "nationality", "not an ISO 3166-1 two-letter country code"),
    ({"categories": "Missionary; Astronaut"}, "categories", "unknown category “Astronaut”"),
    ({"source_url": "not a web address"}, "source_url", "is not a web address"),
    ({"name": "", "descriptor": ""}, "name", "a new case needs a name, or a descriptor"),
    ({"name": "x" * 201}, "name", "201 characters long; at most 200 fit"),
    ({"case_id": "KP-9999"}, "case_id", "there is no case KP-9999"),
    ({"external_ref": "ORG-1"}, "external_ref", "“ORG-1” is also on line 2"),
    (
        {"status": "", "status_date": "2014", "status_place": "", "status_confidence": ""},
        "status_date",
        "without a status",
    ),
    (
        {"source_title": "", "source_url": "", "source_publisher": "", "source_date": "", "source_locator": "p. 3"},
        "source_locator",
        "without a source",
    ),
    ({"source_title": "", "source_url": "https://example.org/new"}, "source_title", "needs a title"),
]


@pytest.mark.parametrize(("changes", "column", "message"), BAD_ROWS)
def test_each_kind_of_bad_row_is_reported_with_its_line_and_column(changes, column, message):
    bad = {**KIM, "external_ref": "ORG-3", **changes}
    result = run(csv_bytes(KIM, UNNAMED, bad))

    assert not result.written
    assert [(p.line, p.column) for p in result.problems] == [(4, column)], result.problems
    assert message in result.problems[0].message
    assert str(result.problems[0]).startswith(f"line 4, {column}: ")
    assert not Person.objects.exists()


def test_a_line_with_more_cells_than_the_header_is_reported():
    cells = ["Kim Extra" if column == "name" else "" for column in COLUMNS]
    data = csv_bytes(KIM) + ",".join([*cells, "extra"]).encode() + b"\n"

    result = run(data)

    assert [(p.line, p.column) for p in result.problems] == [(3, "")]
    assert "header names only 24 columns" in result.problems[0].message


def test_a_quoted_cell_over_several_lines_does_not_shift_the_line_numbers():
    data = csv_bytes({**KIM, "summary": "one\ntwo\nthree"}, {**UNNAMED, "status": "detaind"})

    result = run(data)

    assert [(p.line, p.column) for p in result.problems] == [(5, "status")]


def test_an_unknown_column_and_a_missing_name_column_are_reported_on_line_1():
    result = run(csv_bytes({"nmae": "Kim"}, columns=["nmae", "status"]))

    assert [(p.line, p.column) for p in result.problems] == [(1, ""), (1, "nmae")]
    assert "needs a name column" in str(result.problems[0])


def test_a_file_that_is_not_utf8_is_reported_with_its_line():
    data = csv_bytes(KIM, UNNAMED) + "Café,x\n".encode("cp1252")

    result = run(data)

    assert [(p.line, p.column) for p in result.problems] == [(4, "")]
    assert "not UTF-8" in result.problems[0].message


def test_an_empty_file_is_a_problem():
    assert "empty" in str(run(b"").problems[0])


def test_every_problem_in_the_file_is_reported_at_once():
    result = run(csv_bytes({**KIM, "status": "x"}, {**UNNAMED, "case_id": "KP-0404", "birth_date": "1800-13"}))

    assert [(p.line, p.column) for p in result.problems] == [(2, "status"), (3, "birth_date"), (3, "case_id")]


def test_a_row_without_a_reference_like_an_existing_case_is_refused():
    existing = make_person(name="Kim Example", birth_date=PartialDate(1970, approximate=True))
    row = {key: value for key, value in KIM.items() if key != "external_ref"}

    result = run(csv_bytes(row))

    assert [(p.line, p.column) for p in result.problems] == [(2, "name")]
    assert f"put {existing.case_id} in case_id" in result.problems[0].message
    assert Person.objects.count() == 1


def test_the_same_person_twice_in_one_file_is_refused():
    person = make_person(external_ref="ORG-1")
    result = run(csv_bytes({"case_id": person.case_id, "name": "A"}, {"external_ref": "ORG-1", "name": "B"}))

    assert [(p.line, p.column) for p in result.problems] == [(3, "external_ref")]
    assert "also on line 2" in result.problems[0].message


def test_an_external_ref_belonging_to_another_case_is_refused():
    make_person(external_ref="ORG-1")
    other = make_person()

    result = run(
        csv_bytes({"case_id": other.case_id, "external_ref": "ORG-1"}, columns=["case_id", "external_ref", "name"])
    )

    assert [(p.line, p.column) for p in result.problems] == [(2, "external_ref")]


def test_a_withdrawn_source_is_not_cited():
    source = make_source(url="https://example.org/report")
    source.withdraw(by=None, reason="test")

    result = run(csv_bytes(KIM))

    assert [(p.line, p.column) for p in result.problems] == [(2, "source_url")]


def test_a_user_who_may_not_add_sources_cannot_add_one_by_importing():
    make_source(title="Known report", url="")

    result = run(csv_bytes(KIM, {**UNNAMED, "source_title": "Known report"}), can_add_sources=False)

    assert [(p.line, p.column) for p in result.problems] == [(2, "source_title")]
    assert "may not add sources" in result.problems[0].message


# Nothing written ----------------------------------------------------------------


def test_nothing_is_written_when_any_row_has_a_problem():
    make_person(external_ref="ORG-9")
    before = everything()

    result = run(
        csv_bytes(KIM, UNNAMED, {"external_ref": "ORG-9", "name": "Changed", "status": "released"}, {"sex": "male"})
    )

    assert [p.line for p in result.problems] == [5]
    assert everything() == before
    assert Person.objects.get(external_ref="ORG-9").name != "Changed"


def test_a_dry_run_reports_what_would_happen_and_writes_nothing():
    before = everything()

    result = run(csv_bytes(KIM, UNNAMED), dry_run=True)

    assert result.problems == [] and not result.written
    assert (result.counts.created, result.counts.status_events, result.counts.sources) == (2, 2, 1)
    assert [row.action for row in result.rows] == ["create", "create"]
    assert result.summary().startswith("Dry run of cases-2024.csv, nothing was written.")
    assert everything() == before  # not even the system user


def test_the_command_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(csv_bytes(KIM))
    before = everything()
    out = io.StringIO()

    call_command("import_cases", str(path), "--dry-run", stdout=out)

    assert "Dry run of cases.csv, nothing was written. Persons 1 created" in out.getvalue()
    assert everything() == before


def test_the_command_reports_every_problem_and_fails(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(csv_bytes(KIM, {**UNNAMED, "status": "gone"}))
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 problem found; nothing was written"):
        call_command("import_cases", str(path), stderr=err)

    assert "line 3, status: unknown status “gone”" in err.getvalue()
    assert not Person.objects.exists()


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_cases", str(tmp_path / "missing.csv"))


@pytest.mark.parametrize("chunk", [1, 2])
def test_a_database_failure_half_way_leaves_the_database_as_it_was(monkeypatch, chunk):
    make_event(make_person(external_ref="ORG-1"), Status.DETAINED, "2010")
    before = everything()
    monkeypatch.setattr(write, "CHUNK_ROWS", chunk)
    real_write, calls = write.Writer.write, []

    def fail_on_the_second_chunk(self, items):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("the disk is full")
        return real_write(self, items)

    monkeypatch.setattr(write.Writer, "write", fail_on_the_second_chunk)
    with pytest.raises(DatabaseError):
        run(csv_bytes({**KIM, "status": "released", "status_date": "2020"}, UNNAMED, {**UNNAMED, "external_ref": "X"}))

    assert everything() == before


def test_a_failing_history_write_leaves_the_database_as_it_was(monkeypatch):
    before = everything()
    real_history = write.Writer.history

    def fail_for_citations(self, model, objs, **kwargs):
        if model is Citation:
            raise DatabaseError("history table unavailable")
        return real_history(self, model, objs, **kwargs)

    monkeypatch.setattr(write.Writer, "history", fail_for_citations)
    with pytest.raises(DatabaseError):
        run(csv_bytes(KIM, UNNAMED))

    assert everything() == before


# Importing again ------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    data = csv_bytes(KIM, UNNAMED)
    run(data)
    before = everything()

    result = run(data)

    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 0, 2)
    assert (result.counts.status_events, result.counts.sources, result.counts.citations) == (0, 0, 0)
    assert [row.action for row in result.rows] == ["unchanged", "unchanged"]
    assert everything() == before


def test_sources_are_matched_by_url_or_by_title_and_not_duplicated():
    by_url = make_source(title="Another title", url="https://example.org/report")
    by_title = make_source(title="Known report", url="")

    result = run(csv_bytes(KIM, {**UNNAMED, "source_title": "Known report", "source_locator": "para. 4"}))

    assert result.counts.sources == 0
    assert Source.objects.count() == 2
    assert Citation.objects.get(status_event__person__external_ref="ORG-1").source == by_url
    assert Citation.objects.get(status_event__person__external_ref="ORG-2").source == by_title
    by_url.refresh_from_db()
    assert by_url.title == "Another title"  # an import never rewrites a source


def test_one_new_source_cited_by_several_rows_is_added_once():
    result = run(csv_bytes(KIM, {**UNNAMED, "source_url": "https://example.org/report", "source_title": "Report"}))

    assert result.counts.sources == 1
    assert Source.objects.count() == 1
    assert Citation.objects.count() == 2


def test_an_existing_case_is_updated_by_case_id_and_blank_cells_leave_values_as_they_are():
    person = make_person(name="Kim Old", summary="Old summary.", religion="Buddhist", internal_notes="Keep me.")
    version = person.version

    result = run(
        csv_bytes({"case_id": person.case_id.lower(), "name": "Kim New", "summary": "New summary.", "religion": ""})
    )

    assert (result.counts.updated, result.rows[0].action) == (1, "update")
    assert result.rows[0].changes == ["name: “Kim Old” → “Kim New”", "public summary: “Old summary.” → “New summary.”"]
    person.refresh_from_db()
    assert (person.name, person.name_key, person.summary) == ("Kim New", "kimnew", "New summary.")
    assert (person.religion, person.internal_notes) == ("Buddhist", "Keep me.")
    assert person.version == version + 1
    latest = person.history.first()
    assert (latest.history_type, latest.name, latest.history_change_reason) == (
        "~",
        "Kim New",
        "Imported from cases-2024.csv",
    )


def test_a_case_changed_while_the_file_is_checked_is_refused(monkeypatch):
    person = make_person(name="Kim Old", external_ref="ORG-1")
    real_lock = plan.Plan.lock

    def someone_saves_first(plan):
        # Another user's save between reading the case and writing the import.
        Person.objects.filter(pk=person.pk).update(version=person.version + 1, name="Kim Meanwhile")
        real_lock(plan)

    monkeypatch.setattr(plan.Plan, "lock", someone_saves_first)
    result = run(csv_bytes(KIM, UNNAMED))

    assert [(p.line, p.column) for p in result.problems] == [(2, "case_id")]
    assert "changed by someone else" in result.problems[0].message
    person.refresh_from_db()
    assert person.name == "Kim Meanwhile"
    assert Person.objects.count() == 1


def test_an_existing_case_is_matched_by_external_ref():
    person = make_person(name="Kim Example", external_ref="ORG-1")

    run(csv_bytes(KIM))

    assert Person.objects.count() == 1
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    assert person.categories.count() == 2
    assert person.history.first().categories.count() == 2


def test_a_new_status_is_appended_to_the_history_never_overwriting_it():
    run(csv_bytes(KIM))
    person = Person.objects.get()
    first = person.status_events.get()

    result = run(csv_bytes({**KIM, "status": "Released", "status_date": "2020-05", "source_locator": "p. 14"}))

    assert (result.counts.updated, result.counts.status_events, result.counts.citations) == (1, 1, 1)
    person.refresh_from_db()
    assert (person.current_status, person.status_since) == (Status.RELEASED, PartialDate(2020, 5))
    assert list(person.status_events.values_list("status", flat=True)) == [Status.ARRESTED, Status.RELEASED]
    first.refresh_from_db()
    assert (first.status, first.date, first.withdrawn) == (Status.ARRESTED, PartialDate(2014, 10), False)
    assert first.history.count() == 1
    assert person.history.first().current_status == Status.RELEASED
    assert person.history.first().history_change_reason == "Imported from cases-2024.csv"
    assert Source.objects.count() == 1
    assert list(Citation.objects.values_list("locator", flat=True)) == ["p. 12", "p. 14"]


def test_an_older_status_is_appended_once_and_the_current_status_stays():
    person = make_person(external_ref="ORG-1")
    make_event(person, Status.RELEASED, "2020")
    row = {"external_ref": "ORG-1", "status": "detained", "status_date": "2010"}

    run(csv_bytes(row))
    run(csv_bytes(row))

    person.refresh_from_db()
    assert person.current_status == Status.RELEASED
    assert list(person.status_events.values_list("status", flat=True)) == [Status.DETAINED, Status.RELEASED]


def test_the_current_status_again_records_nothing_but_its_source_is_cited():
    person = make_person(external_ref="ORG-1")
    event = make_event(person, Status.ARRESTED, "2014-10")

    result = run(csv_bytes({**KIM, "status_date": "2015"}))

    assert (result.counts.status_events, result.counts.citations) == (0, 1)
    assert person.status_events.get() == event
    assert Citation.objects.get().status_event == event


def test_a_row_without_status_cites_its_source_for_the_person():
    run(csv_bytes({**KIM, "status": "", "status_date": "", "status_place": "", "status_confidence": ""}))

    citation = Citation.objects.get()
    assert (citation.person, citation.status_event) == (Person.objects.get(), None)


def test_importing_never_publishes_and_leaves_the_public_record_alone():
    person = make_person(external_ref="ORG-1", summary="Published summary.")
    make_citation(make_source(), status_event=make_event(person, Status.DETAINED, "2012", is_public=True))
    publish_case(person)
    record = PublishedVersion.objects.current().get().record

    run(csv_bytes({**KIM, "summary": "Imported summary."}))

    person.refresh_from_db()
    assert person.publication_state == PublicationState.PUBLISHED
    assert person.summary == "Imported summary."
    assert PublishedVersion.objects.get().record == record
    assert Person.objects.exclude(pk=person.pk).count() == 0


def test_categories_are_found_by_name_or_slug_in_any_case():
    run(csv_bytes({**KIM, "categories": "ABDUCTEE; Political Prisoner; abductee"}))

    assert sorted(Person.objects.get().categories.values_list("slug", flat=True)) == ["abductee", "political-prisoner"]
    assert Category.objects.count() >= 2


# The staff page -------------------------------------------------------------------

URL = "/staff/import/"
CONFIRM = "/staff/import/confirm/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff(group: str, username: str):
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def upload(client, data: bytes, name: str = "cases-2024.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(URL, {"file": file})


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert client.post(CONFIRM).status_code == 302


@pytest.mark.parametrize("group", ["Researcher", None])
def test_staff_who_may_not_add_and_change_cases_are_refused(client, group):
    user = staff(group, "researcher") if group else make_user("nobody", is_staff=True)
    client.force_login(user)

    assert client.get(URL).status_code == 403
    assert upload(client, csv_bytes(KIM)).status_code == 403
    assert not Person.objects.exists()


def test_a_caseworker_who_is_not_staff_is_refused(client):
    user = make_user("former")
    user.groups.add(Group.objects.get(name="Caseworker"))
    client.force_login(user)

    assert client.get(URL).status_code == 403


def test_the_page_shows_the_upload_form(client):
    client.force_login(staff("Caseworker", "caseworker"))

    response = client.get(URL)

    assert response.status_code == 200
    assert b'type="file"' in response.content
    assert client.put(URL).status_code == 405


def test_the_preview_shows_what_will_happen_and_writes_nothing(client):
    client.force_login(staff("Editor", "editor"))
    before = everything()

    response = upload(client, csv_bytes(KIM, UNNAMED))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview of cases-2024.csv" in html
    assert "Kim Example" in html and "status recorded: Arrested, October 2014" in html
    assert response.context["result"].counts.created == 2
    assert response.context["token"]
    # Only the file itself is kept, for the confirmation.
    assert everything() == {**before, "exchange.ImportPreview": 1}
    assert bytes(ImportPreview.objects.get().data) == csv_bytes(KIM, UNNAMED)


def test_confirming_imports_the_file_under_the_users_name(client):
    editor = staff("Editor", "editor")
    client.force_login(editor)
    token = upload(client, csv_bytes(KIM, UNNAMED)).context["token"]

    response = client.post(CONFIRM, {"token": token})

    assert response.status_code == 200
    assert "Imported cases-2024.csv. Persons 2 created" in response.content.decode()
    assert Person.objects.count() == 2
    assert {row.history_user for row in Person.history.all()} == {editor}
    assert {row.history_change_reason for row in StatusEvent.history.all()} == {"Imported from cases-2024.csv"}
    assert not ImportPreview.objects.exists()
    again = client.post(CONFIRM, {"token": token})
    assert again.status_code == 400 and "expired or was already imported" in again.content.decode()
    assert Person.objects.count() == 2


def test_a_token_is_good_only_for_the_user_who_uploaded(client):
    client.force_login(staff("Editor", "editor"))
    token = upload(client, csv_bytes(KIM)).context["token"]
    client.force_login(staff("Editor", "other"))

    assert client.post(CONFIRM, {"token": token}).status_code == 400
    assert client.post(CONFIRM, {"token": token + "x"}).status_code == 400
    assert client.get(CONFIRM).status_code == 405
    assert not Person.objects.exists()


def test_problems_are_shown_with_their_lines_and_nothing_is_written(client):
    client.force_login(staff("Editor", "editor"))
    before = everything()

    response = upload(client, csv_bytes(KIM, {**UNNAMED, "status": "gone", "birth_date": "1990-02-31"}))

    assert response.status_code == 400
    html = response.content.decode()
    assert "2 problems found; nothing was written" in html
    assert "<td>3</td><td>status</td><td>unknown status “gone”" in html
    assert "<td>3</td><td>birth_date</td>" in html
    assert "token" not in response.context
    assert everything() == before


def test_a_caseworker_cannot_add_a_source_through_the_page(client):
    client.force_login(staff("Caseworker", "caseworker"))

    response = upload(client, csv_bytes(KIM))

    assert response.status_code == 400
    assert "you may not add sources" in response.content.decode()
    assert not Source.objects.exists()


def test_the_dashboard_links_to_the_import_page(client):
    client.force_login(staff("Caseworker", "caseworker"))

    assert f'href="{URL}"' in client.get("/staff/").content.decode()


def test_the_benchmark_import_file_imports_cleanly_and_twice_changes_nothing(tmp_path):
    # scripts/import_file.py makes the file `make bench` times; a file it
    # cannot import would leave the benchmark measuring an error.
    path = tmp_path / "synthetic.csv"
    subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, str(settings.BASE_DIR / "scripts" / "import_file.py"), "--rows", "60", "--output", str(path)],
        check=True,
    )
    first = import_cases(path.read_bytes(), filename=path.name, by=None)
    assert first.problems == []
    assert first.counts.created == 60
    assert Person.objects.filter(external_ref__startswith="SYNTHETIC-IMPORT-").count() == 60
    assert StatusEvent.objects.count() == first.counts.status_events > 0
    second = import_cases(path.read_bytes(), filename=path.name, by=None)
    assert second.counts.unchanged == 60

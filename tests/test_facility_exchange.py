"""Facilities and authorities in the exchange: named by any spelling in the CSV, exported, imported back."""

import csv
import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.history import save_with_history
from cases.models import Authority, Facility, FacilityName, Relation, Responsibility, Status, StatusEvent
from cases.partial_dates import PartialDate
from exchange.csv_format import COLUMNS
from exchange.exporter import person_rows
from exchange.facilities import authority_entries, facility_entries
from exchange.importer import import_cases, system_user
from sources.models import Citation, Source

from .factories import (
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_person,
    make_publishable_case,
    make_relation,
    make_source,
    publish_case,
)

pytestmark = pytest.mark.django_db


def csv_bytes(*rows: dict) -> bytes:
    columns = ["external_ref", "name", "status", "status_date", "status_facility", "status_responsible"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode()


def run(data: bytes, **options):
    return import_cases(data, filename="facilities.csv", **options)


def everything() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models(include_auto_created=True)}


def export(*options) -> str:
    out = io.StringIO()
    call_command("export_cases", *options, stdout=out)
    return out.getvalue()


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


@pytest.fixture
def yodok():
    mss = make_authority(name_ko="국가보위성")
    return make_facility(
        "Kwanliso No. 15 (Yodok)", name_ko="요덕 제15호 관리소", name_ja="第15号管理所（ヨドク）", authority=mss,
        variants=["Camp 15"],
    )  # fmt: skip


# --- The facility column ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "Kwanliso No. 15 (Yodok)",  # its name
        "KWANLISO NO. 15 (YODOK)",  # in any case
        "요덕 제15호 관리소",  # its Korean name
        "第15号管理所（ヨドク）",  # its Japanese name
        "Camp 15",  # another name
        "Yodok",  # a part only it has
        "Yodeok",  # the Revised Romanization of its Korean name
        "Yodŏk",  # McCune–Reischauer
        "요덕",
    ],
)
def test_a_status_change_names_its_facility_by_any_spelling(yodok, spelling):
    result = run(
        csv_bytes({"external_ref": "F-1", "name": "Kim Held", "status": "detained", "status_facility": spelling})
    )

    assert result.problems == []
    event = StatusEvent.objects.get(person__external_ref="F-1")
    assert event.facility == yodok
    assert "at the facility “Kwanliso No. 15 (Yodok)”" in result.rows[0].changes


def test_a_name_that_is_exactly_one_facilitys_finds_it_though_another_contains_it():
    first = make_facility("Holding centre 1")
    make_facility("Holding centre 12")

    result = run(csv_bytes({"name": "Kim Held", "status": "detained", "status_facility": "holding centre 1"}))

    assert result.problems == []
    assert StatusEvent.objects.get().facility == first


def test_an_unknown_facility_is_a_problem_on_its_line_and_nothing_is_written(yodok):
    before = everything()
    data = csv_bytes(
        {"external_ref": "F-1", "name": "Kim Fine", "status": "detained", "status_facility": "Yodok"},
        {"external_ref": "F-2", "name": "Lee Unknown", "status": "detained", "status_facility": "Camp 99"},
    )

    result = run(data)

    assert not result.written
    assert [(problem.line, problem.column) for problem in result.problems] == [(3, "status_facility")]
    assert str(result.problems[0]).startswith("line 3, status_facility: no facility is called “Camp 99”")
    assert everything() == before


def test_a_name_two_facilities_share_is_ambiguous_and_names_both():
    make_facility("Kwanliso No. 14 (Kaechon)")
    make_facility("Kyohwaso No. 1 (Kaechon)", kind="kyohwaso")

    result = run(csv_bytes({"name": "Kim Held", "status": "detained", "status_facility": "Kaechon"}))

    (problem,) = result.problems
    assert (problem.line, problem.column) == (2, "status_facility")
    assert "could be the facility “Kwanliso No. 14 (Kaechon)”, “Kyohwaso No. 1 (Kaechon)”" in problem.message
    assert not StatusEvent.objects.exists()


def test_a_withdrawn_facility_is_not_named():
    camp = make_facility("Old camp")
    camp.withdraw(by=None, reason="recorded twice")

    result = run(csv_bytes({"name": "Kim Held", "status": "detained", "status_facility": "Old camp"}))

    assert [problem.message for problem in result.problems] == ["the facility “Old camp” was withdrawn: name another."]


def test_a_facility_or_authorities_without_a_status_are_a_problem(yodok):
    result = run(csv_bytes({"name": "Kim Held", "status_facility": "Yodok", "status_responsible": "국가보위성"}))

    assert {(problem.column, problem.message) for problem in result.problems} == {
        ("status_facility", "is given without a status: fill the status column too."),
        ("status_responsible", "is given without a status: fill the status column too."),
    }


# --- The authorities column ------------------------------------------------------------------------------


def test_the_authorities_believed_responsible_are_read_with_their_confidences():
    mss = make_authority(name_ko="국가보위성")
    social = make_authority("Ministry of Social Security", name_ko="사회안전성")
    bureau = make_authority("Provincial security bureau", parent=mss)
    cell = "Ministry of State Security (likely); 사회안전성 (Possible); Provincial security bureau"

    result = run(
        csv_bytes({"external_ref": "R-1", "name": "Kim Held", "status": "arrested", "status_responsible": cell})
    )

    assert result.problems == []
    event = StatusEvent.objects.get()
    held = {(r.authority, r.confidence) for r in Responsibility.objects.filter(status_event=event)}
    assert held == {(mss, "likely"), (social, "possible"), (bureau, "unverified")}
    assert Responsibility.history.filter(history_change_reason="Imported from facilities.csv").count() == 3
    assert (
        "authorities believed responsible: Ministry of Social Security (possible); Ministry of State Security "
        "(likely); Provincial security bureau (unverified)" in result.rows[0].changes
    )


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("(likely)", "names no authority: write the authority's name before its confidence"),
        ("Ministry of State Security (likely", "has a bracket that is not closed"),
        ("Ministry of State Security (likely) (possible)", "gives two confidences: give one"),
        ("Ministry of State Security (likely); ministry of state security (possible)", "is named twice"),
        ("Ministry of State Security (likley)", "no authority is called “Ministry of State Security (likley)”"),
        (
            "Ministry of State Security (likely); 국가보위성 (possible)",
            "are both the authority “Ministry of State Security”",
        ),
    ],
)
def test_a_malformed_authorities_cell_is_a_clear_problem_on_its_line(cell, message):
    make_authority(name_ko="국가보위성")
    data = csv_bytes(
        {"name": "Kim Fine", "status": "detained"},
        {"name": "Lee Bad", "status": "detained", "status_responsible": cell},
    )

    result = run(data)

    assert [(problem.line, problem.column) for problem in result.problems] == [(3, "status_responsible")]
    assert message in result.problems[0].message
    assert not StatusEvent.objects.exists() and not Responsibility.objects.exists()


def test_a_status_already_recorded_elsewhere_is_not_corrected_by_an_import(yodok):
    other = make_facility("Holding centre, Onsong", kind="jipkyulso")
    person = make_person(name="Kim Held", external_ref="F-1")
    event = make_event(person, Status.DETAINED, "2014", facility=yodok)
    Responsibility.objects.create(status_event=event, authority=yodok.authority, confidence="likely")
    before = everything()

    same = run(
        csv_bytes(
            {
                "external_ref": "F-1",
                "name": "Kim Held",
                "status": "detained",
                "status_facility": "Yodok",
                "status_responsible": "Ministry of State Security (likely)",
            }
        )
    )
    moved = run(
        csv_bytes({"external_ref": "F-1", "name": "Kim Held", "status": "detained", "status_facility": "Onsong"})
    )
    blamed = run(
        csv_bytes(
            {
                "external_ref": "F-1",
                "name": "Kim Held",
                "status": "detained",
                "status_responsible": "국가보위성 (confirmed)",
            }
        )
    )

    assert same.problems == [] and same.counts.unchanged == 1
    assert [problem.column for problem in moved.problems] == ["status_facility"]
    assert "already recorded with the facility “Kwanliso No. 15 (Yodok)”" in moved.problems[0].message
    assert [problem.column for problem in blamed.problems] == ["status_responsible"]
    assert "already recorded with the authorities “Ministry of State Security (likely)”" in blamed.problems[0].message
    assert everything() == before
    assert other.status_events.count() == 0


def test_naming_facilities_and_authorities_reads_them_once_whatever_the_number_of_rows(yodok):
    make_authority("Ministry of Social Security", name_ko="사회안전성")

    def rows(start: int, count: int) -> bytes:
        return csv_bytes(
            *(
                {
                    "external_ref": f"Q-{n}",
                    "name": f"Kim Number{n}",
                    "status": "detained",
                    "status_facility": ["Yodok", "Camp 15", "요덕"][n % 3],
                    "status_responsible": ["국가보위성 (likely)", "Ministry of Social Security (possible); 국가보위성"][
                        n % 2
                    ],
                }
                for n in range(start, start + count)
            )
        )

    system_user()  # created by the first import otherwise
    with CaptureQueriesContext(connection) as few:
        assert run(rows(0, 3)).problems == []
    with CaptureQueriesContext(connection) as many:
        assert run(rows(100, 60)).problems == []

    # The same reads for 60 rows as for 3 (SQLite splits the bulk inserts by its limit on parameters).
    def reads(queries) -> list[str]:
        return [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]

    assert len(reads(many)) == len(reads(few))
    assert len([sql for sql in reads(many) if 'FROM "cases_facility"' in sql]) == 1
    assert len([sql for sql in reads(many) if 'FROM "cases_authority"' in sql]) == 1
    assert Responsibility.objects.count() == 3 + 3 // 2 + 60 + 60 // 2


# --- Exporting -------------------------------------------------------------------------------------------


def case_at(facility, *held, name="Kim Held", ref="EX-1", **fields):
    person = make_person(name=name, external_ref=ref, **fields)
    make_event(person, Status.ARRESTED, "2013", place="Hyesan")
    event = make_event(person, Status.DETAINED, "2014-03", facility=facility)
    for authority, confidence in held:
        Responsibility.objects.create(status_event=event, authority=authority, confidence=confidence)
    return person


def test_the_csv_export_names_the_facility_and_authorities_and_imports_back_unchanged(yodok):
    social = make_authority("Ministry of Social Security")
    case_at(yodok, (yodok.authority, "likely"), (social, "possible"))
    before = everything()

    text = export()
    (row,) = rows_of(text)
    result = run(text.encode())

    assert (row["status_facility"], row["status_responsible"]) == (
        "Kwanliso No. 15 (Yodok)",
        "Ministry of Social Security (possible); Ministry of State Security (likely)",
    )
    assert result.problems == [] and result.counts.unchanged == 1
    assert everything() == before


def test_the_staff_json_carries_facilities_authorities_events_and_relations(yodok):
    bureau = make_authority("Provincial security bureau", parent=yodok.authority, internal_notes="Staff only.")
    person = case_at(yodok, (bureau, "confirmed"))
    sister = make_person(name="Kim Sister")
    make_relation(sister, "sibling", person, note="Told by a cousin.", source=make_source(title="Interview"))

    data = json.loads(export("--format", "json"))

    assert [entry["name"] for entry in data["authorities"]] == [
        "Ministry of State Security",
        "Provincial security bureau",
    ]
    assert data["authorities"][1]["parent"] == "Ministry of State Security"
    assert data["authorities"][1]["internal_notes"] == "Staff only."
    (camp,) = data["facilities"]
    assert (camp["name"], camp["authority"], camp["kind"], camp["precision"]) == (
        "Kwanliso No. 15 (Yodok)",
        "Ministry of State Security",
        "kwanliso",
        "approximate",
    )
    assert camp["other_names"] == [{"name": "Camp 15", "is_public": True, "note": ""}]
    (row, sister_row) = data["cases"]
    assert [(event["status"], event["facility"]) for event in row["events"]] == [
        ("arrested", None),
        ("detained", "Kwanliso No. 15 (Yodok)"),
    ]
    assert row["events"][1]["responsible"] == [{"authority": "Provincial security bureau", "confidence": "confirmed"}]
    assert row["relations"] == sister_row["relations"]
    (relation,) = row["relations"]
    assert (relation["person"], relation["kind"], relation["other"]) == (sister.case_id, "sibling", person.case_id)
    assert relation["note"] == "Told by a cousin."
    assert relation["citations"][0]["source"]["title"] == "Interview"


# --- The round trip into an empty database ---------------------------------------------------------------


def world() -> None:
    """Authorities under a parent, facilities with every field, other names and citations, cases held there."""
    mss = make_authority(name_ko="국가보위성", name_ja="国家保衛省", country="KP", description="Political police.")
    bureau = make_authority("Provincial security bureau", parent=mss, is_public=False, internal_notes="Unconfirmed.")
    china = make_authority("Ministry of Public Security (China)", country="CN")
    report = make_source(title="Detailed findings", url="https://example.org/coi", published_on=None)
    camp = make_facility(
        "Kwanliso No. 15 (Yodok)",
        name_ko="요덕 제15호 관리소",
        authority=mss,
        country="KP",
        province="South Hamgyong",
        province_ko="함경남도",
        county="Yodok County",
        latitude="39.75000",
        longitude="127.15000",
        precision="region",
        description="A political prison camp.",
        description_ko="정치범수용소.",
        internal_notes="Coordinates: the county.",
        variants=["Camp 15"],
    )
    FacilityName.objects.create(facility=camp, name="Secret spelling", is_public=False, note="from a witness")
    make_citation(report, facility=camp, locator="section IV.E")
    make_citation(make_source(title="Testimony", is_restricted=True), facility=camp, note="interview 4")
    border = make_facility("Border detention centre", kind="foreign_detention", authority=china, latitude=None,
                           longitude=None, precision="", opened_on=PartialDate.parse("2001~"))  # fmt: skip
    gone = make_facility("Duplicate camp")
    gone.withdraw(by=None, reason="recorded twice")
    first = case_at(camp, (mss, "likely"), (bureau, "possible"), name="Kim Held", ref="RT-1")
    second = make_person(name="Lee Returned", external_ref="RT-2")
    make_event(second, Status.FORCIBLY_REPATRIATED, "2019", facility=border).responsibilities.create(
        authority=china, confidence="confirmed"
    )
    make_relation(first, "sibling", second)


def test_a_staff_export_imports_into_an_empty_database_with_its_facilities_authorities_and_event_links(tmp_path):
    with transaction.atomic():
        world()
        authorities, facilities = authority_entries(), facility_entries()
        events = {
            row["external_ref"]: row["events"][-1] for row in person_rows(include_restricted=True, with_appeals=True)
        }
        (tmp_path / "all.json").write_text(export("--format", "json"), encoding="utf-8")
        (tmp_path / "all.csv").write_text(export(), encoding="utf-8")
        transaction.set_rollback(True)
    assert not Facility.objects.exists() and not Authority.objects.exists() and not Source.objects.exists()

    call_command("import_facilities", str(tmp_path / "all.json"), stdout=io.StringIO())
    # The cases get new case IDs here: the case_id column is left blank, the external_ref kept.
    rows = rows_of((tmp_path / "all.csv").read_text(encoding="utf-8"))
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows({**row, "case_id": ""} for row in rows)
    result = run(out.getvalue().encode())

    assert result.problems == []
    assert authority_entries() == authorities
    assert facility_entries() == facilities
    for row in person_rows(include_restricted=True, with_appeals=True):
        latest = {**row["events"][-1], "is_public": events[row["external_ref"]]["is_public"]}
        assert latest == events[row["external_ref"]]
    assert Facility.objects.get(name="Duplicate camp").withdrawn
    assert Source.objects.get(title="Testimony").is_restricted
    # Relations are in the JSON but not imported: their persons are matched by case ID, which differ here.
    assert not Relation.objects.exists()


def test_importing_facilities_twice_adds_nothing_the_second_time(tmp_path):
    world()
    system_user()
    path = tmp_path / "all.json"
    path.write_text(export("--format", "json"), encoding="utf-8")
    before = everything()
    out = io.StringIO()

    call_command("import_facilities", str(path), stdout=out)

    assert "added 0 authorities and 0 facilities; 6 already there, left as they are" in out.getvalue()
    assert everything() == before


def test_an_import_of_facilities_with_a_problem_writes_nothing_and_says_where(tmp_path):
    document = {
        "authorities": [{"name": "Unit 7", "parent": "Nobody"}],
        "facilities": [
            {"name": "Camp A", "kind": "castle"},
            {"name": "Camp B", "latitude": "north", "longitude": "127"},
            {"name": "Camp C", "latitude": 39.7, "longitude": 127.1},
            {"name": "Camp D", "citations": [{"source": {"title": "A report", "published_on": "someday"}}]},
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="5 problems found; nothing was written"):
        call_command("import_facilities", str(path), stderr=err)

    lines = err.getvalue().splitlines()
    assert (
        lines[0] == "authorities[0] “Unit 7”, parent: there is no authority “Nobody”, in the file or in the database."
    )
    assert lines[1].startswith("facilities[0] “Camp A”, kind: ")
    assert lines[2] == "facilities[1] “Camp B”, latitude: “north” is not a number of degrees."
    assert lines[3] == "facilities[2] “Camp C”, precision: Say how precise the coordinates are."
    assert lines[4].startswith("facilities[3] “Camp D”, citations[0], source: “someday” is not a date")
    assert not Authority.objects.exists() and not Facility.objects.exists() and not Source.objects.exists()


def test_a_dry_run_of_import_facilities_writes_nothing(tmp_path):
    path = tmp_path / "some.json"
    path.write_text(json.dumps({"authorities": [{"name": "Unit 7"}], "facilities": [{"name": "Camp A"}]}), "utf-8")
    out = io.StringIO()

    call_command("import_facilities", str(path), "--dry-run", stdout=out)

    assert "would add 1 authority and 1 facility" in out.getvalue()
    assert not Authority.objects.exists() and not Facility.objects.exists()


# --- The public export -----------------------------------------------------------------------------------


def test_the_public_export_holds_only_public_facilities_authorities_and_relations():
    mss = make_authority(internal_notes="SENTINEL-AUTHORITY-NOTE")
    hidden_body = make_authority("SENTINEL-HIDDEN-AUTHORITY", is_public=False)
    make_authority("Public unit", parent=hidden_body)  # its non-public parent is not named
    camp = make_facility(authority=mss, internal_notes="SENTINEL-FACILITY-NOTE", variants=["Camp 15"])
    FacilityName.objects.create(facility=camp, name="SENTINEL-VARIANT", is_public=False)
    hidden = make_facility("SENTINEL-HIDDEN-FACILITY", is_public=False)
    make_citation(make_source(title="SENTINEL-RESTRICTED-SOURCE", is_restricted=True), facility=camp)
    make_citation(make_source(title="Public report"), facility=camp, locator="p. 3")

    held = make_publishable_case(name="Kim Held")
    event = held.status_events.get()
    event.facility = camp
    save_with_history(event, by=None, reason="test")
    Responsibility.objects.create(status_event=event, authority=mss, confidence="likely")
    Responsibility.objects.create(status_event=event, authority=hidden_body, confidence="likely")
    elsewhere = make_publishable_case(name="Lee Elsewhere")
    other_event = elsewhere.status_events.get()
    other_event.facility = hidden
    save_with_history(other_event, by=None, reason="test")
    draft = make_person(name="Park Draft")
    make_relation(held, "sibling", elsewhere, source=make_source(title="Family report"), note="SENTINEL-RELATION-NOTE")
    make_relation(held, "spouse", elsewhere, is_public=False, note="SENTINEL-HIDDEN-RELATION")
    make_relation(held, "detained_together", draft)
    # Published after the other case, so that their relation is on its record.
    publish_case(elsewhere)
    publish_case(held)

    text = export("--public-only", "--format", "json") + export("--public-only")
    data = json.loads(export("--public-only", "--format", "json"))

    assert "SENTINEL" not in text
    assert draft.case_id not in text
    assert [facility["name"] for facility in data["facilities"]] == ["Yodok political prison camp"]
    assert data["facilities"][0]["other_names"] == ["Camp 15"]
    assert {authority["name"] for authority in data["authorities"]} == {"Ministry of State Security", "Public unit"}
    cases = {row["name"]: row for row in data["cases"]}
    assert cases["Kim Held"]["status_facility"] == "Yodok political prison camp"
    assert cases["Kim Held"]["status_responsible"] == "Ministry of State Security (likely)"
    assert cases["Lee Elsewhere"]["events"][0]["facility"] is None
    assert cases["Kim Held"]["relations"] == [
        {"person": elsewhere.case_id, "kind": "sibling", "other": held.case_id, "confidence": "confirmed"}
    ]
    # The staff export has them all.
    staff = export("--format", "json")
    for sentinel in ("AUTHORITY-NOTE", "FACILITY-NOTE", "VARIANT", "HIDDEN-FACILITY", "HIDDEN-AUTHORITY", "RELATION"):
        assert f"SENTINEL-{sentinel}" in staff
    assert Citation.objects.filter(facility=camp).count() == 2

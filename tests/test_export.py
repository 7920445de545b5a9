"""Exporting cases: the import's columns, formulas neutralised, the public export built from published versions."""

import csv
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command

from cases.history import save_with_history
from cases.models import Category, Confidence, Person, Sex, Status
from cases.partial_dates import PartialDate
from exchange.csv_format import COLUMNS
from exchange.exporter import person_rows
from exchange.importer import import_cases

from .conftest import make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db


def export(*options) -> str:
    out = io.StringIO()
    call_command("export_cases", *options, stdout=out)
    return out.getvalue()


def rows_of(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def everything() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models(include_auto_created=True)}


def full_case(ref: str = "ORG-1") -> Person:
    """A case with something in every column, formula-looking text and Hangul included."""
    person = make_person(
        name="Kim Example",
        external_ref=ref,
        family_name_native="김",
        given_name_native="예시",
        sex=Sex.FEMALE,
        birth_date=PartialDate(1970, approximate=True),
        nationality="KP",
        religion="-",
        summary='=HYPERLINK("http://evil.example")\nSecond line, with a comma.',
        internal_notes="@restricted note",
    )
    person.categories.set(Category.objects.filter(slug__in=["missionary", "abductee"]))
    make_variant(person, "Gim Ye-si")
    make_variant(person, "+Alias", is_public=False)
    make_event(person, Status.ARRESTED, "2014-10", place="Example City", confidence=Confidence.LIKELY)
    source = make_source(
        title="Example report", url=f"https://example.org/{ref}", publisher="NGO", published_on=PartialDate(2015)
    )
    event = make_event(person, Status.SENTENCED, "2015-03", place="Court", confidence=Confidence.CONFIRMED)
    make_citation(source, status_event=event, locator="p. 12")
    return person


def test_the_csv_has_exactly_the_import_columns_and_every_value():
    person = full_case()
    unnamed = make_person(name="", descriptor="Unnamed woman (fictional)")

    rows = rows_of(export())

    assert list(rows[0]) == list(COLUMNS)
    assert rows[0] == {
        "case_id": person.case_id,
        "external_ref": "ORG-1",
        "name": "Kim Example",
        "name_native": "김예시",
        "other_names": "'+Alias; Gim Ye-si",
        "descriptor": "",
        "sex": "female",
        "birth_date": "1970~",
        "nationality": "KP",
        "categories": "abductee; missionary",
        "religion": "'-",
        "summary": '\'=HYPERLINK("http://evil.example")\nSecond line, with a comma.',
        "internal_notes": "'@restricted note",
        "status": "sentenced",
        "status_date": "2015-03",
        "status_place": "Court",
        "status_confidence": "confirmed",
        "source_title": "Example report",
        "source_url": "https://example.org/ORG-1",
        "source_publisher": "NGO",
        "source_date": "2015",
        "source_locator": "p. 12",
        "status_facility": "",
        "status_responsible": "",
    }
    assert rows[1]["case_id"] == unnamed.case_id
    assert (rows[1]["name"], rows[1]["descriptor"], rows[1]["status"]) == ("", "Unnamed woman (fictional)", "")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "'=already quoted", "''-twice"])
def test_formula_looking_cells_are_neutralised_and_read_back_unchanged(text):
    person = make_person(summary=text)

    exported = rows_of(export())[0]["summary"]

    assert exported == "'" + text
    result = import_cases(export().encode(), filename="export.csv")
    assert result.counts.unchanged == 1
    person.refresh_from_db()
    assert person.summary == text


def test_exporting_and_importing_again_changes_nothing(tmp_path):
    full_case()
    make_person(name="", descriptor="Unnamed woman (fictional)")
    other = make_person(name="Namgung Ye-si", family_name_native="남궁", given_name_native="예시")
    make_citation(make_source(title="About her", url=""), person=other, locator="para. 3")
    odd = make_person(name="Odd Split", family_name_native="남", given_name_native="궁민")
    make_event(odd, Status.DISAPPEARED)
    path = tmp_path / "export.csv"
    call_command("export_cases", "--output", str(path))
    before = everything()

    result = import_cases(path.read_bytes(), filename="export.csv")

    assert result.problems == []
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 0, 4)
    assert everything() == before


def test_the_json_export_has_the_same_keys_with_lists_for_names_and_categories():
    person = full_case()

    data = json.loads(export("--format", "json"))["cases"]

    # Then the case's appeals, events and relations, which a spreadsheet row has no room for
    # (tests/test_appeal_export.py, tests/test_facility_exchange.py).
    assert list(data[0]) == [*COLUMNS, "events", "appeals", "relations"]
    assert data[0]["appeals"] == data[0]["relations"] == []
    assert [event["status"] for event in data[0]["events"]] == ["arrested", "sentenced"]
    assert data[0]["case_id"] == person.case_id
    assert data[0]["other_names"] == ["+Alias", "Gim Ye-si"]
    assert data[0]["summary"].startswith("=HYPERLINK")  # JSON is not a spreadsheet
    assert data[0]["internal_notes"] == "@restricted note"


def test_without_restricted_values_there_are_no_internal_notes_and_no_restricted_sources():
    person = full_case()
    secret = make_source(title="Confidential testimony", is_restricted=True)
    make_citation(secret, status_event=person.status_events.get(status=Status.SENTENCED))
    Citation = apps.get_model("sources", "Citation")
    Citation.objects.filter(source__title="Example report").update(withdrawn=True, withdrawn_reason="test")

    row = next(person_rows(include_restricted=False))

    assert row["internal_notes"] == ""
    assert (row["source_title"], row["source_locator"]) == ("", "")
    assert next(person_rows(include_restricted=True))["source_title"] == "Confidential testimony"


def public_case() -> Person:
    person = make_person(
        name="Kim Public",
        external_ref="PUB-7",
        summary="Published summary.",
        internal_notes="Never public.",
        religion="Christian",
    )
    make_variant(person, "Kim Publik")
    make_variant(person, "Secret Alias", is_public=False)
    public_event = make_event(person, Status.DETAINED, "2012", is_public=True, place="Camp")
    make_citation(make_source(title="Public report", url="https://example.org/public"), status_event=public_event)
    hidden = make_event(person, Status.RELEASED, "2020", is_public=False)
    make_citation(make_source(title="Confidential", is_restricted=True), status_event=hidden)
    return publish_case(person)


def test_the_public_export_holds_exactly_the_published_record():
    person = public_case()
    make_person(name="Draft Only")
    person.summary = "Unreviewed edit."
    save_with_history(person, by=None, reason="test")

    rows = rows_of(export("--public-only"))

    assert len(rows) == 1
    assert rows[0] == {
        **dict.fromkeys(COLUMNS, ""),
        "case_id": person.case_id,
        "name": "Kim Public",
        "other_names": "Kim Publik",
        "sex": "unknown",
        "summary": "Published summary.",
        "status": "detained",
        "status_date": "2012",
        "status_place": "Camp",
        "status_confidence": "confirmed",
        "source_title": "Public report",
        "source_url": "https://example.org/public",
    }
    text = export("--public-only", "--format", "json")
    for secret in ("Never public", "Secret Alias", "Confidential", "released", "PUB-7", "Christian", "Unreviewed"):
        assert secret not in text


def test_the_public_export_uses_the_pseudonym_when_the_family_faces_reprisals():
    person = public_case()
    person.reprisal_risk, person.pseudonym = True, "Person A"
    save_with_history(person, by=None, reason="test")

    rows = rows_of(export("--public-only"))

    assert [(row["name"], row["other_names"]) for row in rows] == [("Person A", "")]
    assert "Kim Public" not in export("--public-only", "--format", "json")


def test_a_withdrawn_case_is_not_in_the_public_export():
    from workflow.services import withdraw

    person = public_case()
    withdraw(person, by=None, reason="test")

    assert rows_of(export("--public-only")) == []


def test_the_export_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    for number in range(3):
        full_case(f"ORG-{number}")
    # The names of the facilities and authorities once, the authorities believed responsible once a chunk.
    with django_assert_max_num_queries(9):
        export()
    for number in range(3, 9):
        full_case(f"ORG-{number}")
    with django_assert_max_num_queries(9):
        export()
    public_case()
    with django_assert_max_num_queries(2):
        export("--public-only")


def test_the_export_can_be_written_to_a_file(tmp_path):
    full_case()
    path = tmp_path / "cases.json"

    call_command("export_cases", "--format", "json", "--output", str(path))

    assert json.loads(path.read_text(encoding="utf-8"))["cases"][0]["name"] == "Kim Example"


@pytest.mark.django_db
def test_the_public_csv_and_the_public_exchange_export_agree_on_every_column_they_share(client):
    """Two formats (the site's list, the exchange format that imports back), one row per case, the same values."""
    from public.export import CSV_COLUMNS

    call_command("load_seed")
    odd = make_person(name="=HYPERLINK(1) Kim", summary="+1 unverified", nationality="KP")
    make_variant(odd, "-Kim Odd")
    make_citation(make_source(title="@report"), status_event=make_event(odd, Status.DETAINED, "2020", is_public=True))
    publish_case(odd)
    exchange = {row["case_id"]: row for row in rows_of(export("--public-only", "--format", "csv"))}
    body = b"".join(client.get("/export/cases.csv").streaming_content).decode("utf-8")
    public = {row["case_id"]: row for row in csv.DictReader(io.StringIO(body.removeprefix("\ufeff")))}

    shared = set(COLUMNS) & set(CSV_COLUMNS)
    assert shared == {
        "case_id",
        "name",
        "name_native",
        "other_names",
        "sex",
        "birth_date",
        "nationality",
        "categories",
        "status",
        "summary",
    }
    assert public.keys() == exchange.keys() and len(public) == 7
    for case_id, row in public.items():
        assert {column: row[column] for column in shared} == {column: exchange[case_id][column] for column in shared}
    assert public[odd.case_id]["name"] == "'=HYPERLINK(1) Kim"
    assert public[odd.case_id]["summary"] == "'+1 unverified"

"""Data releases (/data/): every published case as a Frictionless data package, built by a command and after
publications, listed, served from the shared storage, and withdrawn with the cases it holds."""

import csv
import hashlib
import io
import json
import logging
import zipfile

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from frictionless import validate

from cases.models import Status
from public import releases
from public.release_tables import TABLES
from public.releases import build_release
from tests.factories import (
    make_appeal,
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_publishable_case,
    make_relation,
    make_source,
    make_variant,
    publish_case,
)
from workflow.models import DataRelease, PublishedVersion
from workflow.services import publish_many, submit_for_review, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    """Releases written to a folder of the test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "media")}},
    }
    return tmp_path / "media"


def published_cases(count: int = 2) -> list:
    """``count`` published cases with every kind of row a release holds."""
    source = make_source(title="UN report", publisher="OHCHR", kind="un", language="en")
    camp = make_facility("Yodok political prison camp", name_ko="요덕 정치범수용소")
    mss = make_authority("Ministry of State Security")
    persons = []
    for index in range(count):
        person = make_publishable_case(
            name=f"Kim Chol-{index}",
            family_name_native="김",
            given_name_native="철",
            nationality="KP",
            sex="male",
            summary="Arrested, then held.",
            summary_ko="체포되어 수감되었다.",
            source=source,
            date=f"201{index}~",
        )
        make_variant(person, f"Gim Cheol-{index}")
        held = make_event(person, Status.DETAINED, "2019-05-07", is_public=True, facility=camp, place="Yodok")
        held.responsibilities.create(authority=mss, confidence="likely")
        make_citation(source, status_event=held, locator="para. 12", excerpt="held at Yodok")
        make_citation(source, person=person, locator="p. 1")
        make_appeal(person, is_public=True, sent="2020-03")
        persons.append(person)
    make_relation(persons[0], "sibling", persons[1], source=source)
    for person in persons:
        publish_case(person)
    return persons


def read(release: DataRelease, name: str) -> bytes:
    with default_storage.open(release.file(name)["path"], "rb") as handle:
        return handle.read()


def rows(release: DataRelease, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(read(release, name).decode("utf-8"), newline="")))


def fetch(client, address: str, **headers):
    """The response, its streamed body read (which closes its file: the test client's own close, which leaves the
    database connection open)."""
    response = client.get(address, headers=headers)
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


def unpacked(release: DataRelease, folder) -> "object":
    """The release's zip, unpacked into ``folder``: the package's own folder."""
    with zipfile.ZipFile(io.BytesIO(read(release, f"whereabouts-data-{release.number}.zip"))) as bundle:
        bundle.extractall(folder)
    return folder / f"whereabouts-data-{release.number}"


def test_the_package_validates_with_the_frictionless_validator(tmp_path):
    published_cases()
    release = build_release()
    report = validate(str(unpacked(release, tmp_path) / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert {task.name for task in report.tasks} >= {table.name for table in TABLES}


def test_row_counts_equal_the_public_counts():
    published_cases(3)
    release = build_release()
    records = [version.record for version in PublishedVersion.objects.current()]
    expected = {
        "cases.csv": PublishedVersion.objects.current().count(),
        "events.csv": sum(len(record["events"]) for record in records),
        "citations.csv": sum(len(record["citations"]) for record in records),
        "relations.csv": sum(len(record["relations"]) for record in records),
        "appeals.csv": sum(len(record["appeals"]) for record in records),
        "sources.csv": len({source["id"] for record in records for source in record["sources"]}),
        "responsibilities.csv": sum(len(event["responsible"]) for record in records for event in record["events"]),
        "cases.jsonl": PublishedVersion.objects.current().count(),
    }
    assert expected["cases.csv"] == 3 and expected["events.csv"] == 6 and expected["relations.csv"] == 1
    for name, count in expected.items():
        assert release.file(name)["rows"] == count, name
        if name.endswith(".csv"):
            assert len(rows(release, name)) == count, name
    assert release.case_count == 3
    assert len(read(release, "cases.jsonl").decode().splitlines()) == 3


def test_every_table_reads_with_its_schemas_field_names_and_values_as_written():
    first, second = published_cases()
    release = build_release()
    package = json.loads(read(release, "datapackage.json"))
    for resource in package["resources"]:
        if "schema" in resource:
            header = next(csv.reader(io.StringIO(read(release, resource["path"]).decode("utf-8"))))
            assert header == [field["name"] for field in resource["schema"]["fields"]], resource["name"]
    cases = {row["case_id"]: row for row in rows(release, "cases.csv")}
    case = cases[first.case_id]
    assert (
        case["name"] == "Kim Chol-0" and case["name_native"] == "김철" and case["summary_ko"] == "체포되어 수감되었다."
    )
    assert case["status"] == "detained" and case["fate"] == "outstanding" and case["nationality"] == "KP"
    assert case["url"] == f"/cases/{first.case_id}/versions/1/"
    events = [row for row in rows(release, "events.csv") if row["case_id"] == first.case_id]
    assert [(e["date"], e["date_precision"], e["date_approximate"]) for e in events] == [
        ("2010~", "year", "true"),
        ("2019-05-07", "day", "false"),
    ]
    assert (
        events[1]["facility_name_ko"] == "요덕 정치범수용소"
        and events[1]["authorities"] == "Ministry of State Security"
    )
    names = {(row["name"], row["kind"]) for row in rows(release, "names.csv") if row["case_id"] == first.case_id}
    assert {("Kim Chol-0", "primary"), ("김철", "native"), ("Gim Cheol-0", "other")} <= names
    relation = next(row for row in rows(release, "relations.csv") if row["case_id"] == second.case_id)
    assert relation["other_case_id"] == first.case_id and relation["kind"] == "sibling"
    assert {row["backs"] for row in rows(release, "citations.csv")} == {"person", "event", "relation"}
    appeal = rows(release, "appeals.csv")[0]
    assert appeal["addressee"] == "government" and appeal["country"] == "KP" and appeal["sent_on"] == "2020-03"


def test_checksums_and_sizes_match_the_files(tmp_path):
    published_cases()
    release = build_release()
    folder = unpacked(release, tmp_path)
    sums = dict(reversed(line.split("  ")) for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {entry["name"] for entry in release.files} - {
        "SHA256SUMS",
        f"whereabouts-data-{release.number}.zip",
    }
    for entry in release.files:
        content = read(release, entry["name"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] and len(content) == entry["bytes"]
        if entry["name"] in sums:
            assert (
                sums[entry["name"]]
                == entry["sha256"]
                == hashlib.sha256((folder / entry["name"]).read_bytes()).hexdigest()
            )
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["version"] == str(release.number) and package["licenses"][0]["name"] == "CC-BY-4.0"
    for resource in package["resources"]:
        assert resource["hash"] == f"sha256:{sums[resource['path']]}"


def test_the_data_dictionary_names_every_column_and_every_value_with_its_label():
    published_cases()
    release = build_release()
    dictionary = read(release, "data-dictionary.md").decode()
    for table in TABLES:
        assert f"### {table.filename}" in dictionary
        for column in table.columns:
            assert f"| `{column.name}` |" in dictionary
    assert "- `political_prison_camp`: Held in a political prison camp" in dictionary
    assert "- `kwanliso`: Political prison camp (kwanliso)" in dictionary
    assert "`2014~`" in dictionary and "pseudonym" in dictionary
    assert "Creative Commons Attribution 4.0 International" in read(release, "LICENSE.txt").decode()


def test_the_licence_comes_from_the_settings(settings):
    settings.DATA_RELEASE_LICENSE = "CC0-1.0"
    settings.DATA_RELEASE_SITE_URL = "https://whereabouts.example.org"
    published_cases()
    release = build_release()
    package = json.loads(read(release, "datapackage.json"))
    assert package["licenses"] == [
        {
            "name": "CC0-1.0",
            "title": "Creative Commons Zero v1.0 Universal",
            "path": "https://creativecommons.org/publicdomain/zero/1.0/",
        }
    ]
    assert package["homepage"] == "https://whereabouts.example.org/data/"
    assert rows(release, "cases.csv")[0]["url"].startswith("https://whereabouts.example.org/cases/")
    assert release.licence == "CC0-1.0"


def test_releases_are_numbered_kept_and_listed_newest_first(client):
    published_cases()
    first, second = build_release(), build_release()
    assert (first.number, second.number) == (1, 2)
    page = client.get("/data/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Release 2,") < html.index("Release 1,")
    for entry in second.files:
        assert f'href="/data/2/{entry["name"]}"' in html
        assert entry["sha256"] in html
    assert "Creative Commons Attribution 4.0 International" in html
    assert 'href="/data/2/data-dictionary.md"' in html
    assert "Whereabouts data release 2" in html  # how to cite it
    assert page["Cache-Control"] == "public, max-age=0, no-cache"


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"])
def test_the_listing_and_the_files_in_every_language(client, prefix):
    published_cases()
    release = build_release()
    page = client.get(f"{prefix}/data/")
    assert page.status_code == 200
    assert f'href="{prefix}/data/{release.number}/cases.csv"' in page.content.decode()
    assert fetch(client, f"{prefix}/data/{release.number}/cases.csv").status_code == 200


def test_a_file_is_streamed_with_its_type_name_and_checksum(client):
    published_cases()
    release = build_release()
    response = fetch(client, "/data/1/cases.csv")
    assert response.status_code == 200 and response.streaming
    assert response.body == read(release, "cases.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cases.csv"'
    assert response["ETag"] == f'"{release.file("cases.csv")["sha256"]}"'
    assert fetch(client, "/data/1/cases.csv", if_none_match=response["ETag"]).status_code == 304
    dictionary = fetch(client, "/data/1/data-dictionary.md")
    assert dictionary["Content-Type"] == "text/markdown; charset=utf-8"
    assert dictionary["Content-Disposition"].startswith("inline")
    assert fetch(client, "/data/1/whereabouts-data-1.zip")["Content-Type"] == "application/zip"
    latest = client.get("/data/latest/latest.zip")
    assert latest.status_code == 302 and latest["Location"] == "/data/1/whereabouts-data-1.zip"
    assert client.get("/data/latest/events.csv")["Location"] == "/data/1/events.csv"
    assert client.post("/data/1/cases.csv").status_code == 405


@pytest.mark.parametrize(
    "address",
    [
        "/data/999/cases.csv",
        "/data/1/nonsense.csv",
        "/data/1/../../etc/passwd",
        "/data/1/..%2F..%2Fetc%2Fpasswd",
        "/data/1/%2e%2e",
        "/data/0/cases.csv",
        "/data/-1/cases.csv",
        "/data/99999999999999999999999/cases.csv",
        "/data/latest/nonsense",
        "/data/1/",
        "/data/x/cases.csv",
    ],
)
def test_bad_addresses_give_404_never_500(client, address):
    published_cases()
    build_release()
    assert fetch(client, address).status_code == 404


def test_a_file_missing_from_the_storage_is_a_404_and_logged(client, caplog):
    published_cases()
    release = build_release()
    default_storage.delete(release.file("cases.csv")["path"])
    with caplog.at_level(logging.ERROR, logger="public.data"):
        assert client.get("/data/1/cases.csv").status_code == 404
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        "Data release 1: cases.csv cannot be read from the storage"
    ]


def test_a_storage_that_fails_otherwise_is_a_404_too(client, monkeypatch):
    published_cases()
    build_release()

    def unreachable(self, name, mode="rb"):
        raise RuntimeError("the object store did not answer")

    monkeypatch.setattr(FileSystemStorage, "open", unreachable)
    assert client.get("/data/1/cases.csv").status_code == 404


def test_withdrawing_a_case_withdraws_the_releases_that_contain_it_and_deletes_their_files(
    client, django_capture_on_commit_callbacks
):
    first, second = published_cases()
    release = build_release()
    paths = [entry["path"] for entry in release.files]
    assert all(default_storage.exists(path) for path in paths)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(first, by=None, reason="the family asked")
    release.refresh_from_db()
    assert release.withdrawn_at is not None and release.withdrawn_reason == "case_changed"
    assert not any(default_storage.exists(path) for path in paths)
    assert client.get("/data/1/cases.csv").status_code == 404
    assert client.get("/data/latest/cases.csv").status_code == 404
    html = client.get("/data/").content.decode()
    assert "Withdrawn on" in html and "a newer release replaces it" in html
    assert 'href="/data/1/' not in html
    # A new release holds what is public now.
    again = build_release()
    assert [row["case_id"] for row in rows(again, "cases.csv")] == [second.case_id]


def test_a_redaction_withdraws_the_release(client):
    first, _ = published_cases()
    release = build_release()
    event = first.status_events.get(date__startswith="2019")
    event.correct(by=None, reason="mistaken", is_public=False)
    release.refresh_from_db()
    assert release.withdrawn_at is not None
    assert client.get("/data/1/events.csv").status_code == 404


def test_a_release_built_before_a_case_was_published_stays(client):
    published_cases()
    release = build_release()
    later = make_publishable_case(name="Published later")
    publish_case(later)
    withdraw(later, by=None, reason="a mistake")
    release.refresh_from_db()
    assert release.withdrawn_at is None
    assert fetch(client, "/data/1/cases.csv").status_code == 200


def test_a_purge_withdraws_the_release(django_capture_on_commit_callbacks):
    from tests.factories import make_superuser

    first, _ = published_cases()
    release = build_release()
    make_superuser("admin")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_case", first.case_id, reason="family request", confirm=first.case_id, by="admin")
    release.refresh_from_db()
    assert release.withdrawn_at is not None
    assert not default_storage.exists(release.folder + "cases.csv")


def test_a_release_withdrawn_while_it_is_built_is_never_listed(monkeypatch, client):
    first, _ = published_cases()
    real = releases.write_tables

    def with_a_withdrawal_meanwhile(*args, **kwargs):
        written = real(*args, **kwargs)
        withdraw(first, by=None, reason="meanwhile")
        return written

    monkeypatch.setattr(releases, "write_tables", with_a_withdrawal_meanwhile)
    release = build_release()
    assert release.withdrawn_at is not None and release.built_at is None
    assert not DataRelease.objects.available().exists()
    assert default_storage.listdir(release.folder)[1] == []
    assert "Release 1" not in client.get("/data/").content.decode()


def test_the_command_builds_a_release_and_says_where(capsys):
    published_cases()
    call_command("build_data_release")
    out = capsys.readouterr().out
    assert "Data release 1: 2 cases (" in out and "4 events" in out and "1 relations" in out
    assert "releases/1/" in out and "/data/" in out
    call_command("build_data_release", "--quiet")
    assert capsys.readouterr().out == ""
    assert list(DataRelease.objects.available().values_list("number", flat=True)) == [2, 1]


def test_a_release_is_built_after_a_publication_when_the_setting_is_on(settings, django_capture_on_commit_callbacks):
    settings.DATA_RELEASE_AFTER_PUBLICATION = True
    person = make_publishable_case(name="Kim Young-sik")
    with django_capture_on_commit_callbacks(execute=True):
        publish_case(person)
    (release,) = DataRelease.objects.available()
    assert release.case_count == 1
    # Withdrawn with the case, and replaced by one without it.
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(person, by=None, reason="the family asked")
    release.refresh_from_db()
    assert release.withdrawn_at is not None
    (replacement,) = DataRelease.objects.available()
    assert replacement.case_count == 0


def test_a_release_is_built_once_after_a_bulk_publication(settings, django_capture_on_commit_callbacks):
    settings.DATA_RELEASE_AFTER_PUBLICATION = True
    persons = [make_publishable_case() for _ in range(3)]
    for person in persons:
        submit_for_review(person, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        publish_many(persons, by=None, reason="bulk")
    (release,) = DataRelease.objects.all()
    assert release.case_count == 3


def test_no_release_after_a_publication_when_the_setting_is_off(settings, django_capture_on_commit_callbacks):
    settings.DATA_RELEASE_AFTER_PUBLICATION = False
    with django_capture_on_commit_callbacks(execute=True):
        publish_case(make_publishable_case())
    assert not DataRelease.objects.exists()


def test_the_build_reads_the_records_in_chunks(monkeypatch, django_assert_max_num_queries):
    """Memory does not grow with the cases: the records are read through an iterator, a chunk at a time, with a
    number of queries that does not depend on how many there are."""
    published_cases(3)
    chunks = []
    real = PublishedVersion.objects.current().__class__.iterator

    def iterator(self, chunk_size=None):
        chunks.append(chunk_size)
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(type(PublishedVersion.objects.current()), "iterator", iterator)
    monkeypatch.setattr(releases, "CHUNK_SIZE", 2)
    with django_assert_max_num_queries(12) as few:
        build_release()
    queries = len(few.captured_queries)
    assert chunks == [2]
    for person in [make_publishable_case() for _ in range(4)]:
        publish_case(person)
    with django_assert_max_num_queries(queries + 2):  # SQLite reads each further chunk with one more query
        build_release()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATA_RELEASE_LICENSE": "MIT"}, "DATA_RELEASE_LICENSE='MIT' must be one of: CC-BY-4.0"),
        ({"DATA_RELEASE_AFTER_PUBLICATION": "nightly"}, "DATA_RELEASE_AFTER_PUBLICATION='nightly' is not a boolean"),
        ({"DATA_RELEASE_SITE_URL": "whereabouts.example.org"}, "DATA_RELEASE_SITE_URL='whereabouts.example.org'"),
    ],
)
def test_invalid_release_settings_stop_the_start(env, message):
    from .test_settings import start

    result = start(SECRET_KEY="x" * 50, **env)
    assert result.returncode != 0 and message in result.stderr

"""The staff import page documents its format, offers a template and the example, and says what a role may import."""

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cases.models import Person, StatusEvent
from exchange.csv_format import COLUMN_HELP, COLUMNS
from sources.models import Source
from tests.conftest import make_source, make_staff

pytestmark = pytest.mark.django_db

URL = "/staff/import/"
CONFIRM = "/staff/import/confirm/"
TEMPLATE = "/staff/import/template.csv"
EXAMPLE_URL = "/staff/import/example.csv"
EXAMPLE = Path(settings.BASE_DIR) / "fixtures" / "example-import.csv"


def signed_in(client, role: str):
    client.force_login(make_staff(role, role.lower()))
    return client


def check(client, data: bytes, name: str = "cases.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


# The columns table --------------------------------------------------------------------------------


def test_every_column_of_the_format_has_its_description():
    assert set(COLUMN_HELP) == set(COLUMNS)
    assert all(str(text).strip() for text in COLUMN_HELP.values())


def test_the_page_documents_every_column_in_the_formats_order(client):
    response = signed_in(client, "Caseworker").get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'<th scope="row"><code>{name}</code></th>') for name in COLUMNS]
    assert positions == sorted(positions)
    assert str(COLUMN_HELP["status_confidence"]) in html
    assert "see the README" not in html


def test_the_columns_table_is_translatable(client):
    signed_in(client, "Caseworker")
    with translation.override("ko"):
        response = client.get(URL, headers={"accept-language": "ko"})

    assert response.status_code == 200
    assert "<code>birth_date</code>" in response.content.decode()


# The downloads ------------------------------------------------------------------------------------


def test_the_template_is_the_header_row_only(client):
    response = signed_in(client, "Caseworker").get(TEMPLATE)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="whereabouts-import-template.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [list(COLUMNS)]


def test_the_example_download_is_the_bundled_example(client):
    response = signed_in(client, "Editor").get(EXAMPLE_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="example-import.csv"'
    assert response.content == EXAMPLE.read_bytes()


def test_the_page_links_to_both_downloads(client):
    html = signed_in(client, "Caseworker").get(URL).content.decode()

    assert f'href="{TEMPLATE}"' in html and f'href="{EXAMPLE_URL}"' in html


@pytest.mark.parametrize("url", [TEMPLATE, EXAMPLE_URL])
def test_the_downloads_are_for_staff_who_may_import(client, url):
    assert client.get(url).status_code == 302  # to the sign-in page
    assert signed_in(client, "Researcher").get(url).status_code == 403
    assert signed_in(client, "Administrator").get(url).status_code == 403
    assert signed_in(client, "Caseworker").post(url).status_code == 405


def test_the_empty_template_checks_cleanly_and_would_import_nothing(client):
    signed_in(client, "Caseworker")
    template = client.get(TEMPLATE).content

    response = check(client, template)

    assert response.status_code == 200
    assert response.context["result"].counts.created == 0
    assert not Person.objects.exists()


# What the role may import -------------------------------------------------------------------------


def test_a_caseworker_is_told_that_new_sources_need_a_researcher_or_an_editor(client):
    html = signed_in(client, "Caseworker").get(URL).content.decode()

    assert "What you may import" in html
    assert "Your role: Caseworker." in html
    assert "A row that names a new source is refused" in html
    assert "Researcher" in html and "Editor" in html
    assert "an Editor returns it to draft first" in html


def test_an_editor_is_told_that_rows_may_add_sources(client):
    html = signed_in(client, "Editor").get(URL).content.decode()

    assert "Your role: Editor." in html
    assert "or add a new one" in html
    assert "A row that names a new source is refused" not in html
    assert "returns it to draft first" not in html


def test_a_caseworker_whose_file_adds_a_source_is_told_which_row(client):
    signed_in(client, "Caseworker")
    header = ",".join(COLUMNS)
    row = ",EX-9,Kim Example,,,,,,,,,,,arrested,2019,,,A new report,https://example.org/new,,,p. 1"

    response = check(client, f"{header}\n{row}\n".encode())

    assert response.status_code == 400
    html = response.content.decode()
    assert "<td>2</td><td>source_title</td>" in html
    assert "needs that source added first, by a Researcher or an Editor" in html
    assert not Source.objects.exists() and not Person.objects.exists()


def test_a_caseworker_may_cite_a_source_that_already_exists(client):
    source = make_source(title="An existing report", url="https://example.org/existing")
    signed_in(client, "Caseworker")
    header = ",".join(COLUMNS)
    row = ",EX-9,Kim Example,,,,,,,,,,,arrested,2019,,,,https://example.org/existing,,,p. 4"
    token = check(client, f"{header}\n{row}\n".encode()).context["token"]

    response = client.post(CONFIRM, {"token": token})

    assert response.status_code == 200
    event = StatusEvent.objects.get(person__external_ref="EX-9")
    assert list(event.citations.values_list("source", "locator")) == [(source.pk, "p. 4")]
    assert Source.objects.count() == 1


# The example imports for the roles the README names --------------------------------------------------


@pytest.mark.parametrize("role", ["Caseworker", "Editor"])
def test_the_example_imports_for_each_role_that_may_import(client, role):
    signed_in(client, role)
    example = client.get(EXAMPLE_URL).content

    preview = check(client, example, "example-import.csv")

    assert preview.status_code == 200, preview.context["result"].problems
    assert preview.context["result"].counts.created == 3
    response = client.post(CONFIRM, {"token": preview.context["token"]})
    assert response.status_code == 200
    assert set(Person.objects.values_list("external_ref", flat=True)) == {"EXAMPLE-001", "EXAMPLE-002", "EXAMPLE-003"}
    assert StatusEvent.objects.count() == 3


@pytest.mark.parametrize("role", ["Researcher", "Administrator"])
def test_roles_that_may_not_import_get_no_page(client, role):
    assert signed_in(client, role).get(URL).status_code == 403


def test_the_readme_names_the_roles_the_example_imports_for():
    readme = " ".join((Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8").split())

    assert "The example imports for a Caseworker and for an Editor" in readme

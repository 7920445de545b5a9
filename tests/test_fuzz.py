"""Arbitrary input never gives a server error and never changes the database through a read."""

import datetime
import io
import re
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cases.models import NameVariant, Person, StatusEvent
from cases.partial_dates import PartialDate
from sources.models import Citation, Source
from workflow.models import PublishedName, PublishedSource, PublishedVersion

from .factories import admin_form_data

pytestmark = pytest.mark.django_db

FUZZ = hsettings(
    max_examples=40,
    deadline=None,
    database=None,  # no example database written into the project
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PARAMETERS = ["q", "status", "fate", "category", "nationality", "year_from", "year_to", "sort", "page", "format"]
MEANINGFUL = [
    "kim",
    "김",
    "detained",
    "released",
    "outstanding",
    "clarified",
    "KP",
    "KR",
    "2019",
    "1800",
    "9999",
    "-1",
    "1e9",
    "NaN",
    "name",
    "relevance",
    "updated",
    "date",
    "1",
    "2",
    "0",
    "",
]
keys = st.sampled_from(PARAMETERS) | st.text(max_size=12)
values = st.text(max_size=80) | st.sampled_from(MEANINGFUL)
query_strings = st.lists(st.tuples(keys, values), max_size=6).map(urlencode)
# What no posted text may hold: the C0 control characters but tab and line breaks.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def row_counts() -> dict[str, int]:
    models = [Person, NameVariant, StatusEvent, Source, Citation, PublishedVersion]
    counts = {model.__name__: model.objects.count() for model in models}
    counts.update({f"{model.__name__} history": model.history.count() for model in models})
    counts["PublishedName"] = PublishedName.objects.count()
    counts["PublishedSource"] = PublishedSource.objects.count()
    return counts


def others_than_persons(counts: dict[str, int]) -> dict[str, int]:
    return {name: count for name, count in counts.items() if not name.startswith("Person ") and name != "Person"}


@pytest.fixture
def seeded(db):
    call_command("load_seed", stdout=io.StringIO())
    return row_counts()


def fetch(client, url: str):
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)  # a streamed body fails only as it is read
    return response


# --- Query strings on the public pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/cases/", "/api/cases/", "/export/cases.csv", "/sources/", "/feed/", "/cases/KP-0003/"]
)
def test_any_query_string_gives_no_server_error_and_changes_nothing(client, seeded, path):
    @FUZZ
    @given(query=query_strings)
    def check(query):
        response = fetch(client, f"{path}?{query}")
        assert response.status_code < 500, (path, query)
        assert response.status_code in (200, 400, 404), (path, query, response.status_code)
        assert row_counts() == seeded

    check()


def test_a_nul_character_in_each_parameter_is_a_clean_refusal(client, seeded):
    for name in PARAMETERS:
        for path in ("/cases/", "/api/cases/", "/export/cases.csv"):
            query = urlencode({name: "a\x00b"})
            response = fetch(client, f"{path}?{query}")
            assert response.status_code == 400, (path, name, response.status_code)
    assert row_counts() == seeded


def test_a_10000_character_search_is_refused_cleanly(client, seeded):
    q = "김" * 5000 + "k" * 5000
    for path in ("/cases/", "/api/cases/", "/export/cases.csv"):
        query = urlencode({"q": q})
        response = fetch(client, f"{path}?{query}")
        assert response.status_code == 400, path
    assert row_counts() == seeded


def test_a_very_long_query_string_is_refused_cleanly(client, seeded):
    many = urlencode([(f"p{i}", "x") for i in range(2000)])  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = fetch(client, f"/cases/?{many}")
    assert 400 <= response.status_code < 500
    assert row_counts() == seeded


# --- Partial dates ---------------------------------------------------------------------------------------


@hsettings(max_examples=300, deadline=None, database=None)
@given(text=st.text(max_size=30))
def test_partial_date_parse_raises_only_value_error(text):
    try:
        value = PartialDate.parse(text)
    except ValueError:
        return
    assert value is None or isinstance(value, PartialDate)
    if value is not None:
        assert PartialDate.parse(str(value)) == value


@hsettings(max_examples=300, deadline=None, database=None)
@given(
    text=st.from_regex(r"\A\s*\d{4}(-\d{1,2}(-\d{1,2})?)?~?\s*\Z", fullmatch=True),
    allow_future=st.booleans(),
)
def test_partial_date_parse_of_date_shaped_text_raises_only_value_error(text, allow_future):
    try:
        value = PartialDate.parse(text, allow_future=allow_future)
    except ValueError:
        return
    assert isinstance(value, PartialDate)
    assert PartialDate.parse(str(value), allow_future=allow_future) == value


@st.composite
def partial_dates(draw):
    day = draw(st.dates(min_value=datetime.date(1800, 1, 1), max_value=timezone.localdate()))
    precision = draw(st.sampled_from(["y", "m", "d"]))
    return PartialDate(
        day.year,
        day.month if precision in "md" else None,
        day.day if precision == "d" else None,
        approximate=draw(st.booleans()),
    )


@hsettings(max_examples=300, deadline=None, database=None)
@given(value=partial_dates())
def test_partial_date_round_trips_through_its_text_and_its_storage(value):
    assert PartialDate.parse(str(value)) == value
    assert PartialDate.from_storage(value.to_storage()) == value
    assert PartialDate.parse(f"  {value}  ") == value


# --- The admin's person form -------------------------------------------------------------------------------


ADD_URL = "/admin/cases/person/add/"


def test_the_admin_person_form_takes_any_text_without_a_server_error(admin_client):
    page = admin_client.get(ADD_URL)
    assert page.status_code == 200
    text = st.text(max_size=300)

    @hsettings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        name=text,
        birth_date=text | st.sampled_from(["2014", "2014-13", "2014-02-30", "1799", "3000", "2014-10-07~"]),
        nationality=text | st.sampled_from(["KP", "KR", "kp", "XX", ""]),
        summary=text,
        not_a_duplicate=st.booleans(),
    )
    def check(name, birth_date, nationality, summary, not_a_duplicate):
        changes = {"name": name, "birth_date": birth_date, "nationality": nationality, "summary": summary}
        data = admin_form_data(page, **changes)
        if not_a_duplicate:
            data["not_a_duplicate"] = "on"
        before = row_counts()
        persons = Person.objects.count()
        response = admin_client.post(ADD_URL, data)
        if any(CONTROL_IN_TEXT.search(value) for value in changes.values()):
            # Refused before any form sees it (security/input.py).
            assert response.status_code == 400
            assert Person.objects.count() == persons
            assert row_counts() == before  # no row and no history row written
            return
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 200:  # the form again, with its errors
            assert response.context["adminform"].form.errors or response.context["errors"]
            assert Person.objects.count() == persons
            assert row_counts() == before
        else:
            assert Person.objects.count() == persons + 1
            after = row_counts()
            assert after["Person history"] > before["Person history"]
            assert others_than_persons(after) == others_than_persons(before)

    check()


def test_a_1_mb_name_is_refused_with_a_form_error(admin_client):
    page = admin_client.get(ADD_URL)
    before = row_counts()
    response = admin_client.post(ADD_URL, admin_form_data(page, name="N" * 1_000_000, not_a_duplicate="on"))
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert not Person.objects.exists()
    assert row_counts() == before


def test_a_1_mb_summary_gives_no_server_error(admin_client):
    page = admin_client.get(ADD_URL)
    response = admin_client.post(
        ADD_URL, admin_form_data(page, name="Kim Long-summary", summary="s" * 1_000_000, not_a_duplicate="on")
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:  # saved whole, with its history row
        person = Person.objects.get()
        assert person.summary == "s" * 1_000_000
        assert person.history.count() >= 1
    else:
        assert not Person.objects.exists()


def test_a_body_over_the_upload_limit_is_refused_with_400(admin_client):
    page = admin_client.get(ADD_URL)
    before = row_counts()
    response = admin_client.post(ADD_URL, admin_form_data(page, name="Kim Huge", summary="s" * 3_000_000))
    assert response.status_code == 400
    assert not Person.objects.exists()
    assert row_counts() == before


def test_a_nul_character_in_the_form_is_a_bad_request(admin_client):
    page = admin_client.get(ADD_URL)
    for field in ("name", "birth_date", "nationality", "summary"):
        data = admin_form_data(page, name="Kim Nul", not_a_duplicate="on")
        data[field] = "a\x00b"
        response = admin_client.post(ADD_URL, data)
        assert response.status_code == 400, field
        assert "This request could not be understood" in response.content.decode(), field
    assert not Person.objects.exists()
    assert not Person.history.exists()

"""The public exports honour the filters of the page they are linked from: the cases' CSV, their events' CSV
(dates at their own precision, where and by whom), the API and the statistics; and ``updated_since`` for mirrors."""

import csv
import datetime
import io
import json

import pytest
from django.utils import timezone

from cases.history import save_with_history
from cases.models import Category, Responsibility, Status
from workflow.models import PublishedVersion

from .factories import make_authority, make_citation, make_event, make_facility, make_person, make_source, publish_case

pytestmark = pytest.mark.django_db

EVENT_COLUMNS = [
    "case_id",
    "version",
    "url",
    "event_id",
    "status",
    "date",
    "place",
    "place_ko",
    "place_ja",
    "description",
    "description_ko",
    "description_ja",
    "facility_id",
    "facility",
    "facility_kind",
    "authority_ids",
    "authorities",
    "confidence",
    "source_ids",
]


def rows_of(response) -> tuple[list[str], list[dict]]:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    return reader.fieldnames, list(reader)


@pytest.fixture
def held():
    source = make_source(title="Testimony collection")
    other_source = make_source(title="Second testimony")
    camp = make_facility("Camp 15", name_ko="15호 관리소")
    mss = make_authority("Ministry of State Security")
    one = make_person(name="Kim One", nationality="KP")
    one.categories.set([Category.objects.get(slug="missionary")])
    arrest = make_event(one, Status.ARRESTED, "2014~", is_public=True, place="Hyesan", place_ko="혜산")
    make_citation(source, status_event=arrest)
    make_citation(other_source, status_event=arrest)
    held = make_event(
        one, Status.PRISON_CAMP, "2016-03", is_public=True, facility=camp, description="Taken to Camp 15."
    )
    make_citation(source, status_event=held)
    Responsibility.objects.create(status_event=held, authority=mss, confidence="likely")
    hidden = make_event(one, Status.DETAINED, "2015", is_public=False, place="Secret place")
    make_citation(source, status_event=hidden)
    two = make_person(name="Lee Two", nationality="CN")
    make_citation(source, status_event=make_event(two, Status.DISAPPEARED, None, is_public=True))
    return {
        "one": publish_case(one),
        "two": publish_case(two),
        "camp": camp,
        "mss": mss,
        "arrest": arrest,
        "held": held,
        "sources": (source, other_source),
    }


def test_the_events_csv_has_each_public_event_with_its_date_place_facility_and_authorities(client, held):
    header, rows = rows_of(client.get("/export/events.csv"))
    assert header == EVENT_COLUMNS
    assert [(row["case_id"], row["status"], row["date"]) for row in rows] == [
        (held["one"].case_id, "arrested", "2014~"),
        (held["one"].case_id, "political_prison_camp", "2016-03"),
        (held["two"].case_id, "disappeared", ""),
    ]
    arrest, camp = rows[0], rows[1]
    assert arrest["place"] == "Hyesan" and arrest["place_ko"] == "혜산" and arrest["facility"] == ""
    source, other = held["sources"]
    assert arrest["source_ids"] == f"{source.pk}; {other.pk}"
    assert camp["facility_id"] == str(held["camp"].pk) and camp["facility"] == "Camp 15"
    assert camp["facility_kind"] == "kwanliso"
    assert camp["authority_ids"] == str(held["mss"].pk) and camp["authorities"] == "Ministry of State Security"
    assert camp["confidence"] == held["held"].confidence
    assert camp["url"] == f"http://testserver/cases/{held['one'].case_id}/versions/1/"
    assert "Secret place" not in str(rows)


def test_every_export_honours_the_filters_of_the_list(client, held):
    one = held["one"].case_id
    for query in ("nationality=KP", f"facility={held['camp'].pk}", "q=kim", "category=missionary", "year_to=2014"):
        _, events = rows_of(client.get(f"/export/events.csv?{query}"))
        assert {row["case_id"] for row in events} == {one}, query
        _, cases = rows_of(client.get(f"/export/cases.csv?{query}"))
        assert [row["case_id"] for row in cases] == [one], query
        api = json.loads(client.get(f"/api/cases/?{query}").content)
        assert [case["case_id"] for case in api["results"]] == [one], query
        statistics = json.loads(client.get(f"/api/statistics/?{query}").content)
        assert statistics["total"] == 1, query
    assert client.get("/export/events.csv?status=nonsense").status_code == 400


def test_the_list_links_its_data_with_its_filters(client, held):
    html = client.get("/cases/?nationality=KP&sort=name").content.decode()
    for address in ("/export/cases.csv", "/api/cases/", "/export/events.csv"):
        assert f'href="{address}?nationality=KP&amp;sort=name"' in html, address
    assert 'href="/statistics/?nationality=KP"' in html


def test_vocabularies_are_written_the_same_way_in_every_column(client, held):
    _, cases = rows_of(client.get("/export/cases.csv"))
    one = next(row for row in cases if row["case_id"] == held["one"].case_id)
    assert one["categories"] == "missionary"  # the slug, as the filter and the API write it
    assert one["status"] == "political_prison_camp" and one["fate"] == "outstanding" and one["nationality"] == "KP"
    api = json.loads(client.get(f"/api/cases/{held['one'].case_id}/").content)
    assert [category["slug"] for category in api["categories"]] == one["categories"].split("; ")


def test_updated_since_gives_what_was_published_or_updated_since_a_day_or_a_moment(client, held):
    ten_days_ago = timezone.now() - datetime.timedelta(days=10)
    PublishedVersion.objects.filter(person=held["two"]).update(published_at=ten_days_ago, changed_at=ten_days_ago)
    week_ago = (timezone.now() - datetime.timedelta(days=7)).date().isoformat()
    for address in ("/api/cases/", "/export/cases.csv", "/export/events.csv"):
        response = client.get(address, {"updated_since": week_ago})
        if address.endswith(".csv"):
            found = {row["case_id"] for row in rows_of(response)[1]}
        else:
            found = {case["case_id"] for case in json.loads(response.content)["results"]}
        assert found == {held["one"].case_id}, address
    moment = (timezone.now() - datetime.timedelta(days=11)).strftime("%Y-%m-%dT%H:%M:%S+09:00")
    assert json.loads(client.get("/api/cases/", {"updated_since": moment}).content)["count"] == 2
    # The list shows the filter as a chip that takes it away.
    html = client.get("/cases/", {"updated_since": week_ago}).content.decode()
    assert "Published or updated since:" in html and "1 case" in html


@pytest.mark.parametrize(
    "value, message",
    [
        ("yesterday", "Write a day (2026-12-01) or a moment with its time zone"),
        ("2026-12-01T09:30:00", "Write a day (2026-12-01) or a moment with its time zone"),
        ("2026-02-30", "Write a day"),
        ("2999-01-01", "This moment is in the future."),
    ],
)
def test_a_bad_updated_since_gets_a_clear_message(client, held, value, message):
    response = client.get("/api/cases/", {"updated_since": value})
    assert response.status_code == 400
    assert message in json.loads(response.content)["errors"][0]
    assert client.get("/export/events.csv", {"updated_since": value}).status_code == 400
    assert message in client.get("/cases/", {"updated_since": value}).content.decode()


def test_a_facility_page_links_the_data_and_statistics_of_the_cases_held_there(client, held):
    camp = held["camp"].pk
    html = client.get(f"/facilities/{camp}/").content.decode()
    for address in ("/export/cases.csv", "/api/cases/"):
        assert f'href="{address}?facility={camp}"' in html, address
    assert f'href="/statistics/?facility={camp}"' in html
    _, rows = rows_of(client.get(f"/export/cases.csv?facility={camp}"))
    assert [row["case_id"] for row in rows] == [held["one"].case_id]


def test_a_redaction_counts_as_an_update_for_those_who_mirror_the_data(client, held):
    """A mirror asking what changed since its last visit learns of a record redacted since (an event made
    non-public here), though no one published it again."""
    PublishedVersion.objects.update(
        published_at=timezone.now() - datetime.timedelta(days=10),
        changed_at=timezone.now() - datetime.timedelta(days=10),
    )
    since = (timezone.now() - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert json.loads(client.get("/api/cases/", {"updated_since": since}).content)["count"] == 0
    arrest = held["arrest"]
    arrest.is_public = False
    save_with_history(arrest, by=None, reason="the family asked")
    found = json.loads(client.get("/api/cases/", {"updated_since": since}).content)["results"]
    assert [case["case_id"] for case in found] == [held["one"].case_id]
    assert "Hyesan" not in json.dumps(found)
    assert datetime.datetime.fromisoformat(found[0]["changed_at"]) > timezone.now() - datetime.timedelta(minutes=1)

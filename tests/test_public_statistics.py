"""The public statistics (/statistics/): counts equal to the list's, each chart with its table, its data as CSV and
JSON, the list's filters, a fixed number of queries, and the page in Korean."""

import csv
import io
import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from cases.models import Category, Responsibility, Status
from workflow.models import PublishedVersion

from .factories import make_authority, make_citation, make_event, make_facility, make_person, make_source, publish_case

pytestmark = pytest.mark.django_db

CHARTS = [
    "fate",
    "status",
    "category",
    "nationality",
    "arrest-year",
    "latest-year",
    "facility-kind",
    "facility",
    "authority",
]


@pytest.fixture
def cases():
    """Seven published cases: held at two facilities of two kinds, under two authorities, taken in different years
    at different precisions, one never dated, one released, of two nationalities and categories."""
    source = make_source(title="Testimony collection")
    camp = make_facility("Camp 15")
    prison = make_facility("Chongori prison", kind="kyohwaso", latitude="41.0", longitude="129.5", precision="region")
    mss = make_authority("Ministry of State Security")
    police = make_authority("Ministry of Social Security")
    missionary, abductee = Category.objects.get(slug="missionary"), Category.objects.get(slug="abductee")

    def case(name, events, *, nationality="KP", category=missionary):
        person = make_person(name=name, nationality=nationality)
        person.categories.set([category])
        for status, date, facility, authority in events:
            event = make_event(person, status, date, is_public=True, facility=facility)
            make_citation(source, status_event=event)
            if authority:
                Responsibility.objects.create(status_event=event, authority=authority, confidence="likely")
        return publish_case(person)

    return {
        "a": case("Kim One", [(Status.ARRESTED, "2014~", None, mss), (Status.PRISON_CAMP, "2016-03", camp, mss)]),
        "b": case(
            "Kim Two", [(Status.DISAPPEARED, "2016", None, None), (Status.DETAINED, "2019-05-02", prison, police)]
        ),
        "c": case("Lee Three", [(Status.DETAINED, "2016-07", prison, police), (Status.RELEASED, "2021", None, None)]),
        "d": case("Park Four", [(Status.SENTENCED, "2020", prison, None)], category=abductee),
        "e": case("Choi Five", [(Status.DISAPPEARED, None, None, None)], nationality="CN"),
        "f": case("Jang Six", [(Status.FORCIBLY_REPATRIATED, "2012-01", camp, mss)], category=abductee),
        "g": case("Han Seven", [(Status.ABDUCTED, "1978", None, None)], nationality="JP", category=abductee),
        "camp": camp,
        "prison": prison,
        "mss": mss,
    }


def chart(client, name: str, query: str = "") -> dict:
    response = client.get(f"/statistics/{name}.json{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def counts(data: dict) -> dict:
    return {row["value"]: row["count"] for row in data["rows"]}


def listed(client, query: dict) -> int:
    response = client.get("/api/cases/", query)
    assert response.status_code == 200, response.content
    return json.loads(response.content)["count"]


@pytest.mark.parametrize(
    "filters",
    [
        "",
        "?nationality=KP",
        "?status=detained",
        "?facility_kind=kyohwaso",
        "?q=kim",
        "?category=abductee&fate=outstanding",
    ],
)
def test_each_bar_counts_the_cases_the_list_shows_for_its_value_with_the_same_filters(client, cases, filters):
    """The list's facets are the same numbers (a bar's value replaces its own filter; the others stay)."""
    list_html = unescape(client.get(f"/cases/{filters}").content.decode())
    for name in ("fate", "status", "category", "nationality", "facility-kind", "facility", "authority"):
        data = chart(client, name, filters)
        for row in data["rows"]:
            facet = {"facility-kind": "facility_kind"}.get(name, name)
            query = {**dict(parse_qsl(urlsplit(filters).query)), facet: row["value"]}
            assert row["count"] == listed(client, query), (name, row)
            if row["count"] and name in ("status", "nationality", "facility"):
                # The list's own facet shows the same number beside the same link.
                params = QueryDict(urlsplit(filters).query, mutable=True)
                params[facet] = row["value"]
                assert (
                    f'<a href="?{params.urlencode()}">{row["label"]}</a> <span class="count">{row["count"]}<'
                    in list_html
                )


def test_the_years_are_those_of_the_first_arrest_or_disappearance_at_their_precision_with_unknown_apart(client, cases):
    years = chart(client, "arrest-year")
    by_year = counts(years)
    # "2014~" counts in 2014; Kim Two disappeared in 2016; Lee Three was detained in 2016-07; Park Four's record
    # dates no arrest (a sentence only) and Choi Five's is undated: both "year unknown".
    assert by_year == {
        **{str(year): 0 for year in range(1978, 2017)},
        "1978": 1,
        "2012": 1,
        "2014": 1,
        "2016": 2,
        None: 2,
    }
    assert [row["value"] for row in years["rows"]][-1] is None
    assert years["rows"][-1]["label"] == "Year unknown"
    latest = counts(chart(client, "latest-year"))
    assert {year: n for year, n in latest.items() if n} == {
        "1978": 1,
        "2012": 1,
        "2016": 1,
        "2019": 1,
        "2020": 1,
        "2021": 1,
        None: 1,
    }
    assert sum(latest.values()) == sum(by_year.values()) == 7


def test_every_chart_is_drawn_with_a_table_of_the_same_numbers_how_it_is_counted_and_its_data(client, cases):
    html = client.get("/statistics/").content.decode()
    for name in CHARTS:
        section = re.search(rf'<section class="chart-section" id="chart-{name}".*?</section>', html, re.S)
        assert section, name
        section = section.group(0)
        assert "<svg" in section and 'aria-hidden="true"' in section
        assert "How counted:" in section
        table = TableReader()
        table.feed(section)
        data = chart(client, name)
        assert table.rows == [[row["label"], str(row["count"])] for row in data["rows"]], name
        assert f'href="/statistics/{name}.csv"' in section and f'href="/statistics/{name}.json"' in section
        bars = re.findall(r'<rect class="chart-bar[^"]*"', section)
        assert len(bars) == len(data["rows"]), name
    assert "<script" not in html


class TableReader(HTMLParser):
    """The text of each body row's cells (header cell first), without the "(chosen)" mark."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell, self.in_body, self.chosen = [], None, False, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag in ("th", "td") and self.in_body:
            self.cell = ""
        elif tag == "span" and ("class", "chosen") in attrs:
            self.chosen = True

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None
        elif tag == "span":
            self.chosen = False

    def handle_data(self, data):
        if self.cell is not None and not self.chosen:
            self.cell += data


def test_the_charts_follow_the_lists_filters_and_mark_the_value_chosen(client, cases):
    html = client.get("/statistics/?nationality=KP&status=detained").content.decode()
    assert "1 published case counted" in html
    assert '<a class="chip"' in html and "/statistics/?status=detained" in html  # a chip removes its filter here
    status = re.search(r'id="chart-status".*?</section>', html, re.S).group(0)
    assert (
        '<tr class="chart-selected"><th scope="row"><a href="/cases/?nationality=KP&amp;status=detained">Detained</a>'
        ' <span class="chosen">(chosen)</span>'
    ) in status
    assert 'href="/statistics/status.csv?nationality=KP&amp;status=detained"' in status
    # The list of these cases, and the footer's data, for the same filters.
    assert 'href="/cases/?nationality=KP&amp;status=detained">List these cases' in html
    assert 'href="/export/cases.csv?nationality=KP&amp;status=detained"' in html
    assert 'href="/api/statistics/?nationality=KP&amp;status=detained"' in html
    # The list links back to the statistics of its cases (not of its order).
    listing = client.get("/cases/?nationality=KP&status=detained&sort=updated").content.decode()
    assert 'href="/statistics/?nationality=KP&amp;status=detained">Statistics of these cases' in listing
    # The filter form sends its search here.
    assert '<form class="filters" method="get" action="/statistics/"' in html


def test_chart_data_as_csv_and_all_charts_as_json(client, cases):
    response = client.get("/statistics/nationality.csv?status=detained")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="whereabouts-statistics-nationality.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [{"value": "KP", "label": "North Korea", "count": "1"}]
    # A second request (from the cache) keeps the file's name.
    assert (
        'filename="whereabouts-statistics-nationality.csv"'
        in client.get("/statistics/nationality.csv?status=detained")["Content-Disposition"]
    )
    years = list(csv.DictReader(io.StringIO(client.get("/statistics/arrest-year.csv").content.decode("utf-8-sig"))))
    assert years[-1] == {"value": "", "label": "Year unknown", "count": "2"}
    everything = json.loads(client.get("/api/statistics/?fate=outstanding").content)
    assert everything["total"] == 6
    assert [data["chart"] for data in everything["charts"]] == CHARTS
    for data in everything["charts"]:
        single = chart(client, data["chart"], "?fate=outstanding")
        assert single["rows"] == data["rows"] and single["how_counted"] == data["how_counted"]
        assert data["csv"].endswith(f"/statistics/{data['chart']}.csv?fate=outstanding")


def test_a_site_without_facilities_draws_no_facility_charts(client):
    person = make_person(name="Kim One")
    make_citation(make_source(), status_event=make_event(person, Status.DETAINED, "2015", is_public=True))
    publish_case(person)
    html = client.get("/statistics/").content.decode()
    assert 'id="chart-status"' in html and 'id="chart-facility"' not in html and 'id="chart-authority"' not in html
    assert counts(chart(client, "facility")) == {}


def test_bad_filters_and_unknown_charts_get_a_clear_answer_never_a_server_error(client, cases):
    response = client.get("/statistics/?status=nonsense&year_from=abc")
    assert response.status_code == 400
    assert "These filters could not be used" in response.content.decode()
    assert client.get("/statistics/status.json?status=nonsense").status_code == 400
    assert "errors" in json.loads(client.get("/api/statistics/?updated_since=tomorrow").content)
    assert client.get("/statistics/status.csv?year_to=99999").status_code == 400
    assert client.get("/statistics/nonsense.json").status_code == 404
    assert client.get("/statistics/nonsense.csv?status=nonsense").status_code == 404
    response = client.get("/api/statistics/?colour=red")
    assert response.status_code == 200 and json.loads(response.content)["ignored_parameters"] == ["colour"]


def test_the_statistics_page_in_korean(client, cases):
    html = client.get("/ko/statistics/").content.decode()
    assert '<html lang="ko"' in html
    assert "<h1>통계</h1>" in html
    assert "현재 상태" in html and "체포 또는 실종 연도" in html and "연도 미상" in html
    assert "How counted" not in html and "Year unknown" not in html
    data = json.loads(client.get("/ko/statistics/arrest-year.json").content)
    assert data["rows"][-1]["label"] == "연도 미상"


def test_statistics_pages_run_a_fixed_number_of_queries_cold_and_only_the_generation_warm(client, cases):
    budgets = {
        "/statistics/": 18,
        "/statistics/?q=kim&status=detained": 23,
        "/api/statistics/": 16,
        "/statistics/status.csv": 16,
    }
    for url, budget in budgets.items():
        with CaptureQueriesContext(connection) as cold:
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as warm:
            assert client.get(url).status_code == 200
        assert len(cold) <= budget, (url, len(cold))
        # The generation, and nothing else: the page is kept (a public page opens no transaction).
        assert len(warm) == 1, (url, [query["sql"] for query in warm.captured_queries])
    person = make_person(name="Kim Eight")
    make_citation(make_source(), status_event=make_event(person, Status.DETAINED, "2015", is_public=True))
    publish_case(person)
    with CaptureQueriesContext(connection) as after:
        assert "8 published cases counted" in client.get("/statistics/").content.decode()
    assert len(after) <= budgets["/statistics/"]


def test_the_statistics_count_the_same_with_many_more_cases(client, cases):
    with CaptureQueriesContext(connection) as few:
        client.get("/statistics/?facility_kind=kwanliso")
    source = make_source()
    for n in range(20):
        person = make_person(name=f"Kim Many {n}")
        make_citation(
            source,
            status_event=make_event(person, Status.DETAINED, str(1990 + n), is_public=True, facility=cases["camp"]),
        )
        publish_case(person)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/statistics/?facility_kind=kwanliso").content.decode()
    assert len(many) == len(few)
    assert "22 published cases counted" in html


def test_a_case_with_no_public_event_is_counted_as_having_no_status(client, cases):
    """The status chart adds up to the cases counted, as the fate chart does (such a case is outstanding)."""
    PublishedVersion.objects.filter(person=cases["g"]).update(status="")
    status = chart(client, "status")
    assert status["rows"][-1] == {"value": None, "label": "No status: no public event", "count": 1}
    assert sum(row["count"] for row in status["rows"]) == sum(row["count"] for row in chart(client, "fate")["rows"])
    html = client.get("/statistics/").content.decode()
    assert '<th scope="row">No status: no public event</th>' in html  # no link: the list cannot filter by it
    assert "No status" not in client.get("/cases/").content.decode()

"""The case list on a phone and on a wide screen: filters behind a disclosure, the filters in use as chips above the
results (each removing one), selects that say what their empty choice gives, rows that keep their columns."""

import html
import re
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django import forms
from django.http import QueryDict
from django.template import Context, Template

from cases.models import Category, Status
from public.filters import CaseFilter
from public.queries import CaseQuery
from workflow.models import PublishedVersion

from .factories import make_citation, make_event, make_person, make_source, publish_case
from .public_data import seed_for_this_module  # noqa: F401 (a fixture, for every test of the module)

pytestmark = pytest.mark.django_db


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def chips(page_text: str) -> list[tuple[str, str]]:
    """(shown text, address) of each filter chip, in order."""
    found = re.findall(r'<a class="chip" href="([^"]*)">(.*?)</a>', page_text, re.S)
    return [(_words(shown), html.unescape(href)) for href, shown in found]


def _words(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(fragment)).split())


def query(address: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(address).query)


# --- Chips -------------------------------------------------------------------------------------------


def test_the_filters_in_use_are_chips_above_the_results_each_removing_that_one(client):
    text = page(client, "/cases/?status=sentenced&category=foreign-media&year_from=2020&sort=name&page=1&colour=blue")
    shown = chips(text)
    assert [label for label, _ in shown] == [
        "Status: Sentenced × (remove this filter)",
        "Category: Punished for foreign media × (remove this filter)",
        "Year of the first event: from 2020 × (remove this filter)",
    ]
    every = {"status": ["sentenced"], "category": ["foreign-media"], "year_from": ["2020"], "sort": ["name"]}
    for (_, address), removed in zip(shown, ["status", "category", "year_from"], strict=True):
        assert urlsplit(address).path == "/cases/"
        # The others stay, the page goes back to the first, the unknown parameter is not carried on.
        assert query(address) == {name: value for name, value in every.items() if name != removed}
    assert '<a href="/cases/?sort=name">Clear all filters</a>' in text
    # Above the results: after their count, before the first row.
    assert text.index('id="results-heading"') < text.index('class="chip"') < text.index('class="case-list"')


def test_removing_a_chip_gives_the_list_without_that_filter(client):
    label, address = chips(page(client, "/cases/?status=sentenced&category=foreign-media"))[0]
    assert label.startswith("Status:")
    response = client.get(address)
    assert [case.case_id for case in response.context["cases"]] == ["KP-0005", "KP-0006"]
    assert [label for label, _ in chips(response.content.decode())] == [
        "Category: Punished for foreign media × (remove this filter)"
    ]


def test_the_name_search_fate_and_nationality_have_chips_too(client):
    shown = chips(page(client, "/cases/?q=kim+kook-ki&fate=outstanding&nationality=KP&year_to=2025"))
    labels = [label.removesuffix(" × (remove this filter)") for label, _ in shown]
    assert labels == [
        "Name: “kim kook-ki”",
        "Fate: Outstanding",
        "Nationality: North Korea",
        "Year of the first event: until 2025",
    ]


def test_no_chip_without_a_filter_nor_for_the_order_or_an_unknown_parameter(client):
    text = page(client, "/cases/?sort=date&colour=blue&page=1")
    assert chips(text) == []
    assert "Clear all filters" not in text


def test_a_refused_filter_gives_no_chip_and_opens_the_form_to_correct_it(client):
    text = page(client, "/cases/?year_from=1700&status=disappeared", status=400)
    assert chips(text) == []
    assert re.search(r'<details class="filters-disclosure" id="filters" open>', text)


@pytest.mark.parametrize(
    ("prefix", "status", "category", "country"),
    [("ko", "구금", "납치 피해자", "북한"), ("ja", "拘禁", "拉致被害者", "北朝鮮")],
)
def test_chips_name_statuses_categories_and_countries_in_the_page_language(client, prefix, status, category, country):
    shown = chips(page(client, f"/{prefix}/cases/?status=detained&category=abductee&nationality=KP"))
    text = " | ".join(label for label, _ in shown)
    for word in (status, category, country):
        assert word in text
    assert "Detained" not in text and "Abductee" not in text and "North Korea" not in text
    assert all(urlsplit(address).path == f"/{prefix}/cases/" for _, address in shown)


# --- The disclosure ------------------------------------------------------------------------------------


def test_the_filters_are_behind_a_disclosure_closed_by_default_that_counts_the_filters_in_use(client):
    text = page(client, "/cases/?status=disappeared&fate=outstanding")
    assert '<details class="filters-disclosure" id="filters">' in text
    summary = re.search(r"<summary>(.*?)</summary>", text, re.S).group(1)
    assert "Search and filter" in summary and "(2 in use)" in summary
    # The form and its fields are inside the disclosure, the results after it.
    assert text.index("<details") < text.index('<form class="filters"') < text.index("</details>")
    assert text.index("</details>") < text.index('id="results-heading"')


def test_the_filter_form_is_in_the_page_language_whichever_language_was_cached_first(client):
    korean = page(client, "/ko/cases/?status=disappeared")
    english = page(client, "/cases/?status=disappeared")
    assert ">현재 상태</label>" in korean
    assert ">Current status</label>" in english
    assert "현재 상태" not in english


# --- Selects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"])
@pytest.mark.parametrize("params", ["", "?nationality=KP", "?q=kim&status=detained", "?year_from=1700"])
def test_no_public_select_offers_dashes(client, prefix, params):
    response = client.get(f"{prefix}/cases/{params}")
    assert "---------" not in response.content.decode()


def test_each_select_says_what_its_empty_choice_gives(client):
    text = page(client, "/cases/")
    for name, label in [
        ("status", "Any status"),
        ("fate", "Outstanding or clarified"),
        ("category", "Any category"),
        ("nationality", "Any country"),
    ]:
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', text, re.S).group(1)
        assert re.match(rf'\s*<option value=""( selected)?>{label}</option>', select), (name, select[:80])


# --- Rows ----------------------------------------------------------------------------------------------


class _RowCells(HTMLParser):
    """For each ``li.case``: the classes of its direct children."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.depth = 0
        self.row_depth = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "li" and attributes.get("class") == "case":
            self.rows.append([])
            self.row_depth = self.depth
        elif self.row_depth is not None and self.depth == self.row_depth + 1:
            self.rows[-1].append((attributes.get("class") or tag).split()[0])
        self.depth += 1

    def handle_endtag(self, tag):
        self.depth -= 1
        if self.row_depth is not None and self.depth == self.row_depth:
            self.row_depth = None


def test_each_row_has_the_same_four_cells_whatever_its_name_status_or_synthetic_label(client):
    person = make_person(
        name="A very long descriptor for an unnamed person detained in a place nobody could name",
        is_synthetic=True,
        family_name_native="김",
        given_name_native="철",
    )
    make_citation(make_source(), status_event=make_event(person, Status.PRISON_CAMP, "2015", is_public=True))
    publish_case(person)
    for url in ("/cases/", "/", "/ko/cases/"):
        parser = _RowCells()
        text = page(client, url)
        parser.feed(text)
        assert len(parser.rows) == 7, url
        assert all(cells == ["case-title", "case-id", "case-status", "case-fate"] for cells in parser.rows), (
            url,
            parser.rows,
        )
    # The synthetic label sits with the name, in the row's first cell; the Hangul beside the romanization.
    row = next(row for row in re.findall(r'<li class="case">(.*?)</li>', text, re.S) if person.case_id in row)
    title = row[: row.index('<span class="case-id">')].strip()
    assert title.startswith('<span class="case-title">')
    assert '<span class="synthetic">' in title
    assert '<span class="name-native" lang="ko">김철</span>' in title


def test_the_empty_fields_a_submitted_form_sends_make_no_chip_and_are_not_carried_on(client):
    text = page(client, "/cases/?q=kim&status=&fate=&category=&nationality=&year_from=&year_to=&sort=relevance")
    assert chips(text) == [("Name: “kim” × (remove this filter)", "/cases/?sort=relevance")]
    assert '<a href="/cases/?sort=relevance">Clear all filters</a>' in text
    assert 'href="/export/cases.csv?q=kim&amp;sort=relevance"' in text


@pytest.mark.parametrize(
    "params",
    [
        "",
        "q=Kim+%3Cb%3E%22&status=detained&fate=clarified&year_from=1990&sort=updated",
        "status=nonsense&year_from=1700&year_to=abc&fate=x",
        "category=religious-leader&nationality=KP&facility_kind=kwanliso",
    ],
)
def test_the_filters_are_drawn_as_djangos_own_widget_templates_draw_them(params):
    # public.filters writes its selects and inputs in Python: the same HTML, byte for byte, errors included.
    form = CaseFilter(QueryDict(params), queryset=PublishedVersion.objects.current()).form
    form.is_valid()
    for field in form:
        ours = str(field)
        with mock.patch.object(type(field.field.widget), "render", forms.Widget.render):
            assert ours == str(field), field.name


@pytest.mark.parametrize("params", ["", "q=kim", "status=detained&nationality=KP", "q=%3Cb%3E&fate=outstanding"])
def test_the_facets_are_drawn_as_a_template_loop_draws_them(params):
    # public_records.facet_items writes each facet's links in Python: the same HTML as the loop it replaced,
    # escaping included, and only the values some case has where the template skipped those counted zero.
    facets = CaseQuery(QueryDict(params)).facets()
    assert facets["status"] and facets["fate"]
    loop = Template(
        '{% for href, label, count in values %}{% if count or not nonzero %}<li><a href="{{ href }}">{{ label }}</a>'
        ' <span class="count">{{ count }}</span></li>{% endif %}{% endfor %}'
    )
    ours = Template("{% load public_records %}{% facet_items values nonzero=nonzero %}")
    for name, values in facets.items():
        for nonzero in (False, True):
            context = {"values": values, "nonzero": nonzero}
            assert ours.render(Context(context)) == loop.render(Context(context)), name


@pytest.mark.parametrize("address", ["/cases/?q=kim", "/cases/?status=detained"])
def test_the_categories_kept_for_the_filters_are_read_again_once_one_changes(client, address):
    # The categories are read once per change of the public data (public.filters.PlaceNames): a category
    # renamed is a change, and the next page names it anew in the select and the facets.
    category = Category.objects.filter(persons__isnull=False).first()
    old = category.name
    before = page(client, address)
    assert f">{old}</option>" in before
    category.name = "A category renamed"
    category.save()
    after = page(client, address)
    assert ">A category renamed</option>" in after
    assert f">{old}</option>" not in after
    assert after.count(">A category renamed<") == before.count(f">{old}<")


def test_a_category_deleted_is_no_longer_offered(client):
    # Deleting a category is a change of the public data too (workflow.signals): the categories are read again.
    category = Category.objects.create(slug="a-category-to-delete", name="A category to delete")
    assert ">A category to delete</option>" in page(client, "/cases/?q=kim")
    category.delete()
    assert ">A category to delete</option>" not in page(client, "/cases/?q=kim")

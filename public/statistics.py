"""Public statistics: the published cases counted by status, fate, category, nationality, year, facility and authority.

Every number comes from the list's own counts (:meth:`public.queries.CaseQuery.facet_counts` and
:meth:`~public.queries.CaseQuery.year_counts`), over the current published versions only, with the list's
filters: a chart and the list's facet for the same search cannot disagree, and nothing reaches a chart that the
case pages do not show. They are cached per publication with the list's counts (``public.caching``).

Each chart is drawn here as SVG (no JavaScript), with its numbers in a table beside it, a line saying how it is
counted, and its data as CSV and JSON at ``/statistics/<chart>.csv`` and ``.json``; ``/api/statistics/`` gives
every chart at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from cases.spreadsheet import csv_lines

from .caching import public_page
from .queries import CaseQuery, refused
from .views import active_filters, data_querystring, filters_form


@dataclass(frozen=True)
class ChartKind:
    """One chart: its address, the list filter its bars link to, its title and how it is counted."""

    slug: str
    title: Promise
    how_counted: Promise
    # The list's filter whose counts this chart draws (CaseQuery.facet_counts), or the year column it counts.
    facet: str = ""
    years: str = ""

    @property
    def over_time(self) -> bool:
        return bool(self.years)


CHARTS = [
    ChartKind(
        "fate",
        gettext_lazy("Outstanding and clarified cases"),
        gettext_lazy(
            "Each case once. A case is clarified when its latest public event says the person was released, reached "
            "safety or is confirmed dead, as the UN Working Group counts clarified cases; every other case is "
            "outstanding."
        ),
        facet="fate",
    ),
    ChartKind(
        "status",
        gettext_lazy("Current status"),
        gettext_lazy("Each case once, by the status its latest public event gives."),
        facet="status",
    ),
    ChartKind(
        "category",
        gettext_lazy("Category"),
        gettext_lazy("A case in two categories counts in each of them."),
        facet="category",
    ),
    ChartKind(
        "nationality",
        gettext_lazy("Nationality"),
        gettext_lazy("Each case once, by its recorded nationality; a case with none recorded is not counted here."),
        facet="nationality",
    ),
    ChartKind(
        "arrest-year",
        gettext_lazy("Year of arrest or disappearance"),
        gettext_lazy(
            "Each case once, by the year of the first arrest, abduction, disappearance, detention or forced "
            "repatriation its public record dates, at the precision its sources give (“c. 2014” counts in 2014). "
            "A case whose record dates none of these counts as “year unknown”."
        ),
        years="taken_year",
    ),
    ChartKind(
        "latest-year",
        gettext_lazy("Year of the latest information"),
        gettext_lazy(
            "Each case once, by the year of the latest dated event on its public record: how recent what is known "
            "is. A case with no dated event counts as “year unknown”."
        ),
        years="latest_year",
    ),
    ChartKind(
        "facility-kind",
        gettext_lazy("Kind of facility"),
        gettext_lazy(
            "Cases with a public event at a public facility of each kind; a case held in facilities of two kinds "
            "counts in each. Cases with no public facility are not counted here."
        ),
        facet="facility_kind",
    ),
    ChartKind(
        "facility",
        gettext_lazy("Facility"),
        gettext_lazy(
            "Cases with a public event at each public facility; a case held in two facilities counts in each."
        ),
        facet="facility",
    ),
    ChartKind(
        "authority",
        gettext_lazy("Authority believed responsible"),
        gettext_lazy(
            "Cases with a public event for which each public authority is believed responsible; a case with "
            "events under two authorities counts in each."
        ),
        facet="authority",
    ),
]
CHART_KINDS = {chart.slug: chart for chart in CHARTS}


@dataclass(frozen=True)
class Bar:
    """One value of a chart: what it is (``value`` as the data writes it; empty for an unknown year), its label in
    the reader's language, its count, the list of its cases (when the list can filter by it) and whether the
    search chose it."""

    value: str
    label: str
    count: int
    href: str = ""
    selected: bool = False

    def data(self) -> dict[str, Any]:
        return {"value": self.value or None, "label": self.label, "count": self.count}


@dataclass(frozen=True)
class Chart:
    kind: ChartKind
    bars: list[Bar]

    @property
    def slug(self) -> str:
        return self.kind.slug

    @property
    def is_empty(self) -> bool:
        return not any(bar.count for bar in self.bars)

    def data(self, request: HttpRequest, querystring: str) -> dict[str, Any]:
        suffix = f"?{querystring}" if querystring else ""
        return {
            "chart": self.slug,
            "title": str(self.kind.title),
            "how_counted": str(self.kind.how_counted),
            "rows": [bar.data() for bar in self.bars],
            "csv": request.build_absolute_uri(reverse("public:statistics_csv", args=[self.slug]) + suffix),
            "json": request.build_absolute_uri(reverse("public:statistics_json", args=[self.slug]) + suffix),
        }

    def svg(self) -> str:
        """The chart drawn as SVG: bars across for values, columns for years (the table beside it has the numbers).

        Written here rather than by a template: a page draws hundreds of shapes, and their coordinates must stay
        numbers as SVG reads them in every language (a template would localise them)."""
        most = max((bar.count for bar in self.bars), default=0) or 1
        shapes = _columns(self.bars, most) if self.kind.over_time else _bars(self.bars, most)
        return mark_safe(  # noqa: S308 (every text in it is escaped)
            f'<svg class="chart" viewBox="0 0 {WIDTH} {shapes.height}" width="{WIDTH}" height="{shapes.height}" '
            f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">{"".join(shapes.parts)}</svg>'
        )


@dataclass
class Shapes:
    height: float
    parts: list[str]


def _text(css: str, x: float, y: float, text: object, anchor: str = "") -> str:
    anchored = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text class="{css}" x="{x:g}" y="{y:g}"{anchored}>{escape(str(text))}</text>'


def _rect(css: str, x: float, y: float, width: float, height: float) -> str:
    return f'<rect class="{css}" x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}"/>'


# The drawing's units (its viewBox); the page scales it to the screen's width.
# Narrow, so that its words stay readable on a phone's width (about 12 px there).
WIDTH, LABEL_END, BAR_START, BAR_END, ROW, BAR = 400, 150, 156, 364, 22, 16
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT = 22, 150, 6, 394


def _short(label: str, room: float = LABEL_END - 4) -> str:
    """The label, cut with "…" to the room left of the bars (the table beside has it whole). Hangul, kana and
    Hanja are about a letter's height wide; Latin letters about half of it (and W, M a little more)."""
    width, kept = 0.0, ""
    for letter in label:
        width += 12 if ord(letter) >= 0x1100 else 8.5 if letter in "WMmw@" else 6.8
        if width > room - 12:
            return kept.rstrip() + "…"
        kept += letter
    return label


def _bars(bars: list[Bar], most: int) -> Shapes:
    """One bar across per value, its label before it and its count after it."""
    parts = []
    for i, bar in enumerate(bars):
        length = round((BAR_END - BAR_START) * bar.count / most, 1)
        top = i * ROW
        css = "chart-bar chart-selected" if bar.selected else "chart-bar"
        parts += [
            _text("chart-label", LABEL_END, top + 15, _short(bar.label), "end"),
            _rect(css, BAR_START, top + 3, length, BAR),
            _text("chart-count", BAR_START + length + 6, top + 15, bar.count),
        ]
    return Shapes(len(bars) * ROW + 4, parts)


def _columns(bars: list[Bar], most: int) -> Shapes:
    """One column per year, empty years too (time to scale), then "year unknown" apart, with the scale's top."""
    slots = len(bars) + (1 if bars and not bars[-1].value else 0)  # a gap before "year unknown"
    step = (PLOT_RIGHT - PLOT_LEFT) / max(slots, 1)
    years = [bar for bar in bars if bar.value]
    every = next((n for n in (1, 2, 5, 10, 20, 25, 50) if len(years) / n <= 7), 100)
    parts = [
        f'<line class="chart-grid" x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_RIGHT}" y2="{PLOT_TOP}"/>',
        _text("chart-count", PLOT_LEFT, PLOT_TOP - 6, most),
        f'<line class="chart-axis" x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{PLOT_RIGHT}" y2="{PLOT_BOTTOM}"/>',
    ]
    for i, bar in enumerate(bars):
        slot = i + (1 if not bar.value else 0)
        height = round((PLOT_BOTTOM - PLOT_TOP) * bar.count / most, 1)
        left = PLOT_LEFT + slot * step
        middle = round(left + step / 2, 1)
        css = "chart-bar" if bar.value else "chart-bar chart-unknown"
        parts.append(
            _rect(css, round(left + step * 0.1, 1), round(PLOT_BOTTOM - height, 1), round(step * 0.8, 1), height)
        )
        if slots <= 14 and bar.count:
            parts.append(_text("chart-count", middle, round(PLOT_BOTTOM - height - 4, 1), bar.count, "middle"))
        if not bar.value or int(bar.value) % every == 0 or len(years) == 1:
            parts.append(_text("chart-label", middle, PLOT_BOTTOM + 15, bar.value or _("unknown"), "middle"))
    return Shapes(PLOT_BOTTOM + 24, parts)


def charts(query: CaseQuery) -> list[Chart]:
    """Every chart of the search ``query`` (the facility and authority ones only when the site has them)."""
    counts = query.facet_counts()
    years = query.year_counts()
    cleaned = query.filterset.form.cleaned_data
    drawn = []
    for kind in CHARTS:
        if kind.over_time:
            bars = _year_bars(years[kind.years])
        else:
            chosen = cleaned.get(kind.facet)
            chosen = getattr(chosen, "slug", chosen)  # a Category
            # A value the list cannot filter by (no status: no public event) has no link.
            bars = [
                Bar(
                    value,
                    label,
                    n,
                    query.link(kind.facet, value) if value else "",
                    bool(chosen) and str(chosen) == value,
                )
                for value, label, n in counts[kind.facet]
            ]
        chart = Chart(kind, bars)
        if kind.facet in ("facility", "authority", "facility_kind") and chart.is_empty:
            continue  # a site that records no facility or authority has nothing to chart there
        drawn.append(chart)
    return drawn


def _year_bars(counts: dict[int | None, int]) -> list[Bar]:
    """A column for every year from the first to the last (empty years too: time is drawn to scale), then the
    cases whose year is unknown."""
    known = [year for year in counts if year is not None]
    bars = (
        [Bar(str(year), str(year), counts.get(year, 0)) for year in range(min(known), max(known) + 1)] if known else []
    )
    if counts.get(None):
        bars.append(Bar("", _("Year unknown"), counts[None]))
    return bars


def _filter_querystring(request: HttpRequest, query: CaseQuery) -> str:
    """The filters and search the charts count (their order counts for nothing), as the data links take them."""
    return data_querystring(request, query, without=("sort",))


@require_safe
@public_page
def statistics_page(request: HttpRequest) -> HttpResponse:
    query = CaseQuery(request.GET, request=request)
    querystring = _filter_querystring(request, query)
    context = {
        "query": query,
        "filter": query.filterset,
        "errors": query.errors,
        "ignored": query.ignored,
        "charts": charts(query) if query.valid else [],
        "total": query.count() if query.valid else 0,
        "active_filters": active_filters(request, query),
        "clear_filters": request.path,
        "filters_html": filters_form(request, query, action=reverse("public:statistics")),
        "filtered": bool(querystring),
        # The footer's "Data as CSV/JSON" and the list link give the cases counted here.
        "data_querystring": querystring,
        "list_url": reverse("public:case_list") + (f"?{querystring}" if querystring else ""),
    }
    return render(request, "public/statistics.html", context, status=200 if query.valid else 400)


def _known_chart(slug: str) -> ChartKind:
    if slug not in CHART_KINDS:
        raise Http404(_("There is no such chart."))
    return CHART_KINDS[slug]


def _chart(query: CaseQuery, slug: str) -> Chart:
    """The chart ``slug`` of a valid search (an empty one when the site has nothing to chart there)."""
    found = [chart for chart in charts(query) if chart.slug == slug]
    return found[0] if found else Chart(CHART_KINDS[slug], [])


@require_safe
@public_page
def chart_json(request: HttpRequest, chart: str) -> HttpResponse:
    _known_chart(chart)
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return refused(query, as_json=True)
    drawn = _chart(query, chart)
    data = {
        "total": query.count(),
        "ignored_parameters": query.ignored,
        **drawn.data(request, _filter_querystring(request, query)),
    }
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@require_safe
@public_page
def chart_csv(request: HttpRequest, chart: str) -> HttpResponse:
    _known_chart(chart)
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return refused(query, as_json=False)
    drawn = _chart(query, chart)
    rows = ((bar.value, bar.label, bar.count) for bar in drawn.bars)
    response = HttpResponse(
        "".join(csv_lines(["value", "label", "count"], rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="whereabouts-statistics-{drawn.slug}.csv"'
    return response


@require_safe
@public_page
def api_statistics(request: HttpRequest) -> HttpResponse:
    query = CaseQuery(request.GET, request=request)
    if not query.valid:
        return refused(query, as_json=True)
    querystring = _filter_querystring(request, query)
    data = {
        "total": query.count(),
        "ignored_parameters": query.ignored,
        "charts": [chart.data(request, querystring) for chart in charts(query)],
    }
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})

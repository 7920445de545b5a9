"""Display helpers for public records, whose values are stored as plain text."""

import re
from html import escape
from urllib.parse import quote

from django import template
from django.conf import settings
from django.template.loader_tags import BlockNode
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from cases.names import script_language
from cases.partial_dates import PartialDate, display_partial_date
from cases.vocabularies import Confidence, Status
from sources.vocabularies import SourceKind

from .. import maps
from ..presenters import name_with_native, names_in_order

register = template.Library()


@register.filter
def partial_date(value: str | None) -> str:
    """``"2014-10"`` → "October 2014"; blank → "date unknown"."""
    return display_partial_date(PartialDate.parse(value, allow_future=True) if value else None)


# The values of each vocabulary (an enum's ``values`` is a new list at every call).
_STATUSES, _CONFIDENCES, _SOURCE_KINDS = (
    frozenset(Status.values),
    frozenset(Confidence.values),
    frozenset(SourceKind.values),
)
# What stands for the case ID in the address of a list's rows, as reverse() writes it.
_CASE_ID = "CASE-ID"


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in _STATUSES else ""


@register.filter
def confidence_label(value: str) -> str:
    return str(Confidence(value).label) if value in _CONFIDENCES else ""


@register.filter
def source_kind(value: str) -> str:
    return str(SourceKind(value).label) if value in _SOURCE_KINDS else ""


@register.simple_tag
def person_name(name: str, native: str = "", *, language: str | None = None) -> str:
    """A person's public name with the native-script form beside it, native first on Korean and Japanese pages
    (``language``: the page's, the active one when not given).

    The romanized name (or descriptor, or pseudonym) is marked ``translate="no"``,
    the native one with its language, for browsers' translators and screen readers.
    Written with the standard library's escape, which is Django's own (a list
    page writes 25 of them).
    """
    latin = f'<span class="name-latin" translate="no">{escape(name)}</span>'
    if not native:
        return mark_safe(latin)  # noqa: S308 (escaped above)
    written_in = script_language(native)
    lang = f' lang="{escape(written_in)}"' if written_in else ""
    first, second = names_in_order(latin, f'<span class="name-native"{lang}>{escape(native)}</span>', language=language)
    return mark_safe(f"{first} ({second})")  # noqa: S308 (escaped above)


@register.filter
def plain_name(name: str, native: str = "") -> str:
    """The same as :func:`person_name` in plain text, for a page's title."""
    return name_with_native(name, native)


class FixedNode(template.Node):
    def __init__(self, nodelist) -> None:
        self.nodelist = nodelist
        self.rendered: dict[tuple[str | None, str], str] = {}

    def render(self, context) -> str:
        key = (get_language(), get_script_prefix())
        html = self.rendered.get(key)
        if html is None:
            # Without the page's values (context.new): what it shows cannot depend on the page or its reader.
            html = self.rendered[key] = self.nodelist.render(context.new())
        return html


@register.tag
def fixed(parser, token) -> FixedNode:
    """``{% fixed %}…{% endfixed %}``: a part of every page that is the same for every reader in a language (the
    site's header and navigation, its stylesheets, the footer's links). Rendered once per language in each
    process rather than for every page: its dozen addresses and labels took longer than the rows of a list."""
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        # A page's own block would be kept for every page.
        raise template.TemplateSyntaxError("{% fixed %} cannot hold a {% block %}.")
    return FixedNode(nodelist)


@register.simple_tag(takes_context=True)
def language_versions(context) -> list[dict]:
    """This page in each language: its address there (the same page, the same filters) and whether it is this one.

    An address that names no page (a 404) offers each language's home page.
    """
    request = context.get("request")
    if request is None:
        return []
    current = get_language()
    match = getattr(request, "resolver_match", None)  # the handler's, when the request reached a view
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
    versions = []
    for code, name in settings.LANGUAGES:
        with override(code):
            if match is not None and match.url_name:
                view = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
                url = reverse(view, args=match.args, kwargs=match.kwargs)
                url += f"?{request.META['QUERY_STRING']}" if request.META.get("QUERY_STRING") else ""
            else:
                url = reverse("public:home")
        absolute = request.build_absolute_uri(url)
        versions.append({"code": code, "name": name, "url": url, "absolute": absolute, "current": code == current})
    return versions


_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


@register.simple_tag
def written_in(language: str) -> str:
    """The attribute that marks quoted content (a source's title, a locator, an excerpt) with its language.

    ``lang`` when the language is known and not the page's; ``translate="no"``
    when it is not known: either way a browser's translator and a screen
    reader treat it as the words of the source, not of this site.
    """
    language = (language or "").strip()
    if not _LANGUAGE_TAG.fullmatch(language):
        return mark_safe(' translate="no"')  # a constant
    if language.split("-")[0] == (get_language() or "").split("-")[0]:
        return ""
    return format_html(' lang="{}"', language)


@register.simple_tag
def map_legend() -> list:
    """The kinds of mark a map draws (exact, approximate, region), each with its small drawing."""
    return maps.legend()


@register.simple_tag
def map_attribution() -> str:
    """Where the maps' outline comes from."""
    return maps.attribution()


@register.simple_tag
def facet_items(values, *, nonzero: bool = False) -> str:
    """The items of one facet of the list's filters: ``(address, label, count)`` each, as a link with its count;
    with ``nonzero``, only the values some case has. Written here rather than by a loop of the template: a
    search's facets are drawn anew for each name searched, five dozen links."""
    return mark_safe(  # noqa: S308 (each value escaped here)
        "".join(
            f'<li><a href="{conditional_escape(href)}">{conditional_escape(label)}</a> '
            f'<span class="count">{localize(count)}</span></li>'
            for href, label, count in values
            if count or not nonzero
        )
    )


# What a row of a list of cases shows (case_rows): the list reads only these.
CASE_ROW_COLUMNS = ("case_id", "name", "name_native", "is_synthetic", "status", "status_since", "is_clarified")


@register.simple_tag
def case_rows(cases) -> str:
    """The rows of a list of cases (the list, the home page's latest, a source's cases): each version's own
    columns, never its record. Written here rather than in a template included once a row, and what repeats
    from row to row worked out once (the address's pattern, reversed once with each case ID written in; each
    status's label, each date's wording, the page's language): the list's pages are mostly pages nobody has just
    read."""
    language = get_language()
    synthetic = f' <span class="synthetic">{escape(_("(synthetic)"))}</span>'
    fates = {True: ("clarified", escape(_("Fate clarified"))), False: ("outstanding", escape(_("Outstanding")))}
    no_status = escape(_("No public status yet"))
    since = _("since %(date)s")
    address = reverse("public:case_detail", args=[_CASE_ID])
    labels: dict[str, str] = {}
    dates: dict[str, str] = {}
    rows = []
    for case in cases:
        if case.status:
            if case.status not in labels:
                labels[case.status] = status_label(case.status)
            status = labels[case.status]
            if case.status_since:
                if case.status_since not in dates:
                    dates[case.status_since] = " · " + since % {"date": partial_date(case.status_since)}
                status += dates[case.status_since]
            status = escape(status)
        else:
            status = no_status
        fate, fate_label = fates[bool(case.is_clarified)]
        href = escape(address.replace(_CASE_ID, quote(case.case_id, safe="")))
        rows.append(
            f'<li class="case">\n  <span class="case-title"><a class="case-name" href="{href}">'
            f"{person_name(case.name, case.name_native, language=language)}</a>"
            f"{synthetic if case.is_synthetic else ''}</span>\n"
            f'  <span class="case-id">{escape(case.case_id)}</span>\n  <span class="case-status">{status}</span>\n'
            f'  <span class="case-fate fate-{fate}">{fate_label}</span>\n</li>'
        )
    return mark_safe("".join(rows))  # noqa: S308 (each value escaped above)

"""Display helpers for public records, whose values are stored as plain text."""

import re

from django import template
from django.conf import settings
from django.urls import Resolver404, resolve, reverse
from django.utils.html import format_html, format_html_join
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


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else ""


@register.filter
def confidence_label(value: str) -> str:
    return str(Confidence(value).label) if value in Confidence.values else ""


@register.filter
def source_kind(value: str) -> str:
    return str(SourceKind(value).label) if value in SourceKind.values else ""


@register.simple_tag
def person_name(name: str, native: str = "") -> str:
    """A person's public name with the native-script form beside it, native first on Korean and Japanese pages.

    The romanized name (or descriptor, or pseudonym) is marked ``translate="no"``,
    the native one with its language, for browsers' translators and screen readers.
    """
    latin = format_html('<span class="name-latin" translate="no">{}</span>', name)
    if not native:
        return latin
    language = script_language(native)
    lang = format_html(' lang="{}"', language) if language else ""
    return format_html(
        "{} ({})", *names_in_order(latin, format_html('<span class="name-native"{}>{}</span>', lang, native))
    )


@register.filter
def plain_name(name: str, native: str = "") -> str:
    """The same as :func:`person_name` in plain text, for a page's title."""
    return name_with_native(name, native)


@register.simple_tag(takes_context=True)
def language_versions(context) -> list[dict]:
    """This page in each language: its address there (the same page, the same filters) and whether it is this one.

    An address that names no page (a 404) offers each language's home page.
    """
    request = context.get("request")
    if request is None:
        return []
    current = get_language()
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
def case_rows(cases) -> str:
    """The rows of a list of cases (the list, the home page's latest, a source's cases): each version's own
    columns, never its record. Written here rather than in a template included once a row: a page of 25 rows
    costs a tenth of the time, and the list's pages are mostly pages nobody has just read."""
    synthetic = format_html(' <span class="synthetic">{}</span>', _("(synthetic)"))
    fates = {True: ("clarified", _("Fate clarified")), False: ("outstanding", _("Outstanding"))}
    rows = []
    for case in cases:
        if case.status:
            status = status_label(case.status)
            if case.status_since:
                status += " · " + _("since %(date)s") % {"date": partial_date(case.status_since)}
        else:
            status = _("No public status yet")
        fate, fate_label = fates[bool(case.is_clarified)]
        rows.append(
            (
                reverse("public:case_detail", args=[case.case_id]),
                person_name(case.name, case.name_native),
                synthetic if case.is_synthetic else "",
                case.case_id,
                status,
                fate,
                fate_label,
            )
        )
    return format_html_join(
        "",
        '<li class="case">\n  <span class="case-title"><a class="case-name" href="{}">{}</a>{}</span>\n'
        '  <span class="case-id">{}</span>\n  <span class="case-status">{}</span>\n'
        '  <span class="case-fate fate-{}">{}</span>\n</li>',
        rows,
    )

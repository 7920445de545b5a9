"""The pages of one list share all but their rows, their links to the pages around them and their number.

Every page of the same list (the same filters, search, order and language)
shows the same heading, count, filter form, chips and links; only its rows,
its pagination and the page number in its addresses in other languages
differ. The *frame* is that page rendered once with a mark in place of each,
kept for the public data's generation (``public.caching.cached``, so a
redaction takes it away with everything else) beside the whole pages, and
each page of the list is its rows and pagination written into it: a page
nobody has just read renders only its pagination's small template.

A frame is used only where it gives exactly the page the templates would
give (``tests/test_list_frames.py`` compares them byte for byte): for a
``page=`` written once, in digits, in an address that holds none of the
marks. Any other address is rendered whole.
"""

from __future__ import annotations

from copy import copy
from urllib.parse import unquote_plus

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .caching import cached

# Where the rows and the pagination go (never in a page's text: noncharacters), and the page number in the
# addresses (letters and digits, which the addresses keep as they are).
ROWS = mark_safe("\ufdd0rows\ufdd0")
PAGES = mark_safe("\ufdd0pages\ufdd0")
NUMBER = "PAGExfdd0NUMBER"


def page_number(request: HttpRequest) -> tuple[str, str] | None:
    """The page's number as its address writes it, and the address's query with :data:`NUMBER` in its place;
    None where a frame cannot give this page exactly (module docstring)."""
    query = request.META.get("QUERY_STRING", "")
    parts = query.split("&")
    pages = [n for n, part in enumerate(parts) if part.split("=", 1)[0] == "page"]
    if len(pages) != 1:
        return None
    number = parts[pages[0]].split("=", 1)[1] if "=" in parts[pages[0]] else ""
    unquoted = unquote_plus(query)
    if not number.isascii() or not number.isdigit() or any(mark in unquoted for mark in (ROWS, PAGES, NUMBER)):
        return None
    parts[pages[0]] = f"page={NUMBER}"
    return number, "&".join(parts)


def framed(request: HttpRequest, template: str, context: dict, rows: str, pages: str) -> str | None:
    """The page of ``template`` with ``rows`` and ``pages`` written into the list's frame, rendering the frame if
    this generation has none yet; None where there can be no frame (:func:`page_number`)."""
    found = page_number(request)
    if found is None:
        return None
    number, query = found

    def render() -> tuple[str, str, str] | None:
        # The frame is rendered for the address with the mark in place of the page's number.
        marked = copy(request)
        marked.META = {**request.META, "QUERY_STRING": query}
        html = render_to_string(template, {**context, "rows": ROWS, "pagination": PAGES}, marked)
        if html.count(ROWS) != 1 or html.count(PAGES) != 1 or html.index(ROWS) > html.index(PAGES):
            return None
        before, rest = html.split(ROWS)
        between, after = rest.split(PAGES)
        return before, between, after

    # Keyed as the whole page is (public.caching): the language, the day (the year filters stop at this year), the
    # address with its host (the other languages' links are absolute).
    address = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    frame = cached(request, "frame", f"{get_language()} {timezone.localdate()} {address}", render, store="pages")
    if frame is None:
        return None
    before, between, after = (part.replace(NUMBER, number) for part in frame)
    return f"{before}{rows}{between}{pages}{after}"

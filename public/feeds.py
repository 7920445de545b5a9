"""Atom feeds of published changes: every new public version is an entry.

A feed also reads as a page in a browser: it names a stylesheet (``feed.xsl``,
rendered in the feed's language from ``templates/public/feed.xsl``) that the
browser applies to show its entries, and a browser is sent the feed as
``application/xml``, the type browsers apply a stylesheet to (they show Atom's
own type as plain text or download it). Feed readers get Atom's type.
"""

import re
from functools import wraps

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.feedgenerator import Atom1Feed, Stylesheet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.http import require_safe

from workflow.models import PublishedVersion

from .caching import public_page
from .presenters import CasePage, name_with_native, native_first, text_in
from .queries import current_case

# Characters XML 1.0 cannot carry; text pasted from a PDF often has a form feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(" ", text)


def _feed_name(version: PublishedVersion) -> str:
    """The name an entry is titled with: in Korean and Japanese, the native-script name first."""
    return name_with_native(version.name, version.name_native) if native_first() else version.name


class ReadableAtom1Feed(Atom1Feed):
    """Atom 1.0 with its ``<?xml-stylesheet?>`` instructions (Django writes them for RSS only)."""

    def write(self, outfile, encoding):
        handler = SimplerXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        # After the XML declaration, before the root element.
        for stylesheet in self.feed["stylesheets"] or []:
            handler.processingInstruction("xml-stylesheet", str(stylesheet))
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")


class PublishedChangesFeed(Feed):
    feed_type = ReadableAtom1Feed
    title = gettext_lazy("Whereabouts: published changes")
    subtitle = gettext_lazy("New and updated case records of detained and disappeared persons.")

    def stylesheets(self):
        return [Stylesheet(reverse("public:feed_stylesheet"), mimetype="text/xsl", media="all")]

    def link(self):
        return reverse("public:case_list")

    def items(self):
        return PublishedVersion.objects.public().order_by("-published_at", "-pk")[:50]

    def item_title(self, version):
        values = {"name": _feed_name(version), "case_id": version.case_id, "number": version.number}
        if version.number == 1:
            return xml_safe(_("%(name)s (%(case_id)s) published: version %(number)s") % values)
        return xml_safe(_("%(name)s (%(case_id)s) updated: version %(number)s") % values)

    def item_description(self, version):
        page = CasePage(version)
        status = page.status_label or _("No public status")
        return xml_safe(f"{status}. {text_in(page.record, 'summary')}")

    def item_link(self, version):
        return reverse("public:case_version", args=[version.case_id, version.number])

    def item_guid(self, version):
        return f"whereabouts:{version.case_id}:v{version.number}"

    item_guid_is_permalink = False

    def item_pubdate(self, version):
        return version.published_at

    def item_updateddate(self, version):
        return version.published_at


class CaseFeed(PublishedChangesFeed):
    def get_object(self, request, case_id):
        return current_case(case_id)

    def title(self, version):
        values = {"name": _feed_name(version), "case_id": version.case_id}
        return xml_safe(_("Whereabouts: %(name)s (%(case_id)s)") % values)

    def subtitle(self, version):
        return _("Every published version of this case.")

    def link(self, version):
        return reverse("public:case_detail", args=[version.case_id])

    def items(self, version):
        return PublishedVersion.objects.public().filter(case_id=version.case_id).order_by("-number")


def readable_in_browsers(view):
    """The feed as ``application/xml`` to a browser (it asks for HTML), so that it applies the stylesheet.

    The content is the same Atom document either way; ``Vary: Accept`` keeps
    a proxy from giving one's type to the other.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        browser = any(media.main_type == "text" and media.sub_type == "html" for media in request.accepted_types)
        if browser and response.get("Content-Type", "").startswith("application/atom+xml"):
            response["Content-Type"] = "application/xml; charset=utf-8"
        patch_vary_headers(response, ["Accept"])
        return response

    return wrapper


@require_safe
@public_page
def feed_stylesheet(request: HttpRequest) -> HttpResponse:
    """The XSLT stylesheet that shows a feed as a page, with its words in the page's language."""
    return render(request, "public/feed.xsl", content_type="text/xsl; charset=utf-8")

"""Atom feeds of published changes: every new public version is an entry."""

import re

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflow.models import PublishedVersion

from .presenters import CasePage, name_with_native, native_first, text_in
from .queries import current_case

# Characters XML 1.0 cannot carry; text pasted from a PDF often has a form feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(" ", text)


def _feed_name(version: PublishedVersion) -> str:
    """The name an entry is titled with: in Korean and Japanese, the native-script name first."""
    return name_with_native(version.name, version.name_native) if native_first() else version.name


class PublishedChangesFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Whereabouts: published changes")
    subtitle = gettext_lazy("New and updated case records of detained and disappeared persons.")

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

    def link(self, version):
        return reverse("public:case_detail", args=[version.case_id])

    def items(self, version):
        return PublishedVersion.objects.public().filter(case_id=version.case_id).order_by("-number")

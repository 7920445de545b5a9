"""Staff pages of the web archive: a source's captures on its page, the captures, the worker's jobs, the link checks.

Nothing here is written by hand: captures, jobs and checks are made by the
worker. Staff ask for a capture ("Capture now" on a source's page), download a
capture's files (attachments only), and an editor may withdraw a capture.
"""

from django.contrib import admin
from django.db.models import Case, IntegerField, Value, When
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cases.admin import ListedInline, withdraw_selected
from security.admin import ReadOnlyAdmin
from sources.admin import SourceAdmin
from sources.models import Source

from .models import ArchiveJob, Capture, JobState, LinkCheck


def _downloads(capture: Capture) -> str:
    return format_html(
        '<a href="{}">{}</a> · <a href="{}">{}</a>',
        reverse("archive:download", args=[capture.pk, "warc"]),
        _("WARC file"),
        reverse("archive:download", args=[capture.pk, "copy"]),
        _("copy of the page"),
    )


STATE_ORDER = (JobState.RUNNING, JobState.QUEUED, JobState.FAILED, JobState.DONE)


class CaptureInline(ListedInline):
    model = Capture
    verbose_name_plural = _("captures of the page")
    fields = readonly_fields = (
        "captured_at",
        "http_status",
        "final_url",
        "content_type",
        "size",
        "body_sha256",
        "files",
    )

    @admin.display(description=_("size"))
    def size(self, capture: Capture) -> str:
        return filesizeformat(capture.body_size)

    @admin.display(description=_("files"))
    def files(self, capture: Capture) -> str:
        return _downloads(capture)


class ArchivedSourceAdmin(SourceAdmin):
    """The source's page, with its captures, the state of its latest job and link check, and "Capture now"."""

    change_form_template = "admin/archive/source_change_form.html"
    inlines: list = [*SourceAdmin.inlines, CaptureInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        source = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if source is not None:
            extra_context |= {
                "can_capture": bool(source.url) and request.user.has_perm("archive.add_capture"),
                "archive_job": ArchiveJob.objects.filter(source=source).order_by("-created_at", "-pk").first(),
                "link_check": LinkCheck.objects.filter(source=source).order_by("-checked_at", "-pk").first(),
            }
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Source)
admin.site.register(Source, ArchivedSourceAdmin)


@admin.register(Capture)
class CaptureAdmin(ReadOnlyAdmin):
    list_display = ["source", "captured_at", "http_status", "content_type", "final_url", "copy_public", "withdrawn"]
    list_filter = ["http_status", "copy_public", "withdrawn"]
    list_select_related = ["source"]
    search_fields = ["source__title", "requested_url", "final_url", "body_sha256", "warc_sha256"]
    date_hierarchy = "captured_at"
    actions = [withdraw_selected, "let_the_public_download", "stop_public_downloads"]
    fields = readonly_fields = (
        "source",
        "requested_url",
        "final_url",
        "redirects",
        "http_status",
        "content_type",
        "ip_address",
        "captured_at",
        "files",
        "body_sha256",
        "body_size",
        "warc_sha256",
        "warc_size",
        "tool",
        "requested_by",
        "copy_public",
        "withdrawn",
        "withdrawn_reason",
    )

    def has_change_permission(self, request, obj=None):
        # Only to withdraw (the action); every field stays read-only.
        return request.user.has_perm("archive.change_capture")

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm("archive.publish_capture")

    @admin.action(permissions=["publish"], description=_("Let the public download the selected copies"))
    def let_the_public_download(self, request, queryset):
        made = 0
        for capture in queryset.copyable().filter(copy_public=False):
            capture.set_copy_public(True, by=request.user, reason=gettext("Copy made public"))
            made += 1
        self.message_user(
            request,
            ngettext(
                "%(made)d of %(selected)d copy may now be downloaded from its source's public page, once a "
                "published case cites that capture. Only whole pages (HTTP 2xx) of public sources may be, and "
                "none that a case at risk of reprisal cites.",
                "%(made)d of %(selected)d copies may now be downloaded from their source's public page, once a "
                "published case cites that capture. Only whole pages (HTTP 2xx) of public sources may be, and "
                "none that a case at risk of reprisal cites.",
                queryset.count(),
            )
            % {"made": made, "selected": queryset.count()},
        )

    @admin.action(permissions=["publish"], description=_("Stop public downloads of the selected copies"))
    def stop_public_downloads(self, request, queryset):
        stopped = 0
        for capture in queryset.filter(copy_public=True):
            capture.set_copy_public(False, by=request.user, reason=gettext("Copy no longer public"))
            stopped += 1
        self.message_user(
            request,
            ngettext("%(count)d copy is no longer public.", "%(count)d copies are no longer public.", stopped)
            % {"count": stopped},
        )

    @admin.display(description=_("files"))
    def files(self, capture: Capture) -> str:
        return _downloads(capture)


@admin.register(ArchiveJob)
class ArchiveJobAdmin(ReadOnlyAdmin):
    list_display = ["source", "kind", "state", "attempts", "next_attempt_at", "last_error", "created_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["source"]
    search_fields = ["source__title", "source__url", "last_error"]
    fields = readonly_fields = (
        "source",
        "kind",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "requested_by",
        "capture",
        "created_at",
        "finished_at",
    )

    def get_queryset(self, request):
        # The running, the waiting and the failed first: what staff come here to see.
        rank = Case(
            *(When(state=state, then=Value(n)) for n, state in enumerate(STATE_ORDER)), output_field=IntegerField()
        )
        return super().get_queryset(request).order_by(rank, "-created_at", "-pk")


@admin.register(LinkCheck)
class LinkCheckAdmin(ReadOnlyAdmin):
    list_display = ["source", "checked_at", "outcome", "http_status", "url", "detail"]
    list_filter = ["outcome"]
    list_select_related = ["source"]
    search_fields = ["source__title", "url"]
    date_hierarchy = "checked_at"
    fields = readonly_fields = (
        "source",
        "checked_at",
        "url",
        "final_url",
        "http_status",
        "outcome",
        "detail",
        "body_sha256",
        "previous_sha256",
        "capture",
    )

from django.contrib import admin

from cases.admin import TrackedAdmin

from .models import Citation, Source


@admin.register(Source)
class SourceAdmin(TrackedAdmin):
    list_display = ["title", "kind", "publisher", "published_on", "reliability", "is_restricted", "withdrawn"]
    list_filter = ["kind", "reliability", "is_restricted", "withdrawn"]
    search_fields = ["title", "publisher", "url"]
    readonly_fields = [
        "sha256",
        "file_size",
        "content_type",
        "withdrawn",
        "withdrawn_reason",
        "created_at",
        "updated_at",
    ]


@admin.register(Citation)
class CitationAdmin(TrackedAdmin):
    list_display = ["source", "person", "status_event", "locator", "withdrawn"]
    list_filter = ["withdrawn"]
    search_fields = ["source__title", "person__case_id", "person__name", "locator"]
    autocomplete_fields = ["source", "person", "status_event"]
    list_select_related = ["source", "person", "status_event__person"]
    readonly_fields = ["withdrawn", "withdrawn_reason", "created_at"]

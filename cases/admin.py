from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from .history import save_with_history
from .models import Category, NameVariant, Person, StatusEvent


def admin_reason(form, action: str = "Changed") -> str:
    if not form.instance.pk or not form.has_changed():
        return f"{action} in admin"
    return f"{action} in admin: {', '.join(form.changed_data)}"


class TrackedAdmin(SimpleHistoryAdmin):
    """Admin for tracked models: every save carries a reason; nothing is deleted."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        save_with_history(obj, by=request.user, reason=admin_reason(form, "Changed" if change else "Added"))

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            inline_form.instance._change_reason = admin_reason(inline_form)
        super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request, obj=None):
        return False


class NameVariantInline(admin.TabularInline):
    model = NameVariant
    extra = 1
    fields = ["name", "kind", "is_public", "note"]


@admin.register(Person)
class PersonAdmin(TrackedAdmin):
    list_display = ["case_id", "display_name", "current_status", "status_since", "publication_state", "assigned_to"]
    list_filter = ["current_status", "publication_state", "categories", "reprisal_risk"]
    search_fields = ["case_id", "name", "descriptor", "family_name_native", "given_name_native", "variants__name"]
    readonly_fields = ["case_id", "current_status", "status_since", "last_confirmed", "created_at", "updated_at"]
    autocomplete_fields = ["categories"]
    list_select_related = ["assigned_to"]
    inlines = [NameVariantInline]
    fieldsets = [
        (None, {"fields": ["case_id", "name", "descriptor", ("family_name_native", "given_name_native")]}),
        ("About", {"fields": ["sex", "birth_date", "nationality", "categories", "religion", "external_ref"]}),
        ("Status (from the status events)", {"fields": ["current_status", "status_since", "last_confirmed"]}),
        ("Public summary", {"fields": ["summary"]}),
        ("Restricted", {"fields": ["internal_notes", "assigned_to"]}),
        (
            "Publication",
            {
                "fields": [
                    "publication_state",
                    "publication_basis",
                    ("consent_given_by", "consent_given_on"),
                    "public_interest_reason",
                    ("reprisal_risk", "pseudonym"),
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(StatusEvent)
class StatusEventAdmin(TrackedAdmin):
    list_display = ["person", "status", "date", "confidence", "is_public", "withdrawn", "recorded_at"]
    list_filter = ["status", "confidence", "is_public", "withdrawn"]
    search_fields = ["person__case_id", "person__name", "place", "description"]
    autocomplete_fields = ["person"]
    list_select_related = ["person"]
    fields = ["person", "status", "date", "place", "description", "internal_note", "confidence", "is_public"]
    readonly_fields = ["recorded_by", "recorded_at", "withdrawn", "withdrawn_reason"]

    def get_readonly_fields(self, request, obj=None):
        # An event stays with the person it was recorded for.
        return [*self.readonly_fields, "person"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the one status-change path, so the person's derived fields follow.
        data = {field: form.cleaned_data[field] for field in StatusEvent.CORRECTABLE_FIELDS}
        if change:
            obj.correct(by=request.user, reason=admin_reason(form, "Corrected"), **data)
        else:
            event = obj.person.record_status(by=request.user, reason="Recorded in admin", **data)
            obj.pk, obj.recorded_at = event.pk, event.recorded_at


@admin.register(Category)
class CategoryAdmin(TrackedAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

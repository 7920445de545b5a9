from django.contrib import admin

from .models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that shows records and never adds, changes or deletes them (the audit, published versions)."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit, read-only: nobody edits or deletes it through the application."""

    list_display = ["at", "action", "actor", "username", "ip_address", "target"]
    list_filter = ["action"]
    search_fields = ["username", "target", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["actor"]

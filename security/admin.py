from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit, read-only: nobody edits or deletes it through the application."""

    list_display = ["at", "action", "actor", "username", "ip_address", "target"]
    list_filter = ["action"]
    search_fields = ["username", "target", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

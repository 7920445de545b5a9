"""The security side of the admin: the audit, accounts and roles, authenticator devices."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that shows records and never adds, changes or deletes them (the audit, published versions)."""

    def get_readonly_fields(self, request, obj=None):
        # Every field of the model, and what the admin shows beside them (links, sizes).
        names = [field.name for field in self.model._meta.fields]
        return [*names, *(name for name in self.readonly_fields if name not in names)]

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


# --- Accounts and roles ------------------------------------------------------------------------
#
# An Administrator manages accounts and gives roles; what a role may do is
# defined in workflow/roles.py. Nobody raises their own privileges: only a
# superuser makes superusers, grants individual permissions, changes what a
# role may do or touches a superuser's account, and nobody changes their own
# roles or flags. A field someone may not change is not in their form (or is
# shown read-only), so a forged POST of it is ignored.

SELF_LOCKED_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")
SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


def _is_own_account(request, user) -> bool:
    return user is not None and user.pk == request.user.pk


def _may_touch_account(request, user) -> bool:
    """Only a superuser changes a superuser's account (its password, roles, flags, devices)."""
    return user is None or request.user.is_superuser or not user.is_superuser


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Staff are deactivated, never deleted, so the history keeps its authors."""

    list_display = ["username", "first_name", "last_name", "email", "is_active", "roles"]
    list_filter = ["is_active", "groups"]
    actions = ["deactivate_selected"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The password change page asks this too.
        return super().has_change_permission(request, obj) and _may_touch_account(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field not in SUPERUSER_ONLY_FIELDS]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if _is_own_account(request, obj):
            readonly += [field for field in SELF_LOCKED_FIELDS if field not in readonly]
        return readonly

    @admin.display(description=_("roles"))
    def roles(self, user) -> str:
        return ", ".join(group.name for group in user.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.action(description=_("Deactivate selected accounts"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        # An inactive user's sessions stop working at their next request.
        accounts = queryset.filter(is_active=True).exclude(pk=request.user.pk)
        if not request.user.is_superuser:
            accounts = accounts.exclude(is_superuser=True)
        count = 0
        for user in accounts:
            user.is_active = False
            user.save(update_fields=["is_active"])
            count += 1
        self.message_user(
            request,
            ngettext("Deactivated %(count)d account.", "Deactivated %(count)d accounts.", count) % {"count": count},
        )


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """The roles: an Administrator reads what each may do; only a superuser changes it."""

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly.append("permissions")
        return readonly


# --- Authenticator devices -------------------------------------------------------------------------
#
# django-otp's own admin shows a device's secret key and serves it as a QR
# code: whoever reads it, with the password, signs in as that person. Here a
# device can only be listed and deleted (the reset of a lost phone, audited
# by security/signals.py); it is added by its owner's enrolment at /staff/2fa/.

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed"]
    list_display_links = None
    list_filter = ["confirmed"]
    search_fields = ["user__username", "name"]
    list_select_related = ["user"]
    delete_confirmation_template = "security/totpdevice_delete_confirmation.html"

    def get_urls(self):
        # The list and the deletion only: no add, change, history, config or QR code page.
        info = self.opts.app_label, self.opts.model_name
        return [
            path("", self.admin_site.admin_view(self.changelist_view), name="{}_{}_changelist".format(*info)),
            path(
                "<path:object_id>/delete/",
                self.admin_site.admin_view(self.delete_view),
                name="{}_{}_delete".format(*info),
            ),
        ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _may_touch_account(
            request, obj.user if obj is not None else None
        )

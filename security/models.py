"""The audit of security events: who did what, when, from where. Never a secret."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        LOCKOUT = "lockout", _("Locked out")
        LOGOUT = "logout", _("Signed out")
        OTP_ENROLLED = "otp_enrolled", _("Two-factor device enrolled")
        OTP_VERIFIED = "otp_verified", _("Two-factor check passed")
        OTP_FAILED = "otp_failed", _("Two-factor check failed")
        OTP_RESET = "otp_reset", _("Two-factor device removed")
        ROLE_CHANGED = "role_changed", _("Roles changed")
        ACCOUNT_CHANGED = "account_changed", _("Account changed")
        PUBLISHED = "published", _("Case published")
        WITHDRAWN = "withdrawn", _("Case withdrawn")
        RESTRICTION_CHANGED = "restriction_changed", _("Restriction changed")
        EXPORTED = "exported", _("Data exported")
        DOCUMENT_DOWNLOADED = "document_downloaded", _("Restricted file downloaded")
        PURGED = "purged", _("Record purged")
        MERGED = "merged", _("Records merged")
        MERGE_UNDONE = "merge_undone", _("Merge undone")
        BACKUP = "backup", _("Backup taken")
        RESTORE = "restore", _("Backup restored")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("what"), max_length=30, choices=Action, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The username typed at a failed sign-in, which may belong to nobody.
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("from"), null=True, blank=True)
    target = models.CharField(_("on"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.username or ''} {self.target}".strip()


def staff_languages() -> list[tuple[str, str]]:
    """The languages the staff pages are written in (``STAFF_LANGUAGES``), each named in itself."""
    names = dict(settings.LANGUAGES)
    return [(code, names[code]) for code in settings.STAFF_LANGUAGES]


class StaffPreferences(models.Model):
    """What a staff member chose for themselves: the language of the staff pages."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="staff_preferences"
    )
    language = models.CharField(
        _("language of the staff pages"),
        max_length=8,
        blank=True,
        choices=staff_languages,
        help_text=_("Blank: the language the browser asks for."),
    )

    class Meta:
        verbose_name = _("staff preferences")
        verbose_name_plural = _("staff preferences")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def language_of(cls, user) -> str:
        """The language ``user`` chose for the staff pages ("" when they left it to the browser)."""
        if not user.is_authenticated:
            return ""
        return cls.objects.filter(user=user).values_list("language", flat=True).first() or ""

"""Security events recorded as they happen, whichever code path causes them."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import record
from .models import AuditEvent

User = get_user_model()


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    record(AuditEvent.Action.LOGIN, request=request, actor=user)


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(AuditEvent.Action.LOGOUT, request=request, actor=user)


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    # ``credentials`` holds the password typed: only the username is kept.
    record(AuditEvent.Action.LOGIN_FAILED, request=request, username=str(credentials.get("username", ""))[:150])


@receiver(user_locked_out)
def locked_out(sender, request, username, ip_address, **kwargs):
    record(AuditEvent.Action.LOCKOUT, request=request, username=str(username or "")[:150])


@receiver(m2m_changed, sender=User.groups.through)
def roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from django.contrib.auth.models import Group

    if reverse:  # group.user_set.add(user): the instance is the group
        pairs = [(user, [instance.name]) for user in User.objects.filter(pk__in=pk_set or [])]
    else:
        pairs = [(instance, sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True)))]
    for user, names in pairs:
        record(
            AuditEvent.Action.ROLE_CHANGED,
            target=user.get_username(),
            change=action.removeprefix("post_"),
            roles=names,
        )


@receiver(pre_save, sender=User)
def account_changed(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    before = User.objects.filter(pk=instance.pk).values("is_active", "is_staff", "is_superuser").first()
    if before is None:
        return
    changes = {name: [old, getattr(instance, name)] for name, old in before.items() if getattr(instance, name) != old}
    if changes:
        record(AuditEvent.Action.ACCOUNT_CHANGED, target=instance.get_username(), **changes)


@receiver(post_delete, sender=TOTPDevice)
def device_removed(sender, instance, **kwargs):
    record(AuditEvent.Action.OTP_RESET, target=instance.user.get_username(), device=instance.name)

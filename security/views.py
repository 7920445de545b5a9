"""The second factor: enrol an authenticator app once, then check a code at every sign-in."""

import base64
import hashlib
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from .audit import record
from .models import AuditEvent, StaffPreferences, staff_languages

# The session's own enrolment: the fingerprint of the key this session was shown.
ENROLMENT_SESSION_KEY = "otp_enrolment_device"


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    default = resolve_url(settings.LOGIN_REDIRECT_URL)
    url = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308 (made here from our own URL)


def _fingerprint(device: TOTPDevice) -> str:
    return hashlib.sha256(device.bin_key).hexdigest()


def _enrolment_device(request: HttpRequest) -> TOTPDevice:
    """The user's one unconfirmed device, with the key this session was shown and no other session has seen.

    A key shown to one session is never confirmed from another: whoever once
    opened this page with the password (and so saw a key) holds nothing that
    the real user later confirms. A session that was not shown the current
    key gets a new one, which replaces it: the earlier key is gone, not kept
    beside it. The session keeps a fingerprint of its key, not the key.
    """
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    elif request.session.get(ENROLMENT_SESSION_KEY) != _fingerprint(device):
        device.key = default_key()
        device.throttle_reset(commit=False)
        device.save()
    request.session[ENROLMENT_SESSION_KEY] = _fingerprint(device)
    return device


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # signed in (login_required), with django-otp's is_verified()
    if user.is_verified():
        return redirect(_next_url(request))
    # One enrolment or check of this user at a time: two sessions cannot both
    # start an enrolment or both confirm a device.
    get_user_model().objects.select_for_update().get(pk=user.pk)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = _enrolment_device(request)
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                request.session.pop(ENROLMENT_SESSION_KEY, None)
                record(AuditEvent.Action.OTP_ENROLLED, request=request, target=user.get_username())
            otp_login(request, device)
            record(AuditEvent.Action.OTP_VERIFIED, request=request)
            return redirect(_next_url(request))
        record(AuditEvent.Action.OTP_FAILED, request=request)
        form.add_error(
            "token", gettext("That code is not right. Check the time on your phone and try the newest code.")
        )
    context = {"form": form, "enrolling": enrolling, "next": _next_url(request), "title": _("Two-factor check")}
    if enrolling:
        context.update(
            qr=_qr_svg(device.config_url),
            secret=base64.b32encode(device.bin_key).decode(),
            title=_("Set up two-factor sign-in"),
        )
    return render(request, "security/two_factor.html", context)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the staff pages"), widget=forms.RadioSelect, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("The language my browser asks for")), *staff_languages()]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def language(request: HttpRequest) -> HttpResponse:
    """Choose the language of the staff pages, kept with the account (every device, every sign-in)."""
    form = LanguageForm(request.POST or None, initial={"language": StaffPreferences.language_of(request.user)})
    if form.is_valid():
        chosen = form.cleaned_data["language"]
        StaffPreferences.objects.update_or_create(user=request.user, defaults={"language": chosen})
        return redirect(_next_url(request))
    context = {"form": form, "next": _next_url(request), "title": _("Language")}
    return render(request, "security/language.html", context)

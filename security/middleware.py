"""Staff sessions: staff only, two-factor verified, bounded in time, never cached; cookies never shared."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.views.defaults import permission_denied

from .models import StaffPreferences

STAFF_PREFIXES = ("/admin/", "/staff/")


class StaffSecurityMiddleware:
    """For staff users and staff pages.

    * Every staff URL needs an active staff user: a visitor who is not signed
      in is sent to the sign-in page, and a user who is not staff, or whose
      staff status is taken away in the middle of a session, gets a 403 (the
      sign-in, two-factor and sign-out pages excepted). Each staff view may
      check its own permission; this is the one rule they all share.
    * Every staff URL needs a session that passed the two-factor check
      (``STAFF_2FA_REQUIRED``); an unverified session is sent to the check,
      or to enrolment when the user has no device yet.
    * A staff session ends after ``STAFF_SESSION_MAX_HOURS`` whatever the
      activity (idle sessions end after ``SESSION_COOKIE_AGE``).
    * Staff responses are never stored by a browser or a proxy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.respond(request)
        if request.path_info.startswith(STAFF_PREFIXES):
            # Its redirects too: they name the page asked for.
            response["Cache-Control"] = "no-store, private"
        return response

    def respond(self, request):
        path = request.path_info
        staff_page = path.startswith(STAFF_PREFIXES)
        user = getattr(request, "user", None)
        if staff_page and not self.is_exempt(path) and not self.is_active_staff(user):
            if user is None or not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            # Signed in, but not (or no longer) staff.
            return permission_denied(request, PermissionDenied())
        if user is not None and user.is_authenticated and user.is_staff:
            started = request.session.get("staff_session_started")
            now = time.time()
            if started is None:
                request.session["staff_session_started"] = now
            elif now - started > settings.STAFF_SESSION_MAX_HOURS * 3600:
                logout(request)
                if staff_page:
                    return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}")
                return self.get_response(request)
            # Checked on every request, the first of a session included.
            if staff_page and self.needs_second_factor(request) and not self.is_exempt(path):
                return redirect(f"{reverse('security:two_factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def is_active_staff(user) -> bool:
        return user is not None and user.is_authenticated and user.is_active and user.is_staff

    @staticmethod
    def needs_second_factor(request) -> bool:
        return settings.STAFF_2FA_REQUIRED and not request.user.is_verified()

    @staticmethod
    def is_exempt(path: str) -> bool:
        return path in (reverse("security:two_factor"), reverse("admin:logout"), reverse("admin:login"))


def staff_language(request) -> str:
    """A staff page's language: the account's choice, else the browser's if the staff pages have it, else English."""
    chosen = StaffPreferences.language_of(request.user)
    if chosen in settings.STAFF_LANGUAGES:
        return chosen
    asked = translation.get_language_from_request(request)  # the language cookie, then Accept-Language
    return asked if asked in settings.STAFF_LANGUAGES else settings.LANGUAGE_CODE


class StaffLanguageMiddleware:
    """Staff pages in the language the account chose (``staff_language``).

    Public pages take their language from the address (``/ko/…``, set by
    Django's LocaleMiddleware); staff pages have one address in every
    language, so they follow the person instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(STAFF_PREFIXES):
            translation.activate(staff_language(request))
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class PrivateWhenSettingCookieMiddleware:
    """A response that sets a cookie is for one browser only: ``Cache-Control: private``.

    A public page read by a signed-in person carries their session cookie (the
    session is saved on every request); marked ``public``, a shared cache
    could keep it, cookie included, and hand it to the next reader. Placed
    before the session middleware in ``MIDDLEWARE``, so that on the way out it
    runs after every middleware that adds a cookie (session, CSRF, messages).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.cookies:
            patch_cache_control(response, private=True)
        return response

"""Control characters in what people send: refused before anything reads them.

PostgreSQL can neither store nor compare a text holding NUL, so a NUL in an
address, a parameter, a cookie or an imported cell ended in a server error
as soon as it reached a query (SQLite took it silently). The other C0 control
characters (escape, bell, backspace…) have no place in anything a person
types either. Two rules, kept here:

* addresses, query parameters, cookies and the names of posted fields and
  files hold no C0 control character at all;
* posted values and imported cells are text: they may hold a tab and line
  breaks (a summary of several paragraphs), and no other C0 control
  character.

:class:`ControlCharacterMiddleware` applies them to every request; the
import applies the second to every cell (:mod:`exchange.csv_format`).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, UnreadablePostError
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.template import loader
from django.utils import translation
from django.utils.log import log_response
from django.utils.translation import gettext as _

# The public data answer their errors in their own format, in every language (/ko/api/…): the JSON API and a
# .json file as JSON (README, "JSON API"), the exports and a .csv file as plain text, one reason a line.
API_PREFIX = "/api/"
EXPORT_PREFIX = "/export/"

# Every C0 control character (U+0000 to U+001F).
_CONTROL = re.compile(r"[\x00-\x1f]")
# The same but tab, line feed and carriage return, which text may hold.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def find_control_character(value: str, *, text: bool = False) -> re.Match | None:
    """The first control character ``value`` may not hold, or None.

    ``text`` allows tabs and line breaks (a posted value, an imported cell).
    """
    return (_CONTROL_IN_TEXT if text else _CONTROL).search(value)


# Where the application takes posted forms: the staff pages and the admin (its sign-in included).
POSTED_FORMS_UNDER = ("/admin/", "/staff/")


def find_refused(request) -> tuple[str, str, re.Match] | None:
    """Where ``request`` holds a control character where none may be: (what, its name, the match); else None.

    What is "address", "name" (of a parameter, field or cookie), "cookie"
    or "value" (of the parameter or field named). The contents of uploaded
    files are not looked at.
    """
    if control := find_control_character(request.path):
        return "address", "", control
    for name, values in request.GET.lists():
        if control := find_control_character(name):
            return "name", "", control
        for value in values:
            if control := find_control_character(value):
                return "value", name, control
    for name, value in request.COOKIES.items():
        if control := find_control_character(name) or find_control_character(value):
            return "cookie", "", control
    if not request.path_info.startswith(POSTED_FORMS_UNDER):
        # The public site takes no posted forms (its pages answer GET and HEAD only): reading a body
        # here would parse, and spool to disk, whatever an anonymous client sends.
        return None
    try:
        posted, files = request.POST, request.FILES
    except UnreadablePostError:
        # The client went away while sending: the CSRF check answers that.
        return None
    # Django takes non-printable characters out of uploaded files' own names.
    for name in [*posted, *files]:
        if control := find_control_character(name):
            return "name", "", control
    for name, values in posted.lists():
        for value in values:
            if control := find_control_character(value, text=True):
                return "value", name, control
    return None


def describe(what: str, name: str, control: re.Match) -> str:
    """What :func:`find_refused` found, said for a person."""
    messages = {
        "address": _("The address holds a control character (U+%(code)04X)."),
        "name": _("A parameter's name holds a control character (U+%(code)04X)."),
        "cookie": _("A cookie holds a control character (U+%(code)04X)."),
        "value": _("%(name)s: holds a control character (U+%(code)04X)."),
    }
    return messages[what] % {"name": name, "code": ord(control.group())}


def refused(request, reason: str) -> HttpResponse:
    """The 400 answer, saying what is wrong: the 400 page, or for the public data their own (``{"errors": [...]}``
    for the JSON, plain text for the CSV).

    Rendered without the request's context processors: they would read the
    session, whose key may be the very cookie refused.
    """
    response: HttpResponse
    path = request.path_info
    if language := translation.get_language_from_path(path):
        path = path.removeprefix(f"/{language}")
    if path.startswith(API_PREFIX) or path.endswith(".json"):
        response = JsonResponse({"errors": [reason]}, status=400)
    elif path.startswith(EXPORT_PREFIX) or path.endswith(".csv"):
        response = HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    else:
        context = {"reason": reason, "LANGUAGE_CODE": translation.get_language()}
        response = HttpResponseBadRequest(loader.render_to_string("400.html", context))
    log_response("Bad request (%s): %s", reason, request.path, response=response, request=request)
    return response


class ControlCharacterMiddleware:
    """Answer a request with a control character where none may be with a 400.

    Early in MIDDLEWARE: before the session is loaded (its key comes from a
    cookie) and before any view reads a parameter. The answer goes through
    the clickjacking middleware, which a response from this early on would
    otherwise not pass, and is in the address's language, LocaleMiddleware
    not having run yet.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        found = find_refused(request)
        if found is None:
            return self.get_response(request)
        with translation.override(translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE):
            response = refused(request, describe(*found))
        return XFrameOptionsMiddleware(lambda request: response)(request)

"""The staff import page: upload a CSV file, see what it would do, confirm.

The preview is a dry run: it writes nothing but the file itself, kept in the
database (:class:`exchange.models.ImportPreview`) so that whichever server
receives the confirmation finds it. The page carries a signed token naming
the kept file by its random id; the confirmation takes it only for the user
who uploaded it, within the hour, and once. It checks the file again against
the database as it is then, and imports it or, when something has become
wrong meanwhile, shows the problems.
"""

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from workflow.roles import role_label

from .csv_format import COLUMN_HELP, COLUMNS, REQUIRED_ONE_OF
from .importer import import_cases
from .models import ImportPreview

# Everything an import may write on a person's case; adding a source is
# checked row by row (see import_cases' can_add_sources).
PERMISSIONS = (
    "cases.add_person",
    "cases.change_person",
    "cases.add_namevariant",
    "cases.add_statusevent",
    "cases.add_responsibility",
    "sources.add_citation",
)
SIGNING_SALT = "exchange.import"
PREVIEW_ROWS = 500
SHOWN_PROBLEMS = 500


def may_import(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(PERMISSIONS)


def _check(user) -> None:
    if not may_import(user):
        raise PermissionDenied(_("Importing cases needs a staff account that may add and change cases."))


def _max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8 CSV, one row per person, with a header row (the columns are described below)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > _max_bytes():
            raise forms.ValidationError(
                _("The file is larger than %(megabytes)s MB: split it.") % {"megabytes": _max_bytes() // (1024 * 1024)}
            )
        return upload


def _keep(data: bytes, filename: str, user) -> str:
    """Keep the file until it is confirmed; the token that names it."""
    preview = ImportPreview.objects.keep(data, filename=filename, owner=user)
    return signing.dumps(preview.pk, salt=SIGNING_SALT)


def _kept(token: str, user) -> ImportPreview | None:
    """The kept file the token names, locked, when it is this user's and not expired."""
    try:
        preview_id = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(preview_id, str):
        return None
    return ImportPreview.objects.for_confirmation(preview_id, user)


EXAMPLE = Path(settings.BASE_DIR) / "fixtures" / "example-import.csv"


def _columns() -> list[dict]:
    """The format's columns, each with what it holds, for the table on the page."""
    return [{"name": name, "help": COLUMN_HELP[name], "required": name in REQUIRED_ONE_OF} for name in COLUMNS]


def _context(result, user=None, **extra) -> dict:
    context = {"result": result, "preview_rows": PREVIEW_ROWS, "shown_problems": SHOWN_PROBLEMS, **extra}
    if user is not None:
        # What the signed-in person's role lets an import do: said before they upload.
        context["may_add_sources"] = user.has_perm("sources.add_source")
        context["may_change_withdrawn"] = user.has_perm("cases.withdraw_person")
        context["role_names"] = ", ".join(
            sorted(role_label(name) for name in user.groups.values_list("name", flat=True))
        )
        context["columns"] = _columns()
    if result is not None:
        context["rows"] = result.rows[:PREVIEW_ROWS]
        context["problems"] = result.problems[:SHOWN_PROBLEMS]
    return context


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def upload(request: HttpRequest) -> HttpResponse:
    _check(request.user)
    if request.method == "GET":
        return render(request, "exchange/import.html", _context(None, request.user, form=UploadForm()))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "exchange/import.html", _context(None, request.user, form=form), status=400)
    upload = form.cleaned_data["file"]
    data, filename = upload.read(), Path(upload.name).name
    result = import_cases(
        data,
        filename=filename,
        by=request.user,
        dry_run=True,
        can_add_sources=request.user.has_perm("sources.add_source"),
    )
    if result.problems:
        return render(request, "exchange/import.html", _context(result, request.user, form=UploadForm()), status=400)
    token = _keep(data, filename, request.user)
    return render(request, "exchange/import.html", _context(result, request.user, form=UploadForm(), token=token))


@require_POST
@never_cache
@login_required
def confirm(request: HttpRequest) -> HttpResponse:
    _check(request.user)
    # The kept file stays locked until the import is written and the file deleted: a second
    # confirmation of the same preview (a double click, another server) waits, then finds nothing.
    with transaction.atomic():
        ImportPreview.objects.purge_expired()
        preview = _kept(request.POST.get("token", ""), request.user)
        if preview is None:
            expired = _("This preview has expired or was already imported: upload the file again.")
            return render(
                request,
                "exchange/import.html",
                _context(None, request.user, form=UploadForm(), expired=expired),
                status=400,
            )
        result = import_cases(
            bytes(preview.data),
            filename=preview.filename,
            by=request.user,
            can_add_sources=request.user.has_perm("sources.add_source"),
        )
        if result.problems:
            # Nothing was imported: the preview stays until it expires.
            return render(
                request, "exchange/import.html", _context(result, request.user, form=UploadForm()), status=400
            )
        preview.delete()
    return render(request, "exchange/import_done.html", _context(result))


def _csv_download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@never_cache
@login_required
def template_csv(request: HttpRequest) -> HttpResponse:
    """An empty import file: the header row, to fill in a spreadsheet."""
    _check(request.user)
    # With a byte-order mark, Excel opens the file as UTF-8 and keeps Hangul as typed.
    header = "\ufeff" + ",".join(COLUMNS) + "\r\n"
    return _csv_download(header.encode("utf-8"), "whereabouts-import-template.csv")


@require_safe
@never_cache
@login_required
def example_csv(request: HttpRequest) -> HttpResponse:
    """The bundled example file (fictional persons), as it is in fixtures/."""
    _check(request.user)
    return _csv_download(EXAMPLE.read_bytes(), "example-import.csv")

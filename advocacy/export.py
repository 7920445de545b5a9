"""The staff spreadsheet (CSV) of appeals: every appeal, one a row, for following them up outside the admin.

Values stay machine-readable whatever the reader's language (vocabulary
codes, ISO dates, ``true``/``false``); only the header row is translated.
Cells go through the project's one CSV writer (:func:`cases.spreadsheet.csv_lines`),
so a value that looks like a formula never runs as one.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Field, Max, Prefetch, Q
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cases.models import Person
from cases.partial_dates import PartialDateField
from cases.spreadsheet import csv_lines

from .models import Appeal

CHUNK_SIZE = 1000

COLUMNS = [
    "id",
    "our_reference",
    "their_reference",
    "kind",
    "addressee",
    "country",
    "addressee_name",
    "persons",
    "state",
    "outcome",
    "sent_on",
    "acknowledged_on",
    "transmitted_on",
    "closed_on",
    "reply_count",
    "latest_reply",
    "next_action",
    "next_action_due",
    "is_public",
    "withdrawn",
]
# Columns computed from related rows; every other column is a field of the appeal.
RELATED = ("persons", "reply_count", "latest_reply")
# Headers of their own, for the ID and the related columns; a field's column is headed by its verbose name.
LABELS = {
    "id": gettext_lazy("appeal ID"),
    "persons": gettext_lazy("persons (case IDs)"),
    "reply_count": gettext_lazy("number of replies"),
    "latest_reply": gettext_lazy("latest reply received on"),
}


def may_read_appeals(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("advocacy.view_appeal")


def header() -> list[str]:
    """The header row in the reader's language, read now (the response is written after the view returns)."""
    return [capfirst(str(LABELS.get(name) or _field(name).verbose_name)) for name in COLUMNS]


def _field(name: str) -> Field:
    field = Appeal._meta.get_field(name)
    assert isinstance(field, Field)  # a column of the appeal's own, not a relation's other side
    return field


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # a PartialDate as typed ("2014-10~"), a date in ISO, a country as its code


def rows() -> Iterator[list[str]]:
    """Every appeal, withdrawn ones included, oldest first; a fixed number of queries per thousand appeals."""
    active_replies = Q(replies__withdrawn=False)
    appeals = (
        Appeal.objects.order_by("pk")
        .only(*(name for name in COLUMNS if name not in RELATED))
        .annotate(
            reply_count=Count("replies", filter=active_replies),
            latest_reply=Max("replies__received_on", filter=active_replies, output_field=PartialDateField()),
        )
        .prefetch_related(Prefetch("persons", queryset=Person.objects.only("pk", "case_id").order_by("case_id")))
    )
    for appeal in appeals.iterator(chunk_size=CHUNK_SIZE):
        values = {
            "persons": "; ".join(person.case_id for person in appeal.persons.all()),
            "reply_count": appeal.reply_count,
            "latest_reply": appeal.latest_reply,
        }
        yield [_value(values[name] if name in values else getattr(appeal, name)) for name in COLUMNS]


@require_safe
@never_cache
@login_required
def appeals_csv(request: HttpRequest) -> StreamingHttpResponse:
    if not may_read_appeals(request.user):
        raise PermissionDenied(_("The list of appeals needs a staff account that may read appeals."))
    response = StreamingHttpResponse(csv_lines(header(), rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="whereabouts-appeals.csv"'
    return response

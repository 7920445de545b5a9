"""Display helpers for public records, whose values are stored as plain text."""

from django import template

from cases.partial_dates import PartialDate, display_partial_date
from cases.vocabularies import Confidence, Status
from sources.vocabularies import SourceKind

register = template.Library()


@register.filter
def partial_date(value: str | None) -> str:
    """``"2014-10"`` → "October 2014"; blank → "date unknown"."""
    return display_partial_date(PartialDate.parse(value, allow_future=True) if value else None)


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else ""


@register.filter
def confidence_label(value: str) -> str:
    return str(Confidence(value).label) if value in Confidence.values else ""


@register.filter
def source_kind(value: str) -> str:
    return str(SourceKind(value).label) if value in SourceKind.values else ""

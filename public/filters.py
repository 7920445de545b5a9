"""The public case list's filters: fixed vocabularies and public facilities and authorities, never values from
restricted data."""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Any

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.forms.models import ModelChoiceIterator
from django.http import HttpRequest
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from cases.vocabularies import Category, FacilityKind, Status
from workflow.models import PublishedAuthority, PublishedPlacement
from workflow.places import public_authorities, public_facility_lines

from .caching import cached
from .presenters import text_in

ANY_COUNTRY = _("Any country")
FATES = [("outstanding", _("Outstanding")), ("clarified", _("Fate clarified"))]
SORTS = [
    ("relevance", _("Best match")),
    ("name", _("Name")),
    ("updated", _("Last update")),
    ("date", _("Date of the current status")),
]
ORDERINGS = {
    "name": ["name", "case_id"],
    "updated": ["-published_at", "case_id"],
    "date": ["-status_since_day", "case_id"],
    "relevance": ["case_id"],
}


class PlaceNames:
    """The public facilities' and authorities' names, and the categories, read at most once per request, and once
    per change of the public data when the request is known.

    The filters' choices, the facets and the chips of one list page share it
    (the facets' sub-queries too), so that naming them costs a query each, not
    one per use. Which ones are public is decided by ``workflow.places``.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        self.request = request

    @cached_property
    def facilities(self) -> dict[int, dict]:
        return self._read("facilities", public_facility_lines)

    @cached_property
    def authorities(self) -> dict[int, dict]:
        return self._read("authorities", public_authorities)

    @cached_property
    def categories(self) -> list[Category]:
        """Every category (each is public), in the order of their names."""
        return self._read("categories", lambda: list(Category.objects.all()))

    def _read(self, kind: str, read: Callable[[], Any]) -> Any:
        # Kept for the public data's generation when there is a request: a change to a facility, an authority or
        # a category raises it (workflow.signals).
        return read() if self.request is None else cached(self.request, "places", kind, read)

    def facility_name(self, pk: int | str) -> str:
        return str(text_in(self.facilities[int(pk)], "name"))

    def authority_name(self, pk: int | str) -> str:
        return str(text_in(self.authorities[int(pk)], "name"))


class _Choices(BaseChoiceIterator):
    """Choices read only when a value is checked or the select is drawn (a list without them reads no names)."""

    def __init__(self, ids: Callable[[], dict[int, dict]], name: Callable[[int], str]) -> None:
        self.ids, self.name = ids, name

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter([(str(pk), self.name(pk)) for pk in self.ids()])


class _Fixed(BaseChoiceIterator):
    """Choices that never change, named in the page's language when the select is drawn or a value checked, and
    shared by every form rather than copied with each (as lists, their labels were copied one by one for every
    list page: the 250 countries most of all)."""

    def __init__(self, choices: Iterable[tuple[str, Any]]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.choices)

    def __deepcopy__(self, memo) -> _Fixed:
        return self


def _attributes(attrs: dict) -> str:
    """A widget's attributes as Django's ``widgets/attrs.html`` writes them: in their order, a true one by its
    name alone, a false one left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class _Select(forms.Select):
    """Django's select, written as its templates (``widgets/select.html``, ``select_option.html``) write it, in
    Python: the list's form draws eight of them for every search, and including a template for each option took
    longer than the search itself."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<select name="{conditional_escape(widget["name"])}"{_attributes(widget["attrs"])}>']
        for group, options, _index in widget["optgroups"]:
            if group:
                html.append(f'\n  <optgroup label="{conditional_escape(group)}">')
            html += (
                f'\n  <option value="{conditional_escape(option["value"])}"{_attributes(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"
                for option in options
            )
            if group:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))  # noqa: S308 (each value escaped above)


class _Input:
    """Django's ``widgets/input.html`` in Python, for the same reason as :class:`_Select`."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        written = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
        html = f'<input type="{widget["type"]}" name="{conditional_escape(widget["name"])}"{written}'
        return mark_safe(f"{html}{_attributes(widget['attrs'])}>")  # noqa: S308 (each value escaped above)


class _TextInput(_Input, forms.TextInput):
    pass


class _NumberInput(_Input, forms.NumberInput):
    pass


class _ReadInOneQuery(ModelChoiceIterator):
    """A select's records read in one query: Django reads them through a server-side cursor, three round trips
    on PostgreSQL, each time the select is drawn."""

    def __iter__(self) -> Iterator[tuple]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # The records already read for the page, where its filterset gives them (CaseFilter: the categories).
        records = getattr(self.field, "records", None)
        for record in records() if records is not None else self.queryset.all():
            yield self.choice(record)


class _RecordField(django_filters.fields.ModelChoiceField):
    iterator = _ReadInOneQuery


class _RecordFilter(django_filters.ModelChoiceFilter):
    field_class = _RecordField


class MomentField(forms.Field):
    """A day (2026-12-01, from its start in UTC) or a moment (2026-12-01T09:30:00Z, with its offset), from 1800
    (as the years of the list) and not after now; in UTC."""

    EARLIEST = datetime.datetime(1800, 1, 1, tzinfo=datetime.UTC)
    default_error_messages = {
        "invalid": _(
            "Write a day (2026-12-01) or a moment with its time zone (2026-12-01T09:30:00Z, or "
            "2026-12-01T18:30:00%2B09:00 in an address, where + is written %2B)."
        ),
        "early": _("Write a moment from 1800 on."),
        "future": _("This moment is in the future."),
    }

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        # "+09:00" typed into an address arrives as " 09:00" (a + is a space there): it can mean nothing else.
        value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value)
        try:
            day = parse_date(value) if len(value) == 10 else None
            moment = parse_datetime(value) if day is None else None
            if day is not None:
                moment = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
            if moment is not None and not timezone.is_naive(moment):
                moment = moment.astimezone(datetime.UTC)
        except (ValueError, OverflowError):
            moment = None
        if moment is None or timezone.is_naive(moment):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if moment < self.EARLIEST:
            raise forms.ValidationError(self.error_messages["early"], code="early")
        if moment > timezone.now():
            raise forms.ValidationError(self.error_messages["future"], code="future")
        return moment


class MomentFilter(django_filters.Filter):
    field_class = MomentField


class _Filters(dict):
    """A filterset's filters (``base_filters``), which django-filter deep-copies for each filterset, that is for
    every list page: copied one by one here, each copy sharing what no request changes (labels, choices)."""

    def __deepcopy__(self, memo) -> dict[str, django_filters.Filter]:
        return {name: _copied(filter_) for name, filter_ in self.items()}


def _copied(filter_: django_filters.Filter) -> django_filters.Filter:
    copied = copy.copy(filter_)
    copied.extra = dict(filter_.extra)  # a filter's field may write into it (ModelChoiceFilter)
    if filter_.method is not None:
        copied.method = filter_.method  # a method of this copy's filterset, not of the original's
    return copied


class CaseFilterForm(forms.Form):
    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("year_from"), cleaned_data.get("year_to")
        if start is not None and end is not None and start > end:
            raise forms.ValidationError(_("The year range starts after it ends."))
        return cleaned_data


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Name, in any spelling"), method="no_filter", max_length=200, widget=_TextInput
    )
    # Each select's empty choice says what it gives ("Any status"), never django-filter's "---------".
    status = django_filters.ChoiceFilter(
        label=_("Current status"), choices=_Fixed(Status.choices), empty_label=_("Any status"), widget=_Select
    )
    fate = django_filters.ChoiceFilter(
        label=_("Fate"),
        choices=_Fixed(FATES),
        method="filter_fate",
        empty_label=_("Outstanding or clarified"),
        widget=_Select,
    )
    category = _RecordFilter(
        label=_("Category"),
        queryset=Category.objects.all(),
        to_field_name="slug",
        field_name="categories",
        empty_label=_("Any category"),
        widget=_Select,
    )
    nationality = django_filters.ChoiceFilter(
        label=_("Nationality"), choices=_Fixed(countries), empty_label=ANY_COUNTRY, widget=_Select
    )
    # Where the person was held and by whom: the public facilities and authorities (their choices: __init__).
    facility_kind = django_filters.ChoiceFilter(
        label=_("Kind of facility"),
        choices=_Fixed(FacilityKind.choices),
        method="filter_facility_kind",
        empty_label=_("Any kind of facility"),
        widget=_Select,
    )
    facility = django_filters.ChoiceFilter(
        label=_("Facility"), choices=(), method="filter_facility", empty_label=_("Any facility"), widget=_Select
    )
    authority = django_filters.ChoiceFilter(
        label=_("Authority believed responsible"),
        choices=(),
        method="filter_authority",
        empty_label=_("Any authority"),
        widget=_Select,
    )
    year_from = django_filters.NumberFilter(
        label=_("First event from (year)"),
        field_name="first_event_year",
        lookup_expr="gte",
        min_value=1800,
        widget=_NumberInput,
    )
    year_to = django_filters.NumberFilter(
        label=_("First event until (year)"),
        field_name="first_event_year",
        lookup_expr="lte",
        min_value=1800,
        widget=_NumberInput,
    )
    # For those who mirror the data: the cases published or updated since a day or a moment (ISO 8601).
    updated_since = MomentFilter(label=_("Published or updated since"), method="filter_updated_since")
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=_Fixed(SORTS), method="no_filter", empty_label=None, widget=_Select
    )

    class Meta:
        form = CaseFilterForm
        fields: list[str] = []

    def __init__(self, *args, places: PlaceNames | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.places = places or PlaceNames()
        fields = self.form.fields
        fields["facility"].choices = _Choices(lambda: self.places.facilities, self.places.facility_name)
        fields["authority"].choices = _Choices(lambda: self.places.authorities, self.places.authority_name)
        fields["category"].records = lambda: self.places.categories
        this_year = timezone.localdate().year
        for name in ("year_from", "year_to"):
            self.form.fields[name].max_value = this_year
            self.form.fields[name].validators.append(MaxValueValidator(this_year))

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        return _Filters(super().get_filters())

    def get_form_class(self) -> type[forms.Form]:
        return _form_class(type(self))

    def no_filter(self, queryset, name, value):
        return queryset  # handled by the view (search ranking, ordering)

    def filter_updated_since(self, queryset, name, value):
        # A redaction changes what a version shows without a new publication: it counts as an update.
        return queryset.filter(changed_at__gte=value)

    def filter_fate(self, queryset, name, value):
        return queryset.filter(is_clarified=(value == "clarified"))

    # The cases with a public event at the facility, at a facility of the kind, or an event the authority is
    # believed responsible for: from the index of their current versions (PublishedPlacement, PublishedAuthority).

    def filter_facility(self, queryset, name, value):
        return queryset.filter(pk__in=PublishedPlacement.objects.filter(facility_id=value).values("version_id"))

    def filter_facility_kind(self, queryset, name, value):
        return queryset.filter(pk__in=PublishedPlacement.objects.filter(facility_kind=value).values("version_id"))

    def filter_authority(self, queryset, name, value):
        return queryset.filter(pk__in=PublishedAuthority.objects.filter(authority_id=value).values("version_id"))


_FORMS: dict[type[CaseFilter], type[forms.Form]] = {}


def _form_class(filterset: type[CaseFilter]) -> type[forms.Form]:
    """The filters' form, made once: django-filter makes a new form class, and a new field for each filter, for every
    filterset (every list page). Each form still has its own copies of the fields (``BaseForm.__init__``), which a
    filterset changes (``CaseFilter.__init__``)."""
    if filterset not in _FORMS:
        fields = {name: filter_.field for name, filter_ in copy.deepcopy(filterset.base_filters).items()}
        _FORMS[filterset] = type(f"{filterset.__name__}Form", (filterset._meta.form,), fields)
    return _FORMS[filterset]

"""The public case list's filters: fixed vocabularies only, never values from restricted data."""

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from cases.vocabularies import Category, Status

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


class CaseFilterForm(forms.Form):
    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("year_from"), cleaned_data.get("year_to")
        if start is not None and end is not None and start > end:
            raise forms.ValidationError(_("The year range starts after it ends."))
        return cleaned_data


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, in any spelling"), method="no_filter", max_length=200)
    # Each select's empty choice says what it gives ("Any status"), never django-filter's "---------".
    status = django_filters.ChoiceFilter(label=_("Current status"), choices=Status.choices, empty_label=_("Any status"))
    fate = django_filters.ChoiceFilter(
        label=_("Fate"), choices=FATES, method="filter_fate", empty_label=_("Outstanding or clarified")
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.all(),
        to_field_name="slug",
        field_name="categories",
        empty_label=_("Any category"),
    )
    nationality = django_filters.ChoiceFilter(label=_("Nationality"), choices=countries, empty_label=ANY_COUNTRY)
    year_from = django_filters.NumberFilter(
        label=_("First event from (year)"), field_name="first_event_year", lookup_expr="gte", min_value=1800
    )
    year_to = django_filters.NumberFilter(
        label=_("First event until (year)"), field_name="first_event_year", lookup_expr="lte", min_value=1800
    )
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORTS, method="no_filter", empty_label=None)

    class Meta:
        form = CaseFilterForm
        fields: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        for name in ("year_from", "year_to"):
            self.form.fields[name].max_value = this_year
            self.form.fields[name].validators.append(MaxValueValidator(this_year))

    def no_filter(self, queryset, name, value):
        return queryset  # handled by the view (search ranking, ordering)

    def filter_fate(self, queryset, name, value):
        return queryset.filter(is_clarified=(value == "clarified"))

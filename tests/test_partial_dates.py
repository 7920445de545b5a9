"""Partial dates: parsing, ordering, display, storage, the form field and the model field."""

import datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases.models import Person, StatusEvent
from cases.partial_dates import (
    DAY,
    MONTH,
    YEAR,
    PartialDate,
    PartialDateField,
    PartialDateFormField,
    display_partial_date,
)
from tests.conftest import make_event, make_person


def one_year_ahead() -> datetime.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


# --- Parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014", PartialDate(2014)),
        ("2014-10", PartialDate(2014, 10)),
        ("2014-10-07", PartialDate(2014, 10, 7)),
        ("2014~", PartialDate(2014, approximate=True)),
        ("2014-10~", PartialDate(2014, 10, approximate=True)),
        ("2014-10-07~", PartialDate(2014, 10, 7, approximate=True)),
        ("2014-3-7", PartialDate(2014, 3, 7)),
        ("2014-3", PartialDate(2014, 3)),
        ("  2014-10  ", PartialDate(2014, 10)),
        ("\t2014-10-07~\n", PartialDate(2014, 10, 7, approximate=True)),
        ("1800", PartialDate(1800)),
        ("2024-02-29", PartialDate(2024, 2, 29)),
    ],
)
def test_valid_text_parses_at_its_own_precision(text, expected):
    value = PartialDate.parse(text)

    assert value == expected
    assert value.approximate is expected.approximate


@pytest.mark.parametrize("text", ["", "   ", "\n", None])
def test_blank_means_unknown_and_parses_to_none(text):
    assert PartialDate.parse(text) is None


@pytest.mark.parametrize("text", ["2014-13", "2014-00", "2014-13-01"])
def test_impossible_month_is_refused_with_reason(text):
    with pytest.raises(ValueError, match=r"has no month \d+: months go from 1 to 12"):
        PartialDate.parse(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2014-02-30", "February 2014 has 28 days"),
        ("2023-02-29", "February 2023 has 28 days"),
        ("2014-04-31", "April 2014 has 30 days"),
        ("2014-10-32", "October 2014 has 31 days"),
        ("2014-10-00", "October 2014 has 31 days"),
    ],
)
def test_impossible_day_is_refused_with_reason(text, reason):
    with pytest.raises(ValueError, match="is not a real day") as error:
        PartialDate.parse(text)

    assert text in str(error.value)
    assert reason in str(error.value)


def test_leap_day_is_accepted_in_a_leap_year_only():
    assert PartialDate.parse("2024-02-29") == PartialDate(2024, 2, 29)
    with pytest.raises(ValueError, match="February 2023 has 28 days"):
        PartialDate.parse("2023-02-29")


@pytest.mark.parametrize(
    "text",
    [
        "Octember 2014",
        "abc",
        "14",
        "214",
        "20145",
        "2014/10/07",
        "07-10-2014",
        "2014-10-07T00:00",
        "2014 10",
        "2014-",
        "2014-10-",
        "~2014",
        "2014~~",
        "2014-100",
    ],
)
def test_text_that_is_not_a_date_is_refused_with_a_hint_at_the_format(text):
    with pytest.raises(ValueError, match="is not a date: write a year") as error:
        PartialDate.parse(text)

    message = str(error.value)
    assert text in message
    assert "2014-10-07" in message
    assert "~" in message


@pytest.mark.parametrize("text", ["1799", "1066", "0000", "1799-12-31"])
def test_year_before_1800_is_refused_as_too_early(text):
    with pytest.raises(ValueError, match="is too early: years start at 1800"):
        PartialDate.parse(text)


def test_future_day_is_refused():
    future = one_year_ahead().isoformat()

    with pytest.raises(ValueError, match="is in the future") as error:
        PartialDate.parse(future)

    assert future in str(error.value)


@pytest.mark.parametrize(
    "make_text",
    [
        lambda d: f"{d.year}",
        lambda d: f"{d.year}-{d.month:02d}",
        lambda d: f"{d.year}~",
    ],
)
def test_future_year_or_month_is_refused(make_text):
    with pytest.raises(ValueError, match="is in the future"):
        PartialDate.parse(make_text(one_year_ahead()))


def test_allow_future_accepts_a_future_date():
    future = one_year_ahead()

    value = PartialDate.parse(future.isoformat(), allow_future=True)

    assert value == PartialDate(future.year, future.month, future.day)


def test_today_and_this_year_are_not_in_the_future():
    today = timezone.localdate()

    assert PartialDate.parse(today.isoformat()).first_day == today
    assert PartialDate.parse(str(today.year)) == PartialDate(today.year)
    assert PartialDate.parse(f"{today.year}-{today.month}") == PartialDate(today.year, today.month)


def test_impossible_values_cannot_be_constructed_directly():
    with pytest.raises(ValueError):
        PartialDate(2014, 2, 30)
    with pytest.raises(ValueError):
        PartialDate(2014, 13)
    with pytest.raises(ValueError, match="needs a month"):
        PartialDate(2014, None, 7)


# --- Ordering, precision and first day ---------------------------------------


@pytest.mark.parametrize(
    ("value", "first_day", "precision"),
    [
        (PartialDate(2014), datetime.date(2014, 1, 1), YEAR),
        (PartialDate(2014, 10), datetime.date(2014, 10, 1), MONTH),
        (PartialDate(2014, 10, 7), datetime.date(2014, 10, 7), DAY),
        (PartialDate(2014, 10, approximate=True), datetime.date(2014, 10, 1), MONTH),
    ],
)
def test_first_day_and_precision(value, first_day, precision):
    assert value.first_day == first_day
    assert value.precision == precision


def test_sorting_orders_by_first_day_whatever_the_precision():
    values = [
        PartialDate.parse(text)
        for text in ["2015", "2014-10-07", "2013~", "2014-10-31", "2014-11", "2014-03", "2014-02-28"]
    ]

    assert [str(value) for value in sorted(values)] == [
        "2013~",
        "2014-02-28",
        "2014-03",
        "2014-10-07",
        "2014-10-31",
        "2014-11",
        "2015",
    ]


def test_comparisons_follow_the_first_day():
    assert PartialDate(2014) < PartialDate(2014, 2)
    assert PartialDate(2014, 12, 31) < PartialDate(2015)
    assert PartialDate(2015) > PartialDate(2014, 12)
    assert PartialDate(2014, 10, 7) >= PartialDate(2014, 10)
    assert PartialDate(2014, 10) <= PartialDate(2014, 10)


def test_equality_takes_precision_and_approximation_into_account():
    assert PartialDate(2014, 10) == PartialDate.parse("2014-10")
    assert PartialDate(2014, 10) != PartialDate(2014, 10, 1)
    assert PartialDate(2014) != PartialDate(2014, 1)
    assert PartialDate(2014) != PartialDate(2014, approximate=True)
    assert len({PartialDate(2014), PartialDate.parse("2014"), PartialDate(2014, approximate=True)}) == 2


def test_comparing_with_something_else_is_a_type_error():
    with pytest.raises(TypeError):
        _ = PartialDate(2014) < datetime.date(2014, 1, 1)


# --- Text forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2014", "2014"),
        ("2014-3", "2014-03"),
        ("2014-3-7", "2014-03-07"),
        ("2014-10-07~", "2014-10-07~"),
        (" 2014-10~ ", "2014-10~"),
        ("1800~", "1800~"),
    ],
)
def test_str_is_the_canonical_input_form_and_parses_back(text, canonical):
    value = PartialDate.parse(text)

    assert str(value) == canonical
    assert PartialDate.parse(str(value)) == value


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2014", "2014"),
        ("2014-10", "October 2014"),
        ("2014-10-07", "7 October 2014"),
        ("2014~", "c. 2014"),
        ("2014-10~", "c. October 2014"),
        ("2014-10-07~", "c. 7 October 2014"),
        ("2014-01", "January 2014"),
        ("2014-12-25", "25 December 2014"),
    ],
)
def test_display_shows_the_date_at_its_own_precision(text, shown):
    value = PartialDate.parse(text)

    assert value.display() == shown
    assert display_partial_date(value) == shown


def test_unknown_date_displays_as_date_unknown():
    assert display_partial_date(None) == "date unknown"


# --- Storage ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (PartialDate(2014), "2014-01-01y"),
        (PartialDate(2014, approximate=True), "2014-01-01y~"),
        (PartialDate(2014, 10), "2014-10-01m"),
        (PartialDate(2014, 10, approximate=True), "2014-10-01m~"),
        (PartialDate(2014, 10, 7), "2014-10-07d"),
        (PartialDate(2014, 10, 7, approximate=True), "2014-10-07d~"),
        (PartialDate(2014, 1, 1), "2014-01-01d"),
    ],
)
def test_storage_form_round_trips(value, stored):
    assert value.to_storage() == stored
    restored = PartialDate.from_storage(stored)
    assert restored == value
    assert restored.precision == value.precision
    assert restored.approximate is value.approximate


def test_storage_form_starts_with_the_iso_first_day_so_text_order_is_date_order():
    values = [PartialDate.parse(text) for text in ["2015", "2014-10-07", "2013~", "2014-10", "2014-11-30"]]

    by_text = sorted(values, key=PartialDate.to_storage)

    assert by_text == sorted(values)
    assert all(value.to_storage()[:10] == value.first_day.isoformat() for value in values)


@pytest.mark.parametrize("stored", ["2014", "2014-10-07", "2014-10-07x", "2014-10-7d", "2014-10-07d~~", "", "abc"])
def test_from_storage_refuses_text_that_is_not_a_stored_partial_date(stored):
    with pytest.raises(ValueError, match="is not a stored partial date"):
        PartialDate.from_storage(stored)


# --- Form field ---------------------------------------------------------------


class EventDateForm(forms.Form):
    date = PartialDateFormField(required=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014", PartialDate(2014)),
        ("2014-10~", PartialDate(2014, 10, approximate=True)),
        (" 2014-3-7 ", PartialDate(2014, 3, 7)),
    ],
)
def test_form_field_cleans_valid_input_to_a_partial_date(text, expected):
    field = PartialDateFormField()

    assert field.clean(text) == expected


@pytest.mark.parametrize("text", ["", "   ", None])
def test_optional_form_field_cleans_blank_to_none(text):
    assert PartialDateFormField(required=False).clean(text) is None


def test_required_form_field_refuses_blank():
    with pytest.raises(ValidationError) as error:
        PartialDateFormField().clean("")

    assert error.value.code == "required"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2014-13", "“2014-13” has no month 13: months go from 1 to 12."),
        ("2014-02-30", "“2014-02-30” is not a real day: February 2014 has 28 days."),
        ("1700", "1700 is too early: years start at 1800."),
    ],
)
def test_form_field_error_carries_the_explanation(text, reason):
    with pytest.raises(ValidationError) as error:
        PartialDateFormField(required=False).clean(text)

    assert error.value.messages == [reason]
    assert error.value.code == "invalid"


def test_form_field_refuses_the_future():
    with pytest.raises(ValidationError, match="is in the future"):
        PartialDateFormField().clean(one_year_ahead().isoformat())


def test_form_field_allowing_the_future_accepts_it():
    future = one_year_ahead()

    value = PartialDateFormField(allow_future=True).clean(future.isoformat())

    assert value == PartialDate(future.year, future.month, future.day)


def test_form_with_a_valid_partial_date_is_valid():
    form = EventDateForm(data={"date": "2014-10~"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == PartialDate(2014, 10, approximate=True)


def test_form_with_a_blank_partial_date_is_valid_and_unknown():
    form = EventDateForm(data={"date": ""})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] is None


def test_form_with_an_invalid_partial_date_shows_why():
    form = EventDateForm(data={"date": "Octember 2014"})

    assert not form.is_valid()
    assert len(form.errors["date"]) == 1
    assert "“Octember 2014” is not a date: write a year (2014)" in form.errors["date"][0]


def test_form_shows_an_initial_partial_date_in_its_canonical_form():
    form = EventDateForm(initial={"date": PartialDate(2014, 10, approximate=True)})

    html = str(form["date"])

    assert 'value="2014-10~"' in html
    assert 'placeholder="2014, 2014-10, 2014-10-07, c. 2014"' in html


@pytest.mark.django_db
def test_model_form_saves_a_person_with_a_partial_birth_date():
    # The admin edits persons through a model form like this one.
    form_class = forms.modelform_factory(Person, fields=["name", "birth_date"])
    form = form_class(data={"name": "Kim Cheol-ok", "birth_date": "2014-10~"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["birth_date"] == PartialDate(2014, 10, approximate=True)


@pytest.mark.django_db
def test_model_form_shows_why_a_birth_date_is_refused():
    form_class = forms.modelform_factory(Person, fields=["name", "birth_date"])
    form = form_class(data={"name": "Kim Cheol-ok", "birth_date": "2014-02-30"})

    assert not form.is_valid()
    assert form.errors["birth_date"] == ["“2014-02-30” is not a real day: February 2014 has 28 days."]


def test_model_field_offers_the_partial_date_form_field():
    form_field = Person._meta.get_field("birth_date").formfield()

    assert isinstance(form_field, PartialDateFormField)
    assert form_field.allow_future is False
    assert form_field.required is False


def test_model_field_deconstructs_without_its_fixed_length():
    _name, path, _args, kwargs = PartialDateField(allow_future=True).deconstruct()

    assert path == "cases.partial_dates.PartialDateField"
    assert "max_length" not in kwargs
    assert kwargs["allow_future"] is True


# --- Model field through the database ----------------------------------------


def stored_text(table: str, pk: int, column: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["2014", "2014~", "2014-10", "2014-10~", "2014-10-07", "2014-10-07~", "2014-10-01"])
def test_saved_birth_date_keeps_precision_and_approximation(text):
    person = make_person(birth_date=PartialDate.parse(text))

    reloaded = Person.objects.get(pk=person.pk)

    assert reloaded.birth_date == PartialDate.parse(text)
    assert reloaded.birth_date.precision == PartialDate.parse(text).precision
    assert reloaded.birth_date.approximate is text.endswith("~")
    assert str(reloaded.birth_date) == str(PartialDate.parse(text))


@pytest.mark.django_db
def test_birth_date_is_stored_as_sortable_text():
    person = make_person(birth_date=PartialDate(2014, 10, approximate=True))

    assert stored_text("cases_person", person.pk, "birth_date") == "2014-10-01m~"


@pytest.mark.django_db
def test_unknown_birth_date_is_stored_as_null():
    person = make_person(birth_date=None)

    assert stored_text("cases_person", person.pk, "birth_date") is None
    assert Person.objects.get(pk=person.pk).birth_date is None
    assert list(Person.objects.filter(birth_date__isnull=True, pk=person.pk)) == [person]


@pytest.mark.django_db
def test_status_event_date_keeps_precision_and_approximation():
    person = make_person()
    event = make_event(person, date="2014-10~")

    reloaded = StatusEvent.objects.get(pk=event.pk)

    assert reloaded.date == PartialDate(2014, 10, approximate=True)
    assert stored_text("cases_statusevent", event.pk, "date") == "2014-10-01m~"


@pytest.mark.django_db
def test_status_event_without_a_date_is_stored_as_null():
    event = make_event(make_person(), date=None)

    assert stored_text("cases_statusevent", event.pk, "date") is None
    assert StatusEvent.objects.get(pk=event.pk).date is None


@pytest.mark.django_db
def test_ordering_by_birth_date_orders_by_first_day():
    later = make_person(name="Born 2015", birth_date=PartialDate.parse("2015"))
    day = make_person(name="Born 7 Oct 2014", birth_date=PartialDate.parse("2014-10-07"))
    month = make_person(name="Born Oct 2014", birth_date=PartialDate.parse("2014-10"))
    earlier = make_person(name="Born c. 2013", birth_date=PartialDate.parse("2013~"))

    ordered = list(Person.objects.filter(birth_date__isnull=False).order_by("birth_date"))

    assert ordered == [earlier, month, day, later]
    assert list(Person.objects.filter(birth_date__isnull=False).order_by("-birth_date")) == ordered[::-1]


@pytest.mark.django_db
def test_ordering_status_events_by_date_orders_by_first_day():
    person = make_person()
    events = {text: make_event(person, date=text) for text in ["2016-02", "2014-12-31", "2015~", "2014-03"]}

    ordered = list(person.status_events.order_by("date"))

    assert ordered == [events["2014-03"], events["2014-12-31"], events["2015~"], events["2016-02"]]


@pytest.fixture
def persons_born_around_2014(db):
    texts = ["2013-12-31", "2014", "2014~", "2014-01", "2014-01-01", "2014-06~", "2014-12", "2014-12-31", "2015"]
    return {text: make_person(name=f"Born {text}", birth_date=PartialDate.parse(text)) for text in texts}


def test_range_filter_with_plain_dates_includes_every_precision_of_the_year(persons_born_around_2014):
    found = Person.objects.filter(
        birth_date__gte=datetime.date(2014, 1, 1), birth_date__lt=datetime.date(2015, 1, 1)
    ).order_by("pk")

    in_2014 = [text for text in persons_born_around_2014 if text.startswith("2014")]
    assert list(found) == [persons_born_around_2014[text] for text in in_2014]


def test_gte_filter_with_plain_date_excludes_earlier_dates(persons_born_around_2014):
    found = {p.name for p in Person.objects.filter(birth_date__gte=datetime.date(2015, 1, 1))}

    assert found == {"Born 2015"}


def test_lt_filter_with_plain_date_excludes_the_first_day_itself(persons_born_around_2014):
    found = {p.name for p in Person.objects.filter(birth_date__lt=datetime.date(2014, 1, 1))}

    assert found == {"Born 2013-12-31"}


def test_lte_filter_with_plain_date_includes_that_day(persons_born_around_2014):
    # "Born on or before 31 December 2014" compares first days, so it includes someone born on that day.
    found = {p.name for p in Person.objects.filter(birth_date__lte=datetime.date(2014, 12, 31))}

    assert found == {f"Born {text}" for text in persons_born_around_2014} - {"Born 2015"}


def test_gt_filter_with_plain_date_excludes_dates_starting_that_day(persons_born_around_2014):
    # "Born after 1 January 2014" compares first days, so "2014" (first day 1 January) is not after it.
    found = {p.name for p in Person.objects.filter(birth_date__gt=datetime.date(2014, 1, 1))}

    assert found == {"Born 2014-06~", "Born 2014-12", "Born 2014-12-31", "Born 2015"}


def test_exact_lookup_with_a_partial_date_matches_that_precision_only(persons_born_around_2014):
    assert list(Person.objects.filter(birth_date=PartialDate(2014, 1))) == [persons_born_around_2014["2014-01"]]
    assert list(Person.objects.filter(birth_date=PartialDate(2014))) == [persons_born_around_2014["2014"]]
    assert list(Person.objects.filter(birth_date=PartialDate(2014, approximate=True))) == [
        persons_born_around_2014["2014~"]
    ]
    assert list(Person.objects.filter(birth_date=PartialDate(2014, 1, 1))) == [persons_born_around_2014["2014-01-01"]]
    assert not Person.objects.filter(birth_date=PartialDate(2016)).exists()


def test_exact_lookup_with_input_text_matches_the_partial_date(persons_born_around_2014):
    assert list(Person.objects.filter(birth_date="2014-06~")) == [persons_born_around_2014["2014-06~"]]


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["2014-03-05y", "2014-03-05m", "2014-03-01y", "2014-03-05y~", "2014-03-05m~"])
def test_database_refuses_a_stored_value_whose_precision_disagrees_with_its_day(bad):
    person = make_person(birth_date=PartialDate(2014, 3, 5))

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_person SET birth_date = %s WHERE id = %s", [bad, person.pk])

    assert stored_text("cases_person", person.pk, "birth_date") == "2014-03-05d"


@pytest.mark.django_db
def test_database_refuses_an_inconsistent_status_event_date():
    event = make_event(make_person(), date="2014-03-05")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_statusevent SET date = %s WHERE id = %s", ["2014-03-05m", event.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("good", ["2014-03-01m", "2014-03-01m~", "2014-01-01y", "2014-01-01y~", "2014-03-05d~"])
def test_database_accepts_a_consistent_stored_value(good):
    person = make_person()

    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_person SET birth_date = %s WHERE id = %s", [good, person.pk])

    assert Person.objects.get(pk=person.pk).birth_date == PartialDate.from_storage(good)


@pytest.mark.django_db
def test_full_clean_refuses_a_future_birth_date_on_that_field():
    person = make_person()
    future = one_year_ahead()
    person.birth_date = PartialDate(future.year, future.month, future.day)

    with pytest.raises(ValidationError) as error:
        person.full_clean()

    assert set(error.value.message_dict) == {"birth_date"}
    assert "is in the future" in error.value.message_dict["birth_date"][0]


@pytest.mark.django_db
def test_full_clean_refuses_a_future_year_on_that_field():
    person = make_person()
    person.birth_date = PartialDate(one_year_ahead().year)

    with pytest.raises(ValidationError) as error:
        person.full_clean()

    assert list(error.value.message_dict) == ["birth_date"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [None, PartialDate(2014, 10, approximate=True), "today"])
def test_full_clean_accepts_past_present_and_unknown_birth_dates(value):
    person = make_person()
    if value == "today":
        today = timezone.localdate()
        value = PartialDate(today.year, today.month, today.day)
    person.birth_date = value

    person.full_clean()

    assert person.birth_date == value


@pytest.mark.django_db
def test_full_clean_reads_input_text_into_a_partial_date():
    person = make_person()
    person.birth_date = "2014-3~"

    person.full_clean()

    assert person.birth_date == PartialDate(2014, 3, approximate=True)


@pytest.mark.django_db
def test_full_clean_refuses_an_impossible_date_text_with_reason():
    person = make_person()
    person.birth_date = "2014-02-30"

    with pytest.raises(ValidationError) as error:
        person.full_clean()

    assert "February 2014 has 28 days" in error.value.message_dict["birth_date"][0]


@pytest.mark.django_db
def test_recording_a_status_in_the_future_is_refused_on_the_date():
    person = make_person()
    future = one_year_ahead()

    with pytest.raises(ValidationError) as error:
        person.record_status("detained", by=None, reason="test data", date=PartialDate(future.year, future.month))

    assert "date" in error.value.message_dict
    assert not person.status_events.exists()


def test_range_filter_compares_first_days_and_includes_both_ends(persons_born_around_2014):
    found = {
        p.name
        for p in Person.objects.filter(birth_date__range=(datetime.date(2014, 6, 1), datetime.date(2014, 12, 31)))
    }

    assert found == {"Born 2014-06~", "Born 2014-12", "Born 2014-12-31"}


def test_comparison_with_a_partial_date_uses_its_first_day(persons_born_around_2014):
    found = {p.name for p in Person.objects.filter(birth_date__lte=PartialDate(2014, 1))}

    assert "Born 2014" in found and "Born 2014-12" not in found

"""Partial dates in forms: what the pages display, and what people write, is read back as the same date."""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from cases.models import Person
from cases.partial_dates import PartialDate, PartialDateFormField


class EventDateForm(forms.Form):
    date = PartialDateFormField(required=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("c. 2014", PartialDate(2014, approximate=True)),
        ("circa 2014", PartialDate(2014, approximate=True)),
        ("ca. 2014", PartialDate(2014, approximate=True)),
        ("October 2014", PartialDate(2014, 10)),
        ("october 2014", PartialDate(2014, 10)),
        ("Oct 2014", PartialDate(2014, 10)),
        ("Oct. 2014", PartialDate(2014, 10)),
        ("Sept 2014", PartialDate(2014, 9)),
        ("7 October 2014", PartialDate(2014, 10, 7)),
        ("7 Oct 2014", PartialDate(2014, 10, 7)),
        ("October 7, 2014", PartialDate(2014, 10, 7)),
        ("c. October 2014", PartialDate(2014, 10, approximate=True)),
        ("c. 7 October 2014", PartialDate(2014, 10, 7, approximate=True)),
        ("2014년", PartialDate(2014)),
        ("2014년 10월", PartialDate(2014, 10)),
        ("2014년 10월 7일", PartialDate(2014, 10, 7)),
        ("2014년10월7일", PartialDate(2014, 10, 7)),
        ("2014년경", PartialDate(2014, approximate=True)),
        ("2014년 10월경", PartialDate(2014, 10, approximate=True)),
        ("약 2014년", PartialDate(2014, approximate=True)),
        ("2014年", PartialDate(2014)),
        ("2014年10月", PartialDate(2014, 10)),
        ("2014年10月7日", PartialDate(2014, 10, 7)),
        ("２０１４年１０月", PartialDate(2014, 10)),
        ("2014年頃", PartialDate(2014, approximate=True)),
        ("2014~", PartialDate(2014, approximate=True)),
        ("2014-10", PartialDate(2014, 10)),
        ("2014-10-07", PartialDate(2014, 10, 7)),
        ("  c. 2014  ", PartialDate(2014, approximate=True)),
    ],
)
def test_the_form_accepts_what_people_write(text, expected):
    form = EventDateForm(data={"date": text})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == expected
    assert form.cleaned_data["date"].approximate is expected.approximate


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Octember 2014", "“Octember 2014” is not a date: write a year (2014), a month (2014-10) or a day"),
        ("2014/10/07", "is not a date: write a year (2014)"),
        ("~2014", "is not a date: write a year (2014)"),
        ("c.", "is not a date: write a year (2014)"),
        ("31 February 2014", "“31 February 2014” is not a real day: February 2014 has 28 days."),
        ("2014년 13월", "“2014년 13월” has no month 13: months go from 1 to 12."),
        ("c. 1700", "1700 is too early: years start at 1800."),
    ],
)
def test_bad_input_gets_a_plain_message(text, reason):
    form = EventDateForm(data={"date": text})

    assert not form.is_valid()
    assert len(form.errors["date"]) == 1
    assert reason in form.errors["date"][0]
    assert "Traceback" not in form.errors["date"][0] and "invalid literal" not in form.errors["date"][0]


def test_a_written_future_date_is_refused():
    with pytest.raises(ValidationError, match="is in the future"):
        PartialDateFormField().clean("c. 2999")


def test_the_placeholder_and_help_show_the_partial_forms_not_an_iso_day():
    field = PartialDateFormField()
    html = str(EventDateForm()["date"])

    assert 'placeholder="2014, 2014-10, 2014-10-07, c. 2014"' in html
    assert "YYYY" not in html
    assert "c. 2014" in str(field.help_text) and "2014-10" in str(field.help_text)


def test_the_field_lets_the_longest_written_forms_be_typed():
    # A browser stops typing at maxlength: "c. 7 September 2014" is 19 characters.
    html = str(EventDateForm()["date"])

    assert 'maxlength="40"' in html
    assert EventDateForm(data={"date": "c. 7 September 2014"}).is_valid()


@pytest.mark.django_db
def test_the_person_form_saves_a_birth_date_written_as_displayed():
    form_class = forms.modelform_factory(Person, fields=["name", "birth_date"])
    form = form_class(data={"name": "Kim Cheol-ok", "birth_date": "c. October 1970"})

    assert form.is_valid(), form.errors
    person = form.save()
    person.refresh_from_db()
    assert person.birth_date == PartialDate(1970, 10, approximate=True)


# Every date the pages display reads back as itself --------------------------------------------


@st.composite
def partial_dates(draw):
    year = draw(st.integers(min_value=1800, max_value=2020))
    month = draw(st.none() | st.integers(min_value=1, max_value=12))
    day = None if month is None else draw(st.none() | st.integers(min_value=1, max_value=28))
    return PartialDate(year, month, day, approximate=draw(st.booleans()))


@given(partial_dates(), st.sampled_from(["en", "ko", "ja"]))
def test_every_displayed_date_reads_back_as_itself(value, language):
    with translation.override(language):
        shown = value.display()

        assert PartialDate.parse(shown) == value, shown


@given(partial_dates())
def test_every_canonical_form_reads_back_as_itself(value):
    assert PartialDate.parse(str(value)) == value


@given(partial_dates())
def test_every_korean_and_japanese_written_form_reads_back_as_itself(value):
    korean = f"{value.year}년" + (f" {value.month}월" if value.month else "") + (f" {value.day}일" if value.day else "")
    japanese = f"{value.year}年" + (f"{value.month}月" if value.month else "") + (f"{value.day}日" if value.day else "")
    if value.approximate:
        korean, japanese = korean + "경", japanese + "頃"

    assert PartialDate.parse(korean) == value
    assert PartialDate.parse(japanese) == value


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_a_plain_refusal(text):
    try:
        value = PartialDate.parse(text, allow_future=True)
    except ValueError as error:
        message = str(error)
        assert "invalid literal" not in message and "out of range" not in message, message
    else:
        assert value is None or isinstance(value, PartialDate)

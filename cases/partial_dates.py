"""Partial dates: a year, a month or a day, possibly approximate, or unknown.

Human-rights sources rarely give exact dates ("in January 2024", "around
2014"). A :class:`PartialDate` keeps the precision it was given with, sorts and
filters by its first day, and displays at its own precision.

In the database a partial date is one text column whose value starts with the
ISO first day, so that ordering and range filters work the same on SQLite and
PostgreSQL::

    2014-01-01y     the year 2014
    2014-10-01m~    about October 2014
    2014-10-07d     7 October 2014

Unknown is NULL. To read a first day in SQL: ``CAST(LEFT(col, 10) AS date)``.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass
from functools import total_ordering

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3, MONTHS_AP
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

YEAR, MONTH, DAY = "y", "m", "d"
_ISO = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?")
# "2014년 10월 7일", "2014年10月7日": year, then month, then day, each with its counter.
_CJK = re.compile(r"(?P<year>\d{4})\s*[년年](?:\s*(?P<month>\d{1,2})\s*[월月](?:\s*(?P<day>\d{1,2})\s*[일日])?)?")
# "October 2014", "Oct. 2014", "7 October 2014", "7 Oct, 2014"; "10월 2014" (the Korean page's own display).
_DAY_MONTH_YEAR = re.compile(r"(?:(?P<day>\d{1,2})\.?\s+)?(?P<month>[^\s\d,.]+|\d{1,2}[월月])\.?,?\s+(?P<year>\d{4})")
# "October 7, 2014".
_MONTH_DAY_YEAR = re.compile(r"(?P<month>[^\s\d,.]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})")
# Words that make a date approximate: before it ("c. 2014", "circa 2014", "약 2014년")
# or after it ("2014~", "2014년경", "2014年頃").
_APPROX_BEFORE = re.compile(r"(?:circa|ca\.?|c\.?|about|around|approx\.?|approximately|약|대략|約)\s*", re.IGNORECASE)
_APPROX_AFTER = re.compile(r"\s*(?:~|경|쯤|무렵|頃|ごろ)\Z")
_ENGLISH_MONTHS = "january february march april may june july august september october november december".split()
_STORED = re.compile(r"(\d{4})-(\d{2})-(\d{2})([ymd])(~?)")
MIN_YEAR = 1800


@total_ordering
@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None
    approximate: bool = False

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("A partial date with a day needs a month.")
        # datetime.date raises ValueError for an impossible month or day.
        datetime.date(self.year, self.month or 1, self.day or 1)

    @classmethod
    def parse(cls, text: str, *, allow_future: bool = False) -> PartialDate | None:
        """Read a partial date as people write it, and as the pages display it.

        ``2014``, ``2014-10``, ``2014-10-07``, ending in ``~`` when approximate;
        "October 2014", "Oct 2014", "7 October 2014", "c. 2014", "circa 2014";
        "2014년 10월 7일", "2014년경", "2014年10月". Blank means unknown and gives
        ``None``. Anything else that is not a real date raises ``ValueError``
        with a message a person can act on.
        """
        text = (text or "").strip()
        if not text:
            return None
        parts = _read_parts(text)
        if parts is None:
            raise ValueError(
                _(
                    "“%(value)s” is not a date: write a year (2014), a month (2014-10) or a day (2014-10-07), "
                    "with ~ at the end if approximate."
                )
                % {"value": text}
            )
        year, month, day, approximate = parts
        if year < MIN_YEAR:
            raise ValueError(_("%(year)s is too early: years start at %(min)s.") % {"year": year, "min": MIN_YEAR})
        if month is not None and not 1 <= month <= 12:
            raise ValueError(
                _("“%(value)s” has no month %(month)s: months go from 1 to 12.") % {"value": text, "month": month}
            )
        if day is not None and month is not None:
            last = calendar.monthrange(year, month)[1]
            if not 1 <= day <= last:
                raise ValueError(
                    _("“%(value)s” is not a real day: %(month)s %(year)s has %(last)s days.")
                    % {"value": text, "month": MONTHS[month], "year": year, "last": last}
                )
        value = cls(year, month, day, approximate=approximate)
        if not allow_future and is_in_the_future(value):
            raise ValueError(_("“%(value)s” is in the future.") % {"value": text})
        return value

    @classmethod
    def from_storage(cls, stored: str) -> PartialDate:
        match = _STORED.fullmatch(stored)
        if not match:
            raise ValueError(f"{stored!r} is not a stored partial date.")
        year, month, day, precision, approx = match.groups()
        return cls(
            int(year),
            int(month) if precision in (MONTH, DAY) else None,
            int(day) if precision == DAY else None,
            approximate=bool(approx),
        )

    @property
    def precision(self) -> str:
        if self.day is not None:
            return DAY
        if self.month is not None:
            return MONTH
        return YEAR

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month or 1, self.day or 1)

    def to_storage(self) -> str:
        return f"{self.first_day.isoformat()}{self.precision}{'~' if self.approximate else ''}"

    def __str__(self) -> str:
        """The canonical input form, e.g. ``2014-10~``."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text + ("~" if self.approximate else "")

    def display(self) -> str:
        """At its own precision, in the active language.

        "2014", "October 2014", "7 October 2014", "c. 2014"; in Korean "2014년",
        "2014년 10월", "2014년 10월 7일", "2014년경"; in Japanese "2014年",
        "2014年10月", "2014年10月7日", "2014年頃". The order of the parts is
        the translation's (locale/*/LC_MESSAGES/django.po), the month's name
        Django's own.
        """
        wording = _wording(get_language())
        parts = {"year": self.year, "month": wording.months[self.month] if self.month else "", "day": self.day}
        if self.day is not None:
            text = wording.day % parts
        elif self.month is not None:
            text = wording.month % parts
        else:
            text = wording.year % parts
        return wording.approximate % {"date": text} if self.approximate else text

    def _key(self) -> tuple:
        return (self.first_day, self.precision, self.approximate)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() < other._key()


@dataclass(frozen=True)
class _Wording:
    """How a language writes a partial date: its months' names and the order of the parts."""

    months: dict[int, str]
    day: str
    month: str
    year: str
    approximate: str


@functools.cache
def _wording(language: str | None) -> _Wording:
    """The active language's wording (``language``: its code, the cache's key), looked up once per process: a
    list of cases displays a date on every row."""
    return _Wording(
        months={number: str(name) for number, name in MONTHS.items()},
        day=pgettext("partial date", "%(day)s %(month)s %(year)s"),
        month=pgettext("partial date", "%(month)s %(year)s"),
        year=pgettext("partial date", "%(year)s"),
        approximate=pgettext("partial date", "c. %(date)s"),
    )


def _read_parts(text: str) -> tuple[int, int | None, int | None, bool] | None:
    """Year, month, day and approximation of a written date, unchecked; ``None`` if it is not one."""
    # Full-width digits and spaces (２０１４年) read as the ASCII ones.
    text = unicodedata.normalize("NFKC", text).strip()
    approximate = False
    if before := _APPROX_BEFORE.match(text):
        approximate, text = True, text[before.end() :]
    if after := _APPROX_AFTER.search(text):
        approximate, text = True, text[: after.start()]
    for pattern in (_ISO, _CJK, _DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        month = match["month"]
        number = (int(month) if month.isdecimal() else _month_number(month)) if month else None
        if month and number is None:
            return None
        return int(match["year"]), number, int(match["day"]) if match["day"] else None, approximate
    return None


def _month_number(name: str) -> int | None:
    """The month a name stands for: in English, in the page's language, or as "10월", "10月"."""
    name = name.casefold().rstrip(".")
    if counted := re.fullmatch(r"(\d{1,2})[월月]", name):
        return int(counted.group(1))
    for number, english in enumerate(_ENGLISH_MONTHS, start=1):
        if name in (english, english[:3]) or (number == 9 and name == "sept"):
            return number
    for names in (MONTHS, MONTHS_3, MONTHS_AP):
        for number, translated in names.items():
            if name == str(translated).casefold().rstrip("."):
                return number
    return None


def is_in_the_future(value: PartialDate | datetime.date) -> bool:
    """Whether ``value`` starts after today: a partial date by its first day ("2014" starts on 1 January)."""
    first_day = value.first_day if isinstance(value, PartialDate) else value
    return first_day > timezone.localdate()


def not_in_the_future(value: PartialDate | datetime.date | None) -> None:
    """Refuse a date that cannot be in the future: a birth, an event, a publication, a visit to a source.

    The validator of every such field, partial dates and plain dates alike, so
    that the admin's forms, the import and ``full_clean()`` refuse it with the
    same message.
    """
    if value is not None and is_in_the_future(value):
        raise ValidationError(_("“%(value)s” is in the future.") % {"value": value}, code="future")


def display_partial_date(value: PartialDate | None) -> str:
    return value.display() if value is not None else _("date unknown")


class PartialDateFormField(forms.CharField):
    default_error_messages = {"invalid": "%(message)s"}

    def __init__(self, *, allow_future: bool = False, **kwargs) -> None:
        self.allow_future = allow_future
        # Room for what people write ("c. 7 September 2014"); the stored text is always 12 characters or fewer.
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "A year, a month or a day: 2014, 2014-10 (or October 2014), 2014-10-07; "
                "c. 2014 or 2014~ if approximate; blank if unknown."
            ),
        )
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]
        self.widget.attrs.setdefault("placeholder", gettext_lazy("2014, 2014-10, 2014-10-07, c. 2014"))

    def prepare_value(self, value):
        return str(value) if isinstance(value, PartialDate) else value

    def to_python(self, value):
        if isinstance(value, PartialDate):
            return value
        try:
            return PartialDate.parse(value, allow_future=self.allow_future)
        except ValueError as error:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"message": str(error)}
            ) from None


class PartialDateField(models.CharField):
    """A model field holding a :class:`PartialDate`, or NULL when unknown."""

    # What the type checker (django-stubs) reads and writes through the field.
    _pyi_private_set_type: PartialDate | str | None  # type: ignore[assignment]
    _pyi_private_get_type: PartialDate | None  # type: ignore[assignment]

    description = gettext_lazy("Partial date (year, month or day; possibly approximate)")

    def __init__(self, *args, allow_future: bool = False, **kwargs) -> None:
        self.allow_future = allow_future
        kwargs["max_length"] = 12
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)
        # The length limit applies to the stored text, not to the value.
        self.validators[:] = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"]
        if self.allow_future:
            kwargs["allow_future"] = True
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return None if value is None else PartialDate.from_storage(value)

    def to_python(self, value):
        if value is None or isinstance(value, PartialDate):
            return value
        if isinstance(value, datetime.date):
            return PartialDate(value.year, value.month, value.day)
        try:
            if _STORED.fullmatch(value):
                return PartialDate.from_storage(value)
            return PartialDate.parse(value, allow_future=True)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None

    def validate(self, value, model_instance) -> None:
        super().validate(value, model_instance)
        if not self.allow_future:
            not_in_the_future(value)

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, PartialDate):
            return value.to_storage()
        return self.to_python(value).to_storage()

    def value_to_string(self, obj) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PartialDateFormField, "allow_future": self.allow_future, **kwargs})


class _FirstDayComparison:
    """Compare a partial date by its first day, whatever either side's precision.

    The stored text starts with the first day, so "on or before D" must also
    take every suffix of D (``2014-10-07d~`` <= ``2014-10-07~``), and "before
    D" none of them (``2014-10-07`` sorts before every suffix).
    """

    after_every_suffix = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            return super().get_prep_lookup()
        return _first_day_text(self.rhs, after_every_suffix=self.after_every_suffix)


@PartialDateField.register_lookup
class PartialDateLessThan(_FirstDayComparison, models.lookups.LessThan):
    pass


@PartialDateField.register_lookup
class PartialDateGreaterThanOrEqual(_FirstDayComparison, models.lookups.GreaterThanOrEqual):
    pass


@PartialDateField.register_lookup
class PartialDateLessThanOrEqual(_FirstDayComparison, models.lookups.LessThanOrEqual):
    after_every_suffix = True


@PartialDateField.register_lookup
class PartialDateGreaterThan(_FirstDayComparison, models.lookups.GreaterThan):
    after_every_suffix = True


@PartialDateField.register_lookup
class PartialDateRange(models.lookups.Range):
    """``date__range=(start, end)``: first day from ``start`` to ``end``, both included."""

    def get_prep_lookup(self):
        start, end = self.rhs
        return [_first_day_text(start, after_every_suffix=False), _first_day_text(end, after_every_suffix=True)]


def _first_day_text(value, *, after_every_suffix: bool) -> str:
    if isinstance(value, PartialDate):
        value = value.first_day
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        raise TypeError(f"Compare a partial date with a date or a PartialDate, not {value!r}.")
    return value.isoformat() + ("~" if after_every_suffix else "")


def partial_date_check(field: str, model: str) -> models.CheckConstraint:
    """A constraint that the stored precision agrees with the stored first day."""
    shapes = Q()
    for suffix in ("d", "-01m", "-01-01y"):
        shapes |= Q(**{f"{field}__endswith": suffix}) | Q(**{f"{field}__endswith": suffix + "~"})
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | shapes,
        name=f"{model}_{field}_precision_matches_date",
    )

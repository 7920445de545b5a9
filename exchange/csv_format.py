"""The exchange format: one person a row, in a UTF-8 CSV file with a header row.

This module knows the columns and reads a file into rows of plain, checked
values, each with the line it starts on. It reports every problem it can see
without the database; what needs the database (does the case exist, is the
category known, would the person be a duplicate) is checked by
:mod:`exchange.importer`. The README's "Importing and exporting cases"
documents the format for the people who fill the spreadsheets.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from cases.models import Authority, Confidence, Facility, NameVariant, Person, Sex, Status, StatusEvent
from cases.partial_dates import PartialDate
from cases.spreadsheet import unneutralise
from security.input import find_control_character
from sources.models import Citation, Source

COLUMNS = (
    "case_id",
    "external_ref",
    "name",
    "name_native",
    "other_names",
    "descriptor",
    "sex",
    "birth_date",
    "nationality",
    "categories",
    "religion",
    "summary",
    "internal_notes",
    "status",
    "status_date",
    "status_place",
    "status_confidence",
    "source_title",
    "source_url",
    "source_publisher",
    "source_date",
    "source_locator",
    # Added with facilities: after the older columns, so that a file laid out for those still reads the same.
    "status_facility",
    "status_responsible",
)
# What each column holds, for the people who fill the spreadsheets: the import page shows it as a table.
COLUMN_HELP = {
    "case_id": gettext_lazy("An existing case to update (KP-0001); blank for a new case."),
    "external_ref": gettext_lazy(
        "Your own reference, unique; matches rows to cases on a later import when there is no case_id."
    ),
    "name": gettext_lazy("The primary romanized name, family name first."),
    "name_native": gettext_lazy("The name in Korean script (split into family and given name)."),
    "other_names": gettext_lazy("Other spellings, separated by ;"),
    "descriptor": gettext_lazy("For an unnamed person: who they are (“Teenage boy, sentenced January 2024”)."),
    "sex": gettext_lazy("female, male, other or unknown."),
    "birth_date": gettext_lazy("A partial date: 1970, 1970-05, 1970-05-02; 1970~ or c. 1970 if approximate."),
    "nationality": gettext_lazy("A two-letter ISO 3166-1 country code (KP)."),
    "categories": gettext_lazy("Category names or slugs, separated by ;"),
    "religion": gettext_lazy("Religion or belief."),
    "summary": gettext_lazy("The public summary (public once the case is published)."),
    "internal_notes": gettext_lazy("Restricted notes: never public."),
    "status": gettext_lazy("A status (arrested, Forcibly repatriated…): recorded as a new status change."),
    "status_date": gettext_lazy("When the status change happened, as a partial date."),
    "status_place": gettext_lazy("Where it happened."),
    "status_confidence": gettext_lazy("confirmed, likely, possible or unverified."),
    "status_facility": gettext_lazy(
        "The facility where it happened or where the person is held: any of its names or spellings (Yodok, 요덕)."
    ),
    "status_responsible": gettext_lazy(
        "The authorities believed responsible, separated by ;, each with its confidence in brackets: "
        "Ministry of State Security (likely); Ministry of Social Security (possible). Without one: unverified."
    ),
    "source_title": gettext_lazy("The source behind the status: matched to an existing source by URL, else by title."),
    "source_url": gettext_lazy("The source's web address (http:// or https://)."),
    "source_publisher": gettext_lazy("Who published the source (for a new source)."),
    "source_date": gettext_lazy("When the source was published, as a partial date (for a new source)."),
    "source_locator": gettext_lazy("Where in the source (p. 12, para. 354)."),
}
REQUIRED_ONE_OF = ("name", "descriptor")
STATUS_DETAILS = ("status_date", "status_place", "status_confidence", "status_facility", "status_responsible")
SOURCE_DETAILS = ("source_publisher", "source_date", "source_locator")
SEPARATOR = ";"

# A spreadsheet runs a cell starting with one of these as a formula; exports
# put a ' in front, and the importer takes that one ' away again.

# Korean family names of two syllables, in Hangul and in Hanja. Every other
# family name is one syllable: 김철옥 is 김 + 철옥, 남궁민 is 남궁 + 민.
TWO_SYLLABLE_FAMILY_NAMES = frozenset(
    "남궁 황보 제갈 선우 독고 사공 서문 동방 어금 망절 장곡 "
    "南宮 皇甫 諸葛 鮮于 獨孤 司空 西門 東方 魚金 網切 長谷".split()
)


@dataclass(frozen=True, order=True)
class Problem:
    """Why a file cannot be imported: where (line and column) and what to do about it."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        values = {"line": self.line, "column": self.column, "message": self.message}
        if self.column:
            return _("line %(line)s, %(column)s: %(message)s") % values
        return _("line %(line)s: %(message)s") % values


@dataclass
class Row:
    """One person's row: the line it starts on, and its non-blank cells as checked values.

    A blank cell is left out of ``values``: on an existing case it leaves the
    value as it is.
    """

    line: int
    values: dict[str, object] = field(default_factory=dict)
    # Columns with a non-blank cell, whether or not its value could be read.
    filled: set[str] = field(default_factory=set)

    def get(self, column: str, default=None):
        return self.values.get(column, default)


# Reading values ---------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


@cache
def _vocabulary(choices: type[models.TextChoices]) -> dict[str, str]:
    """Each value's key and English label, folded, mapped to the key."""
    with translation.override("en"):
        return {_fold(text): value for value, label in choices.choices for text in (value, str(label))}


StrOrPromise = str | Promise


def _choice(choices: type[models.TextChoices], unknown: StrOrPromise) -> Callable[[str], str]:
    """A parser of one vocabulary; ``unknown`` is the problem's message, with ``%(text)s`` and ``%(keys)s``."""

    def parse(text: str) -> str:
        try:
            return _vocabulary(choices)[_fold(text)]
        except KeyError:
            raise ValueError(str(unknown) % {"text": text, "keys": ", ".join(choices.values)}) from None

    return parse


def _text(model, field_name: str) -> Callable[[str], str]:
    limit = model._meta.get_field(field_name).max_length

    def parse(text: str) -> str:
        if limit is not None and len(text) > limit:
            raise ValueError(
                _("is %(length)s characters long; at most %(limit)s fit.") % {"length": len(text), "limit": limit}
            )
        return text

    return parse


def _date(text: str) -> PartialDate | None:
    return PartialDate.parse(text)


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries)


def _country(text: str) -> str:
    code = text.upper()
    if code not in _country_codes():
        raise ValueError(
            _("“%(value)s” is not an ISO 3166-1 two-letter country code (such as KP, KR or CN).") % {"value": text}
        )
    return code


def _url(text: str) -> str:
    _text(Source, "url")(text)
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        raise ValueError(_("“%(value)s” is not a web address (http:// or https://).") % {"value": text}) from None
    return text


def _list(text: str) -> list[str]:
    items, seen = [], set()
    for item in text.split(SEPARATOR):
        item = unicodedata.normalize("NFC", item.strip())
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


def _other_names(text: str) -> list[str]:
    names = _list(text)
    check = _text(NameVariant, "name")
    for name in names:
        try:
            check(name)
        except ValueError as error:
            raise ValueError(_("“%(name)s…” %(problem)s") % {"name": name[:40], "problem": error}) from None
    return names


# An authority believed responsible, its confidence in brackets at the end: "Ministry of State Security (likely)".
_WITH_CONFIDENCE = re.compile(r"(?P<name>.*?)\s*\((?P<confidence>[^()]*)\)")


def _confidence_in_brackets(text: str) -> tuple[str, str] | None:
    """(the name, the confidence) when ``text`` ends with a confidence in brackets, else None."""
    match = _WITH_CONFIDENCE.fullmatch(text)
    confidence = match and _vocabulary(Confidence).get(_fold(match["confidence"]))
    return (match["name"].strip(), confidence) if match and confidence else None


def responsible_cell(held: Iterable[tuple[str, str]]) -> str:
    """The cell of the authorities believed responsible, as :func:`_responsible` reads it back."""
    return f"{SEPARATOR} ".join(f"{name} ({confidence})" for name, confidence in held)


def _responsible(text: str) -> list[tuple[str, str]]:
    """(authority name, confidence) of each authority of a cell such as
    "Ministry of State Security (likely); Provincial security bureau (possible)".

    The confidence, a value or an English label, is in brackets at the end of
    each; without one, it is unverified. Brackets holding something else are
    part of the name ("Ministry of People's Security (former name)").
    """
    held: list[tuple[str, str]] = []
    seen: set[str] = set()
    check = _text(Authority, "name")
    for item in _list(text):
        if item.count("(") != item.count(")"):
            raise ValueError(_("“%(item)s” has a bracket that is not closed.") % {"item": item})
        name, confidence = _confidence_in_brackets(item) or (item, Confidence.UNVERIFIED)
        if not name:
            raise ValueError(
                _("“%(item)s” names no authority: write the authority's name before its confidence.") % {"item": item}
            )
        if _confidence_in_brackets(name):
            raise ValueError(_("“%(item)s” gives two confidences: give one.") % {"item": item})
        try:
            check(name)
        except ValueError as error:
            raise ValueError(_("“%(name)s…” %(problem)s") % {"name": name[:40], "problem": error}) from None
        if name.casefold() in seen:
            raise ValueError(
                _("“%(name)s” is named twice: give each authority once, with one confidence.") % {"name": name}
            )
        seen.add(name.casefold())
        held.append((name, confidence))
    return held


def _case_id(text: str) -> str:
    return _text(Person, "case_id")(text.upper())


def split_native_name(text: str) -> tuple[str, str]:
    """(family name, given name) of a name in native script, composed (NFC).

    Family name first. A space separates the parts when there is one; else
    Hangul and Hanja are split after the family name (one syllable, or two
    for 남궁, 황보…), and other scripts are kept whole as the given name.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if " " in text:
        family, given = text.split(None, 1)
        return family, given
    if not all(_is_cjk(char) for char in text):
        return "", text
    cut = 2 if text[:2] in TWO_SYLLABLE_FAMILY_NAMES and len(text) > 2 else 1
    return text[:cut], text[cut:]


def join_native_name(family: str, given: str) -> str:
    """The native name as one cell: without a space when reading it back splits it the same way."""
    joined = f"{family}{given}"
    if split_native_name(joined) == (family, given):
        return joined
    return f"{family} {given}"


def _is_cjk(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3" or "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _native_name(text: str) -> tuple[str, str]:
    family, given = split_native_name(text)
    _text(Person, "family_name_native")(family)
    _text(Person, "given_name_native")(given)
    return family, given


def _parsers() -> dict[str, Callable[[str], object]]:
    # Dates and addresses repeat from row to row, and checking them is the slow part of reading.
    date, url = cache(_date), cache(_url)
    return {
        "case_id": _case_id,
        "external_ref": _text(Person, "external_ref"),
        "name": _text(Person, "name"),
        "name_native": _native_name,
        "other_names": _other_names,
        "descriptor": _text(Person, "descriptor"),
        "sex": _choice(Sex, gettext_lazy("unknown sex “%(text)s”: use one of %(keys)s, or its label.")),
        "birth_date": date,
        "nationality": _country,
        "categories": _list,
        "religion": _text(Person, "religion"),
        "summary": str,
        "internal_notes": str,
        "status": _choice(Status, gettext_lazy("unknown status “%(text)s”: use one of %(keys)s, or its label.")),
        "status_date": date,
        "status_place": _text(StatusEvent, "place"),
        "status_confidence": _choice(
            Confidence, gettext_lazy("unknown confidence “%(text)s”: use one of %(keys)s, or its label.")
        ),
        "status_facility": _text(Facility, "name"),
        "status_responsible": _responsible,
        "source_title": _text(Source, "title"),
        "source_url": url,
        "source_publisher": _text(Source, "publisher"),
        "source_date": date,
        "source_locator": _text(Citation, "locator"),
    }


# Cells -----------------------------------------------------------------------


# Files -----------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, list[Problem]]:
    """The text of the file: UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return "", [
            Problem(
                line,
                "",
                _("the file is not UTF-8 (byte 0x%(byte)02x): in Excel, save it as “CSV UTF-8 (comma delimited)”.")
                % {"byte": data[error.start]},
            )
        ]


def read(data: bytes) -> tuple[list[Row], list[Problem]]:
    """The rows of a CSV file, checked one by one, and every problem found."""
    text, problems = decode(data)
    if problems:
        return [], problems
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    header: list[str] | None = None
    parsers = _parsers()
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, problems = _read_header(cells, start)
                if problems:
                    return [], problems
                continue
            row, row_problems = _read_row(header, cells, start, parsers)
            rows.append(row)
            problems.extend(row_problems)
    except csv.Error as error:
        problems.append(
            Problem(reader.line_num, "", _("the file cannot be read as CSV: %(error)s.") % {"error": error})
        )
    if header is None and not problems:
        problems.append(Problem(1, "", _("the file is empty: it needs a header row naming the columns.")))
    return rows, sorted(problems)


def _read_header(cells: list[str], line: int) -> tuple[list[str], list[Problem]]:
    header = [cell.strip().casefold() for cell in cells]
    problems = []
    for index, name in enumerate(header):
        if name and name not in COLUMNS:
            message = _("unknown column; the columns are %(columns)s.") % {"columns": ", ".join(COLUMNS)}
            problems.append(Problem(line, name, message))
        elif name in header[:index]:
            problems.append(Problem(line, name, _("this column appears twice.")))
    if "name" not in header and "descriptor" not in header:
        problems.append(Problem(line, "", _("the header needs a name column, a descriptor column, or both.")))
    return header, problems


def _read_row(
    header: list[str], cells: list[str], line: int, parsers: dict[str, Callable[[str], object]]
) -> tuple[Row, list[Problem]]:
    row, problems = Row(line), []
    extra = [cell for cell in cells[len(header) :] if cell.strip()]
    if extra:
        message = _("this line has %(cells)s cells but the header names only %(columns)s columns.") % {
            "cells": len(cells),
            "columns": len(header),
        }
        problems.append(Problem(line, "", message))
    filled = row.filled
    for name, cell in zip(header, cells, strict=False):
        if not name:
            continue
        text = unneutralise(cell).strip()
        control = find_control_character(cell, text=True)
        if control:
            # Never read further: a NUL would reach the database (PostgreSQL refuses it in any text).
            filled.add(name)
            problems.append(Problem(line, name, _control_character(control)))
            continue
        if not text:
            continue
        filled.add(name)
        try:
            row.values[name] = parsers[name](text)
        except ValueError as error:
            problems.append(Problem(line, name, str(error)))
    problems.extend(_missing_parts(filled, line))
    return row, problems


def _control_character(control) -> str:
    return _("holds the control character U+%(code)04X at character %(position)s: remove it.") % {
        "code": ord(control.group()),
        "position": control.start() + 1,
    }


def _missing_parts(filled: set[str], line: int) -> Iterable[Problem]:
    """Details given without what they describe (a status, a source)."""
    for column in STATUS_DETAILS:
        if column in filled and "status" not in filled:
            yield Problem(line, column, _("is given without a status: fill the status column too."))
    if "source_title" not in filled and "source_url" not in filled:
        for column in SOURCE_DETAILS:
            if column in filled:
                yield Problem(line, column, _("is given without a source: fill source_title or source_url too."))

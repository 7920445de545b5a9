"""The data dictionary and the licence file of a data release: what a researcher reads before the data.

Written in English, like the columns' names, from the tables' own
definitions (public/release_tables.py), so that the dictionary and the
schemas cannot disagree. Enough to load the files in a spreadsheet or with
pandas without anything else.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import TextChoices

from .release_tables import (
    CASES,
    CHECKSUMS_NAME,
    DICTIONARY_NAME,
    JSONL_NAME,
    LICENSE_NAME,
    PACKAGE_DESCRIPTOR,
    TABLES,
    Table,
    citation,
    licence,
    zip_name,
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _vocabulary(choices: type[TextChoices]) -> list[str]:
    return [f"- `{value}`: {label}" for value, label in choices.choices if value]


def _table_section(table: Table, rows: int) -> list[str]:
    lines = [
        f"### {table.filename}",
        "",
        f"{table.title}: {table.row}. {rows} rows in this release.",
        "",
        f"Key: {', '.join(f'`{name}`' for name in table.primary_key) or 'none (a name may repeat)'}."
        + (
            " Links: "
            + "; ".join(f"`{field}` → {resource}.csv `{other}`" for field, resource, other in table.foreign_keys)
            + "."
            if table.foreign_keys
            else ""
        ),
        "",
        "| column | type | meaning | values |",
        "|---|---|---|---|",
    ]
    for column in table.columns:
        values = []
        if column.vocabulary is not None:
            values.append(f"see “{column.vocabulary.__name__}” below")
        if column.pattern:
            values.append(f"pattern `{column.pattern}`")
        if column.required:
            values.append("always given")
        if column.unique:
            values.append("unique")
        lines.append(f"| `{column.name}` | {column.datatype} | {_cell(column.description)} | {'; '.join(values)} |")
    return [*lines, ""]


def data_dictionary(number: int, built: datetime.datetime, rows: dict[str, int], categories: dict[str, str]) -> str:
    """The data dictionary of release ``number`` (Markdown): files, columns, vocabularies, what is left out."""
    vocabularies = {
        column.vocabulary.__name__: column.vocabulary
        for table in TABLES
        for column in table.columns
        if column.vocabulary is not None
    }
    lines = [
        f"# Whereabouts data release {number}: data dictionary",
        "",
        f"Built on {built.day} {built:%B %Y at %H:%M} UTC from the cases published on the Whereabouts public site "
        f"at that moment: {rows[CASES.name]} cases. It holds what the public case pages showed then, and nothing else.",
        "",
        f"Licence: {licence()['title']} ({licence()['path']}). Cite it as:",
        "",
        f"> {citation(number, built.date())}",
        "",
        "## The files",
        "",
        "- " + ", ".join(f"`{table.filename}`" for table in TABLES) + ": the tables described below (CSV, UTF-8, "
        "comma-separated, a header row, values with commas or quotes in double quotes). Each row of every table "
        "but sources.csv names its case by `case_id`.",
        f"- `{JSONL_NAME}`: every case as published, one JSON record a line, with the address of its page "
        "(`url`): the same data as the tables, in the shape of the site's JSON API (/api/cases/).",
        f"- `{PACKAGE_DESCRIPTOR}`: the Frictionless data package descriptor (https://specs.frictionlessdata.io/): "
        "each table's columns, types, allowed values and keys, and each file's size and SHA-256.",
        f"- `{DICTIONARY_NAME}`: this file. `{LICENSE_NAME}`: the licence and how to cite.",
        f"- `{CHECKSUMS_NAME}`: the SHA-256 of every file, to check a download: `sha256sum -c {CHECKSUMS_NAME}`.",
        f"- `{zip_name(number)}` (on the site): all of the above in one file.",
        "",
        "## Loading the data",
        "",
        "With pandas, read every column as text first (case IDs, codes and partial dates are text), then "
        "convert the ones you need:",
        "",
        "```python",
        "import pandas as pd",
        'cases = pd.read_csv("cases.csv", dtype=str, keep_default_na=False)',
        'events = pd.read_csv("events.csv", dtype=str, keep_default_na=False)',
        'events["position"] = events["position"].astype(int)',
        'timeline = events.merge(cases[["case_id", "name"]], on="case_id")',
        "```",
        "",
        "In a spreadsheet, import each CSV file as UTF-8 text (Excel: Data › From Text/CSV, file origin "
        "“65001: Unicode (UTF-8)”; LibreOffice: character set “Unicode (UTF-8)”, separated by commas), and set the "
        "columns `case_id`, `birth_date` and every date column to text so that they are not turned into numbers or "
        "full dates. Korean and Japanese texts then read as written. Empty cells mean “not known or not public”. "
        "`true` and `false` are yes and no. Several values in one cell are separated by “; ”.",
        "",
        "## Dates",
        "",
        "Dates are written at the precision the sources give, never as invented full dates: `2014` (the year), "
        "`2014-10` (the month), `2014-10-07` (the day), each followed by `~` when approximate (`2014~`: about 2014). "
        "An empty date is unknown. To sort or filter, read a date by its first day (2014 → 2014-01-01); "
        "events.csv also gives each date's precision and whether it is approximate. `published_at` is a moment "
        "in UTC (`2024-05-01T09:30:00Z`).",
        "",
        "## The tables",
        "",
    ]
    for table in TABLES:
        lines += _table_section(table, rows[table.name])
    lines += ["## Vocabularies", "", "Each coded column holds one of these codes; the English label follows.", ""]
    for name, choices in vocabularies.items():
        lines += [f"### {name}", "", *_vocabulary(choices), ""]
    lines += ["### Categories", "", "The codes of `cases.csv` `categories`, with their English names:", ""]
    lines += [f"- `{slug}`: {name}" for slug, name in categories.items()] or ["- (none in this release)"]
    lines += [
        "",
        "## What is not in the data, and why",
        "",
        "The release is built from the public records that editors publish, and holds only what the public case "
        "pages show. Left out on purpose:",
        "",
        "- unpublished and withdrawn cases, and earlier versions of a case (each has its own page on the site);",
        "- everything restricted: internal notes, who gave consent, the basis for publication, the caseworkers, "
        "events, names, citations, facilities and authorities not marked public, confidential sources (such as "
        "testimony given in confidence) and the notes and copies of every source;",
        "- what could expose a family to reprisals: when a family faces reprisals the case is published under a "
        "pseudonym (`pseudonymous` is true), without the real name, its other spellings or the date of birth, and "
        "every public text that would name the person is left empty;",
        "- of an appeal, only its kind, addressee, dates, state and outcome: never what was asked, the references "
        "or what the replies say;",
        "- facilities' coordinates and descriptions (on the facilities' pages of the site).",
        "",
        "When a case is withdrawn or something in it is made non-public, every release that may hold it is "
        "withdrawn at once and its files deleted: the site lists the release as withdrawn, and a newer release "
        "replaces it. Please delete copies of a withdrawn release.",
        "",
    ]
    return "\n".join(lines)


def licence_text(number: int, built: datetime.datetime) -> str:
    """The licence file: which licence, where its text is, and how to cite the release."""
    terms = licence()
    who = settings.ORGANISATION_NAME or "the publishers of the Whereabouts site"
    return "\n".join(
        [
            f"Whereabouts data release {number}, built {built:%Y-%m-%d}.",
            "",
            f"Published by {who} under the {terms['title']} licence ({terms['name']}).",
            f"The licence's text: {terms['path']}",
            "",
            "Cite the release as:",
            citation(number, built.date()),
            "",
            "The data describes real people who were detained or disappeared, and their families. Use it to "
            "document and to seek their release and the truth about their fate; do not use it to identify people "
            "whom the data does not name.",
            "",
        ]
    )

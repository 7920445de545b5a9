"""The tables of a data release: their columns as Table Schemas describe them, and the rows a record gives.

Read by public/releases.py (which writes them) and public/release_dictionary.py (which explains them).
Every value comes from a current published record and from nothing else.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import TextChoices
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from advocacy.vocabularies import Addressee, AppealKind, AppealOutcome, AppealState
from cases.vocabularies import Confidence, FacilityKind, RelationKind, Sex, Status
from sources.vocabularies import SourceKind
from workflow.models import PublishedVersion

# A partial date as the records write it: 2014, 2014-10 or 2014-10-07, with ~ when approximate.
PARTIAL_DATE = r"\d{4}(-\d{2}(-\d{2})?)?~?"
DATE_PRECISIONS = {4: "year", 7: "month", 10: "day"}


class Fate(TextChoices):
    """The two states of a case in the UN Working Group on Enforced or Involuntary Disappearances' words."""

    OUTSTANDING = "outstanding", _("Fate and whereabouts outstanding")
    CLARIFIED = "clarified", _("Fate clarified")


class NameKind(TextChoices):
    PRIMARY = "primary", _("The name the case is published under")
    PSEUDONYM = "pseudonym", _("A pseudonym: the real name is withheld because the family faces reprisals")
    NATIVE = "native", _("The name in native script (Korean)")
    ROMANIZED = "romanized", _("A romanization of the name in native script")
    OTHER = "other", _("Another public name or spelling")


class Backs(TextChoices):
    PERSON = "person", _("The case as a whole")
    EVENT = "event", _("One event of the case")
    RELATION = "relation", _("A connection to another case")


class DatePrecision(TextChoices):
    YEAR = "year", _("A year")
    MONTH = "month", _("A month")
    DAY = "day", _("A day")


@dataclass(frozen=True)
class Column:
    """One column of a table, as its Table Schema field describes it."""

    name: str
    description: str
    datatype: str = "string"
    required: bool = False
    unique: bool = False
    vocabulary: type[TextChoices] | None = None
    pattern: str = ""

    def field(self) -> dict:
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.unique:
            constraints["unique"] = True
        if self.vocabulary is not None:
            constraints["enum"] = [value for value in self.vocabulary.values if value]
        if self.pattern:
            constraints["pattern"] = self.pattern
        field: dict[str, Any] = {"name": self.name, "type": self.datatype, "description": self.description}
        if self.datatype == "datetime":
            field["format"] = "%Y-%m-%dT%H:%M:%SZ"
        if constraints:
            field["constraints"] = constraints
        return field


@dataclass(frozen=True)
class Table:
    """One CSV file of the package: its columns, keys and what a row is."""

    name: str
    title: str | Promise
    row: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def schema(self) -> dict:
        return {
            "fields": [column.field() for column in self.columns],
            "missingValues": [""],
            "primaryKey": list(self.primary_key),
            "foreignKeys": [
                {"fields": [field], "reference": {"resource": resource, "fields": [other]}}
                for field, resource, other in self.foreign_keys
            ],
        }


def _date_column(name: str, description: str) -> Column:
    return Column(name, f"{description} A partial date as written (see “Dates”).", pattern=PARTIAL_DATE)


CASE_ID = Column("case_id", "The case's public ID, as in the address of its page.", required=True)
CASE_FK = ("case_id", "cases", "case_id")

CASES = Table(
    "cases",
    _("Cases"),
    "one row per published case, in its current version",
    (
        Column("case_id", "The case's public ID, as in the address of its page.", required=True, unique=True),
        Column("version", "The number of the published version this row is.", "integer", required=True),
        Column("url", "The address of this version's page on the public site."),
        Column("name", "The name the case is published under (a pseudonym when `pseudonymous` is true)."),
        Column("name_native", "The name in native script (Korean), when public."),
        Column("pseudonymous", "Whether `name` is a pseudonym (the family faces reprisals).", "boolean"),
        Column("synthetic", "Whether the case is synthetic demonstration data, not a real person.", "boolean"),
        Column("sex", "The person's sex.", vocabulary=Sex),
        _date_column("birth_date", "When the person was born."),
        Column("nationality", "Nationality, as an ISO 3166-1 alpha-2 code (KP, KR, CN…).", pattern=r"[A-Z]{2}"),
        Column("categories", "The case's categories, as their codes, separated by “; ” (see “Categories”)."),
        Column("status", "The current status: that of the latest public event.", vocabulary=Status),
        _date_column("status_since", "Since when the current status holds."),
        _date_column("last_confirmed", "The date of the latest public information."),
        Column("fate", "Whether the person's fate is clarified or outstanding.", vocabulary=Fate),
        Column("summary", "The public summary, in English."),
        Column("summary_ko", "The public summary, in Korean."),
        Column("summary_ja", "The public summary, in Japanese."),
        Column("summary_ko_is_translation", "Whether the Korean summary is a translation.", "boolean"),
        Column("summary_ja_is_translation", "Whether the Japanese summary is a translation.", "boolean"),
        Column("published_at", "When this version was published (UTC).", "datetime", required=True),
        Column("names", "How many rows of names.csv are this case's.", "integer"),
        Column("events", "How many rows of events.csv are this case's.", "integer"),
        Column("citations", "How many rows of citations.csv are this case's.", "integer"),
        Column("sources", "How many different sources the case cites.", "integer"),
        Column("relations", "How many rows of relations.csv are this case's.", "integer"),
        Column("appeals", "How many rows of appeals.csv are this case's.", "integer"),
    ),
    ("case_id",),
)
NAMES = Table(
    "names",
    _("Names"),
    "one row per public name or spelling of a case",
    (CASE_ID, Column("name", "The name.", required=True), Column("kind", "What the name is.", vocabulary=NameKind)),
    (),
    (CASE_FK,),
)
EVENTS = Table(
    "events",
    _("Status events"),
    "one row per public event of a case's history, in the order of its timeline",
    (
        CASE_ID,
        Column("event_id", "The event's ID.", "integer", required=True, unique=True),
        Column("position", "Its place in the case's timeline: 1 for the first.", "integer", required=True),
        Column("status", "What happened: the status the person had from then on.", vocabulary=Status),
        _date_column("date", "When it happened; empty when unknown."),
        Column("date_precision", "How precise `date` is.", vocabulary=DatePrecision),
        Column("date_approximate", "Whether `date` is approximate (written with ~).", "boolean"),
        Column("place", "Where, in English."),
        Column("place_ko", "Where, in Korean."),
        Column("place_ja", "Where, in Japanese."),
        Column("description", "What is known of it, in English."),
        Column("description_ko", "What is known of it, in Korean."),
        Column("description_ja", "What is known of it, in Japanese."),
        Column("facility_id", "The facility where the person was held (its page: /facilities/<id>/).", "integer"),
        Column("facility_name", "The facility's name in English."),
        Column("facility_name_ko", "The facility's name in Korean."),
        Column("facility_name_ja", "The facility's name in Japanese."),
        Column("facility_kind", "The kind of facility.", vocabulary=FacilityKind),
        Column("authorities", "The authorities believed responsible, by name, separated by “; ”."),
        Column("confidence", "How confident the documentation is that it happened.", vocabulary=Confidence),
    ),
    ("event_id",),
    (CASE_FK,),
)
RESPONSIBILITIES = Table(
    "responsibilities",
    _("Authorities believed responsible"),
    "one row per authority believed responsible for an event",
    (
        CASE_ID,
        Column("event_id", "The event (events.csv).", "integer", required=True),
        Column("authority_id", "The authority's ID.", "integer", required=True),
        Column("authority_name", "The authority's name in English."),
        Column("authority_name_ko", "The authority's name in Korean."),
        Column("authority_name_ja", "The authority's name in Japanese."),
        Column("confidence", "How confident the documentation is of its responsibility.", vocabulary=Confidence),
    ),
    ("event_id", "authority_id"),
    (CASE_FK, ("event_id", "events", "event_id")),
)
CITATIONS = Table(
    "citations",
    _("Citations"),
    "one row per public citation of a source backing a claim of a case",
    (
        CASE_ID,
        Column("citation_id", "The citation's ID (a connection's citations are listed with both cases).", "integer"),
        Column("backs", "What the citation backs.", vocabulary=Backs),
        Column("event_id", "The event it backs (events.csv), when it backs one.", "integer"),
        Column("relation_id", "The connection it backs (relations.csv), when it backs one.", "integer"),
        Column("source_id", "The source cited (sources.csv).", "integer", required=True),
        Column("locator", "Where in the source: a page, a paragraph."),
        Column("excerpt", "The words quoted from the source."),
    ),
    ("case_id", "citation_id"),
    (CASE_FK, ("source_id", "sources", "source_id"), ("event_id", "events", "event_id")),
)
SOURCES = Table(
    "sources",
    _("Sources"),
    "one row per public source cited by a case",
    (
        Column("source_id", "The source's ID (its page: /sources/<id>/).", "integer", required=True, unique=True),
        Column("title", "The source's title.", required=True),
        Column("kind", "What kind of source it is.", vocabulary=SourceKind),
        Column("publisher", "Its publisher or author."),
        _date_column("published_on", "When it was published."),
        Column("url", "Its address."),
        Column("archived_url", "The address of an archived copy."),
        Column("language", "The language it is written in (a language code: en, ko, ja…)."),
        Column("captured_at", "When the project last captured its page whole, before publication (UTC).", "datetime"),
        Column(
            "capture_sha256",
            "The SHA-256 of that capture's copy of the page (the copy itself is not published).",
            pattern="^([0-9a-f]{64})?$",
        ),
    ),
    ("source_id",),
)
RELATIONS = Table(
    "relations",
    _("Connections between cases"),
    "one row per public connection of a case to another published case, seen from the case",
    (
        CASE_ID,
        Column("relation_id", "The connection's ID (each connection is listed with both cases).", "integer"),
        Column("kind", "What the other person is to this case's person.", vocabulary=RelationKind),
        Column("other_case_id", "The other case's public ID (its row in cases.csv).", required=True),
        Column("other_name", "The other case's published name."),
        Column("other_name_native", "The other case's name in native script."),
        Column("confidence", "How confident the documentation is of the connection.", vocabulary=Confidence),
    ),
    ("case_id", "relation_id"),
    (CASE_FK,),
)
APPEALS = Table(
    "appeals",
    _("Appeals"),
    "one row per public appeal made for a case to a UN mechanism or a government",
    (
        CASE_ID,
        Column("appeal_id", "The appeal's ID (an appeal for several persons is listed with each).", "integer"),
        Column("kind", "What kind of appeal.", vocabulary=AppealKind),
        Column("addressee", "To whom.", vocabulary=Addressee),
        Column(
            "country", "The country of a government, embassy or parliament (ISO 3166-1 alpha-2).", pattern="[A-Z]{2}"
        ),
        _date_column("sent_on", "When it was sent."),
        Column("state", "How far it has gone.", vocabulary=AppealState),
        Column("outcome", "How it was closed.", vocabulary=AppealOutcome),
        _date_column("closed_on", "When it was closed."),
        Column("replies", "How many replies were received.", "integer"),
        _date_column("latest_reply_on", "When the latest reply with a known date was received."),
    ),
    ("case_id", "appeal_id"),
    (CASE_FK,),
)
TABLES = (CASES, NAMES, EVENTS, RESPONSIBILITIES, CITATIONS, SOURCES, RELATIONS, APPEALS)

JSONL_NAME = "cases.jsonl"
DICTIONARY_NAME = "data-dictionary.md"
LICENSE_NAME = "LICENSE.txt"
PACKAGE_DESCRIPTOR = "datapackage.json"
CHECKSUMS_NAME = "SHA256SUMS"

# What each file is, on the /data/ page (in the reader's language) and in the package (in English).
FILE_TITLES: dict[str, str | Promise] = {
    **{table.filename: table.title for table in TABLES},
    JSONL_NAME: _("Every case as published, one JSON record a line"),
    DICTIONARY_NAME: _("Data dictionary: what every file and column means"),
    LICENSE_NAME: _("Licence and how to cite"),
    PACKAGE_DESCRIPTOR: _("Frictionless data package descriptor, with the tables' schemas"),
    CHECKSUMS_NAME: _("SHA-256 checksums of the files"),
}
MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".jsonl": "application/jsonl; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".zip": "application/zip",
    "": "text/plain; charset=utf-8",
}


def zip_name(number: int) -> str:
    return f"whereabouts-data-{number}.zip"


def media_type(name: str) -> str:
    return MEDIA_TYPES[Path(name).suffix]


def licence() -> dict:
    """The licence the releases are published under (settings.DATA_RELEASE_LICENSE), as a package lists it."""
    title, path = settings.DATA_RELEASE_LICENSES[settings.DATA_RELEASE_LICENSE]
    return {"name": settings.DATA_RELEASE_LICENSE, "title": title, "path": path}


def citation(number: int, built: datetime.date) -> str:
    """How to cite a release (the /data/ page, the licence file and the data dictionary say it alike)."""
    who = f"{settings.ORGANISATION_NAME}, " if settings.ORGANISATION_NAME else ""
    where = (
        f" {settings.DATA_RELEASE_SITE_URL}{reverse('public:data_releases')}" if settings.DATA_RELEASE_SITE_URL else ""
    )
    return f"{who}Whereabouts data release {number} ({built.isoformat()}).{where} {licence()['title']}."


# --- Rows: what a record puts in each table. ---


def text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def capture_cells(capture: dict | None) -> tuple[str, str]:
    """A source line's capture as its two cells: when (UTC) and the SHA-256 of the copy; empty without one."""
    if not capture:
        return "", ""
    return utc(datetime.datetime.fromisoformat(capture["captured_at"])), capture["sha256"]


def utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def case_url(version: PublishedVersion) -> str:
    return settings.DATA_RELEASE_SITE_URL + reverse("public:case_version", args=[version.case_id, version.number])


def rows_of(version: PublishedVersion, url: str) -> dict[str, list[tuple]]:
    """The rows of every table for one current published version, from its record alone.

    A record published before facilities, relations or appeals has no such keys: it has none of them.
    """
    record = version.record
    case_id = record["case_id"]
    names = [(case_id, record["name"], NameKind.PSEUDONYM if record.get("pseudonymous") else NameKind.PRIMARY)]
    if record.get("name_native"):
        names.append((case_id, record["name_native"], NameKind.NATIVE))
    names += [(case_id, name, NameKind.ROMANIZED) for name in record.get("romanized", [])]
    names += [(case_id, other["name"], NameKind.OTHER) for other in record["other_names"]]
    events, responsibilities = [], []
    for position, event in enumerate(record["events"], start=1):
        date = event["date"] or ""
        facility = event.get("facility") or {}
        responsible = event.get("responsible", [])
        events.append(
            (
                case_id,
                event["id"],
                position,
                event["status"],
                date,
                DATE_PRECISIONS.get(len(date.rstrip("~")), "") if date else "",
                date.endswith("~") if date else None,
                *(event.get(field, "") for field in ("place", "place_ko", "place_ja")),
                *(event.get(field, "") for field in ("description", "description_ko", "description_ja")),
                facility.get("id"),
                *(facility.get(field, "") for field in ("name", "name_ko", "name_ja")),
                facility.get("kind", ""),
                "; ".join(held["name"] for held in responsible),
                event["confidence"],
            )
        )
        responsibilities += [
            (
                case_id,
                event["id"],
                held["id"],
                held["name"],
                held.get("name_ko", ""),
                held.get("name_ja", ""),
                held.get("confidence", ""),
            )
            for held in responsible
        ]
    backed: dict[int, tuple[str, int | None, int | None]] = dict.fromkeys(
        record["person_citations"], (Backs.PERSON, None, None)
    )
    for event in record["events"]:
        backed.update(dict.fromkeys(event["citations"], (Backs.EVENT, event["id"], None)))
    relations = record.get("relations", [])
    for relation in relations:
        backed.update(dict.fromkeys(relation["citations"], (Backs.RELATION, None, relation["id"])))
    citations = [
        (case_id, c["id"], *backed.get(c["id"], ("", None, None)), c["source"], c["locator"], c["excerpt"])
        for c in record["citations"]
    ]
    appeals = [
        (
            case_id,
            appeal["id"],
            appeal["kind"],
            appeal["addressee"],
            appeal.get("country", ""),
            appeal.get("sent_on"),
            appeal.get("state", ""),
            appeal.get("outcome", ""),
            appeal.get("closed_on"),
            len(appeal.get("replies", [])),
            _latest(reply.get("received_on") for reply in appeal.get("replies", [])),
        )
        for appeal in record.get("appeals", [])
    ]
    status = record["status"]
    case = (
        case_id,
        version.number,
        url,
        record["name"],
        record["name_native"],
        bool(record.get("pseudonymous")),
        bool(record.get("synthetic")),
        record["sex"],
        record["birth_date"],
        record["nationality"],
        "; ".join(category["slug"] for category in record["categories"]),
        status,
        record["status_since"],
        record["last_confirmed"],
        Fate.CLARIFIED if Status.is_clarified(status) else Fate.OUTSTANDING,
        *(record.get(field, "") for field in ("summary", "summary_ko", "summary_ja")),
        bool(record.get("summary_ko_is_translation")),
        bool(record.get("summary_ja_is_translation")),
        utc(version.published_at),
        len(names),
        len(events),
        len(citations),
        len(record["sources"]),
        len(relations),
        len(appeals),
    )
    return {
        "cases": [case],
        "names": names,
        "events": events,
        "responsibilities": responsibilities,
        "citations": citations,
        "sources": [
            (
                source["id"],
                source["title"],
                source["kind"],
                source["publisher"],
                source["published_on"],
                source["url"],
                source["archived_url"],
                source.get("language", ""),
                *capture_cells(source.get("capture")),
            )
            for source in record["sources"]
        ],
        "relations": [
            (
                case_id,
                relation["id"],
                relation["kind"],
                relation["case_id"],
                relation["name"],
                relation["name_native"],
                relation["confidence"],
            )
            for relation in relations
        ],
        "appeals": appeals,
    }


def _latest(dates: Iterable[str | None]) -> str:
    """The latest of partial dates, by their first day ("2016" before "2016-09")."""
    known = [date for date in dates if date]
    return max(known, key=lambda date: date.rstrip("~"), default="")

"""Turn a published record into what a page shows: labels, numbered citations, a timeline drawing.

Everything here reads the record of a ``PublishedVersion`` and nothing else.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext as _
from django_countries import countries

from advocacy.vocabularies import Addressee, AppealKind, AppealOutcome, AppealState
from cases.partial_dates import PartialDate, display_partial_date
from cases.vocabularies import TEXT_LANGUAGES, Confidence, FacilityKind, RelationKind, Sex, Status, language_name
from workflow.models import PublishedVersion

T = TypeVar("T")


@dataclass(frozen=True)
class Text:
    """A public text as one language's page shows it: in that language if written in it, else in another.

    ``language`` is the language the text is written in; ``elsewhere`` says
    that it is not the page's (the page then says so and marks it with
    ``lang``); ``is_translation``, that an editor marked it as translated.
    """

    value: str
    language: str
    elsewhere: bool = False
    is_translation: bool = False

    def __str__(self) -> str:
        return self.value

    def __bool__(self) -> bool:
        return bool(self.value)

    @property
    def language_name(self) -> str:
        return language_name(self.language)


def active_language() -> str:
    """The language a public page is written in: the active one, else the site's."""
    return get_language() or settings.LANGUAGE_CODE


def text_in(holder: dict, field: str, language: str | None = None) -> Text:
    """``holder[field]`` for a reader of ``language`` (the active one): its own text first, then English, then any.

    A record published before texts had translations has only the English key.
    """
    language = language or active_language()
    order = [language, *(other for other in ("en", *TEXT_LANGUAGES) if other != language)]
    for candidate in order:
        key = field if candidate == "en" else f"{field}_{candidate}"
        if value := holder.get(key):
            translated = bool(holder.get(f"{key}_is_translation"))
            return Text(value, candidate, elsewhere=candidate != language, is_translation=translated)
    return Text("", language)


def native_first(language: str | None = None) -> bool:
    """Whether a page in ``language`` (the active one) puts the native-script name first: 김정욱 (Kim Jeong-wook)."""
    return (language or get_language()) in TEXT_LANGUAGES


def names_in_order(name: T, native: T, *, language: str | None = None) -> tuple[T, T]:
    """The romanized and the native-script name in the order the page's language (``language``, the active one
    when not given) reads them."""
    return (native, name) if native_first(language) else (name, native)


def name_with_native(name: str, native: str) -> str:
    """A public name with its native-script form beside it, first on Korean and Japanese pages."""
    return "{} ({})".format(*names_in_order(name, native)) if native else name


def _partial(value: str | None) -> PartialDate | None:
    return PartialDate.parse(value, allow_future=True) if value else None


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else ""


@dataclass
class Quote:
    locator: str
    excerpt: str


@dataclass
class Note:
    """One source in the case's list of sources, once however often the case cites it, with each place cited."""

    number: int
    source: dict
    locators: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)

    def add(self, locator: str, excerpt: str) -> None:
        if locator and locator not in self.locators:
            self.locators.append(locator)
        if excerpt and all(quote.excerpt != excerpt for quote in self.quotes):
            self.quotes.append(Quote(locator, excerpt))

    @property
    def quotes_need_locators(self) -> bool:
        """Whether each quote says where it comes from: when the source is cited in more than one place."""
        return len(self.locators) > 1


@dataclass
class Ref:
    """A claim's reference [n] to a note, with the places in the source that this claim cites."""

    note: Note
    locators: list[str] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.note.number


@dataclass
class Event:
    status: str
    status_label: str
    date: PartialDate | None
    date_display: str
    place: Text
    description: Text
    confidence_label: str
    notes: list[Ref] = field(default_factory=list)
    facility: PlaceLink | None = None
    responsible: list[PlaceLink] = field(default_factory=list)


@dataclass
class TimelineMark:
    x: float
    label: str
    date_display: str


class Notes:
    """A page's list of sources: one note per source, numbered in the order the page first cites it.

    ``record`` is a public record with ``citations`` and ``sources`` (a case's, or a facility's);
    :meth:`refs` gives a claim's references [n] to the notes, adding the notes it is the first to cite.
    """

    def __init__(self, record: dict) -> None:
        self.sources = {source["id"]: source for source in record["sources"]}
        self.citations = {citation["id"]: citation for citation in record["citations"]}
        self.notes: list[Note] = []
        self._by_source: dict[int, Note] = {}

    def refs(self, ids: list[int]) -> list[Ref]:
        refs: dict[int, Ref] = {}
        for pk in ids:
            if pk not in self.citations:
                continue
            citation = self.citations[pk]
            note = self._by_source.get(citation["source"])
            if note is None:
                note = Note(len(self.notes) + 1, self.sources[citation["source"]])
                self._by_source[citation["source"]] = note
                self.notes.append(note)
            note.add(citation["locator"], citation["excerpt"])
            ref = refs.setdefault(note.number, Ref(note))
            if citation["locator"] and citation["locator"] not in ref.locators:
                ref.locators.append(citation["locator"])
        return list(refs.values())


@dataclass(frozen=True)
class PlaceLink:
    """A public facility or authority as a case page names it, linked: its name in the page's language."""

    id: int
    name: Text
    kind_label: str = ""  # a facility's kind
    confidence_label: str = ""  # an authority believed responsible: how confidently


def place_link(line: dict) -> PlaceLink:
    """A record's facility or authority line (``workflow.snapshots.place_line``), ready to link."""
    return PlaceLink(
        id=line["id"],
        name=text_in(line, "name"),
        kind_label=_label(FacilityKind, line.get("kind", "")),
        confidence_label=_label(Confidence, line.get("confidence", "")),
    )


@dataclass
class Connection:
    """Another published case connected to this one: how the other person is to this one, with the sources."""

    kind: str
    kind_label: str
    case_id: str
    name: str
    name_native: str
    confidence_label: str
    notes: list[Ref] = field(default_factory=list)


class CasePage:
    """A published version, ready to show."""

    WIDTH, MARGIN = 640, 24

    def __init__(self, version: PublishedVersion) -> None:
        self.version = version
        record = self.record = version.record
        # One note per source, numbered in the order the page first cites it; each claim's [n] points to it.
        notes = Notes(record)
        self.notes = notes.notes
        self.person_notes = notes.refs(record["person_citations"])
        # A version published before facilities has no "facility" or "responsible" in its events.
        self.events = [
            Event(
                status=event["status"],
                status_label=_label(Status, event["status"]),
                date=_partial(event["date"]),
                date_display=display_partial_date(_partial(event["date"])),
                place=text_in(event, "place"),
                description=text_in(event, "description"),
                confidence_label=_label(Confidence, event["confidence"]),
                notes=notes.refs(event["citations"]),
                facility=place_link(event["facility"]) if event.get("facility") else None,
                responsible=[place_link(held) for held in event.get("responsible", [])],
            )
            for event in record["events"]
        ]
        # A version published before relations has none.
        self.connections = [
            Connection(
                kind=relation["kind"],
                kind_label=_label(RelationKind, relation["kind"]),
                case_id=relation["case_id"],
                name=relation["name"],
                name_native=relation["name_native"],
                confidence_label=_label(Confidence, relation["confidence"]),
                notes=notes.refs(relation["citations"]),
            )
            for relation in record.get("relations", [])
        ]

    def facility_path(self) -> list[tuple[PlaceLink, list[Event]]]:
        """The facilities of the events in timeline order, each with its events; a stay recorded by several
        events in a row is one stop."""
        path: list[tuple[PlaceLink, list[Event]]] = []
        for event in self.events:
            if event.facility is None:
                continue
            if path and path[-1][0].id == event.facility.id:
                path[-1][1].append(event)
            else:
                path.append((event.facility, [event]))
        return path

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def name_native(self) -> str:
        return self.record["name_native"]

    @property
    def summary(self) -> Text:
        return text_in(self.record, "summary")

    @property
    def description(self) -> str:
        """A few lines for search results and link previews: the summary in the page's language, else the status."""
        text = str(self.summary)
        if not text:
            text = self.status_label or _("No public status")
            if self.record["status_since"]:
                text = f"{text} · {_('since %(date)s') % {'date': self.status_since}}"
        return Truncator(" ".join(text.split())).chars(300)

    @property
    def case_id(self) -> str:
        return self.record["case_id"]

    @property
    def status_label(self) -> str:
        return _label(Status, self.record["status"])

    @property
    def is_clarified(self) -> bool:
        return Status.is_clarified(self.record["status"])

    @property
    def status_since(self) -> str:
        return display_partial_date(_partial(self.record["status_since"]))

    @property
    def last_confirmed(self) -> str:
        return display_partial_date(_partial(self.record["last_confirmed"]))

    @property
    def birth_date(self) -> str:
        return display_partial_date(_partial(self.record["birth_date"])) if self.record["birth_date"] else ""

    @property
    def sex_label(self) -> str:
        value = self.record["sex"]
        return "" if value == Sex.UNKNOWN else _label(Sex, value)

    @property
    def nationality_name(self) -> str:
        return countries.name(self.record["nationality"]) if self.record["nationality"] else ""

    @property
    def other_names(self) -> list[str]:
        shown = {self.record["name"], self.record["name_native"]}
        return [other["name"] for other in self.record["other_names"] if other["name"] not in shown]

    @property
    def categories(self) -> list[Text]:
        return [text_in(category, "name") for category in self.record["categories"]]

    @property
    def published_at(self) -> datetime.datetime:
        return self.version.published_at

    @property
    def appeals(self) -> list[str]:
        """The record's public appeals, one sentence each; a record published before appeals has none."""
        return [appeal_sentence(line) for line in self.record.get("appeals", [])]

    def timeline(self) -> dict:
        """Positions for a small SVG drawing of the dated events, from the first to the day this version was
        published (what the record knows): the same drawing on every day it is read (public.rendering)."""
        dated = [(event, event.date) for event in self.events if event.date is not None]
        if not dated:
            return {}
        start = dated[0][1].first_day
        end = max(timezone.localtime(self.version.published_at).date(), dated[-1][1].first_day)
        span = max((end - start).days, 1)
        usable = self.WIDTH - 2 * self.MARGIN
        marks = [
            TimelineMark(
                x=round(self.MARGIN + usable * (date.first_day - start).days / span, 1),
                label=event.status_label,
                date_display=event.date_display,
            )
            for event, date in dated
        ]
        return {
            "width": self.WIDTH,
            "marks": marks,
            "start": str(start.year),
            "end": str(end.year),
            "end_x": self.WIDTH - self.MARGIN,
            "start_x": self.MARGIN,
        }


# --- Appeals: a public line (workflow.snapshots.appeal_line) as one sentence ------------------------------------

# Whom an appeal was addressed to, as a sentence names them.
APPEAL_ADDRESSEES = {
    Addressee.WGEID: gettext_lazy("the UN Working Group on Enforced or Involuntary Disappearances (WGEID)"),
    Addressee.WGAD: gettext_lazy("the UN Working Group on Arbitrary Detention (WGAD)"),
    Addressee.SR_DPRK: gettext_lazy("the UN Special Rapporteur on the situation of human rights in the DPRK"),
    Addressee.SR_FORB: gettext_lazy("the UN Special Rapporteur on freedom of religion or belief"),
    Addressee.SR_TORTURE: gettext_lazy("the UN Special Rapporteur on torture"),
    Addressee.OHCHR_SEOUL: gettext_lazy("the UN Human Rights Office in Seoul (OHCHR)"),
    Addressee.OTHER: gettext_lazy("another body"),
}
# A country's government, embassy or parliament, named with the country in the page's language: as most names
# are written, as the names English writes with "the" are written (COUNTRIES_WITH_THE), and with no country.
COUNTRY_ADDRESSEES = {
    Addressee.GOVERNMENT: (
        gettext_lazy("the government of %(country)s"),
        # Translators: the same as "the government of %(country)s", for a name English writes with "the".
        gettext_lazy("the government of the %(country)s"),
        gettext_lazy("a government"),
    ),
    Addressee.EMBASSY: (
        gettext_lazy("the embassy of %(country)s"),
        # Translators: the same as "the embassy of %(country)s", for a name English writes with "the".
        gettext_lazy("the embassy of the %(country)s"),
        gettext_lazy("an embassy"),
    ),
    Addressee.PARLIAMENT: (
        gettext_lazy("the parliament of %(country)s"),
        # Translators: the same as "the parliament of %(country)s", for a name English writes with "the".
        gettext_lazy("the parliament of the %(country)s"),
        gettext_lazy("a parliament"),
    ),
}
# States whose English names (as django-countries gives them) take "the": the government of the United Kingdom.
COUNTRIES_WITH_THE = frozenset(
    {"AE", "CD", "CF", "CG", "DO", "GB", "GM", "KM", "MH", "MV", "NL", "PH", "SB", "SC", "US"}
)
# What was done, to whom and when, whole for each kind so that a translation puts the words in its own order.
RAISED_WITH = gettext_lazy("Raised with %(addressee)s, %(date)s")
APPEAL_SENTENCES = {
    AppealKind.WGEID_STANDARD: RAISED_WITH,
    AppealKind.WGEID_URGENT: gettext_lazy("Raised with %(addressee)s as an urgent case, %(date)s"),
    AppealKind.URGENT_APPEAL: gettext_lazy("Urgent appeal to %(addressee)s, %(date)s"),
    AppealKind.ALLEGATION_LETTER: gettext_lazy("Allegation letter to %(addressee)s, %(date)s"),
    AppealKind.COMMUNICATION: RAISED_WITH,
    AppealKind.LETTER: gettext_lazy("Letter to %(addressee)s, %(date)s"),
    AppealKind.BRIEFING_RECOMMENDATION: gettext_lazy("Recommendation in a briefing to %(addressee)s, %(date)s"),
    AppealKind.MEETING: gettext_lazy("Raised in a meeting with %(addressee)s, %(date)s"),
}
APPEAL_CLOSINGS = {
    AppealOutcome.CLARIFIED: pgettext_lazy("appeal", "closed: clarified (%(date)s)"),
    AppealOutcome.DISCONTINUED: pgettext_lazy("appeal", "closed: discontinued (%(date)s)"),
    AppealOutcome.NO_REPLY: pgettext_lazy("appeal", "closed without a reply (%(date)s)"),
}


def appeal_addressee(line: dict) -> str:
    """To whom, as a sentence names them: "the UN Working Group on …", "the government of North Korea"."""
    if line["addressee"] in COUNTRY_ADDRESSEES:
        named, named_with_the, unnamed = COUNTRY_ADDRESSEES[line["addressee"]]
        if not line["country"]:
            return str(unnamed)
        sentence = named_with_the if line["country"] in COUNTRIES_WITH_THE else named
        return sentence % {"country": countries.name(line["country"])}
    return str(APPEAL_ADDRESSEES.get(line["addressee"], APPEAL_ADDRESSEES[Addressee.OTHER]))


def appeal_answer(line: dict) -> str:
    """What came of it: no reply yet, the latest reply's date, or how it was closed.

    Read from the replies the record still holds (a reply withdrawn since is
    redacted out of it) rather than from the state, so that a withdrawn reply
    leaves no "replied" behind. A UN mechanism passes an appeal to the
    government concerned, whose reply it awaits: "government reply: none".
    """
    dates = [_partial(reply["received_on"]) for reply in line["replies"]]
    dated = [date for date in dates if date is not None]
    replied = ""
    if dated:
        replied = pgettext("appeal", "replied on %(date)s") % {"date": max(dated).display()}
    elif dates:
        replied = pgettext("appeal", "replied (date unknown)")
    if line["state"] == AppealState.CLOSED and line["outcome"] in APPEAL_CLOSINGS:
        closing = APPEAL_CLOSINGS[line["outcome"]] % {"date": display_partial_date(_partial(line["closed_on"]))}
        if not replied:
            return closing
        return pgettext("appeal", "%(reply)s; %(closing)s") % {"reply": replied, "closing": closing}
    if replied:
        return replied
    if line["addressee"] not in Addressee.un_mechanisms():
        return pgettext("appeal", "reply: none")
    if line["state"] == AppealState.TRANSMITTED:
        return pgettext("appeal", "transmitted to the government; government reply: none")
    return pgettext("appeal", "government reply: none")


def appeal_sentence(line: dict) -> str:
    """A public appeal line as one sentence in the page's language.

    "Raised with the UN Working Group on Enforced or Involuntary
    Disappearances (WGEID), March 2016 — government reply: none";
    "Recommendation in a briefing to the government of North Korea, date
    unknown — reply: none". Vocabulary and dates only, as the line holds.
    """
    done = APPEAL_SENTENCES.get(line["kind"], RAISED_WITH) % {
        "addressee": appeal_addressee(line),
        "date": display_partial_date(_partial(line["sent_on"])),
    }
    return pgettext("appeal", "%(appeal)s — %(answer)s") % {"appeal": done, "answer": appeal_answer(line)}


def cite_as(page: CasePage, url: str, *, accessed: str | None = None) -> str:
    """The reference to copy, with the day it was read (``accessed``: what stands for it in a page kept for
    every day, public.rendering)."""
    text = _(
        "Whereabouts, case %(case_id)s: %(name)s, version %(version)s, published %(date)s. %(url)s "
        "(accessed %(accessed)s)"
    )
    return text % {
        "case_id": page.case_id,
        "name": page.name,
        "version": page.version.number,
        "date": date_format(timezone.localtime(page.published_at).date(), "DATE_FORMAT"),
        "url": url,
        "accessed": accessed if accessed is not None else date_format(timezone.localdate(), "DATE_FORMAT"),
    }

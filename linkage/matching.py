"""Finding records that may be one person: blocking, scoring, and the passes that store the pairs.

In the manner of record linkage (HRDAG's, among others): comparing every
record with every other is out of reach at 100,000 persons, so records are
first put in *blocks* that a duplicate almost surely shares, and compared
only within a block:

* the **family name** (canonical, folded: Kim/Gim, Choi/Choe, see
  :mod:`cases.names`) **and the birth year, give or take**
  :data:`BIRTH_YEAR_WINDOW` years. Two records whose birth years are both
  known and further apart are never candidates.
* a person whose birth year is unknown is compared with the whole family
  block when it is small (:data:`SMALL_BLOCK`); in a larger block (every
  tenth Korean is a Kim) that would be thousands of comparisons for each of
  them, so there only with the family's records that share a **facility**
  of detention, or a **place**, with event dates within a year.

Every name of a record counts: the name, each name variant and the name in
Korean script (romanized, syllable by syllable). Within a block, given names
are compared with rapidfuzz (:func:`rapidfuzz.fuzz.ratio` on the folded
given names, and on the Hangul given names when both records have one);
pairs whose best given-name similarity is below :data:`MIN_GIVEN_NAME` are
dropped, the others scored by :func:`score`.

Records without a family name (an unnamed person's descriptor) are in no
block: nothing but a name would find them.
"""

from __future__ import annotations

import bisect
import datetime
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from django.db import transaction
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from rapidfuzz import fuzz, process

from cases import names
from cases.models import NameVariant, Person, Sex, StatusEvent

from .models import (
    BLOCK_BIRTH_YEAR,
    BLOCK_FACILITY,
    BLOCK_FAMILY,
    BLOCK_NAMED,
    BLOCK_PLACE,
    CandidatePair,
    Decision,
)

# The score is a weighted sum of parts, each from 0 (disagree) to 1 (agree), 0.5 meaning "not known on one side":
#   given name   0.50  best rapidfuzz ratio over every pair of the two records' given names (folded, and Hangul)
#   birth year   0.20  same year 1, one apart 0.8, two apart 0.5; unknown on either side 0.5
#   sex          0.05  same 1, different 0; unknown on either side 0.5
#   facility     0.10  a facility in common with event dates within a year 1, in common at other dates 0.7,
#                      none in common 0.2; no facility on either side 0.5
#   place        0.05  the same for the places of the events (normalised text)
#   categories   0.10  a category in common 1, none in common 0; none on either side 0.5
WEIGHTS = {"given_name": 0.5, "birth_year": 0.2, "sex": 0.05, "facility": 0.1, "place": 0.05, "categories": 0.1}
# Pairs scoring at least this are kept. An identical given name with nothing else known scores 0.75; a given name
# 0.8 alike needs something more in common (a birth year, a facility) to be asked.
THRESHOLD = 0.75
# Below this given-name similarity a pair is not a candidate, whatever else agrees: a different given name. Korean
# given names are short (two syllables): one syllable in common is about 0.6 alike, a spelling of the same name 0.8
# or more ("Kook-ki" and "Kuk-ki" fold to the same; "Chun-gil" and "Chun-kil" are 0.86).
MIN_GIVEN_NAME = 0.8
BIRTH_YEAR_WINDOW = 2
BIRTH_YEAR_SCORES = {0: 1.0, 1: 0.8, 2: 0.5}
# A family block this small is compared whole for its records of unknown birth year.
SMALL_BLOCK = 200
# Events "at the same time": first days at most this far apart.
DATE_WINDOW_DAYS = 366
NEUTRAL = 0.5


Progress = Callable[..., Any]


@dataclass(slots=True)
class Record:
    """What the passes compare of one person (saved or, for an import, not yet)."""

    pk: int
    # Canonical family name → the folded given names written with it.
    given: dict[str, set[str]] = field(default_factory=dict)
    native_given: set[str] = field(default_factory=set)
    birth_year: int | None = None
    sex: str = Sex.UNKNOWN
    categories: frozenset[int] = frozenset()
    # (facility pk, first day's ordinal or None) and (normalised place, ordinal or None) of the active events.
    facilities: list[tuple[int, int | None]] = field(default_factory=list)
    places: list[tuple[str, int | None]] = field(default_factory=list)

    def add_name(self, name: str) -> None:
        # Hangul typed on different systems arrives composed (NFC) or decomposed (NFD): compared composed.
        name = unicodedata.normalize("NFC", name)
        for family, given in name_keys(name):
            self.given.setdefault(family, set()).add(given)
        native = _native_parts(name)
        if native:
            self.add_native(*native)

    def add_native(self, family: str, given: str) -> None:
        for family_key, given_keys, native_given in _native_keys(family, given):
            self.given.setdefault(family_key, set()).update(given_keys)
            if native_given:
                self.native_given.add(native_given)


@lru_cache(maxsize=65536)
def name_keys(name: str) -> tuple[tuple[str, str], ...]:
    """(canonical family name, folded given name) of a romanized name; both readings when the family name is not
    one the table knows ("Megumi Yokota": Megumi or Yokota), none for a single word or a name in another script."""
    family, rest = names.split_family(name)
    if not rest or not all(part.isascii() for part in rest):
        return ()
    if family:
        return ((family, names.fold_given("".join(rest))),)
    if len(rest) < 2:
        return ()
    return (
        (rest[0], names.fold_given("".join(rest[1:]))),
        (rest[-1], names.fold_given("".join(rest[:-1]))),
    )


def _native_parts(name: str) -> tuple[str, str] | None:
    """A name variant written in Hangul, as (family, given): the first syllable is the family name unless a space
    says otherwise."""
    text = name.strip()
    if not text or not names._is_hangul(text):
        return None
    if " " in text:
        family, given = text.split(None, 1)
        return family, given.replace(" ", "")
    return text[:1], text[1:]


@lru_cache(maxsize=65536)
def _native_keys(family: str, given: str) -> tuple[tuple[str, frozenset[str], str], ...]:
    """(canonical family name, folded romanized given names, the Hangul given name) of a name in Korean script."""
    given = names.normalise(given)
    keys = []
    for form in names.romanizations(family, ""):
        canonical = names.SURNAMES.get(names.normalise(form))
        if canonical:
            romanized = {names.fold_given(names.normalise(form)) for form in names.romanizations("", given)}
            keys.append((canonical, frozenset(romanized - {""}), given))
    return tuple(dict.fromkeys(keys))


def _ordinal(first_day: str | None) -> int | None:
    return datetime.date.fromisoformat(first_day).toordinal() if first_day else None


# Loading the records.


def load_records(persons: QuerySet[Person]) -> dict[int, Record]:
    """The records of ``persons``, with their name variants, categories and active events, in five queries."""
    records: dict[int, Record] = {}
    for pk, name, family_native, given_native, sex, birth in (
        persons.order_by()
        .annotate(birth_first_day=Substr("birth_date", 1, 4, output_field=CharField()))
        .values_list("pk", "name", "family_name_native", "given_name_native", "sex", "birth_first_day")
    ):
        record = Record(pk, birth_year=int(birth) if birth else None, sex=sex)
        if name:
            record.add_name(name)
        if family_native:
            record.add_native(family_native, given_native)
        records[pk] = record
    in_scope = persons.order_by().values("pk")
    variants = NameVariant.objects.filter(person__in=in_scope).order_by()
    for person_id, name in variants.values_list("person_id", "name"):
        records[person_id].add_name(name)
    categories: dict[int, set[int]] = defaultdict(set)
    through = Person.categories.through
    for person_id, category_id in through.objects.filter(person__in=in_scope).values_list("person_id", "category_id"):
        categories[person_id].add(category_id)
    for person_id, found in categories.items():
        records[person_id].categories = frozenset(found)
    events = (
        StatusEvent.objects.active()
        .filter(person__in=in_scope)
        .filter(~Q(place="") | Q(facility__isnull=False))
        .annotate(first_day=Substr("date", 1, 10, output_field=CharField()))
        .order_by()
    )
    places: dict[str, str] = {}  # the same places recur: each normalised once
    rows = events.values_list("person_id", "facility_id", "place", "first_day")
    for person_id, facility_id, place, first_day in rows:
        record, day = records[person_id], _ordinal(first_day)
        if facility_id is not None:
            record.facilities.append((facility_id, day))
        if place:
            key = places.get(place)
            if key is None:
                key = places[place] = names.normalise(place)
            record.places.append((key, day))
    return records


# Scoring.


def given_name_similarity(a: Record, b: Record) -> float:
    """The best similarity (0 to 1) of a given name of ``a`` and one of ``b``.

    When both records have the given name in Korean script, those decide: it is how the person writes their
    name, where romanizations are others' spellings of it, and folded romanizations of different names are
    often alike (동영 and 숙성 fold to "tunkyunk" and "suksunk"). Otherwise the romanized given names written
    with the same family name, folded (and the romanizations of a Hangul name).
    """
    best = 0.0
    if a.native_given and b.native_given:
        for native_a in a.native_given:
            for native_b in b.native_given:
                best = max(best, fuzz.ratio(native_a, native_b) / 100)
        return best
    for family, given_a in a.given.items():
        given_b = b.given.get(family)
        if not given_b:
            continue
        for name_a in given_a:
            for name_b in given_b:
                best = max(best, fuzz.ratio(name_a, name_b) / 100)
    return best


def _in_common(a: list[tuple[Any, int | None]], b: list[tuple[Any, int | None]]) -> float:
    if not a or not b:
        return NEUTRAL
    best = 0.2
    for key, day in a:
        for other_key, other_day in b:
            if key == other_key:
                if day is not None and other_day is not None and abs(day - other_day) <= DATE_WINDOW_DAYS:
                    return 1.0
                best = 0.7
    return best


def score(a: Record, b: Record, given_name: float | None = None) -> tuple[float, dict[str, float]]:
    """The pair's score (0 to 1) and its parts, as documented at :data:`WEIGHTS`."""
    if given_name is None:
        given_name = given_name_similarity(a, b)
    if a.birth_year is None or b.birth_year is None:
        birth_year = NEUTRAL
    else:
        birth_year = BIRTH_YEAR_SCORES.get(abs(a.birth_year - b.birth_year), 0.0)
    unknown_sex = Sex.UNKNOWN in (a.sex, b.sex)
    sex = NEUTRAL if unknown_sex else float(a.sex == b.sex)
    categories = NEUTRAL if not (a.categories and b.categories) else float(bool(a.categories & b.categories))
    parts = {
        "given_name": round(given_name, 3),
        "birth_year": birth_year,
        "sex": sex,
        "facility": _in_common(a.facilities, b.facilities),
        "place": _in_common(a.places, b.places),
        "categories": categories,
    }
    total = sum(WEIGHTS[key] * value for key, value in parts.items())
    return round(min(1.0, total), 4), parts


# Blocking.


@dataclass(slots=True)
class Found:
    score: float
    reasons: dict[str, float]
    blocked_on: str


def _years_apart_ok(a: Record, b: Record) -> bool:
    return a.birth_year is None or b.birth_year is None or abs(a.birth_year - b.birth_year) <= BIRTH_YEAR_WINDOW


class _Matcher:
    """Compares records within their blocks and keeps the pairs that score :data:`THRESHOLD` or more."""

    def __init__(self, records: dict[int, Record], *, only: int | None = None) -> None:
        self.records = records
        self.only = only  # keep only the pairs of this record (the incremental pass)
        self.found: dict[tuple[int, int], Found] = {}
        self.families: dict[str, list[int]] = defaultdict(list)
        for pk, record in records.items():
            for family in record.given:
                self.families[family].append(pk)

    def consider(self, a: int, b: int, blocked_on: str, given_name: float | None = None) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        if key in self.found or (self.only is not None and self.only not in key):
            return
        first, second = self.records[a], self.records[b]
        if not _years_apart_ok(first, second):
            return
        if given_name is None:
            given_name = given_name_similarity(first, second)
        if given_name < MIN_GIVEN_NAME:
            return
        total, parts = score(first, second, given_name)
        if total >= THRESHOLD:
            self.found[key] = Found(total, parts, blocked_on)

    def compare_names(self, family: str, queries: Iterable[int], choices: Sequence[int], blocked_on: str) -> None:
        """Each of ``queries`` against each of ``choices`` by their given names with ``family``, in rapidfuzz
        (as :func:`given_name_similarity` compares them: in Hangul when both have it, else romanized)."""
        records = self.records
        # The choices' Hangul given names; the romanized ones of every choice, and of those without Hangul.
        native: tuple[list[str], list[int]] = ([], [])
        romanized: tuple[list[str], list[int]] = ([], [])
        romanized_only: tuple[list[str], list[int]] = ([], [])
        for pk in choices:
            record = records[pk]
            for given in record.native_given:
                native[0].append(given)
                native[1].append(pk)
            for given in record.given[family]:
                romanized[0].append(given)
                romanized[1].append(pk)
                if not record.native_given:
                    romanized_only[0].append(given)
                    romanized_only[1].append(pk)
        for pk in queries:
            record = records[pk]
            best: dict[int, float] = {}
            if record.native_given:
                searches = [(record.native_given, native), (record.given[family], romanized_only)]
            else:
                searches = [(record.given[family], romanized)]
            for names_of_query, (strings, owners) in searches:
                if not strings:
                    continue
                for given in names_of_query:
                    for _choice, similarity, index in process.extract(
                        given, strings, scorer=fuzz.ratio, score_cutoff=MIN_GIVEN_NAME * 100, limit=None
                    ):
                        other = owners[index]
                        best[other] = max(best.get(other, 0.0), similarity / 100)
            for other, similarity in best.items():
                self.consider(pk, other, blocked_on, similarity)

    def block(self, family: str, members: list[int], *, family_size: int | None = None) -> None:
        """Every comparison within one family block (``family_size``: the whole block's, when ``members`` is
        only part of it)."""
        records = self.records
        by_year: dict[int, list[int]] = defaultdict(list)
        unknown: list[int] = []
        for pk in members:
            year = records[pk].birth_year
            (unknown if year is None else by_year[year]).append(pk)
        only = self.only
        # Known birth years, within the window: each year against itself and the next ones (the pairs the other
        # way round are found from the earlier year), or the one record against every year around its own.
        if only is None:
            for year, pks in by_year.items():
                window = [pk for y in range(year, year + BIRTH_YEAR_WINDOW + 1) for pk in by_year.get(y, ())]
                self.compare_names(family, pks, window, BLOCK_BIRTH_YEAR)
        elif (own_year := records[only].birth_year) is not None:
            years = range(own_year - BIRTH_YEAR_WINDOW, own_year + BIRTH_YEAR_WINDOW + 1)
            window = [pk for y in years for pk in by_year.get(y, ())]
            self.compare_names(family, [only], window, BLOCK_BIRTH_YEAR)
        if not unknown:
            return
        if (family_size if family_size is not None else len(members)) <= SMALL_BLOCK:
            if only is None:
                self.compare_names(family, unknown, members, BLOCK_FAMILY)
            elif only in unknown:
                self.compare_names(family, [only], members, BLOCK_FAMILY)
            else:
                self.compare_names(family, [only], unknown, BLOCK_FAMILY)
            return
        # A large block: records of unknown birth year meet only those held at the same facility, or reported at
        # the same place, at about the same time.
        for attribute, blocked_on in (("facilities", BLOCK_FACILITY), ("places", BLOCK_PLACE)):
            index: dict[Any, list[tuple[int, int]]] = defaultdict(list)
            for pk in members:
                for key, day in getattr(records[pk], attribute):
                    if day is not None:
                        index[key].append((day, pk))
            for entries in index.values():
                entries.sort()
            for pk in unknown if only is None or only in unknown else [only]:
                for key, day in getattr(records[pk], attribute):
                    entries = index.get(key, [])
                    if day is None or not entries:
                        continue
                    start = bisect.bisect_left(entries, (day - DATE_WINDOW_DAYS, -1))
                    for other_day, other in entries[start:]:
                        if other_day > day + DATE_WINDOW_DAYS:
                            break
                        self.consider(pk, other, blocked_on)


def find_pairs(records: dict[int, Record], progress: Progress | None = None) -> dict[tuple[int, int], Found]:
    """Every pair of ``records`` that may be one person, by (smaller pk, larger pk)."""
    matcher = _Matcher(records)
    bar = progress(desc="Comparing", total=len(matcher.families), unit=" families") if progress else None
    for family, members in matcher.families.items():
        matcher.block(family, members)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return matcher.found


# The passes.


def active_persons() -> QuerySet[Person]:
    """The persons the passes compare: every case but the withdrawn ones."""
    return Person.objects.active()


def _store(
    found: dict[tuple[int, int], Found], existing: QuerySet[CandidatePair], *, remove_unfound: bool = True
) -> tuple[int, int]:
    """Create the new pairs and update the score of those not decided yet; pairs not found any more that nobody
    reviewed are removed (by the full pass only: the incremental pass reads fewer records than the full pass
    compares, and must not take away a pair the full pass found). A pair marked the same or different is never
    touched."""
    now = timezone.now()
    new, changed, gone = [], [], []
    seen = set()
    for pk, first, second, decision, old_score, old_reasons, old_block in existing.values_list(
        "pk", "first_id", "second_id", "decision", "score", "reasons", "blocked_on"
    ):
        key = (first, second)
        seen.add(key)
        if decision in (Decision.SAME, Decision.DIFFERENT):
            continue
        pair = found.get(key)
        if pair is None:
            if decision == Decision.PENDING and remove_unfound:
                gone.append(pk)
            continue
        if (pair.score, pair.reasons, pair.blocked_on) != (old_score, old_reasons, old_block):
            changed.append(
                CandidatePair(pk=pk, score=pair.score, reasons=pair.reasons, blocked_on=pair.blocked_on, updated_at=now)
            )
    for (first, second), pair in found.items():
        if (first, second) not in seen:
            new.append(
                CandidatePair(
                    first_id=first,
                    second_id=second,
                    score=pair.score,
                    reasons=pair.reasons,
                    blocked_on=pair.blocked_on,
                    found_at=now,
                    updated_at=now,
                )
            )
    with transaction.atomic():
        if gone:
            CandidatePair.objects.filter(pk__in=gone, decision=Decision.PENDING).delete()
        CandidatePair.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        CandidatePair.objects.bulk_update(changed, ["score", "reasons", "blocked_on", "updated_at"], batch_size=2000)
    return len(new), len(changed)


def named_pair(first: Person, second: Person) -> CandidatePair:
    """The pair of two records a reviewer named (``first`` the one with the lower pk), stored with its score as
    a pass would store it, or as it is stored already. A pair nobody found is kept once decided (:func:`_store`)."""
    existing = CandidatePair.objects.filter(first=first, second=second).first()
    if existing is not None:
        return existing
    records = load_records(Person.objects.filter(pk__in=[first.pk, second.pk]))
    total, parts = score(records[first.pk], records[second.pk])
    pair, _created = CandidatePair.objects.get_or_create(
        first=first, second=second, defaults={"score": total, "reasons": parts, "blocked_on": BLOCK_NAMED}
    )
    return pair


def full_pass(progress: Progress | None = None) -> tuple[int, int]:
    """Compare every case not withdrawn with the others: (pairs created, pairs whose score was updated).

    ``progress(desc=…, total=…, unit=…)`` makes a progress bar (tqdm's signature).
    """
    records = load_records(active_persons())
    found = find_pairs(records, progress)
    return _store(found, CandidatePair.objects.all())


def _prefix_range(field_name: str, prefix: str) -> Q:
    """``field`` starts with ``prefix`` (lower-case letters, or Hangul), as a range its B-tree index serves."""
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)})


def _family_members(family: str) -> dict[int, int | None]:
    """The persons not withdrawn who may be in the block of ``family``, with their birth years: a name or variant
    whose folded key starts with it, or a name in Korean script that starts with its Hangul family name (or, for
    a family name the table does not know, a key that contains it). A superset: the records read are put in
    their blocks by :class:`Record` itself. Read through the indexes of the keys."""
    if family in _canonical_families():
        persons = _prefix_range("name_folded", family)
        for native in _natives_of(family):
            persons |= _prefix_range("native_key", native)
        variants = _prefix_range("folded", family)
    else:
        persons, variants = Q(name_key__contains=family), Q(key__contains=family)
    born = Substr("birth_date", 1, 4, output_field=CharField())
    members: dict[int, int | None] = {}

    def read(found: QuerySet[Person]) -> None:
        for pk, year in found.order_by().annotate(year=born).values_list("pk", "year"):
            members[pk] = int(year) if year else None

    read(active_persons().filter(persons))
    others = set(NameVariant.objects.filter(variants).order_by().values_list("person_id", flat=True)) - set(members)
    for batch in range(0, len(others), 1000):
        read(active_persons().filter(pk__in=sorted(others)[batch : batch + 1000]))
    return members


@cache
def _canonical_families() -> frozenset[str]:
    return frozenset(names.SURNAMES.values())


def _natives_of(family: str) -> set[str]:
    """The Hangul family names that romanize to the canonical ``family`` (김 for kim)."""
    return {native for native, keys in _hangul_families().items() if family in keys}


def _family_scope(family: str, years: set[int | None], meeting: Q | None = None) -> tuple[QuerySet[Person], int]:
    """The persons of ``family``'s block to read for comparing records born in ``years`` (None: unknown), and the
    size of the whole block.

    A small block is read whole. In a larger one only the records born within the window of a known year, and,
    where a birth year is unknown on either side, those with an active event ``meeting`` the record compared's
    (at the same facility or place).
    """
    members = _family_members(family)
    size = len(members)
    if size <= SMALL_BLOCK:
        return Person.objects.filter(pk__in=list(members)), size
    known = {year for year in years if year is not None}
    chosen = {
        pk
        for pk, year in members.items()
        if year is not None and any(abs(year - own) <= BIRTH_YEAR_WINDOW for own in known)
    }
    if meeting is not None:
        # Every record of the family when this one's birth year is unknown, else those of unknown birth year.
        others = [pk for pk, year in members.items() if None in years or year is None]
        for batch in range(0, len(others), 1000):
            met = StatusEvent.objects.active().filter(meeting, person__in=others[batch : batch + 1000]).order_by()
            chosen.update(met.values_list("person_id", flat=True))
    return Person.objects.filter(pk__in=sorted(chosen)), size


def pairs_for(person: Person | int) -> tuple[int, int]:
    """The incremental pass: compare one person with the records that share a block with them (after a change):
    (pairs created, pairs whose score was updated).

    Reads only the records of the person's family names that the blocks would compare with them.
    """
    pk = person.pk if isinstance(person, Person) else person
    records = load_records(active_persons().filter(pk=pk))
    if pk not in records:  # withdrawn: out of the passes (its open pairs leave the queue with it)
        return 0, 0
    record = records[pk]
    places = (
        StatusEvent.objects.active().filter(person_id=pk).exclude(place="").order_by().values_list("place", flat=True)
    )
    meeting = Q(facility__in=[key for key, _day in record.facilities]) | Q(place__in=list(places))
    sizes = {}
    for family in record.given:
        scope, sizes[family] = _family_scope(family, {record.birth_year}, meeting)
        records |= load_records(scope.exclude(pk=pk))
    matcher = _Matcher(records, only=pk)
    for family in record.given:
        matcher.block(family, matcher.families[family], family_size=sizes[family])
    return _store(matcher.found, CandidatePair.objects.for_person(pk), remove_unfound=False)


@cache
def _hangul_families() -> dict[str, set[str]]:
    """Each Hangul syllable that begins a name in the romanizer's tables, with the canonical family names it reads
    as: only the common one-syllable family names need it, and they are read through the surname table."""
    found: dict[str, set[str]] = {}
    for code in range(0xAC00, 0xD7A4):
        syllable = chr(code)
        keys = {key for key, _given, _native in _native_keys.__wrapped__(syllable, "")}
        if keys:
            found[syllable] = keys
    return found


# An import's rows, before it is confirmed.


@dataclass
class Candidate:
    """An existing person a new row may be, with the pair's score and its parts."""

    person: Person
    score: float
    reasons: dict[str, float]


def candidates_for_rows(
    rows: Sequence[tuple[Person, Iterable[str], Iterable[int]]], *, limit: int = 3
) -> list[list[Candidate]]:
    """For each row (an unsaved person, their other names, their category pks): the existing persons it may be,
    best first, at most ``limit``.

    The same blocking and scoring as the passes, one block per family name of the rows: the family's records
    born within the window of a row (or of unknown birth year).
    """
    row_records: list[Record] = []
    for index, (person, other_names, category_ids) in enumerate(rows):
        record = Record(
            -1 - index,
            birth_year=person.birth_date.year if person.birth_date else None,
            sex=person.sex or Sex.UNKNOWN,
            categories=frozenset(category_ids),
        )
        if person.name:
            record.add_name(person.name)
        if person.family_name_native:
            record.add_native(person.family_name_native, person.given_name_native)
        for name in other_names:
            record.add_name(name)
        row_records.append(record)
    families: dict[str, list[Record]] = defaultdict(list)
    for record in row_records:
        for family in record.given:
            families[family].append(record)
    existing: dict[int, Record] = {}
    sizes = {}
    for family, members in families.items():
        scope, sizes[family] = _family_scope(family, {record.birth_year for record in members})
        existing |= load_records(scope)
    results: list[list[Candidate]] = []
    found_pks: set[int] = set()
    scored: list[list[tuple[float, int, dict[str, float]]]] = []
    matcher = _Matcher({**existing, **{record.pk: record for record in row_records}})
    for record in row_records:
        matcher.only, matcher.found = record.pk, {}
        for family in record.given:
            # The existing records of the block, and this row (the file's rows among themselves are the plan's).
            block = [pk for pk in matcher.families[family] if pk > 0 or pk == record.pk]
            matcher.block(family, block, family_size=sizes[family])
        best = sorted(
            ((pair.score, a if a != record.pk else b, pair.reasons) for (a, b), pair in matcher.found.items()),
            key=lambda item: (-item[0], item[1]),
        )[:limit]
        found_pks.update(pk for _score, pk, _reasons in best)
        scored.append(best)
    persons = Person.objects.in_bulk(found_pks)
    for best in scored:
        results.append([Candidate(persons[pk], total, reasons) for total, pk, reasons in best])
    return results

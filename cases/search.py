"""Name search: a family's spelling finds the person, best match first.

One engine for every name search: the public search runs it over the names of
published versions (``public.search``), the staff's person list over every
name staff may see (``workflow.admin.PersonAdmin``). It reads *name tables*:
rows that each give an id (what is found), the name's normalised key, its
folded key and, where stored, its canonical family name (see ``cases.names``).

Matches in steps, best first:

1. the normalised key (case, spaces, hyphens, apostrophes, accents and
   Unicode form ignored) or the folded key (family-name table, romanization
   spellings), through B-tree indexes;
2. the normalised key containing the query (a given name alone, a partial name);
3. small misspellings: on PostgreSQL the indexed trigram ``%`` operator,
   within the same family name when the query has one; elsewhere a bounded
   set of candidates within that family name;

then re-ranks everything found with rapidfuzz. On PostgreSQL the steps are
one query (``UNION ALL``), each step keeping its own order and limit.

A table that stores the canonical family name (``NameTable.given``: the
public names) is searched by its *given name*, the folded key without the
family name, within the family name: steps 2 and 3 compare given names only,
so that the trigrams every "Kim" shares never make every Kim a candidate. On
PostgreSQL one GIN index on (family, given name trigrams) serves both
(migration 0022); each step reads at most ``MAX_RESULTS`` rows.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import reduce

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import F, FloatField, Func, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Substr
from rapidfuzz import fuzz

from . import names
from .models import NameVariant

MAX_RESULTS = 200
# Misspellings re-ranked per search on PostgreSQL: the most similar given names of the family.
MAX_FUZZY_RESULTS = 50
# Candidates scored in Python per fuzzy search when the database has no trigram index.
MAX_FUZZY_CANDIDATES = 5000
FUZZY_CUTOFF = 80.0
# Scores: a step's bonus plus the rapidfuzz similarity (0 to 1), so a better step always ranks first.
EXACT, FOLDED, CONTAINED, FUZZY = 3.0, 2.0, 1.0, 0.0


@dataclass(frozen=True)
class NameTable:
    """Rows of names to search, and the columns that hold each part of a row.

    ``family`` names the column with the canonical family name; when it is
    ``None`` the family name is read from the folded key, which begins with it
    (``cases.names.fold``).
    """

    rows: QuerySet
    id: str = "id"
    key: str = "key"
    folded: str = "folded"
    family: str | None = "family"
    # Search the given name within the family name (steps 2 and 3): only for a table whose ``family`` column
    # holds the family name its folded key begins with.
    given: bool = False

    def values(self, rows: QuerySet) -> QuerySet:
        return rows.values_list(self.id, self.key, self.folded)

    def within_family(self, family: str) -> QuerySet:
        if not family:
            return self.rows
        if self.family is not None:
            return self.rows.filter(**{self.family: family})
        return self.rows.filter(**{f"{self.folded}__startswith": family})

    def given_names(self, family: str) -> QuerySet:
        """The rows within ``family`` (all rows for none), each with ``given_name``: its folded key without the
        family name (the expression the PostgreSQL index of migration 0022 holds, written the same way)."""
        assert self.family is not None, "a table searched by the given name has a family name column"
        rows = self.within_family(family)
        return rows.annotate(given_name=Substr(self.folded, _AfterFamily(F(self.family))))


class _AfterFamily(Func):
    """Where the given name starts in the folded key: ``LENGTH(family) + 1``, the 1 written into the SQL as the
    index of migration 0022 writes it. As a parameter, the statement prepared on PostgreSQL (public.search) could
    not use that index in a plan made once for every value (a generic plan)."""

    function = "LENGTH"
    template = "(%(function)s(%(expressions)s) + 1)"
    output_field = IntegerField()


def search(
    query: str, tables: Sequence[NameTable], *, limit: int = MAX_RESULTS, read: Callable[[QuerySet], list] = list
) -> list[int]:
    """Ids of the rows of ``tables`` whose names match ``query``, best match first (at most ``limit``).

    ``read`` reads the rows of a query: the public search's are prepared statements (``workflow.prepared``).
    """
    key, folded = names.normalise(query), names.fold(query)
    if not key:
        return []
    family = names.split_family(query)[0]
    if not family and key.isascii() and key in names.SURNAMES:
        family = names.SURNAMES[key]  # a family name alone
    scores: dict[int, float] = {}

    def similarity(row_key: str, row_folded: str) -> float:
        return max(fuzz.ratio(key, row_key), fuzz.ratio(folded, row_folded)) / 100

    def add(rows: Iterable[tuple[int, str, str]], bonus: float) -> None:
        for found_id, row_key, row_folded in rows:
            score = bonus + similarity(row_key, row_folded)
            if score > scores.get(found_id, -1.0):
                scores[found_id] = score

    steps = [step for table in tables for step in _steps(table, key, folded, family)]
    for rows, bonus in _read(steps, read):
        if bonus == FUZZY:
            add((row for row in rows if similarity(row[1], row[2]) * 100 >= FUZZY_CUTOFF), bonus)
        else:
            add(rows, bonus)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))  # ties: the same order every time
    return [found_id for found_id, _ in ranked[:limit]]


def search_persons(query: str, persons: QuerySet) -> list[int]:
    """Ids of ``persons`` whose names match ``query``, best match first: every name staff may see.

    The person's name and native name and every name variant, public or
    not. A query in Latin letters is compared with the romanized names, one
    in another script with the native ones (a key is one or the other).
    """
    key = names.normalise(query)
    if key.isascii():
        own = NameTable(persons, id="pk", key="name_key", folded="name_folded", family=None)
    else:
        own = NameTable(persons.exclude(native_key=""), id="pk", key="native_key", folded="native_key", family=None)
    variants = NameTable(NameVariant.objects.filter(person__in=persons), id="person_id", family=None)
    return search(query, [own, variants])


def _read(
    steps: list[tuple[QuerySet, float]], read: Callable[[QuerySet], list]
) -> Iterator[tuple[Iterable[tuple[int, str, str]], float]]:
    """Each step's rows with its bonus. On PostgreSQL every step is read in one query (``UNION ALL``, each step
    with its own order and limit): one round trip rather than one per step, each row with its step's bonus.
    SQLite cannot limit the parts of a compound query: a query per step."""
    if connection.vendor != "postgresql":
        yield from ((read(rows), bonus) for rows, bonus in steps)
        return
    parts = [rows.annotate(bonus=Value(bonus, output_field=FloatField())) for rows, bonus in steps]
    by_bonus: dict[float, list[tuple[int, str, str]]] = {bonus: [] for _rows, bonus in steps}
    for found_id, row_key, row_folded, bonus in read(parts[0].union(*parts[1:], all=True)):
        by_bonus[bonus].append((found_id, row_key, row_folded))
    yield from ((rows, bonus) for bonus, rows in by_bonus.items())


def _steps(table: NameTable, key: str, folded: str, family: str) -> Iterator[tuple[QuerySet, float]]:
    """The queries of each step over one table, with the step's bonus."""
    yield table.values(table.rows.filter(**{table.key: key})), EXACT
    yield table.values(table.rows.filter(**{table.folded: folded}).exclude(**{table.key: key})), FOLDED
    if table.given:
        yield from _given_name_steps(table, key, folded, family)
        return
    if len(key) >= 3:
        yield table.values(table.rows.filter(**{f"{table.key}__contains": key}))[:MAX_RESULTS], CONTAINED
    same_family = table.within_family(family)
    if connection.vendor == "postgresql":
        similar = same_family.filter(Q(**{f"{table.key}__trigram_similar": key}))
        yield table.values(similar)[:MAX_RESULTS], FUZZY
    else:
        yield table.values(same_family)[:MAX_FUZZY_CANDIDATES], FUZZY


def _given_name_steps(table: NameTable, key: str, folded: str, family: str) -> Iterator[tuple[QuerySet, float]]:
    """Steps 2 and 3 by the given name within the family name: candidates that do not grow with the family.

    A family name alone ("Kim") contains every name of that family: at most ``MAX_RESULTS`` of them.
    """
    given = folded[len(family) :] if folded.startswith(family) else folded
    if not given:
        if family:
            yield table.values(table.within_family(family))[:MAX_RESULTS], CONTAINED
        return
    # The whole query may also be a given name whose first syllable is spelled like a family name ("Chun-gil").
    alone = names.fold_given(key) if key.isascii() else key
    contained = [Q(given_name__contains=alone)] if len(alone) >= 3 else []
    if len(given) >= 3:
        within = Q(**{str(table.family): family}) if family else Q()
        contained.append(Q(given_name__contains=given) & within)
    if contained:
        yield table.values(table.given_names("").filter(reduce(operator.or_, contained)))[:MAX_RESULTS], CONTAINED
    rows = table.given_names(family)
    if connection.vendor == "postgresql":
        # The most similar first: of the given names of the family that share enough trigrams, the best few.
        similar = rows.filter(given_name__trigram_similar=given)
        similar = similar.annotate(similarity=TrigramSimilarity("given_name", given)).order_by("-similarity", table.id)
        yield table.values(similar)[:MAX_FUZZY_RESULTS], FUZZY
    else:
        yield table.values(table.within_family(family))[:MAX_FUZZY_CANDIDATES], FUZZY

"""Name search over published cases: a family's spelling finds the person.

Matches in steps, best first, on the public names of current published
versions only (``workflow.PublishedName``), so restricted values can never be
searched for:

1. the normalised key (case, spaces, hyphens, apostrophes, accents and
   Unicode form ignored) or the folded key (family-name table, romanization
   spellings), through B-tree indexes;
2. the normalised key containing the query (a given name alone, a partial name);
3. small misspellings: on PostgreSQL the indexed trigram ``%`` operator,
   within the same family name when the query has one; elsewhere a bounded
   set of candidates within that family name;

then re-ranks everything found with rapidfuzz.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from rapidfuzz import fuzz

from cases import names
from workflow.models import PublishedName

MAX_RESULTS = 200
# Candidates scored in Python per fuzzy search when the database has no trigram index.
MAX_FUZZY_CANDIDATES = 5000
FUZZY_CUTOFF = 80.0


def search(query: str, versions: QuerySet) -> list[int]:
    """Ids of ``versions`` whose public names match ``query``, best match first."""
    key, folded = names.normalise(query), names.fold(query)
    if not key:
        return []
    family = names.split_family(query)[0]
    index = PublishedName.objects.filter(version__in=versions)
    found: dict[int, tuple[str, str, float]] = {}

    def add(rows, bonus: float) -> None:
        for version_id, name_key, name_folded in rows:
            score = bonus + max(fuzz.ratio(key, name_key), fuzz.ratio(folded, name_folded)) / 100
            if score > found.get(version_id, ("", "", -1.0))[2]:
                found[version_id] = (name_key, name_folded, score)

    columns = ("version_id", "key", "folded")
    add(index.filter(key=key).values_list(*columns), 3.0)
    add(index.filter(folded=folded).exclude(key=key).values_list(*columns), 2.0)
    if len(key) >= 3:
        add(index.filter(key__contains=key).values_list(*columns)[:MAX_RESULTS], 1.0)
    same_family = index.filter(family=family) if family else index
    if connection.vendor == "postgresql":
        candidates = same_family.filter(key__trigram_similar=key).values_list(*columns)[:MAX_RESULTS]
    else:
        candidates = same_family.values_list(*columns)[:MAX_FUZZY_CANDIDATES]
    add(
        (row for row in candidates if max(fuzz.ratio(key, row[1]), fuzz.ratio(folded, row[2])) >= FUZZY_CUTOFF),
        0.0,
    )
    ranked = sorted(found.items(), key=lambda item: -item[1][2])
    return [version_id for version_id, _ in ranked[:MAX_RESULTS]]

"""Name search over published cases: a family's spelling finds the person.

Runs the name-matching engine (``cases.search``: exact and folded keys, a
contained key, small misspellings, re-ranked by similarity) on the public
names of current published versions only (``workflow.PublishedName``), so
restricted values can never be searched for. Its query is prepared on the
connection (``workflow.prepared``): planning it took longer than answering it.
"""

from __future__ import annotations

from django.db.models import QuerySet

from cases import search as engine
from workflow.models import PublishedName
from workflow.prepared import rows


def search(query: str, versions: QuerySet) -> list[int]:
    """Ids of ``versions`` whose public names match ``query``, best match first."""
    names = engine.NameTable(PublishedName.objects.filter(version__in=versions), id="version_id", given=True)
    return engine.search(query, [names], read=rows)

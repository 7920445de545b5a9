"""The archived copy of a source's page that the public may download: one rule, for the page and the download.

A copy is public only when all of these hold: an editor marked it public
(``Capture.objects.public_copies()``: the capture is whole, not withdrawn, of a
public source that no case at risk of reprisal cites), and a current published
version cites this very capture (by its id, in the version's record). The rule is read at every
request, so stopping a copy, withdrawing it or restricting its source takes
it off at once (a change to a capture raises the public generation,
workflow.signals, so no kept page offers it).
"""

from __future__ import annotations

from django.db.models import Exists

from archive.models import Capture

from .models import PublishedSource, PublishedVersion


def public_copy(source_id: int, capture_id: int | None) -> Capture | None:
    """Capture ``capture_id`` of ``source_id``'s page, if the public may download it now; else None."""
    if capture_id is None:
        return None
    cited = PublishedSource.objects.filter(
        version__in=PublishedVersion.objects.current(), source_id=source_id, capture_id=capture_id
    )
    return Capture.objects.public_copies().filter(pk=capture_id, source_id=source_id).filter(Exists(cited)).first()

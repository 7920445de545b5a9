"""The archived copy of a source's page that the public may download: one rule, for the page and the download.

A copy is public only when all of these hold: an editor marked it public
(``Capture.objects.public_copies()``: the capture is whole, not withdrawn,
of a public source), and a current published version cites this very capture
(its SHA-256 is the one in the version's record). The rule is read at every
request, so stopping a copy, withdrawing it or restricting its source takes
it off at once (a change to a capture raises the public generation,
workflow.signals, so no kept page offers it).
"""

from __future__ import annotations

from archive.models import Capture

from .models import PublishedSource, PublishedVersion


def public_copy(source_id: int) -> Capture | None:
    """The copy of ``source_id``'s page the public may download, or None."""
    cited = (
        PublishedSource.objects.filter(version__in=PublishedVersion.objects.current(), source_id=source_id)
        .exclude(capture_sha256="")
        .values("capture_sha256")
    )
    return (
        Capture.objects.public_copies()
        .filter(source_id=source_id, body_sha256__in=cited)
        .order_by("-captured_at", "-pk")
        .first()
    )

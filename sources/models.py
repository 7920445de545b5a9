"""Sources, and the citations that tie each claim to the sources behind it."""

from __future__ import annotations

import codecs
import hashlib
import io
import unicodedata
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, ImageSequence
from simple_history.models import HistoricalRecords

from cases.history import EvidentialQuerySet, VersionedModel, WithdrawableModel
from cases.models import Facility, Person, PublicationState, Relation, StatusEvent
from cases.partial_dates import PartialDateField, not_in_the_future, partial_date_check

from .vocabularies import Reliability, SourceKind

__all__ = ["ALLOWED_CONTENT_TYPES", "Citation", "Reliability", "Source", "SourceKind"]


def document_path(instance: Source, filename: str) -> str:
    # An opaque name: the original file name may itself be sensitive
    # ("interview-with-<name>.pdf"), and it must not be guessable.
    return f"sources/{uuid.uuid4().hex}"


def clean_original_filename(name: str) -> str:
    """An uploaded file's own name as text to show: its last path part, without control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(char).startswith("C") else char for char in name)
    return " ".join(name.split())[:255]


# The types a document may have, recognised from its first bytes.
_SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]


# What an uploaded copy may be: documents a browser shows, nothing that runs.
ALLOWED_CONTENT_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/html", "text/plain"}
)


def sniff_content_type(head: bytes) -> str:
    """The document's type from its content, never from its name."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    try:
        # The head may end inside a multi-byte character: decode it as the start of a stream.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "application/octet-stream"
    if "\x00" in text:
        return "application/octet-stream"
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if lowered.startswith(("<!doctype html", "<html")):
        return "text/html"
    return "text/plain"


_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


def strip_image_metadata(upload, content_type: str) -> ContentFile:
    """The image re-encoded without EXIF, GPS position, comments or text chunks.

    A photo can reveal where a family member lives. Orientation is applied to
    the pixels first, so the picture still looks the way it was taken.
    """
    upload.seek(0)
    with Image.open(upload) as image:
        frames = [ImageOps.exif_transpose(frame.copy()) for frame in ImageSequence.Iterator(image)]
        for frame in frames:
            frame.info = {}  # comments, text chunks, EXIF and XMP are written back from here
        output = io.BytesIO()
        options: dict[str, object] = {"quality": 95} if content_type == "image/jpeg" else {}
        if content_type == "image/webp":
            options = {"lossless": True}  # never lose pixels of a lossless original
        if len(frames) > 1:
            options.update(
                save_all=True,
                append_images=frames[1:],
                duration=image.info.get("duration"),
                loop=image.info.get("loop", 0),
            )
        frames[0].save(output, format=_PIL_FORMATS[content_type], **options)
    return ContentFile(output.getvalue(), name=getattr(upload, "name", "image"))


class SourceQuerySet(EvidentialQuerySet):
    def public(self) -> SourceQuerySet:
        """Sources the public may see: not restricted, not withdrawn (the rule of ``Source.is_public``)."""
        return self.filter(is_restricted=False, withdrawn=False)


class Source(WithdrawableModel, VersionedModel):
    title = models.CharField(_("title"), max_length=500)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind, default=SourceKind.OTHER)
    publisher = models.CharField(_("publisher or author"), max_length=300, blank=True)
    published_on = PartialDateField(_("publication date"))
    url = models.URLField(_("URL"), max_length=2000, blank=True)
    archived_url = models.URLField(_("archived URL"), max_length=2000, blank=True)
    document = models.FileField(_("uploaded copy"), upload_to=document_path, blank=True, max_length=200)
    # The name the file had on the uploader's computer: shown to staff and given back on download, never
    # used as a path (the stored name is opaque, see document_path).
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    file_size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True, editable=False)
    content_type = models.CharField(_("content type"), max_length=100, blank=True, editable=False)
    accessed_on = models.DateField(_("accessed on"), null=True, blank=True, validators=[not_in_the_future])
    language = models.CharField(_("language"), max_length=20, blank=True, help_text=_("e.g. en, ko"))
    reliability = models.CharField(_("reliability"), max_length=20, choices=Reliability, default=Reliability.UNKNOWN)
    is_restricted = models.BooleanField(
        _("restricted"),
        default=True,
        help_text=_("A restricted source (confidential testimony, for instance) is never public. Untick to allow it."),
    )
    internal_notes = models.TextField(_("internal notes"), blank=True, help_text=_("Restricted: never public."))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()
    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        permissions = [("download_document", "Can download the uploaded copy of a source")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256="") | Q(sha256__regex=r"^[0-9a-f]{64}$"), name="source_sha256_is_hex"
            ),
            # The same document or address is one source, cited many times.
            models.UniqueConstraint(fields=["sha256"], condition=~Q(sha256=""), name="source_sha256_unique"),
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="source_url_unique"),
            models.CheckConstraint(condition=~Q(title=""), name="source_has_title"),
            partial_date_check("published_on", "source"),
        ]

    def __str__(self) -> str:
        return self.title

    def published_cases(self):
        """Published cases with an active citation of this source: restricting or withdrawing it takes
        the claims that rest on it off their public records (workflow.snapshots), so it is said first."""
        return self.citations.active().persons().filter(publication_state=PublicationState.PUBLISHED)

    @property
    def choice_label(self) -> str:
        """Enough to tell two sources apart where one is chosen: title · publisher · date · site."""
        site = urlsplit(self.url).netloc.removeprefix("www.") if self.url else ""
        parts = [self.title, self.publisher, str(self.published_on or ""), site]
        return " · ".join(part for part in parts if part)

    @property
    def is_public(self) -> bool:
        """Not restricted, not withdrawn: the same rule as ``Source.objects.public()``."""
        return not self.is_restricted and not self.withdrawn

    def save(self, *args, **kwargs) -> None:
        if not self.document:
            self.sha256, self.file_size, self.content_type, self.original_filename = "", None, "", ""
        elif not self.sha256:
            self._describe_document()
        super().save(*args, **kwargs)

    def _describe_document(self) -> None:
        """Compute the SHA-256, size and type of the uploaded copy on the server."""
        digest, size, head = hashlib.sha256(), 0, b""
        self.document.open("rb")
        try:
            for chunk in self.document.chunks():
                if not head:
                    head = chunk[:2048]
                digest.update(chunk)
                size += len(chunk)
        finally:
            self.document.seek(0)
        self.sha256, self.file_size, self.content_type = digest.hexdigest(), size, sniff_content_type(head)


# The persons a citation is about: the person it backs, its status event's, or either side of its relation.
CITED_PERSON_PATHS = ("person_id", "status_event__person_id", "relation__person_id", "relation__other_id")


class CitationQuerySet(EvidentialQuerySet):
    def active(self) -> CitationQuerySet:
        return self.filter(withdrawn=False)

    def about(self, persons) -> CitationQuerySet:
        """Citations about any of ``persons`` (a queryset of persons, or of their pks)."""
        condition = Q()
        for path in CITED_PERSON_PATHS:
            condition |= Q(**{f"{path}__in": persons})
        return self.filter(condition)

    def persons(self):
        """The persons these citations are about (``CITED_PERSON_PATHS``)."""
        condition = Q()
        for path in CITED_PERSON_PATHS:
            condition |= Q(pk__in=self.values(path))
        return Person.objects.filter(condition)

    def public(self) -> CitationQuerySet:
        """Active citations of public sources: the only ones a public record may show.

        The rule of ``Citation.is_public_evidence``; a public record also keeps
        only the citations of claims it holds (``workflow.snapshots``).
        """
        return self.active().filter(source__in=Source.objects.public())


# What a citation may back: exactly one of these.
CLAIM_FIELDS = ("person", "status_event", "facility", "relation")


def exactly_one_of(fields: tuple[str, ...]) -> Q:
    """Exactly one of the foreign keys ``fields`` is set."""
    condition = Q()
    for chosen in fields:
        condition |= Q(**{f"{field}__isnull": field != chosen for field in fields})
    return condition


class Citation(WithdrawableModel, VersionedModel):
    """A source backing one claim: about a person, one status event, a facility, or a relation between persons."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations", verbose_name=_("source"))
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="citations", verbose_name=_("person")
    )
    status_event = models.ForeignKey(
        StatusEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="citations",
        verbose_name=_("status event"),
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="citations", verbose_name=_("facility")
    )
    relation = models.ForeignKey(
        Relation, on_delete=models.PROTECT, null=True, blank=True, related_name="citations", verbose_name=_("relation")
    )
    locator = models.CharField(_("locator"), max_length=200, blank=True, help_text=_("e.g. “para. 354”, “p. 12”"))
    excerpt = models.TextField(_("quoted excerpt"), blank=True)
    note = models.TextField(_("internal note"), blank=True, help_text=_("Restricted: never public."))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()
    objects = CitationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        constraints = [
            models.CheckConstraint(condition=exactly_one_of(CLAIM_FIELDS), name="citation_cites_exactly_one_claim"),
        ]

    def __str__(self) -> str:
        where = f", {self.locator}" if self.locator else ""
        return f"{self.source}{where}"

    @property
    def is_public_evidence(self) -> bool:
        """Not withdrawn, and its source is public: the same rule as ``Citation.objects.public()``."""
        return not self.withdrawn and self.source.is_public

    @property
    def case_person_ids(self) -> list[int]:
        """The persons whose cases the cited claim belongs to: one, two for a relation, none for a facility."""
        claim = self.claim
        if isinstance(claim, Person):
            return [claim.pk]
        if isinstance(claim, StatusEvent):
            return [claim.person_id]
        if isinstance(claim, Relation):
            return [claim.person_id, claim.other_id]
        return []

    @property
    def claim(self) -> Person | StatusEvent | Facility | Relation:
        """What the citation backs: exactly one of them (a database constraint)."""
        claim = self.person or self.status_event or self.facility or self.relation
        assert claim is not None
        return claim

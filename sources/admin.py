import hashlib
import re

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from cases.admin import TrackedAdmin, VersionedModelForm, https_url_fields, withdraw_selected
from cases.models import Person, StatusEvent

from .models import (
    ALLOWED_CONTENT_TYPES,
    Citation,
    Source,
    clean_original_filename,
    sniff_content_type,
    strip_image_metadata,
)


class DocumentInput(forms.FileInput):
    """The uploaded copy: its original name, linked to the staff download, and a box to upload a replacement.

    Django's own widget links to the file's storage URL, which does not exist
    (uploads have no public address), and offers a "Clear" box that would
    detach the evidence. A document is replaced by uploading another; the
    history keeps the one before.
    """

    def render(self, name, value, attrs=None, renderer=None):
        file_input = super().render(name, None, attrs, renderer)
        source = getattr(value, "instance", None)
        if not value or source is None or source.pk is None:
            return file_input
        return format_html(
            '<p class="file-upload">{}: <a href="{}">{}</a><br>{} {}</p>',
            _("Currently"),
            reverse("sources:document", args=[source.pk]),
            source.original_filename or _("the uploaded copy"),
            _("Replace it with another file:"),
            file_input,
        )


def _existing_source_message(source: Source, message: str) -> str:
    """``message`` (with ``%(source)s``) naming ``source`` as a link to its page."""
    link = format_html('<a href="{}">“{}”</a>', reverse("admin:sources_source_change", args=[source.pk]), source)
    return mark_safe(escape(message) % {"source": link})  # noqa: S308 (the message escaped, the link built escaped)


class SourceForm(VersionedModelForm):
    restriction_reason = forms.CharField(
        label=_("Why restrict it?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_(
            "Needed when published cases cite this source: their claims that rest on it leave the public site "
            "at once. Recorded in the history."
        ),
    )

    class Meta:
        model = Source
        fields = "__all__"
        formfield_callback = https_url_fields
        widgets = {"document": DocumentInput}

    def restricting_published_evidence(self, cleaned_data) -> list:
        """The published cases this save would take evidence from (the source becomes restricted)."""
        if self.instance._state.adding or not cleaned_data.get("is_restricted"):
            return []
        if Source.objects.filter(pk=self.instance.pk, is_restricted=True).exists():
            return []
        return list(self.instance.published_cases().order_by("case_id"))

    def clean_document(self):
        document = self.cleaned_data.get("document")
        if not document or not hasattr(document, "content_type"):
            return document  # unchanged, or cleared
        limit = settings.SOURCE_UPLOAD_MAX_BYTES
        if document.size > limit:
            raise ValidationError(
                gettext("The file is %(size)s; uploads are limited to %(limit)s.")
                % {"size": filesizeformat(document.size), "limit": filesizeformat(limit)}
            )
        digest, head = hashlib.sha256(), b""
        for chunk in document.chunks():
            head = head or chunk[:2048]
            digest.update(chunk)
        document.seek(0)
        content_type = sniff_content_type(head)
        if content_type not in ALLOWED_CONTENT_TYPES:
            raise ValidationError(
                _(
                    "This file is not a PDF, an image (PNG, JPEG, GIF, WebP), an HTML page or plain text, "
                    "whatever its name says. Convert it to one of those, or link to it by URL."
                )
            )
        if content_type.startswith("image/"):
            try:
                document = strip_image_metadata(document, content_type)
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                # Unreadable, truncated, or a decompression bomb.
                raise ValidationError(_("This image could not be read: it may be damaged. Try another copy.")) from None
            digest = hashlib.sha256(document.read())
            document.seek(0)
        twin = Source.objects.filter(sha256=digest.hexdigest()).exclude(pk=self.instance.pk).first()
        if twin is not None:
            raise ValidationError(
                _existing_source_message(
                    twin, gettext("This file is already source %(source)s: cite that source instead of adding a twin.")
                )
            )
        # The server, not the upload, says what the document is; the name is kept as text, to show and give back.
        self.instance.sha256 = ""
        self.instance.original_filename = clean_original_filename(document.name)
        return document

    def clean_url(self):
        url = self.cleaned_data.get("url", "")
        twin = Source.objects.filter(url=url).exclude(pk=self.instance.pk).first() if url else None
        if twin is not None:
            raise ValidationError(
                _existing_source_message(
                    twin, gettext("This URL is already source %(source)s: cite that source instead of adding a twin.")
                )
            )
        return url

    def clean(self):
        cleaned_data = super().clean()
        if not (cleaned_data.get("url") or cleaned_data.get("document") or cleaned_data.get("publisher")):
            self.add_error(None, _("Give a URL, an uploaded copy, or at least who published the source."))
        affected = self.restricting_published_evidence(cleaned_data)
        if affected and not cleaned_data.get("restriction_reason", "").strip():
            self.add_error(
                "restriction_reason",
                _(
                    "Published cases cite this source: %(cases)s. Restricting it takes the claims that rest on it "
                    "off their public pages at once (each case then appears under “needs attention” on the "
                    "dashboard). Say why it is restricted."
                )
                % {"cases": ", ".join(str(person) for person in affected)},
            )
        return cleaned_data


class CitingClaimInline(admin.TabularInline):
    """Every claim that cites the source, on the source's page."""

    model = Citation
    fields = readonly_fields = ("claim", "locator", "excerpt", "withdrawn")
    extra = 0
    can_delete = False
    verbose_name = _("claim citing this source")
    verbose_name_plural = _("claims citing this source")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("claim"))
    def claim(self, citation: Citation) -> str:
        claim = citation.claim
        if isinstance(claim, Person):
            url = reverse("admin:cases_person_change", args=[claim.pk])
            return format_html('<a href="{}">{}</a> {}', url, claim, _("(about the person)"))
        url = reverse("admin:cases_statusevent_change", args=[claim.pk])
        return format_html('<a href="{}">{}</a>', url, claim)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "status_event__person")


@admin.register(Source)
class SourceAdmin(TrackedAdmin):
    form = SourceForm
    list_display = ["title", "kind", "publisher", "published_on", "reliability", "is_restricted", "withdrawn"]
    list_filter = ["kind", "reliability", "is_restricted", "withdrawn"]
    search_fields = ["title", "publisher", "url", "published_on"]
    readonly_fields = [
        "download",
        "sha256",
        "file_size",
        "content_type",
        "withdrawn",
        "withdrawn_reason",
        "cited_by_published_cases",
    ]
    inlines = [CitingClaimInline]
    actions = [withdraw_selected]
    fieldsets = [
        (None, {"fields": ["title", "kind", "publisher", "published_on", "language", "reliability"]}),
        (_("Where to find it"), {"fields": ["url", "archived_url", "accessed_on"]}),
        (_("Uploaded copy"), {"fields": ["document", "download", "sha256", "file_size", "content_type"]}),
        (
            _("Restricted"),
            {
                "fields": [
                    "cited_by_published_cases",
                    "is_restricted",
                    "restriction_reason",
                    "internal_notes",
                    "withdrawn",
                    "withdrawn_reason",
                ]
            },
        ),
    ]

    @admin.display(description=_("cited by published cases"))
    def cited_by_published_cases(self, source: Source) -> str:
        cases = list(source.published_cases().order_by("case_id")) if source.pk else []
        if not cases:
            return str(_("none: restricting or withdrawing it changes no public page"))
        return format_html_join(
            ", ", '<a href="{}">{}</a>', ((reverse("admin:cases_person_change", args=[p.pk]), p) for p in cases)
        )

    def change_reason(self, request, form, change: bool) -> str:
        reason = form.cleaned_data.get("restriction_reason", "").strip() if hasattr(form, "cleaned_data") else ""
        return reason or super().change_reason(request, form, change)

    def withdrawal_consequences(self, sources) -> list[str]:
        """Shown before a withdrawal: the published cases whose claims rest on these sources."""
        return [
            _("“%(source)s” is cited by the published cases %(cases)s.")
            % {"source": source, "cases": ", ".join(str(person) for person in cases)}
            for source in sources
            if (cases := list(source.published_cases().order_by("case_id")))
        ]

    def get_search_results(self, request, queryset, search_term):
        # The label a source is chosen by (Source.choice_label) is also what finds it: its separators
        # and quotation marks are not part of any word.
        search_term = re.sub(r"[·—–,;()“”\"«»]", " ", search_term)
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("download"))
    def download(self, source: Source) -> str:
        if not source.document:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("sources:document", args=[source.pk]),
            source.original_filename or _("Download the uploaded copy"),
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read-only, Django would show the document as a link to its storage URL, which does not exist (uploads
        # have no public address): "download" names it and links to the staff download instead.
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "document"]})
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


class CitationForm(VersionedModelForm):
    """A citation of one claim. The claim comes from the page it was opened from and is shown, not chosen."""

    class Meta:
        model = Citation
        fields = "__all__"
        widgets = {"person": forms.HiddenInput, "status_event": forms.HiddenInput}

    def clean(self):
        cleaned_data = super().clean()
        # A new citation's claim comes from the form; an existing one keeps its own (not in the form).
        adding = self.instance._state.adding
        if adding and bool(cleaned_data.get("person")) == bool(cleaned_data.get("status_event")):
            raise ValidationError(
                _("A citation backs exactly one claim: open the person's page and cite from the claim there.")
            )
        return cleaned_data


def claim_from(params) -> Person | StatusEvent | None:
    """The claim named by ``?person=`` or ``?status_event=`` (what the person's page links to), if it exists."""
    for name, model in (("person", Person), ("status_event", StatusEvent)):
        value = params.get(name, "")
        if value.isdigit():
            return model.objects.select_related(*(["person"] if model is StatusEvent else [])).filter(pk=value).first()
    return None


def _person_of(claim: Person | StatusEvent) -> Person:
    return claim if isinstance(claim, Person) else claim.person


@admin.register(Citation)
class CitationAdmin(TrackedAdmin):
    """Citations are made from the claim they back: from a status event, or from the person, on the person's page.

    The add page is opened with ``?status_event=<id>`` or ``?person=<id>``,
    shows that claim and saves the citation on it; without one it explains
    where to start. A citation's claim never moves to another claim or case.
    """

    form = CitationForm
    change_form_template = "admin/sources/citation/change_form.html"
    list_display = ["source", "person", "status_event", "locator", "withdrawn"]
    list_filter = ["withdrawn"]
    search_fields = ["source__title", "person__case_id", "person__name", "locator"]
    autocomplete_fields = ["source"]
    list_select_related = ["source", "person", "status_event__person"]
    readonly_fields = ["withdrawn", "withdrawn_reason"]
    actions = [withdraw_selected]
    fieldsets = [
        (None, {"fields": ["person", "status_event", "source", "locator", "excerpt"]}),
        (_("Restricted"), {"fields": ["note", "withdrawn", "withdrawn_reason"]}),
    ]

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not _person_of(obj.claim).is_closed_to(request.user))

    def get_readonly_fields(self, request, obj=None):
        # Once made, a citation stays with its claim.
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "person", "status_event"] if obj is not None else readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # A new citation is not withdrawn; an existing one keeps its claim (shown above the form, not in it).
        hidden = ("withdrawn", "withdrawn_reason") if obj is None else ("person", "status_event")
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def add_view(self, request, form_url="", extra_context=None):
        claim = claim_from(request.POST if request.method == "POST" else request.GET)
        if claim is not None and _person_of(claim).is_closed_to(request.user):
            raise PermissionDenied(_("This case is withdrawn: only an editor may cite sources for it."))
        if claim is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            context = {
                **self.admin_site.each_context(request),
                "title": _("Cite a source"),
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/sources/citation/choose_claim.html", context)
        return super().add_view(request, form_url, {**(extra_context or {}), "claim": claim})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        citation = self.get_object(request, object_id)
        claim = citation.claim if citation is not None else None
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "claim": claim})

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST:
            # Another source for the same claim.
            claim = f"status_event={obj.status_event_id}" if obj.status_event_id else f"person={obj.person_id}"
            return HttpResponseRedirect(f"{reverse('admin:sources_citation_add')}?{claim}")
        if {"_continue", "_popup"} & set(request.POST):
            return response
        # Back to the person whose claim was cited, where the citation now shows.
        return HttpResponseRedirect(reverse("admin:cases_person_change", args=[obj.case_person_ids[0]]))

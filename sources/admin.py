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

from cases.admin import ListedInline, TrackedAdmin, VersionedModelForm, https_url_fields, withdraw_selected
from cases.models import Facility, Person, Relation, StatusEvent
from cases.places import PUBLISH_PERMISSION

from .models import (
    ALLOWED_CONTENT_TYPES,
    CLAIM_FIELDS,
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


class CitationListInline(ListedInline):
    """The citations of one claim (``fk_name``: a person, a facility, a relation), listed with their sources;
    each is added from the claim's "Cite a source" link."""

    model = Citation
    fields = readonly_fields = ("source", "locator", "excerpt", "withdrawn")
    listed_with = ("source",)


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
        url = reverse(f"admin:cases_{claim._meta.model_name}_change", args=[claim.pk])
        about = {
            Person: _("(about the person)"),
            Facility: _("(about the facility)"),
            Relation: _("(a relation between persons)"),
        }.get(type(claim))
        if about is None:
            return format_html('<a href="{}">{}</a>', url, claim)
        return format_html('<a href="{}">{}</a> {}', url, claim, about)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("person", "status_event__person", "facility", "relation__person", "relation__other")
        )


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

    def has_change_permission(self, request, obj=None):
        # A public facility's page shows its sources as they are now: only someone who may publish
        # facilities changes one it cites (untick "restricted", retitle it…), as for the facility itself.
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or request.user.has_perm(PUBLISH_PERMISSION):
            return allowed
        return not obj.citations.active().filter(facility__in=Facility.objects.public()).exists()

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
        if not source.document or source.pk is None:  # nothing stored yet: an add form shown again with its errors
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
        widgets = dict.fromkeys(CLAIM_FIELDS, forms.HiddenInput)

    def clean(self):
        cleaned_data = super().clean()
        # A new citation's claim comes from the form; an existing one keeps its own (not in the form).
        adding = self.instance._state.adding
        if adding and sum(bool(cleaned_data.get(name)) for name in CLAIM_FIELDS) != 1:
            raise ValidationError(
                _(
                    "A citation backs exactly one claim: open the page of the person, the facility or the relation "
                    "and cite from the claim there."
                )
            )
        return cleaned_data


Claim = Person | StatusEvent | Facility | Relation
# What each claim field names, and what to read with it.
CLAIM_MODELS: dict[str, tuple[type[Claim], list[str]]] = {
    "person": (Person, []),
    "status_event": (StatusEvent, ["person"]),
    "facility": (Facility, []),
    "relation": (Relation, ["person", "other"]),
}


def claim_from(params) -> Claim | None:
    """The claim named by ``?person=``, ``?status_event=``, ``?facility=`` or ``?relation=`` (what the pages
    of persons, facilities and relations link to), if it exists."""
    for name, (model, related) in CLAIM_MODELS.items():
        value = params.get(name, "")
        # ASCII digits only ("²" is a digit to str.isdigit), and few enough for a database key.
        if value.isascii() and value.isdecimal() and len(value) <= 18:
            return model.objects.select_related(*related).filter(pk=value).first()
    return None


def claim_field(claim: Claim) -> str:
    """The citation's field that names ``claim``: "person", "status_event", "facility" or "relation"."""
    return next(name for name, (model, _related) in CLAIM_MODELS.items() if isinstance(claim, model))


def _person_of(claim: Person | StatusEvent) -> Person:
    return claim if isinstance(claim, Person) else claim.person


def claim_refusal(claim: Claim, user) -> str | None:
    """Why ``user`` may not cite a source for ``claim``, or change a citation of it; None when they may.

    The claims of a withdrawn case are an editor's until it returns to draft;
    a public facility's citations are on the public site with it, so only
    someone who may publish facilities cites for one.
    """
    if isinstance(claim, Facility):
        if claim.is_public and not user.has_perm(PUBLISH_PERMISSION):
            return gettext("This facility is on the public site: only an editor may cite sources for it.")
        return None
    persons = [claim.person, claim.other] if isinstance(claim, Relation) else [_person_of(claim)]
    if any(person.is_closed_to(user) for person in persons):
        return gettext("This case is withdrawn: only an editor may cite sources for it.")
    return None


@admin.register(Citation)
class CitationAdmin(TrackedAdmin):
    """Citations are made from the claim they back: a status event or the person, on the person's page; a
    facility or a relation between persons, on its own page.

    The add page is opened with ``?status_event=<id>``, ``?person=<id>``,
    ``?facility=<id>`` or ``?relation=<id>``, shows that claim and saves the
    citation on it; without one it explains where to start. A citation's
    claim never moves to another claim or case.
    """

    form = CitationForm
    change_form_template = "admin/sources/citation/change_form.html"
    list_display = ["source", "person", "status_event", "facility", "relation", "locator", "withdrawn"]
    list_filter = ["withdrawn"]
    search_fields = ["source__title", "person__case_id", "person__name", "facility__name", "locator"]
    autocomplete_fields = ["source"]
    list_select_related = [
        "source",
        "person",
        "status_event__person",
        "facility",
        "relation__person",
        "relation__other",
    ]
    readonly_fields = ["withdrawn", "withdrawn_reason"]
    actions = [withdraw_selected]
    fieldsets = [
        (None, {"fields": [*CLAIM_FIELDS, "source", "locator", "excerpt"]}),
        (_("Restricted"), {"fields": ["note", "withdrawn", "withdrawn_reason"]}),
    ]

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or claim_refusal(obj.claim, request.user) is None)

    def get_readonly_fields(self, request, obj=None):
        # Once made, a citation stays with its claim.
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *CLAIM_FIELDS] if obj is not None else readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # A new citation is not withdrawn; an existing one keeps its claim (shown above the form, not in it).
        hidden = ("withdrawn", "withdrawn_reason") if obj is None else CLAIM_FIELDS
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def add_view(self, request, form_url="", extra_context=None):
        claim = claim_from(request.POST if request.method == "POST" else request.GET)
        refusal = claim_refusal(claim, request.user) if claim is not None else None
        if refusal is not None:
            raise PermissionDenied(refusal)
        if claim is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            context = {
                **self.admin_site.each_context(request),
                "title": _("Cite a source"),
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/sources/citation/choose_claim.html", context)
        return super().add_view(request, form_url, {**(extra_context or {}), **self.claim_context(claim)})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        citation = self.get_object(request, object_id)
        claim = citation.claim if citation is not None else None
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **self.claim_context(claim)})

    def claim_context(self, claim: Claim | None) -> dict:
        """The claim shown above the form, what it is, and the page it belongs to."""
        if claim is None:
            return {"claim": None}
        if isinstance(claim, Facility | Relation):
            back = reverse(f"admin:cases_{claim._meta.model_name}_change", args=[claim.pk])
        else:
            back = reverse("admin:cases_person_change", args=[_person_of(claim).pk])
        return {"claim": claim, "claim_kind": claim_field(claim), "claim_page": back}

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST:
            # Another source for the same claim.
            field = claim_field(obj.claim)
            return HttpResponseRedirect(f"{reverse('admin:sources_citation_add')}?{field}={obj.claim.pk}")
        if {"_continue", "_popup"} & set(request.POST):
            return response
        # Back to the page the claim was cited from, where the citation now shows.
        return HttpResponseRedirect(self.claim_context(obj.claim)["claim_page"])

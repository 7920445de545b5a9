"""The staff side of detention facilities and the authorities responsible, and of who is believed responsible
for a status event.

Anyone who may change a facility or an authority records it; only someone who
may publish them (``cases.publish_facility``: editors) makes one public, and
only they change one that is public (:meth:`cases.places.PlaceRecord.may_be_changed_by`):
a public facility is on the public site at once, so nothing reaches it
unreviewed. Facilities and authorities are withdrawn, never deleted; a
withdrawn one is no longer offered where an event, a facility or a body is
given one.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    LabelledTabularInline,
    ListedInline,
    TrackedAdmin,
    VersionedInlineFormSet,
    VersionedModelForm,
    active_or_current,
    withdraw_selected,
)
from cases.models import Authority, Facility, FacilityName, Responsibility, StatusEvent
from cases.places import PUBLISH_PERMISSION
from cases.vocabularies import in_every_language
from sources.admin import CitationListInline

from .models import PublishedAuthority, PublishedPlacement, PublishedVersion


def may_publish_places(user) -> bool:
    return user.has_perm(PUBLISH_PERMISSION)


def may_cite(user, facility: Facility) -> bool:
    """Whether ``user`` may cite a source for ``facility``: its citations of public sources are on the public
    site with it, so a public facility is cited only by someone who may publish it."""
    return user.has_perm("sources.add_citation") and (not facility.is_public or may_publish_places(user))


class PlaceForm(VersionedModelForm):
    """A facility's or an authority's form: the chosen operating authority or parent body is one not withdrawn."""

    user = None  # set by PlaceAdmin.get_form: who is editing
    related_field = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.related_field in self.fields:
            active_or_current(self.fields[self.related_field], getattr(self.instance, f"{self.related_field}_id"))

    def clean(self):
        cleaned_data = super().clean()
        # The field is read-only for them; a form built without that (a forged post) is refused all the same.
        if cleaned_data.get("is_public") and self.user is not None and not may_publish_places(self.user):
            raise ValidationError(_("Only an editor may make this public."), code="publish")
        return cleaned_data


class AuthorityForm(PlaceForm):
    related_field = "parent"

    class Meta:
        model = Authority
        fields = "__all__"


class FacilityForm(PlaceForm):
    related_field = "authority"

    class Meta:
        model = Facility
        fields = "__all__"


class PlaceAdmin(TrackedAdmin):
    """What the facility and authority admins share: the publishing rule, withdrawal, search in any spelling."""

    form = PlaceForm
    actions = [withdraw_selected]
    readonly_fields = ["created_at", "updated_at", "withdrawn", "withdrawn_reason", "on_published_cases"]
    # The index of the published cases that name a record: PublishedPlacement or PublishedAuthority, and its field.
    published_index: tuple[type[PublishedPlacement] | type[PublishedAuthority], str]

    @admin.display(description=_("named by published cases"))
    def on_published_cases(self, record) -> str:
        """The cases on the public site that name the record: making it non-public or withdrawing it takes it
        off their pages at once."""
        index, field = self.published_index
        versions = index.objects.filter(**{field: record.pk}).values("version")
        cases = PublishedVersion.objects.filter(pk__in=versions).order_by("case_id") if record.pk else []
        if not cases:
            return str(_("none"))
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:cases_person_change", args=[case.person_id]), case.case_id) for case in cases),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if may_publish_places(request.user) else [*readonly, "is_public"]

    def has_change_permission(self, request, obj=None):
        # A public record is on the public site: only an editor changes it (or withdraws it).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.may_be_changed_by(request.user))

    def get_search_results(self, request, queryset, search_term):
        """By any spelling of any name ("Yodok", "Yodeok", "요덕": ``PlaceQuerySet.matching``) and by the
        other searched fields; where one is chosen for a record (the autocomplete), only those not withdrawn."""
        if request.path == reverse("admin:autocomplete"):
            queryset = queryset.active()
        term = search_term.strip()
        if not term:
            return queryset, False
        by_text, _distinct = super().get_search_results(request, queryset, term)
        spelled = [record.pk for record in self.with_spellings(queryset).matching(term)]
        return queryset.filter(pk__in=[*by_text.values_list("pk", flat=True), *spelled]), False

    def with_spellings(self, queryset):
        return queryset

    def publication_fieldset(self, obj):
        fields = ["is_public", "on_published_cases"] if obj is not None else ["is_public"]
        description = _(
            "Public: shown on the public site at once, with the published cases that name it. Making it non-public "
            "or withdrawing it takes it off their pages at once."
        )
        return (_("Publication"), {"fields": fields, "description": description})

    def record_fieldset(self, obj):
        fields = ["created_at", "updated_at", "withdrawn", "withdrawn_reason", "expected_version"]
        return [(_("Record"), {"fields": fields})] if obj is not None else []


@admin.register(Authority)
class AuthorityAdmin(PlaceAdmin):
    form = AuthorityForm
    published_index = (PublishedAuthority, "authority_id")
    change_form_template = "admin/cases/authority/change_form.html"
    list_display = ["name", "name_ko", "parent", "country", "is_public", "withdrawn"]
    list_filter = ["is_public", "withdrawn", "country"]
    # Searched in any spelling by get_search_results; these by their text.
    search_fields = in_every_language("name")
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]

    def get_fieldsets(self, request, obj=None):
        return [
            (_("Names"), {"fields": in_every_language("name")}),
            (_("Where it stands"), {"fields": ["parent", "country"]}),
            (_("Public description"), {"fields": in_every_language("description")}),
            (_("Restricted"), {"fields": ["internal_notes"]}),
            self.publication_fieldset(obj),
            *self.record_fieldset(obj),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        authority = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if authority is not None:
            extra_context.update(
                units=authority.units.order_by("name"), facilities=authority.facilities.order_by("name")
            )
        return super().change_view(request, object_id, form_url, extra_context)


class FacilityNameInline(LabelledTabularInline):
    """Other names and spellings of a facility. Those of a public facility are on the public site when public:
    only an editor changes them, or makes one public."""

    model = FacilityName
    fields = ["name", "is_public", "note"]
    extra = 1
    verbose_name = _("other name or spelling")
    verbose_name_plural = _("other names and spellings")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if may_publish_places(request.user) else [*readonly, "is_public"]

    def _may_edit(self, request, obj) -> bool:
        return obj is None or obj.may_be_changed_by(request.user)

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class FacilityCitationInline(CitationListInline):
    """The sources behind what is said of the facility; each added from "Cite a source about this facility"."""

    fk_name = "facility"
    verbose_name = _("citation about the facility")
    verbose_name_plural = _("citations about the facility")


class EventAtFacilityInline(ListedInline):
    """The status events recorded at the facility, each linked to its page."""

    model = StatusEvent
    fk_name = "facility"
    fields = readonly_fields = ("person", "status", "date", "is_public", "withdrawn")
    listed_with = ("person",)
    verbose_name = _("status event at this facility")
    verbose_name_plural = _("status events at this facility")


@admin.register(Facility)
class FacilityAdmin(PlaceAdmin):
    form = FacilityForm
    published_index = (PublishedPlacement, "facility_id")
    change_form_template = "admin/cases/facility/change_form.html"
    list_display = ["name", "name_ko", "kind", "authority", "province", "is_public", "withdrawn"]
    list_filter = ["kind", "is_public", ("authority", admin.RelatedOnlyFieldListFilter), "withdrawn"]
    # Names are searched in any spelling by get_search_results; these by their text.
    search_fields = [*in_every_language("name"), "name_hanja", *in_every_language("province"), "county"]
    autocomplete_fields = ["authority"]
    list_select_related = ["authority"]
    inlines = [FacilityNameInline, FacilityCitationInline, EventAtFacilityInline]

    def with_spellings(self, queryset):
        return queryset.prefetch_related("variants")

    def get_fieldsets(self, request, obj=None):
        return [
            (_("Names"), {"fields": [*in_every_language("name"), "name_hanja"]}),
            (_("Kind and authority"), {"fields": ["kind", "authority"]}),
            (
                _("Location"),
                {
                    "fields": [
                        "country",
                        tuple(in_every_language("province")),
                        tuple(in_every_language("county")),
                        ("latitude", "longitude"),
                        "precision",
                    ],
                    "description": _(
                        "Give coordinates only with how precise they are: the public map draws an exact place as a "
                        "pin, an approximate one as a small area and a region as a region."
                    ),
                },
            ),
            (_("Dates"), {"fields": [("opened_on", "closed_on")]}),
            (_("Public description"), {"fields": in_every_language("description")}),
            (_("Restricted"), {"fields": ["internal_notes"]}),
            self.publication_fieldset(obj),
            *self.record_fieldset(obj),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        facility = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if facility is not None:
            extra_context["can_cite"] = may_cite(request.user, facility)
        return super().change_view(request, object_id, form_url, extra_context)


class ResponsibilityForm(VersionedModelForm):
    class Meta:
        model = Responsibility
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        active_or_current(self.fields["authority"], self.instance.authority_id)


class ResponsibilityInline(LabelledTabularInline):
    """The authorities believed responsible for what a status event records, each with a confidence.

    Each row is saved, or removed, only over the version it was loaded at:
    a row changed elsewhere meanwhile is not put back or removed unseen.
    """

    model = Responsibility
    form = ResponsibilityForm
    formset = VersionedInlineFormSet
    fields = ["authority", "confidence", "expected_version"]
    autocomplete_fields = ["authority"]
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("authority")

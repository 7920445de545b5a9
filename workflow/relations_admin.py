"""The staff side of relations between persons: on each person's page, and on their own pages.

A relation reads "the person is the … of the other". It is recorded on the
first person's page (or on its own page); the other person's page lists it
the other way round ("a child of …" for "… is the parent of"), read-only.
A relation stays between its two persons: one recorded in error is
withdrawn, with a reason, and recorded again. Its public flag counts only
once both cases are published and neither family faces reprisals
(:func:`workflow.snapshots.relation_is_public`).
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.admin import (
    LabelledTabularInline,
    ListedInline,
    TrackedAdmin,
    VersionedInlineFormSet,
    VersionedModelForm,
    withdraw_selected,
)
from cases.models import Relation, RelationKind
from sources.admin import CitationListInline


def closed_to(relation: Relation, user) -> bool:
    """Whether either case of the relation is withdrawn and so out of ``user``'s hands (``Person.is_closed_to``)."""
    return any(person.is_closed_to(user) for person in (relation.person, relation.other))


def may_cite(user, relation: Relation) -> bool:
    return user.has_perm("sources.add_citation") and not closed_to(relation, user)


class RelationForm(VersionedModelForm):
    """A relation between two persons, who stay its persons once it is recorded."""

    user = None  # set by the admin's get_form (RelationAdmin) or get_formset (RelationInline): who is recording

    class Meta:
        model = Relation
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            return
        for name in ("person", "other"):
            if name in self.fields:
                field = self.fields[name]
                field.disabled = True
                # Shown, not chosen: the person already read with the relation, without a query per row.
                chosen = getattr(self.instance, name)
                field.widget = forms.Select(choices=[(chosen.pk, str(chosen))], attrs=field.widget.attrs)

    def clean(self):
        cleaned_data = super().clean()
        person = cleaned_data.get("person") or getattr(self.instance, "person", None)
        other = cleaned_data.get("other")
        if self.user is not None and any(p is not None and p.is_closed_to(self.user) for p in (person, other)):
            raise ValidationError(
                _("This case is withdrawn: only an editor may change it, after returning it to draft."),
                code="withdrawn",
            )
        kind = cleaned_data.get("kind")
        if person is not None and person.pk and other is not None and kind and self.instance._state.adding:
            recorded = Relation.objects.active().filter(
                Q(person=person, other=other, kind=kind)
                | Q(person=other, other=person, kind=RelationKind.inverse(kind))
            )
            if recorded.exists():
                raise ValidationError(
                    _("This relation is already recorded (on one of the two cases): change that one instead."),
                    code="recorded",
                )
        return cleaned_data


class RelationInlineForm(RelationForm):
    class Meta(RelationForm.Meta):
        # Read across the row: this person is the parent of Kim …, was detained together with Kim ….
        labels = {"kind": _("This person's relation to the other"), "other": _("Other person")}


class RelationInline(LabelledTabularInline):
    """The people connected to this case, as recorded on it: "this person is the … of …".

    Each row is saved only over the version of the relation it was loaded
    at, like the relation's own page. Relations are withdrawn (on their own
    page), never deleted.
    """

    model = Relation
    form = RelationInlineForm
    formset = VersionedInlineFormSet
    fk_name = "person"
    fields = ["kind", "other", "confidence", "is_public", "note", "withdrawn", "cite", "expected_version"]
    readonly_fields = ["withdrawn", "cite"]
    autocomplete_fields = ["other"]
    extra = 1
    can_delete = False
    show_change_link = True
    verbose_name = _("person connected to this case")
    verbose_name_plural = _("people connected to this case")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.user = request.user  # a form class made for this request
        return formset

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if request.user.has_perm("sources.add_citation") else [f for f in fields if f != "cite"]

    @admin.display(description=_("sources"))
    def cite(self, relation: Relation) -> str:
        if relation.pk is None:
            return ""
        return format_html(
            '<a href="{}?relation={}" aria-label="{}">{}</a>',
            reverse("admin:sources_citation_add"),
            relation.pk,
            _("Cite a source for the relation “%(relation)s”") % {"relation": relation},
            _("Cite a source"),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "other")


class RelationSeenFromOtherInline(ListedInline):
    """The relations recorded on other cases that name this person, read from this side: "this person is the
    child of …" for "… is the parent of this person". Changed on the relation's own page."""

    model = Relation
    fk_name = "other"
    fields = readonly_fields = ("as_seen_here", "of_person", "confidence", "is_public", "withdrawn")
    listed_with = ("person", "other")
    verbose_name = _("connection recorded on the other person's case")
    verbose_name_plural = _("connections recorded on the other person's case")

    @admin.display(description=_("This person's relation to the other"))
    def as_seen_here(self, relation: Relation) -> str:
        # What the other person is to this one, turned round: what this one is to them.
        kind, _other = relation.seen_from(relation.other_id)
        return str(RelationKind(RelationKind.inverse(kind)).label)

    @admin.display(description=_("Other person"))
    def of_person(self, relation: Relation) -> str:
        _kind, other = relation.seen_from(relation.other_id)
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_person_change", args=[other.pk]), other)


class RelationCitationInline(CitationListInline):
    """The sources behind a relation; each added from "Cite a source for this relation"."""

    fk_name = "relation"
    verbose_name = _("source behind this relation")
    verbose_name_plural = _("sources behind this relation")


@admin.register(Relation)
class RelationAdmin(TrackedAdmin):
    form = RelationForm
    change_form_template = "admin/cases/relation/change_form.html"
    list_display = ["person", "kind", "other", "confidence", "is_public", "withdrawn"]
    list_filter = ["kind", "confidence", "is_public", "withdrawn"]
    search_fields = ["person__case_id", "person__name", "other__case_id", "other__name"]
    autocomplete_fields = ["person", "other"]
    list_select_related = ["person", "other"]
    readonly_fields = ["recorded_by", "created_at", "withdrawn", "withdrawn_reason"]
    inlines = [RelationCitationInline]
    actions = [withdraw_selected]

    def get_fieldsets(self, request, obj=None):
        record = ["recorded_by", "created_at", "withdrawn", "withdrawn_reason"] if obj is not None else []
        return [
            (
                None,
                {
                    "fields": ["person", "kind", "other", "confidence", "is_public", "expected_version"],
                    "description": _(
                        "Read it as “the person is the … of the other”. It is public only while both cases are "
                        "published and neither family faces reprisals."
                    ),
                },
            ),
            (_("Restricted"), {"fields": ["note", *record]}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_readonly_fields(self, request, obj=None):
        # A relation stays between its two persons: one recorded in error is withdrawn and recorded again.
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "person", "other"] if obj is not None else readonly

    def has_change_permission(self, request, obj=None):
        # The relations of a withdrawn case stay as they are until an editor returns it to draft.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not closed_to(obj, request.user))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        relation = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if relation is not None:
            extra_context["can_cite"] = may_cite(request.user, relation)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

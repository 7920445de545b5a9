"""The caseworkers' and editors' admin: cases, their status history, review and publishing."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Case, Q, Value, When
from django.forms import CheckboxSelectMultiple
from django.http import Http404, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from advocacy.models import last_appeals
from cases.admin import (
    LabelledTabularInline,
    TrackedAdmin,
    VersionedModelForm,
    active_or_current,
    admin_reason,
    withdraw_selected,
)
from cases.models import NameVariant, Person, PublicationState, Relation, Sex, Status, StatusEvent
from cases.search import search_persons
from cases.vocabularies import in_every_language
from linkage.matching import Candidate, candidates_for_rows
from security.admin import ReadOnlyAdmin
from sources.admin import CitationListInline
from sources.models import Citation

from . import services
from .models import CaseMerge, PublishedVersion
from .places_admin import ResponsibilityInline
from .relations_admin import RelationInline, RelationSeenFromOtherInline
from .snapshots import cases_naming


class FateFilter(admin.SimpleListFilter):
    title = _("fate")
    parameter_name = "fate"

    def lookups(self, request, model_admin):
        return [("clarified", _("Clarified")), ("outstanding", _("Outstanding"))]

    def queryset(self, request, queryset):
        if self.value() == "clarified":
            return queryset.filter(current_status__in=Status.clarified())
        if self.value() == "outstanding":
            return queryset.exclude(current_status__in=Status.clarified())
        return queryset


class NameVariantInline(LabelledTabularInline):
    model = NameVariant
    extra = 1
    fields = ["name", "kind", "is_public", "note"]


class StatusEventInline(admin.TabularInline):
    """The status history, read-only here: changes go through "Record a status change"."""

    model = StatusEvent
    fields = ("event", "date", "place", "facility", "confidence", "is_public", "withdrawn")
    readonly_fields = (*fields, "cite")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # Whoever may cite (caseworkers, researchers, editors) cites from the event itself.
        cites = request.user.has_perm("sources.add_citation")
        return [*self.fields, "cite"] if cites else list(self.fields)

    @admin.display(description=_("status"))
    def event(self, event: StatusEvent) -> str:
        return event.get_status_display()

    @admin.display(description=_("sources"))
    def cite(self, event: StatusEvent) -> str:
        url = reverse("admin:sources_citation_add")
        label = _("Cite a source for “%(event)s”") % {"event": event.get_status_display()}
        return format_html(
            '<a href="{}?status_event={}" aria-label="{}">{}</a>', url, event.pk, label, _("Cite a source")
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "facility")


class PersonCitationInline(CitationListInline):
    """Sources behind what is said of the person (the summary, the identity), listed here; each added and edited
    on its own page ("Cite a source about this person")."""

    fk_name = "person"
    verbose_name = _("citation about the person")
    verbose_name_plural = _("citations about the person")


class PersonForm(VersionedModelForm):
    not_a_duplicate = forms.BooleanField(
        required=False, label=_("None of the possible duplicates is this person: create a new case")
    )

    class Meta:
        model = Person
        fields = "__all__"

    def variant_names(self) -> list[str]:
        """The other names typed in the variants' rows: an inline formset, validated after this form, so read from
        the submitted data."""
        return [
            value
            for key, value in self.data.items()
            if key.startswith("variants-") and key.endswith("-name") and value.strip()
        ]

    def possible_duplicates(self, cleaned_data: dict) -> list[Candidate]:
        """The existing cases the new one may be: the blocking and scoring of the duplicate review and of the
        import preview (``linkage.matching``), so birth year, sex and categories weigh as much here as there."""
        entered = Person(
            name=cleaned_data.get("name") or "",
            family_name_native=cleaned_data.get("family_name_native") or "",
            given_name_native=cleaned_data.get("given_name_native") or "",
            birth_date=cleaned_data.get("birth_date"),
            sex=cleaned_data.get("sex") or Sex.UNKNOWN,
        )
        entered.set_name_keys()
        categories = [category.pk for category in cleaned_data.get("categories") or []]
        return candidates_for_rows([(entered, self.variant_names(), categories)], limit=10)[0]

    def clean(self):
        cleaned_data = super().clean()
        if not self.instance._state.adding or cleaned_data.get("not_a_duplicate"):
            return cleaned_data
        candidates = self.possible_duplicates(cleaned_data)
        if candidates:
            raise ValidationError(
                render_to_string("admin/cases/person/_possible_duplicates.html", {"candidates": candidates}),
                code="possible_duplicate",
            )
        return cleaned_data


@admin.register(Person)
class PersonAdmin(TrackedAdmin):
    form = PersonForm
    change_form_template = "admin/cases/person/change_form.html"
    list_display = ["case_id", "display_name", "current_status", "status_since", "state", "assigned_to"]
    list_filter = ["current_status", FateFilter, "categories", "publication_state", "assigned_to", "reprisal_risk"]
    # Names are searched in every spelling by get_search_results (cases.search); these by their text.
    search_fields = ["case_id", "external_ref", "descriptor"]
    readonly_fields = [
        "case_id",
        "current_status",
        "status_since",
        "last_confirmed",
        "publication_state",
        "submitted_by",
        "submitted_at",
        "created_at",
        "updated_at",
    ]
    # A short vocabulary: one labelled box each, readable and keyboard-usable without a script.
    formfield_overrides = {
        **TrackedAdmin.formfield_overrides,
        models.ManyToManyField: {"widget": CheckboxSelectMultiple},
    }
    list_select_related = ["assigned_to", "merged_into"]
    inlines = [NameVariantInline, StatusEventInline, RelationInline, RelationSeenFromOtherInline, PersonCitationInline]
    actions = ["submit_selected"]

    @admin.display(description=_("publication state"), ordering="publication_state")
    def state(self, person: Person) -> str:
        """The publication state, or the record a merged one went into."""
        if person.merged_into is not None:
            return gettext("Merged into %(case)s") % {"case": person.merged_into.case_id}
        return person.get_publication_state_display()

    def get_search_results(self, request, queryset, search_term):
        """Persons by case ID, reference or descriptor, and by any spelling of any name staff may see.

        Best match first, unless the user orders by a column: a case ID or
        reference given in full, then the name search's ranking
        (``cases.search``), then the other matches in the list's order.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        by_text, _ = super().get_search_results(request, queryset, term)
        ranked = search_persons(term, queryset)
        relevance = Case(
            When(Q(case_id__iexact=term) | Q(external_ref__iexact=term), then=Value(-1)),
            *(When(pk=pk, then=Value(rank)) for rank, pk in enumerate(ranked)),
            default=Value(len(ranked)),
        )
        results = queryset.filter(Q(pk__in=by_text.values("pk")) | Q(pk__in=ranked))
        if ORDER_VAR in request.GET:
            return results, False  # A column the user chose to order by.
        return results.order_by(relevance.asc(), *queryset.query.order_by), False

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["case_id", "name", "descriptor", ("family_name_native", "given_name_native")]}),
            (_("About"), {"fields": ["sex", "birth_date", "nationality", "categories", "religion", "external_ref"]}),
            (_("Status (from the status events)"), {"fields": ["current_status", "status_since", "last_confirmed"]}),
            (_("Public summary"), {"fields": ["summary"]}),
            (
                _("Public summary in Korean and Japanese"),
                {
                    "fields": ["summary_ko", "summary_ko_is_translation", "summary_ja", "summary_ja_is_translation"],
                    "classes": ["collapse"],
                    "description": _(
                        "For readers of the Korean and Japanese pages. Where a text is left blank, "
                        "those pages show the English one and say so."
                    ),
                },
            ),
            (_("Restricted"), {"fields": ["internal_notes", "assigned_to"]}),
            (
                _("Publication"),
                {
                    "fields": [
                        "publication_state",
                        ("submitted_by", "submitted_at"),
                        "publication_basis",
                        ("consent_given_by", "consent_given_on"),
                        "public_interest_reason",
                        ("reprisal_risk", "pseudonym"),
                    ]
                },
            ),
            (_("Record"), {"fields": ["created_at", "updated_at", "expected_version"]}),
        ]
        if obj is None and request.method == "POST":
            # Only once a save was refused: on a blank form the box would
            # offer to skip a check that has not run yet, and the add page
            # would put the cursor in it instead of in the name.
            fieldsets.insert(0, (_("Possible duplicates"), {"fields": ["not_a_duplicate"]}))
        return fieldsets

    def get_urls(self):
        return [
            path(
                "<path:object_id>/workflow/<str:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name="cases_person_workflow",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def workflow_view(self, request, object_id, action):
        """One workflow button: a transition, refused with its reasons as a message."""
        person = self.get_object(request, object_id)
        transition = services.TRANSITIONS.get(action)
        # "Missing" and "not allowed" answer alike, so the answer never tells which cases exist.
        if person is None or not self.has_view_permission(request, person):
            raise Http404
        if transition is None or not request.user.has_perm(transition.permission):
            raise PermissionDenied
        if transition.needs_change_rights and not person.may_be_changed_by(request.user):
            raise PermissionDenied
        options = {}
        if transition.action == "publish" and "previewed" in request.POST:
            options["previewed"] = request.POST["previewed"]  # what the editor read in the preview
        try:
            transition.run(person, by=request.user, reason=request.POST.get("reason", "").strip(), **options)
        except services.WorkflowError as error:
            self.message_user(
                request,
                format_html(
                    "{}<ul>{}</ul>",
                    gettext("Not done:"),
                    format_html_join("", "<li>{}</li>", ((p,) for p in error.problems)),
                ),
                messages.ERROR,
            )
        else:
            done = _("%(case)s: %(action)s done.") % {"case": person, "action": transition.label}
            if transition.action == "publish":
                public_url = reverse("public:case_detail", args=[person.case_id])
                done = format_html('{} <a href="{}">{}</a>', done, public_url, _("Read the public page"))
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cases_person_change", args=[person.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        person = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if person is not None:
            extra_context.update(
                transitions=services.available_transitions(person, request.user),
                publication_problems=services.publication_problems(person),
                four_eyes_problem=(
                    services.four_eyes_problem(person, request.user)
                    if request.user.has_perm("cases.publish_person")
                    else None
                ),
                cases_naming=cases_naming(person) if person.reprisal_risk else [],
                published_versions=person.published_versions.order_by("-number"),
                can_record_status=request.user.has_perm("cases.add_statusevent"),
                can_cite=request.user.has_perm("sources.add_citation"),
                # Where the record went, or which records came into it (workflow.merging).
                merges=CaseMerge.objects.in_force()
                .filter(Q(merged=person) | Q(survivor=person))
                .select_related("merged_by"),
                can_merge=request.user.has_perm("cases.merge_person"),
            )
            if request.user.has_perm("advocacy.view_appeal"):
                extra_context.update(
                    appeals=list(person.appeals.active().order_by("-created_at", "-pk")),
                    last_appeal=last_appeals([person]).get(person.pk),
                    can_add_appeal=request.user.has_perm("advocacy.add_appeal"),
                )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Submit selected cases for review"), permissions=["submit"])
    def submit_selected(self, request, queryset):
        done = 0
        for person in queryset:
            # Only drafts: a published case goes back to review one at a time, from its page.
            if person.publication_state != PublicationState.DRAFT or not self.has_change_permission(request, person):
                continue
            try:
                services.submit_for_review(person, by=request.user)
            except services.WorkflowError:
                continue
            done += 1
        skipped = queryset.count() - done
        self.message_user(
            request,
            ngettext(
                "Submitted %(count)d case for review; %(skipped)d skipped (not a draft or not yours to change).",
                "Submitted %(count)d cases for review; %(skipped)d skipped (not a draft or not yours to change).",
                done,
            )
            % {"count": done, "skipped": skipped},
        )

    def has_submit_permission(self, request):
        return request.user.has_perm("cases.submit_person")

    def save_formset(self, request, form, formset, change):
        if formset.model is Relation:
            for relation_form in formset.forms:
                if relation_form.instance._state.adding:
                    relation_form.instance.recorded_by = request.user
        super().save_formset(request, form, formset, change)

    def has_change_permission(self, request, obj=None):
        # The same rule as the import's: a withdrawn case is out of the
        # caseworkers' hands until an editor returns it to draft.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.may_be_changed_by(request.user))


class EventCitationForm(VersionedModelForm):
    class Meta:
        model = Citation
        fields = "__all__"


class EventCitationInline(LabelledTabularInline):
    """The sources behind a status change: recorded with it.

    Each row is saved only over the version of the citation it was loaded
    at, like the citation's own page: a citation changed elsewhere meanwhile
    is not put back by saving the event.
    """

    model = Citation
    form = EventCitationForm
    fk_name = "status_event"
    fields = ["source", "locator", "excerpt", "note", "withdrawn", "expected_version"]
    readonly_fields = ["withdrawn"]
    autocomplete_fields = ["source"]
    extra = 1
    can_delete = False
    verbose_name = _("source behind this status change")
    verbose_name_plural = _("sources behind this status change")


class StatusEventForm(VersionedModelForm):
    user = None  # set by StatusEventAdmin.get_form: who is recording or correcting the event

    class Meta:
        model = StatusEvent
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "facility" in self.fields:
            active_or_current(self.fields["facility"], self.instance.facility_id)

    def clean(self):
        cleaned_data = super().clean()
        person = cleaned_data.get("person") or getattr(self.instance, "person", None)
        if person is not None and self.user is not None and person.is_closed_to(self.user):
            raise ValidationError(
                _("This case is withdrawn: only an editor may change it, after returning it to draft."),
                code="withdrawn",
            )
        return cleaned_data


@admin.register(StatusEvent)
class StatusEventAdmin(TrackedAdmin):
    form = StatusEventForm
    list_display = ["person", "status", "date", "facility", "confidence", "is_public", "withdrawn", "recorded_at"]
    list_filter = ["status", "confidence", "is_public", "withdrawn"]
    search_fields = [
        "person__case_id",
        "person__name",
        *in_every_language("place"),
        "facility__name",
        *in_every_language("description"),
    ]
    autocomplete_fields = ["person", "facility"]
    list_select_related = ["person", "facility"]
    readonly_fields = ["recorded_by", "recorded_at", "withdrawn", "withdrawn_reason"]
    inlines = [ResponsibilityInline, EventCitationInline]
    actions = [withdraw_selected]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def has_change_permission(self, request, obj=None):
        # The events of a withdrawn case stay as they are until an editor returns it to draft.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not obj.person.is_closed_to(request.user))

    def get_fieldsets(self, request, obj=None):
        return [
            (
                None,
                {
                    "fields": [
                        "person",
                        "status",
                        "date",
                        "place",
                        "facility",
                        "description",
                        "confidence",
                        "is_public",
                        "expected_version",
                    ]
                },
            ),
            (
                _("Place and description in Korean and Japanese"),
                {
                    "fields": [("place_ko", "place_ja"), "description_ko", "description_ja"],
                    "classes": ["collapse"],
                    "description": _(
                        "For readers of the Korean and Japanese pages. Where a text is left blank, "
                        "those pages show the English one and say so."
                    ),
                },
            ),
            (_("Restricted"), {"fields": ["internal_note"]}),
            (_("Record"), {"fields": ["recorded_by", "recorded_at", "withdrawn", "withdrawn_reason"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # An event stays with the person it was recorded for.
        return [*self.readonly_fields, "person"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the one status-change path, so the person's derived fields follow.
        reason = self.change_reason(request, form, change)
        if change:
            obj.correct(
                by=request.user, reason=reason, **{name: getattr(obj, name) for name in StatusEvent.CORRECTABLE_FIELDS}
            )
        else:
            obj.person.record_event(obj, by=request.user, reason="Recorded in admin")

    def change_reason(self, request, form, change):
        if getattr(request, "revert_to", None) is not None:
            return super().change_reason(request, form, change)
        return admin_reason(form, "Corrected" if change else "Recorded")

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if {"_continue", "_addanother", "_popup"} & set(request.POST):
            return response
        # "Save" goes back to the person's page, where "Record a status
        # change" was clicked and the new current status now shows, rather
        # than to the list of every person's events.
        return HttpResponseRedirect(reverse("admin:cases_person_change", args=[obj.person_id]))


@admin.register(PublishedVersion)
class PublishedVersionAdmin(ReadOnlyAdmin):
    """Read-only: versions are made by publishing and changed only by redaction."""

    list_display = ["case_id", "number", "name", "status", "is_current", "published_at", "withdrawn_at"]
    list_filter = ["is_current", "status"]
    search_fields = ["case_id", "name"]


@admin.register(CaseMerge)
class CaseMergeAdmin(ReadOnlyAdmin):
    """The merges, read-only: merged and undone on their own pages (/staff/merges/), each with its history."""

    list_display = ["merged_case_id", "survivor_case_id", "merged_by", "merged_at", "redirects", "undone_at"]
    list_filter = ["redirects", ("undone_at", admin.EmptyFieldListFilter)]
    list_select_related = ["merged_by"]
    search_fields = ["merged_case_id", "survivor_case_id", "reason"]
    date_hierarchy = "merged_at"
    # What moved is read by an undo, not by people: its ids and the records as they were would fill the page.
    fields = readonly_fields = (
        "merged",
        "survivor",
        "pair",
        "reason",
        "merged_by",
        "merged_at",
        "redirects",
        "undone_at",
        "undone_by",
        "undo_reason",
    )

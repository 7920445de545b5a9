"""The staff side of appeals: the record, its steps as buttons, its replies and what they say of each person.

State and outcome are never form fields: each step is a small form on the
appeal's page posting to its own URL, which calls :meth:`Appeal.advance` or
:meth:`Appeal.record_reply`; a refusal lists the model's reasons and writes
nothing. A reply becomes a status event only through
:meth:`AppealReply.record_status_event`.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cases.admin import TrackedAdmin, withdraw_selected
from cases.models import Person, StatusEvent

from .forms import ReplyForm, ReplyStatusForm, StepForm
from .models import Appeal, AppealError, AppealReply, AppealState

# What each step's button says.
STEP_BUTTONS: dict[str, Promise] = {
    AppealState.SENT: _("Mark as sent"),
    AppealState.ACKNOWLEDGED: _("Mark as acknowledged"),
    AppealState.TRANSMITTED: _("Mark as transmitted to the government"),
    AppealState.CLOSED: _("Close the appeal"),
}


@dataclass
class Step:
    state: str
    button: str
    form: StepForm


def _not_done(modeladmin: admin.ModelAdmin, request, problems: list[str]) -> None:
    modeladmin.message_user(
        request,
        format_html(
            "{}<ul>{}</ul>", gettext("Not done:"), format_html_join("", "<li>{}</li>", ((p,) for p in problems))
        ),
        messages.ERROR,
    )


def _refused_on(form: forms.Form, error: AppealError | ValidationError) -> None:
    """Every reason a reply or a status event was refused, above the form that was sent (kept as typed)."""
    for problem in error.problems if isinstance(error, AppealError) else error.messages:
        form.add_error(None, problem)


@admin.register(Appeal)
class AppealAdmin(TrackedAdmin):
    change_form_template = "admin/advocacy/appeal/change_form.html"
    list_display = [
        "kind",
        "to_whom",
        "case_ids",
        "state",
        "outcome",
        "sent_on",
        "next_action_due",
        "is_public",
        "withdrawn",
    ]
    list_filter = ["state", "kind", "addressee", "is_public", "withdrawn"]
    search_fields = ["our_reference", "their_reference", "addressee_name", "persons__case_id", "persons__name"]
    autocomplete_fields = ["persons", "documents"]
    readonly_fields = [
        "state",
        "outcome",
        "sent_on",
        "acknowledged_on",
        "transmitted_on",
        "closed_on",
        "created_by",
        "created_at",
        "updated_at",
        "withdrawn",
        "withdrawn_reason",
    ]
    actions = [withdraw_selected]

    def get_fieldsets(self, request, obj=None):
        steps = (
            _("Steps"),
            {
                "fields": ["state", "outcome", "sent_on", "acknowledged_on", "transmitted_on", "closed_on"],
                "description": _("Set by the step buttons at the top of this page, each with its date."),
            },
        )
        record = (
            _("Record"),
            {"fields": ["created_by", "created_at", "updated_at", "withdrawn", "withdrawn_reason", "expected_version"]},
        )
        return [
            (_("Who and what"), {"fields": ["kind", ("addressee", "country"), "addressee_name", "request"]}),
            (_("Persons concerned"), {"fields": ["persons"]}),
            (_("References and documents"), {"fields": ["our_reference", "their_reference", "documents"]}),
            # A new appeal starts drafted: its steps and its record have nothing to show yet.
            *([steps] if obj is not None else []),
            (_("Next action"), {"fields": ["next_action", "next_action_due"]}),
            (
                _("For a WGEID submission"),
                {
                    "fields": [
                        "forces_responsible",
                        "steps_by_family",
                        "steps_by_source",
                        ("family_consent_by", "family_consent_on"),
                    ],
                    # Open on a WGEID appeal, which cannot be sent without it; folded on the others.
                    "classes": [] if obj is not None and obj.is_wgeid else ["collapse"],
                    "description": _(
                        "What the Working Group asks for that the case itself does not hold. The person's name, "
                        "and the date and place of the arrest or disappearance, come from the case."
                    ),
                },
            ),
            (_("Restricted"), {"fields": ["internal_notes"]}),
            (_("Publication"), {"fields": ["is_public"]}),
            *([record] if obj is not None else []),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(Prefetch("persons", Person.objects.order_by("case_id")))

    @admin.display(description=_("addressed to"), ordering="addressee")
    def to_whom(self, appeal: Appeal) -> str:
        return appeal.addressee_label

    @admin.display(description=_("persons concerned"))
    def case_ids(self, appeal: Appeal) -> str:
        return ", ".join(person.case_id for person in appeal.persons.all())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    # --- The steps, the replies and what they say: each through the model's one path. ---

    def get_urls(self):
        return [
            path(
                "<path:object_id>/step/<str:state>/",
                self.admin_site.admin_view(self.step_view),
                name="advocacy_appeal_step",
            ),
            path(
                "<path:object_id>/reply/<int:reply_pk>/status/",
                self.admin_site.admin_view(self.reply_status_view),
                name="advocacy_appeal_reply_status",
            ),
            path("<path:object_id>/reply/", self.admin_site.admin_view(self.reply_view), name="advocacy_appeal_reply"),
            *super().get_urls(),
        ]

    def appeal_for(self, request, object_id: str, *, to_change: bool) -> Appeal:
        """The appeal, for a user who may see it ("missing" and "not allowed" answer alike: 404);
        403 when they may see it but not take its steps."""
        appeal = self.get_object(request, object_id)
        if appeal is None or not self.has_view_permission(request, appeal):
            raise Http404
        if to_change and not self.has_change_permission(request, appeal):
            raise PermissionDenied
        return appeal

    @method_decorator(require_POST)
    def step_view(self, request, object_id, state):
        """One step button: the appeal goes to ``state``, or the refusal's reasons are shown and nothing is written."""
        appeal = self.appeal_for(request, object_id, to_change=True)
        if state not in STEP_BUTTONS:
            raise Http404
        form = StepForm(request.POST, state=state)
        if not form.is_valid():
            _not_done(self, request, [error for errors in form.errors.values() for error in errors])
        else:
            try:
                appeal.advance(
                    state,
                    by=request.user,
                    on=form.cleaned_data.get("on"),
                    outcome=form.cleaned_data.get("outcome", ""),
                    reason=form.cleaned_data["reason"].strip(),
                )
            except AppealError as error:
                _not_done(self, request, error.problems)
            else:
                self.message_user(
                    request,
                    gettext("The appeal is now “%(state)s”.") % {"state": AppealState(state).label},
                    messages.SUCCESS,
                )
        return HttpResponseRedirect(reverse("admin:advocacy_appeal_change", args=[appeal.pk]))

    def reply_view(self, request, object_id):
        """Record a reply (the appeal becomes "replied"); shown again with what was typed when refused."""
        appeal = self.appeal_for(request, object_id, to_change=True)
        form = ReplyForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                appeal.record_reply(
                    by=request.user,
                    received_on=data["received_on"],
                    says=data["says"],
                    from_whom=data["from_whom"],
                    source=data["source"],
                    reason=data["reason"].strip(),
                )
            except (AppealError, ValidationError) as error:
                _refused_on(form, error)
            else:
                self.message_user(request, gettext("The reply was recorded."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:advocacy_appeal_change", args=[appeal.pk]))
        return self._form_page(request, appeal, form, gettext("Record a reply"), submit=gettext("Record the reply"))

    def reply_status_view(self, request, object_id, reply_pk):
        """What a reply says of one person becomes a status event citing the reply; then the person's page."""
        appeal = self.appeal_for(request, object_id, to_change=True)
        reply = appeal.replies.select_related("source").filter(pk=reply_pk).first()
        if reply is None:
            raise Http404
        if not request.user.has_perm("cases.add_statusevent"):
            raise PermissionDenied
        if request.method == "POST":
            form = ReplyStatusForm(request.POST, appeal=appeal)
        else:
            persons = list(appeal.persons.all())
            chosen = request.GET.get("person") or (persons[0].pk if len(persons) == 1 else None)
            form = ReplyStatusForm(appeal=appeal, initial={"person": chosen})
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            person = data.pop("person")
            try:
                event = reply.record_status_event(
                    person, data.pop("status"), by=request.user, reason=data.pop("reason").strip(), **data
                )
            except (AppealError, ValidationError) as error:
                _refused_on(form, error)
            else:
                self.message_user(
                    request,
                    gettext("%(person)s: “%(status)s” recorded from the reply, citing its source.")
                    % {"person": person, "status": event.get_status_display()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:cases_person_change", args=[person.pk]))
        title = gettext("Record what the reply says as a status event")
        return self._form_page(request, appeal, form, title, reply=reply, submit=gettext("Record the status event"))

    def _form_page(self, request, appeal: Appeal, form: forms.Form, title: str, **context):
        return TemplateResponse(
            request,
            "admin/advocacy/appeal/reply_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "original": appeal,
                "form": form,
                "media": self.media + form.media,
                **context,
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        appeal = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if appeal is not None and self.has_view_permission(request, appeal):
            extra_context.update(self.panel_context(request, appeal))
        return super().change_view(request, object_id, form_url, extra_context)

    def panel_context(self, request, appeal: Appeal) -> dict:
        """What the appeal's panel shows: its state, the steps this user may take, its replies."""
        may_change = self.has_change_permission(request, appeal)
        persons = list(appeal.persons.all())
        replies = list(
            appeal.replies.select_related("source", "recorded_by").prefetch_related(
                Prefetch("status_events", StatusEvent.objects.select_related("person").order_by("recorded_at"))
            )
        )
        steps = [Step(state, str(STEP_BUTTONS[state]), StepForm(state=state)) for state in appeal.next_steps()]
        may_reply = may_change and not appeal.step_problems(AppealState.REPLIED)
        return {
            "appeal_persons": persons,
            "wgeid_missing": (
                appeal.wgeid_missing_where() if appeal.is_wgeid and AppealState.SENT in appeal.next_steps() else []
            ),
            "steps": steps if may_change else [],
            "replies": replies,
            "reply_form": ReplyForm() if may_reply else None,
            "may_record_events": may_change and request.user.has_perm("cases.add_statusevent"),
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        reply_form = context.get("reply_form")
        if reply_form is not None:
            # The reply's source is chosen with the admin's autocomplete: its scripts come with the page.
            context["media"] = context["media"] + reply_form.media
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(AppealReply)
class AppealReplyAdmin(TrackedAdmin):
    """A reply's own page: its history, a correction, its withdrawal. Replies are recorded from their appeal."""

    list_display = ["__str__", "received_on", "from_whom", "source", "withdrawn"]
    list_filter = ["withdrawn"]
    search_fields = ["from_whom", "appeal__our_reference", "appeal__their_reference", "appeal__persons__case_id"]
    autocomplete_fields = ["source"]
    readonly_fields = ["appeal", "events", "recorded_by", "recorded_at", "withdrawn", "withdrawn_reason"]
    list_select_related = ["appeal", "source"]
    actions = [withdraw_selected]
    fieldsets = [
        (None, {"fields": ["appeal", "received_on", "from_whom", "source", "says"]}),
        (_("Status events drawn from it"), {"fields": ["events"]}),
        (_("Record"), {"fields": ["recorded_by", "recorded_at", "withdrawn", "withdrawn_reason"]}),
    ]

    def has_add_permission(self, request):
        # A reply is recorded from its appeal's page, which also moves the appeal to "replied".
        return False

    @admin.display(description=_("status events drawn from it"))
    def events(self, reply: AppealReply) -> str:
        events = reply.status_events.select_related("person").order_by("recorded_at")
        if not events:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}: {}</a>',
            (
                (reverse("admin:cases_statusevent_change", args=[event.pk]), event.person.case_id, event)
                for event in events
            ),
        )

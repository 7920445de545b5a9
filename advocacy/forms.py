"""The forms of an appeal's steps on its admin page: a step, a reply, what a reply says of one person.

Plain forms, not model forms: what they hold goes to the model's own paths
(:meth:`Appeal.advance`, :meth:`Appeal.record_reply`,
:meth:`AppealReply.record_status_event`), never straight into a row.
"""

from typing import cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cases.models import Person, StatusEvent
from cases.partial_dates import PartialDateFormField
from sources.models import Citation, Source

from .models import STEP_DATES, Appeal, AppealOutcome, AppealReply, AppealState


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason (for the history)"), required=False, max_length=300, widget=forms.TextInput(attrs={"size": 40})
    )


class StepForm(forms.Form):
    """One step of an appeal: its date, the outcome when it closes the appeal, and why."""

    on = PartialDateFormField(label=_("Date"), required=False, allow_future=True)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[(value, label) for value, label in AppealOutcome.choices if value]
    )
    reason = _reason_field()

    def __init__(self, *args, state: str, **kwargs) -> None:
        # Each step's form is on one page with the others: its ids carry the step.
        kwargs.setdefault("auto_id", f"id_{state}_%s")
        super().__init__(*args, **kwargs)
        if state in STEP_DATES:
            date_field = cast(models.Field, Appeal._meta.get_field(STEP_DATES[state]))
            self.fields["on"].label = capfirst(date_field.verbose_name)
        else:
            del self.fields["on"]
        if state != AppealState.CLOSED:
            del self.fields["outcome"]


class ReplyForm(forms.Form):
    """A reply as it came: when, from whom, its document and what it says."""

    received_on = AppealReply._meta.get_field("received_on").formfield(allow_future=True)
    from_whom = AppealReply._meta.get_field("from_whom").formfield()
    source = forms.ModelChoiceField(
        queryset=Source.objects.filter(withdrawn=False),
        required=False,
        label=_("Source"),
        help_text=AppealReply._meta.get_field("source").help_text,
        # Chosen by typing, as everywhere else in the admin: there may be thousands of sources.
        widget=AutocompleteSelect(AppealReply._meta.get_field("source"), admin.site),
    )
    says = AppealReply._meta.get_field("says").formfield(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))
    reason = _reason_field()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_reply_%s")
        super().__init__(*args, **kwargs)


class ReplyStatusForm(forms.Form):
    """What a reply says of one person, as a status event citing the reply's document."""

    person = forms.ModelChoiceField(queryset=Person.objects.none(), label=_("Person"))
    status = StatusEvent._meta.get_field("status").formfield()
    date = StatusEvent._meta.get_field("date").formfield()
    place = StatusEvent._meta.get_field("place").formfield()
    description = StatusEvent._meta.get_field("description").formfield(widget=forms.Textarea(attrs={"rows": 3}))
    internal_note = StatusEvent._meta.get_field("internal_note").formfield(widget=forms.Textarea(attrs={"rows": 2}))
    confidence = StatusEvent._meta.get_field("confidence").formfield()
    is_public = StatusEvent._meta.get_field("is_public").formfield()
    locator = Citation._meta.get_field("locator").formfield()
    excerpt = Citation._meta.get_field("excerpt").formfield(widget=forms.Textarea(attrs={"rows": 3}))
    reason = _reason_field()

    def __init__(self, *args, appeal: Appeal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = appeal.persons.order_by("case_id")  # type: ignore[attr-defined]
        self.fields["locator"].help_text = _("Where in the reply, e.g. “para. 4”.")

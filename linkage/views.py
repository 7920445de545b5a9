"""The staff review queue of possible duplicates: each pair side by side, and a decision with its reason."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cases.models import NameVariant, Person, StatusEvent

from .matching import named_pair
from .models import CandidatePair, Decision

PAGE_SIZE = 50
PERMISSION = "linkage.review_candidatepair"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(value, label) for value, label in Decision.choices if value],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What tells them apart or shows they are one person: kept in the history."),
    )


class NamedPairForm(DecisionForm):
    """Two records the passes did not pair, named by a reviewer who knows them, with the decision on them."""

    first = forms.CharField(label=gettext_lazy("A case ID"), max_length=20)
    second = forms.CharField(label=gettext_lazy("Another case ID"), max_length=20)
    field_order = ["first", "second", "decision", "reason"]

    def _record_named(self, name: str) -> Person | None:
        case_id = self.cleaned_data.get(name, "").strip().upper()
        person = Person.objects.active().filter(case_id=case_id).first()
        if person is None:
            self.add_error(
                name,
                _("No case %(case_id)s in the working records (a withdrawn or merged case is not).")
                % {"case_id": case_id},
            )
        return person

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        first, second = self._record_named("first"), self._record_named("second")
        if first is not None and second is not None and first.pk == second.pk:
            self.add_error("second", _("Name two different records."))
        cleaned["records"] = (first, second)
        return cleaned


@dataclass
class Side:
    """One record of a pair, as the queue shows it."""

    person: Person
    variants: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    facilities: list[str] = field(default_factory=list)


def _sides(pairs: list[CandidatePair]) -> dict[int, Side]:
    """Every record on the page with its names, categories and facilities: three queries, whatever the page."""
    sides = {}
    for pair in pairs:
        for person in (pair.first, pair.second):
            sides[person.pk] = Side(person)
    pks = list(sides)
    for person_id, name in NameVariant.objects.filter(person__in=pks).values_list("person_id", "name"):
        sides[person_id].variants.append(name)
    through = Person.categories.through
    for membership in through.objects.filter(person__in=pks).select_related("category"):
        sides[membership.person_id].categories.append(str(membership.category))
    held: dict[int, set[str]] = defaultdict(set)
    events = StatusEvent.objects.active().filter(person__in=pks, facility__isnull=False).select_related("facility")
    for event in events.only("person_id", "facility__name"):
        held[event.person_id].add(event.facility.name)
    for person_id, facilities in held.items():
        sides[person_id].facilities = sorted(facilities)
    return sides


def _rows(pairs: list[CandidatePair]) -> list[tuple[CandidatePair, Side, Side, DecisionForm]]:
    sides = _sides(pairs)
    return [
        (pair, sides[pair.first_id], sides[pair.second_id], DecisionForm(prefix=f"pair-{pair.pk}")) for pair in pairs
    ]


@require_safe
@never_cache
@login_required
@permission_required(PERMISSION, raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    """Pairs nobody has reviewed, the highest score first, 50 a page; then those marked unsure."""
    pending = CandidatePair.objects.pending().select_related("first", "second").order_by("-score", "pk")
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    unsure = list(
        CandidatePair.objects.unsure()
        .select_related("first", "second", "decided_by")
        .order_by("-score", "pk")[:PAGE_SIZE]
    )
    rows = _rows([*page.object_list, *unsure])
    context = {
        **admin.site.each_context(request),
        "page": page,
        "pending_rows": rows[: len(page.object_list)],
        "unsure_rows": rows[len(page.object_list) :],
        "unsure_count": CandidatePair.objects.unsure().count() if len(unsure) == PAGE_SIZE else len(unsure),
        "shown": PAGE_SIZE,
        "named_form": NamedPairForm(prefix="named"),
    }
    return render(request, "linkage/candidatepair_list.html", context)


@require_POST
@never_cache
@login_required
@permission_required(PERMISSION, raise_exception=True)
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a decision on an open pair, then back to the queue (the same page)."""
    pair = get_object_or_404(CandidatePair.objects.open(), pk=pk)
    form = DecisionForm(request.POST, prefix=f"pair-{pair.pk}")
    back = reverse("linkage:queue")
    page = request.POST.get("page", "")
    if page.isdigit():
        back += f"?page={page}"
    if not form.is_valid():
        messages.error(
            request,
            _("Nothing was recorded for %(first)s and %(second)s: choose a decision and give its reason.")
            % {"first": pair.first.case_id, "second": pair.second.case_id},
        )
        return redirect(back)
    try:
        pair.decide(form.cleaned_data["decision"], by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    return _decided(request, pair, back)


def _decided(request: HttpRequest, pair: CandidatePair, back: str) -> HttpResponse:
    """Back to the queue, saying what was recorded (and, for the same person, where the merge is done)."""
    done = _("%(first)s and %(second)s: %(decision)s.") % {
        "first": pair.first.case_id,
        "second": pair.second.case_id,
        "decision": pair.get_decision_display(),
    }
    if pair.decision == Decision.SAME:
        # Another editor merges them (four eyes): the pair waits on the merges page.
        done = format_html(
            '{} <a href="{}">{}</a>',
            done,
            reverse("workflow:merge_list"),
            _("Another editor merges them on the merges page."),
        )
    messages.success(request, done)
    return redirect(back)


@require_POST
@never_cache
@login_required
@permission_required(PERMISSION, raise_exception=True)
def decide_named(request: HttpRequest) -> HttpResponse:
    """Two records the passes did not pair (a family name spelled apart, a change of name): the pair is stored with
    its score, as the passes would, and the reviewer's decision on it recorded."""
    form = NamedPairForm(request.POST, prefix="named")
    if not form.is_valid():
        problems = [str(message) for messages_ in form.errors.values() for message in messages_]
        messages.error(request, _("Nothing was recorded: %(problems)s") % {"problems": " ".join(problems)})
        return redirect("linkage:queue")
    first, second = sorted(form.cleaned_data["records"], key=lambda person: person.pk)
    pair = named_pair(first, second)
    reviewer = request.user if request.user.is_authenticated else None
    try:
        pair.decide(form.cleaned_data["decision"], by=reviewer, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("linkage:queue")
    return _decided(request, pair, reverse("linkage:queue"))

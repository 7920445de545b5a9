"""The staff pages of merges: the pairs marked the same person, a merge read before it is done, and its undoing."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cases.models import Person, PublicationState
from linkage.models import CandidatePair

from . import merging
from .models import CaseMerge
from .services import WorkflowError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LISTED = 50


def _editor(request: HttpRequest) -> User:
    """The signed-in editor (every view here asks for a login and the right to merge)."""
    return cast("User", request.user)


class MergeForm(forms.Form):
    # Which record stays and which is merged, and their versions, as the editor read them.
    survivor = forms.IntegerField(widget=forms.HiddenInput)
    merged = forms.IntegerField(widget=forms.HiddenInput)
    survivor_version = forms.IntegerField(widget=forms.HiddenInput)
    merged_version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Why they are one person: kept in the history of both records."),
    )


class UndoForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Why the merge is undone: kept in the history of both records."),
    )
    mark_different = forms.BooleanField(
        label=gettext_lazy("They are two persons: mark the pair “different persons”, so it is not offered again"),
        required=False,
    )


def _context(request: HttpRequest, **values) -> dict:
    return {**admin.site.each_context(request), **values}


@require_safe
@never_cache
@login_required
@permission_required(merging.PERMISSION, raise_exception=True)
def merge_list(request: HttpRequest) -> HttpResponse:
    """Pairs marked the same person, waiting for an editor; then the latest merges, each with its undo."""
    ready = (
        CandidatePair.objects.to_merge().select_related("first", "second", "decided_by").order_by("decided_at", "pk")
    )
    merges = CaseMerge.objects.select_related("merged_by", "undone_by")[:LISTED]
    return render(
        request,
        "workflow/merge_list.html",
        _context(request, ready=ready[:LISTED], ready_count=ready.count(), merges=merges, shown=LISTED),
    )


def _read_at(survivor: Person, merged: Person) -> dict[str, int]:
    """The hidden fields of the merge form: the two records as the page shows them."""
    return {
        "survivor": survivor.pk,
        "merged": merged.pk,
        "survivor_version": survivor.version,
        "merged_version": merged.version,
    }


def _default_survivor(pair: CandidatePair) -> Person:
    """The record that stays unless the editor chooses the other: the one on the public site, else the older."""
    first, second = pair.first, pair.second
    public = [person for person in (first, second) if person.publication_state == PublicationState.PUBLISHED]
    if len(public) == 1:
        return public[0]
    return first if first.created_at <= second.created_at else second


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@permission_required(merging.PERMISSION, raise_exception=True)
def merge_pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    """What merging a pair marked the same person does, then the merge itself (POST)."""
    pair = get_object_or_404(CandidatePair.objects.to_merge().select_related("first", "second"), pk=pair_id)
    records = {pair.first_id: pair.first, pair.second_id: pair.second}
    form = MergeForm(request.POST) if request.method == "POST" else None
    chosen = request.GET.get("keep", "")
    survivor = records.get(int(chosen)) if chosen.isascii() and chosen.isdigit() else None
    posted = form.cleaned_data if form is not None and form.is_valid() else None
    if posted is not None:
        survivor = records.get(posted["survivor"])
        if survivor is None or {survivor.pk, posted["merged"]} != set(records):
            messages.error(request, _("Nothing was merged: the page did not say which record stays. Read it again."))
            posted, survivor = None, None
    survivor = survivor or _default_survivor(pair)
    merged = pair.second if survivor.pk == pair.first_id else pair.first
    if posted is not None:
        read_at = (posted["survivor_version"], posted["merged_version"])
        try:
            done = merging.merge(
                survivor, merged, by=_editor(request), reason=posted["reason"], pair=pair, read_at=read_at
            )
        except WorkflowError as error:
            for problem in error.problems:
                messages.error(request, problem)
            survivor.refresh_from_db()
            merged.refresh_from_db()
        else:
            messages.success(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("%(merged)s was merged into %(survivor)s.")
                    % {"merged": done.merged_case_id, "survivor": done.survivor_case_id},
                    reverse("workflow:merge_undo", args=[done.pk]),
                    _("Undo the merge"),
                ),
            )
            return redirect("admin:cases_person_change", survivor.pk)
    todo = merging.plan(survivor, merged, by=_editor(request), pair=pair)
    if form is None or form.is_valid():
        form = MergeForm(initial={**_read_at(survivor, merged), "reason": request.POST.get("reason", "")})
    else:
        form = MergeForm({**request.POST.dict(), **_read_at(survivor, merged)})
    return render(request, "workflow/merge.html", _context(request, pair=pair, plan=todo, form=form))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@permission_required(merging.PERMISSION, raise_exception=True)
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """A merge, and whether it can still be undone; undoing it (POST)."""
    done = get_object_or_404(CaseMerge.objects.select_related("survivor", "merged", "merged_by", "undone_by"), pk=pk)
    form = UndoForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if done.undone_at is not None:
            raise Http404
        if form.is_valid():
            try:
                merging.undo(
                    done,
                    by=_editor(request),
                    reason=form.cleaned_data["reason"],
                    mark_different=form.cleaned_data["mark_different"],
                )
            except WorkflowError as error:
                for problem in error.problems:
                    messages.error(request, problem)
            else:
                messages.success(
                    request,
                    _("The merge was undone: %(merged)s and %(survivor)s are two records again.")
                    % {"merged": done.merged_case_id, "survivor": done.survivor_case_id},
                )
                return redirect("admin:cases_person_change", done.merged_id)
    context = _context(request, merge=done, form=form, problems=merging.undo_problems(done, by=_editor(request)))
    return render(request, "workflow/merge_undo.html", context)

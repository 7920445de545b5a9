"""Admin building blocks shared by every tracked model, and the vocabulary admin."""

import dataclasses
import datetime
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import formats, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from .history import VersionedModel, changes_since, save_with_history
from .models import Category
from .partial_dates import PartialDate


def https_url_fields(field, **kwargs):
    """Form fields for a model form, with URLs taken as https:// when no scheme is typed."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class VersionedModelForm(forms.ModelForm):
    """A form that saves only over the version it was loaded with (no lost updates).

    The version travels in a hidden field. On save, the row is locked and its
    version compared; when someone saved in between, the form is refused with
    what they changed, and nothing is written.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Set on a revert form: it is loaded from an old version on purpose.
    is_revert = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            # A revert form is filled from an old version on purpose; it is
            # still saved only over the version that was current when it was
            # opened, so that a save made meanwhile is not discarded.
            self.fields["expected_version"].initial = (
                self._current_version() if self.is_revert else self.instance.version
            )

    def _current_version(self, *, lock: bool = False) -> int | None:
        rows = type(self.instance)._base_manager.filter(pk=self.instance.pk)
        if lock:
            rows = rows.select_for_update()
        return rows.values_list("version", flat=True).first()

    def clean(self):
        cleaned_data = super().clean()
        if self.instance._state.adding:
            return cleaned_data
        model = type(self.instance)
        current_version = self._current_version(lock=True)
        expected = cleaned_data.get("expected_version")
        if expected is None:
            raise ValidationError(
                gettext(
                    "This form was sent without the version it was loaded at, so it could overwrite someone "
                    "else's changes. Reload the page and make your change again."
                ),
                code="no_version",
            )
        if expected != current_version:
            changes = changes_since(self.instance, expected)
            message = gettext(
                "Someone else saved this %(record)s while you were editing it, so your changes were not saved. "
                "Reload the page to see the current version, then make your change again. Changed meanwhile:"
            ) % {"record": model._meta.verbose_name}
            raise ValidationError(
                format_html(
                    "{}<ul>{}</ul>", message, format_html_join("", "<li>{}</li>", ((line,) for line in changes))
                ),
                code="stale",
            )
        self.instance.version = expected
        return cleaned_data


def admin_reason(form, action: str = "Changed") -> str:
    """The history reason of an admin save: what was done, and the labels of the fields it changed.

    "Changed in admin: public summary, birth date". Stored in the site's
    language, like the rest of the reason, whatever the editor's language.
    """
    if not form.instance.pk or not form.has_changed():
        return f"{action} in admin"
    with translation.override(settings.LANGUAGE_CODE):
        changed = [_field_label(form, name) for name in form.changed_data if name != "expected_version"]
    return f"{action} in admin: {', '.join(changed)}" if changed else f"{action} in admin"


def _field_label(form, name: str) -> str:
    """A changed field's label as the history shows it: the model field's name for people, else the form's label."""
    try:
        return str(form.instance._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return str(form.fields[name].label or name)


# Bookkeeping the history page does not list as changes: the edit counter, the
# time of the last save and the search keys derived from the names.
HISTORY_HIDDEN_FIELDS = frozenset({"version", "updated_at", "name_key", "name_folded", "native_key", "key", "folded"})


class ReadableHistory(HistoricalRecordContextHelper):
    """The history page's "what changed": field labels and the values people read, not stored keys.

    "Publication state: In review → Published", not "publication_state:
    in_review → published"; yes/no, partial dates at their precision, "—"
    for an empty value.
    """

    def context_for_delta_changes(self, delta):
        shown = [change for change in delta.changes if change.field not in HISTORY_HIDDEN_FIELDS]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=shown))

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if field.many_to_many:
            return super().prepare_delta_change_value(change, value)
        return readable_value(field, value)


def derived_changes(old, new) -> list[ModelChange]:
    """Changes between two history rows in the fields people do not edit (simple-history's diff leaves them out)."""
    changes = []
    for field in old.tracked_fields:
        if field.editable or field.primary_key or field.name in HISTORY_HIDDEN_FIELDS:
            continue
        before, after = getattr(old, field.attname), getattr(new, field.attname)
        if before != after:
            if field.is_relation:
                before, after = getattr(old, field.name, None), getattr(new, field.name, None)
            changes.append(ModelChange(field.name, before, after))
    return changes


def readable_value(field, value) -> str:
    """``value`` of model ``field`` as a person reads it."""
    if value is None or value == "":
        return "—"
    if getattr(field, "flatchoices", None):
        return str(dict(field.flatchoices).get(str(value), value))
    if isinstance(field, models.BooleanField):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, PartialDate):
        return value.display()
    if isinstance(value, datetime.datetime):
        return formats.localize(timezone.localtime(value))
    return str(value)


class TrackedAdmin(SimpleHistoryAdmin):
    """Admin for tracked models.

    Every save carries the user and a reason; nothing is deleted; edits are
    refused when someone else saved in between; only editors revert, and a
    revert is a new change that restores the editable fields only.
    """

    form = VersionedModelForm
    formfield_overrides: dict[Any, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if getattr(request, "revert_to", None):
            form = type(form.__name__, (form,), {"is_revert": True})
        return form

    # The admin loads these on every page to fill a slug from a title; only an admin with
    # prepopulated_fields (the categories) uses them: the others leave out some 170 KB.
    _SLUG_SCRIPTS = ("admin/js/urlify.js", "admin/js/prepopulate.js", "admin/js/vendor/xregexp/xregexp.js")

    @property
    def media(self):
        media = super().media
        if self.prepopulated_fields:
            return media
        stems = tuple(path.removesuffix(".js") for path in self._SLUG_SCRIPTS)
        kept = [path for path in media._js if str(path).removesuffix(".js").removesuffix(".min") not in stems]
        return forms.Media(css=media._css, js=kept)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not issubclass(self.model, VersionedModel) or any(
            "expected_version" in (options.get("fields") or ()) for _, options in fieldsets
        ):
            return fieldsets
        name, options = fieldsets[0]
        return [(name, {**options, "fields": [*options["fields"], "expected_version"]}), *fieldsets[1:]]

    def change_reason(self, request, form, change: bool) -> str:
        revert_to = getattr(request, "revert_to", None)
        if revert_to is not None:
            return f"Reverted to the version of {revert_to.history_date:%Y-%m-%d %H:%M UTC}"
        return admin_reason(form, "Changed" if change else "Added")

    def save_model(self, request, obj, form, change):
        save_with_history(obj, by=request.user, reason=self.change_reason(request, form, change))

    def save_formset(self, request, form, formset, change):
        deleted = set(map(id, formset.deleted_forms))
        for inline_form in formset.forms:
            inline_form.instance._change_reason = (
                "Deleted in admin"
                if id(inline_form) in deleted
                else admin_reason(inline_form, "Changed" if inline_form.instance.pk else "Added")
            )
        super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each history row's changes, the values the system derives included (status, "since", workflow).

        simple-history compares the fields people edit only; the history page
        also says when the current status or the submission changed.
        """
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(current, foreign_keys_are_objs=foreign_keys_are_objs)
                derived = derived_changes(current, previous)
                if derived:
                    changes = sorted([*delta.changes, *derived], key=lambda change: change.field)
                    delta = dataclasses.replace(
                        delta, changes=changes, changed_fields=[change.field for change in changes]
                    )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def revert_disabled(self, request, obj=None):
        return not request.user.has_perm("cases.revert_history")

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and self.revert_disabled(request):
            raise PermissionDenied
        history = self.model.history.filter(pk=version_id, id=object_id).first()
        if history is None:
            raise Http404
        # The page is a revert form from the start: it carries the version
        # current when it was opened (see VersionedModelForm).
        request.revert_to = history
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_form(self, request, form, change):
        instance = super().save_form(request, form, change)
        revert_to = getattr(request, "revert_to", None)
        if revert_to is None:
            return instance
        # A revert restores what people edit, never what the system keeps:
        # workflow state, derived fields and withdrawals stay as they are now.
        current = self.model._base_manager.get(pk=instance.pk)
        for field in self.model._meta.concrete_fields:
            if field.editable and field.name in form.cleaned_data:
                setattr(current, field.attname, getattr(instance, field.attname))
        return current


class ListedInline(admin.TabularInline):
    """Related rows listed read-only on a record's page, each linked to its own page, where it is changed over
    the version it was read at: listing them keeps the page to a fixed number of queries however many there are."""

    extra = 0
    can_delete = False
    show_change_link = True
    # What each row's listing reads with it (``select_related``).
    listed_with: tuple[str, ...] = ()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.listed_with)


class LabelledTabularInline(admin.TabularInline):
    """A table of inline rows whose every input carries its column's name (``aria-label``).

    Django's tabular inlines put the field names in the table's header
    only, so a screen reader meets inputs without a name.
    """

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for name, field in formset.form.base_fields.items():
            if not field.widget.is_hidden:
                label = str(field.label or name)
                field.widget.attrs["aria-label"] = label
                # An autocomplete wraps its <select>: name that too.
                inner = getattr(field.widget, "widget", None)
                if inner is not None:
                    inner.attrs["aria-label"] = label
        return formset


class VersionedInlineFormSet(forms.BaseInlineFormSet):
    """Inline rows of a versioned model (with :class:`VersionedModelForm`): each row is saved only over the version
    it was loaded at, and a row deleted from a stale page is refused too.

    A formset does not count the errors of a row marked for deletion; a row
    someone else changed meanwhile is not deleted unseen.
    """

    def clean(self):
        super().clean()
        stale = [
            error
            for row in self.forms
            if self.can_delete and self._should_delete_form(row) and row.instance.pk
            for error in row.errors.as_data().get(NON_FIELD_ERRORS, [])
            if error.code in {"stale", "no_version"}
        ]
        if stale:
            raise ValidationError(stale)


def active_or_current(field: forms.Field, current_pk: int | None) -> None:
    """Offer only records that are not withdrawn, and the one already chosen (kept when it was withdrawn since)."""
    choice = cast(forms.ModelChoiceField, field)
    assert choice.queryset is not None
    choice.queryset = choice.queryset.filter(models.Q(withdrawn=False) | models.Q(pk=current_pk))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Recorded in the history of each record."),
    )


@admin.action(description=gettext_lazy("Withdraw selected (with a reason)"), permissions=["change"])
def withdraw_selected(modeladmin, request, queryset):
    """Withdraw records (never delete them), with a reason, after a confirmation page."""
    allowed = [obj for obj in queryset if not obj.withdrawn and modeladmin.has_change_permission(request, obj)]
    form = WithdrawForm(request.POST if "confirm" in request.POST else None)
    if form.is_valid():
        for obj in allowed:
            obj.withdraw(by=request.user, reason=form.cleaned_data["reason"])
        selected = queryset.count()
        modeladmin.message_user(
            request,
            ngettext(
                "Withdrew %(count)d of %(selected)d selected.", "Withdrew %(count)d of %(selected)d selected.", selected
            )
            % {"count": len(allowed), "selected": selected},
        )
        return None
    return TemplateResponse(
        request,
        "admin/withdraw_selected.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": gettext("Withdraw %(records)s") % {"records": modeladmin.model._meta.verbose_name_plural},
            "opts": modeladmin.model._meta,
            "objects": allowed,
            "skipped": queryset.count() - len(allowed),
            # What the withdrawal changes elsewhere (a source's published cases), said before it is done.
            "consequences": getattr(modeladmin, "withdrawal_consequences", lambda objects: [])(allowed),
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(Category)
class CategoryAdmin(TrackedAdmin):
    form = forms.ModelForm  # type: ignore[assignment]  # categories are not versioned
    list_display = ["name", "name_ko", "name_ja", "slug"]
    search_fields = ["name", "name_ko", "name_ja"]
    prepopulated_fields = {"slug": ["name"]}


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete, labelling each result by its ``choice_label`` where the model has one.

    A source is chosen by title, publisher, date and site, so that two
    sources with one title are told apart.
    """

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(obj, "choice_label", None)
        return {**result, "text": label} if label else result


def _autocomplete_view(request):
    return LabelledAutocompleteJsonView.as_view(admin_site=admin.site)(request)


admin.site.autocomplete_view = _autocomplete_view  # type: ignore[method-assign]

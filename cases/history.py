"""Writing tracked models so that every history row says who and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class EvidentialRecordDeletion(Exception):
    """Raised when code tries to hard-delete a person, event, source or citation."""


def save_with_history(instance: Any, *, by: User | None, reason: str, **save_kwargs) -> None:
    """Save ``instance`` and let django-simple-history record ``by`` and ``reason``.

    ``by`` may be ``None`` for work done by the system (seed loading, imports
    from the command line); the reason must then say what did it.
    """
    attribute_changes(instance, by=by, reason=reason)
    instance.save(**save_kwargs)


def attribute_changes(instance: Any, *, by: User | None, reason: str) -> None:
    """Let the history rows ``instance`` writes next say who and why: those of its next save, and those written
    without one (a change of its many-to-many fields, its deletion)."""
    if not reason:
        raise ValueError("A change to a tracked record needs a reason.")
    if by is not None:
        instance._history_user = by
    instance._change_reason = reason


class EvidentialQuerySet(models.QuerySet):
    """Evidential records are withdrawn or corrected, never deleted in bulk."""

    def delete(self):
        raise EvidentialRecordDeletion(
            f"{self.model._meta.verbose_name_plural} are evidential records: withdraw them instead of deleting."
        )

    delete.queryset_only = True  # type: ignore[attr-defined]  # (Django: not on the manager)

    def purge(self):
        """Delete for good, history included. Only for an Administrator's audited purge (``purge_case``)."""
        pks = list(self.values_list("pk", flat=True))
        result = super().delete()
        # After the delete, which itself writes a last history row for each record.
        self.model.history.filter(id__in=pks).delete()
        return result

    purge.queryset_only = True  # type: ignore[attr-defined]


class EvidentialModel(models.Model):
    """Base for persons, status events, sources and citations: no hard delete."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise EvidentialRecordDeletion(
            f"{self._meta.verbose_name} {self.pk} is an evidential record: withdraw it instead of deleting."
        )


class WithdrawableModel(EvidentialModel):
    """An evidential record that is withdrawn, with a reason, instead of deleted."""

    withdrawn = models.BooleanField(_("withdrawn"), default=False, editable=False)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True, editable=False)

    class Meta:
        abstract = True

    def withdraw(self, *, by: User | None, reason: str) -> None:
        """Withdraw the record. It stays in the database and in the history."""
        if not reason.strip():
            raise ValueError(f"Withdrawing a {self._meta.verbose_name} needs a reason.")
        self.withdrawn, self.withdrawn_reason = True, reason
        save_with_history(self, by=by, reason=reason, update_fields=["withdrawn", "withdrawn_reason"])


def withdrawal_check(model: str) -> models.CheckConstraint:
    """The database's side of :meth:`WithdrawableModel.withdraw`: a withdrawn ``model`` row says why."""
    return models.CheckConstraint(
        condition=models.Q(withdrawn=False) | ~models.Q(withdrawn_reason=""), name=f"{model}_withdrawal_has_reason"
    )


class ConcurrentEdit(Exception):
    """Someone else saved the record since this copy of it was read."""

    def __init__(self, instance: models.Model, expected_version: int) -> None:
        self.instance, self.expected_version = instance, expected_version
        super().__init__(
            f"{instance._meta.verbose_name} {instance.pk} was changed by someone else since version "
            f"{expected_version} was read; nothing was saved."
        )


class VersionedModel(models.Model):
    """Optimistic locking: an edit saves only over the version it was made from.

    Every edit raises ``version`` by one, and the UPDATE only matches the row
    while it still has the version this copy was read at; otherwise
    :class:`ConcurrentEdit` is raised and nothing is written. Saving only the
    ``unversioned_fields`` (values the system derives) is not an edit.
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    unversioned_fields: frozenset[str] = frozenset()
    # The version an edit in progress was read at (set by save() for _do_update()).
    _expected_version: int | None = None

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        is_edit = not self._state.adding and (update_fields is None or self.edits(update_fields))
        if not is_edit:
            super().save(*args, **kwargs)
            return
        self._expected_version = self.version
        self.version += 1
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.version = self._expected_version
            raise
        finally:
            self._expected_version = None

    @classmethod
    def edits(cls, field_names) -> bool:
        """Whether writing ``field_names`` of a row is an edit, which raises its version: any but the derived ones.

        The rule of save() here, and of the bulk writer's updates (:meth:`cases.bulk.BulkWriter.update`).
        """
        return bool(set(field_names) - cls.unversioned_fields)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        expected = getattr(self, "_expected_version", None)
        if expected is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        updated = super()._do_update(
            base_qs.filter(version=expected), using, pk_val, values, update_fields, forced_update
        )
        if not updated and base_qs.filter(pk=pk_val).exists():
            raise ConcurrentEdit(self, expected)
        return updated


def _shorten(value, limit: int = 80) -> str:
    text = "—" if value in (None, "") else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def changes_since(instance: Any, version: int) -> list[str]:
    """What was saved to ``instance`` after ``version``, one line per history row, oldest first."""
    records = list(instance.history.order_by("history_date", "history_id"))
    start = max((i for i, record in enumerate(records) if record.version <= version), default=0)
    lines = []
    for previous, record in zip(records[start:], records[start + 1 :], strict=False):
        delta = record.diff_against(previous)
        fields = [
            gettext("%(field)s: %(old)s → %(new)s")
            % {
                "field": getattr(instance._meta.get_field(change.field), "verbose_name", change.field),
                "old": _shorten(change.old),
                "new": _shorten(change.new),
            }
            for change in delta.changes
            if change.field not in {"version", "updated_at"}
        ]
        # The reason is shown as it was recorded (history reasons are data, in the site's language).
        lines.append(
            gettext("%(when)s, %(who)s: %(reason)s (%(fields)s)")
            % {
                "when": record.history_date.strftime("%Y-%m-%d %H:%M UTC"),
                "who": record.history_user or gettext("the system"),
                "reason": record.history_change_reason or gettext("no reason given"),
                "fields": "; ".join(fields),
            }
        )
    return lines

"""Writing tracked models so that every history row says who and why."""

from django.db import models


class EvidentialRecordDeletion(Exception):
    """Raised when code tries to hard-delete a person, event, source or citation."""


def save_with_history(instance: models.Model, *, by, reason: str, **save_kwargs) -> None:
    """Save ``instance`` and let django-simple-history record ``by`` and ``reason``.

    ``by`` may be ``None`` for work done by the system (seed loading, imports
    from the command line); the reason must then say what did it.
    """
    if not reason:
        raise ValueError("A change to a tracked record needs a reason.")
    if by is not None:
        instance._history_user = by
    instance._change_reason = reason
    instance.save(**save_kwargs)


class EvidentialQuerySet(models.QuerySet):
    """Evidential records are withdrawn or corrected, never deleted in bulk."""

    def delete(self):
        raise EvidentialRecordDeletion(
            f"{self.model._meta.verbose_name_plural} are evidential records: withdraw them instead of deleting."
        )

    delete.queryset_only = True


class EvidentialModel(models.Model):
    """Base for persons, status events, sources and citations: no hard delete."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise EvidentialRecordDeletion(
            f"{self._meta.verbose_name} {self.pk} is an evidential record: withdraw it instead of deleting."
        )

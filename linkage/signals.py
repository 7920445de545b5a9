"""The incremental pass: a person's pairs are looked for again after a change to what the passes compare.

After the transaction commits, so a change rolled back finds nothing and the
save itself waits for nothing; fixtures loaded raw are left to the full pass
(``find_duplicates``), as are the bulk paths (imports, the seed, the demo
data), which send no signals.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.models import NameVariant, Person, StatusEvent

from .matching import pairs_for

# Saves that change nothing the passes compare: the derived status, the version counter, the publication.
_UNCOMPARED = frozenset(
    {
        *Person.DERIVED_STATUS_FIELDS,
        "updated_at",
        "version",
        "publication_state",
        "submitted_by",
        "submitted_at",
    }
)


def _later(person_id: int | None) -> None:
    if person_id is not None:
        # Robust: a failure here is logged, and never turns a saved change into an error page.
        transaction.on_commit(lambda: pairs_for(person_id), robust=True)


@receiver(post_save, sender=Person, dispatch_uid="linkage_person_saved")
def person_saved(sender, instance: Person, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and set(update_fields) <= _UNCOMPARED):
        return
    _later(instance.pk)


@receiver(post_save, sender=NameVariant, dispatch_uid="linkage_variant_saved")
@receiver(post_save, sender=StatusEvent, dispatch_uid="linkage_event_saved")
def part_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        _later(instance.person_id)

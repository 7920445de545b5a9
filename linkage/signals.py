"""The incremental pass: a person's pairs are looked for again after a change to what the passes compare.

After the transaction commits, so a change rolled back finds nothing; once per
person and transaction, however many of their rows were saved in it (a case
saved with its name variants and events is one pass). Fixtures loaded raw are
left to the full pass (``find_duplicates``), and so are the bulk paths, which
send no signals: an import asks the worker for a full pass (exchange.write).
"""

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.models import NameVariant, Person, StatusEvent

from .matching import pairs_for

# Saves that change nothing the passes compare: the derived status and name keys (Person.save() adds the keys to
# every partial save), the version counter, the publication.
_UNCOMPARED = frozenset(
    {
        *Person.DERIVED_STATUS_FIELDS,
        "updated_at",
        "version",
        "name_key",
        "name_folded",
        "native_key",
        "publication_state",
        "submitted_by",
        "submitted_at",
    }
)


def _later(person_id: int | None) -> None:
    if person_id is None:
        return
    # One callback per transaction for all its persons: the one already waiting, if this transaction has it (a
    # rolled-back transaction's callbacks are gone with it, and the next one starts its own).
    for entry in connection.run_on_commit:  # (savepoint ids, callback, robust)
        waiting = getattr(entry[1], "linkage_waiting", None)
        if waiting is not None:
            waiting.add(person_id)
            return
    waiting = {person_id}

    def run() -> None:
        run.linkage_waiting = None  # type: ignore[attr-defined]  # done: a later save asks again
        for pk in sorted(waiting):
            pairs_for(pk)

    run.linkage_waiting = waiting  # type: ignore[attr-defined]
    transaction.on_commit(run, robust=True)  # robust: a failure is logged, never an error page


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

"""Restrictions take effect on the public record at once, whichever way they are made.

Whether a source is restricted in the admin, by an import or from a shell,
the published versions that show it are redacted in the same transaction.
Only restrictions act here: making something public again reaches the public
only through an editor's next publication.
"""

from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from advocacy.models import Appeal, AppealReply
from archive.models import Capture
from cases.models import (
    Authority,
    Category,
    Facility,
    FacilityName,
    NameVariant,
    Person,
    PublicationState,
    Relation,
    Responsibility,
    StatusEvent,
)
from security.audit import record as audit
from security.models import AuditEvent
from sources.models import Citation, Source

from .models import PublicGeneration, PublishedVersion, announce_public_records_changed
from .snapshots import redact_published_versions


def _redact(person_ids, instance, what: str) -> None:
    redact_published_versions(
        person_ids, by=getattr(instance, "_history_user", None), reason=f"Public record redacted: {what}"
    )


@receiver(post_save, sender=Source)
def source_saved(sender, instance: Source, raw=False, created=False, **kwargs):
    if raw:
        return
    previous = None if created else instance.history.order_by("-history_date", "-history_id")[1:2].first()
    if previous is not None and previous.is_restricted != instance.is_restricted:
        audit(
            AuditEvent.Action.RESTRICTION_CHANGED,
            actor=getattr(instance, "_history_user", None),
            target=f"source {instance.pk}",
            restricted=instance.is_restricted,
        )
    # The facility pages read their citations' sources as they are now: a change to one they cite shows there.
    if Citation.objects.filter(source=instance, facility__isnull=False).exists():
        PublicGeneration.advance()
    if instance.is_public:
        return
    cited = Citation.objects.filter(source=instance)
    person_ids = {
        *cited.values_list("person_id", flat=True),
        *cited.values_list("status_event__person_id", flat=True),
        *cited.values_list("relation__person_id", flat=True),
        *cited.values_list("relation__other_id", flat=True),
    }
    _redact(person_ids - {None}, instance, f"source “{instance}” is no longer public")


@receiver(post_save, sender=Capture)
def capture_saved(sender, instance: Capture, raw=False, created=False, update_fields=None, **kwargs):
    # Whether the public may download a copy is read at each request (workflow.copies); the source's page,
    # which offers it, is kept under the generation: a change to a capture that is or was public raises it.
    if raw or not (instance.copy_public or "copy_public" in (update_fields or ())):
        return
    PublicGeneration.advance()


@receiver(post_save, sender=Citation)
def citation_saved(sender, instance: Citation, raw=False, **kwargs):
    if raw:
        return
    if instance.facility_id is not None:
        # A facility's page shows its citations as they are now.
        PublicGeneration.advance()
    if not instance.withdrawn:
        return
    _redact(instance.case_person_ids, instance, f"citation of “{instance.source}” withdrawn")


@receiver(post_save, sender=StatusEvent)
def status_event_saved(sender, instance: StatusEvent, raw=False, created=False, **kwargs):
    # A new event cannot be in a published version yet: only a change can take one out (or, for a public
    # event, take its facility out when it is moved to another).
    if raw or created:
        return
    _redact([instance.person_id], instance, f"status event “{instance}” changed")


@receiver(post_save, sender=NameVariant)
def name_variant_saved(sender, instance: NameVariant, raw=False, created=False, **kwargs):
    if raw:
        return
    # Read from the database: the caller's copy of the person may predate the flag.
    if Person.objects.filter(pk=instance.person_id, reprisal_risk=True).exists():
        # Every public text is read for every name of a person at risk: a new name among them too.
        _redact([instance.person_id], instance, "a name of a person at risk was added or changed")
        return
    if created or instance.is_public:
        return
    _redact([instance.person_id], instance, "a name variant is no longer public")


@receiver(post_delete, sender=NameVariant)
def name_variant_deleted(sender, instance: NameVariant, **kwargs):
    _redact([instance.person_id], instance, "a name variant was removed")


@receiver(post_save, sender=Person)
def person_saved(sender, instance: Person, raw=False, **kwargs):
    if raw:
        return
    if instance.reprisal_risk or instance.publication_state == PublicationState.WITHDRAWN:
        # A relation to this case leaves the other cases' public records (workflow.snapshots.relation_is_public).
        _redact(
            Relation.objects.persons_related_to(instance),
            instance,
            "a related case is withdrawn or its family faces reprisals",
        )
    if instance.reprisal_risk:
        _redact([instance.pk], instance, "the family faces reprisals: pseudonym only")


@receiver(post_save, sender=Relation)
def relation_saved(sender, instance: Relation, raw=False, created=False, **kwargs):
    # A new relation cannot be in a published version yet: only a change can take one out.
    if raw or created:
        return
    _redact([instance.person_id, instance.other_id], instance, f"relation {instance.pk} changed")


@receiver(post_save, sender=Facility)
def facility_saved(sender, instance: Facility, raw=False, created=False, **kwargs):
    # Made non-public, withdrawn, or renamed: the published cases that name it say so at once.
    if raw or created:
        return
    person_ids = StatusEvent.objects.filter(facility=instance).values_list("person_id", flat=True)
    _redact(set(person_ids), instance, f"facility “{instance}” changed")


@receiver(post_save, sender=Authority)
def authority_saved(sender, instance: Authority, raw=False, created=False, **kwargs):
    if raw or created:
        return
    person_ids = Responsibility.objects.filter(authority=instance).values_list("status_event__person_id", flat=True)
    _redact(set(person_ids), instance, f"authority “{instance}” changed")


@receiver(post_save, sender=Responsibility)
@receiver(post_delete, sender=Responsibility)
def responsibility_changed(sender, instance: Responsibility, raw=False, created=False, **kwargs):
    if raw or created:
        return
    person_id = StatusEvent.objects.filter(pk=instance.status_event_id).values_list("person_id", flat=True).first()
    if person_id is not None:
        _redact([person_id], instance, "an authority believed responsible was changed or removed")


@receiver(post_save, sender=Appeal)
def appeal_saved(sender, instance: Appeal, raw=False, created=False, **kwargs):
    # A new appeal cannot be in a published version yet: only a change can take one out.
    if raw or created or instance.is_public_line:
        return
    _redact(instance.persons.values_list("pk", flat=True), instance, f"appeal {instance.pk} is no longer public")


@receiver(post_save, sender=AppealReply)
def appeal_reply_saved(sender, instance: AppealReply, raw=False, created=False, **kwargs):
    if raw or created or not instance.withdrawn:
        return
    _redact(instance.appeal.persons.values_list("pk", flat=True), instance, "a reply to an appeal was withdrawn")


@receiver(m2m_changed, sender=Appeal.persons.through)
def appeal_persons_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A person taken off an appeal: the appeal leaves their public record at once.

    ``reverse``: the change was made from the person's side (``person.appeals.remove(…)``).
    """
    if action == "pre_clear" and not reverse:
        # Which persons a clear of an appeal takes off, read before they are gone.
        instance._persons_before_clear = list(instance.persons.values_list("pk", flat=True))
        return
    if action not in ("post_remove", "post_clear"):
        return
    if reverse:
        person_ids = [instance.pk]
    elif action == "post_remove":
        person_ids = list(pk_set or [])
    else:
        person_ids = instance.__dict__.pop("_persons_before_clear", [])
    _redact(person_ids, instance, "a person was taken off an appeal")


@receiver(post_save, sender=PublishedVersion)
def version_published(sender, instance: PublishedVersion, raw=False, created=False, **kwargs):
    """A case published again: the cases related to it name it as its new record does (a name taken off it is
    taken off theirs)."""
    if raw or not created:
        return
    related = Relation.objects.persons_related_to(instance.person_id)
    _redact(related, instance, f"related case {instance.case_id} published again")


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
@receiver(post_save, sender=Authority)
def public_data_changed(sender, raw=False, **kwargs):
    """Whatever the public sees changed: cached counts and ETags start again (PublicGeneration)."""
    if not raw:
        PublicGeneration.advance()


@receiver(post_save, sender=PublishedVersion)
@receiver(post_delete, sender=PublishedVersion)
def version_changed(sender, instance: PublishedVersion, raw=False, **kwargs):
    """A version published, superseded, withdrawn, redacted or erased: its case's kept pages go too (the
    version's own, and the others', which list the versions)."""
    if not raw:
        PublicGeneration.advance(pages_of=Q(person_id=instance.person_id))


@receiver(post_save, sender=Facility)
@receiver(post_save, sender=FacilityName)
@receiver(post_delete, sender=FacilityName)
def facility_changed(sender, instance, raw=False, **kwargs):
    """A facility or one of its names changed: the kept pages of the cases held there go too (a case's map draws
    its facilities as they are now, public.facilities.case_map)."""
    if not raw:
        facility_id = instance.pk if sender is Facility else instance.facility_id
        PublicGeneration.advance(pages_of=Q(placements__facility_id=facility_id))


@receiver(post_save, sender=PublishedVersion)
@receiver(post_delete, sender=PublishedVersion)
def published_records_changed(sender, raw=False, **kwargs):
    """A version published, superseded, withdrawn, redacted or erased: announced after the commit (a new data
    release may be built then, public/apps.py)."""
    if not raw:
        announce_public_records_changed()

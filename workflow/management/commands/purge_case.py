"""Erase a case for good: the one way anything evidential is hard-deleted, and it is audited."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cases.models import NameVariant, Person, Relation, Responsibility, StatusEvent
from linkage.models import CandidatePair
from security.audit import record
from security.models import AuditEvent
from sources.models import Citation
from workflow.models import CaseMerge, DataRelease, PublishedVersion
from workflow.snapshots import redact_published_versions


class Command(BaseCommand):
    help = (
        "Erase a case and everything about it, history included (for example at the family's request when "
        "keeping it endangers them). Sources stay. Run by an Administrator; recorded in the audit without "
        "any personal data."
    )

    def add_arguments(self, parser):
        parser.add_argument("case_id")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--confirm", required=True, help="the case ID again, to confirm")
        parser.add_argument("--by", required=True, help="username of the Administrator who decided it")

    @transaction.atomic
    def handle(self, *args, case_id, reason, confirm, by, **options):
        from django.contrib.auth import get_user_model

        if confirm != case_id:
            raise CommandError(_("--confirm must repeat the case ID."))
        if not reason.strip():
            raise CommandError(_("Give the reason for the purge."))
        administrator = get_user_model().objects.filter(username=by, is_active=True).first()
        if administrator is None or not (
            administrator.is_superuser or administrator.groups.filter(name="Administrator").exists()
        ):
            raise CommandError(_("“%(username)s” is not an active Administrator.") % {"username": by})
        person = Person.objects.filter(case_id=case_id).first()
        if person is None:
            raise CommandError(_("No case %(case_id)s.") % {"case_id": case_id})
        merged_here = list(Person.objects.filter(merged_into=person).values_list("case_id", flat=True))
        if merged_here:
            raise CommandError(
                _("Records were merged into %(case_id)s: %(cases)s. Purge those first, or undo their merges.")
                % {"case_id": case_id, "cases": ", ".join(merged_here)}
            )
        events = StatusEvent.objects.filter(person=person)
        relations = Relation.objects.of(person)
        related = Relation.objects.persons_related_to(person)
        citations = (
            Citation.objects.filter(person=person)
            | Citation.objects.filter(status_event__in=events)
            | Citation.objects.filter(relation__in=relations)
        )
        versions = PublishedVersion.objects.filter(person=person)
        counts = {
            "citations": citations.count(),
            "status_events": events.count(),
            "relations": relations.count(),
            "published_versions": versions.count(),
        }
        _purge_admin_log(
            {
                Person: [person.pk],
                NameVariant: list(NameVariant.objects.filter(person=person).values_list("pk", flat=True)),
                StatusEvent: list(events.values_list("pk", flat=True)),
                Relation: list(relations.values_list("pk", flat=True)),
                Citation: list(citations.values_list("pk", flat=True)),
                PublishedVersion: list(versions.values_list("pk", flat=True)),
            }
        )
        Citation.objects.filter(pk__in=list(citations.values_list("pk", flat=True))).purge()
        version_ids = list(versions.values_list("pk", flat=True))
        DataRelease.withdraw_containing([person.pk])  # while its versions still say when it was first published
        versions.delete()
        PublishedVersion.history.filter(id__in=version_ids).delete()
        NameVariant.objects.filter(person=person).delete()
        NameVariant.history.filter(person_id=person.pk).delete()
        relations.purge()
        event_ids = list(events.values_list("pk", flat=True))
        Responsibility.objects.filter(status_event__in=event_ids).delete()
        Responsibility.history.filter(status_event_id__in=event_ids).delete()
        events.purge()
        # The merges it was in (undone ones, or its own into another record): they name it by its case ID.
        merges = CaseMerge.objects.filter(Q(merged=person) | Q(survivor=person))
        merge_ids = list(merges.values_list("pk", flat=True))
        merges.delete()
        CaseMerge.history.filter(id__in=merge_ids).delete()
        # Other merges keep the public records of the cases related to theirs, for an undo: not this one's.
        _forget_records(version_ids)
        # The possible duplicates it was in, and the reviewers' reasons, which may name the person.
        CandidatePair.objects.for_person(person).purge()
        Person.objects.filter(pk=person.pk).purge()
        # The cases it was related to no longer name it.
        redact_published_versions(related, by=administrator, reason=f"Case {case_id} purged")
        # The history of the person's categories lives in its own table.
        for m2m_history in _m2m_history_models():
            m2m_history.objects.filter(person_id=person.pk).delete()
        record(AuditEvent.Action.PURGED, actor=administrator, target=case_id, reason=reason, **counts)
        self.stdout.write(f"Purged {case_id}: {counts}. The case ID is never reused.")


def _forget_records(version_ids: list[int]) -> None:
    """Take the records of these published versions out of what the merges keep for an undo (and out of their
    history): a merge of a case related to the purged one kept them (workflow.merging)."""
    gone = {str(pk) for pk in version_ids}
    if not gone:
        return
    for rows in (CaseMerge.objects.all(), CaseMerge.history.all()):
        for pk, moved in rows.values_list("pk", "moved").iterator():
            records = moved.get("records", {})
            if gone & set(records):
                moved["records"] = {key: record for key, record in records.items() if key not in gone}
                rows.filter(pk=pk).update(moved=moved)


def _m2m_history_models() -> list:
    """simple-history's tables of the person's many-to-many history (its categories)."""
    from django.apps import apps

    return [
        model
        for model in apps.get_app_config("cases").get_models()
        if model._meta.db_table.startswith("cases_historicalperson_")
    ]


def _purge_admin_log(records: dict) -> None:
    """The admin's own log ("Recent actions") of these records: it holds their names and texts."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    for model, pks in records.items():
        content_type = ContentType.objects.get_for_model(model)
        entries = LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks])
        entries.delete()

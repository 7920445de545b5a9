"""Load the seed cases and sources; safe to run any number of times."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from advocacy.models import Appeal, AppealState
from cases.history import save_with_history
from cases.models import Category, NameVariant, Person
from cases.partial_dates import PartialDate
from cases.vocabularies import in_every_language
from sources.models import Citation, Source
from workflow.place_loading import load_places
from workflow.services import publish, submit_for_review

DEFAULT_FILE = Path(settings.BASE_DIR) / "fixtures" / "north_korea_seed.json"


class Command(BaseCommand):
    help = (
        "Load seed cases, sources, authorities, facilities and appeals from a JSON file (default: the North "
        "Korea briefing). A person whose external reference exists, a source with the same URL or title, an "
        "authority or a facility with the same name, or an appeal with the same reference of ours, is left as "
        "it is: loading twice changes nothing, and never overwrites later edits."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": path, "error": error}) from None
        created = load_seed(data)
        self.stdout.write(
            f"Seed: {created['persons']} persons, {created['sources']} sources, {created['authorities']} authorities, "
            f"{created['facilities']} facilities and {created['appeals']} appeals added."
        )


@transaction.atomic
def load_seed(data: dict) -> dict:
    """Sources, then authorities and facilities, then persons, then appeals, then the new persons through review to
    publication, in one transaction.

    The appeals come before the publications so that the published records
    carry their public lines. Each record is matched by its key (a source's
    URL or title, an authority's or a facility's name, a person's external
    reference, an appeal's reference of ours) and left as it is when it
    exists. Authorities and facilities load as ``import_facilities`` loads
    them (``workflow.place_loading``), citing the seed's sources by key.
    """
    reason = data["reason"]
    sources, created = {}, {"persons": 0, "sources": 0, "authorities": 0, "facilities": 0, "appeals": 0}
    for item in data["sources"]:
        item = dict(item)
        key = item.pop("key")
        item["published_on"] = PartialDate.parse(item["published_on"])
        existing = Source.objects.filter(url=item["url"]) if item["url"] else Source.objects.filter(title=item["title"])
        source = existing.first()
        if source is None:
            source = Source(**item)
            source.full_clean()
            save_with_history(source, by=None, reason=reason)
            created["sources"] += 1
        sources[key] = source

    places = load_places(data, source=sources.get, by=None, reason=reason)
    if places.problems:
        raise CommandError("\n".join(places.problems))
    created["authorities"], created["facilities"] = places.authorities, places.facilities

    new_persons = []
    for item in data["persons"]:
        if Person.objects.filter(external_ref=item["external_ref"]).exists():
            continue
        new_persons.append(_load_person(item, sources, reason))
    created["persons"] = len(new_persons)

    for item in data.get("appeals", []):
        if Appeal.objects.filter(our_reference=item["our_reference"]).exists():
            continue
        _load_appeal(item, sources, reason)
        created["appeals"] += 1

    # Through the same review path as every case: the public sees a published version.
    for person in new_persons:
        submit_for_review(person, by=None, reason=reason)
        publish(person, by=None, reason=f"{reason}: published (already public in the cited source)")
    return created


def _cite(source: Source, reason: str, **target) -> None:
    save_with_history(Citation(source=source, **target), by=None, reason=reason)


def _load_person(item: dict, sources: dict, reason: str) -> Person:
    fields = {
        name: item[name]
        for name in (
            "external_ref",
            "name",
            "descriptor",
            "family_name_native",
            "given_name_native",
            "sex",
            "nationality",
            *in_every_language("summary"),
            "summary_ko_is_translation",
            "summary_ja_is_translation",
            "publication_basis",
        )
        if name in item
    }
    person = Person(**fields)
    person.full_clean(exclude=["case_id"])
    save_with_history(person, by=None, reason=reason)
    person.categories.set(Category.objects.filter(slug__in=item.get("categories", [])))
    for variant in item.get("variants", []):
        save_with_history(NameVariant(person=person, **variant), by=None, reason=reason)
    for citation in item.get("citations", []):
        citation = dict(citation)
        _cite(sources[citation.pop("source")], reason, person=person, **citation)
    for event_data in item.get("events", []):
        event_data = dict(event_data)
        citations = event_data.pop("citations", [])
        event_data["date"] = PartialDate.parse(event_data["date"])
        event = person.record_status(by=None, reason=reason, **event_data)
        for citation in citations:
            citation = dict(citation)
            _cite(sources[citation.pop("source")], reason, status_event=event, **citation)
    return person


def _load_appeal(item: dict, sources: dict, reason: str) -> Appeal:
    """An appeal for persons of the seed (new or loaded before), with its documents, taken to its state."""
    persons = list(Person.objects.filter(external_ref__in=item["persons"]))
    if len(persons) != len(set(item["persons"])):
        missing = set(item["persons"]) - {person.external_ref for person in persons}
        raise CommandError(
            _("Appeal %(reference)s: no person has the external reference %(missing)s.")
            % {"reference": item["our_reference"], "missing": ", ".join(sorted(missing))}
        )
    fields = ("our_reference", "kind", "addressee", "country", "request", "is_public", "internal_notes")
    appeal = Appeal(**{name: item[name] for name in fields if name in item})
    appeal.full_clean()
    save_with_history(appeal, by=None, reason=reason)
    # The persons and documents are written with the appeal's history reason (its m2m history rows).
    appeal.persons.set(persons)
    appeal.documents.set([sources[key] for key in item.get("documents", [])])
    if item.get("state", AppealState.DRAFTED) != AppealState.DRAFTED:
        # Through the appeal's one path for its steps; a date the source does not give stays unknown.
        sent_on = PartialDate.parse(item["sent_on"]) if item.get("sent_on") else None
        appeal.advance(item["state"], by=None, on=sent_on, reason=reason)
    return appeal

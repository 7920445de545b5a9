"""What the public may see of a case: decided here, and only here.

Every public surface renders :class:`PublicCase` objects built by
:func:`build_public_case`. A field that is not copied here cannot reach a
public page, whatever a template asks for.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch

from cases.models import TIMELINE_ORDER, NameVariant, Person, Status, StatusEvent, derive_status
from cases.partial_dates import PartialDate


@dataclass(frozen=True)
class PublicEvent:
    status: str
    status_label: str
    date: PartialDate | None
    place: str
    description: str
    confidence: str


@dataclass(frozen=True)
class PublicCase:
    case_id: str
    name: str
    name_native: str
    other_names: list[str]
    sex: str
    birth_date: PartialDate | None
    nationality: str
    categories: list[str]
    summary: str
    status: str
    status_since: PartialDate | None
    last_confirmed: PartialDate | None
    updated_at: datetime.datetime
    timeline: list[PublicEvent] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return Status(self.status).label if self.status else ""

    @property
    def is_clarified(self) -> bool:
        return Status.is_clarified(self.status)


def build_public_case(person: Person) -> PublicCase:
    """The public record of a published person, from public facts only.

    Expects ``person`` from :func:`published_persons` (public variants and
    events prefetched). The current status is derived from the public events
    alone, so a restricted event cannot show through it. When the family
    faces reprisals, the pseudonym replaces every name, and what could
    identify the person (native name, birth date) is left out.
    """
    events = list(person.public_events)
    status, since, last_confirmed = derive_status(events)
    hide_identity = person.reprisal_risk
    return PublicCase(
        case_id=person.case_id,
        name=person.public_name,
        name_native="" if hide_identity else person.name_native,
        other_names=[] if hide_identity else [variant.name for variant in person.public_variants],
        sex=person.get_sex_display(),
        birth_date=None if hide_identity else person.birth_date,
        nationality=person.nationality.name if person.nationality else "",
        categories=[category.name for category in person.categories.all()],
        summary=person.summary,
        status=status,
        status_since=since,
        last_confirmed=last_confirmed,
        updated_at=person.updated_at,
        timeline=[
            PublicEvent(
                status=event.status,
                status_label=event.get_status_display(),
                date=event.date,
                place=event.place,
                description=event.description,
                confidence=event.get_confidence_display(),
            )
            for event in events
        ],
    )


def published_persons():
    return (
        Person.objects.published()
        .prefetch_related(
            "categories",
            Prefetch("variants", queryset=NameVariant.objects.filter(is_public=True), to_attr="public_variants"),
            Prefetch(
                "status_events",
                queryset=StatusEvent.objects.active().filter(is_public=True).order_by(*TIMELINE_ORDER),
                to_attr="public_events",
            ),
        )
        .order_by("case_id")
    )


def public_cases() -> list[PublicCase]:
    return [build_public_case(person) for person in published_persons()]

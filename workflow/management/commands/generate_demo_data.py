"""Synthetic cases for benchmarks and demonstrations, deterministic for a seed.

Every person made here has ``is_synthetic`` set, an ``SY-`` case ID, an
external reference starting with ``SYNTHETIC-`` and a summary that says so;
the public pages mark them. Rows are written in bulk with their history rows
(:class:`cases.bulk.BulkWriter`: COPY on PostgreSQL), the derived status
comes from the same ``derive_status`` as every other status change, and the
published versions from the same ``record_from`` as publishing.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from cases.bulk import BulkWriter
from cases.models import (
    CaseIdCounter,
    Category,
    Confidence,
    NameVariant,
    Person,
    PublicationBasis,
    PublicationState,
    Sex,
    Status,
    StatusEvent,
    derive_status,
    timeline_order,
)
from cases.names import romanizations
from cases.partial_dates import PartialDate
from sources.models import Citation, Reliability, Source, SourceKind
from workflow.models import PublicGeneration, PublishedName, PublishedSource, PublishedVersion
from workflow.snapshots import denormalise, index_rows, record_from

REASON = "Synthetic demo data (generate_demo_data)"
PREFIX = "SY"
FAMILY = [
    "김",
    "이",
    "박",
    "최",
    "정",
    "강",
    "조",
    "윤",
    "장",
    "임",
    "한",
    "오",
    "서",
    "신",
    "권",
    "황",
    "안",
    "송",
    "류",
    "홍",
]
# Family names as passports and the press write them, beside the romanizations.
FAMILY_SPELLINGS = {
    "김": ["Kim"], "이": ["Lee", "Yi", "Rhee", "Ri"], "박": ["Park", "Pak"], "최": ["Choi", "Choe"],
    "정": ["Jeong", "Jung", "Chung"], "강": ["Kang"], "조": ["Cho", "Jo"], "윤": ["Yoon", "Yun"],
    "장": ["Jang", "Chang"], "임": ["Lim", "Im"], "한": ["Han"], "오": ["Oh"], "서": ["Seo", "Suh"],
    "신": ["Shin", "Sin"], "권": ["Kwon"], "황": ["Hwang"], "안": ["Ahn", "An"], "송": ["Song"],
    "류": ["Ryu", "Yoo"], "홍": ["Hong"],
}  # fmt: skip
GIVEN = "철영민수정호성광명진혁남국순옥희숙경은미현주동길춘욱기"
PLACES = ["Hyesan", "Onsong", "Hoeryong", "Chongjin", "Sinuiju", "Pyongyang", "Yodok", "Kaechon", "Musan", "Shenyang"]
LOCATIONS = ["para. {n}", "p. {n}", "section {n}", "annex {n}"]
STATUS_PATHS = [
    [Status.ARRESTED, Status.DETAINED, Status.SENTENCED, Status.PRISON_CAMP],
    [Status.FORCIBLY_REPATRIATED, Status.DETAINED, Status.DISAPPEARED],
    [Status.ABDUCTED, Status.DISAPPEARED],
    [Status.ARRESTED, Status.DETAINED, Status.RELEASED, Status.REACHED_SAFETY],
    [Status.DETAINED, Status.PRISON_CAMP, Status.DECEASED_REPORTED, Status.DECEASED_CONFIRMED],
]


class Command(BaseCommand):
    help = "Generate N synthetic persons (marked as such) with events, sources and citations, some published."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, persons, seed, batch, no_progress, **options):
        if persons < 1:
            raise CommandError("--persons must be at least 1.")
        generator = Generator(random.Random(seed), batch)  # noqa: S311 (deterministic demo data, not secrets)
        with tqdm(total=persons, unit="persons", disable=no_progress) as progress:
            generator.run(persons, progress.update)
        self.stdout.write(f"Generated {persons} synthetic persons ({generator.published} published).")


class Generator:
    def __init__(self, rng: random.Random, batch: int) -> None:
        self.rng, self.batch, self.published = rng, batch, 0
        self.user = get_user_model().objects.filter(is_superuser=True).first()
        self.categories = list(Category.objects.all())
        self.now = timezone.now()
        self.writer = BulkWriter(by=self.user, reason=REASON, now=self.now)

    def run(self, count: int, advance) -> None:
        self.sources = self.make_sources(max(20, count // 50))
        done = 0
        while done < count:
            size = min(self.batch, count - done)
            with transaction.atomic():
                self.make_batch(size)
                PublicGeneration.advance()
            done += size
            advance(size)
        cases = [Source, Person, Person.categories.through, NameVariant, StatusEvent, Citation]
        published = [PublishedVersion, PublishedName, PublishedSource, PublishedVersion.categories.through]
        self.writer.analyze([*cases, *published])

    def make_sources(self, count: int) -> list[Source]:
        rng, kinds = self.rng, list(SourceKind.values)
        sources = []
        for n in range(count):
            kind = kinds[n % len(kinds)]
            sources.append(
                Source(
                    title=f"Synthetic {SourceKind(kind).label.lower()} no. {n + 1}",
                    kind=kind,
                    publisher=rng.choice(["UN OHCHR", "An NGO", "A newspaper", "A parliament", "A court"]),
                    published_on=PartialDate(rng.randint(2000, 2024), rng.randint(1, 12)),
                    url=f"https://example.org/synthetic/{n + 1}",
                    language="en",
                    reliability=rng.choice(Reliability.values),
                    # Confidential testimony, and a share of the rest, stays restricted.
                    is_restricted=kind == SourceKind.TESTIMONY or rng.random() < 0.1,
                    internal_notes="Synthetic: restricted note about the source.",
                )
            )
        # A second run reuses the synthetic sources of the first (a URL is one source).
        existing = {source.url: source for source in Source.objects.filter(url__in=[s.url for s in sources])}
        new = [source for source in sources if source.url not in existing]
        self.writer.insert(Source, new)
        by_url = {**existing, **{source.url: source for source in new}}
        return [by_url[source.url] for source in sources]

    def make_batch(self, size: int) -> None:
        rng = self.rng
        case_ids = CaseIdCounter.allocate_many(size, PREFIX)
        people, plans = [], []
        for case_id in case_ids:
            family = rng.choice(FAMILY)
            given = "".join(rng.choice(GIVEN) for _ in range(2))
            rr, mr = romanizations(family, given)
            spelling = rng.choice(FAMILY_SPELLINGS[family])
            name = f"{spelling} {mr.split(' ', 1)[1].replace('ŏ', 'o').replace('ŭ', 'u')}"
            events = self.plan_events()
            state = rng.choices(
                [PublicationState.PUBLISHED, PublicationState.DRAFT, PublicationState.WITHDRAWN], [60, 35, 5]
            )[0]
            person = Person(
                case_id=case_id,
                external_ref=f"SYNTHETIC-{case_id}",
                name=name,
                family_name_native=family,
                given_name_native=given,
                sex=rng.choice([Sex.FEMALE, Sex.MALE, Sex.UNKNOWN]),
                birth_date=PartialDate(rng.randint(1940, 2005), approximate=rng.random() < 0.3),
                nationality=rng.choice(["KP", "KP", "KP", "KR", "CN", "JP"]),
                summary=f"[Synthetic demo data, not a real case] Last reported near {rng.choice(PLACES)}.",
                internal_notes="Synthetic: restricted note naming a contact.",
                publication_state=state,
                publication_basis=PublicationBasis.ALREADY_PUBLIC if state != PublicationState.DRAFT else "",
                reprisal_risk=rng.random() < 0.05,
                is_synthetic=True,
            )
            person.pseudonym = f"Person {case_id}" if person.reprisal_risk else ""
            person.set_name_keys()
            # The same derivation as every status change, over the events about to be recorded.
            timeline = [
                SimpleNamespace(status=status, date=date, recorded_at=self.now, pk=n)
                for n, (status, date, _) in enumerate(events)
            ]
            person.current_status, person.status_since, person.last_confirmed = derive_status(timeline_order(timeline))
            people.append(person)
            plans.append((rr, events))
        writer = self.writer
        rows = writer.insert(Person, people, history=False)
        through = Person.categories.through
        memberships = [through(person_id=person.pk, category_id=rng.choice(self.categories).pk) for person in people]
        writer.insert(through, memberships, history=False)
        writer.add_memberships(memberships)
        writer.history(Person, people, created=True, rows=rows)

        variants, events, citations = [], [], []
        for person, (rr, planned) in zip(people, plans, strict=True):
            for text, public in ((rr, True), (person.name.replace("-", " "), True), (person.name + "e", False)):
                variant = NameVariant(person=person, name=text, is_public=public)
                variant.set_name_keys()
                variants.append(variant)
            for status, date, public in planned:
                events.append(
                    StatusEvent(
                        person=person,
                        status=status,
                        date=date,
                        place=rng.choice(PLACES),
                        description=f"Synthetic: {Status(status).label.lower()}.",
                        internal_note="Synthetic: restricted detail from a source.",
                        confidence=rng.choice(Confidence.values),
                        is_public=public,
                        recorded_by=self.user,
                        recorded_at=self.now,
                    )
                )
        writer.insert(NameVariant, variants)
        writer.insert(StatusEvent, events)
        for event in events:
            for _ in range(rng.randint(1, 3)):
                citations.append(self.citation(status_event=event))
        person_citations = [self.citation(person=person) for person in people]
        citations += person_citations
        writer.insert(Citation, citations)
        self.publish(people, variants, events, citations, memberships)

    def plan_events(self) -> list[tuple[str, PartialDate | None, bool]]:
        rng = self.rng
        path = rng.choice(STATUS_PATHS)
        count = rng.randint(1, 10)
        year = rng.randint(1995, 2015)
        planned = []
        for n in range(count):
            status = path[min(n, len(path) - 1)]
            year = min(year + rng.randint(0, 2), 2025)
            precision = rng.random()
            if precision < 0.1:
                date = None
            elif precision < 0.4:
                date = PartialDate(year)
            elif precision < 0.7:
                date = PartialDate(year, rng.randint(1, 12))
            else:
                date = PartialDate(year, rng.randint(1, 12), rng.randint(1, 28), approximate=rng.random() < 0.1)
            planned.append((status, date, rng.random() < 0.85))
        return planned

    def citation(self, **target) -> Citation:
        source = self.rng.choice(self.sources)
        return Citation(
            source=source,
            locator=self.rng.choice(LOCATIONS).format(n=self.rng.randint(1, 400)),
            excerpt="Synthetic excerpt." if self.rng.random() < 0.3 else "",
            note="Synthetic: restricted note on the citation.",
            **target,
        )

    def publish(self, people, variants, events, citations, memberships) -> None:
        sources = {source.pk: source for source in self.sources}
        by_person: dict[int, dict] = {person.pk: {"variants": [], "events": [], "citations": []} for person in people}
        event_citations: dict[int, list[Citation]] = {}
        for citation in citations:
            citation.source = sources[citation.source_id]
            if citation.status_event_id:
                event_citations.setdefault(citation.status_event_id, []).append(citation)
            else:
                by_person[citation.person_id]["citations"].append(citation)
        for variant in variants:
            by_person[variant.person_id]["variants"].append(variant)
        for event in events:
            by_person[event.person_id]["events"].append(event)
        categories = {category.pk: category for category in self.categories}
        person_categories: dict[int, list] = {}
        for membership in memberships:
            person_categories.setdefault(membership.person_id, []).append(categories[membership.category_id])

        versions = []
        for person in people:
            if person.publication_state == PublicationState.DRAFT:
                continue
            related = by_person[person.pk]
            version = PublishedVersion(
                person=person,
                number=1,
                published_at=self.now,
                published_by=self.user,
                withdrawn_at=self.now if person.publication_state == PublicationState.WITHDRAWN else None,
                record=record_from(
                    person,
                    variants=related["variants"],
                    categories=person_categories.get(person.pk, []),
                    person_citations=related["citations"],
                    events=timeline_order(related["events"]),
                    event_citations=event_citations,
                    number=1,
                    published_at=self.now,
                ),
            )
            denormalise(version)
            versions.append(version)
        self.writer.insert(PublishedVersion, versions)
        names, cited, version_categories = [], [], []
        for version in versions:
            if version.withdrawn_at is not None:
                continue
            self.published += 1
            version_names, version_sources = index_rows(version)
            names += version_names
            cited += version_sources
            version_categories += [
                PublishedVersion.categories.through(publishedversion_id=version.pk, category_id=category.pk)
                for category in person_categories.get(version.person_id, [])
            ]
        # The search index and the filters' categories: derived rows, without history.
        self.writer.insert(PublishedName, names, history=False)
        self.writer.insert(PublishedSource, cited, history=False)
        self.writer.insert(PublishedVersion.categories.through, version_categories, history=False)

"""Synthetic cases for benchmarks and demonstrations, deterministic for a seed.

Every person made here has ``is_synthetic`` set, an ``SY-`` case ID, an
external reference starting with ``SYNTHETIC-`` and a summary that says so;
the public pages mark them. Rows are written in bulk with their history rows
(:class:`cases.bulk.BulkWriter`: COPY on PostgreSQL) through the bulk
counterparts of the single-record paths: the derived status by
``Person.objects.refresh_statuses``, the published versions by
``workflow.services.publish_many``, which checks each case as an editor's
publication would (the generated cases are made to pass: a basis recorded,
each public event citing a public source, nothing naming a person at
reprisal risk); the few withdrawn cases are withdrawn one by one by
``workflow.services.withdraw``.
"""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
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
)
from cases.names import romanizations
from cases.partial_dates import PartialDate
from sources.models import Citation, Reliability, Source, SourceKind
from workflow.models import PublishedName, PublishedSource, PublishedVersion
from workflow.services import publish_many, withdraw

REASON = "Synthetic demo data (generate_demo_data)"
PUBLISHED, DRAFT, WITHDRAWN = PublicationState.PUBLISHED, PublicationState.DRAFT, PublicationState.WITHDRAWN
WITHDRAWAL = "Synthetic demo data: a withdrawn case (generate_demo_data)"
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
            raise CommandError(gettext("--persons must be at least 1."))
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
        sources = [by_url[source.url] for source in sources]
        # What a public claim cites: a public record needs at least one public source behind each.
        self.public_sources = [source for source in sources if source.is_public]
        if not self.public_sources:
            raise CommandError(gettext("None of the synthetic sources is public: nothing could be published."))
        return sources

    def make_batch(self, size: int) -> None:
        rng = self.rng
        case_ids = CaseIdCounter.allocate_many(size, PREFIX)
        people, romanized, events, states = [], [], [], []
        for case_id in case_ids:
            family = rng.choice(FAMILY)
            given = "".join(rng.choice(GIVEN) for _ in range(2))
            rr, mr = romanizations(family, given)
            spelling = rng.choice(FAMILY_SPELLINGS[family])
            name = f"{spelling} {mr.split(' ', 1)[1].replace('ŏ', 'o').replace('ŭ', 'u')}"
            state = rng.choices([PUBLISHED, DRAFT, WITHDRAWN], [60, 35, 5])[0]
            reprisal_risk = rng.random() < 0.05
            # A place can be spelled like a given name (Chongjin, Chong-jin): where a person is at
            # risk, no public text names a place, so none can name the person either.
            near = "" if reprisal_risk else f" Last reported near {rng.choice(PLACES)}."
            person = Person(
                case_id=case_id,
                external_ref=f"SYNTHETIC-{case_id}",
                name=name,
                family_name_native=family,
                given_name_native=given,
                sex=rng.choice([Sex.FEMALE, Sex.MALE, Sex.UNKNOWN]),
                birth_date=PartialDate(rng.randint(1940, 2005), approximate=rng.random() < 0.3),
                nationality=rng.choice(["KP", "KP", "KP", "KR", "CN", "JP"]),
                summary=f"[Synthetic demo data, not a real case]{near}",
                internal_notes="Synthetic: restricted note naming a contact.",
                # Published and withdrawn cases are published by publish_many(), from review.
                publication_state=DRAFT if state == DRAFT else PublicationState.IN_REVIEW,
                publication_basis=PublicationBasis.ALREADY_PUBLIC if state != DRAFT else "",
                reprisal_risk=reprisal_risk,
                pseudonym=f"Person {case_id}" if reprisal_risk else "",
                is_synthetic=True,
            )
            person.set_name_keys()
            for status, date, public in self.plan_events():
                events.append(
                    StatusEvent(
                        person=person,
                        status=status,
                        date=date,
                        place="" if reprisal_risk else rng.choice(PLACES),
                        description=f"Synthetic: {Status(status).label.lower()}.",
                        internal_note="Synthetic: restricted detail from a source.",
                        confidence=rng.choice(Confidence.values),
                        is_public=public,
                        recorded_by=self.user,
                        recorded_at=self.now,
                    )
                )
            people.append(person)
            romanized.append(rr)
            states.append(state)
        # The same derivation as every status change, over the events about to be written with the persons.
        Person.objects.refresh_statuses(people, unsaved_events=events)
        writer = self.writer
        rows = writer.insert(Person, people, history=False)
        through = Person.categories.through
        memberships = [through(person_id=person.pk, category_id=rng.choice(self.categories).pk) for person in people]
        writer.insert(through, memberships, history=False)
        writer.add_memberships(memberships)
        writer.history(Person, people, created=True, rows=rows)

        variants, citations = [], []
        for person, rr in zip(people, romanized, strict=True):
            for text, public in ((rr, True), (person.name.replace("-", " "), True), (person.name + "e", False)):
                variant = NameVariant(person=person, name=text, is_public=public)
                variant.set_name_keys()
                variants.append(variant)
        for event in events:
            event.person_id = event.person.pk  # the persons have their pks now
        writer.insert(NameVariant, variants)
        writer.insert(StatusEvent, events)
        for event in events:
            # A public event cites at least one public source; the others may be restricted.
            citations.append(self.citation(public=event.is_public, status_event=event))
            for _ in range(rng.randint(0, 2)):
                citations.append(self.citation(status_event=event))
        citations += [self.citation(public=True, person=person) for person in people]
        writer.insert(Citation, citations)

        published = [person for person, state in zip(people, states, strict=True) if state != DRAFT]
        if published:
            publish_many(published, by=self.user, reason=REASON)
        withdrawn = [person for person, state in zip(people, states, strict=True) if state == WITHDRAWN]
        for person in withdrawn:
            withdraw(person, by=self.user, reason=WITHDRAWAL)
        self.published += len(published) - len(withdrawn)

    def plan_events(self) -> list[tuple[str, PartialDate | None, bool]]:
        rng = self.rng
        path = rng.choice(STATUS_PATHS)
        count = rng.randint(1, 10)
        year = rng.randint(1995, 2015)
        planned: list[tuple[str, PartialDate | None, bool]] = []
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

    def citation(self, *, public: bool = False, **target) -> Citation:
        source = self.rng.choice(self.public_sources if public else self.sources)
        return Citation(
            source=source,
            locator=self.rng.choice(LOCATIONS).format(n=self.rng.randint(1, 400)),
            excerpt="Synthetic excerpt." if self.rng.random() < 0.3 else "",
            note="Synthetic: restricted note on the citation.",
            **target,
        )

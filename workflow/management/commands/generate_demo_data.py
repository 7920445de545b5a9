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

The places of detention are synthetic too: a few authorities (with their
parent bodies) and facilities of every kind, public, each name starting
with "Synthetic", at made-up coordinates inside North Korea (one across the
border in China) at the precision they claim. A good share of the events
happen at one of them, with the authorities believed responsible; some
persons are related (family, detained together), each relation cited, some
public.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from tqdm import tqdm

from cases.bulk import BulkWriter
from cases.models import (
    Authority,
    CaseIdCounter,
    Category,
    Confidence,
    Facility,
    FacilityName,
    NameVariant,
    Person,
    PublicationBasis,
    PublicationState,
    Relation,
    RelationKind,
    Responsibility,
    Sex,
    Status,
    StatusEvent,
)
from cases.names import romanizations
from cases.partial_dates import PartialDate
from cases.vocabularies import FacilityKind
from sources.models import Citation, Reliability, Source, SourceKind
from workflow.models import PublishedAuthority, PublishedName, PublishedPlacement, PublishedSource, PublishedVersion
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

# Synthetic bodies believed responsible, by a key of ours: (name, name in Korean, country, parent's key).
AUTHORITIES = {
    "security": ("Synthetic security ministry", "합성 보위 기관", "KP", None),
    "bureau": ("Synthetic provincial security bureau", "합성 도 보위 기관", "KP", "security"),
    "police": ("Synthetic police ministry", "합성 경찰 기관", "KP", None),
    "station": ("Synthetic county police station", "합성 군 경찰서", "KP", "police"),
    "abroad": ("Synthetic border police abroad", "합성 국외 국경 경찰", "CN", None),
}
# Synthetic places of detention, by kind: (name, name in Korean, operating authority's key, latitude, longitude,
# precision). Made-up points inside North Korea (the last across the border, in China), none a real facility's.
FACILITIES = {
    FacilityKind.POLITICAL_PRISON_CAMP: [
        ("Synthetic camp Alpha", "합성 관리소 알파", "security", "40.10", "127.30", "approximate"),
        ("Synthetic camp Bravo", "합성 관리소 브라보", "security", "41.30", "129.10", "region"),
    ],
    FacilityKind.REEDUCATION_CAMP: [
        ("Synthetic prison Charlie", "합성 교화소 찰리", "police", "39.60", "125.80", "approximate"),
        ("Synthetic prison Delta", "합성 교화소 델타", "police", "40.70", "129.00", "region"),
    ],
    FacilityKind.HOLDING_CENTRE: [
        ("Synthetic holding centre Echo", "합성 집결소 에코", "station", "42.20", "129.20", "approximate"),
        ("Synthetic holding centre Foxtrot", "합성 집결소 폭스트롯", "station", "41.00", "126.60", "approximate"),
    ],
    FacilityKind.PRE_TRIAL_DETENTION: [
        ("Synthetic detention centre Golf", "합성 구류장 골프", "bureau", "39.10", "125.80", "region"),
    ],
    FacilityKind.LABOUR_TRAINING_CAMP: [
        ("Synthetic labour camp Hotel", "합성 노동단련대 호텔", "station", "40.05", "124.70", "approximate"),
    ],
    FacilityKind.INTERROGATION: [
        ("Synthetic interrogation centre India", "합성 조사 시설 인디아", "bureau", "41.80", "129.70", "approximate"),
    ],
    FacilityKind.FOREIGN_DETENTION: [
        ("Synthetic border centre Juliett", "합성 국경 구금 시설 줄리엣", "abroad", "42.96", "129.84", "approximate"),
    ],
}
# Where each status may have happened: the kinds of facility, in the order they are tried.
FACILITY_KINDS = {
    Status.ARRESTED: [FacilityKind.INTERROGATION, FacilityKind.PRE_TRIAL_DETENTION],
    Status.DETAINED: [
        FacilityKind.HOLDING_CENTRE,
        FacilityKind.PRE_TRIAL_DETENTION,
        FacilityKind.INTERROGATION,
        FacilityKind.LABOUR_TRAINING_CAMP,
    ],
    Status.FORCIBLY_REPATRIATED: [FacilityKind.FOREIGN_DETENTION],
    Status.SENTENCED: [FacilityKind.REEDUCATION_CAMP],
    Status.PRISON_CAMP: [FacilityKind.POLITICAL_PRISON_CAMP],
}
SYNTHETIC_PLACE = "Synthetic demo data, not a real place."
SYNTHETIC_PLACE_KO = "합성 시연 데이터이며 실제 장소가 아닙니다."
RELATION_KINDS = [
    RelationKind.SIBLING,
    RelationKind.SPOUSE,
    RelationKind.PARENT,
    RelationKind.OTHER_RELATIVE,
    RelationKind.DETAINED_TOGETHER,
    RelationKind.SAME_INCIDENT,
]


class Command(BaseCommand):
    help = (
        "Generate N synthetic persons (marked as such) with events, sources and citations, some published; "
        "synthetic facilities and authorities, events at them, and relations between the persons."
    )

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
        self.make_places()
        done = 0
        while done < count:
            size = min(self.batch, count - done)
            with transaction.atomic():
                self.make_batch(size)
            done += size
            advance(size)
        cases = [
            Source,
            Person,
            Person.categories.through,
            NameVariant,
            StatusEvent,
            Responsibility,
            Relation,
            Citation,
        ]
        published = [
            PublishedVersion,
            PublishedName,
            PublishedSource,
            PublishedPlacement,
            PublishedAuthority,
            PublishedVersion.categories.through,
        ]
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

    def make_places(self) -> None:
        """The synthetic authorities and facilities, public, each citing a public source; a second run reuses them.

        Drawn from a generator of their own: the persons of a seed are the same whether or not the places exist.
        """
        rng, writer = random.Random(len(AUTHORITIES)), self.writer  # noqa: S311 (deterministic demo data)
        existing = {a.name: a for a in Authority.objects.filter(name__in=[a[0] for a in AUTHORITIES.values()])}
        authorities: dict[str, Authority] = {}
        for key, (name, name_ko, country, parent) in AUTHORITIES.items():  # parents first
            authority = existing.get(name) or Authority(
                name=name,
                name_ko=name_ko,
                country=country,
                parent=authorities[parent] if parent else None,
                description=SYNTHETIC_PLACE,
                description_ko=SYNTHETIC_PLACE_KO,
                internal_notes="Synthetic: restricted note about the authority.",
                is_public=True,
            )
            if authority.pk is None:
                writer.insert(Authority, [authority])
            authorities[key] = authority
        names = [facility[0] for facilities in FACILITIES.values() for facility in facilities]
        found = {facility.name: facility for facility in Facility.objects.filter(name__in=names)}
        new = [
            Facility(
                name=name,
                name_ko=name_ko,
                kind=kind,
                authority=authorities[authority],
                country="CN" if kind == FacilityKind.FOREIGN_DETENTION else "KP",
                latitude=Decimal(latitude),
                longitude=Decimal(longitude),
                precision=precision,
                opened_on=PartialDate(rng.randint(1960, 2000), approximate=True),
                description=SYNTHETIC_PLACE,
                description_ko=SYNTHETIC_PLACE_KO,
                internal_notes="Synthetic: restricted note about the facility.",
                is_public=True,
            )
            for kind, facilities in FACILITIES.items()
            for name, name_ko, authority, latitude, longitude, precision in facilities
            if name not in found
        ]
        writer.insert(Facility, new)
        writer.insert(
            FacilityName, [FacilityName(facility=f, name=f"{f.name} (other spelling)", is_public=True) for f in new]
        )
        writer.insert(
            Citation,
            [
                Citation(source=rng.choice(self.public_sources), facility=facility, locator=f"p. {rng.randint(1, 90)}")
                for facility in new
            ],
        )
        self.facilities: dict[str, list[Facility]] = {}
        for facility in [*found.values(), *new]:
            self.facilities.setdefault(facility.kind, []).append(facility)
        self.authorities = list(authorities.values())

    def place_of(self, status: str) -> Facility | None:
        """A facility where an event of ``status`` happened, for seven events in ten that may have one."""
        kinds = [kind for kind in FACILITY_KINDS.get(Status(status), []) if kind in self.facilities]
        if not kinds or self.rng.random() < 0.3:
            return None
        return self.rng.choice(self.facilities[self.rng.choice(kinds)])

    def responsible_for(self, facility: Facility) -> list[tuple[Authority, str]]:
        """The facility's operating authority, and sometimes another body, each with a confidence."""
        rng, operator = self.rng, facility.authority
        assert operator is not None  # every synthetic facility has one
        held: list[tuple[Authority, str]] = [(operator, rng.choice([Confidence.CONFIRMED, Confidence.LIKELY]))]
        if rng.random() < 0.4:
            other = rng.choice([authority for authority in self.authorities if authority != operator])
            held.append((other, rng.choice([Confidence.POSSIBLE, Confidence.UNVERIFIED])))
        return held

    def make_batch(self, size: int) -> None:
        rng = self.rng
        case_ids = CaseIdCounter.allocate_many(size, PREFIX)
        people, romanized, states = [], [], []
        events: list[StatusEvent] = []
        held: dict[int, list[tuple[Authority, str]]] = {}  # by the event's index in ``events``
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
                # Where a person is at risk, no public text names a place (see above): nor a facility.
                facility = None if reprisal_risk else self.place_of(status)
                if facility is not None:
                    held[len(events)] = self.responsible_for(facility)
                events.append(
                    StatusEvent(
                        person=person,
                        status=status,
                        date=date,
                        place="" if reprisal_risk else rng.choice(PLACES),
                        facility=facility,
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
        writer.insert(
            Responsibility,
            [
                Responsibility(status_event=events[index], authority=authority, confidence=confidence)
                for index, pairs in held.items()
                for authority, confidence in pairs
            ],
        )
        relations = self.relate(people)
        writer.insert(Relation, relations)
        for relation in relations:
            # A public relation cites at least one public source, as a public event does.
            citations.append(self.citation(public=relation.is_public, relation=relation))
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

    def relate(self, people: list[Person]) -> list[Relation]:
        """Relations between persons of one batch (published together, so that a public one is on both records):
        about one person in ten, each in one relation at most."""
        rng = self.rng
        chosen = rng.sample(people, k=2 * (len(people) // 20))
        return [
            Relation(
                person=person,
                kind=rng.choice(RELATION_KINDS),
                other=other,
                confidence=rng.choice(Confidence.values),
                is_public=rng.random() < 0.6,
                note="Synthetic: restricted note on the relation.",
                recorded_by=self.user,
            )
            for person, other in zip(chosen[::2], chosen[1::2], strict=True)
        ]

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

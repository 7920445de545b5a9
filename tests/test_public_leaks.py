"""No public response ever contains a restricted value.

A sentinel string is planted in every restricted field, every unpublished
case, every restricted or withdrawn source, every non-public variant and
event; then an anonymous visitor crawls every public URL, follows every link
and tries every filter value, and the sentinel must appear nowhere.
"""

import datetime
import html
import re
from collections import deque
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.core.management import call_command

from archive.models import Capture
from cases.history import save_with_history
from cases.models import Category, FacilityName, PublicationBasis, PublicationState, Responsibility, Status
from cases.partial_dates import PartialDate
from cases.vocabularies import FacilityKind
from linkage.models import CandidatePair, Decision
from public.filters import SORTS
from workflow.merging import merge
from workflow.models import PublishedRendering
from workflow.services import submit_for_review, withdraw

from .factories import (
    make_appeal,
    make_authority,
    make_capture,
    make_citation,
    make_event,
    make_facility,
    make_person,
    make_publishable_case,
    make_relation,
    make_source,
    make_staff,
    make_user,
    make_variant,
    publish_case,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_storage")]

SENTINEL = "ZQXSENTINEL"


def plant_everything():
    call_command("load_seed")
    secret_user = make_user(f"{SENTINEL}user", first_name=SENTINEL, last_name=SENTINEL)
    category = Category.objects.create(slug="religious-leader", name="Religious leader")
    # A published case with a sentinel in every restricted field and record around it.
    person = make_person(
        name="Park Yong-su",
        external_ref=f"{SENTINEL}-ref",
        internal_notes=SENTINEL,
        assigned_to=secret_user,
        nationality="KP",
        publication_basis=PublicationBasis.CONSENT,
        consent_given_by=f"{SENTINEL} the brother",
        consent_given_on=PartialDate(2024),
        birth_date=PartialDate(1970),
    )
    person.categories.add(category)
    make_variant(person, "Pak Yong-su", is_public=True, note=SENTINEL)
    make_variant(person, f"{SENTINEL} Hidden Name", is_public=False)
    public_source = make_source(
        title="Public report", publisher="UN", internal_notes=SENTINEL, url="https://example.org/un-report"
    )
    restricted_source = make_source(
        title=f"{SENTINEL} testimony", publisher=SENTINEL, url=f"https://example.org/{SENTINEL}", is_restricted=True
    )
    withdrawn_source = make_source(title=f"{SENTINEL} withdrawn source", publisher="NGO")
    # What a capture of a public source holds is for staff only: its page, its WARC file, where it led, its server.
    make_capture(
        public_source,
        body=f"<html><body>{SENTINEL} captured page</body></html>".encode(),
        warc_bytes=f"WARC/1.1 {SENTINEL}".encode(),
        final_url=f"https://example.org/{SENTINEL}/final",
        redirects=[f"https://example.org/{SENTINEL}/redirect"],
        ip_address="203.0.113.77",
        tool=f"{SENTINEL} tool",
    )
    # A copy marked public is still never served for a restricted source, nor one no published case cites.
    make_capture(restricted_source, body=f"{SENTINEL} restricted capture".encode(), copy_public=True)
    make_capture(withdrawn_source, body=f"{SENTINEL} withdrawn source's capture".encode(), copy_public=True)
    make_capture(
        public_source,
        body=f"{SENTINEL} capture cited by no version".encode(),
        copy_public=True,
        captured_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),  # older: the versions cite the latest
    )
    event = make_event(
        person, Status.ARRESTED, "2015-03", is_public=True, internal_note=SENTINEL, by=secret_user, place="Onsong"
    )
    make_citation(public_source, status_event=event, locator="p. 4", note=SENTINEL)
    make_citation(restricted_source, status_event=event, locator=SENTINEL, excerpt=SENTINEL)
    make_citation(withdrawn_source, status_event=event, locator=SENTINEL)
    make_citation(public_source, person=person, locator="p. 1", note=SENTINEL)
    # Texts in every language: a Korean or Japanese text is as restricted as the English one beside it.
    in_every_language = {
        "description_ko": SENTINEL,
        "description_ja": SENTINEL,
        "place_ko": SENTINEL,
        "place_ja": SENTINEL,
    }
    hidden = make_event(
        person, Status.DECEASED_REPORTED, "2020", description=SENTINEL, place=SENTINEL, **in_every_language
    )
    make_citation(public_source, status_event=hidden, locator=SENTINEL)
    mistaken = make_event(
        person, Status.RELEASED, "2018", is_public=True, description=SENTINEL, place=SENTINEL, **in_every_language
    )
    make_citation(public_source, status_event=mistaken, locator=SENTINEL, excerpt=SENTINEL)
    hidden_later = make_event(
        person, Status.SENTENCED, "2016", is_public=True, description=SENTINEL, **in_every_language
    )
    only_there = make_source(title=f"{SENTINEL} source cited only by an event hidden later", publisher=SENTINEL)
    make_citation(only_there, status_event=hidden_later, locator=SENTINEL, excerpt=SENTINEL)
    make_citation(public_source, status_event=hidden_later, locator=SENTINEL, excerpt=SENTINEL)
    plant_appeals(person)
    places = plant_places(person, public_source, restricted_source)
    publish_case(person)
    keep_every_page()
    # After publication: restrictions, a withdrawal, an event made non-public and an unreviewed edit.
    withdrawn_source.withdraw(by=None, reason=SENTINEL)
    mistaken.withdraw(by=None, reason=SENTINEL)
    hidden_later.correct(by=None, reason=SENTINEL, is_public=False)
    person.summary = f"{SENTINEL} unreviewed edit"
    person.summary_ko = person.summary_ja = f"{SENTINEL} unreviewed edit"
    save_with_history(person, by=None, reason=SENTINEL)
    # A reprisal-risk case: only the pseudonym may show.
    at_risk = make_person(
        name=f"{SENTINEL} Real Name",
        family_name_native="김",
        given_name_native="비밀",
        birth_date=PartialDate(1981),
        reprisal_risk=True,
        pseudonym="Mr A",
        publication_basis=PublicationBasis.PUBLIC_INTEREST,
        public_interest_reason=SENTINEL,
    )
    make_variant(at_risk, f"{SENTINEL} Variant", is_public=True)
    make_citation(public_source, status_event=make_event(at_risk, Status.DETAINED, "2019", is_public=True))
    publish_case(at_risk)
    # A published case flagged at risk afterwards: every public text names the person, in several spellings.
    flagged = make_person(
        name=f"Ri {SENTINEL}",
        family_name_native="리",
        given_name_native="비밀",
        publication_basis=PublicationBasis.ALREADY_PUBLIC,
        summary=f"Ri {SENTINEL} was taken from Hyesan.",
        summary_ko="리비밀은 혜산에서 끌려갔다.",
        summary_ja=f"Ri {SENTINEL}さんは恵山から連れ去られた。",
    )
    make_variant(flagged, f"Rhee {SENTINEL}", is_public=True)
    flagged_event = make_event(
        flagged,
        Status.DETAINED,
        "2019",
        is_public=True,
        description="리비밀은 집결소에 있었다.",
        place=f"Ri {SENTINEL}'s home",
        description_ja=f"RI {SENTINEL}は集結所にいた。",
        place_ko="리비밀의 집",
    )
    naming_source = make_source(title=f"Testimony about Ri {SENTINEL}", publisher=f"Lee {SENTINEL}'s brother")
    make_citation(naming_source, status_event=flagged_event, locator="p. 2")
    make_citation(
        public_source, status_event=flagged_event, locator=f"on Lee {SENTINEL}", excerpt=f"RI {SENTINEL} seen"
    )
    publish_case(flagged)
    keep_every_page()
    flagged.reprisal_risk, flagged.pseudonym = True, "Person D"
    save_with_history(flagged, by=None, reason="the family faces reprisals")
    # Unpublished cases in every state.
    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW):
        draft = make_person(
            name=f"{SENTINEL} {state}", summary=SENTINEL, summary_ko=SENTINEL, publication_basis="already_public"
        )
        make_citation(make_source(title=f"{SENTINEL} source of {state}"), person=draft)
        if state == PublicationState.IN_REVIEW:
            submit_for_review(draft, by=secret_user)
    gone = make_person(name=f"{SENTINEL} withdrawn case", summary=SENTINEL)
    make_citation(make_source(title=f"{SENTINEL} source of a withdrawn case"), person=gone)
    publish_case(gone)
    keep_every_page()
    withdraw(gone, by=secret_user, reason=SENTINEL)
    # After publication: a facility and an authority that were public are not any more.
    for place in (places["hidden_later"], places["unit_hidden_later"]):
        place.is_public = False
        save_with_history(place, by=None, reason=SENTINEL)
    places["withdrawn"].withdraw(by=None, reason=SENTINEL)
    places.update(plant_relations(public_source, restricted_source, unseen=[at_risk, draft, gone]))
    places.update(plant_merges(person, public_source))
    return person, restricted_source, withdrawn_source, gone, places


def plant_merges(person, public_source) -> dict:
    """A draft merged into the public case (its addresses answer as any unpublished case's do), and a public case
    merged into it (its addresses lead there), each with sentinels in what is restricted."""
    reviewer, merger = make_staff("Caseworker", "leak-reviewer"), make_staff("Editor", "leak-merger")
    draft_twin = make_person(
        name=f"Park {SENTINEL}", internal_notes=SENTINEL, summary=SENTINEL, external_ref=f"{SENTINEL}-twin"
    )
    make_event(draft_twin, Status.DETAINED, "2016", is_public=True, internal_note=SENTINEL)
    make_variant(draft_twin, f"Pak {SENTINEL}", is_public=True)
    public_twin = make_publishable_case(name="Pak Yongsu", internal_notes=SENTINEL, source=public_source)
    make_variant(public_twin, f"{SENTINEL} Secret Spelling", is_public=False)
    publish_case(public_twin)
    keep_every_page()
    for twin in (draft_twin, public_twin):
        first, second = sorted([person, twin], key=lambda record: record.pk)
        pair = CandidatePair.objects.create(first=first, second=second, score=0.9, blocked_on="family name")
        pair.decide(Decision.SAME, by=reviewer, reason=SENTINEL)
        merge(person, twin, by=merger, reason=SENTINEL, pair=pair)
    return {"merged_draft": draft_twin, "merged_public": public_twin}


def keep_every_page():
    """Every case page kept as it is now, in every language: what is restricted afterwards must leave them."""
    call_command("render_public_pages", "--quiet")


# Every text of a facility and of an authority, in every language: restricted whenever the record is not public.
PLACE_TEXTS = ("name", "name_ko", "name_ja", "description", "description_ko", "description_ja", "internal_notes")
FACILITY_TEXTS = (*PLACE_TEXTS, "name_hanja", "province", "province_ko", "province_ja", "county", "county_ko")


def plant_places(person, public_source, restricted_source) -> dict:
    """Facilities and authorities around ``person``'s public events, before publication.

    A public camp and a public authority with a sentinel in their restricted
    fields (internal notes, a non-public spelling, a public spelling's note,
    citations of a restricted source and notes of public citations, a
    non-public parent body); a facility and an authority that are not public,
    with a sentinel in every field; a facility and an authority public at
    publication and hidden afterwards, and a facility withdrawn.
    """
    hidden_unit = make_authority(
        **{field: f"{SENTINEL} {field}" for field in PLACE_TEXTS}, country="KP", is_public=False
    )
    mss = make_authority(
        "South Hamgyong Provincial Security Bureau",
        name_ko="함경남도 보위국",
        internal_notes=SENTINEL,
        parent=hidden_unit,
    )
    unit_hidden_later = make_authority(f"{SENTINEL} unit hidden later", internal_notes=SENTINEL)
    camp = make_facility(
        "Yodok political prison camp",
        name_ko="요덕 정치범수용소",
        internal_notes=SENTINEL,
        authority=mss,
        description="A political prison camp.",
    )
    FacilityName.objects.create(facility=camp, name=f"Camp 16 {SENTINEL}", is_public=False, note=SENTINEL)
    FacilityName.objects.create(facility=camp, name="Camp 15", is_public=True, note=SENTINEL)
    make_citation(public_source, facility=camp, locator="p. 9", note=SENTINEL)
    make_citation(restricted_source, facility=camp, locator=SENTINEL, excerpt=SENTINEL, note=SENTINEL)
    make_citation(public_source, facility=camp, locator=SENTINEL, excerpt=SENTINEL).withdraw(by=None, reason=SENTINEL)
    hidden = make_facility(
        **{field: f"{SENTINEL} {field}" for field in FACILITY_TEXTS},
        county_ja=SENTINEL,
        country="KP",
        authority=hidden_unit,
        latitude="41.8",
        longitude="129.1",
        precision="exact",
        is_public=False,
        variants=[f"{SENTINEL} public spelling of a hidden camp"],
    )
    make_citation(public_source, facility=hidden, locator=SENTINEL, excerpt=SENTINEL)
    hidden_later = make_facility(f"{SENTINEL} camp hidden later", name_ko="비밀 수용소", authority=unit_hidden_later)
    withdrawn = make_facility(f"{SENTINEL} withdrawn camp", latitude="40.1", longitude="127.3", precision="region")
    for facility, date in ((camp, "2015-05"), (hidden, "2015-06"), (hidden_later, "2015-07"), (withdrawn, "2015-08")):
        event = make_event(person, Status.DETAINED, date, is_public=True, facility=facility)
        make_citation(public_source, status_event=event, locator="p. 5")
        for authority in (mss, hidden_unit, unit_hidden_later):
            Responsibility.objects.create(status_event=event, authority=authority, confidence="likely")
    return {
        "camp": camp,
        "mss": mss,
        "hidden": hidden,
        "hidden_unit": hidden_unit,
        "hidden_later": hidden_later,
        "unit_hidden_later": unit_hidden_later,
        "withdrawn": withdrawn,
    }


def plant_relations(public_source, restricted_source, *, unseen) -> dict:
    """A published case, Lee Anchor, connected to every kind of other person.

    Shown: a public relation to a published case (with a sentinel in its
    note, its citation's note and a restricted source's citation). Never
    shown: a relation not marked public, one cited only by a restricted
    source, and relations to the ``unseen`` cases (at reprisal risk,
    unpublished, withdrawn), to one withdrawn after publication and to one
    flagged at risk after publication, each named with a sentinel or the
    Hangul name of a person at risk.
    """
    anchor = make_publishable_case(name="Lee Anchor")
    relative = make_publishable_case(name="Choi Relative")
    publish_case(relative)
    flagged_later = make_publishable_case(
        name=f"Ri {SENTINEL} relative", family_name_native="리", given_name_native="비밀"
    )
    publish_case(flagged_later)
    withdrawn_later = make_publishable_case(name=f"{SENTINEL} relative withdrawn later")
    publish_case(withdrawn_later)

    def relate(kind, other, *, cited_by=public_source, **fields):
        relation = make_relation(anchor, kind, other, note=SENTINEL, **fields)
        make_citation(cited_by, relation=relation, locator="p. 7", note=SENTINEL)
        return relation

    shown = relate("parent", relative)
    make_citation(restricted_source, relation=shown, locator=SENTINEL, excerpt=SENTINEL, note=SENTINEL)
    relate("sibling", relative, is_public=False)
    relate("spouse", relative, cited_by=restricted_source)
    for other in (*unseen, flagged_later, withdrawn_later):
        relate("detained_together", other)
    publish_case(anchor)
    publish_case(relative)  # now the relative's record names the anchor
    flagged_later.reprisal_risk, flagged_later.pseudonym = True, "Person E"
    save_with_history(flagged_later, by=None, reason="the family faces reprisals")
    withdraw(withdrawn_later, by=None, reason=SENTINEL)
    return {"anchor": anchor, "relative": relative}


# Every text of an appeal: restricted, whether the appeal is public or not (only its line is ever public).
APPEAL_TEXTS = (
    "request",
    "our_reference",
    "their_reference",
    "addressee_name",
    "next_action",
    "forces_responsible",
    "steps_by_family",
    "steps_by_source",
    "family_consent_by",
    "internal_notes",
)
PUBLIC_APPEAL_LINE = (
    "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID), March 2016 "
    "— replied on 12 September 2016"
)


def plant_appeals(person):
    """Appeals for ``person`` before publication: one not public, one public, one drafted though marked public.

    Each has a sentinel in every text, a reply saying one, from one, and a
    restricted document titled with one; only the public one's line may show.
    """
    texts = {field: f"{SENTINEL} {field}" for field in APPEAL_TEXTS}
    for is_public, sent in ((False, "2016-04"), (True, "2016-03"), (True, None)):
        document = make_source(title=f"{SENTINEL} appeal document", publisher=SENTINEL, is_restricted=True)
        appeal = make_appeal(
            person,
            kind="wgeid_standard",
            addressee="wgeid",
            is_public=is_public,
            sent=sent,
            next_action_due=datetime.date(2030, 1, 1),
            family_consent_on=PartialDate(2015),
            **texts,
        )
        appeal.documents.add(document)
        if sent is not None:
            appeal.record_reply(
                by=None,
                received_on=PartialDate.parse("2016-09-12"),
                says=f"{SENTINEL} what the reply says",
                from_whom=f"{SENTINEL} who replied",
                source=make_source(title=f"{SENTINEL} reply", is_restricted=True),
            )


def in_language(path: str, prefix: str) -> bool:
    """Whether ``path`` is a page of the language whose addresses start with ``prefix`` ("" for English)."""
    other_prefixes = [f"/{code}/" for code in ("ko", "ja") if f"/{code}" != prefix]
    return path.startswith(f"{prefix}/") and not path.startswith(tuple(other_prefixes))


def links(html: str, base: str, prefix: str = "") -> set[str]:
    """The public pages ``html`` links to in the same language (the language switcher's links are crawled apart)."""
    found = set()
    for href in re.findall(r'href="([^"]+)"', html):
        url = urljoin(base, href.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or parts.path.startswith(("/admin", "/staff", "/static")):
            continue
        # Every filter value is among the seeds; links add pages and paths, not combinations.
        if set(parse_qs(parts.query)) - {"page"} or not in_language(parts.path, prefix):
            continue
        found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"], ids=["English", "Korean", "Japanese"])
def test_no_public_response_contains_a_restricted_value(client, prefix):
    person, restricted_source, withdrawn_source, gone, places = plant_everything()
    seeds = {
        "/",
        "/cases/",
        "/sources/",
        "/feed/",
        "/feed.xsl",
        "/about/",
        "/api/cases/",
        "/export/cases.csv",
        "/healthz",
        f"/cases/{person.case_id}/",
        f"/cases/{person.case_id}/versions/1/",
        f"/cases/{person.case_id}/feed/",
        f"/api/cases/{person.case_id}/",
        f"/cases/{gone.case_id}/",
        f"/cases/{gone.case_id}/versions/1/",
        f"/api/cases/{gone.case_id}/",
        f"/cases/{gone.case_id}/feed/",
        f"/sources/{restricted_source.pk}/",
        f"/sources/{withdrawn_source.pk}/",
        "/cases/?page=999",
        # A page of the list written into its frame (public.frames), of a search's list too.
        "/cases/?page=1",
        "/cases/?sort=date&page=1",
        f"/cases/?q={person.name}&page=1",
        "/facilities/",
        f"/cases/{places['anchor'].case_id}/",
        f"/cases/{places['relative'].case_id}/",
        f"/api/cases/{places['anchor'].case_id}/",
        f"/api/cases/{places['relative'].case_id}/",
        "/cases/?status=nonsense",
        "/cases/?year_from=abc",
        "/api/cases/?category=nonsense",
        "/export/cases.csv?nationality=XX",
        "/no-such-page/",
        # The statistics, every chart's data and the events, with and without filters.
        "/statistics/",
        "/api/statistics/",
        "/export/events.csv",
        "/statistics/?status=nonsense",
        "/api/statistics/?updated_since=2000-01-01",
        "/export/events.csv?updated_since=2000-01-01",
    }
    for chart in ("fate", "status", "category", "nationality", "arrest-year", "latest-year"):
        seeds |= {f"/statistics/{chart}.csv", f"/statistics/{chart}.json", f"/statistics/{chart}.json?fate=outstanding"}
    for chart in ("facility-kind", "facility", "authority"):
        seeds |= {f"/statistics/{chart}.csv", f"/statistics/{chart}.json"}
    # (The sentinel itself is not searched for here: the page rightly echoes what the visitor typed.)
    for query in ("Hidden Name", "Real Name", "비밀", "김비밀", "withdrawn case", "testimony"):
        seeds |= {f"/cases/?q={query}", f"/api/cases/?q={query}", f"/export/cases.csv?q={query}"}
        seeds |= {f"/statistics/?q={query}", f"/api/statistics/?q={query}", f"/export/events.csv?q={query}"}
    for value, _ in Status.choices:
        seeds.add(f"/cases/?status={value}")
    # The merged cases' addresses: one leads to the case it was merged into, the other is not found.
    for merged in (places["merged_draft"], places["merged_public"]):
        seeds |= {f"/cases/{merged.case_id}/", f"/cases/{merged.case_id}/versions/1/"}
        seeds |= {f"/api/cases/{merged.case_id}/", f"/cases/{merged.case_id}/feed/"}
    seeds |= {"/cases/?q=Pak Yongsu", "/api/cases/?q=Secret Spelling"}
    # Every capture's copy, by the address a public one would have.
    seeds |= {f"/sources/{capture.source_id}/archived-copy/{capture.pk}" for capture in Capture.objects.all()}
    # Every facility and authority, public or not, by its page and as a filter of the list, the API and the CSV.
    for facility in ("camp", "hidden", "hidden_later", "withdrawn"):
        pk = places[facility].pk
        seeds |= {f"/facilities/{pk}/", f"/cases/?facility={pk}", f"/api/cases/?facility={pk}"}
        seeds |= {f"/export/cases.csv?facility={pk}", f"/export/events.csv?facility={pk}"}
        seeds |= {
            f"/statistics/?facility={pk}",
            f"/api/statistics/?facility={pk}",
            f"/statistics/facility.csv?facility={pk}",
        }
    for authority in ("mss", "hidden_unit", "unit_hidden_later"):
        pk = places[authority].pk
        seeds |= {f"/cases/?authority={pk}", f"/api/cases/?authority={pk}", f"/export/cases.csv?authority={pk}"}
        seeds |= {f"/statistics/?authority={pk}", f"/statistics/authority.json?authority={pk}"}
    for value, _ in FacilityKind.choices:
        seeds |= {f"/cases/?facility_kind={value}", f"/api/cases/?facility_kind={value}"}
    for query in (
        "Yodok",
        "요덕",
        "Camp 15",
        "Camp 16",
        "public spelling",
        "hidden",
        "withdrawn camp",
        "비밀",
        "name_ko",
    ):
        seeds.add(f"/facilities/?q={query}")
    for value, _ in SORTS:
        seeds |= {f"/cases/?sort={value}", f"/cases/?q=kim&sort={value}"}
    seeds |= {"/cases/?fate=clarified", "/cases/?fate=outstanding", "/cases/?nationality=KP"}
    seeds |= {"/cases/?year_from=2010&year_to=2020", "/cases/?category=religious-leader"}

    seeds = {url if url == "/healthz" else prefix + url for url in seeds}
    seen, queue, statuses = set(), deque(sorted(seeds)), {}
    while queue and len(seen) < 600:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        for typed in (value for values in parse_qs(urlsplit(url).query).values() for value in values):
            text = text.replace(html.escape(typed), "").replace(typed, "")  # what the visitor typed, echoed
        statuses[url] = response.status_code
        assert SENTINEL not in text, f"{url} shows a restricted value"
        assert SENTINEL.lower() not in text.lower(), url
        assert "비밀" not in text, f"{url} shows the Hangul name of a case under reprisal risk"
        assert "203.0.113.77" not in text, f"{url} shows the address a capture came from"
        assert response.status_code < 500, url
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            queue.extend(sorted(links(text, url, prefix) - seen))
    assert len(seen) > 60
    # The case pages kept in the database (public.rendering), those kept before the restrictions included.
    kept = PublishedRendering.objects.values_list("html", flat=True)
    assert kept.count() >= 3
    for page in kept:
        assert SENTINEL not in page and SENTINEL.lower() not in page.lower() and "비밀" not in page
    # The crawl reached the real pages, and the unpublished ones gave the same 404.
    assert statuses[f"{prefix}/cases/{person.case_id}/"] == 200
    assert statuses[f"{prefix}/cases/{gone.case_id}/"] == statuses[f"{prefix}/sources/{restricted_source.pk}/"] == 404
    assert statuses[f"{prefix}/cases/?status=nonsense"] == 400
    assert statuses[f"{prefix}/cases/{places['merged_public'].case_id}/"] == 301
    assert statuses[f"{prefix}/cases/{places['merged_draft'].case_id}/"] == 404
    assert statuses[f"{prefix}/facilities/{places['camp'].pk}/"] == 200
    for facility in ("hidden", "hidden_later", "withdrawn"):
        assert statuses[f"{prefix}/facilities/{places[facility].pk}/"] == 404, facility
    assert statuses[f"{prefix}/cases/?facility={places['hidden'].pk}"] == 400
    assert statuses[f"{prefix}/cases/?authority={places['hidden_unit'].pk}"] == 400


def test_the_planted_case_is_really_public_where_it_should_be(client):
    person, *_, places = plant_everything()
    html = client.get(f"/cases/{person.case_id}/").content.decode()
    # The public camp and authority, on the case page, the camp's page and the map.
    camp = places["camp"]
    assert html.count(f'<a href="/facilities/{camp.pk}/">Yodok political prison camp</a>') == 2  # its event, the map
    assert f'<a href="/cases/?authority={places["mss"].pk}">South Hamgyong Provincial Security Bureau</a>' in html
    camp_page = client.get(f"/facilities/{camp.pk}/").content.decode()
    assert "Camp 15" in camp_page and "p. 9" in camp_page and person.case_id in camp_page
    assert "Part of:" not in camp_page  # its authority's parent body is not public
    # Lee Anchor's one public relation, to Choi Relative, from both sides; none to a case at risk.
    anchor = client.get(f"/cases/{places['anchor'].case_id}/").content.decode()
    assert anchor.count('<span class="connection-kind">') == 1
    assert f'<a href="/cases/{places["relative"].case_id}/">' in anchor
    assert "Mr A" not in anchor and "Person E" not in anchor
    relative = client.get(f"/cases/{places['relative'].case_id}/").content.decode()
    assert relative.count('<span class="connection-kind">') == 1
    for public_value in ("Park Yong-su", "Pak Yong-su", "Public report", "p. 4", "Onsong", "Religious leader"):
        assert public_value in html
    # The public source's capture, by its date and SHA-256 (never its page), on the case and the source's pages.
    capture = Capture.objects.filter(source__title="Public report").latest("captured_at")
    assert capture.body_sha256 in html
    source_page = client.get(f"/sources/{capture.source_id}/").content.decode()
    assert f"Archived copy captured on {capture.captured_at:%Y-%m-%d}" in source_page
    assert capture.body_sha256 in source_page
    api_sources = client.get(f"/api/cases/{person.case_id}/").json()["sources"]
    assert [s["capture"]["sha256"] for s in api_sources if s["title"] == "Public report"] == [capture.body_sha256]
    # Of the three appeals, the public one that was sent, as its line.
    assert html.count(PUBLIC_APPEAL_LINE) == 1
    assert html.count('<ul class="appeals">') == 1
    assert "5 appeals to the UN and governments, for 7 cases" in client.get("/").content.decode()  # the seed has 4
    assert "Mr A" in client.get("/cases/?q=Mr+A").content.decode()

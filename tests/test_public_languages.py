"""The public site in Korean and Japanese: every page translated, every link staying in its language.

A crawl of every public page under /ko/ and /ja/ reads each page's text the
way a reader does: text marked as written in another language (``lang``) or
as a name or title not to translate (``translate="no"``) is content, not
interface; everything else must be in the page's language, with no English
word left but the few that are the same in every language.
"""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.core.management import call_command

from advocacy.vocabularies import AppealOutcome, AppealState
from cases.history import save_with_history
from cases.models import Category, PublicationBasis, Status
from cases.partial_dates import PartialDate
from public.filters import SORTS
from workflow.services import publication_problems

from .factories import make_appeal, make_citation, make_event, make_person, make_source, make_variant, publish_case

pytestmark = pytest.mark.django_db

# Words that stay as they are on a Korean or Japanese page: the site's name, formats, acronyms, the
# case IDs' prefix, and the romanized names the search box gives as examples of spellings.
SAME_IN_EVERY_LANGUAGE = {
    "Whereabouts",
    "CSV",
    "JSON",
    "Atom",
    "RSS",
    "UN",
    "NGO",
    "CSW",
    "WGEID",
    "WGAD",
    "OHCHR",
    "ID",
    "URL",
    "API",
    "KP",
    "km",  # the map's scale: an SI symbol, written so in Korean and Japanese too
}
SAME_IN_EVERY_LANGUAGE |= {"Kim", "Kook", "ki", "Gim", "Guk", "gi"}
# The technical names the data pages (the API described, the data releases) name as they are written in any
# language: standards, formats and the values a program reads.
SAME_IN_EVERY_LANGUAGE |= {"OpenAPI", "UTC", "UTF", "ISO", "alpha", "slug", "id", "null", "BOM", "ETag", "SHA"}
SAME_IN_EVERY_LANGUAGE |= {"Frictionless", "zip", "JSONL", "Lines", "pandas", "Excel", "LibreOffice"}
SCRIPT = {"ko": re.compile(r"[\uac00-\ud7af]"), "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")}


class _PageText(HTMLParser):
    """The interface text of a page (and its read-out attributes), leaving out content in other languages."""

    READ = {"title", "alt", "aria-label", "placeholder"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []  # (tag, whether content in it is exempt)
        self.texts: list[str] = []
        self.content: set[str] = set()  # texts marked as content: names, quotations, texts in other languages

    def _exempt(self) -> bool:
        return any(exempt for _, exempt in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = attributes.get("lang")
        exempt = attributes.get("translate") == "no" or (lang is not None and lang.split("-")[0] != self.language)
        exempt = exempt or tag in ("script", "style", "code")
        if not (exempt or self._exempt()):
            self.texts += [value for name, value in attrs if name in self.READ and value]
            if tag == "meta" and attributes.get("name") == "description":
                self.texts.append(attributes.get("content") or "")
        if tag not in self.VOID:
            self.stack.append((tag, exempt))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not data.strip():
            return
        if self._exempt():
            self.content.add(data.strip())
        else:
            self.texts.append(data.strip())


def untranslated(html: str, language: str) -> list[str]:
    """The interface texts of ``html`` that hold an English word.

    Content the page marks as such (a name, a text in another language) may
    also stand where no markup can mark it — a page's title, a meta
    description, the citation to copy — and so may an address: both are
    taken out of the texts first.
    """
    parser = _PageText(language)
    parser.feed(html)
    found = []
    for text in parser.texts:
        text = re.sub(r"https?://\S+", " ", text)
        for content in sorted(parser.content, key=len, reverse=True):
            text = text.replace(content, " ")
        words = set(re.findall(r"[A-Za-z]{2,}", text)) - SAME_IN_EVERY_LANGUAGE
        if words:
            found.append(text)
    return found


def plant_cases():
    """The seed, and a case with every kind of public fact, dates at each precision and a text only in English."""
    call_command("load_seed")
    category = Category.objects.create(
        slug="religious-leader", name="Religious leader", name_ko="종교 지도자", name_ja="宗教指導者"
    )
    person = make_person(
        name="Park Yong-su",
        family_name_native="박",
        given_name_native="용수",
        nationality="KP",
        sex="male",
        birth_date=PartialDate(1970),
        summary="Arrested at a house church meeting.",
        publication_basis=PublicationBasis.ALREADY_PUBLIC,
    )
    person.categories.add(category)
    source = make_source(title="Annual report", publisher="Example NGO", language="en", published_on=PartialDate(2016))
    for status, date in ((Status.ARRESTED, "2015-03~"), (Status.SENTENCED, "2015-10-07"), (Status.DETAINED, "2016")):
        event = make_event(person, status, date, is_public=True, description="Seen by a witness.", place="Onsong")
        make_citation(source, status_event=event, locator="p. 4", excerpt="He was seen in Onsong.")
    make_citation(source, person=person, locator="p. 1")
    # Appeals whose lines say each thing a line can say: to a UN mechanism and to a government named with
    # "the" in English, sent on a day and a month, transmitted, replied to, closed, and never answered.
    wgeid = make_appeal(
        person,
        kind="wgeid_standard",
        addressee="wgeid",
        forces_responsible="Ministry of State Security",
        steps_by_family="Letters to the authorities",
        family_consent_by="The brother",
        sent="2016-03",
        is_public=True,
    )
    wgeid.advance(AppealState.TRANSMITTED, by=None, on=PartialDate.parse("2016-05"))
    wgeid.record_reply(by=None, received_on=PartialDate.parse("2016-09-12"), says="No information")
    wgeid.advance(AppealState.CLOSED, by=None, on=PartialDate(2018), outcome=AppealOutcome.DISCONTINUED)
    make_appeal(person, kind="letter", country="GB", sent="2017-01-05", is_public=True)
    make_appeal(person, kind="urgent_appeal", addressee="sr_dprk", sent="2019~", is_public=True)
    publish_case(person)
    return person, source


def crawl(client, prefix: str, seeds: set[str], limit: int = 250):
    """Every public page reachable from ``seeds`` by links in the same language: (url, response, html)."""
    queue, seen = deque(sorted(seeds)), set()
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        content_type = response.get("Content-Type", "")
        html = response.content.decode() if "html" in content_type and not response.streaming else ""
        yield url, response, html
        for href in re.findall(r'<a [^>]*href="([^"]+)"', html):
            if 'hreflang="' in href:
                continue
            parts = urlsplit(urljoin(url, href.replace("&amp;", "&")))
            if parts.netloc in ("", "testserver") and parts.path.startswith(f"{prefix}/"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


def links_leaving(html: str, url: str, prefix: str) -> list[str]:
    """Links of a page that leave its language: to another language's pages (the switcher aside) or to English."""
    leaving = []
    for tag in re.findall(r"<a [^>]*>", html):
        href = re.search(r'href="([^"]+)"', tag)
        if href is None or "hreflang=" in tag:
            continue
        parts = urlsplit(urljoin(url, href.group(1).replace("&amp;", "&")))
        if parts.netloc not in ("", "testserver") or parts.path.startswith("/static/"):
            continue
        if not parts.path.startswith(f"{prefix}/"):
            leaving.append(href.group(1))
    return leaving


@pytest.mark.parametrize("language", ["ko", "ja"])
def test_every_public_page_is_in_the_language_of_its_address(client, language):
    person, source = plant_cases()
    prefix = f"/{language}"
    seeds = {
        f"{prefix}/",
        f"{prefix}/cases/",
        f"{prefix}/sources/",
        f"{prefix}/cases/{person.case_id}/",
        f"{prefix}/cases/{person.case_id}/versions/1/",
        f"{prefix}/sources/{source.pk}/",
        f"{prefix}/cases/?q=김정욱",
        f"{prefix}/cases/?q=Kim+Kook-kie",
        f"{prefix}/cases/?q=nobody",
        f"{prefix}/cases/?status=nonsense",
        f"{prefix}/cases/?year_from=2020&year_to=2010",
        f"{prefix}/cases/?page=99",
        f"{prefix}/no-such-page/",
        f"{prefix}/cases/KP-9999/",
        f"{prefix}/cases/?fate=clarified",
        f"{prefix}/cases/?nationality=KP&category=religious-leader",
    }
    seeds |= {f"{prefix}/cases/?status={value}" for value, _ in Status.choices}
    seeds |= {f"{prefix}/cases/?sort={value}" for value, _ in SORTS}
    pages = 0
    for url, response, html in crawl(client, prefix, seeds):
        assert response.status_code < 500, url
        if not html:
            continue
        pages += 1
        assert f'<html lang="{language}">' in html, url
        assert response["Content-Language"] == language, url
        # What the visitor typed is echoed as they typed it (a search for "Kim Kook-kie").
        typed = [value for values in parse_qs(urlsplit(url).query).values() for value in values]
        found = [text for text in untranslated(html, language) if not any(value in text for value in typed)]
        assert not found, f"{url} has interface text in English: {found}"
        leaving = links_leaving(html, url, prefix)
        assert not leaving, f"{url} links out of its language: {leaving}"
        assert SCRIPT[language].search(html), url
    assert pages > 30


@pytest.mark.parametrize("language", ["ko", "ja"])
def test_the_feeds_titles_are_translated(client, language):
    plant_cases()
    english = client.get("/feed/").content.decode()
    translated = client.get(f"/{language}/feed/").content.decode()
    english_title = re.search(r"<title>(.*?)</title>", english).group(1)
    title = re.search(r"<title>(.*?)</title>", translated).group(1)
    assert title != english_title
    assert SCRIPT[language].search(title)
    assert f"/{language}/cases/" in translated  # the entries link to the pages in the same language


def test_english_addresses_are_unchanged_and_english_whatever_the_browser_asks(client):
    person, _ = plant_cases()
    for path in ("/", "/cases/", f"/cases/{person.case_id}/", "/sources/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
        assert response.status_code == 200
        assert '<html lang="en">' in response.content.decode()
        assert response["Content-Language"] == "en"


def test_each_page_names_its_other_languages_and_the_switcher_keeps_the_page_and_its_filters(client):
    person, _ = plant_cases()
    html = client.get(f"/ko/cases/{person.case_id}/").content.decode()
    for code, path in (("en", ""), ("ko", "/ko"), ("ja", "/ja")):
        address = f"http://testserver{path}/cases/{person.case_id}/"
        assert f'<link rel="alternate" hreflang="{code}" href="{address}">' in html
    assert f'<link rel="alternate" hreflang="x-default" href="http://testserver/cases/{person.case_id}/">' in html
    assert f'<a href="/cases/{person.case_id}/" hreflang="en" lang="en">English</a>' in html
    assert f'<a href="/ja/cases/{person.case_id}/" hreflang="ja" lang="ja">日本語</a>' in html
    assert '<span aria-current="true" lang="ko">한국어</span>' in html
    listing = client.get("/ja/cases/?status=detained&amp;sort=name".replace("&amp;", "&")).content.decode()
    assert 'href="/ko/cases/?status=detained&amp;sort=name" hreflang="ko"' in listing
    missing = client.get("/ko/no-such-page/")
    assert missing.status_code == 404
    assert 'href="/ja/" hreflang="ja"' in missing.content.decode()


def test_hangul_search_on_the_korean_list_shows_hangul_names_first(client):
    plant_cases()
    html = client.get("/ko/cases/?q=김정욱").content.decode()
    native, latin = '<span class="name-native" lang="ko">김정욱</span>', '<span class="name-latin" translate="no">'
    assert f"{native} ({latin}Kim Jeong-wook</span>)" in html
    # In English the romanization comes first, with the Hangul beside it.
    english = client.get("/cases/?q=Kim+Kook-kie").content.decode()
    assert f'{latin}Kim Kook-ki</span> (<span class="name-native" lang="ko">김국기</span>)' in english


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["c. March 2015", "7 October 2015", "2016"]),
        ("ko", ["2015년 3월경", "2015년 10월 7일", "2016년"]),
        ("ja", ["2015年3月頃", "2015年10月7日", "2016年"]),
    ],
)
def test_partial_dates_are_shown_at_their_precision_in_each_language(client, language, expected):
    person, _ = plant_cases()
    prefix = "" if language == "en" else f"/{language}"
    html = client.get(f"{prefix}/cases/{person.case_id}/").content.decode()
    dates = re.findall(r'<span class="event-date">([^<]*)</span>', html)
    assert dates == expected


def test_a_text_in_the_readers_language_is_shown_and_one_only_in_english_says_so(client):
    call_command("load_seed")
    html = client.get("/ko/cases/KP-0001/").content.decode()
    assert "북한으로 강제송환된 탈북 난민입니다." in html
    assert "Translated from the English original." not in html
    assert "영어 원문" in html or "번역" in html  # the seed's Korean summary is marked as a translation
    person, _ = plant_cases()
    page = client.get(f"/ko/cases/{person.case_id}/").content.decode()
    assert '<p lang="en">Arrested at a house church meeting.' in page
    english = client.get(f"/cases/{person.case_id}/").content.decode()
    assert '<p lang="en">' not in english


def test_texts_in_korean_and_japanese_are_published_only_through_a_new_version(client):
    person, _ = plant_cases()
    person.summary_ko = "가정교회 모임에서 체포되었습니다."
    person.save()
    assert "가정교회" not in client.get(f"/ko/cases/{person.case_id}/").content.decode()
    publish_case(person)
    assert "가정교회" in client.get(f"/ko/cases/{person.case_id}/").content.decode()
    # The English page keeps the English text; the Japanese page, with no Japanese text, shows the English.
    assert "가정교회" not in client.get(f"/cases/{person.case_id}/").content.decode()
    assert "Arrested at a house church meeting." in client.get(f"/ja/cases/{person.case_id}/").content.decode()


def test_a_case_at_risk_named_in_its_korean_or_japanese_texts_is_not_published_and_is_redacted_when_flagged(client):
    at_risk = make_person(
        name="Ri Chol-su",
        family_name_native="리",
        given_name_native="철수",
        reprisal_risk=True,
        pseudonym="Person E",
        publication_basis=PublicationBasis.PUBLIC_INTEREST,
        public_interest_reason="A pattern of detentions.",
        summary_ko="리철수는 혜산에서 체포되었습니다.",
    )
    # A name in katakana or kanji is found once it is recorded as one of the person's names (public or not).
    make_variant(at_risk, "リ・チョルス", is_public=False)
    source = make_source(title="Annual report", publisher="Example NGO")
    make_citation(
        source, status_event=make_event(at_risk, Status.DETAINED, "2019", is_public=True, place_ja="リ・チョルスの家")
    )
    problems = publication_problems(at_risk)
    assert any("Korean" in problem for problem in problems)
    assert any("Japanese" in problem for problem in problems)
    # A case published by name and flagged afterwards: its Korean and Japanese texts leave the public record at once.
    flagged = make_person(
        name="Kang Mi-ok",
        family_name_native="강",
        given_name_native="미옥",
        publication_basis=PublicationBasis.ALREADY_PUBLIC,
        summary_ko="강미옥은 회령에서 끌려갔습니다.",
        summary_ja="カン・ミオクは会寧から連れ去られた。",
    )
    make_variant(flagged, "カン・ミオク", is_public=False)
    make_citation(source, status_event=make_event(flagged, Status.DETAINED, "2019", is_public=True))
    publish_case(flagged)
    assert "강미옥은" in client.get(f"/ko/cases/{flagged.case_id}/").content.decode()
    flagged.reprisal_risk, flagged.pseudonym = True, "Person F"
    save_with_history(flagged, by=None, reason="the family faces reprisals")
    for prefix in ("", "/ko", "/ja"):
        html = client.get(f"{prefix}/cases/{flagged.case_id}/").content.decode()
        assert "Person F" in html
        for named in ("강미옥", "Kang Mi-ok", "カン・ミオク"):
            assert named not in html, prefix


def test_the_parts_every_page_shares_are_in_the_language_of_each_page_whatever_was_read_before(client):
    # The header, the navigation and the footer's links are rendered once per language ({% fixed %}): read in
    # turn, each language's pages have their own, and the partial dates their own words.
    person, _ = plant_cases()
    for prefix, skip, month in (
        ("", "Skip to content", "7 October 2015"),
        ("/ko", "본문 바로가기", "2015년 10월 7일"),
        ("/ja", "本文へ移動", "2015年10月7日"),
        ("", "Skip to content", "7 October 2015"),
    ):
        for path in ("/", "/cases/", f"/cases/{person.case_id}/"):
            html = client.get(f"{prefix}{path}").content.decode()
            assert f'<a class="skip-link" href="#main">{skip}</a>' in html, (prefix, path)
            assert f'<li><a href="{prefix}/cases/">' in html and f'<a href="{prefix}/about/">' in html, (prefix, path)
            assert f'<a href="{prefix}/sources/">' in html and f'<a href="{prefix}/data/">' in html
        assert month in client.get(f"{prefix}/cases/{person.case_id}/").content.decode(), prefix

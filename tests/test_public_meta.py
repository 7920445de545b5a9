"""What a link preview and a search engine read of the public pages (Open Graph, description), and the site's icon."""

import html
import re

import pytest
from django.urls import reverse

from cases.history import save_with_history
from cases.models import Status

from .factories import make_citation, make_event, make_person, make_source, publish_case

pytestmark = pytest.mark.django_db


def metas(text: str) -> dict[str, list[str]]:
    """Every ``<meta property|name=… content=…>`` of the page's head, by property or name."""
    head = text.split("</head>")[0]
    found: dict[str, list[str]] = {}
    for key, content in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', head):
        found.setdefault(key, []).append(html.unescape(content))
    return found


def published(**fields):
    fields.setdefault("name", "Pak Sun-hui")
    person = make_person(**fields)
    event = make_event(person, Status.ARRESTED, "2019-03", is_public=True, place="Hyesan")
    make_citation(make_source(), status_event=event)
    return publish_case(person)


def test_a_case_page_has_open_graph_and_description_tags(client):
    person = published(
        family_name_native="박",
        given_name_native="순희",
        summary="A teacher from Hyesan,\narrested after her forced return from China.",
    )
    text = client.get(f"/cases/{person.case_id}/").content.decode()
    tags = metas(text)
    summary = "A teacher from Hyesan, arrested after her forced return from China."
    assert tags["og:type"] == ["article"]
    assert tags["og:site_name"] == ["Whereabouts"]
    assert tags["og:title"] == [f"Pak Sun-hui (박순희) ({person.case_id})"]
    assert tags["og:description"] == [summary]
    assert tags["description"] == [summary]  # the case's, instead of the site's: one description
    assert tags["og:url"] == [f"http://testserver/cases/{person.case_id}/versions/1/"]
    assert tags["og:locale"] == ["en_GB"]
    assert tags["og:locale:alternate"] == ["ko_KR", "ja_JP"]
    assert tags["article:published_time"][0].startswith(str(person.published_versions.get().published_at.year))


@pytest.mark.parametrize(("prefix", "locale"), [("ko", "ko_KR"), ("ja", "ja_JP")])
def test_the_description_is_the_summary_in_the_page_language(client, prefix, locale):
    person = published(summary="In English.", summary_ko="한국어로 쓴 요약.", summary_ja="日本語の要約。")
    tags = metas(client.get(f"/{prefix}/cases/{person.case_id}/").content.decode())
    expected = {"ko": "한국어로 쓴 요약.", "ja": "日本語の要約。"}[prefix]
    assert tags["og:description"] == tags["description"] == [expected]
    assert tags["og:locale"] == [locale]
    assert tags["og:url"] == [f"http://testserver/{prefix}/cases/{person.case_id}/versions/1/"]
    assert "en_GB" in tags["og:locale:alternate"]


def test_without_a_summary_the_description_gives_the_status(client):
    person = published(summary="")
    tags = metas(client.get(f"/cases/{person.case_id}/").content.decode())
    assert tags["og:description"] == ["Arrested · since March 2019"]


def test_a_long_summary_is_cut_for_the_preview(client):
    person = published(summary="word " * 200)
    description = metas(client.get(f"/cases/{person.case_id}/").content.decode())["og:description"][0]
    assert len(description) <= 300
    assert description.endswith("…")


def test_a_version_page_points_to_itself(client):
    person = published(summary="First.")
    person.summary = "Second."
    save_with_history(person, by=None, reason="test: a second version")
    publish_case(person)
    tags = metas(client.get(f"/cases/{person.case_id}/versions/1/").content.decode())
    assert tags["og:url"] == [f"http://testserver/cases/{person.case_id}/versions/1/"]
    assert tags["og:description"] == ["First."]


def test_a_case_at_risk_is_previewed_under_its_pseudonym_only(client):
    person = published(name="Real Name Qorvash", reprisal_risk=True, pseudonym="Ms B", summary="Held since 2019.")
    text = client.get(f"/cases/{person.case_id}/").content.decode()
    assert metas(text)["og:title"] == [f"Ms B ({person.case_id})"]
    assert "Qorvash" not in text


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"])
def test_the_home_list_and_about_pages_have_a_description(client, prefix):
    for path in ("/", "/cases/", "/cases/?status=detained", "/about/"):
        descriptions = metas(client.get(prefix + path).content.decode())["description"]
        assert len(descriptions) == 1 and len(descriptions[0]) > 40, prefix + path
    home = metas(client.get(f"{prefix}/").content.decode())["description"][0]
    listed = metas(client.get(f"{prefix}/cases/").content.decode())["description"][0]
    assert home != listed


# --- The icon --------------------------------------------------------------------------------------------


def test_every_page_names_the_icon_and_favicon_ico_leads_to_it(client):
    for url in ("/", "/cases/", "/ko/about/", "/cases/KP-9999/"):
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get(url).content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    assert "max-age=86400" in response["Cache-Control"]
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert body.startswith(b"<svg") and b"<script" not in body


def test_favicon_ico_refuses_writes(client):
    assert client.post(reverse("public:favicon")).status_code == 405


def test_without_a_summary_the_korean_description_gives_the_status_as_korean_writes_it(client):
    person = published(summary="")
    description = metas(client.get(f"/ko/cases/{person.case_id}/").content.decode())["description"][0]
    assert description == "체포 · 2019년 3월부터"

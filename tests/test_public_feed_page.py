"""The feeds read as a page in a browser: a stylesheet (XSLT) in the reader's language turns the Atom into a page,
and the feed stays valid Atom for feed readers."""

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .public_data import (
    ATOM,
    atom,
    entries,
    parse_xml,
    seed_for_this_module,  # noqa: F401 (a fixture, for every test of the module)
)

pytestmark = pytest.mark.django_db

XSL = "{http://www.w3.org/1999/XSL/Transform}"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
READER = "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("prefix", "path"), [("", "/feed/"), ("/ko", "/feed/"), ("/ja", "/cases/KP-0003/feed/")])
def test_a_feed_names_the_stylesheet_of_its_language_and_stays_atom(client, prefix, path):
    response = client.get(prefix + path)
    first_lines = response.content.decode().split("?>")[:2]
    assert first_lines[0] == '<?xml version="1.0" encoding="utf-8"'
    assert first_lines[1].strip() == f'<?xml-stylesheet href="{prefix}/feed.xsl" media="all" type="text/xsl"'
    root = atom(client, prefix + path)  # Atom's type, root, title, id and updated, for a client that asks nothing
    assert entries(root)
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"http://testserver{prefix}{path}"


def test_a_browser_gets_the_feed_as_xml_a_feed_reader_as_atom_and_the_same_document(client):
    for_browser = client.get("/feed/", HTTP_ACCEPT=BROWSER)
    for_reader = client.get("/feed/", HTTP_ACCEPT=READER)
    assert for_browser["Content-Type"] == "application/xml; charset=utf-8"
    assert for_reader["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert for_browser.content == for_reader.content
    for response in (for_browser, for_reader):
        assert "Accept" in response["Vary"]
    # A reader asking again gets Atom's type again, though a browser's request filled the page cache.
    assert client.get("/feed/", HTTP_ACCEPT=READER)["Content-Type"].startswith("application/atom+xml")
    assert client.get("/cases/KP-0001/feed/", HTTP_ACCEPT=BROWSER)["Content-Type"].startswith("application/xml")


def test_a_browser_revalidating_the_feed_gets_a_304_with_the_vary(client):
    first = client.get("/feed/", HTTP_ACCEPT=BROWSER)
    again = client.get("/feed/", HTTP_ACCEPT=BROWSER, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert "Accept" in again["Vary"]


@pytest.mark.parametrize("language", ["en", "ko", "ja"])
def test_the_stylesheet_is_xslt_that_writes_a_page_in_its_language(client, language):
    prefix = "" if language == "en" else f"/{language}"
    response = client.get(f"{prefix}/feed.xsl")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xsl; charset=utf-8"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    root = parse_xml(response.content)
    assert root.tag == f"{XSL}stylesheet"
    assert root.find(f"{XSL}output").get("method") == "html"
    page = root.find(f"{XSL}template/html")
    assert page.get("lang") == language
    assert page.find("head/link[@rel='stylesheet']").get("href") == "/static/css/site.css"
    assert page.find("body/header//a").get("href") == f"{prefix}/"
    # The entries: each linked by its title, with its date and summary.
    loop = page.find(f".//{XSL}for-each")
    assert loop.get("select") == "atom:entry"
    assert loop.find(".//a").get("href") == "{atom:link/@href}"


def test_the_stylesheet_has_no_word_outside_translation_tags():
    spec = importlib.util.spec_from_file_location("check_translations", ROOT / "scripts" / "check_translations.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert check.template_problems(ROOT / "templates" / "public" / "feed.xsl") == []


def test_the_stylesheet_refuses_writes(client):
    assert client.post("/feed.xsl").status_code == 405


def test_the_feed_is_well_formed_xml_with_its_instruction(client):
    # A parser that keeps processing instructions sees the stylesheet before the root element.
    parser = ET.XMLPullParser(events=("pi", "start"))
    parser.feed(client.get("/feed/").content)
    events = [(event, getattr(item, "text", None) or item.tag) for event, item in parser.read_events()]
    assert events[0][0] == "pi" and events[0][1].startswith("xml-stylesheet")
    assert events[1] == ("start", f"{ATOM}feed")
